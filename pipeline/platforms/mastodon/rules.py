"""Mastodon: 500 characters by default (the instance decides), in threads.

The server counts grapheme clusters of the content warning plus the text;
every ``http(s)://`` URL counts 23 and ``@user@domain`` counts as ``@user``, unless the domain is
longer than a domain name can be (253 characters): the server does not take that as a mention, so
it counts in full.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import datetime
from typing import Any, Mapping

from ...publisher import Finding
from ...text import apart, grapheme_count, joined
from .. import Departures, Platform
from ..twitter_text import extract_urls

URL_LENGTH = 23
VISIBILITIES = ("public", "unlisted", "private", "direct")
REMOTE_MENTION = re.compile(r"(?<![\w@])(@[\w.]+)@([\w.-]+\.\w+)", re.A)
MAX_DOMAIN = 253  # the longest domain name DNS allows


def urls(text: str) -> list[tuple[int, int]]:
    """Spans of the URLs Mastodon shortens: twitter-text's, with an http(s) scheme."""
    if "://" not in text:
        return []
    return [(a, b) for a, b in extract_urls(text) if re.match(r"https?://", text[a:b], re.I)]


def measure(text: str, spoiler: str = "") -> int:
    return grapheme_count(spoiler) + _count(text)


# A finished post is measured twice, once by fitting (does it fit?) and once for its shown length: the
# second time is remembered.
@lru_cache(maxsize=512)
def _count(text: str) -> int:
    spans = urls(text)
    if spans:
        parts, pos = [], 0
        for a, b in spans:
            parts.append(text[pos:a] + "x" * URL_LENGTH)
            pos = b
        text = "".join(parts) + text[pos:]
    if "@" in text:
        text = REMOTE_MENTION.sub(_counted_mention, text)
    return grapheme_count(text)


def _counted_mention(match: re.Match) -> str:
    """A remote mention as the server counts it: ``@user``, or in full when its domain is too long."""
    return match.group(0) if len(match.group(2)) > MAX_DOMAIN else match.group(1)


@dataclass(frozen=True)
class Mastodon(Platform):
    content_warning: str = ""  # spoiler_text: shown before the post, and counted in its budget

    def measure(self, text: str) -> int:
        return self._warning_count + _count(text)

    def tally(self, text: str) -> tuple[int]:
        """The text's count without the content warning, which every post carries once."""
        return (measure(text),)

    def within(self, tally: tuple[int, ...]) -> bool:
        return 0 < tally[0] + self._warning_count <= self.limit

    @cached_property  # (kept in the instance's __dict__: a frozen dataclass's fields, eq and hash are untouched)
    def _warning_count(self) -> int:
        return grapheme_count(self.content_warning)

    def departures(self, text: str) -> Departures:
        """One a code point, but a URL 23, a remote mention its ``@user`` and a cluster of several code points 1."""
        found = [(a, b, (URL_LENGTH - (b - a),)) for a, b in urls(text)]
        mentions = [(m.start(), m.end(), (-1 - len(m.group(2)),)) for m in REMOTE_MENTION.finditer(text)
                    if len(m.group(2)) <= MAX_DOMAIN] if "@" in text else []
        return (1,), apart(found, mentions, [(a, b, (1 - (b - a),)) for a, b in joined(text)])

    def configure(self, table: Mapping[str, Any]) -> "Mastodon":
        configured = super().configure(table)
        warning = str(table.get("content_warning") or "").strip()
        return dataclasses.replace(configured, content_warning=warning) if warning else configured

    def finish(self, text: str) -> dict[str, Any]:
        return {"text": text, **({"spoiler_text": self.content_warning} if self.content_warning else {})}


    def check_settings(self, values: Mapping[str, str], now: datetime) -> list[Finding]:
        """The instance's address, and a visibility Mastodon knows."""
        found = super().check_settings(values, now)
        visibility = (values.get("visibility") or "public").strip()
        if visibility not in VISIBILITIES:
            found.append(Finding(self.name, "error",
                                 f"visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}",
                                 "set NOTECAST_MASTODON_VISIBILITY (or visibility in [platforms.mastodon]) to one "
                                 "of them"))
        return found
