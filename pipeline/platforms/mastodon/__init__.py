"""Mastodon: threads within the instance's limit (rules.py), sent as statuses (publisher.py)."""
from __future__ import annotations

from .. import Setting
from .publisher import MastodonPublisher
from .rules import Mastodon

__all__ = ["platform"]

platform = Mastodon(
    name="mastodon",
    title="Mastodon",
    limit=500,
    threads=True,
    max_images=4,
    alt_limit=1500,
    hashtag_style="camel",
    settings=(
        Setting("instance", url=True, placeholder="https://mastodon.example", help="your instance's URL"),
        Setting("token", secret=True, placeholder="<NOTECAST_MASTODON_TOKEN>", help="access token: write:statuses write:media read:accounts read:statuses"),
        Setting("max_characters", help="the instance's limit (default: asked from the instance, else 500)"),
        Setting("visibility", default="public", help="public, unlisted, private or direct"),
        Setting("content_warning", help="a content warning (spoiler_text) for every post; usually set per note"),
    ),
    publisher_class=MastodonPublisher,
)
