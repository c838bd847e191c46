"""From files to fitted posts: read, parse once, render and fit for every platform.

This is the whole pipeline up to (not including) publishing. ``render``,
``check``, ``preview`` and ``publish`` all start here, and every problem of
every note is collected rather than stopping at the first.
"""
from __future__ import annotations

import dataclasses
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import document, platforms, transclude, versions
from .cards import Card, Unavailable
from .config import Config
from .errors import NoteError, Problem, UsageError
from .fit import fit
from .notes import Note, read
from .platforms import Platform
from .media import Media, gather
from .render import CALLOUT_ICONS, render
from .vault import Vault


@dataclass(frozen=True)
class Post:
    """One post exactly as it will be sent."""

    text: str
    length: int
    limit: int
    media: tuple[Media, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. Bluesky facets
    card: Card | None = None  # the link card, once fetched (see :func:`attach`)


@dataclass(frozen=True)
class Composed:
    """A note made ready for one platform."""

    note: Note
    platform: Platform
    posts: tuple[Post, ...]
    warnings: tuple[str, ...] = ()
    comments: tuple[Post, ...] = ()
    url: str | None = None
    source: str = "body"  # where this platform's text comes from (per-platform wording)
    card_link: tuple[int, str] | None = None  # (post index, URL) that should show a link card


def find(paths: Iterable[str | Path], *, follow_external: bool = False, exclude: Iterable[str] = (),
         notes: Path | None = None, templates: Iterable[Path] = (), problems: list[Problem] | None = None,
         skipped: Counter | None = None) -> Iterator[tuple[Path, str, Vault]]:
    """Each Markdown note under ``paths`` as (note, its real path, its vault); folders skip what
    :class:`Vault` skips.

    A note given by name is never skipped; one that is a symbolic link out of its folder is, with
    a problem in ``problems``, unless ``follow_external``. ``skipped`` counts the ``.md`` files
    left out, by reason; ``exclude`` patterns are relative to the ``notes`` folder.
    """
    problems = [] if problems is None else problems
    skipped = Counter() if skipped is None else skipped
    vaults: dict[Path, Vault] = {}

    def vault_of(root: Path) -> Vault:
        """One Vault per folder, so its files are listed once."""
        if root not in vaults:
            vaults[root] = Vault(root, exclude=exclude, base=notes, templates=templates, follow_external=follow_external)
        return vaults[root]

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if vault_of(path.parent).outside(path, problems):
                continue
            inside = notes is not None and os.path.abspath(path).startswith(os.path.join(os.path.abspath(notes), ""))
            yield path, os.path.realpath(path), vault_of(notes if inside else path.parent)  # names in it resolve across the notes folder
        elif path.is_dir():
            vault = vault_of(path)
            found, left = vault.notes(problems)
            skipped.update(left)
            yield from ((note, real, vault) for note, real in found)
        else:
            raise UsageError(f"{raw}: error: no such file or folder; give a note or a folder of notes")


def targets(note: Note, config: Config, chosen: tuple[str, ...] = (),
            configured: dict[str, Platform] | None = None, enabled: tuple[str, ...] | None = None) -> list[Platform]:
    """The configured platforms a note goes to: --platform, else its own list, else every enabled one.

    ``configured``: the platforms as ``config`` sets them, kept across notes (a note without settings
    of its own for a platform gets that one); ``enabled``: the names of the enabled ones, if known.
    """
    names = chosen or note.settings.platforms or (enabled if enabled is not None else
                                                  config.enabled(tuple(platforms.registry())))
    configured = {} if configured is None else configured
    out = []
    for name in names:
        own = note.settings.overrides.get(name)
        if not own and name in configured:
            out.append(configured[name])
            continue
        platform = platforms.get(name).configure({**config.platform(name), **(own or {})})
        if not own:
            configured[name] = platform
        out.append(platform)
    return out


def canonical_url(note: Note, config: Config, vault: Vault) -> str | None:
    """The note's page: ``canonical_url`` filled in, its ``path`` the note's within the vault (both real)."""
    if not config.canonical_url:
        return None
    try:
        rel = Path(note.real).relative_to(vault.real_root).with_suffix("")
    except ValueError:
        rel = Path(note.path.stem)
    return config.canonical_url.format(slug=note.slug, stem=note.path.stem, path=rel.as_posix())


def pages(config: Config, vault: Vault) -> Callable[[Path], str | None] | None:
    """Where a note of the vault is published (its canonical URL), for wikilinks to it; None without
    canonical_url. A note the folder's rules leave out, or that cannot be read, has no page."""
    if not config.canonical_url:
        return None

    def page(path: Path) -> str | None:
        if vault.why_skipped(path):
            return None
        try:
            return canonical_url(read(path, timezone=config.timezone), config, vault)
        except NoteError:
            return None
    return page


def compose(note: Note, doc: document.Document, platform: Platform, config: Config, *, url: str | None,
            folders: tuple[Path, ...], media: tuple[Media, ...] = (), notices: tuple[str, ...] = (),
            source: str = "body") -> Composed:
    """Render and fit one note (the Document of its text for this platform) for one platform: ``url`` is the
    note's canonical URL, ``folders`` the user's template folders."""
    draft = render(note, doc, platform, media=media, folders=folders, exclude_tags=config.exclude_tags, url=url,
                   unicode_bold=str(config.platform(platform.name).get("bold", "")).lower() == "unicode")
    fitted = fit(draft.text, platform, where=str(note.path), read_more=url, max_posts=config.max_thread_posts)

    def post(text: str, media: tuple[Media, ...] = ()) -> Post:
        final = platform.finish(text)
        return Post(final.pop("text"), platform.measure(text), platform.limit, media, final)

    posts = tuple(post(text, draft.media if i == 0 else ()) for i, text in enumerate(fitted.posts))
    comments = tuple(post(text) for text in fitted.comments)
    link, why = card_link(note, doc, platform, fitted.posts, posts)
    return Composed(note, platform, posts, notices + draft.warnings + fitted.warnings + why, comments, url, source,
                    link)


def version(note: Note, doc: document.Document, media: tuple[Media, ...], platform: Platform, vault: Vault,
            config: Config, report: "Report") -> tuple[versions.Version, tuple[Media, ...]]:
    """The text one platform gets of a note, and its images: the front matter's ``text`` for it, or the
    body with its platform callouts selected. Problems only this version has go to ``report``."""
    known = frozenset(platforms.registry())
    text = note.settings.overrides.get(platform.name, {}).get("text")
    if isinstance(text, str):
        line = note.lines.get(f"notecast.{platform.name}") or note.lines.get("notecast") or 1
        chosen = versions.Version(document.parse(text, line), f"front matter notecast.{platform.name}.text")
        own, findings = gather(note, chosen.document, vault, follow_external=config.follow_external_symlinks)
        report.findings.extend(dataclasses.replace(p, platform=platform.name) for p in findings)
        return chosen, own
    chosen = versions.select(doc, platform.name, known)
    if chosen.document is doc:
        return chosen, media
    if doc.blocks and not chosen.document.blocks:
        report.findings.append(Problem(str(note.path), None, f"{platform.name}: nothing of the body is left for "
                                       f"{platform.title} after its platform callouts", "check the callouts' "
                                       "platform names, or give it text of its own", "warning", platform.name))
    kept = {image.line for image in chosen.document.images}  # images in dropped callouts go with them
    return chosen, tuple(m for m in media if m.line in kept)




def card_link(note: Note, doc: document.Document, platform: Platform, texts: list[str],
              posts: tuple[Post, ...]) -> tuple[tuple[int, str] | None, tuple[str, ...]]:
    """Which post shows a link card, for which URL (or None), and a warning if the note's choice cannot be shown.

    Only where the platform's client makes cards. The URL is the note's ``card:``, else its first web link; the
    post is the first whose text carries it (for a ``card:`` in no post, the first post). A post has one embed:
    one with images shows no card.
    """
    wanted = note.settings.card
    if not platform.cards or wanted is False:
        return None, ()
    url = wanted if isinstance(wanted, str) else next(
        (s.url for s in doc.nodes if isinstance(s, document.Link)
         and s.url.lower().startswith(("http://", "https://"))), None)
    if url is None:
        return None, ()
    index = next((i for i, text in enumerate(texts) if url in text), 0 if wanted else None)
    if index is None:
        return None, ()
    if posts[index].media:
        chosen = (f"notecast.card {url} is not shown: post {index + 1} has images, and a post shows images or "
                  "a card, not both",) if wanted else ()
        return None, chosen
    return (index, url), ()


def attach(results: Iterable[Composed], lookup: Callable[[str], Card]) -> list[Composed]:
    """Each result with its link card from ``lookup(url)`` on the chosen post.

    A card that cannot be made (``Unavailable``) is a warning and the post goes without it; a card whose
    image cannot be used goes without the image, with a warning too.
    """
    out = []
    for c in results:
        if c.card_link is None:
            out.append(c)
            continue
        index, url = c.card_link
        try:
            card = lookup(url)
        except Unavailable as exc:
            out.append(dataclasses.replace(c, warnings=c.warnings + (
                f"no link card for {url}: {exc}; the post goes without one",)))
            continue
        posts = list(c.posts)
        posts[index] = dataclasses.replace(posts[index], card=card)
        warnings = (f"the link card for {url} goes without an image: {card.problem}",) if card.problem else ()
        out.append(dataclasses.replace(c, posts=tuple(posts), warnings=c.warnings + warnings))
    return out


@dataclass
class Report:
    """What a set of notes became.

    ``failures`` stopped a note (or one of its platforms) from being composed;
    ``findings`` did not (images missing or without alt text): ``check``
    reports them by their level, each result carries them as warnings, and
    ``publish`` refuses what an error-level finding concerns.
    """

    results: list[Composed] = field(default_factory=list)
    failures: list[Problem] = field(default_factory=list)
    findings: list[Problem] = field(default_factory=list)
    notes: int = 0  # how many notes were looked at, good or bad
    order: list[tuple[Path, tuple[str, ...]]] = field(default_factory=list)  # each note and its platforms as found
    skipped: Counter = field(default_factory=Counter)  # .md files left out of the folders read, by reason

    def blocks(self, note: Note, platform: Platform) -> list[Problem]:
        """The error-level findings that forbid publishing this note on this platform."""
        path = str(note.path)
        return [p for p in self.findings if p.level == "error" and p.path == path and p.platform in ("", platform.name)]


def compose_all(paths: Iterable[str | Path], config: Config, chosen: tuple[str, ...] = (),
                needs: Callable[[Note, list[Platform]], list[Platform]] | None = None) -> Report:
    """Everything the notes under ``paths`` become, and every problem found on the way.

    With ``needs``, a note is composed only for the platforms ``needs(note, its platforms)`` returns (the
    caller knows the others' state), and a note it returns none for is not parsed at all: a scheduled run
    reads front matter only."""
    known = tuple(platforms.registry())
    for name in chosen:  # an unknown --platform is bad usage (exit 2), not a problem of each note
        platforms.get(name)
    report = Report()
    results, problems = report.results, report.failures
    configured: dict[str, Platform] = {}
    enabled = config.enabled(known)
    folders: dict[Path, tuple[Path, ...]] = {}  # each vault's template folders (the user's), looked for once
    for path, real, vault in find(paths, follow_external=config.follow_external_symlinks, exclude=config.exclude,
                            notes=config.notes, templates=(config.templates,) if config.templates else (),
                            problems=problems, skipped=report.skipped):
        report.notes += 1
        try:
            note = read(path, timezone=config.timezone, platforms=known, real=real)
        except NoteError as exc:
            problems.extend(exc.problems)
            continue
        try:
            chosen_platforms = targets(note, config, chosen, configured, enabled)
        except UsageError as exc:
            problems.append(Problem(str(path), note.lines.get("notecast"), str(exc)))
            continue
        report.order.append((note.path, tuple(p.name for p in chosen_platforms)))
        if needs is not None:
            chosen_platforms = needs(note, chosen_platforms)
            if not chosen_platforms:
                continue
        doc, embedded = transclude.resolve(document.parse(note.body, note.body_line), path, vault,
                                           page=pages(config, vault))
        media, findings = gather(note, doc, vault, follow_external=config.follow_external_symlinks)
        findings = embedded + findings
        report.findings.extend(findings)
        notices = tuple(f"{p.path}:{p.line}: {p.message}" for p in findings)
        report.findings.extend(versions.findings(str(path), doc, frozenset(known), frozenset(CALLOUT_ICONS)))
        url = canonical_url(note, config, vault)
        if vault.root not in folders:
            folders[vault.root] = tuple(f for f in (config.templates, vault.root / "templates") if f and f.is_dir())
        for platform in chosen_platforms:
            try:
                own, own_media = version(note, doc, media, platform, vault, config, report)
                composed = compose(note, own.document, platform, config, url=url, folders=folders[vault.root],
                                   media=own_media, notices=notices, source=own.source)
            except NoteError as exc:
                problems.extend(exc.problems)
                continue
            results.append(composed)
            if composed.comments:  # shown by render; nothing can post them yet, so the rest would be lost
                report.findings.append(Problem(
                    str(path), note.lines.get("notecast"),
                    f"{platform.name}: overflow \"comment\" would post only the first {len(composed.posts)} of "
                    f"{len(composed.posts) + len(composed.comments)} parts: posting comments needs "
                    f"{platform.title}'s restricted API, which notecast does not use yet",
                    f"set overflow = \"truncate\" (or \"error\") under [platforms.{platform.name}] or in the note's "
                    f"notecast: {{{platform.name}: {{overflow: truncate}}}}", platform=platform.name))
    return report
