"""Text measures shared by the platform rules: grapheme clusters and UTF-16 units.

Counting is the hot path of fitting, so each measure takes an ASCII fast
path and segments grapheme clusters (with ``regex``'s ``\\X``) only when the
text needs it: when some character in it can join a cluster with its
neighbour (:func:`simple`).
"""
from __future__ import annotations

import re
from functools import lru_cache

import regex

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=1)
def _grapheme():
    return regex.compile(r"\X")


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
    return text.isascii() or not _joiner().search("".join(set(text)))


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
    """The grapheme clusters of ``text`` that hold a match of ``pattern`` (which matches non-ASCII only).

    Such a cluster is non-ASCII characters and at most one ASCII one among them (ASCII never extends a
    cluster, but a prepended mark joins the character after it), so only runs of non-ASCII characters,
    with their left neighbour and joined across a single ASCII character, are segmented.
    """
    windows: list[list[int]] = []
    for match in _NON_ASCII.finditer(text):
        start, end = match.span()
        if windows and start - 1 <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([max(start - 1, 0), end])
    findall = _grapheme().findall
    out = []
    for start, end in windows:
        window = text[start:end]
        if pattern.search(window):
            out.extend(c for c in findall(window) if pattern.search(c))
    return out


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and Java count strings."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))
