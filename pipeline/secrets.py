"""The one place that knows the secret values, so that nothing prints them.

Secrets come only from the environment (``NOTECAST_<PLATFORM>_<KEY>``); which
variables hold them is declared by each platform (``Setting(secret=True)``) and
handed here with :func:`watch`. Every line notecast prints or logs goes through
:func:`redact`, which replaces each known secret value (and its URL- and
base64-encoded forms) with ``****``.
"""
from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "****"
MIN_LENGTH = 4  # shorter values would mask ordinary words


def watch(names) -> None:
    """Treat the values of these environment variables as secrets."""
    _names.update(names)
    _pattern.cache_clear()


def secret_values(environ=None) -> tuple[str, ...]:
    """Every watched secret in the environment, and every remembered one, in all forms, longest first."""
    environ = os.environ if environ is None else environ
    values = {environ[k] for k in _names if len(environ.get(k, "")) >= MIN_LENGTH}
    forms = set()
    for value in values | _extra:
        forms |= {value, quote(value, safe=""), quote_plus(value), base64.b64encode(value.encode()).decode().rstrip("=")}
    return tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True))


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
    return re.sub(r"(?i)(authorization:\s*(?:bearer|basic|oauth)\s+)\S[^\r\n]*", rf"\1{MASK}", text)
