"""Bluesky: 300 grapheme clusters and 3,000 UTF-8 bytes per post, in threads.

Links show short text in the post while a link facet keeps the whole URL;
hashtags get tag facets. Facet offsets are UTF-8 byte offsets into the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Any, Mapping

from ... import richtext
from ...publisher import Finding
from ...text import apart, grapheme_count, joined, merged, utf8_bytes
from .. import Departures, Platform

MAX_BYTES = 3000
SHOWN_URL = 27  # characters of a bare URL shown before an ellipsis
BARE_URL = re.compile(r"https?://[^\s\ue000-\ue002]+[^\s.,;:!?'\")\]\ue000-\ue002]")
# A handle is a domain name (atproto.com/specs/handle); "@alice.bsky.social." ends before the full stop.
MENTION = re.compile(r"(?:(?<=[\s(])|^)@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
                     r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?![\w.-]*[\w-])", re.M)
APP_PASSWORD = re.compile(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}")  # how Bluesky shows an app password: xxxx-xxxx-xxxx-xxxx
# Runs of non-ASCII characters, apart at whitespace, after CJK full stops (where posts may break) and at
# the marks of a link (which is measured whole).
WIDE_RUN = re.compile(r"[^\x00-\x7f\s。！？\ue000-\ue002]+[。！？]*|[^\x00-\x7f]")
TAG = re.compile(r"(?:(?<=\s)|^)#([^\d\s\W_][\w-]*|\d+[^\d\s\W][\w-]*)", re.M)


def short_url(url: str) -> str:
    """``https://example.com/a/long/path`` -> ``example.com/a/long/pa…``."""
    bare = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return bare if len(bare) <= SHOWN_URL else bare[: SHOWN_URL - 1] + "…"


def facets(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The shown text and its link and tag facets, in UTF-8 byte offsets."""
    shown, marked = richtext.links(text)
    spans: list[tuple[int, int, dict[str, Any]]] = [
        (a, b, {"$type": "app.bsky.richtext.facet#link", "uri": url}) for a, b, url in marked]
    taken = [(a, b) for a, b, _ in spans]

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for match in BARE_URL.finditer(shown) if "://" in shown else ():
        if free(*match.span()):
            spans.append((*match.span(), {"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}))
            taken.append(match.span())
    for match in TAG.finditer(shown) if "#" in shown else ():
        tag = match.group(1)
        if free(*match.span()) and len(tag) <= 64:
            spans.append((*match.span(), {"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
    spans.sort(key=lambda s: s[0])
    return shown, [_facet(shown, a, b, feature) for a, b, feature in spans]


def mentions(shown: str, taken: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``@handle`` mentions in the shown text, outside the ``taken`` facets: ``{"index", "handle"}``.

    A mention facet needs the account's DID, which only the network knows: the publisher resolves each
    handle when it posts, and a handle that does not resolve stays plain text, as in Bluesky's own app.
    """
    spans = [(f["index"]["byteStart"], f["index"]["byteEnd"]) for f in taken]
    out = []
    for match in MENTION.finditer(shown):
        index = _facet(shown, *match.span(), {})["index"]
        if all(index["byteEnd"] <= a or index["byteStart"] >= b for a, b in spans):
            out.append({"index": index, "handle": match.group(1).lower()})
    return out


def _facet(shown: str, a: int, b: int, feature: dict[str, Any]) -> dict[str, Any]:
    start = utf8_bytes(shown[:a])
    return {"index": {"byteStart": start, "byteEnd": start + utf8_bytes(shown[a:b])}, "features": [feature]}


# A finished post is measured twice, once by fitting (does it fit?) and once for its shown length: the
# second time is remembered.
@lru_cache(maxsize=512)
def _counts(text: str) -> tuple[int, int]:
    shown = richtext.shown(text)
    return grapheme_count(shown), utf8_bytes(shown)


@dataclass(frozen=True)
class Bluesky(Platform):
    def measure(self, text: str) -> int:
        return _counts(text)[0]

    def tally(self, text: str) -> tuple[int, int]:
        """Grapheme clusters and UTF-8 bytes of the shown text (a marked link never holds a break)."""
        return _counts(text)

    def within(self, tally: tuple[int, ...]) -> bool:
        return 0 < tally[0] <= self.limit and tally[1] <= MAX_BYTES

    def departures(self, text: str) -> Departures:
        """One cluster and one byte a code point, but a marked link its shown text, and a run of non-ASCII
        characters (with any cluster of several code points it is part of, and a CR LF) its clusters and
        bytes."""
        marked = [(m.start(), m.end(), (grapheme_count(m.group(2)) - m.end() + m.start(),
                                        utf8_bytes(m.group(2)) - m.end() + m.start()))
                  for m in richtext.MARKED.finditer(text)] if richtext.LINK_START in text else []
        # a run of non-ASCII characters departs by its bytes, a cluster of several code points by its clusters:
        # one that overlaps runs is one span with them (the two measures add up)
        wide = [(a, b, (0, utf8_bytes(text[a:b]) - b + a)) for a, b in
                (m.span() for m in WIDE_RUN.finditer(text))] if not text.isascii() else []
        several = joined(text)
        if several:
            wide = merged(wide + [(a, b, (1 - b + a, 0)) for a, b in several])
        return (1, 1), apart(marked, wide)

    def link(self, label: str, url: str) -> str:
        if not label or label == url or label == re.sub(r"^https?://", "", url):
            return richtext.link(url, short_url(url))
        return richtext.link(url, label)

    def finish(self, text: str) -> dict[str, Any]:
        shown, found = facets(text)
        named = mentions(shown, found) if "@" in shown else []
        return {"text": shown, "facets": found, **({"mentions": named} if named else {})}


    def check_settings(self, values: Mapping[str, str], now: datetime) -> list[Finding]:
        """The server's address, and a password shaped like an app password."""
        found = super().check_settings(values, now)
        password = (values.get("app_password") or "").strip()
        if password and not APP_PASSWORD.fullmatch(password):
            found.append(Finding(self.name, "warning", "NOTECAST_BLUESKY_APP_PASSWORD does not look like an app "
                                 "password (xxxx-xxxx-xxxx-xxxx): is it your account password?",
                                 "create an app password in Bluesky (Settings → Privacy and security → App "
                                 "passwords) and use it instead; never give notecast your account password"))
        return found
