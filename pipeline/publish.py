"""Publishing: the Publisher protocol and the run that drives it.

Data flows one way: composed posts → plan (what is due and not yet done,
from the ledger) → a publisher per platform → ledger. A publisher only turns
one post into HTTP requests on the session it is given; the run owns the
ledger, the order of a thread and what happens after a failure.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Protocol

from .errors import NotecastError
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
    created: datetime = field(default_factory=lambda: datetime.now(timezone.utc))  # first attempt

    @property
    def digest(self) -> str:
        """A hash of the content: text, extras and media (path and alt)."""
        canonical = json.dumps({"text": self.text, "extra": self.extra,
                                "media": [[m.path.as_posix(), m.alt] for m in self.media]},
                               sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def key(self) -> str:
        """A stable idempotency key for (note, platform, part, content)."""
        raw = f"{self.note}\n{self.platform}\n{self.index}\n{self.digest}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


class Unknown(NotecastError):
    """Whether an interrupted post was made cannot be told: a person must decide."""


class Publisher(Protocol):
    """One platform's adapter. It receives its ``requests.Session``; it never builds one."""

    platform: str

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Send one post (replying to ``parent`` in a thread whose first post is ``root``)."""
        ...

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """After a crash mid-request: the post if it exists, None if it surely does not.

        Raise :class:`Unknown` when the platform cannot tell.
        """
        ...

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """A plausible answer to a request, for dry runs: (status, headers, JSON body)."""
        ...


# ---- the run ------------------------------------------------------------------


def settings_for(platform, table: Mapping[str, Any], *, dry_run: bool) -> tuple[dict[str, str], list[str]]:
    """Every declared setting of a platform: its value, its default, or (dry run) a placeholder."""
    values, missing = {}, []
    for setting in platform.settings:
        value = table.get(setting.key)
        if value in (None, ""):
            value = setting.default
        if value in (None, "") and setting.placeholder:
            if not dry_run:
                missing.append(f"NOTECAST_{platform.name.upper()}_{setting.key.upper()}")
            value = setting.placeholder
        values[setting.key] = "" if value is None else str(value)
    return values, missing


def run(args, config, emit) -> int:
    """``notecast publish``: plan everything, then send what is due, recording each step."""
    import dataclasses

    import requests

    from . import platforms
    from .compose import compose_all
    from .ledger import Ledger
    from .plan import plan
    from .transport import DryRun, format_request

    dry = args.dry_run
    paths = list(args.paths) if args.paths else [config.notes]
    root = config.root if config.path else _cwd()
    ledger = Ledger(config.ledger, writable=not dry)
    now = _now()

    def planned(config):
        report = compose_all(paths, config, tuple(args.platform))  # each note to its own platforms
        return report, plan(report.results, ledger, root=root, now=now, due_only=args.due,
                            republish=args.republish, language=config.language)

    report, publications = planned(config)
    needed = tuple(dict.fromkeys(p.composed.platform.name for p in publications if p.actionable))
    session = requests.Session()
    session.headers["User-Agent"] = "notecast (+https://github.com/notecast/notecast)"
    publishers, unset, rediscovered = {}, {}, False
    adapters: dict[str, DryRun] = {}
    for name in needed:  # no account is touched where nothing is due
        platform = platforms.get(name)
        values, missing = settings_for(platform, config.platform(name), dry_run=dry)
        if missing:
            unset[name] = (f"{', '.join(missing)} not set; set {'it' if len(missing) == 1 else 'them'} in the "
                           "environment (in GitHub Actions: repository secrets, see README) or run with --dry-run")
            continue
        own = requests.Session() if dry else session
        if dry:
            own.headers.update(session.headers)
        publisher = platform.publisher(own, values)
        if dry:
            adapters[name] = DryRun(publisher.dry_reply)
            own.mount("https://", adapters[name])
            own.mount("http://", adapters[name])
        elif hasattr(publisher, "discover") and (found := publisher.discover()):  # e.g. an instance's limit
            table = {**found, **config.platforms.get(name, {})}
            config = dataclasses.replace(config, platforms={**config.platforms, name: table})
            rediscovered = True
        publishers[name] = publisher
    if rediscovered:
        report, publications = planned(config)
    for problem in report.failures:
        emit(str(problem), err=True)
    failures = len(report.failures)
    summary = []
    with ledger.lock():
        for pub in publications:
            name = pub.composed.platform.name
            if not pub.actionable:
                summary.append(_line(pub, pub.state, pub.reason))
                continue
            if name in unset:
                emit(f"{name}: error: {unset.pop(name)}", err=True)
            if name not in publishers:
                failures += 1
                summary.append(_line(pub, "not sent", f"{name} is not configured"))
                continue
            publisher = publishers[name]
            adapter = adapters.get(name)
            if adapter:
                for media in pub.parts[0].media if pub.parts else ():
                    try:
                        adapter.know(media.path.read_bytes(), f"{media.path.as_posix()}, alt: {media.alt or '(none)'}")
                    except OSError:
                        pass
                emit(f"== {pub.note} → {name}: would send {len(pub.pending)} of {len(pub.parts)} post(s) ({pub.state})")
            ok, outcome = _send(pub, publisher, ledger)
            if adapter:
                emit("\n\n".join(format_request(r) for r in adapter.requests) + "\n")
                adapter.requests.clear()
            failures += not ok
            summary.append(_line(pub, outcome if not dry else "dry-run", ""))
    emit("\n".join(summary) if summary else "nothing to publish", err=False)
    if dry:
        emit("dry run: nothing was sent and the ledger was not written", err=True)
    return 1 if failures else 0


def _send(pub, publisher, ledger) -> tuple[bool, str]:
    """Send the pending parts of one publication in order; stop the thread at the first failure."""
    from .errors import PublishError
    from .plan import entry

    receipts = dict(pub.done)
    for part in pub.parts:
        if part.index in receipts:
            continue
        root = receipts.get(0) if part.index else None
        parent = receipts.get(part.index - 1) if part.index else None
        try:
            if part.index in pub.interrupted:
                found = publisher.recover(part, root=root, parent=parent)
                if found:
                    ledger.append(entry(pub, part, "done", receipt=found))
                    receipts[part.index] = found
                    continue
            ledger.append(entry(pub, part, "intent"))
            receipt = publisher.publish(part, root=root, parent=parent)  # X: a refused duplicate may be Unknown
        except Unknown as exc:
            ledger.append(entry(pub, part, "unknown", error=str(exc)))
            return False, f"unknown: part {part.index + 1} may have been sent: {exc}"
        except PublishError as exc:  # in doubt if a create that is unsafe to repeat may have been carried out
            ledger.append(entry(pub, part, "failed", error=str(exc), doubt=exc.maybe_sent))
            return False, f"failed at post {part.index + 1} of {part.count}: {exc}"
        ledger.append(entry(pub, part, "done", receipt=receipt))
        receipts[part.index] = receipt
    first = receipts.get(0)
    return True, f"published {len(pub.parts)} post(s)" + (f": {first.url}" if first and first.url else "")


def _line(pub, outcome: str, reason: str) -> str:
    return f"{pub.note} → {pub.composed.platform.name}: {outcome}" + (f" ({reason})" if reason else "")


def _now() -> datetime:
    """The clock; NOTECAST_NOW (ISO 8601) pins it for tests and rehearsals."""
    import os

    pinned = os.environ.get("NOTECAST_NOW")
    if pinned:
        return datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    return datetime.now(timezone.utc)


def _cwd():
    from pathlib import Path

    return Path.cwd()


def status(args, config, emit) -> int:
    """``notecast status``: per note and platform, what is drafted, scheduled, published, partial…"""
    from .compose import compose_all
    from .ledger import Ledger
    from .plan import plan

    paths = list(args.paths) if args.paths else [config.notes]
    report = compose_all(paths, config, tuple(args.platform))
    for problem in report.failures:
        emit(str(problem), err=True)
    ledger = Ledger(config.ledger, writable=False)
    publications = plan(report.results, ledger, root=config.root if config.path else _cwd(), now=_now(),
                        due_only=True, language=config.language)
    for pub in publications:
        state = pub.state
        detail = pub.reason
        if state == "published":
            detail = " ".join(r.url or r.id for _, r in sorted(pub.done.items()))
        elif state == "due" and pub.when:
            detail = f"due since {pub.when.isoformat()}"
        elif state == "scheduled" and pub.when:
            detail = f"at {pub.when.isoformat()}"
        emit(f"{pub.note}\t{pub.composed.platform.name}\t{state}" + (f"\t{detail}" if detail else ""))
    return 1 if report.failures or any(p.state in ("failed", "unknown") for p in publications) else 0


def resolve(args, config, emit) -> int:
    """``notecast resolve``: a person says whether a post in doubt was made, and the ledger records it.

    ``--sent`` records the post as done (the next part replies to it);
    ``--not-sent`` records it as failed, so the next run sends it.
    """
    from .compose import compose_all
    from .errors import UsageError
    from .ledger import Ledger
    from .plan import entry, plan

    report = compose_all(list(args.paths), config, (args.platform,))
    for problem in report.failures:
        emit(str(problem), err=True)
    if not report.results:
        return 1
    ledger = Ledger(config.ledger)
    found = plan(report.results, ledger, root=config.root if config.path else _cwd(), now=_now())
    if len(found) != 1:
        raise UsageError(f"{args.paths[0]}: give one note, not a folder of {len(found)}; see `notecast status`")
    (pub,) = found
    doubt = [i for i in pub.interrupted if i not in pub.done]
    index = args.part - 1 if args.part else (doubt[0] if doubt else None)
    if index is None or not 0 <= index < len(pub.parts):
        where = f"post {args.part} does not exist: the thread has {len(pub.parts)}" if args.part else "no post is in doubt"
        raise UsageError(f"{pub.note} → {args.platform}: {where}; see `notecast status`")
    part = pub.parts[index]
    with ledger.lock():
        if args.sent:
            url = args.sent if args.sent.startswith(("http://", "https://")) else ""
            ident = args.sent.rstrip("/").rsplit("/", 1)[-1] if url else args.sent
            ledger.append(entry(pub, part, "done", receipt=Receipt(ident, url, {"resolved": "by hand"})))
            outcome = f"recorded as sent ({args.sent})"
        else:
            ledger.append(entry(pub, part, "failed", error="marked not sent by hand; the next run sends it"))
            outcome = "recorded as not sent: the next `notecast publish` sends it"
    emit(f"{pub.note} → {args.platform}: post {index + 1} of {len(pub.parts)} {outcome}")
    return 0
