"""The one place that knows the secret values, so that nothing prints them.

Secrets come only from the environment (``NOTECAST_<PLATFORM>_<KEY>``); which
variables hold them is declared by each platform (``Setting(secret=True)``) and
handed here with :func:`watch`. Every line notecast prints or logs goes through
:func:`redact`, which replaces each known secret value (and its URL- and
base64-encoded forms) with ``****``.
"""
from __future__ import annotations

import base64
import json
import os
import re
from functools import lru_cache
from typing import Iterator
from urllib.parse import quote, quote_plus

MASK = "****"
MIN_LENGTH = 4  # shorter values would mask ordinary words
# An Authorization header's credentials, as a header line, in a repr or JSON of headers, or in a query
AUTHORIZATION = re.compile(r"""(?i)(authorization['"]?\s*[:=]\s*['"]?\s*(?:bearer|basic|oauth|token)\s+)[^\r\n'"]+""")


def watch(names) -> list[str]:
    """Treat the values of these environment variables as secrets.

    A value pasted with surrounding whitespace (a trailing newline, CR, tab or space) would break
    the request and be printed back by the HTTP library in a form no mask matches: it is stripped
    in the environment, and the names of the variables stripped are returned so the caller can warn.
    """
    _names.update(names)
    _pattern.cache_clear()
    stripped = []
    for name in sorted(_names):
        value = os.environ.get(name)
        if value is not None and value != value.strip():
            _extra.add(value)  # the padded form may already be in a log line
            os.environ[name] = value.strip()
            stripped.append(name)
    return stripped


def secret_values(environ=None) -> tuple[str, ...]:
    """Every watched secret in the environment, and every remembered one, in all forms, longest first."""
    environ = os.environ if environ is None else environ
    values = {environ[k] for k in _names if len(environ.get(k, "").strip()) >= MIN_LENGTH}
    forms = set()
    for value in values | _extra:
        forms |= set(_forms(value)) | set(_forms(value.strip()))
    return tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True))


def _forms(value: str) -> Iterator[str]:
    """The ways a value shows up in text: as is, in a repr, JSON-escaped, URL-encoded, and base64-encoded
    at any offset (inside ``Basic`` credentials ``user:password`` it does not start a base64 group)."""
    yield value
    yield repr(value)[1:-1]
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield quote(value, safe="")
    yield quote_plus(value)
    data = value.encode()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode()
        first, end = -(-8 * shift // 6), 8 * (shift + len(data)) // 6  # characters made of the value's bits only
        yield encoded[first:end]


_names: set[str] = set()  # environment variables that hold secrets
_extra: set[str] = set()  # secrets learned at run time


def remember(value: str | None) -> None:
    """Treat a value learned at run time (a session token) as a secret too."""
    if value and len(value) >= MIN_LENGTH:
        _extra.add(value)
        _pattern.cache_clear()


@lru_cache(maxsize=1)
def _pattern(values: tuple[str, ...]):
    return re.compile("|".join(map(re.escape, values))) if values else None


def redact(text: str) -> str:
    """``text`` with every known secret replaced by ``****``."""
    pattern = _pattern(secret_values())
    text = pattern.sub(MASK, text) if pattern else text
    return AUTHORIZATION.sub(rf"\1{MASK}", text)
