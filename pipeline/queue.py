"""The queue: ready notes without ``publish_at`` go out a few at a time, at weekly slots.

``[queue]`` in ``notecast.toml`` names the slots (``"Tue 09:00"``, or ``"09:00"`` for every day)
in the configured timezone and how many notes each platform takes per slot. This module knows
the slots' instants and the queue's order; :mod:`pipeline.plan` decides from the ledger which
slot is used, so every run, whenever it starts, agrees.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from .notes import parse_when

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = {name.lower(): i for i, name in enumerate(WEEKDAYS)} | {
    name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
SLOT = re.compile(r"(?:(?P<day>[A-Za-z]+)\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})")
KEYS = {"slots", "per_slot"}
SLOT_HINT = 'write e.g. "Tue 09:00" (a weekday Mon to Sun, then a 24-hour time) or "09:00" for every day'


@dataclass(frozen=True)
class Slot:
    """A weekly (or, without a weekday, daily) wall time."""

    weekday: int | None  # Monday is 0
    at: time

    def on(self, day: date) -> bool:
        return self.weekday is None or day.weekday() == self.weekday


@dataclass(frozen=True)
class Queue:
    """The configured slots, how many notes per platform each takes, and the timezone they are in."""

    slots: tuple[Slot, ...]
    per_slot: int = 1
    timezone: str = "UTC"

    def instants(self, day: date) -> list[datetime]:
        """The slots of one local day as UTC instants, in order; wall times read like ``publish_at``."""
        found = {parse_when(datetime.combine(day, s.at), self.timezone).astimezone(timezone.utc)
                 for s in self.slots if s.on(day)}
        return sorted(found)

    def latest(self, now: datetime) -> datetime:
        """The latest slot at or before ``now`` (every slot recurs within a week)."""
        today = now.astimezone(ZoneInfo(self.timezone)).date()
        return max(t for back in range(8) for t in self.instants(today - timedelta(days=back)) if t <= now)

    def upcoming(self, after: datetime) -> Iterator[datetime]:
        """Every slot strictly after ``after``, in order, without end."""
        day = after.astimezone(ZoneInfo(self.timezone)).date()
        while True:
            yield from (t for t in self.instants(day) if t > after)
            day += timedelta(days=1)

    def label(self, instant: datetime) -> str:
        """A slot as people read it, in the configured timezone: ``Thu 2026-12-03 09:00``."""
        local = instant.astimezone(ZoneInfo(self.timezone))
        return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"


def parse_slot(text: Any) -> Slot:
    """``"Tue 09:00"`` or ``"09:00"`` as a :class:`Slot`; a ValueError says what is wrong."""
    match = SLOT.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a slot")
    day = match["day"]
    if day and day.lower() not in DAY_NAMES:
        raise ValueError(f"{text!r} has an unknown weekday {day!r}")
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day")
    return Slot(DAY_NAMES[day.lower()] if day else None, time(hour, minute))


def parse(table: Any) -> tuple[Queue | None, list[str]]:
    """The ``[queue]`` table as a :class:`Queue` (timezone still UTC), and every problem, each naming its key."""
    if not isinstance(table, dict):
        return None, ['[queue] must be a table, e.g. [queue] then slots = ["Tue 09:00", "Thu 09:00"]']
    problems = [f"unknown key {k!r} in [queue] (known: {', '.join(sorted(KEYS))})" for k in table if k not in KEYS]
    raw = table.get("slots")
    slots = []
    if not isinstance(raw, list) or not raw:
        problems.append('queue.slots must be a list of at least one slot, e.g. slots = ["Tue 09:00", "Thu 09:00"]')
    else:
        for i, text in enumerate(raw):
            try:
                slots.append(parse_slot(text))
            except ValueError as exc:
                problems.append(f"queue.slots[{i}]: {exc}; {SLOT_HINT}")
    per_slot = table.get("per_slot", 1)
    if isinstance(per_slot, bool) or not isinstance(per_slot, int) or per_slot < 1:
        problems.append(f"queue.per_slot must be a whole number of 1 or more, not {per_slot!r}; "
                        "it is how many notes each platform takes per slot")
    if problems:
        return None, problems
    return Queue(tuple(slots), per_slot), []


def rank(priority: str, day: date | None, note: str) -> tuple:
    """A note's place in the queue: ``priority: high`` first, then the oldest ``date`` (undated last), then path."""
    return (priority != "high", day is None, day or date.min, note)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th… 11th, 12th, 13th… 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
