"""The one clock: every "now" in notecast comes from a :class:`Clock` handed down from the command.

``NOTECAST_NOW`` (ISO 8601) pins it for rehearsals and tests; it is read here and nowhere else.
Waiting (``http``'s backoff and ``Retry-After``) uses real seconds, not this clock.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import UsageError


@dataclass(frozen=True)
class Clock:
    """The current time: the system's, or a pinned instant."""

    pinned: datetime | None = None

    def now(self) -> datetime:
        """An aware UTC (or pinned) datetime."""
        return self.pinned or datetime.now(timezone.utc)

    def stamp(self) -> str:
        """Now as the ledger writes it: UTC, milliseconds, ``Z``."""
        return iso(self.now(), "milliseconds")


SYSTEM = Clock()


def from_environment(environ=None) -> Clock:
    """The system clock, or the instant ``NOTECAST_NOW`` pins."""
    value = (os.environ if environ is None else environ).get("NOTECAST_NOW", "").strip()
    if not value:
        return SYSTEM
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"NOTECAST_NOW={value!r} is not a time; write ISO 8601, e.g. 2026-12-01T09:00:00Z, "
                         "or unset it") from None
    return Clock(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


def iso(moment: datetime, timespec: str = "microseconds") -> str:
    """An aware or naive (taken as UTC) datetime as ISO 8601 in UTC with ``Z``."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")
