"""Per-platform wording inside a note: which text of a note each platform gets.

Written in Obsidian's own syntax, so the note still reads well there:

- ``> [!linkedin]`` holds text for LinkedIn only; ``> [!linkedin,mastodon]`` for both (names are
  separated by commas); ``> [!not-x]`` for every platform but X. A collapsed callout
  (``> [!linkedin]-``) works the same. On a platform it is for, the callout's content stands in
  place as ordinary blocks (an explicit title becomes its first line; no icon); elsewhere it is dropped.
- Front matter ``notecast: {<platform>: {text: ...}}`` replaces the whole body for that platform.

The selection is a pure function of the Document and the platform's name: the note is parsed once.
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass

from . import document as d
from .errors import Problem


@dataclass(frozen=True)
class Scope:
    """The platforms a callout is for: those named, or (when only exclusions are named) all but those."""

    named: frozenset[str]
    excluded: frozenset[str]

    def includes(self, platform: str) -> bool:
        return platform in self.named if self.named else platform not in self.excluded


def scope(kind: str, known: frozenset[str]) -> Scope | None:
    """The scope of a callout type such as ``linkedin,mastodon`` or ``not-x``; None for an ordinary callout."""
    names = [n.strip() for n in kind.split(",")]
    plain = [n.removeprefix("not-") for n in names]
    if not all(p in known for p in plain):
        return None
    return Scope(frozenset(n for n in names if not n.startswith("not-")),
                 frozenset(p for n, p in zip(names, plain) if n.startswith("not-")))


@dataclass(frozen=True)
class Version:
    """What one platform gets of a note: its Document and where the text comes from (for previews)."""

    document: d.Document
    source: str


def select(doc: d.Document, platform: str, known: frozenset[str]) -> Version:
    """The note's body as ``platform`` gets it: platform callouts opened in place or dropped."""
    if not any(scope(callout.kind, known) for callout in doc.callouts):
        return Version(doc, "body")  # no platform callout: every platform gets the body as it is
    counts = {"kept": 0}
    blocks = _blocks(doc.blocks, platform, known, counts)
    if not counts["kept"] and len(blocks) == len(doc.blocks):
        return Version(doc, "body")
    kept = counts["kept"]
    label = f"body, {kept} platform callout{'s' if kept != 1 else ''}" if kept else "body without its platform callouts"
    return Version(dataclasses.replace(doc, blocks=tuple(blocks)), label)


def _blocks(blocks, platform: str, known: frozenset[str], counts: dict) -> list[d.Block]:
    out: list[d.Block] = []
    for block in blocks:
        found = scope(block.kind, known) if isinstance(block, d.Callout) else None
        if found is None:
            out.append(_inside(block, platform, known, counts))
        elif found.includes(platform):
            counts["kept"] += 1
            if block.title != block.kind.capitalize():  # an explicit title is the author's text
                out.append(d.Paragraph((d.Text(block.title),), block.line))
            out.extend(_blocks(block.blocks, platform, known, counts))
    return out


def _inside(block: d.Block, platform: str, known: frozenset[str], counts: dict) -> d.Block:
    """A block with the platform callouts nested in it (in a quote, a callout or a list item) selected too."""
    if isinstance(block, (d.Quote, d.Callout)):
        return dataclasses.replace(block, blocks=tuple(_blocks(block.blocks, platform, known, counts)))
    if isinstance(block, d.List):
        items = tuple(dataclasses.replace(i, blocks=tuple(_blocks(i.blocks, platform, known, counts)))
                      for i in block.items)
        return dataclasses.replace(block, items=items)
    return block


def findings(path: str, doc: d.Document, known: frozenset[str], ordinary: frozenset[str]) -> list[Problem]:
    """Platform callouts that name no known platform (a typo makes them show everywhere), with the closest name."""
    out = []
    for block in doc.callouts:
        if block.kind in ordinary or scope(block.kind, known):
            continue
        for name in (n.strip().removeprefix("not-") for n in block.kind.split(",")):
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
            if name not in known and (close or "," in block.kind or block.kind.startswith("not-")):
                hint = f"did you mean [!{block.kind.replace(name, close[0])}]?" if close else \
                    f"name platforms among: {', '.join(sorted(known))}"
                out.append(Problem(path, block.line, f"callout [!{block.kind}] names no known platform {name!r}; "
                                   "it shows on every platform as an ordinary callout", hint, "warning"))
                break
    return out
