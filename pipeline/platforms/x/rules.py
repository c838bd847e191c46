"""X: 280 weighted characters per post as twitter-text v3 counts them, in threads."""
from __future__ import annotations

from dataclasses import dataclass

from .. import Platform
from ..twitter_text import parse, weighted_length


@dataclass(frozen=True)
class X(Platform):
    def measure(self, text: str) -> int:
        return weighted_length(text)

    def fits(self, text: str) -> bool:
        parsed = parse(text)
        return 0 < parsed.weighted_length <= self.limit and not any(c in text for c in "\ufffe\ufeff\uffff")

