"""X: threads of 280 weighted characters (rules.py, twitter-text v3), sent through API v2 (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import XPublisher
from .rules import PRICE_ALT_TEXT, PRICE_POST, PRICE_POST_WITH_LINK, X

__all__ = ["platform"]

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
        Setting("api", url=True, default="https://api.x.com", help="API base URL"),
        Setting("price_post", default=str(PRICE_POST), help="US dollars X bills per post (dry-run estimate)"),
        Setting("price_post_with_link", default=str(PRICE_POST_WITH_LINK),
                help="US dollars X bills per post that contains a link (dry-run estimate)"),
        Setting("price_alt_text", default=str(PRICE_ALT_TEXT),
                help="US dollars X bills per image alt text, a media metadata request (dry-run estimate)"),
    ),
    publisher_class=XPublisher,
)
