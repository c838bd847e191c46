"""Fitting a rendered draft to a platform: one post, a thread, or a clear error.

A draft is plain text in which blank lines separate blocks, newlines separate
lines (list items), and a form feed on its own line forces a new post. The
splitter breaks between blocks first, then lines, then sentences, then words,
and only inside a word that is longer than a whole post (long CJK runs) at
grapheme-cluster boundaries. URLs, mentions, hashtags and marked links are
never cut. Length is only ever measured by the platform itself: a draft once
(where its count departs from one per character,
:meth:`~pipeline.platforms.Platform.departures`, or else each word's
:meth:`~pipeline.platforms.Platform.tally`), a candidate post by adding up
what lies in it, and each finished post exactly
(:meth:`~pipeline.platforms.Platform.fits`). Should a finished post not fit
(a count that does not add up for some text), the draft is fitted again
measuring every candidate whole.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import add
from typing import Any, Callable

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
# What the ruler measures once each: a gap, a word (a marked link whole, with the spaces of its label),
# or a CJK sentence with its full stop (CJK text has no gaps between words).
TOKEN = re.compile(rf"\s+|(?:[^\s{LINK_START}。！？]+|{LINK_START}[^{LINK_END}]*{LINK_END})+[。！？]*|[\s\S]")
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
    # One post, where post breaks do not apply: measured whole when that is one measure of a short text
    # (a longer one that fits comes out of the thread whole too, with its words measured once).
    if (len(sections) == 1 or not threading) and (not threading or len(whole) <= 2 * platform.limit) \
            and platform.fits(whole):
        return Fitted((whole,))
    if threading:
        posts = tuple(_exactly(platform, lambda exact: _thread(sections, platform, where, exact), where))
        return Fitted(posts, _too_many(len(posts), max_posts, platform.name))
    if policy == "error":
        raise NoteError.at(where, None,
                           f"{platform.name}: the post is {platform.measure(whole)} characters, over the limit of {platform.limit}",
                           f"shorten the note, or set notecast: {{{platform.name}: {{overflow: truncate}}}}")
    if policy == "comment":
        parts = _exactly(platform, lambda exact: _split(whole, _Meter(platform, exact=exact), where, platform.name),
                         where)
        notes = (f"{platform.name}: the post continues in {len(parts) - 1} comment(s)",)
        return Fitted((parts[0],), notes + _too_many(len(parts), max_posts, platform.name), tuple(parts[1:]))
    return _truncate(whole, platform, where, read_more)


def _exactly(platform: Platform, build: Callable[[bool], list[str]], where: str) -> list[str]:
    """The posts ``build(exact=False)`` packs by adding up tallies, each checked with the platform's own
    measure; if one does not fit (a tally that did not add up), ``build(exact=True)``'s, which measures
    every candidate whole (and only a thread's numbering can make one of those too long)."""
    for exact in (False, True):
        posts = build(exact)
        if all(platform.fits(post) for post in posts):
            return posts
    raise NoteError.at(where, None, f"{platform.name}: numbering made a post too long", "set numbering = off")


_WORDS: dict[Platform, dict[str, Any]] = {}  # each platform's tally of each word it met (words repeat)


def _words(platform: Platform) -> dict[str, Any]:
    """The tallies ``platform`` has made of words, kept across notes (at most about 100,000 of them)."""
    words = _WORDS.get(platform)
    if words is None or len(words) > 100_000:
        words = _WORDS[platform] = {}
    return words


class _Meter:
    """How fitting measures for one platform when every post will end with ``suffix`` (a thread's label).

    :meth:`within` tells whether a tally (what :meth:`Platform.tally` says of a text; a ruler adds them
    up) fits, and :meth:`fits` whether a text does. ``exact``: every text is measured whole by the
    platform's ``fits`` (the fallback for a platform whose tallies do not add up); rulers then hold no tallies.
    """

    def __init__(self, platform: Platform, suffix: str = "", exact: bool = False):
        self.platform, self.suffix, self.exact = platform, suffix, exact
        self.extra = platform.tally(suffix) if suffix and not exact else None

    def within(self, tally: tuple[int, ...]) -> bool:
        if self.extra:
            tally = tuple(map(add, tally, self.extra))
        return self.platform.within(tally)

    def fits(self, text: str) -> bool:
        if self.exact:
            return self.platform.fits(text + self.suffix)
        return self.within(self.platform.tally(text))


class _Ruler:
    """One text, measured once: where its tally departs from so many ordinary code points
    (:meth:`Platform.departures`; else the tally of each word and gap), added up in order. The tally of a
    span that cuts none of those is then its length and a difference of two sums; any other span is
    measured itself.
    """

    def __init__(self, text: str, meter: _Meter):
        self.text, self.meter = text, meter
        # the tally of one code point; where each span that departs from it starts and ends; and for each
        # measure of the tally the running sum of what they depart by (nothing at all when exact)
        self.unit, self.starts, self.ends, self.sums = ((), None, None, ()) if meter.exact \
            else _running(meter.platform, text)
        self.within = meter.platform.within
        self.columns = list(zip(self.unit, self.sums, meter.extra or tuple(0 for _ in self.unit)))

    def fits(self, a: int, b: int) -> bool:
        """Whether ``text[a:b]`` fits a post."""
        starts, ends = self.starts, self.ends
        if starts is None:
            return self.meter.fits(self.text[a:b])
        i, j = bisect_left(starts, a), bisect_left(starts, b)
        if (i and ends[i - 1] > a) or (j and ends[j - 1] > b):  # a span cut in two
            return self.meter.fits(self.text[a:b])
        length = b - a  # (what the meter's within does, with the suffix added here)
        columns = self.columns
        if len(columns) == 2:  # the common cases, spelled out (a generator costs more than the sum)
            (u, s, x), (v, t, y) = columns
            return self.within((u * length + s[j] - s[i] + x, v * length + t[j] - t[i] + y))
        if len(columns) == 1:
            (u, s, x), = columns
            return self.within((u * length + s[j] - s[i] + x,))
        return self.within(tuple([u * length + s[j] - s[i] + x for u, s, x in columns]))


def _too_many(count: int, most: int, name: str) -> tuple[str, ...]:
    """A warning when a note becomes more posts than anyone will read in a row."""
    if count <= most:
        return ()
    return (f"{name}: the note becomes {count} posts, more than {most}; "
            "shorten it or split it into several notes (or raise max_thread_posts in notecast.toml)",)


@lru_cache(maxsize=64)  # a note's platforms often render the same draft
def _tidy(draft: str) -> str:
    draft = draft.replace("\r\n", "\n")
    if any(line[-1:].isspace() for line in draft.split("\n")):  # white space at a line's end (a rendered draft has none)
        draft = "\n".join(_strip(line, left=False) for line in draft.split("\n"))
    if "\n\n\n" in draft:
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


def _thread(sections: list[str], platform: Platform, where: str, exact: bool = False) -> list[str]:
    """The posts of a thread, numbered if the platform numbers them (not yet checked exactly)."""
    numbering = platform.numbering
    if numbering == "off":
        meter = _Meter(platform, exact=exact)
        posts: list[str] = []
        for section in sections:
            posts.extend(_split(section, meter, where, platform.name))
        return posts
    label = NUMBERING if numbering == "on" else numbering
    count = 1
    for _ in range(6):  # the count's width settles within a couple of rounds
        meter = _Meter(platform, " " + label.format(i=count, n=count), exact)  # the widest label
        posts = []
        for section in sections:
            posts.extend(_split(section, meter, where, platform.name))
        if len(posts) == 1:
            return posts
        if len(str(len(posts))) <= len(str(count)):
            break
        count = len(posts)
    n = len(posts)
    return [f"{p} {label.format(i=i, n=n)}" for i, p in enumerate(posts, 1)]


def _truncate(text: str, platform: Platform, where: str, read_more: str | None) -> Fitted:
    body, tail = _split_tail(text)
    ending = "…"
    if read_more:
        ending += f"\n\nRead the full note: {read_more}"
    if tail:
        ending += "\n\n" + tail

    def build(exact: bool) -> list[str]:
        packer = _Packer(_Ruler(body, _Meter(platform, ending, exact)), where, platform.name, fill=True)
        packer.add(0, len(body), 0)
        return [re.sub(r"[\s.,;:!?…-]+$", "", packer.done()[0]) + ending]

    post = _exactly(platform, build, where)[0]
    first = post[:-len(ending)]
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


def _split(text: str, meter: _Meter, where: str, name: str) -> list[str]:
    """Greedy packing, trying coarse boundaries before fine ones."""
    fits = meter.fits
    ruler = _Ruler(text, meter)
    body, tail = _split_tail(text)
    packer = _Packer(ruler, where, name)
    packer.add(0, len(body), 0)
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
                tail_posts = _Packer(ruler, where, name)
                tail_posts.add(len(text) - len(tail), len(text), 3)  # hashtags split between words only
                posts.extend(tail_posts.done())
    return _smooth(text, posts, ruler.fits)


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


@lru_cache(maxsize=16)  # a thread's numbering fits the same sections again with a wider label
def _running(platform: Platform, text: str) -> tuple[tuple[int, ...], list[int], list[int], list[list[int]]]:
    """The tally of one code point, where each span of ``text`` that departs from it starts and ends, and
    the running sums of their departures (see _Ruler)."""
    unit, spans = platform.departures(text) or _by_words(platform, text)
    sums = [list(accumulate(column, initial=0)) for column in zip(*(extra for _, _, extra in spans))] \
        or [[0] for _ in unit]
    return unit, [a for a, _, _ in spans], [b for _, b, _ in spans], sums


def _by_words(platform: Platform, text: str) -> tuple[tuple[int, ...], list[tuple[int, int, Any]]]:
    """Departures for a platform that cannot tell them: a code point alone counts nothing, and every word
    and gap is a span that adds its tally."""
    known = _words(platform)
    spans, pos = [], 0
    for word in TOKEN.findall(text):
        tally = known.get(word)
        if tally is None:
            tally = known[word] = platform.tally(word)
        spans.append((pos, pos + len(word), tally))
        pos += len(word)
    return tuple(0 for _ in platform.tally("")), spans


class _Packer:
    """Fills posts greedily; a unit that does not fit alone is split one level finer.

    ``add(a, b, level)`` adds the unit ``text[a:b]`` (after the gap from the
    current post's end) and splits a unit that is too long by
    ``LEVELS[level]``: the whole text at level 0 into blocks, blocks into
    lines, lines into sentences, sentences into words, and words into
    grapheme clusters. Every post is a span of the text, measured by the ruler.
    """

    LEVELS = ("\n\n", "\n", "sentence", "word", "grapheme")

    def __init__(self, ruler: _Ruler, where: str, name: str, *, fill: bool = False):
        self.ruler, self.text, self.where, self.name = ruler, ruler.text, where, name
        self.fill = fill  # truncating: fill the first post down to whole sentences
        self.posts: list[str] = []
        self.start = self.end = -1  # the current post is text[start:end]; there is none while start < 0

    def add(self, a: int, b: int, level: int) -> None:
        if a >= b or (self.fill and self.posts):  # truncating keeps only the first post
            return
        fits = self.ruler.fits
        if self.start < 0 and fits(a, b):
            self.start, self.end = a, b
            return
        if self.start >= 0 and fits(self.start, b):
            self.end = b
            return
        if self.start >= 0 and fits(a, b) and not (self.fill and level < 3):
            line = self.text.rfind("\n", self.start, self.end)
            if line >= 0 and self.text[self.start:line].strip() and KEEP_WITH_NEXT.match(self.text[line + 1:self.end]) \
                    and fits(line + 1, b):
                self.end = line  # a heading or an intro line goes with what it introduces
                self.flush()
                self.start, self.end = line + 1, b
                return
            self.flush()
            self.start, self.end = a, b
            return
        unit = self.text[a:b]
        if level >= len(self.LEVELS) or (self.LEVELS[level] == "grapheme" and ATOM.search(unit)):
            self.too_long(unit)
        pieces = [(a + start, a + end) for start, end in self.pieces(unit, level)]
        # Galloping: while pieces keep fitting, try twice as many at once, and half as many once they
        # do not. Lengths only grow as pieces are added, so this takes the same pieces as adding them
        # one by one, with a few measures per post instead of one per piece (which counts where a
        # piece is not a whole word: grapheme clusters of a long word).
        i, step = 0, 1 if level >= 3 else 0  # between words and graphemes only: few sentences fill a post
        while i < len(pieces) and not (self.fill and self.posts):  # truncating: the rest is cut anyway
            if step <= 1:
                self.add(*pieces[i], level + 1)
                i, step = i + 1, step * 2
                continue
            last = min(i + step, len(pieces)) - 1
            start = self.start if self.start >= 0 else pieces[i][0]
            if fits(start, pieces[last][1]):
                self.start, self.end = start, pieces[last][1]
                i, step = last + 1, step * 2
            else:
                step = max(1, (last + 1 - i) // 2)

    @staticmethod
    @lru_cache(maxsize=256)  # the platforms of a note split its text alike, where their limits make them
    def pieces(text: str, level: int) -> tuple[tuple[int, int], ...]:
        """The spans of the pieces of ``text`` one level finer; what lies between them is their gaps."""
        kind = _Packer.LEVELS[level]
        if kind == "\n":
            return tuple(_lines(text))
        if kind == "grapheme":
            out, pos = [], 0
            for cluster in graphemes(text):
                out.append((pos, pos + len(cluster)))
                pos += len(cluster)
            return tuple(out)
        if kind == "\n\n":
            gaps = ((m.start(), m.end()) for m in re.finditer("\n\n", text))
        else:
            gaps = _gaps(text, SENTENCE_END if kind == "sentence" else WORD_GAP)
        out, pos = [], 0
        for start, end in gaps:
            if start > pos:
                out.append((pos, start))
            pos = end
        if pos < len(text):
            out.append((pos, len(text)))
        return tuple(out)

    def flush(self) -> None:
        if self.start >= 0:
            post = _strip(self.text[self.start:self.end])
            if post:
                self.posts.append(post)
        self.start = self.end = -1

    def done(self) -> list[str]:
        self.flush()
        return self.posts

    def too_long(self, unit: str) -> None:
        shown = unit if len(unit) <= 60 else unit[:57] + "…"
        raise NoteError.at(self.where, None, f"{self.name}: {shown!r} is longer than a whole post and cannot be split",
                           "shorten it (for a long URL, link a shorter address)")


def _lines(text: str) -> list[tuple[int, int]]:
    """The spans of a block's lines; a line that continues the sentence above it (a paragraph wrapped by
    hand, which Obsidian keeps as written) stays with it, so only its sentences and words split it."""
    out: list[tuple[int, int]] = []
    previous, pos = "", 0
    for line in text.split("\n"):
        if line and previous and out and _continues(previous, line):
            out[-1] = (out[-1][0], pos + len(line))
        elif line:
            out.append((pos, pos + len(line)))
        previous, pos = line, pos + len(line) + 1
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


def _smooth(text: str, posts: list[str], fits: Callable[[int, int], bool]) -> list[str]:
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
            if cut and fits(cut[1], e):
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
    # Only a marked link holds white space: the other atoms are looked for (once) when a gap starts
    # between two characters that are not (after a CJK full stop).
    atoms: list[tuple[int, int]] | None = None
    starts: list[int] = []
    linked = LINK_START in text
    plain = simple(text)
    for match in pattern.finditer(text):
        start, end = match.span()
        if linked or start == end:
            if atoms is None:
                atoms = [m.span() for m in ATOM.finditer(text)]
                starts = [a for a, _ in atoms]  # in order and apart: the one atom that may hold a gap is found by bisection
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
