"""X: 280 weighted characters per post as twitter-text v3 counts them, in threads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import Platform, Setting


@dataclass(frozen=True)
class X(Platform):
    def measure(self, text: str) -> int:
        from .twitter_text import weighted_length

        return weighted_length(text)

    def fits(self, text: str) -> bool:
        from .twitter_text import parse

        parsed = parse(text)
        return 0 < parsed.weighted_length <= self.limit and not any(c in text for c in "\ufffe\ufeff\uffff")

    def publisher(self, session, settings: Mapping[str, Any]):
        from ..publishers.x import XPublisher

        return XPublisher(session, settings)


platform = X(
    name="x",
    title="X",
    limit=280,
    threads=True,
    max_images=4,
    alt_limit=1000,
    settings=(
        Setting("api_key", secret=True, placeholder="<NOTECAST_X_API_KEY>"),
        Setting("api_secret", secret=True, placeholder="<NOTECAST_X_API_SECRET>"),
        Setting("access_token", secret=True, placeholder="<NOTECAST_X_ACCESS_TOKEN>"),
        Setting("access_secret", secret=True, placeholder="<NOTECAST_X_ACCESS_SECRET>"),
        Setting("api", default="https://api.x.com", help="API base URL"),
    ),
)
