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
from .errors import Problem, UsageError, shown
from .publisher import Part, Receipt
from .secrets import redact

ERROR_CHARS = 400  # a ledger error says what went wrong and how to fix it; a server's whole answer is not kept

VERSION = 1
TEXT_FIELDS = ("event", "note", "platform", "edition")  # required, like the numbers "part" and "parts"
OPTIONAL_TEXT = ("at", "key", "id", "url", "error", "created", "source")


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
    source: str = ""  # the note's file, settings and templates it was made from (see plan.settled)

    def to_json(self) -> str:
        data = {"v": VERSION, "at": self.at, "event": self.event, "note": self.note, "platform": self.platform,
                "edition": self.edition, "part": self.part, "parts": self.parts}
        for name in ("key", "id", "url", "extra", "error", "created", "doubt", "source"):
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
        self.warnings: list[Problem] = []  # lines skipped because they are not well-formed entries
        self.entries: list[Entry] = list(read(self.path, self.warnings))
        self.torn = False
        self._index: dict[tuple[str, str], list[Entry]] | None = None  # (note, platform) -> its entries, in order

    def of(self, note: str, platform: str) -> list[Entry]:
        """The entries of one (note, platform), in order (indexed on first use: a vault's run asks for each)."""
        if self._index is None:
            self._index = {}
            for entry in self.entries:
                self._index.setdefault((entry.note, entry.platform), []).append(entry)
        return self._index.get((note, platform), [])

    def check_writable(self) -> None:
        """Raise :class:`UsageError` unless the ledger can be appended to: call it before anything is sent.

        Tries what :meth:`append` will do (create the folder, open the file for
        appending) and undoes whatever it had to create.
        """
        if not self.writable:
            return
        made = [folder for folder in (self.path.parent, *self.path.parent.parents) if not folder.exists()]
        existed = self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise UsageError(f"{self.path}: error: the ledger cannot be written ({exc.strerror}); nothing was sent. "
                             "Make it a writable file (remove a folder of that name, check the permissions) "
                             "or set ledger in notecast.toml to another path") from None
        finally:
            if not existed and self.path.is_file() and self.path.stat().st_size == 0:
                self.path.unlink()
            for folder in made:  # innermost first
                try:
                    folder.rmdir()
                except OSError:
                    break

    def latest(self, note: str, platform: str) -> dict[str, dict[int, Entry]]:
        """For each edition of (note, platform): the newest entry of each part (a ``done`` one if any),
        editions oldest first."""
        out: dict[str, dict[int, Entry]] = {}
        for entry in self.of(note, platform):
            parts = out.setdefault(entry.edition, {})
            if parts.get(entry.part, entry).event != "done" or entry.event == "done":
                parts[entry.part] = entry  # a post once made stays made, whatever a merge put after it
        return out

    def progress(self, note: str, platform: str, edition: str) -> dict[int, dict[str, Any]]:
        """For each part of one edition: what its newest ``progress`` line says the server holds."""
        return {e.part: e.extra for e in self.of(note, platform) if e.event == "progress" and e.edition == edition}

    def record(self, event: str, part: Part, *, edition: str, receipt: Receipt | None = None, error: str = "",
               doubt: bool = False, extra: Mapping[str, Any] | None = None, source: str = "") -> Entry:
        """Append the line for one event of one part of a publication, stamped with the clock.

        ``extra`` is what a ``progress`` line carries; a ``done`` line carries the receipt's."""
        return self.append(Entry(
            event=event, note=part.note, platform=part.platform, edition=edition, part=part.index, parts=part.count,
            at=self.clock.stamp(), key=part.key, id=receipt.id if receipt else "", url=receipt.url if receipt else "",
            extra=dict(receipt.extra if receipt else extra or {}), error=_brief(error), created=iso(part.created),
            doubt=doubt, source=source))

    def append(self, entry: Entry) -> Entry:
        """Write one line and make it durable before returning."""
        self.entries.append(entry)
        if self._index is not None:
            self._index.setdefault((entry.note, entry.platform), []).append(entry)
        if not self.writable:
            return entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as handle:  # the ledger is committed: masked like all output
            handle.write(("\n" if needs_newline else "") + redact(entry.to_json()) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def lock(self):
        """An exclusive lock so two local runs never publish at once (CI uses a concurrency group)."""
        return _Lock(self.path.with_name(self.path.name + ".lock")) if self.writable else _NoLock()


def _brief(error: str) -> str:
    """An error as the ledger keeps it: masked, on one line, at most ``ERROR_CHARS`` characters."""
    error = " ".join(redact(error).split())
    return error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"


def read(path: Path, warnings: list[Problem] | None = None) -> Iterator[Entry]:
    """Every well-formed entry. A torn line (a crash mid-write, even inside a UTF-8 character) or a
    foreign one (a merge leftover) is skipped; a JSON object that is not an entry (a hand edit with a
    wrong type) is skipped with a warning in ``warnings``."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return
    except IsADirectoryError:
        raise UsageError(f"{path}: error: cannot read the ledger: it is a folder; move the folder away, "
                         "or set ledger in notecast.toml to a file") from None
    except OSError as exc:
        raise UsageError(f"{path}: error: cannot read the ledger: {exc.strerror}; restore it from git") from None
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            item = json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both
            continue
        if not isinstance(item, dict):
            continue
        entry, why = _entry(item)
        if entry is not None:
            yield entry
        elif warnings is not None:
            warnings.append(Problem(str(path), number, f"ledger line skipped: {why}",
                                    "correct the line (see the README's ledger format) or remove it", "warning"))


def _entry(data: dict) -> tuple[Entry | None, str]:
    """An entry from one decoded line, or None and what is wrong with it."""
    for name in TEXT_FIELDS:
        if not isinstance(data.get(name), str):
            return None, f'"{name}" must be text, not {shown(data.get(name), 40)}'
    for name in ("part", "parts"):
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None, f'"{name}" must be a whole number, not {shown(value, 40)}'
    for name in OPTIONAL_TEXT:
        if not isinstance(data.get(name, ""), str):
            return None, f'"{name}" must be text, not {shown(data[name], 40)}'
    extra = {} if data.get("extra") is None else data["extra"]
    if not isinstance(extra, dict):
        return None, f'"extra" must be a set of keys, not {shown(extra, 40)}'
    if not isinstance(data.get("doubt", False), bool):
        return None, f'"doubt" must be true or false, not {shown(data["doubt"], 40)}'
    return Entry(event=data["event"], note=data["note"], platform=data["platform"], edition=data["edition"],
                 part=data["part"], parts=data["parts"], at=data.get("at", ""), key=data.get("key", ""),
                 id=data.get("id", ""), url=data.get("url", ""), extra=extra, error=data.get("error", ""),
                 created=data.get("created", ""), doubt=data.get("doubt", False), source=data.get("source", "")), ""


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
