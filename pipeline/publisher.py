"""What every publisher shares: the post it receives (:class:`Part`), what it answers
(:class:`Receipt`), and the :class:`Publisher` protocol.

A leaf: it knows nothing of the run, the plan or the ledger. A platform package
(``pipeline/platforms/<name>/``) implements the protocol; the run drives it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol

from .cards import Card
from .media import Media


@dataclass(frozen=True)
class Receipt:
    """What a platform answered for one post: its id, its web address, and what replies need."""

    id: str
    url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. Bluesky's cid


@dataclass(frozen=True)
class Part:
    """One post of a thread, as a publisher receives it."""

    note: str  # the note's path, as the ledger names it
    platform: str
    index: int  # 0-based position in the thread
    count: int
    text: str  # exactly as it will be sent
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. Bluesky facets
    media: tuple[Media, ...] = ()
    language: str | None = None
    card: Card | None = None  # a link card to show (where a platform's client makes them); not in the digest
    created: datetime = field(kw_only=True)  # the first attempt (the ledger keeps it across runs), from the clock

    @property
    def digest(self) -> str:
        """A hash of the content: text, extras and media (path and alt).

        Not the card: a page that changes its title after the post went out does not make the note "edited"."""
        canonical = json.dumps({"text": self.text, "extra": self.extra,
                                "media": [[m.path.as_posix(), m.alt] for m in self.media]},
                               sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def key(self) -> str:
        """A stable idempotency key for (note, platform, part, content)."""
        raw = f"{self.note}\n{self.platform}\n{self.index}\n{self.digest}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


class Publisher(Protocol):
    """One platform's adapter, made by ``Platform.publisher(session, settings, clock)``.

    It does all its I/O through the ``requests.Session`` it is given and never builds one:
    in a dry run that session answers every request itself (with :meth:`dry_reply`), so
    ``publish`` must have no other side effect (no file, no socket of its own).
    """

    platform: str

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Send one post (replying to ``parent`` in a thread whose first post is ``root``)."""
        ...

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """After a crash mid-request: the post if it exists, None if it surely does not.

        Raise :class:`pipeline.errors.Unknown` when the platform cannot tell.
        """
        ...

    def discover(self) -> Mapping[str, str]:
        """Settings the server decides, asked before planning (Mastodon: ``max_characters``);
        ``{}`` for most platforms. Read-only, unauthenticated, and asked once per command."""
        ...

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """A plausible answer to a request, for dry runs: (status, headers, JSON body)."""
        ...
