"""The ledger: what was sent where, one JSON line per event, append-only.

Each post of a thread gets an ``intent`` line before its request and a
``done`` line (remote id and URL) after it, or ``failed`` / ``unknown``. A
create that takes two steps (Threads) adds a ``progress`` line between them,
with what the first step made, before the second is sent.
Every line is flushed and fsynced before the request goes out, so a crash at
any instant leaves at worst a torn last line, which reading skips. Lines are
only ever appended, so git merges of the ledger stay trivial.

The newest line for a (note, platform, edition, part) is its state; an
edition is the hash of the whole publication, so an edited note is a new
edition and is never mixed with posts already made from the old text.
"""
from __future__ import annotations

import json
import os
import fcntl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from .clock import SYSTEM, Clock, iso
from .errors import UsageError
from .publisher import Part, Receipt

VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One line of the ledger."""

    event: str  # intent | progress | done | failed | unknown
    note: str
    platform: str
    edition: str
    part: int
    parts: int
    at: str
    key: str = ""
    id: str = ""
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    created: str = ""  # time of the first intent for this part (Bluesky record keys derive from it)
    doubt: bool = False  # failed, but the request may have been carried out: recover before sending again

    def to_json(self) -> str:
        data = {"v": VERSION, "at": self.at, "event": self.event, "note": self.note, "platform": self.platform,
                "edition": self.edition, "part": self.part, "parts": self.parts}
        for name in ("key", "id", "url", "extra", "error", "created", "doubt"):
            value = getattr(self, name)
            if value:
                data[name] = value
        return json.dumps(data, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


class Ledger:
    """Reads the ledger once, answers questions about it, and appends durably."""

    def __init__(self, path: Path, *, writable: bool = True, clock: Clock = SYSTEM):
        self.path = Path(path)
        self.writable = writable
        self.clock = clock
        self.entries: list[Entry] = list(read(self.path))
        self.torn = False

    def latest(self, note: str, platform: str) -> dict[str, dict[int, Entry]]:
        """For each edition of (note, platform): the newest entry of each part (a ``done`` one if any),
        editions oldest first."""
        out: dict[str, dict[int, Entry]] = {}
        for entry in self.entries:
            if entry.note == note and entry.platform == platform:
                parts = out.setdefault(entry.edition, {})
                if parts.get(entry.part, entry).event != "done" or entry.event == "done":
                    parts[entry.part] = entry  # a post once made stays made, whatever a merge put after it
        return out

    def progress(self, note: str, platform: str, edition: str) -> dict[int, dict[str, Any]]:
        """For each part of one edition: what its newest ``progress`` line says the server holds."""
        return {e.part: e.extra for e in self.entries
                if e.event == "progress" and (e.note, e.platform, e.edition) == (note, platform, edition)}

    def record(self, event: str, part: Part, *, edition: str, receipt: Receipt | None = None, error: str = "",
               doubt: bool = False, extra: Mapping[str, Any] | None = None) -> Entry:
        """Append the line for one event of one part of a publication, stamped with the clock.

        ``extra`` is what a ``progress`` line carries; a ``done`` line carries the receipt's."""
        return self.append(Entry(
            event=event, note=part.note, platform=part.platform, edition=edition, part=part.index, parts=part.count,
            at=self.clock.stamp(), key=part.key, id=receipt.id if receipt else "", url=receipt.url if receipt else "",
            extra=dict(receipt.extra if receipt else extra or {}), error=error, created=iso(part.created),
            doubt=doubt))

    def append(self, entry: Entry) -> Entry:
        """Write one line and make it durable before returning."""
        self.entries.append(entry)
        if not self.writable:
            return entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(("\n" if needs_newline else "") + entry.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def lock(self):
        """An exclusive lock so two local runs never publish at once (CI uses a concurrency group)."""
        return _Lock(self.path.with_name(self.path.name + ".lock")) if self.writable else _NoLock()


def read(path: Path) -> Iterator[Entry]:
    """Every well-formed entry; a torn or foreign line is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: error: cannot read the ledger: {exc}; restore it from git") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            yield Entry(event=data["event"], note=data["note"], platform=data["platform"], edition=data["edition"],
                        part=int(data["part"]), parts=int(data["parts"]), at=data.get("at", ""),
                        key=data.get("key", ""), id=data.get("id", ""), url=data.get("url", ""),
                        extra=data.get("extra") or {}, error=data.get("error", ""), created=data.get("created", ""),
                        doubt=bool(data.get("doubt")))
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a crash mid-write, or a merge leftover


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


class _Lock:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise UsageError(f"{self.path}: error: another notecast publish is running; wait for it to finish") from None
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
