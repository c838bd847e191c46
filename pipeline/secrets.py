"""The one place that knows the secret values, so that nothing prints them.

Secrets come only from the environment (``NOTECAST_<PLATFORM>_<KEY>``).
Every line notecast prints or logs goes through :func:`redact`, which
replaces each known secret value (and its URL- and base64-encoded forms)
with ``****``.
"""
from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "****"
SECRET_KEYS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY", "APP_PASSWORD", "ACCESS_SECRET", "ACCESS_TOKEN")
MIN_LENGTH = 4  # shorter values would mask ordinary words


def secret_values(environ=None) -> tuple[str, ...]:
    """Every secret-looking NOTECAST_* value in the environment, longest first."""
    environ = os.environ if environ is None else environ
    values = {v for k, v in environ.items()
              if k.startswith("NOTECAST_") and any(k.endswith(s) for s in SECRET_KEYS) and len(v) >= MIN_LENGTH}
    forms = set()
    for value in values | _extra:
        forms |= {value, quote(value, safe=""), quote_plus(value), base64.b64encode(value.encode()).decode().rstrip("=")}
    return tuple(sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True))


_extra: set[str] = set()


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
