"""A note's references to other notes of its vault, resolved before rendering.

``![[Note]]`` brings the whole note in (without its front matter),
``![[Note#Heading]]`` that heading's section (up to the next heading of the
same or a higher level), ``![[Note#^id]]`` the paragraph or list item that
ends with ``^id``: their blocks are inserted in place of the embed, so every
platform renders them. Embeds inside embedded notes are followed
``MAX_DEPTH`` deep; a cycle, a name found nowhere or a missing heading is a
warning, and the embed keeps its name as text. ``[[Note]]`` becomes a link to
the note's page when ``page`` says it has one.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable

from . import document as d
from .errors import NoteError, Problem
from .notes import body
from .vault import Vault

MAX_DEPTH = 3  # embeds inside embeds inside embeds: enough for real vaults, short of any blow-up


def resolve(doc: d.Document, path: Path, vault: Vault, *,
            page: Callable[[Path], str | None] | None = None) -> tuple[d.Document, list[Problem]]:
    """``doc`` (the body of the note at ``path``) with its embeds brought in and its wikilinks made links
    where ``page`` gives a note's address; a warning for each embed that could not be resolved. A note with
    neither is ``doc`` itself."""
    if not any(isinstance(node, d.Embed) or (page and isinstance(node, d.NoteLink)) for node in doc.nodes):
        return doc, []
    weaver = _Weaver(vault, page, str(path), max(doc.footnotes, default=0))
    blocks = weaver.blocks(doc.blocks, (path.resolve(),), None)
    footnotes = {n: tuple(weaver.blocks(b, (path.resolve(),), None)) for n, b in doc.footnotes.items()}
    return d.Document(tuple(blocks), {**footnotes, **weaver.footnotes}, doc.anchors), weaver.problems


class _Weaver:
    """Walks a Document's blocks, replacing embeds and wikilinks; collects what went wrong."""

    def __init__(self, vault: Vault, page: Callable[[Path], str | None] | None, where: str, footnotes: int = 0):
        self.vault, self.page, self.where = vault, page, where
        self.last_footnote = footnotes  # embedded notes' footnotes are numbered after the note's own
        self.problems: list[Problem] = []
        self.footnotes: dict[int, tuple[d.Block, ...]] = {}
        self.pages: dict[Path, str | None] = {}

    def blocks(self, blocks, chain: tuple[Path, ...], at: int | None) -> list[d.Block]:
        """The blocks with embeds resolved; ``chain`` is the notes being embedded (to find cycles),
        ``at`` the line of the outermost embed (problems point there), None in the note itself."""
        out: list[d.Block] = []
        for block in blocks:
            out.extend(self.block(block, chain, at))
        return out

    def block(self, block: d.Block, chain: tuple[Path, ...], at: int | None) -> list[d.Block]:
        if isinstance(block, d.Paragraph):
            return self.paragraph(block, chain, at)
        if isinstance(block, d.Heading):
            return [dataclasses.replace(block, spans=self.spans(block.spans, chain))]
        if isinstance(block, d.List):
            items = tuple(dataclasses.replace(item, blocks=tuple(self.blocks(item.blocks, chain, at)))
                          for item in block.items)
            return [dataclasses.replace(block, items=items)]
        if isinstance(block, (d.Quote, d.Callout)):
            return [dataclasses.replace(block, blocks=tuple(self.blocks(block.blocks, chain, at)))]
        if isinstance(block, d.Table):
            rows = tuple(tuple(self.spans(cell, chain) for cell in row) for row in block.rows)
            return [dataclasses.replace(block, rows=rows)]
        return [block]

    def paragraph(self, para: d.Paragraph, chain: tuple[Path, ...], at: int | None) -> list[d.Block]:
        """A paragraph split around its embeds, the embedded blocks between the pieces."""
        out: list[d.Block] = []
        spans: list[d.Inline] = []
        for span in para.spans:
            inserted = self.embed(span, chain, at) if isinstance(span, d.Embed) else None
            if inserted is None:
                spans.append(span)
                continue
            out.extend(self._piece(spans, para, chain))
            out.extend(inserted)
            spans = []
        if not out:  # nothing was brought in: the paragraph as it was, its wikilinks resolved
            return [dataclasses.replace(para, spans=self.spans(para.spans, chain))]
        return out + self._piece(spans, para, chain)

    def _piece(self, spans: list[d.Inline], para: d.Paragraph, chain: tuple[Path, ...]) -> list[d.Block]:
        """What is left of a paragraph between embeds, if anything but white space and line breaks."""
        kept = d.tidy(spans)
        return [d.Paragraph(self.spans(kept, chain), para.line)] if kept else []

    def spans(self, spans, chain: tuple[Path, ...]) -> tuple[d.Inline, ...]:
        """Wikilinks as links where the note has a page; an embed where blocks cannot go, as its name."""
        out: list[d.Inline] = []
        for span in spans:
            if isinstance(span, d.NoteLink):
                url = self.url(span.target)
                out.append(d.Link(url, span.children) if url else span)
            elif isinstance(span, (d.Styled, d.Link)):
                out.append(dataclasses.replace(span, children=self.spans(span.children, chain)))
            else:
                out.append(span)
        return tuple(out)

    def url(self, target: str) -> str | None:
        """The page of the note a wikilink names, if it is in the vault and has one."""
        if self.page is None:
            return None
        found = self.vault.lookup(target.split("#")[0])
        if found is None or found.suffix.lower() != ".md":
            return None
        if found not in self.pages:
            self.pages[found] = self.page(found)
        return self.pages[found]

    # ---- embeds -----------------------------------------------------------------------------------

    def embed(self, span: d.Embed, chain: tuple[Path, ...], at: int | None) -> list[d.Block] | None:
        """The blocks ``span`` brings in, or None (and a warning) when it cannot be resolved."""
        line = at if at is not None else span.line
        name, _, sub = span.target.partition("#")
        found = self.vault.lookup(name) if name else chain[-1]
        if found is None:
            return self.warn(line, f"embedded note {span.target!r} not found in the vault",
                             "check the name (Obsidian's [[ ]] suggestions help), or remove the embed")
        if found.suffix.lower() != ".md":
            return self.warn(line, f"embedded file {span.target!r} is not a note or an image, and is not posted",
                             "link to it instead, or remove the embed")
        real = found.resolve()
        if real in chain:
            loop = " → ".join(p.stem for p in (*chain, real))
            return self.warn(line, f"embedded note {span.target!r} embeds itself ({loop}); shown by name",
                             "remove one of the embeds")
        if len(chain) > MAX_DEPTH:
            return self.warn(line, f"embedded note {span.target!r} is more than {MAX_DEPTH} embeds deep; shown by name",
                             "embed the deeper note directly, or paste its text")
        if not (self.vault.follow_external or real.is_relative_to(self.vault.real_root)):
            return self.warn(line, f"embedded note {span.target!r} is a symbolic link out of the notes folder",
                             "move it into the notes folder, or set follow_external_symlinks = true in notecast.toml")
        try:
            text, first_line = body(found)
        except NoteError as exc:
            return self.warn(line, f"embedded note {span.target!r} cannot be read: {exc.problems[0].message}",
                             "fix that note, or remove the embed")
        embedded = d.parse(text, first_line)
        chosen = _section(embedded, sub)
        if chosen is None:
            what = "block" if sub.startswith("^") else "heading"
            return self.warn(line, f"embedded note {span.target!r}: no {what} {sub.lstrip('^')!r} in {found.name}",
                             f"check the {what} in that note, or embed the whole note with ![[{name}]]")
        inner = self.blocks(chosen, (*chain, real), line)
        numbers: dict[int, int] = {}
        return [self._moved(b, line, found, embedded, numbers) for b in inner]

    def _moved(self, block, line: int, source: Path, embedded: d.Document, numbers: dict[int, int]):
        """A block of another note as part of this one: its lines are the embed's line, its relative images
        are found from the other note's folder, its footnotes are renumbered after this note's."""
        def change(node):
            if isinstance(node, d.Image) and not node.embed and "/" in node.src and "://" not in node.src \
                    and not node.src.startswith("/"):
                moved = (source.parent / node.src)
                try:
                    node = dataclasses.replace(node, src="/" + moved.relative_to(self.vault.root).as_posix())
                except ValueError:
                    pass
            if isinstance(node, d.FootnoteRef) and node.number in embedded.footnotes:
                if node.number not in numbers:
                    self.last_footnote += 1
                    numbers[node.number] = self.last_footnote
                    self.footnotes[self.last_footnote] = tuple(_rebuild(_relined(b, line), change)
                                                               for b in embedded.footnotes[node.number])
                return d.FootnoteRef(numbers[node.number])
            return node
        return _rebuild(_relined(block, line), change)

    def warn(self, line: int, message: str, hint: str) -> None:
        self.problems.append(Problem(self.where, line, message, hint, "warning"))
        return None


def _section(doc: d.Document, sub: str) -> list[d.Block] | None:
    """The blocks ``sub`` names: all ("") , a block (``^id``), or a heading's section (``A#B``: B inside A)."""
    blocks = list(doc.blocks)
    if not sub:
        return blocks
    if sub.startswith("^"):
        wanted = sub[1:].strip()
        found = doc.anchors.get(wanted) or next((b for k, b in doc.anchors.items() if k.lower() == wanted.lower()), None)
        return [found] if found is not None else None
    for part in (p for p in sub.split("#") if p.strip()):
        start = next((i for i, b in enumerate(blocks) if isinstance(b, d.Heading)
                      and _heading_key(d.plain(b.spans)) == _heading_key(part)), None)
        if start is None:
            return None
        level = blocks[start].level
        end = next((j for j in range(start + 1, len(blocks)) if isinstance(blocks[j], d.Heading)
                    and blocks[j].level <= level), len(blocks))
        blocks = blocks[start:end]
    return blocks


def _heading_key(text: str) -> str:
    """A heading as links name it: Obsidian leaves out # | ^ : % [ ] and \\ and ignores case and spacing."""
    return " ".join(re.sub(r"[#|^:%\[\]\\]", " ", text).split()).casefold()


def _relined(node, line: int):
    """``node`` with every line number set to ``line``."""
    return _rebuild(node, lambda n: dataclasses.replace(n, line=line) if hasattr(n, "line") else n)


def _rebuild(node, change: Callable):
    """``node`` rebuilt bottom-up, ``change`` applied to every block and span in it."""
    if isinstance(node, tuple):
        return tuple(_rebuild(x, change) for x in node)
    if not dataclasses.is_dataclass(node):
        return node
    fields = {f.name: _rebuild(getattr(node, f.name), change) for f in dataclasses.fields(node)
              if isinstance(getattr(node, f.name), tuple)}
    return change(dataclasses.replace(node, **fields) if fields else node)
