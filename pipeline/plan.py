"""The plan: from composed posts, the ledger and the clock, what is due and not yet done.

Read-only, like sqlite-utils' ``pending()``: it decides, the run acts.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from itertools import islice
from types import MappingProxyType
from pathlib import Path
from typing import Mapping

from .compose import Composed
from .ledger import Entry, Ledger
from .notes import Note
from .platforms import Platform
from .publisher import Part, Receipt
from .queue import Queue, ordinal, rank

NOTHING: Mapping = MappingProxyType({})  # no post done yet: one empty mapping shared (a vault has many drafts)
STATES = ("draft", "scheduled", "queued", "due", "partial", "published", "failed", "unknown", "edited")
STARTED = ("partial", "failed", "unknown")  # a thread under way: the queue waits for it
DRAFT = "status is draft; set notecast.status: ready to publish"


@dataclass(frozen=True, init=False)
class Publication:
    """One note on one platform: its parts, what is done, and what to do now.

    ``composed`` is None when the state could be told without composing the note (see :func:`settled`):
    then ``parts`` is empty, and only a published one knows its ``edition`` and ``done``."""

    file: Note
    platform: Platform
    composed: Composed | None
    note: str  # the ledger's name for the note
    edition: str
    parts: tuple[Part, ...]
    state: str
    done: Mapping[int, Receipt] = field(default_factory=lambda: NOTHING)
    pending: tuple[int, ...] = ()  # part indexes still to send, in order
    interrupted: tuple[int, ...] = ()  # parts with an intent and no result: recover before sending
    reason: str = ""  # why it is failed / unknown / edited / scheduled / queued
    when: datetime | None = None  # publish_at; for a queued note, its expected slot
    place: int = 0  # a queued note's place in its platform's line, from 1
    source: str = ""  # what it was made from: the note's file, the settings and the templates

    def __init__(self, file: Note, platform: Platform, composed: Composed | None, note: str, edition: str,
                 parts: tuple[Part, ...], state: str, done: Mapping[int, Receipt] = NOTHING,
                 pending: tuple[int, ...] = (), interrupted: tuple[int, ...] = (), reason: str = "",
                 when: datetime | None = None, place: int = 0, source: str = ""):
        # A scheduled run makes one for each note and platform: the fields are set in one step (the
        # generated frozen __init__ sets each through object.__setattr__, 2.6 µs a publication instead of 1.3).
        vars(self).update(file=file, platform=platform, composed=composed, note=note, edition=edition, parts=parts,
                          state=state, done=done, pending=pending, interrupted=interrupted, reason=reason,
                          when=when, place=place, source=source)

    @property
    def actionable(self) -> bool:
        return self.state in ("due", "partial", "failed", "unknown") and bool(self.pending)


def note_name(note: Note, root: Path) -> str:
    """The note's path relative to the project root, as the ledger records it: the part of its file's real
    path (:attr:`Note.real`) after the root's, so a note reached through a link keeps its name."""
    inside = _real(root).rstrip(os.sep) + os.sep
    if note.real.startswith(inside):
        return note.real[len(inside):].replace(os.sep, "/")
    return note.path.as_posix()


@lru_cache(maxsize=8)  # the project root's, asked for every note
def _real(folder: Path) -> str:
    return os.path.realpath(folder)


def edition(parts: tuple[Part, ...]) -> str:
    return hashlib.sha256("\n".join(p.digest for p in parts).encode()).hexdigest()[:16]


def plan(results: list[Composed], ledger: Ledger, *, root: Path, now: datetime, due_only: bool = False,
         republish: bool = False, language: str | None = None, queue: Queue | None = None,
         settled: list[Publication] = (), sources: dict | None = None, order: list[tuple] = ()) -> list[Publication]:
    """Every (note, platform) with its state at ``now``; publishers act on the actionable ones.

    ``settled`` are the publications already told without composing (:func:`settled`), merged in
    ``order`` (each note's path and its platforms' names, as the notes were found); ``sources`` gives each its source.
    With a ``queue``, a schedule run (``due_only``) sends ready notes without ``publish_at`` only
    as the slots allow; the others are ``queued``."""
    sources = sources or {}
    publications = [_one(c, ledger, root, now, due_only, republish, language,
                         sources.get((c.note.path, c.platform.name), "")) for c in results]
    if settled and not publications:  # told in the order the notes were found
        publications = list(settled)
    elif settled:
        place = {(path, name): i for i, (path, names) in enumerate(order) for name in names}
        publications = sorted([*publications, *settled], key=lambda p: place[(p.file.path, p.platform.name)])
    if queue and due_only:
        publications = _line_up(publications, ledger, queue, now)
    return publications


def _parts(c: Composed, name: str, language: str | None, now: datetime, created: dict[int, str],
           progress: dict[int, dict] | None = None) -> tuple[Part, ...]:
    """The posts as parts. A part's first attempt is the ledger's, or now plus its index in microseconds,
    so that times (and the Bluesky record keys made from them) sort in thread order; its progress is the
    ledger's newest for it (a two-step create half done)."""
    lang = c.note.meta.get("lang") or c.note.meta.get("language") or language
    parts = []
    for i, post in enumerate(c.posts):
        first = created.get(i)
        when = datetime.fromisoformat(first.replace("Z", "+00:00")) if first else now + timedelta(microseconds=i)
        parts.append(Part(name, c.platform.name, i, len(c.posts), post.text, dict(post.extra), post.media,
                          str(lang) if lang else None, post.card, created=when,
                          progress=(progress or {}).get(i, {})))
    return tuple(parts)


def settled(note: Note, platform: Platform, ledger: Ledger, *, name: str, now: datetime, due_only: bool,
            fingerprint: str) -> Publication | None:
    """The publication when its state can be told without composing the note, else None.

    A note never sent that is a draft, or (``due_only``) not due yet, is told by its front matter.
    A note whose every post was sent from the same source (its file, the settings and the
    templates, kept in the ledger: see :func:`source`) is published. Anything else needs the posts to decide.
    ``name`` is the ledger's name for the note (:func:`note_name`).
    """
    editions = ledger.latest(name, platform.name)
    when = note.settings.publish_at
    if not editions:
        if note.settings.status != "ready":
            return Publication(note, platform, None, name, "", (), "draft", reason=DRAFT, when=when)
        if due_only and when and when > now:
            return Publication(note, platform, None, name, "", (), "scheduled", reason=f"due {when.isoformat()}",
                               when=when)
        return None
    current, entries = list(editions.items())[-1]
    count = {e.parts for e in entries.values()}
    made = source(fingerprint, note, platform)
    if len(count) == 1 and len(entries) == count.pop() and \
            all(e.event == "done" and e.source == made for e in entries.values()):
        done = {i: Receipt(e.id, e.url, e.extra) for i, e in sorted(entries.items())}
        return Publication(note, platform, None, name, current, (), "published", done, when=when, source=made)
    return None


def source(fingerprint: str, note: Note, platform: Platform) -> str:
    """What one note's posts on one platform are made from, as a short hash: ``fingerprint`` (notecast,
    its settings and templates) with the note's file and the platform."""
    return hashlib.sha256(f"{fingerprint}\n{note.digest}\n{platform.name}".encode()).hexdigest()[:16]


def _one(c: Composed, ledger: Ledger, root: Path, now: datetime, due_only: bool, republish: bool,
         language: str | None, source: str) -> Publication:
    name = note_name(c.note, root)
    editions = ledger.latest(name, c.platform.name)
    parts = _parts(c, name, language, now, {})
    current = edition(parts)
    entries = editions.get(current, {})
    if entries:  # keep the first attempt's time so record keys stay the same
        parts = _parts(c, name, language, now, {i: e.created for i, e in entries.items() if e.created},
                       ledger.progress(name, c.platform.name, current))
    settings = c.note.settings
    when = settings.publish_at

    def make(state: str, reason: str = "", pending=(), interrupted=(), done=None) -> Publication:
        return Publication(c.note, c.platform, c, name, current, parts, state, done or NOTHING, tuple(pending),
                           tuple(interrupted), reason, when, source=source)

    old = [e for ed, es in editions.items() if ed != current for e in es.values()
           if e.event in ("done", "intent", "progress", "unknown")]
    if old and not entries and not republish:
        return make("edited", "changed since it was published; publish with --republish to post the new text")
    if settings.status != "ready":
        return make("draft", DRAFT)
    if due_only and when and when > now:
        return make("scheduled", f"due {when.isoformat()}")
    done = {i: Receipt(e.id, e.url, e.extra) for i, e in entries.items() if e.event == "done"}
    interrupted = [i for i, e in entries.items() if e.event in ("intent", "progress", "unknown") or e.doubt]
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


def _line_up(publications: list[Publication], ledger: Ledger, queue: Queue, now: datetime) -> list[Publication]:
    """The queue's pass, platform by platform: what the current slot still takes is due, the rest waits.

    A slot is used by the notes without publish_at that have a ledger line on the platform written at
    or after it, so every run in the slot agrees; a thread under way holds the platform's queue."""
    out = list(publications)
    slot = queue.latest(now)
    for name in dict.fromkeys(p.platform.name for p in publications):
        mine = [i for i, p in enumerate(publications) if p.platform.name == name]
        waiting = sorted((i for i in mine if _waits(publications[i])), key=lambda i: _rank(publications[i]))
        if not waiting:
            continue
        timed = {publications[i].note for i in mine if publications[i].file.settings.publish_at}
        used = {e.note for e in ledger.entries if e.platform == name and e.note not in timed and _at(e) >= slot}
        started = any(_started(publications[i]) for i in mine)
        free = 0 if started else max(queue.per_slot - len(used), 0)
        later = list(islice(queue.upcoming(slot), (len(waiting) - 1) // queue.per_slot + 1))
        for k, i in enumerate(waiting):
            pub = publications[i]
            if k < free:
                out[i] = dataclasses.replace(pub, reason=f"queue slot {queue.label(slot)}")
                continue
            line = k - free
            when = later[line // queue.per_slot]
            out[i] = dataclasses.replace(pub, state="queued", when=when, place=line + 1,
                                         reason=f"{queue.label(when)}, {ordinal(line + 1)} in line")
    return out


def _waits(pub: Publication) -> bool:
    """A ready note without publish_at that nothing has been sent for yet: it joins the queue."""
    return pub.state == "due" and not pub.interrupted and pub.file.settings.publish_at is None


def _started(pub: Publication) -> bool:
    """Half-sent, failed, in doubt, or interrupted mid-request: it holds its platform's queue."""
    return pub.state in STARTED or (pub.state == "due" and bool(pub.interrupted))


def _rank(pub: Publication) -> tuple:
    """The publication's place in its platform's queue."""
    note = pub.file
    return rank(note.settings.priority, note.date, pub.note)


def _at(entry: Entry) -> datetime:
    """When a ledger line was written; a line without a readable time counts as long ago."""
    try:
        when = datetime.fromisoformat(entry.at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
