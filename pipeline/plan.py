"""The plan: from composed posts, the ledger and the clock, what is due and not yet done.

Read-only, like sqlite-utils' ``pending()``: it decides, the run acts.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .compose import Composed
from .ledger import Ledger
from .publisher import Part, Receipt

STATES = ("draft", "scheduled", "due", "partial", "published", "failed", "unknown", "edited")


@dataclass(frozen=True)
class Publication:
    """One note on one platform: its parts, what is done, and what to do now."""

    composed: Composed
    note: str  # the ledger's name for the note
    edition: str
    parts: tuple[Part, ...]
    state: str
    done: dict[int, Receipt] = field(default_factory=dict)
    pending: tuple[int, ...] = ()  # part indexes still to send, in order
    interrupted: tuple[int, ...] = ()  # parts with an intent and no result: recover before sending
    reason: str = ""  # why it is failed / unknown / edited / scheduled
    when: datetime | None = None

    @property
    def actionable(self) -> bool:
        return self.state in ("due", "partial", "failed", "unknown") and bool(self.pending)


def note_name(path: Path, root: Path) -> str:
    """The note's path relative to the project root, as the ledger records it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def edition(parts: tuple[Part, ...]) -> str:
    return hashlib.sha256("\n".join(p.digest for p in parts).encode()).hexdigest()[:16]


def plan(results: list[Composed], ledger: Ledger, *, root: Path, now: datetime, due_only: bool = False,
         republish: bool = False, language: str | None = None) -> list[Publication]:
    """Every (note, platform) with its state at ``now``; publishers act on the actionable ones."""
    return [_one(c, ledger, root, now, due_only, republish, language) for c in results]


def _parts(c: Composed, name: str, language: str | None, now: datetime, created: dict[int, str]) -> tuple[Part, ...]:
    """The posts as parts. A part's first attempt is the ledger's, or now plus its index in microseconds,
    so that times (and the Bluesky record keys made from them) sort in thread order."""
    lang = c.note.meta.get("lang") or c.note.meta.get("language") or language
    parts = []
    for i, post in enumerate(c.posts):
        first = created.get(i)
        when = datetime.fromisoformat(first.replace("Z", "+00:00")) if first else now + timedelta(microseconds=i)
        parts.append(Part(name, c.platform.name, i, len(c.posts), post.text, dict(post.extra), post.media,
                          str(lang) if lang else None, post.card, created=when))
    return tuple(parts)


def _one(c: Composed, ledger: Ledger, root: Path, now: datetime, due_only: bool, republish: bool,
         language: str | None) -> Publication:
    name = note_name(c.note.path, root)
    editions = ledger.latest(name, c.platform.name)
    parts = _parts(c, name, language, now, {})
    current = edition(parts)
    entries = editions.get(current, {})
    if entries:  # keep the first attempt's time so record keys stay the same
        parts = _parts(c, name, language, now, {i: e.created for i, e in entries.items() if e.created})
    settings = c.note.settings
    when = settings.publish_at

    def make(state: str, reason: str = "", pending=(), interrupted=(), done=None) -> Publication:
        return Publication(c, name, current, parts, state, done or {}, tuple(pending), tuple(interrupted), reason, when)

    old = [e for ed, es in editions.items() if ed != current for e in es.values() if e.event in ("done", "intent", "unknown")]
    if old and not entries and not republish:
        return make("edited", "changed since it was published; publish with --republish to post the new text")
    if settings.status != "ready":
        return make("draft", "status is draft; set notecast.status: ready to publish")
    if due_only and when and when > now:
        return make("scheduled", f"due {when.isoformat()}")
    done = {i: Receipt(e.id, e.url, e.extra) for i, e in entries.items() if e.event == "done"}
    interrupted = [i for i, e in entries.items() if e.event in ("intent", "unknown") or e.doubt]
    pending = [p.index for p in parts if p.index not in done]
    if not pending:
        return make("published", done=done)
    unknown = [entries[i] for i in interrupted if entries[i].event == "unknown"]
    failed = [e for e in entries.values() if e.event == "failed"]
    if unknown:
        state, reason = "unknown", unknown[0].error or "a post may or may not have been made"
    elif done:
        state, reason = "partial", f"{len(done)} of {len(parts)} posts sent"
    elif failed:
        state, reason = "failed", failed[-1].error
    else:
        state, reason = "due", ""
    return make(state, reason, pending, interrupted, done)
