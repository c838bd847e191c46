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
from datetime import datetime
from typing import Any, Mapping

from ...publisher import Finding
from ...text import utf16_units
from .. import Departures, Platform

FOLD_CHARS = 210  # where "…see more" folds a post: a planning figure, not a documented rule
FOLD_LINES = 3
RESERVED_CHARACTERS = "\\|{}@[]()<>#*_~"  # the backslash first (see _escaped)
# What takes two UTF-16 units once escaped: a reserved character (but a live hashtag's #), or one outside the BMP.
WIDE = re.compile(f"[{re.escape(RESERVED_CHARACTERS)}\U00010000-\U0010ffff]")
# A hashtag at the start of the text or after white space (the look-behind after the "#", so that only a
# "#" starts a search).
LIVE_HASHTAG = re.compile(r"#(?<!\S#)[^\W_]\w*")
AUTHOR = re.compile(r"urn:li:(person|organization):[^\s/]+")
VERSION = re.compile(r"(20\d\d)(0[1-9]|1[0-2])")  # LinkedIn-Version: YYYYMM
# LinkedIn supports each monthly version "for a minimum of one year before sunset" and then answers
# 426 NONEXISTENT_VERSION (learn.microsoft.com/en-us/linkedin/marketing/versioning; the migrations page lists
# sunsets in the middle of the month a year later). Counted from the 1st of the version's month, so a little early.
VERSION_RETIRED = 12  # months
VERSION_WARN = 10  # months: time to move to a newer version
VERSION_HINT = ("set NOTECAST_LINKEDIN_VERSION (or version in [platforms.linkedin]) to a recent month as YYYYMM; "
                "LinkedIn lists its versions at https://learn.microsoft.com/en-us/linkedin/marketing/versioning")


def escape(text: str) -> str:
    """Escape every reserved character except the ``#`` of a live hashtag."""
    out, pos = [], 0
    for match in LIVE_HASHTAG.finditer(text):
        out.append(_escaped(text[pos:match.start()]))
        out.append("#" + _escaped(match.group(0)[1:]))
        pos = match.end()
    out.append(_escaped(text[pos:]))
    return "".join(out)


def _escaped(text: str) -> str:
    """Each reserved character with a backslash before it. (The backslash first, so that no backslash added
    is escaped again; one str.replace a character present is a tenth of str.translate's time on a post.)"""
    for char in RESERVED_CHARACTERS:
        if char in text:
            text = text.replace(char, "\\" + char)
    return text


def measure(text: str) -> int:
    """The escaped text's length in UTF-16 code units: each reserved character but a live hashtag's ``#``
    takes a backslash more."""
    live = len(LIVE_HASHTAG.findall(text)) if "#" in text else 0
    return utf16_units(text) + sum(map(text.count, RESERVED_CHARACTERS)) - live


@dataclass(frozen=True)
class LinkedIn(Platform):
    def measure(self, text: str) -> int:
        return measure(text)

    def escape(self, text: str) -> str:
        return escape(text)

    def departures(self, text: str) -> Departures:
        """One a code point, but two for a reserved character (its backslash) or one outside the BMP."""
        live = {m.start() for m in LIVE_HASHTAG.finditer(text)} if "#" in text else ()
        return (1,), [(m.start(), m.end(), (1,)) for m in WIDE.finditer(text) if m.start() not in live]

    def link(self, label: str, url: str) -> str:
        if not label or label == url or url.endswith("://" + label):
            return url
        return f"{label} ({url})"

    def finish(self, text: str) -> dict[str, Any]:
        return {"text": escape(text)}

    def check_settings(self, values: Mapping[str, str], now: datetime) -> list[Finding]:
        """The author's URN and the age of the ``LinkedIn-Version`` (retired about a year after release)."""
        found = super().check_settings(values, now)
        author = (values.get("author") or "").strip()
        if not AUTHOR.fullmatch(author):
            found.append(Finding(self.name, "error", f"NOTECAST_LINKEDIN_AUTHOR {author or '(empty)'!r} is not "
                                 "urn:li:person:… or urn:li:organization:…",
                                 "set it to urn:li:person:<sub> (the sub of GET https://api.linkedin.com/v2/userinfo "
                                 "with the same token) or urn:li:organization:<Page id>"))
        found.extend(version_findings(self.name, (values.get("version") or "").strip(), now))
        return found

    def fold(self, text: str) -> int | None:
        """Where LinkedIn is likely to fold a post behind "…see more": 3 lines or 210 characters."""
        lines = text.split("\n")
        cut = min(FOLD_CHARS, sum(len(line) + 1 for line in lines[:FOLD_LINES]) - 1)
        return cut if len(text) > cut else None



def version_findings(name: str, version: str, now: datetime) -> list[Finding]:
    """Whether LinkedIn still serves API ``version`` (YYYYMM) at ``now``: an error from 12 months, a warning from 10."""
    match = VERSION.fullmatch(version)
    if not match:
        return [Finding(name, "error", f"LinkedIn-Version {version or '(empty)'!r} is not a month as YYYYMM",
                        VERSION_HINT)]
    age = (now.year * 12 + now.month) - (int(match.group(1)) * 12 + int(match.group(2)))
    if age < 0:
        return [Finding(name, "warning", f"LinkedIn-Version {version} is a month still to come; LinkedIn answers "
                        "only versions already released", VERSION_HINT)]
    if age >= VERSION_RETIRED:
        return [Finding(name, "error", f"LinkedIn-Version {version} is {age} months old: LinkedIn retires a version "
                        "about a year after its release and then refuses every request (426 NONEXISTENT_VERSION)",
                        VERSION_HINT)]
    if age >= VERSION_WARN:
        return [Finding(name, "warning", f"LinkedIn-Version {version} is {age} months old and will be retired about "
                        "a year after its release", VERSION_HINT)]
    return []
