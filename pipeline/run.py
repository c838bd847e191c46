"""The commands that look at the world or change it: check, publish, status and resolve.

Each takes plain values (a :class:`Config`, paths, flags, a :class:`Clock`) and returns plain
values; ``cli.py`` parses options and prints. Data flows one way: notes are composed, the
servers are asked what they decide (:func:`survey`), the plan is made against the ledger,
then publishers send and the ledger records each step.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from . import __version__, platforms
from .cards import Cache, Cards
from .clock import Clock
from .compose import Composed, Report, attach, compose_all
from .config import Config
from .errors import Problem, PublishError, Rejected, Unknown, UsageError
from .ledger import Ledger
from .notes import Note
from .plan import Publication, note_name, plan, settled, source
from .render import bundled
from .platforms import Platform
from .publisher import Part, Progress, Publisher, Receipt

if TYPE_CHECKING:
    import requests

    from .transport import DryRun, Recorded

USER_AGENT = "notecast (+https://github.com/notecast/notecast)"
UNSETTLED = ("due", "queued", "partial", "failed", "unknown", "edited")  # states a server-decided limit can change
STEPS = 4  # the most Progress answers one post may take (Threads takes one)


@dataclass(frozen=True)
class Survey:
    """Every note composed and planned, with what the servers decided folded into the config."""

    report: Report
    publications: list[Publication]
    config: Config


@dataclass(frozen=True)
class Outcome:
    """What one publication with something to send became in a publish run."""

    publication: Publication
    summary: str  # one line: note → platform: what happened
    ok: bool = True
    acted: bool = False  # something was (or, in a dry run, would have been) sent
    notice: str = ""  # said once per platform before its first publication, e.g. missing settings
    requests: tuple[Recorded, ...] = ()  # dry run: every request, as it would be sent
    cost: float | None = None  # dry run: what sending it would cost in US dollars (pay-per-use platforms only)
    warnings: tuple[str, ...] = ()  # e.g. a link card that could not be made


@dataclass(frozen=True)
class Run:
    """A publish run: the notes that could not be composed, every publication planned, and the outcome of
    each one that had something to send, by its place among them (a scheduled run: mostly none)."""

    problems: list[Problem]
    publications: list[Publication]
    outcomes: dict[int, Outcome]
    dry_run: bool
    next_slot: datetime | None = None  # with a [queue], in a --due run: when the queue moves next

    @property
    def ok(self) -> bool:
        return not self.problems and all(o.ok for o in self.outcomes.values())

    @property
    def costs(self) -> dict[str, float]:
        """Dry run: the estimated cost per platform that charges for posts, in US dollars."""
        out: dict[str, float] = {}
        for outcome in self.outcomes.values():
            if outcome.cost is not None:
                name = outcome.publication.platform.name
                out[name] = out.get(name, 0.0) + outcome.cost
        return out

    def line(self, index: int) -> str:
        """One line for the publication at ``index``: note → platform: what happened, or else its state."""
        if index in self.outcomes:
            return self.outcomes[index].summary
        pub = self.publications[index]
        return _line(pub, pub.state, pub.reason)


def settings_for(platform: Platform, table: Mapping[str, Any], *, dry_run: bool) -> tuple[dict[str, str], list[str]]:
    """Every declared setting of a platform: its value, its default, or (dry run) a placeholder."""
    values, missing = {}, []
    for setting in platform.settings:
        value = table.get(setting.key)
        if value in (None, ""):
            value = setting.default
        if value in (None, "") and setting.placeholder:
            if not dry_run:
                missing.append(platform.variable(setting.key))
            value = setting.placeholder
        values[setting.key] = "" if value is None else str(value)
    return values, missing


def discover(config: Config, names, clock: Clock) -> dict[str, dict[str, Any]]:
    """What each named platform's server decides (Mastodon: its character limit), as settings tables.

    Read-only and unauthenticated; a platform whose server is not configured yet is not asked.
    The user's own settings win over what a server says.
    """
    learned = {}
    for name in sorted(names):
        platform = platforms.get(name)
        values, _ = settings_for(platform, config.platform(name), dry_run=True)
        if any(values[s.key] == s.placeholder for s in platform.settings if s.placeholder and not s.secret):
            continue
        found = platform.publisher(new_session(), values, clock).discover()
        if found:
            learned[name] = {**found, **config.platforms.get(name, {})}
    return learned


def survey(paths, config: Config, clock: Clock, ledger: Ledger, *, chosen: tuple[str, ...] = (),
           due_only: bool = False, republish: bool = False, lazy: bool = False) -> Survey:
    """Compose the notes under ``paths`` and plan them against the ledger.

    Shared by check, publish and status, so that a note's edition never depends on which command
    asked: where a server decides a limit, it is asked before the plan is trusted. ``lazy``: a note
    whose state its front matter and the ledger tell (a draft, not due yet, published from the same
    source) is not composed, so a scheduled run costs what reading the front matter costs.
    """
    base = fingerprint(config, paths)
    now = clock.now()

    def planned(config: Config) -> tuple[Report, list[Publication]]:
        told: list[Publication] = []

        def needs(note: Note, chosen: list[Platform]) -> list[Platform]:
            """The platforms whose state the note's front matter and the ledger do not tell (``told``)."""
            name = note_name(note, config.root)
            left = []
            for platform in chosen:
                found = settled(note, platform, ledger, name=name, now=now, due_only=due_only, fingerprint=base)
                if found is None:
                    left.append(platform)
                else:
                    told.append(found)
            return left

        report = compose_all(paths, config, chosen, needs=needs if lazy else None)
        sources = {(c.note.path, c.platform.name): source(base, c.note, c.platform) for c in report.results}
        return report, plan(report.results, ledger, root=config.root, now=now, due_only=due_only,
                            republish=republish, language=config.language, queue=config.queue, settled=told,
                            sources=sources, order=report.order)

    report, publications = planned(config)
    learned = discover(config, {p.platform.name for p in publications if p.state in UNSETTLED}, clock)
    if learned:
        config = dataclasses.replace(config, platforms={**config.platforms, **learned})
        report, publications = planned(config)
    return Survey(report, publications, config)


def fingerprint(config: Config, paths) -> str:
    """What every note's posts depend on besides the note: notecast itself, notecast.toml, the
    templates, and the platforms' settings in the environment (secrets and the clock left out)."""
    digest = hashlib.sha256(f"notecast {__version__}\n".encode())
    if config.path and config.path.is_file():
        digest.update(config.path.read_bytes())
    folders = [config.templates, config.notes / "templates", *(Path(p) / "templates" for p in paths), bundled("templates", "templates")]
    for folder in dict.fromkeys(f for f in folders if f and f.is_dir()):
        for template in sorted(folder.glob("*.j2")):
            digest.update(template.name.encode() + b"\0" + template.read_bytes())
    secret = {n for p in platforms.registry().values() for n in p.secret_settings}
    for key, value in sorted(config.environment.items()):
        if key not in secret and key != "NOTECAST_NOW":
            digest.update(f"{key}={value}\n".encode())
    return digest.hexdigest()


def cards(results: list[Composed], config: Config, clock: Clock, *, save: bool = True) -> list[Composed]:
    """The results with their link cards: each page fetched at most once, and remembered in the card cache
    (``.notecast/cards.json`` beside the ledger) unless ``save`` is False; nothing is fetched with cards off."""
    if not config.fetch_cards() or not any(c.card_link for c in results):
        return results
    cache = Cache(config.card_cache)
    made = attach(results, Cards(cache, clock).card)
    if save:
        try:
            cache.save()
        except OSError:  # a cache that cannot be written only means the next run fetches the page again
            pass
    return made


def _with_cards(publications: list[Publication], config: Config, clock: Clock, *,
                save: bool) -> list[tuple[Publication, tuple[str, ...]]]:
    """Each publication (each has something to send), with its link cards (on its parts too), and the
    warnings making them gave."""
    wanted = [p for p in publications if p.composed.card_link]
    made = dict(zip(map(id, wanted), cards([p.composed for p in wanted], config, clock, save=save)))
    out = []
    for pub in publications:
        composed = made.get(id(pub))
        if composed is None:
            out.append((pub, ()))
            continue
        parts = tuple(dataclasses.replace(part, card=composed.posts[part.index].card) for part in pub.parts)
        out.append((dataclasses.replace(pub, composed=composed, parts=parts),
                    composed.warnings[len(pub.composed.warnings):]))
    return out


# ---- check --------------------------------------------------------------------


def check(paths, config: Config, clock: Clock, *, strict: bool = False) -> tuple[list[Problem], int, Counter]:
    """Every problem of the notes under ``paths``, once each, how many notes were looked at, and how
    many ``.md`` files the folders' rules left out (by reason).

    Notes that cannot be composed, images missing or without alt text, what fitting had to do
    (a LinkedIn post cut short), notes edited after they were published, posts in doubt, and
    (without a queue) platforms that one run would send several notes to.
    """
    ledger = Ledger(config.ledger, writable=False, clock=clock)
    found = survey(paths, config, clock, ledger)
    report = found.report
    problems = report.failures + report.findings + ledger.warnings
    for composed in report.results:
        problems.extend(Problem(str(composed.note.path), None, w, level="warning")
                        for w in composed.warnings if not w.startswith(f"{composed.note.path}:"))
    if not config.queue:
        problems.extend(_crowded(found.publications, config, clock.now()))
    if config.ledger.exists():
        for pub in found.publications:
            if pub.state in ("edited", "unknown"):
                problems.append(Problem(str(pub.file.path), None, f"{pub.platform.name}: {pub.state}: {pub.reason}",
                                        level="warning" if pub.state == "edited" else "error"))
    out: dict[str, Problem] = {}
    for problem in problems:
        if strict and problem.level == "warning":
            problem = dataclasses.replace(problem, level="error")
        out.setdefault(str(problem), problem)
    return list(out.values()), report.notes, report.skipped


def _crowded(publications: list[Publication], config: Config, now: datetime) -> list[Problem]:
    """A warning for each platform that one scheduled run would send more than one note to."""
    due: dict[str, list[str]] = {}
    for pub in publications:
        if pub.actionable and (pub.when is None or pub.when <= now):
            due.setdefault(pub.platform.name, []).append(pub.note)
    where = str(config.path or "notecast.toml")
    return [Problem(where, None, f"{name}: {len(notes)} notes are due now, so the next `notecast publish --due` "
                    f"sends them all at once ({', '.join(notes[:3])}{', …' if len(notes) > 3 else ''})",
                    'add a queue to send them one slot at a time, e.g. [queue] slots = ["Tue 09:00", "Thu 09:00"] '
                    "(see the README, section Scheduling)", level="warning")
            for name, notes in due.items() if len(notes) > 1]


# ---- publish ------------------------------------------------------------------


def publish(paths, config: Config, clock: Clock, *, chosen: tuple[str, ...] = (), due: bool = False,
            dry_run: bool = False, republish: bool = False) -> Run:
    """Plan everything, then send what is due, recording each step in the ledger.

    A dry run sends nothing and writes nothing: each publisher's session answers every
    request itself, and the outcome carries the requests as they would have been sent.
    """
    ledger = Ledger(config.ledger, writable=not dry_run, clock=clock)
    found = survey(paths, config, clock, ledger, chosen=chosen, due_only=due, republish=republish, lazy=True)
    acting = {i: p for i, p in enumerate(found.publications) if p.actionable}  # a scheduled run: mostly none
    carded = dict(zip(acting, _with_cards(list(acting.values()), found.config, clock, save=not dry_run)))
    needed = dict.fromkeys(p.platform.name for p in acting.values())
    if needed:
        ledger.check_writable()
    publishers, adapters, unset = _publishers(needed, found.config, clock, dry_run)
    outcomes: dict[int, Outcome] = {}
    refusals = []
    with ledger.lock():
        for index, (pub, warnings) in carded.items():
            name = pub.platform.name
            notice = f"{name}: error: {unset.pop(name)}" if name in unset else ""
            if blocking := found.report.blocks(pub.file, pub.platform):
                refusals.extend(blocking)
                outcomes[index] = Outcome(pub, _line(pub, "not sent", "`notecast check` finds an error in it: fix "
                                                     "that, then publish again"), ok=False, notice=notice)
                continue
            if name not in publishers:
                outcomes[index] = Outcome(pub, _line(pub, "not sent", f"{name} is not configured"), ok=False,
                                          notice=notice)
                continue
            adapter = adapters.get(name)
            if adapter:
                _describe_files(adapter, pub)
            ok, outcome = send(pub, publishers[name], ledger)
            recorded = tuple(adapter.requests) if adapter else ()
            if adapter:
                adapter.requests.clear()
            outcomes[index] = Outcome(pub, _line(pub, "dry-run" if dry_run else outcome, ""), ok, True, notice,
                                      recorded, estimate(pub) if dry_run else None, warnings)
    next_slot = next(config.queue.upcoming(clock.now())) if config.queue and due else None
    return Run(found.report.failures + list(dict.fromkeys(refusals)), found.publications, outcomes, dry_run,
               next_slot)


def _describe_files(adapter: "DryRun", pub: Publication) -> None:
    """Tell the dry run what the uploaded bytes are: an image by its file and alt text, a card's image by its page."""
    for media in pub.parts[0].media if pub.parts else ():
        try:
            adapter.know(media.path.read_bytes(), f"{media.path.as_posix()}, alt: {media.alt or '(none)'}")
        except OSError:
            pass
    for part in pub.parts:
        if part.card and part.card.thumb:
            adapter.know(part.card.thumb.data, f"the link card's image {part.card.image}")


def _publishers(names, config: Config, clock: Clock, dry_run: bool):
    """A publisher per platform with something to send; in a dry run each on a session that answers itself."""
    publishers: dict[str, Publisher] = {}
    adapters: dict[str, DryRun] = {}
    unset: dict[str, str] = {}
    if not names:
        return publishers, adapters, unset
    from .transport import DryRun  # imports requests (0.15 s): only runs with something to send need it

    session = new_session()
    for name in names:  # no account is touched where nothing is due
        platform = platforms.get(name)
        values, missing = settings_for(platform, config.platform(name), dry_run=dry_run)
        if missing:
            unset[name] = (f"{', '.join(missing)} not set; set {'it' if len(missing) == 1 else 'them'} in the "
                           "environment (in GitHub Actions: repository secrets, see README) or run with --dry-run")
            continue
        own = new_session() if dry_run else session
        publishers[name] = publisher = platform.publisher(own, values, clock)
        if dry_run:  # whatever the publisher mounted is replaced: nothing it sends can reach anything
            adapters[name] = DryRun(publisher.dry_reply)
            own.adapters.clear()
            own.mount("https://", adapters[name])
            own.mount("http://", adapters[name])
    return publishers, adapters, unset


def send(pub: Publication, publisher: Publisher, ledger: Ledger) -> tuple[bool, str]:
    """Send the pending parts of one publication in order; stop the thread at the first failure."""
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
                    ledger.record("done", part, edition=pub.edition, receipt=found, source=pub.source)
                    receipts[part.index] = found
                    continue
            ledger.record("intent", part, edition=pub.edition)
            receipt = _complete(part, publisher, ledger, pub.edition, root, parent)  # X: a duplicate may be Unknown
        except Unknown as exc:
            ledger.record("unknown", part, edition=pub.edition, error=str(exc))
            return False, f"unknown: part {part.index + 1} may have been sent: {exc}"
        except PublishError as exc:  # in doubt if a create that is unsafe to repeat may have been carried out
            ledger.record("failed", part, edition=pub.edition, error=str(exc), doubt=exc.maybe_sent)
            return False, f"failed at post {part.index + 1} of {part.count}: {exc}"
        ledger.record("done", part, edition=pub.edition, receipt=receipt, source=pub.source)
        receipts[part.index] = receipt
    first = receipts.get(0)
    return True, f"published {len(pub.parts)} post(s)" + (f": {first.url}" if first and first.url else "")


def _complete(part: Part, publisher: Publisher, ledger: Ledger, edition: str, root: Receipt | None,
              parent: Receipt | None) -> Receipt:
    """Publish one part; each :class:`Progress` the publisher answers is made durable before its next step."""
    for _ in range(STEPS):
        answer = publisher.publish(part, root=root, parent=parent)
        if not isinstance(answer, Progress):
            return answer
        ledger.record("progress", part, edition=edition, extra=answer.extra)
        part = dataclasses.replace(part, progress=answer.extra)
    raise Rejected(f"{part.note}: post {part.index + 1} of {part.count}: the {part.platform} publisher was not done "
                   f"after {STEPS} steps", hint="this is a bug in the platform's publisher; please report it")


def estimate(pub: Publication) -> float | None:
    """What sending the publication's pending parts costs on its platform, or None where posting is free."""
    prices = [pub.platform.cost(part) for part in pub.parts if part.index in pub.pending]
    known = [p for p in prices if p is not None]
    return sum(known) if known else None


def _line(pub: Publication, outcome: str, reason: str) -> str:
    return f"{pub.note} → {pub.platform.name}: {outcome}" + (f" ({reason})" if reason else "")


def new_session() -> "requests.Session":
    """A session with notecast's User-Agent, for one command's requests."""
    import requests  # 0.15 s to import: check and status need it only when a server is asked

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


# ---- status and resolve -------------------------------------------------------


def status(paths, config: Config, clock: Clock, *, chosen: tuple[str, ...] = ()) -> tuple[list[Problem], list[Publication]]:
    """Per note and platform: drafted, scheduled, queued, due, partial, published, failed, unknown or edited."""
    ledger = Ledger(config.ledger, writable=False, clock=clock)
    found = survey(paths, config, clock, ledger, chosen=chosen, due_only=True, lazy=True)
    return found.report.failures, found.publications


def resolve(path, config: Config, clock: Clock, *, platform: str, part: int | None = None,
            sent: str | None = None) -> tuple[list[Problem], str]:
    """A person says whether a post in doubt was made, and the ledger records it.

    ``sent`` (an id or URL) records the post as done, so the next part replies to it;
    without it the post is recorded as failed, so the next run sends it.
    """
    ledger = Ledger(config.ledger, clock=clock)
    found = survey([path], config, clock, ledger, chosen=(platform,))
    if not found.report.results:
        return found.report.failures, ""
    if len(found.publications) != 1:
        raise UsageError(f"{path}: give one note, not a folder of {len(found.publications)}; see `notecast status`")
    (pub,) = found.publications
    doubt = [i for i in pub.interrupted if i not in pub.done]
    index = part - 1 if part else (doubt[0] if doubt else None)
    if index is None or not 0 <= index < len(pub.parts):
        where = f"post {part} does not exist: the thread has {len(pub.parts)}" if part else "no post is in doubt"
        raise UsageError(f"{pub.note} → {platform}: {where}; see `notecast status`")
    chosen = pub.parts[index]
    with ledger.lock():
        if sent:
            url = sent if sent.startswith(("http://", "https://")) else ""
            ident = sent.rstrip("/").rsplit("/", 1)[-1] if url else sent
            ledger.record("done", chosen, edition=pub.edition, receipt=Receipt(ident, url, {"resolved": "by hand"}),
                          source=pub.source)
            outcome = f"recorded as sent ({sent})"
        else:
            ledger.record("failed", chosen, edition=pub.edition, error="marked not sent by hand; the next run sends it")
            outcome = "recorded as not sent: the next `notecast publish` sends it"
    return found.report.failures, f"{pub.note} → {platform}: post {index + 1} of {len(pub.parts)} {outcome}"
