"""Mastodon: 500 characters by default (the instance decides), in threads.

The server counts grapheme clusters of the content warning plus the text;
every ``http(s)://`` URL counts 23 and ``@user@domain`` counts as ``@user``.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..text import grapheme_count
from . import Platform, Setting

URL_LENGTH = 23
REMOTE_MENTION = re.compile(r"(?<![\w@])(@[\w.]+)@[\w.-]+\.\w+", re.A)


def urls(text: str) -> list[tuple[int, int]]:
    """Spans of the URLs Mastodon shortens: twitter-text's, with an http(s) scheme."""
    if "://" not in text:
        return []
    from .twitter_text import extract_urls

    return [(a, b) for a, b in extract_urls(text) if re.match(r"https?://", text[a:b], re.I)]


def measure(text: str, spoiler: str = "") -> int:
    spans = urls(text)
    if spans:
        parts, pos = [], 0
        for a, b in spans:
            parts.append(text[pos:a] + "x" * URL_LENGTH)
            pos = b
        text = "".join(parts) + text[pos:]
    if "@" in text:
        text = REMOTE_MENTION.sub(r"\1", text)
    return grapheme_count(spoiler) + grapheme_count(text)


@dataclass(frozen=True)
class Mastodon(Platform):
    content_warning: str = ""  # spoiler_text: shown before the post, and counted in its budget

    def measure(self, text: str) -> int:
        return measure(text, self.content_warning)

    def configure(self, table: Mapping[str, Any]) -> "Mastodon":
        configured = super().configure(table)
        warning = str(table.get("content_warning") or "").strip()
        return dataclasses.replace(configured, content_warning=warning) if warning else configured

    def finish(self, text: str) -> dict[str, Any]:
        return {"text": text, **({"spoiler_text": self.content_warning} if self.content_warning else {})}

    def publisher(self, session, settings: Mapping[str, Any]):
        from ..publishers.mastodon import MastodonPublisher

        return MastodonPublisher(session, settings)


platform = Mastodon(
    name="mastodon",
    title="Mastodon",
    limit=500,
    threads=True,
    max_images=4,
    alt_limit=1500,
    hashtag_style="camel",
    settings=(
        Setting("instance", placeholder="https://mastodon.example", help="your instance's URL"),
        Setting("token", secret=True, placeholder="<NOTECAST_MASTODON_TOKEN>", help="access token: write:statuses write:media read:accounts read:statuses"),
        Setting("max_characters", help="the instance's limit (default: asked from the instance, else 500)"),
        Setting("visibility", default="public", help="public, unlisted, private or direct"),
        Setting("content_warning", help="a content warning (spoiler_text) for every post; usually set per note"),
    ),
)
