"""The template sandbox: Jinja's SandboxedEnvironment, plus limits on how big a value may grow.

Jinja's sandbox keeps templates away from Python's internals and caps
``range`` at 100,000 items, but ``'x' * 10**9``, ``10 ** 10 ** 9``,
``'%999999999d' % 1``, ``'x'.center(10**9)`` or a namespace doubling a string
in a loop would each take the machine's memory or time. Here every operation
that can make a value much larger than its inputs is checked first, and the
output of a whole template is capped, so a template fails with a clear error
(:class:`jinja2.exceptions.SecurityError`) instead of taking the machine down.
"""
from __future__ import annotations

import functools
import re
import types
from typing import Any, Callable, Iterator

from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace

MAX_NUMBER = 1_000_000  # the largest number a call or filter may take (a width, a count)
MAX_SIZE = 10_000_000  # characters or items in one value a template builds (ten times a very long note)
MAX_OUTPUT = 20_000_000  # characters of one rendered template
MAX_BITS = 100_000  # of an integer built with **
# A width or precision in a %-format (%-10.3f, %*d) or a {:>10} field; digit runs are enough to size them.
PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


def _too_big(what: str, most: int = MAX_SIZE) -> SecurityError:
    return SecurityError(f"{what} would be too large (more than {most:,}); templates may only build posts")


def _check_number(value: Any, what: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        shown = value if value.bit_length() < 64 else f"of {value.bit_length():,} bits"
        raise _too_big(f"{what} {shown}", MAX_NUMBER)


def _check_format(fmt: str, args: Any) -> None:
    """Refuse a %-format or str.format whose widths or precisions are huge."""
    specs = [n for m in PERCENT_SPEC.finditer(fmt) for n in m.groups() if n and n != "*"]
    specs += [n for m in BRACE_SPEC.finditer(fmt) for n in re.findall(r"\d+", m.group(1))]
    if any(len(n) > 7 or int(n) > MAX_NUMBER for n in specs):
        raise _too_big("a formatted field", MAX_NUMBER)
    for arg in args if isinstance(args, (tuple, list)) else (args,):
        _check_number(arg, "a format argument")


def _check_length(value: Any) -> None:
    if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_SIZE:
        raise _too_big(f"a value of {len(value):,} items")


class LimitedNamespace(Namespace):
    """``namespace()`` whose attributes cannot grow past MAX_SIZE (a string doubled in a loop)."""

    def __setitem__(self, name: str, value: Any) -> None:
        _check_length(value)
        super().__setitem__(name, value)


class Sandbox(SandboxedEnvironment):
    """A SandboxedEnvironment that refuses to build huge values and caps what a template writes."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.globals["namespace"] = LimitedNamespace

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Check the size of ``*``, ``**``, ``%`` and ``+`` before computing them."""
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
                    raise _too_big(f"repeating a value {times:,} times")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0 \
                    and right * abs(left).bit_length() > MAX_BITS:
                raise _too_big("a power")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right)
        result = super().call_binop(context, operator, left, right)
        _check_length(result)
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        """Refuse a call with a huge number argument ('x'.center(10**9)) or a join that would be huge."""
        for arg in (*args, *kwargs.values()):
            _check_number(arg, "the number")
        if isinstance(__obj, types.BuiltinMethodType) and __obj.__name__ == "join" and isinstance(__obj.__self__, str):
            items = list(args[0]) if args else []
            if sum(len(i) for i in items if isinstance(i, str)) + len(__obj.__self__) * len(items) > MAX_SIZE:
                raise _too_big("a joined text")
            args = (items, *args[1:])
        result = super().call(__context, __obj, *args, **kwargs)
        _check_length(result)
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``'{:>999999999}'.format(x)``: check the format's widths when the method is looked up."""
        if isinstance(value, (types.MethodType, types.BuiltinMethodType)) \
                and value.__name__ in ("format", "format_map") and isinstance(value.__self__, str):
            _check_format(value.__self__, ())
        return super().wrap_str_format(value)


def limit_filters(filters: dict[str, Callable]) -> None:
    """Wrap each filter so a huge number argument (``center(10**9)``, ``batch(10**9)``) is refused."""
    for name, function in list(filters.items()):
        if not getattr(function, "limited", False):
            filters[name] = _limited(function, name)


def _limited(function: Callable, name: str) -> Callable:
    # Filters that take the context or environment get it before the value: skip both.
    skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for arg in (*args[skip:], *kwargs.values()):
            _check_number(arg, f"the {name} filter's")
        if name == "format" and len(args) >= skip and isinstance(args[skip - 1], str):
            _check_format(args[skip - 1], args[skip:])
        result = function(*args, **kwargs)
        _check_length(result)
        return result

    wrapper.limited = True  # type: ignore[attr-defined]
    return wrapper


class TooMuchOutput(SecurityError):
    """A template wrote more than MAX_OUTPUT characters; ``where`` is its (file, line) at that moment."""

    def __init__(self, where: tuple[str, int | None]):
        super().__init__(f"the template wrote more than {MAX_OUTPUT:,} characters; templates may only build posts")
        self.where = where


def capped(template: Any, context: dict) -> str:
    """What ``template`` writes with ``context``, refused once it passes MAX_OUTPUT characters."""
    chunks = template.generate(context)
    out, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            where = _suspended_at(chunks)
            chunks.close()
            raise TooMuchOutput(where)
        out.append(chunk)
    return "".join(out)


def _suspended_at(generator: Any) -> tuple[str, int | None]:
    """The template file and line where a paused template generator (and what it yields from) stands."""
    found: tuple[str, int | None] = ("template", None)
    while generator is not None and getattr(generator, "gi_frame", None) is not None:
        frame = generator.gi_frame
        template = frame.f_globals.get("__jinja_template__")  # set by Jinja in every compiled template
        if template is not None and template.filename:
            found = (template.filename, template.get_corresponding_lineno(frame.f_lineno))
        generator = generator.gi_yieldfrom
    return found
