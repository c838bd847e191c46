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
from typing import Any

from ...text import utf16_units
from .. import Platform

FOLD_CHARS = 210  # where "…see more" folds a post: a planning figure, not a documented rule
FOLD_LINES = 3
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

    def fold(self, text: str) -> int | None:
        """Where LinkedIn is likely to fold a post behind "…see more": 3 lines or 210 characters."""
        lines = text.split("\n")
        cut = min(FOLD_CHARS, sum(len(line) + 1 for line in lines[:FOLD_LINES]) - 1)
        return cut if len(text) > cut else None

