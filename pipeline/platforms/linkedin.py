"""LinkedIn: one post of up to 3,000 characters in the "little" text format.

Reserved characters (``\\ | { } @ [ ] ( ) < > # * _ ~``) must be escaped with a
backslash, or LinkedIn accepts the post and silently cuts it at the first
unescaped one. Hashtags at the start of a word stay live. The length is
counted on the escaped text in UTF-16 code units, the strictest reading of a
limit whose unit LinkedIn does not document.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..text import utf16_units
from . import Platform, Setting

RESERVED = re.compile(r"[\\|{}@\[\]()<>#*_~]")
LIVE_HASHTAG = re.compile(r"(?:(?<=\s)|^)#[^\W_][\w]*", re.M)


def escape(text: str) -> str:
    """Escape every reserved character except the ``#`` of a live hashtag."""
    out, pos = [], 0
    for match in LIVE_HASHTAG.finditer(text):
        out.append(RESERVED.sub(r"\\\g<0>", text[pos:match.start()]))
        out.append("#" + RESERVED.sub(r"\\\g<0>", match.group(0)[1:]))
        pos = match.end()
    out.append(RESERVED.sub(r"\\\g<0>", text[pos:]))
    return "".join(out)


@dataclass(frozen=True)
class LinkedIn(Platform):
    def measure(self, text: str) -> int:
        return utf16_units(escape(text))

    def escape(self, text: str) -> str:
        return escape(text)

    def link(self, label: str, url: str) -> str:
        if not label or label == url or url.endswith("://" + label):
            return url
        return f"{label} ({url})"

    def finish(self, text: str) -> dict[str, Any]:
        return {"text": escape(text)}

    def publisher(self, session, settings: Mapping[str, Any]):
        from ..publishers.linkedin import LinkedInPublisher

        return LinkedInPublisher(session, settings)


platform = LinkedIn(
    name="linkedin",
    title="LinkedIn",
    limit=3000,
    threads=False,
    max_images=20,
    alt_limit=4086,
    overflow="truncate",
    settings=(
        Setting("author", placeholder="urn:li:person:YOUR-ID", help="urn:li:person:… or urn:li:organization:…"),
        Setting("token", secret=True, placeholder="<NOTECAST_LINKEDIN_TOKEN>", help="OAuth access token (60 days)"),
        Setting("version", default="202609", help="LinkedIn-Version header, YYYYMM"),
        Setting("api", default="https://api.linkedin.com", help="API base URL"),
    ),
)
