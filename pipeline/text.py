"""Text measures shared by the platform rules: grapheme clusters and UTF-16 units.

Counting is the hot path of fitting, so each measure takes an ASCII fast
path and segments grapheme clusters (with ``regex``'s ``\\X``) only when the
text needs it.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _grapheme():
    import regex

    return regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of ``text``, in order."""
    if text.isascii():
        if "\r\n" not in text:
            return list(text)
    return _grapheme().findall(text)


def grapheme_count(text: str) -> int:
    """How many extended grapheme clusters ``text`` has (``\\r\\n`` is one)."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(_grapheme().findall(text))


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and Java count strings."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def utf8_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))
