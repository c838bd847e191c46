"""What every publisher shares: the post it receives (:class:`Part`), what it answers
(:class:`Receipt`, or :class:`Progress` halfway through a two-step create), what it finds when
asked about its account (:class:`Finding`), and the
:class:`Publisher` protocol.

A leaf: it knows nothing of the run, the plan or the ledger. A platform package
(``pipeline/platforms/<name>/``) implements the protocol; the run drives it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
class Progress:
    """Halfway through a two-step create: what the server holds so far (Threads: a container id).

    The run writes it to the ledger before anything else is sent, then calls ``publish`` again
    with the part's ``progress`` set to ``extra``; so after a crash ``recover`` and ``publish``
    know what the first step made, and the second step is never done twice blindly.
    """

    extra: Mapping[str, Any]


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
    progress: Mapping[str, Any] = field(default_factory=dict, kw_only=True)  # the newest Progress the ledger holds

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


EXPIRY_NOTICE = timedelta(days=14)  # how long before a credential expires doctor starts to warn
LEVELS = ("ok", "warning", "error")  # a finding's levels, mildest first


@dataclass(frozen=True)
class Finding:
    """One thing ``notecast doctor`` found about a platform: ``platform: level: message; hint``."""

    platform: str
    level: str  # ok | warning | error
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.platform}: {self.level}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


class Publisher(Protocol):
    """One platform's adapter, made by ``Platform.publisher(session, settings, clock)``.

    It does all its I/O through the ``requests.Session`` it is given and never builds one:
    in a dry run that session answers every request itself (with :meth:`dry_reply`), so
    ``publish`` must have no other side effect (no file, no socket of its own).
    """

    platform: str

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | Progress:
        """Send one post (replying to ``parent`` in a thread whose first post is ``root``).

        A publisher whose create takes two steps may answer :class:`Progress` after the first;
        it is called again, with ``part.progress`` set, to finish. Most never do.
        """
        ...

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """After a crash mid-request: the post if it exists, None if it surely does not.

        ``part.progress`` is the newest :class:`Progress` recorded for the part, if any.

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

    def health(self) -> list[Finding]:
        """Prove the credentials with read-only calls (never a post), for ``notecast doctor``.

        At least one finding: ``ok`` with whom the credentials belong to, or what needs attention and
        how to fix it. Where the platform can say when a token expires, a ``warning`` 14 days before
        (:data:`EXPIRY_NOTICE`). A failed request may simply raise :class:`pipeline.errors.PublishError`:
        doctor reports its message and hint. Optional for third-party publishers: without it, doctor
        says the account cannot be checked.
        """
        ...
