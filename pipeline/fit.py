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
from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable

from .errors import NoteError
from .platforms import Platform
from .richtext import LINK_END, LINK_START
from .text import graphemes, simple

POST_BREAK = "\n\f\n"
# The gap after a sentence: whitespace after its end mark and any closing quotes or brackets
# (which stay with the sentence), or nothing after a CJK full stop followed by more text.
SENTENCE_END = re.compile(
    r"(?:(?<=[.!?…。！？])|(?<=[.!?…。！？][\"'”’)\]」』）])|(?<=[.!?…。！？][\"'”’)\]」』）]{2}))\s+"
    r"|(?:(?<=[。！？])|(?<=[。！？][」』）”’]))(?=[^\s\"'”’)\]」』）。！？、，…])")
WORD_GAP = re.compile(r"\s+")
# A bare domain with a path (example.com/a) is looked for only where a word starts: tried at every
# position, ``\S+`` would rescan the rest of a long word each time (quadratic in its length).
ATOM = re.compile(
    rf"{LINK_START}[^{LINK_END}]*{LINK_END}|(?:https?://|www\.)\S+|[#@＃][^\s]+"
    rf"|(?<![^\s{LINK_END}])\S+\.[a-z]{{2,}}/\S*", re.I)
HASHTAG_LINE = re.compile(r"^(?:[#＃][^\s#]+\s*)+$")
NUMBERING = "{i}/{n}"
MAX_POSTS = 25  # more posts than this in one thread is a warning (max_thread_posts in notecast.toml)
SHORT_LAST = 5  # a last post that continues a sentence takes more of it than this many words, if it can
# A post ends cleanly after a sentence (or an intro line's colon, or a closing hashtag), or before a list
# item or quote; a line goes on with the one above when it starts like text and that one did not end.
ENDS_CLEANLY = re.compile(r"(?:[.!?…。！？:：][\"'”’)\]」』）]{0,2}|[#＃]\S+)$")
STARTS_ITEM = re.compile(r"^(?:[•◦▪>“☑☐]|\d+\. |\[\d+\] )")
CONTINUED = re.compile(r"^[\"'“‘(\[]?[^\W\d_]", re.U)
# Where a post may end when a break moves back: between blocks, before a list item, after a sentence;
# failing those, after a clause (a comma, semicolon, colon or dash).
CLEAN_GAP = re.compile(rf"\n\n+|\n(?=\s*(?:[•◦▪>“☑☐]|\d+\. ))|{SENTENCE_END.pattern}")
CLAUSE_GAP = re.compile(r"(?<=[,;:，；：])\s+|\s+(?=[—–]\s)")
KEEP_WITH_NEXT = re.compile(r"^(?![•◦▪>“]|\d+\. )[^\n]{1,100}(?<![.!?…。！？\"”’)\]])$")


@dataclass(frozen=True)
class Fitted:
    """The posts a draft became, in order, and what the reader should know."""

    posts: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    comments: tuple[str, ...] = ()  # overflow sent as comments (policy "comment")


def fit(draft: str, platform: Platform, *, where: str = "", read_more: str | None = None,
        max_posts: int = MAX_POSTS) -> Fitted:
    """Fit ``draft`` to ``platform`` by its overflow policy; never return a post over the limit.

    A thread (or a post and its comments) of more than ``max_posts`` posts carries a warning.
    """
    sections = [s for s in map(_tidy, draft.split("\f")) if s]  # tidied apart: tidying would strip the \f
    if not sections:
        raise NoteError.at(where, None, f"{platform.name}: the rendered post is empty",
                           "check the note's body and the template")
    whole = "\n\n".join(sections)
    policy = platform.overflow
    threading = policy == "thread" and platform.threads
    if (len(sections) == 1 or not threading) and platform.fits(whole):  # one post: post breaks do not apply
        return Fitted((whole,))
    if threading:
        posts = tuple(_thread(sections, platform, where, unfit=whole))
        return Fitted(posts, _too_many(len(posts), max_posts, platform.name))
    if policy == "error":
        raise NoteError.at(where, None,
                           f"{platform.name}: the post is {platform.measure(whole)} characters, over the limit of {platform.limit}",
                           f"shorten the note, or set notecast: {{{platform.name}: {{overflow: truncate}}}}")
    if policy == "comment":
        parts = _split(whole, platform.fits, where, platform.name, unfit=whole)
        notes = (f"{platform.name}: the post continues in {len(parts) - 1} comment(s)",)
        return Fitted((parts[0],), notes + _too_many(len(parts), max_posts, platform.name), tuple(parts[1:]))
    return _truncate(whole, platform, where, read_more)


def _too_many(count: int, most: int, name: str) -> tuple[str, ...]:
    """A warning when a note becomes more posts than anyone will read in a row."""
    if count <= most:
        return ()
    return (f"{name}: the note becomes {count} posts, more than {most}; "
            "shorten it or split it into several notes (or raise max_thread_posts in notecast.toml)",)


def _tidy(draft: str) -> str:
    draft = "\n".join(_strip(line, left=False) for line in draft.replace("\r\n", "\n").split("\n"))
    draft = re.sub(r"\n{3,}", "\n\n", draft)
    return _strip(draft)


def _glued(text: str, i: int) -> bool:
    """Whether ``text[i - 1]`` and ``text[i]`` belong to one grapheme cluster.

    Only asked about whitespace and its neighbours, where the pair decides:
    a space followed by a combining mark, a ZWJ or a skin tone, or preceded
    by a prepended mark (U+0600...), is one cluster with it.
    """
    return 0 < i < len(text) and len(graphemes(text[i - 1:i + 1])) == 1


def _strip(text: str, left: bool = True) -> str:
    """``str.strip`` (``rstrip`` unless ``left``) that keeps whitespace belonging to a grapheme cluster."""
    if text.isascii():
        return text.strip() if left else text.rstrip()
    start = len(text) - len(text.lstrip()) if left else 0
    end = len(text.rstrip())
    if start >= end:
        return ""
    if start and _glued(text, start):
        start -= 1
    if end < len(text) and _glued(text, end):
        end += 1
    return text[start:end]


def _thread(sections: list[str], platform: Platform, where: str, unfit: str = "") -> list[str]:
    """``unfit``: a text already measured too long (the whole draft), not to be measured again."""
    numbering = platform.numbering
    if numbering == "off":
        posts: list[str] = []
        for section in sections:
            posts.extend(_split(section, platform.fits, where, platform.name, unfit))
        return posts
    label = NUMBERING if numbering == "on" else numbering
    count = 1
    for _ in range(6):  # the count's width settles within a couple of rounds
        widest = " " + label.format(i=count, n=count)
        posts = []
        for section in sections:
            posts.extend(_split(section, lambda t, w=widest: platform.fits(t + w), where, platform.name, unfit))
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
    post = first + ending
    total = platform.measure(text)
    hint = "" if read_more else "; set canonical_url in notecast.toml to link the full note"
    warning = (f"{platform.name}: the note is {total} characters, over the limit of {platform.limit}; "
               f"cut to {platform.measure(post)} after {_closing_words(first)!r}{hint}")
    return Fitted((post,), (warning,))


def _closing_words(text: str) -> str:
    """The last few words of ``text`` (at most 60 characters) to say where it was cut."""
    words = text[-200:].split()
    shown = " ".join(words[-6:])
    if len(shown) > 60:
        return "…" + shown[-59:]
    return ("… " if len(words) > 6 or len(text) > 200 else "") + shown


def _split_tail(text: str) -> tuple[str, str]:
    """Separate a closing block of hashtags, which must stay with the last post."""
    head, sep, last = text.rpartition("\n\n")
    if sep and HASHTAG_LINE.match(last.strip()):
        return head, last.strip()
    return text, ""


def _split(text: str, fits: Callable[[str], bool], where: str, name: str, unfit: str = "") -> list[str]:
    """Greedy packing, trying coarse boundaries before fine ones."""
    body, tail = _split_tail(text)
    packer = _Packer(fits, where, name, unfit=unfit)
    packer.add(body, 0, "")
    posts = packer.done()
    if tail:
        last = posts[-1] if posts else ""
        together = f"{last}\n\n{tail}" if last else tail
        if fits(together):
            posts[-1:] = [together]
        else:
            kept, moved = _last_sentence(last)
            if not (kept and fits(f"{moved}\n\n{tail}")):
                kept, moved = _last_words(last, tail, fits)
            if kept:
                posts[-1:] = [kept, f"{moved}\n\n{tail}"]
            else:
                tail_posts = _Packer(fits, where, name)
                tail_posts.add(tail, 3, "")  # hashtags split between words only
                posts.extend(tail_posts.done())
    return _smooth(text, posts, fits)


def _last_sentence(text: str) -> tuple[str, str]:
    head, sep, last = text.rpartition("\n")
    gaps = [(a, b) for a, b in _gaps(last, SENTENCE_END) if b < len(last)]
    if gaps:
        start, end = gaps[-1]
        return _strip(head + sep + last[:start], left=False), last[end:]
    return _strip(head, left=False), last


def _last_words(text: str, tail: str, fits: Callable[[str], bool]) -> tuple[str, str]:
    """The fewest last words of ``text`` that, moved, make room for ``tail`` after them: ("", "") if none do."""
    for start, end in reversed(list(_gaps(text, WORD_GAP))):
        kept, moved = _strip(text[:start], left=False), text[end:]
        if not kept:
            break
        if fits(f"{moved}\n\n{tail}"):
            return kept, moved
    return "", ""


class _Packer:
    """Fills posts greedily; a unit that does not fit alone is split one level finer.

    ``add(unit, level)`` splits a unit that is too long by ``LEVELS[level]``:
    the whole text at level 0 into blocks, blocks into lines, lines into
    sentences, sentences into words, and words into grapheme clusters.
    """

    LEVELS = ("\n\n", "\n", "sentence", "word", "grapheme")

    def __init__(self, fits: Callable[[str], bool], where: str, name: str, *, fill: bool = False, unfit: str = ""):
        self.fits, self.where, self.name = fits, where, name
        self.fill = fill  # truncating: fill the first post down to whole sentences
        self.posts: list[str] = []
        self.current = ""
        self.unfit = unfit  # a text known not to fit (a long draft, measured once already)

    def add(self, unit: str, level: int, sep: str) -> None:
        if not unit or (self.fill and self.posts):  # truncating keeps only the first post
            return
        candidate = self.current + sep + unit if self.current else unit
        if candidate != self.unfit and self.fits(candidate):
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
        pieces = self.pieces(unit, level)
        pieces[0] = (sep, pieces[0][1])
        # Galloping: while pieces keep fitting, try twice as many at once, and half as many once they
        # do not. Lengths only grow as pieces are added, so this takes the same pieces as adding them
        # one by one, with a few measures per post instead of one per piece.
        i, step = 0, 1 if level >= 3 else 0  # between words and graphemes only: few sentences fill a post
        while i < len(pieces) and not (self.fill and self.posts):  # truncating: the rest is cut anyway
            if step <= 1:
                piece_sep, piece = pieces[i]
                self.add(piece, level + 1, piece_sep)
                i, step = i + 1, step * 2
                continue
            batch = pieces[i:i + step]
            text = batch[0][1] + "".join(piece_sep + piece for piece_sep, piece in batch[1:])
            candidate = self.current + batch[0][0] + text if self.current else text
            if self.fits(candidate):
                self.current = candidate
                i, step = i + len(batch), step * 2
            else:
                step = max(1, min(step, len(batch)) // 2)

    def pieces(self, text: str, level: int):
        kind = self.LEVELS[level]
        if kind == "\n":
            return _lines(text)
        if kind == "\n\n":
            parts = text.split(kind)
            return [("" if i == 0 else kind, p) for i, p in enumerate(parts) if p]
        if kind == "grapheme":
            return [("", g) for g in graphemes(text)]
        pattern = SENTENCE_END if kind == "sentence" else WORD_GAP
        out, pos, gap = [], 0, ""
        for start, end in _gaps(text, pattern):
            if start > pos:
                out.append((gap, text[pos:start]))
            gap, pos = text[start:end], end
        if pos < len(text):
            out.append((gap, text[pos:]))
        return out

    def flush(self) -> None:
        post = _strip(self.current)
        if post:
            self.posts.append(post)
        self.current = ""

    def done(self) -> list[str]:
        self.flush()
        return self.posts

    def too_long(self, unit: str) -> None:
        shown = unit if len(unit) <= 60 else unit[:57] + "…"
        raise NoteError.at(self.where, None, f"{self.name}: {shown!r} is longer than a whole post and cannot be split",
                           "shorten it (for a long URL, link a shorter address)")


def _lines(text: str) -> list[tuple[str, str]]:
    """A block's lines as pieces; a line that continues the sentence above it (a paragraph wrapped by
    hand, which Obsidian keeps as written) stays with it, so only its sentences and words split it."""
    out: list[tuple[str, str]] = []
    previous = ""
    for i, line in enumerate(text.split("\n")):
        if line and previous and out and _continues(previous, line):
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
        elif line:
            out.append(("" if i == 0 else "\n", line))
        previous = line
    return out


def _continues(above: str, line: str) -> bool:
    """Whether ``line`` goes on with the sentence of the line ``above`` (prose wrapped by hand)."""
    if STARTS_ITEM.match(above.lstrip()):
        return _wrapped_item(above, line)
    return CONTINUED.match(line) is not None and ENDS_CLEANLY.search(above) is None


def _wrapped_item(above: str, line: str) -> bool:
    """A list item or quote line wrapped by hand: the next line goes on with its text, not a new item."""
    return (STARTS_ITEM.match(above.lstrip()) is not None and ENDS_CLEANLY.search(above) is None
            and CONTINUED.match(line) is not None and line[:1] != " ")


def _smooth(text: str, posts: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Breaks that cut a sentence moved back to the end of one (or of a clause) in the post before.

    Greedy packing fills each post to the last word that fits; where that cuts a sentence and a
    sentence, block or clause ends in the later part of the post, the post ends there instead and the
    rest opens the next one, if it still fits, and a last post is left more than a few words where it
    can be. No post is added, and each stays a piece of ``text``.
    """
    spans, pos = [], 0
    for post in posts:
        start = text.find(post, pos)
        if start < 0:
            return posts
        spans.append([start, start + len(post)])
        pos = start + len(post)
    for k in range(len(spans) - 1):
        (a, b), (c, e) = spans[k], spans[k + 1]
        short = k + 2 == len(spans) and len(text[c:e].split()) < SHORT_LAST
        if _clean_break(text, b, c):
            continue
        for pattern, keep in ((CLEAN_GAP, 1 / 3), (CLAUSE_GAP, 1 / 2)):
            cut = _cut(text, a, b, e, pattern, keep, short)
            if cut and fits(_strip(text[cut[1]:e])):
                spans[k][1], spans[k + 1][0] = cut
                break
    return [_strip(text[start:end]) for start, end in spans]


def _clean_break(text: str, end: int, start: int) -> bool:
    """Whether a post ending at ``end`` and the next starting at ``start`` part between blocks or sentences."""
    return ("\n\n" in text[end:start] or ENDS_CLEANLY.search(text[max(0, end - 4):end]) is not None
            or STARTS_ITEM.match(text[start:start + 4]) is not None)


def _cut(text: str, a: int, b: int, e: int, pattern: re.Pattern, keep: float, short: bool) -> tuple[int, int] | None:
    """The latest gap of ``pattern`` in ``text[a:b]`` that keeps ``keep`` of it in the first post (and
    leaves the next one, ``text[gap:e]``, at least a few words when ``short``); None if there is none."""
    first = a + int((b - a) * keep)
    best = None
    for start, end in _gaps(text[a:b], pattern):
        start, end = a + start, a + end
        if start < first or end >= b:
            continue
        line_start = text.rfind("\n", a, start) + 1
        if "\n" in text[start:end] and KEEP_WITH_NEXT.match(text[line_start:start]) \
                and not ENDS_CLEANLY.search(text[line_start:start]):
            continue  # a heading or an intro line stays with what it introduces
        if short and len(text[end:e].split()) < SHORT_LAST:
            best = best or (start, end)
            continue
        best = (start, end)
    return best


def _gaps(text: str, pattern: re.Pattern):
    """Spans of the matches of ``pattern`` that do not fall inside an atom (URL, mention, marked link).

    A gap never takes whitespace that is one grapheme cluster with its
    neighbour (a space before a combining mark or skin tone): the gap shrinks,
    or is no gap at all.
    """
    atoms = [m.span() for m in ATOM.finditer(text)] if ("/" in text or "#" in text or "@" in text or LINK_START in text or "." in text) else []
    starts = [a for a, _ in atoms]  # in order and apart: the one atom that may hold a gap is found by bisection
    plain = simple(text)
    for match in pattern.finditer(text):
        start, end = match.span()
        k = bisect_left(starts, start) - 1
        if k >= 0 and start < atoms[k][1]:
            continue
        if not plain:
            if start == end:  # a break between two characters (after a CJK full stop)
                if _glued(text, start):
                    continue
            else:
                while start < end and _glued(text, start):
                    start += 1
                while end > start and _glued(text, end):
                    end -= 1
                if start == end:
                    continue
        yield start, end
