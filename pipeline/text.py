"""Text measures shared by the platform rules: grapheme clusters and UTF-16 units.

Counting is the hot path of fitting, so each measure takes an ASCII fast
path and segments grapheme clusters (with ``regex``'s ``\\X``) only when the
text needs it: when some character in it can join a cluster with its
neighbour (:func:`simple`).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from operator import add
from typing import Any, Iterable

import regex

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CRLF = re.compile("\r\n")
FIRST_JOINER = "\u0300"  # no code point before it may join a grapheme cluster with a neighbour (tested)
_FROM_FIRST_JOINER = re.compile(f"[{FIRST_JOINER}-\U0010ffff]")


@lru_cache(maxsize=1)
def _grapheme():
    return regex.compile(r"\X")


@lru_cache(maxsize=1)
def _run():
    return regex.compile(r"[^\x00-\x7f]*")


@lru_cache(maxsize=1)
def _run_back():
    return regex.compile(r"[^\x00-\x7f]*", flags=regex.REVERSE)


@lru_cache(maxsize=1)
def _joiner():
    """Code points that may share a cluster with a neighbour: every grapheme rule that joins needs one.

    (GB6-8 Hangul jamo L, V, T; GB9 Extend and ZWJ, which GB11's emoji
    sequences and GB9c's Indic conjuncts also need; GB9a SpacingMark;
    GB9b Prepend; GB12-13 regional indicators. Precomposed Hangul syllables
    join only with jamo. GB3's CR LF is counted apart.)
    """
    return regex.compile(r"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}"
                         r"\p{Grapheme_Cluster_Break=SpacingMark}\p{Grapheme_Cluster_Break=Prepend}"
                         r"\p{Grapheme_Cluster_Break=Regional_Indicator}\p{Grapheme_Cluster_Break=L}"
                         r"\p{Grapheme_Cluster_Break=V}\p{Grapheme_Cluster_Break=T}]")


def simple(text: str) -> bool:
    """Whether each code point of ``text`` is a grapheme cluster of its own (``\\r\\n`` aside).

    True for ASCII, and for most text in Latin, Greek, Cyrillic, CJK or
    Korean syllables; false as soon as a combining mark, ZWJ, skin tone,
    variation selector or flag appears. Looks at each distinct character once.
    """
    return text.isascii() or not _joining(text)


def _joining(text: str) -> list[str]:
    """The distinct characters of ``text`` that may join a cluster with a neighbour (none below U+0300,
    the first combining mark: Latin-1 and Latin Extended text needs no closer look)."""
    if not _FROM_FIRST_JOINER.search(text):  # (a regular expression scans in C; max() compares in Python)
        return []
    return _joiner().findall("".join(set(text)))


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of ``text``, in order."""
    if "\r\n" not in text and simple(text):
        return list(text)
    return _grapheme().findall(text)


def grapheme_count(text: str) -> int:
    """How many extended grapheme clusters ``text`` has (``\\r\\n`` is one).

    Two ASCII characters never share a cluster (``\\r\\n`` aside), so only
    each run of non-ASCII characters, with one ASCII neighbour on each side,
    is segmented: an English post with two emoji segments a few characters,
    not the whole post.
    """
    count = len(text) - text.count("\r\n")
    if text.isascii():
        return count
    runs = []
    for match in _NON_ASCII.finditer(text):
        runs.append(match.span())
        if len(runs) > 8:  # mostly non-Latin text: look at it whole
            return count if simple(text) else len(_grapheme().findall(text))
    findall = _grapheme().findall
    for start, end in runs:
        window = text[max(start - 1, 0):end + 1]
        if len(window) < 16 or not simple(window):  # a long run of CJK is usually simple
            count -= len(window) - len(findall(window))
    return count


def clusters_with(text: str, pattern) -> list[str]:
    """The grapheme clusters of ``text`` that hold a match of ``pattern`` (which matches non-ASCII only)."""
    return [text[a:b] for a, b in clusters(text, pattern)]


def clusters(text: str, pattern=None) -> list[tuple[int, int]]:
    """The spans of the grapheme clusters of ``text`` that hold a match of ``pattern`` (which matches
    non-ASCII only), in order; without ``pattern``, of every cluster but a lone ASCII character (so those
    with a non-ASCII character, and CR LF).

    Only where clusters of several code points can be (:func:`_joined_windows`) is the text segmented;
    every other code point is a cluster of its own.
    """
    crlf = [m.span() for m in _CRLF.finditer(text)] if pattern is None and "\r\n" in text else []
    if text.isascii():
        return crlf
    pattern = pattern or _NON_ASCII
    found, pos = [], 0
    for start, end in _joined_windows(text):
        found.extend((i, i + 1) for m in pattern.finditer(text, pos, start) for i in range(*m.span()))
        found.extend((a, b) for a, b in _segments(text, start, end) if pattern.search(text, a, b))
        pos = end
    found.extend((i, i + 1) for m in pattern.finditer(text, pos) for i in range(*m.span()))
    return sorted(found + crlf) if crlf else found  # (a CR LF holds no non-ASCII character: never inside one)


def joined(text: str) -> list[tuple[int, int]]:
    """The spans of the grapheme clusters of ``text`` that are more than one code point (CR LF too), in order."""
    crlf = [m.span() for m in _CRLF.finditer(text)] if "\r\n" in text else []
    found = [(a, b) for start, end in _joined_windows(text) for a, b in _segments(text, start, end)
             if b - a > 1 and text[a] != "\r"]  # (a CR LF in a window is among ``crlf``)
    return sorted(found + crlf) if crlf else found


def _segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the grapheme clusters of ``text[start:end]``, which starts and ends between two."""
    return [(start + a, start + b) for a, b in (m.span() for m in _grapheme().finditer(text[start:end]))]


def _joined_windows(text: str) -> list[list[int]]:
    """Where ``text`` may have clusters of several code points (CR LF aside), each starting and ending
    between two clusters.

    Every such cluster holds a joining character (:func:`_joiner`), and is non-ASCII characters and at
    most one ASCII character among them (ASCII never extends a cluster, but a prepended mark joins the
    character after it). So a window is a run of non-ASCII characters that holds a joining character,
    with the ASCII character on each side; runs that share a neighbour are one window.
    """
    if text.isascii():
        return []
    places = []
    for char in _joining(text):
        at = text.find(char)
        while at >= 0:
            places.append(at)
            at = text.find(char, at + 1)
    windows: list[list[int]] = []
    run_start, run_end = _run_back().match, _run().match
    for at in sorted(places):
        if windows and at < windows[-1][1]:
            continue
        start, end = max(run_start(text, 0, at).start() - 1, 0), run_end(text, at).end() + 1
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return windows


def apart(*groups: Iterable[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
    """The ``(start, end, ...)`` spans of the first group, and of each next one those that overlap none kept
    before (the first group wins), in order of their start. Each group's spans are in order and apart."""
    kept: list[tuple[int, int, Any]] = []
    for group in groups:
        group = list(group)
        if not kept or not group:
            kept = kept or group
            continue
        starts = [span[0] for span in group]
        dropped = set()
        for start, end, *_ in kept:
            k = bisect_left(starts, end) - 1  # group[k] is the last one that starts before this one ends
            while k >= 0 and group[k][1] > start:
                dropped.add(k)
                k -= 1
        kept = sorted(kept + [span for k, span in enumerate(group) if k not in dropped])
    return kept


def merged(spans: Iterable[tuple[int, int, tuple[int, ...]]]) -> list[tuple[int, int, tuple[int, ...]]]:
    """``(start, end, extra)`` spans in order, those that overlap joined into one whose extra is the sum of
    theirs (so each measure of an extra must come from spans that do not overlap)."""
    out: list[tuple[int, int, tuple[int, ...]]] = []
    for start, end, extra in sorted(spans):
        if out and start < out[-1][1]:
            last = out[-1]
            out[-1] = (last[0], max(end, last[1]), tuple(map(add, last[2], extra)))
        else:
            out.append((start, end, extra))
    return out


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and Java count strings."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))
