"""Platforms: what every platform declares, and the registry that finds them.

A platform is one package, ``pipeline/platforms/<name>/``: ``rules.py`` (limit,
counting, escaping, facets), ``publisher.py`` (HTTP; it depends on the rules,
never the reverse) and an ``__init__`` that wires them into ``platform``, an
instance of a :class:`Platform` subclass. That object is registered under the
entry-point group ``notecast.publishers`` (our own built-ins too, exactly as a
third-party package would). Text helpers that several platforms share live
beside the packages (``twitter_text.py``). Nothing outside a platform package
counts length or branches on a platform's name.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urlsplit

from ..clock import SYSTEM, Clock
from ..errors import UsageError
from ..publisher import EXPIRY_NOTICE, Finding

if TYPE_CHECKING:
    import requests

    from ..media import Media
    from ..publisher import Part, Publisher

GROUP = "notecast.publishers"
# What Platform.departures says of a text: the tally of one ordinary code point, and each (start, end, extra)
# span whose tally is not its length times that, with what its tally is more (or less).
Departures = tuple[tuple[int, ...], list[tuple[int, int, tuple[int, ...]]]]
BUILTIN_ORDER = ("linkedin", "x", "bluesky", "mastodon", "threads")


@dataclass(frozen=True)
class Setting:
    """A platform setting: from ``[platforms.<name>]`` or ``NOTECAST_<NAME>_<KEY>``."""

    key: str
    secret: bool = False
    default: str | None = None
    placeholder: str = ""
    help: str = ""
    expires: bool = False  # a date (YYYY-MM-DD) the credential stops working: doctor warns ahead of it
    url: bool = False  # an http(s) address (a bare host name means https://host)
    doctor: bool = False  # read only by `notecast doctor`: publishing never needs it


@dataclass(frozen=True)
class Platform:
    """The rules one platform imposes on a post's text."""

    name: str = ""
    title: str = ""
    limit: int = 0
    threads: bool = False
    max_images: int = 4
    alt_limit: int = 1000
    overflow: str = "thread"  # thread | truncate | error | comment
    numbering: str = "off"  # off | on | a format with {i} and {n}
    settings: tuple[Setting, ...] = ()
    hashtag_style: str = "as-is"  # as-is | camel
    cards: bool = False  # the client must make a shared link's preview card (the server does not)
    publisher_class: Callable[..., "Publisher"] | None = field(default=None, compare=False, repr=False)

    def measure(self, text: str) -> int:
        """The length of ``text`` as the platform counts it."""
        raise NotImplementedError

    def fits(self, text: str) -> bool:
        """Whether ``text`` is within the platform's limits, measured whole."""
        return self.within(self.tally(text))

    def tally(self, text: str) -> tuple[int, ...]:
        """Measures of ``text`` that add up: the tally of texts joined at whitespace is the sum of theirs.

        Fitting adds up the tallies of the pieces it puts together instead of measuring each candidate
        post, and checks only each finished post with :meth:`fits`. Where a tally does not add up for some
        text (a platform that cannot say more than ``measure``), that check fails and fitting measures every
        candidate instead: slower, never wrong.
        """
        return (self.measure(text),)

    def within(self, tally: tuple[int, ...]) -> bool:
        """Whether a text of this :meth:`tally` fits (what :meth:`fits` says of the text)."""
        return 0 < tally[0] <= self.limit

    def departures(self, text: str) -> Departures | None:
        """:meth:`tally` at a glance, for fitting: the tally of one ordinary code point, and the spans of
        ``text`` whose tally is not their length times that (a URL, a wide character, a cluster of several
        code points), in order and apart, each with what its tally is more (or less).

        The tally of a piece ``text[a:b]`` that cuts no span is then ``b - a`` ordinary code points plus
        what its spans add, so fitting measures a text once, however many candidate posts it tries. Where
        that does not hold for some piece, the finished post's check catches it (see :meth:`tally`). None
        (the default): fitting tallies each word of ``text`` instead.
        """
        return None

    def escape(self, text: str) -> str:
        """Text as the platform must receive it to show it literally."""
        return text

    def configure(self, table: Mapping[str, Any]) -> "Platform":
        """A copy with the user's overrides (limit, overflow, numbering) applied."""
        changes: dict[str, Any] = {}
        for key in ("limit", "max_characters"):
            if table.get(key) not in (None, ""):
                try:
                    changes["limit"] = int(table[key])
                except (TypeError, ValueError):
                    raise UsageError(f"[platforms.{self.name}] {key} must be a whole number, not {table[key]!r}") from None
        if table.get("overflow"):
            policy = str(table["overflow"])
            allowed = ("thread", "truncate", "error", "comment") if self.threads else ("truncate", "error", "comment")
            if policy not in allowed:
                raise UsageError(f"[platforms.{self.name}] overflow {policy!r} is not one of {', '.join(allowed)}")
            changes["overflow"] = policy
        if table.get("numbering") not in (None, ""):
            numbering = table["numbering"]
            numbering = {True: "on", False: "off"}.get(numbering, str(numbering))
            if numbering not in ("on", "off") and ("{i}" not in numbering):
                raise UsageError(f"[platforms.{self.name}] numbering must be on, off or a format such as '{{i}}/{{n}}'")
            changes["numbering"] = numbering
        return dataclasses.replace(self, **changes) if changes else self

    def link(self, label: str, url: str) -> str:
        """How a link with visible ``label`` is written in this platform's plain text."""
        if not label or label == url or url.endswith("://" + label):
            return url
        return f"{label} {url}"

    def finish(self, text: str) -> dict[str, Any]:
        """The final form of one post: at least ``{"text": ...}`` (Bluesky adds facets)."""
        return {"text": text}

    def attach(self, media: tuple["Media", ...]) -> tuple[tuple["Media", ...], tuple[str, ...]]:
        """The images a post of this platform carries (alt text cut to its limit), and a warning for those left out."""
        warnings: tuple[str, ...] = ()
        if len(media) > self.max_images:
            warnings = (f"{self.name}: {len(media)} images, only the first {self.max_images} are attached",)
        return tuple(m.for_platform(self.alt_limit) for m in media[: self.max_images]), warnings

    def fold(self, text: str) -> int | None:
        """Where the platform hides the rest of a long post behind "…see more" (an index), or None."""
        return None

    def cost(self, part: "Part") -> float | None:
        """What sending ``part`` costs in US dollars on a pay-per-use API, or None where posting is free."""
        return None

    def check_settings(self, values: Mapping[str, str], now: datetime) -> list[Finding]:
        """Offline checks of the settings' values (no request): addresses and expiry dates here, more in a subclass."""
        found = []
        for setting in self.settings:
            value = (values.get(setting.key) or "").strip()
            if setting.url and value and not _address(value):
                found.append(Finding(self.name, "error", f"{self.variable(setting.key)}={value!r} is not a web address",
                                     f"write it as https://host, e.g. {setting.default or setting.placeholder}"))
            if setting.expires and value:
                found.append(self._expiry(setting, value, now))
        return found

    def _expiry(self, setting: Setting, value: str, now: datetime) -> Finding:
        """A finding about a credential that stops working on the date ``value``."""
        variable = self.variable(setting.key)
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            return Finding(self.name, "error", f"{variable}={value!r} is not a date",
                           "write the day the credential expires as YYYY-MM-DD, e.g. 2027-01-31")
        left = (day - now.date()).days
        renew = f"renew it, then set {variable} to its new expiry date"
        if left < 0:
            return Finding(self.name, "error", f"the credential expired on {day} ({variable})", renew)
        if left <= EXPIRY_NOTICE.days:
            return Finding(self.name, "warning", f"the credential expires on {day}, in {left} day(s) ({variable})",
                           renew)
        return Finding(self.name, "ok", f"the credential expires on {day}, in {left} days ({variable})")

    def publisher(self, session: "requests.Session", settings: Mapping[str, Any], clock: Clock = SYSTEM) -> "Publisher":
        """The adapter that sends this platform's posts through ``session``."""
        if self.publisher_class is None:
            raise NotImplementedError(f"{self.name} has no publisher")
        return self.publisher_class(session, settings, clock)

    @property
    def secret_settings(self) -> tuple[str, ...]:
        """The environment variables of this platform's secrets, e.g. ``NOTECAST_X_API_KEY``."""
        return tuple(self.variable(s.key) for s in self.settings if s.secret)

    def variable(self, key: str) -> str:
        """The environment variable of one setting."""
        return f"NOTECAST_{self.name.upper()}_{key.upper()}"

    @property
    def setting_keys(self) -> set[str]:
        return {s.key for s in self.settings}


def _address(value: str) -> bool:
    """Whether ``value`` is an http(s) address, as publishers read it (a bare host means https://host)."""
    parts = urlsplit(value if "://" in value else f"https://{value}")
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


@lru_cache(maxsize=1)
def registry() -> dict[str, Platform]:
    """Every installed platform by name, built-ins first in their usual order."""
    found: dict[str, Platform] = {}
    for ep in entry_points(group=GROUP):
        try:
            platform = ep.load()
        except Exception as exc:  # a broken plugin must not break the others
            warnings.warn(f"platform {ep.name!r} from {ep.value} could not be loaded: {exc}")
            continue
        found[ep.name] = platform
    order = {name: i for i, name in enumerate(BUILTIN_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def get(name: str) -> Platform:
    platforms = registry()
    if name not in platforms:
        known = ", ".join(platforms) or "none (is notecast installed? run pip install -e .)"
        raise UsageError(f"unknown platform {name!r}; use one of: {known}")
    return platforms[name]
