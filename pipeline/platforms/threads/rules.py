"""Threads: 500 characters per post, emoji counted as their UTF-8 bytes, at most 5 links.

Meta's publishing reference (https://developers.facebook.com/docs/threads/reference/publishing,
``text``) says: "For the post character limit, emojis are counted as the number of UTF-8
bytes"; the posts guide (https://developers.facebook.com/docs/threads/posts) says text posts
are limited to 500 characters. At most 5 links per post (more fails at container creation
with ``THREADS_API__LINK_LIMIT_EXCEEDED``, since 2025-12-22) is from the team's PLATFORMS.md
§5.1, quoting the posts guide; unverified here: the stored copies of the guide predate it.

Unverified, so counted the strict way: what "a character" is for text that is not emoji (we
count UTF-16 code units, which is code points except outside the BMP, where it is two); whether
an emoji is its whole sequence (ZWJ, skin tone, variation selector: we count every byte of the
grapheme cluster that holds it); and what a link is (we count each distinct URL twitter-text
finds, ``example.com`` without a scheme included). URLs count as typed.

A post with more than 5 links does not fit, so a thread splits it (a single post refuses it).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Mapping

import regex

from ...text import apart, clusters, clusters_with, utf8_bytes, utf16_units
from .. import Departures, Platform
from ..twitter_text import extract_urls

if TYPE_CHECKING:
    from ...media import Media

MAX_LINKS = 5
# A cluster holding one of these is an emoji: pictographs (© and ® included), flags, keycaps.
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_WIDE = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3\U00010000-\U0010ffff]")  # or 2 units


# A finished post is measured twice, once by fitting (does it fit?) and once for its shown length: the
# second time is remembered.
@lru_cache(maxsize=512)
def measure(text: str) -> int:
    """The length Threads counts: each emoji cluster its UTF-8 bytes, other text its UTF-16 units."""
    if text.isascii():
        return len(text)
    return utf16_units(text) + sum(utf8_bytes(c) - utf16_units(c) for c in clusters_with(text, _EMOJI))


def links(text: str) -> int:
    """How many distinct links the text carries, as Threads limits them."""
    return len(set(_links(text)))


def _links(text: str) -> list[str]:
    """Every link in the text, in order, each time it appears (lowercased)."""
    if "." not in text:
        return []
    return [text[a:b].lower() for a, b in extract_urls(text)]


@dataclass(frozen=True)
class Threads(Platform):
    media_base_url: str = ""  # where Meta can fetch a note's images; without it images are left out

    def measure(self, text: str) -> int:
        return measure(text)

    def fits(self, text: str) -> bool:
        return 0 < measure(text) <= self.limit and links(text) <= MAX_LINKS

    def tally(self, text: str) -> tuple[int, int]:
        """The length, and every link counted each time it appears (so a post that repeats a link may be
        split where Threads would take it whole: distinct links do not add up)."""
        return measure(text), len(_links(text))

    def within(self, tally: tuple[int, ...]) -> bool:
        return 0 < tally[0] <= self.limit and tally[1] <= MAX_LINKS

    def departures(self, text: str) -> Departures:
        """One a code point and no link, but a link its length and 1, and a cluster with an emoji or a
        character outside the BMP its length."""
        links = [(a, b, (measure(text[a:b]) - (b - a), 1)) for a, b in extract_urls(text)] if "." in text else []
        wide = [(a, b, (measure(text[a:b]) - (b - a), 0)) for a, b in clusters(text, _WIDE)]
        return (1, 0), apart(links, wide)

    def configure(self, table: Mapping[str, Any]) -> "Threads":
        configured = super().configure(table)
        base = str(table.get("media_base_url") or "").strip()
        return dataclasses.replace(configured, media_base_url=base) if base else configured

    def attach(self, media: tuple["Media", ...]) -> tuple[tuple["Media", ...], tuple[str, ...]]:
        """Without ``media_base_url`` Meta cannot fetch the images: none is attached, and a warning says why."""
        if media and not self.media_base_url:
            return (), (f"{self.name}: {len(media)} image(s) left out: Threads fetches images from a public URL; "
                        "set media_base_url (e.g. the raw URL of your notes repository's default branch) to "
                        "attach them",)
        return super().attach(media)
