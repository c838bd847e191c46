"""Link cards: the title, description and image of a page a post links to, fetched once per run.

Bluesky shows a card only when the client builds ``app.bsky.embed.external`` itself, and
LinkedIn's Posts API takes an article's title, description and thumbnail from the client
(it does not read the page). So notecast reads the page: ``og:title``, ``og:description``
and ``og:image``, falling back to ``twitter:*``, ``<title>`` and ``<meta name=description>``.

A page is fetched politely and defensively: http and https only, at most
:data:`MAX_REDIRECTS` redirects, :data:`TIMEOUT` seconds for the whole fetch, at most
:data:`MAX_PAGE` bytes read (the tags are in the page's head), a User-Agent that says who asks.
Its image is downloaded once, checked by its first bytes (an SVG or anything that is not a
PNG, JPEG, GIF or WebP is left out), and re-encoded by :func:`pipeline.media.shrink` under
:data:`THUMB_BYTES` (the lexicon's limit for an external thumb), which also drops EXIF.

A card never stops a post: whatever goes wrong raises :class:`Unavailable`, which the run
turns into a warning, and the post goes without a card (or without the card's image).
Pages that worked are remembered in a :class:`Cache` (``.notecast/cards.json``) so that a
preview and a later publish show the same card.
"""
from __future__ import annotations

import codecs
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from .clock import Clock, iso
from .media import shrink

if TYPE_CHECKING:
    import requests

USER_AGENT = "Mozilla/5.0 (compatible; notecast/0.2; link preview; +https://github.com/notecast/notecast)"
TIMEOUT = 5.0  # seconds for a whole page or image, redirects included
MAX_REDIRECTS = 5
MAX_PAGE = 1_000_000  # bytes of a page read: its head is at the start
MAX_IMAGE = 10_000_000  # bytes of an image downloaded before it is shrunk
THUMB_BYTES = 1_000_000  # app.bsky.embed.external#external thumb: maxSize 1000000
THUMB_SIDE = 1200  # pixels: a card shows its image small
TITLE_MAX, DESCRIPTION_MAX = 300, 1000  # characters kept of what a page says
CACHE_VERSION = 1
# "identity": the bytes counted against MAX_PAGE are the bytes sent, not what a small gzip body expands to
HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
           "Accept": "text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.8"}
SIGNATURES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif", b"GIF89a": "image/gif"}


class Unavailable(Exception):
    """Why a page (or its image) gives no card; the run shows it as a warning and posts without."""


@dataclass(frozen=True)
class Thumb:
    """A card's image as it is uploaded: bytes without metadata, type, (width, height)."""

    data: bytes
    mime: str
    size: tuple[int, int]


@dataclass(frozen=True)
class Card:
    """A link card: the link, what its page says about itself, and when that was read."""

    uri: str  # the link as the note has it
    title: str
    description: str = ""
    image: str = ""  # the page's image, an absolute http(s) URL, or ""
    fetched: str = ""  # when the page was read (ISO 8601, UTC)
    thumb: Thumb | None = field(default=None, compare=False, repr=False)  # downloaded this run
    problem: str = field(default="", compare=False)  # why the image is left out
    cached: bool = field(default=False, compare=False)  # read from the cache, not the page

    def saved(self) -> dict[str, str]:
        """The card as the cache keeps it (no image bytes)."""
        return {"uri": self.uri, "title": self.title, "description": self.description, "image": self.image,
                "fetched": self.fetched}


# ---- reading a page -----------------------------------------------------------------


class _Head(HTMLParser):
    """Collects ``<meta property|name content>`` (first of each) and the first ``<title>``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self._title_done = False

    def handle_starttag(self, tag: str, attrs) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])
        elif tag == "title" and not self._title_done:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def parse(html: str, base: str) -> dict[str, str]:
    """What a page says about itself: ``title``, ``description`` and ``image`` (absolute, or "")."""
    head = _Head()
    try:
        head.feed(html)
        head.close()
    except Exception:  # html.parser gives up on some broken markup; what it read so far still counts
        pass
    meta = head.meta

    def first(*keys: str) -> str:
        return next((_tidy(meta[k]) for k in keys if _tidy(meta.get(k, ""))), "")

    image = first("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
    image = urljoin(base, image) if image else ""
    return {"title": _cut(first("og:title", "twitter:title") or _tidy(head.title), TITLE_MAX),
            "description": _cut(first("og:description", "twitter:description", "description"), DESCRIPTION_MAX),
            "image": image if urlsplit(image).scheme in ("http", "https") else ""}


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fetch(session: "requests.Session", url: str, clock: Clock) -> Card:
    """The card of the page at ``url`` (without its image); :class:`Unavailable` saying why not."""
    final, body, kind, charset = _get(session, url, MAX_PAGE, truncate=True)
    if "html" not in kind and not re.search(rb"<(!doctype html|html|head|meta)\b", body[:2048], re.I):
        raise Unavailable(f"it is not a web page but {kind or 'something without a type'}")
    found = parse(body.decode(_charset(charset, body), "replace"), final)
    if not found["title"] and not found["description"]:
        raise Unavailable("the page has no title or description (no og:title, twitter:title, <title> or "
                          "description tag in its first megabyte)")
    title = found["title"] or urlsplit(final).hostname or url
    return Card(url, title, found["description"], found["image"], iso(clock.now(), "seconds"))


def thumbnail(session: "requests.Session", url: str) -> Thumb:
    """The image at ``url`` made fit for a card: at most :data:`THUMB_BYTES`, no EXIF; or Unavailable."""
    try:
        _, data, kind, _ = _get(session, url, MAX_IMAGE, truncate=False)
    except Unavailable as exc:
        raise Unavailable(f"its image {url}: {exc}") from None
    head = data[:256].lstrip()
    if "svg" in kind or head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise Unavailable(f"its image {url} is an SVG drawing, which a card cannot show")
    mime = next((m for sig, m in SIGNATURES.items() if data.startswith(sig)), "")
    mime = mime or ("image/webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else "")
    if not mime:
        raise Unavailable(f"its image {url} is not a PNG, JPEG, GIF or WebP image (the server calls it "
                          f"{kind or 'nothing'})")
    try:
        from PIL import Image  # the optional extra "images": needed to strip EXIF and size the image
    except ImportError:
        raise Unavailable("notecast needs Pillow to prepare a card's image: pip install 'notecast[images]'") from None
    try:
        with Image.open(BytesIO(data)) as image:
            image.load()
            pixels = image.width * image.height
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            estimate = len(data) * image.width * image.height // max(pixels, 1)  # bytes, at the new size
            made = shrink(image, estimate, THUMB_BYTES, tries=8)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unavailable(f"its image {url} cannot be read ({exc})") from None
    if made is None:
        raise Unavailable(f"its image {url} could not be made smaller than {THUMB_BYTES:,} bytes")
    return Thumb(*made)


def _get(session: "requests.Session", url: str, limit: int, *, truncate: bool) -> tuple[str, bytes, str, str]:
    """(final URL, body, media type, charset) of a GET that follows at most MAX_REDIRECTS redirects, within
    TIMEOUT seconds; a body over ``limit`` bytes is cut there (``truncate``) or refused."""
    import requests  # 0.15 s to import: only runs that make cards need it

    deadline = time.monotonic() + TIMEOUT
    asked = url
    for _ in range(MAX_REDIRECTS + 1):
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise Unavailable(f"{url} is not an http or https address")
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=(TIMEOUT, TIMEOUT),
                                   headers=HEADERS)
        except requests.Timeout:
            raise Unavailable(f"{_host(url)} did not answer within {TIMEOUT:g} s") from None
        except requests.RequestException as exc:
            raise Unavailable(f"{_host(url)} could not be reached ({_reason(exc)}); is there a network?") from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code >= 400:
                where = "the server" if url == asked else url
                raise Unavailable(f"{where} answered {response.status_code} {response.reason or ''}".rstrip())
            kind, _, params = (response.headers.get("Content-Type") or "").partition(";")
            charset = re.search(r"charset=[\"']?([\w.:-]+)", params, re.I)
            body = _read(response, limit, deadline, truncate, url)
            return response.url or url, body, kind.strip().lower(), charset.group(1) if charset else ""
    raise Unavailable(f"{url} redirects more than {MAX_REDIRECTS} times (a loop?)")


def _read(response, limit: int, deadline: float, truncate: bool, url: str) -> bytes:
    """At most ``limit`` bytes of a streamed body, within the deadline."""
    import requests  # 0.15 s to import: only runs that make cards need it

    declared = response.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise Unavailable(f"{url} is {int(declared):,} bytes, more than the {limit:,} notecast downloads")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if not truncate:
                    raise Unavailable(f"{url} is more than the {limit:,} bytes notecast downloads")
                break
            if time.monotonic() > deadline:
                raise Unavailable(f"{_host(url)} took more than {TIMEOUT:g} s to send {url}")
    except requests.RequestException as exc:
        raise Unavailable(f"{_host(url)} stopped sending {url} ({_reason(exc)})") from None
    return b"".join(chunks)[:limit]


def _charset(declared: str, body: bytes) -> str:
    """The page's encoding: the header's, else its ``<meta charset>``, else UTF-8."""
    found = re.search(rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.I)
    for name in (declared, found.group(1).decode("ascii", "replace") if found else ""):
        try:
            return codecs.lookup(name).name
        except LookupError:  # none given (""), or a name Python does not know
            continue
    return "utf-8"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Name or service not known", "Temporary failure in name resolution", "Connection refused",
                  "No route to host", "Network is unreachable", "nodename nor servname"):
        if known in text:
            return known.lower()
    return type(exc).__name__


# ---- remembering cards ---------------------------------------------------------------


class Cache:
    """Cards that worked, by URL, in a JSON file (``.notecast/cards.json``)."""

    def __init__(self, path: Path):
        self.path = path
        self.cards: dict[str, dict[str, str]] = self._load()
        self.changed = False

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or broken: fetched again and written anew
            return {}
        cards = data.get("cards") if isinstance(data, dict) else None
        return {url: entry for url, entry in (cards or {}).items()
                if isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("uri", "title"))}

    def get(self, url: str) -> Card | None:
        entry = self.cards.get(url)
        if entry is None:
            return None
        return Card(entry["uri"], entry["title"], *(str(entry.get(k) or "") for k in ("description", "image",
                                                                                      "fetched")), cached=True)

    def put(self, card: Card) -> None:
        self.cards[card.uri] = card.saved()
        self.changed = True

    def save(self) -> None:
        """Write the file if a card was added (atomically: a crash leaves the old one)."""
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"v": CACHE_VERSION, "cards": dict(sorted(self.cards.items()))}, ensure_ascii=False,
                          indent=2) + "\n"
        handle, temporary = tempfile.mkstemp(prefix=".cards-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        self.changed = False


class Cards:
    """The cards of one run: each page and each image fetched at most once, pages kept in ``cache``."""

    def __init__(self, cache: Cache | None, clock: Clock, session: "requests.Session | None" = None):
        self.cache = cache
        self.clock = clock
        self._session = session
        self._pages: dict[str, Card | Unavailable] = {}
        self._images: dict[str, Thumb | Unavailable] = {}

    def card(self, url: str) -> Card:
        """The card of ``url`` with its image (or the reason it has none); Unavailable if there is no card."""
        if url not in self._pages:
            self._pages[url] = self._page(url)
        found = self._pages[url]
        if isinstance(found, Unavailable):
            raise found
        if not found.image:
            return found
        if found.image not in self._images:
            try:
                self._images[found.image] = thumbnail(self.session, found.image)
            except Unavailable as exc:
                self._images[found.image] = exc
        image = self._images[found.image]
        if isinstance(image, Unavailable):
            return replace(found, problem=str(image))
        return replace(found, thumb=image)

    def _page(self, url: str) -> Card | Unavailable:
        cached = self.cache.get(url) if self.cache else None
        if cached:
            return cached
        try:
            card = fetch(self.session, url, self.clock)
        except Unavailable as exc:
            return exc
        if self.cache:
            self.cache.put(card)
        return card

    @property
    def session(self) -> "requests.Session":
        if self._session is None:
            import requests  # 0.15 s to import: only runs that make cards need it

            self._session = requests.Session()
        return self._session
