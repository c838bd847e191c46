"""X: threads of 280 weighted characters (rules.py, twitter-text v3), sent through API v2 (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import XPublisher
from .rules import X

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
        Setting("api", default="https://api.x.com", help="API base URL"),
    ),
    publisher_class=XPublisher,
)
