"""Links whose shown text differs from their target, carried through plain strings.

A rendered draft is a string, but on Bluesky a link shows short text while a
facet keeps the whole URL. Such a link travels as
``LINK_START url LINK_MID shown LINK_END`` (private-use code points that never
occur in a note: :func:`clean` removes them from input). The fitter treats one
as a single unbreakable token; the platform measures only the shown text and
turns markers into facets when a post is final.
"""
from __future__ import annotations

import re

LINK_START, LINK_MID, LINK_END = "\ue000", "\ue001", "\ue002"
MARKED = re.compile(f"{LINK_START}([^{LINK_MID}]*){LINK_MID}([^{LINK_END}]*){LINK_END}")


def link(url: str, shown: str) -> str:
    """Encode a link shown as ``shown`` that points at ``url``."""
    return f"{LINK_START}{url}{LINK_MID}{shown}{LINK_END}"


def shown(text: str) -> str:
    """The text as a reader sees it: markers replaced by their shown text."""
    return MARKED.sub(r"\2", text) if LINK_START in text else text


def links(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The shown text and each marked link as (start, end, url) in str indices of it."""
    out, found, pos = [], [], 0
    length = 0
    for match in MARKED.finditer(text):
        before = text[pos:match.start()]
        out.append(before)
        length += len(before)
        out.append(match.group(2))
        found.append((length, length + len(match.group(2)), match.group(1)))
        length += len(match.group(2))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out), found


def clean(text: str) -> str:
    """Remove marker code points from untrusted input."""
    return text.translate({ord(LINK_START): None, ord(LINK_MID): None, ord(LINK_END): None})
