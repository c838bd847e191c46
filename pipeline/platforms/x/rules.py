"""X: 280 weighted characters per post as twitter-text v3 counts them, in threads, priced per post.

X's API is pay-per-use: each post is billed, one that contains a link much more, and so is each image's
alt text (a media metadata request). The defaults are X's published prices as read on 2026-11-29 from
https://docs.x.com/x-api/getting-started/pricing ("Content: Create" $0.015 per request, "Content: Create
(with URL)" $0.200, "Media Metadata" $0.005); X says prices are subject to change and shows the current
rates in its Developer Console, so each is a setting (``price_post``, ``price_post_with_link``,
``price_alt_text`` in ``[platforms.x]``, in US dollars). A media upload is not in that table and is not
counted.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Mapping

from ...errors import UsageError
from .. import Departures, Platform
from ..twitter_text import extract_urls, heavy_spans, weighted_length

if TYPE_CHECKING:
    from ...publisher import Part

PRICE_POST = 0.015  # USD, "Content: Create", read 2026-11-29
PRICE_POST_WITH_LINK = 0.200  # USD, "Content: Create (with URL)", read 2026-11-29
PRICE_ALT_TEXT = 0.005  # USD, "Media Metadata", read 2026-11-29
INVALID = "\ufffe\ufeff\uffff"  # twitter-text's invalid characters: a post holding one is refused
PRICES = ("price_post", "price_post_with_link", "price_alt_text")  # the settings configure reads
# A finished post is measured twice, once by fitting (does it fit?) and once for its shown length: the
# second time is remembered.
_weight = lru_cache(maxsize=512)(weighted_length)


@dataclass(frozen=True)
class X(Platform):
    price_post: float = PRICE_POST
    price_post_with_link: float = PRICE_POST_WITH_LINK
    price_alt_text: float = PRICE_ALT_TEXT

    def measure(self, text: str) -> int:
        return _weight(text)

    def tally(self, text: str) -> tuple[int, int]:
        """The weight, and how many characters twitter-text refuses (URLs and emoji never hold whitespace)."""
        return _weight(text), sum(text.count(c) for c in INVALID) if not text.isascii() else 0

    def within(self, tally: tuple[int, ...]) -> bool:
        return 0 < tally[0] <= self.limit and not tally[1]

    def departures(self, text: str) -> Departures | None:
        """One a code point and none refused, but what twitter-text weighs otherwise (a URL 23, an emoji or a
        wide character 2), a refused character among them."""
        spans = heavy_spans(text)
        if spans is None:
            return None
        if text.isascii() or not any(c in text for c in INVALID):
            return (1, 0), [(a, b, (weight - (b - a), 0)) for a, b, weight in spans]
        return (1, 0), [(a, b, (weight - (b - a), sum(text.count(c, a, b) for c in INVALID))) for a, b, weight in spans]

    def configure(self, table: Mapping[str, Any]) -> "X":
        """A copy with the user's overrides, prices included."""
        configured = super().configure(table)
        prices = {key: _price(key, table[key]) for key in PRICES if table.get(key) not in (None, "")}
        return dataclasses.replace(configured, **prices) if prices else configured

    def cost(self, part: "Part") -> float:
        """The post (more if its text has a link, as X counts links), plus one metadata request per alt text."""
        post = self.price_post_with_link if extract_urls(part.text) else self.price_post
        return post + self.price_alt_text * sum(1 for m in part.media if m.alt)


def _price(key: str, value: Any) -> float:
    """A price setting as US dollars; a usage error naming the setting otherwise."""
    try:
        price = float(value)
    except (TypeError, ValueError):
        price = -1.0
    if not 0 <= price < 1000:
        raise UsageError(f"[platforms.x] {key} must be a price in US dollars such as 0.015, not {value!r}")
    return price
