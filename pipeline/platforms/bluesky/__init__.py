"""Bluesky: threads of 300 graphemes with facets (rules.py), sent as AT Protocol records (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import BlueskyPublisher
from .rules import Bluesky

__all__ = ["platform"]

platform = Bluesky(
    name="bluesky",
    title="Bluesky",
    limit=300,
    threads=True,
    max_images=4,
    alt_limit=2000,
    cards=True,
    settings=(
        Setting("service", url=True, default="https://bsky.social", help="your PDS (or https://bsky.social)"),
        Setting("handle", placeholder="you.bsky.social"),
        Setting("app_password", secret=True, placeholder="<NOTECAST_BLUESKY_APP_PASSWORD>", help="an app password, never your account password"),
    ),
    publisher_class=BlueskyPublisher,
)
