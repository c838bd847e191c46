"""Fitting a rendered draft to a platform: one post, a thread, or a clear error.

A draft is plain text in which blank lines separate blocks, newlines separate
lines (list items), and a form feed on its own line forces a new post. The
splitter breaks between blocks first, then lines, then sentences, then words,
and only inside a word that is longer than a whole post (long CJK runs) at
grapheme-cluster boundaries. URLs, mentions, hashtags and marked links are
never cut. Length is only ever measured by the platform itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .errors import NoteError
from .platforms import Platform
from .richtext import LINK_END, LINK_START
from .text import graphemes

POST_BREAK = "\n\f\n"
SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+")
WORD_GAP = re.compile(r"\s+")
ATOM = re.compile(
    rf"{LINK_START}[^{LINK_END}]*{LINK_END}|(?:https?://|www\.)\S+|[#@＃][^\s]+|\S+\.[a-z]{{2,}}/\S*", re.I)
HASHTAG_LINE = re.compile(r"^(?:[#＃][^\s#]+\s*)+$")
NUMBERING = "{i}/{n}"
KEEP_WITH_NEXT = re.compile(r"^(?![•◦▪>“]|\d+\. )[^\n]{1,100}(?<![.!?…。！？\"”’)\]])$")


@dataclass(frozen=True)
class Fitted:
    """The posts a draft became, in order, and what the reader should know."""

    posts: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()  # overflow sent as comments (policy "comment")


def fit(draft: str, platform: Platform, *, where: str = "", read_more: str | None = None) -> Fitted:
    """Fit ``draft`` to ``platform`` by its overflow policy; never return a post over the limit."""
    draft = _tidy(draft)
    if not draft.replace("\f", "").strip():
        raise NoteError.at(where, None, f"{platform.name}: the rendered post is empty",
                           "check the note's body and the template")
    sections = [s.strip("\n") for s in draft.split("\f") if s.strip()]
    whole = "\n\n".join(sections)
    if len(sections) == 1 and platform.fits(whole):
        return Fitted((whole,))
    policy = platform.overflow
    if policy == "thread" and platform.threads:
        return Fitted(tuple(_thread(sections, platform, where)))
    if policy == "error":
        raise NoteError.at(where, None,
                           f"{platform.name}: the post is {platform.measure(whole)} characters, over the limit of {platform.limit}",
                           f"shorten the note, or set notecast: {{{platform.name}: {{overflow: truncate}}}}")
    if policy == "comment":
        parts = _split(whole, platform.fits, where, platform.name)
        return Fitted((parts[0],), (f"{platform.name}: the post continues in {len(parts) - 1} comment(s)",), tuple(parts[1:]))
    return _truncate(whole, platform, where, read_more)


def _tidy(draft: str) -> str:
    draft = "\n".join(line.rstrip() for line in draft.replace("\r\n", "\n").split("\n"))
    draft = re.sub(r"\n{3,}", "\n\n", draft)
    return draft.strip()


def _thread(sections: list[str], platform: Platform, where: str) -> list[str]:
    numbering = platform.numbering
    if numbering == "off":
        posts: list[str] = []
        for section in sections:
            posts.extend(_split(section, platform.fits, where, platform.name))
        return posts
    label = NUMBERING if numbering == "on" else numbering
    count = 1
    for _ in range(6):  # the count's width settles within a couple of rounds
        widest = " " + label.format(i=count, n=count)
        posts = []
        for section in sections:
            posts.extend(_split(section, lambda t, w=widest: platform.fits(t + w), where, platform.name))
        if len(posts) == 1:
            return posts
        if len(str(len(posts))) <= len(str(count)):
            break
        count = len(posts)
    n = len(posts)
    numbered = [f"{p} {label.format(i=i, n=n)}" for i, p in enumerate(posts, 1)]
    for text in numbered:
        if not platform.fits(text):  # cannot happen while labels widen monotonically; guard anyway
            raise NoteError.at(where, None, f"{platform.name}: numbering made a post too long", "set numbering = off")
    return numbered


def _truncate(text: str, platform: Platform, where: str, read_more: str | None) -> Fitted:
    body, tail = _split_tail(text)
    ending = "…"
    if read_more:
        ending += f"\n\nRead the full note: {read_more}"
    if tail:
        ending += "\n\n" + tail

    def fits(candidate: str) -> bool:
        return platform.fits(candidate.rstrip() + ending)

    packer = _Packer(fits, where, platform.name, fill=True)
    packer.add(body, 0, "")
    first = packer.done()[0].rstrip()
    first = re.sub(r"[\s.,;:!?…-]+$", "", first)
    kept = platform.measure(first)
    post = first + ending
    total = platform.measure(text)
    hint = "" if read_more else "; set canonical_url in notecast.toml to link the full note"
    warning = (f"{platform.name}: the note is {total} characters, over the limit of {platform.limit}; "
               f"cut to {platform.measure(post)} after {_last_words(first)!r}{hint}")
    return Fitted((post,), (warning,))


def _last_words(text: str) -> str:
    words = text.split()
    return ("… " if len(words) > 6 else "") + " ".join(words[-6:])


def _split_tail(text: str) -> tuple[str, str]:
    """Separate a closing block of hashtags, which must stay with the last post."""
    head, sep, last = text.rpartition("\n\n")
    if sep and HASHTAG_LINE.match(last.strip()):
        return head, last.strip()
    return text, ""


def _split(text: str, fits: Callable[[str], bool], where: str, name: str) -> list[str]:
    """Greedy packing, trying coarse boundaries before fine ones."""
    body, tail = _split_tail(text)
    packer = _Packer(fits, where, name)
    packer.add(body, 0, "")
    posts = packer.done()
    if tail:
        last = posts[-1] if posts else ""
        together = f"{last}\n\n{tail}" if last else tail
        if fits(together):
            posts[-1:] = [together]
        else:
            kept, moved = _last_sentence(last)
            if kept and fits(f"{moved}\n\n{tail}"):
                posts[-1:] = [kept, f"{moved}\n\n{tail}"]
            else:
                tail_posts = _Packer(fits, where, name)
                tail_posts.add(tail, 3, "")  # hashtags split between words only
                posts.extend(tail_posts.done())
    return posts


def _last_sentence(text: str) -> tuple[str, str]:
    head, sep, last = text.rpartition("\n")
    pieces = SENTENCE_END.split(last)
    if len(pieces) > 1:
        cut = last.rfind(pieces[-1])
        return (head + sep + last[:cut]).rstrip(), pieces[-1]
    return head.rstrip(), last


class _Packer:
    """Fills posts greedily; a unit that does not fit alone is split one level finer.

    ``add(unit, level)`` splits a unit that is too long by ``LEVELS[level]``:
    the whole text at level 0 into blocks, blocks into lines, lines into
    sentences, sentences into words, and words into grapheme clusters.
    """

    LEVELS = ("\n\n", "\n", "sentence", "word", "grapheme")

    def __init__(self, fits: Callable[[str], bool], where: str, name: str, *, fill: bool = False):
        self.fits, self.where, self.name = fits, where, name
        self.fill = fill  # truncating: fill the first post down to whole sentences
        self.posts: list[str] = []
        self.current = ""

    def add(self, unit: str, level: int, sep: str) -> None:
        if not unit:
            return
        candidate = self.current + sep + unit if self.current else unit
        if self.fits(candidate):
            self.current = candidate
            return
        if self.current and self.fits(unit) and not (self.fill and level < 3):
            head, carried = self.current.rpartition("\n")[::2] if "\n" in self.current else ("", "")
            if head.strip() and KEEP_WITH_NEXT.match(carried) and self.fits(carried + sep + unit):
                self.current = head  # a heading or an intro line goes with what it introduces
                self.flush()
                self.current = carried + sep + unit
                return
            self.flush()
            self.current = unit
            return
        if level >= len(self.LEVELS) or (self.LEVELS[level] == "grapheme" and ATOM.search(unit)):
            self.too_long(unit)
        first = True
        for piece_sep, piece in self.pieces(unit, level):
            self.add(piece, level + 1, sep if first else piece_sep)
            first = False

    def pieces(self, text: str, level: int):
        kind = self.LEVELS[level]
        if kind in ("\n\n", "\n"):
            parts = text.split(kind)
            return [("" if i == 0 else kind, p) for i, p in enumerate(parts) if p]
        if kind == "grapheme":
            return [("", g) for g in graphemes(text)]
        pattern = SENTENCE_END if kind == "sentence" else WORD_GAP
        out, pos, gap = [], 0, ""
        for match in _gaps(text, pattern):
            if match.start() > pos:
                out.append((gap, text[pos:match.start()]))
            gap, pos = match.group(0), match.end()
        if pos < len(text):
            out.append((gap, text[pos:]))
        return out

    def flush(self) -> None:
        if self.current.strip():
            self.posts.append(self.current.strip())
        self.current = ""

    def done(self) -> list[str]:
        self.flush()
        return self.posts

    def too_long(self, unit: str) -> None:
        shown = unit if len(unit) <= 60 else unit[:57] + "…"
        raise NoteError.at(self.where, None, f"{self.name}: {shown!r} is longer than a whole post and cannot be split",
                           "shorten it (for a long URL, link a shorter address)")


def _gaps(text: str, pattern: re.Pattern):
    """Matches of ``pattern`` that do not fall inside an atom (URL, mention, marked link)."""
    atoms = [m.span() for m in ATOM.finditer(text)] if ("/" in text or "#" in text or "@" in text or LINK_START in text or "." in text) else []
    for match in pattern.finditer(text):
        if not any(a < match.start() < b for a, b in atoms):
            yield match
