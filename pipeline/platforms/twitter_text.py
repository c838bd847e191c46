"""X (Twitter) weighted post length, counted exactly as twitter-text counts it.

This is a pure-Python port of ``parseTweet`` from the official twitter-text
library (version 3.1.0, the current release) with its default configuration,
``config/v3.json``:

* The text is NFC-normalised first.
* A post may weigh at most 280 "characters". Code points in U+0000-U+10FF,
  U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1; every other code
  point weighs 2 (so CJK characters and emoji weigh 2).
* Every emoji sequence that twitter-text's emoji parser (twemoji-parser
  11.0.2) finds weighs 2 in total: ZWJ families, skin tones, flags, keycaps,
  ``⭐️`` (U+2B50 U+FE0F), ... A bare ``©`` is not an emoji (it is one only when
  followed by U+FE0F), so it weighs 1. That parser knows the emoji of Unicode
  11: later ZWJ sequences (``🧑‍🤝‍🧑``, ``❤️‍🔥``) weigh the sum of their parts, as
  in twitter-text 3.1.0.
* Every URL that twitter-text's extractor finds weighs 23, whatever its length,
  including URLs without a scheme such as ``example.com`` (only for a TLD on
  twitter-text's list: ``notaurl.invalidtld`` is plain text, but ``README.md``
  and ``main.py`` are URLs, ``md`` and ``py`` being country TLDs).
* U+FFFE, U+FEFF and U+FFFF make a post invalid.

The URL rules are twitter-text's regular expressions, rebuilt from their parts
(``extractUrl``, ``validDomain``, ``validUrlPath``, ...), with the same
alternation order and JavaScript semantics: case-insensitive where
twitter-text is (JavaScript's ``/i``, including the few non-ASCII letters it
folds, see ``_LATIN_ACCENTS_I`` and ``_CYRILLIC_I``), ``$`` meaning the end of
the text, and twitter-text's quirks kept on purpose (a URL is at most 4096
characters, no domain label longer than 63 characters once punycode-encoded,
``t.co`` links stop after their slug, ...). Indices inside JavaScript are
UTF-16 code units; here they are Python ``str`` indices (code points), except
where a name says ``utf16``.

Data (loaded lazily, on the first text that needs it): ``data/tlds.txt``
(twitter-text's TLD lists, Apache-2.0) and ``data/twemoji_regex.txt``
(twemoji-parser's emoji pattern converted to code points, MIT).

Plain ASCII text without a ``.`` takes a fast path that runs no regular
expression at all: it weighs its length.
"""
from __future__ import annotations

import math
import os
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

__all__ = ["MAX_WEIGHTED_LENGTH", "URL_LENGTH", "Parsed", "extract_urls", "parse", "weighted_length", "heavy_spans"]

MAX_WEIGHTED_LENGTH = 280
"""The most a post may weigh (config v3 ``maxWeightedTweetLength``)."""

URL_LENGTH = 23
"""What any URL weighs (config v3 ``transformedURLLength``)."""

# Weights are kept scaled by 100, as twitter-text does (config v3 ``scale``).
_SCALE = 100
_LIGHT = 100  # the weight of the code points in the ranges below
_HEAVY = 200  # config v3 ``defaultWeight``: every other code point, and each emoji
_URL = URL_LENGTH * _SCALE
_MAX = MAX_WEIGHTED_LENGTH * _SCALE
_DATA = os.path.join(os.path.dirname(__file__), "data")

# Code points outside config v3's weight-100 ranges: each adds 100 to the 100
# that every code point weighs.
_HEAVY_CLASS = r"[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]"
_INVALID_UNITS = frozenset((0xFFFE, 0xFEFF, 0xFFFF))  # invalidCharsGroup


class _Res(NamedTuple):
    heavy: re.Pattern[str]
    invalid: re.Pattern[str]
    astral: re.Pattern[str]
    emoji_part: re.Pattern[str]  # a character every emoji holds one of (see _find_emoji)


@lru_cache(maxsize=None)
def _res() -> _Res:
    """The small regexes, compiled on first use (to keep the import cheap)."""
    return _Res(re.compile(_HEAVY_CLASS), re.compile(r"[\ufffe\ufeff\uffff]"), re.compile(r"[\U00010000-\U0010ffff]"),
                re.compile(f"[{_EMOJI_START}\u20e3]"))


@dataclass(frozen=True)
class Parsed:
    """What ``parse`` tells about a post, as twitter-text's ``parseTweet`` does.

    ``valid_range_utf16`` and ``display_range_utf16`` are twitter-text's
    ``validRangeStart/End`` and ``displayRangeStart/End``: inclusive indices
    in UTF-16 code units of the text as given (for text that is not NFC,
    twitter-text's end of the valid range is only approximate).
    """

    weighted_length: int
    valid: bool
    permillage: int
    valid_range_utf16: tuple[int, int]
    display_range_utf16: tuple[int, int]


def weighted_length(text: str) -> int:
    """The weight of ``text`` in characters (``parseTweet(text).weightedLength``)."""
    if text.isascii():
        if "." not in text:  # no URL can be there, and ASCII is NFC already
            return len(text)
    else:
        text = _nfc(text)
    return _weigh(text)[0] // _SCALE


def heavy_spans(text: str) -> list[tuple[int, int, int]] | None:
    """The spans of ``text`` that do not weigh 1 per code point, with their weight in characters, in order:
    each URL (23), each emoji (2), and each other code point that weighs 2.

    ``weighted_length`` of the text is its length plus what these add. None for text that is not NFC
    (weighed once normalised, so its indices move) and where only parseTweet's loop over UTF-16 units can
    follow a URL's skip.
    """
    if text.isascii():
        if "." not in text:
            return []
    elif not unicodedata.is_normalized("NFC", text):
        return None
    _total, counted = _weigh(text)
    if counted is None:
        return None
    spans = [(start, end, weight // _SCALE) for start, end, weight in counted]
    if text.isascii():
        return spans
    starts = [start for start, _, _ in spans]
    for match in _res().heavy.finditer(text):
        at = match.start()
        k = bisect_left(starts, at + 1)  # spans[k - 1] is the last entity that starts at or before it
        if not k or spans[k - 1][1] <= at:
            spans.append((at, at + 1, _HEAVY // _SCALE))
    return sorted(spans) if len(spans) > len(starts) and starts else spans


def parse(text: str) -> Parsed:
    """Weigh ``text`` and tell whether it is a valid post, as ``parseTweet`` does.

    A post is valid when it weighs more than 0 and at most 280 characters and
    has none of U+FFFE, U+FEFF, U+FFFF.
    """
    return _parse(text)


def _parse(text: str, emoji_parsing: bool = True) -> Parsed:
    """``parse``; without emoji parsing it is parseTweet with config v2 (for tests)."""
    normalized = _nfc(text)
    total, entities = _weigh(normalized, emoji_parsing)
    invalid = _res().invalid.search(normalized)
    length = total // _SCALE
    text16 = _utf16_len(text)
    if not normalized:
        valid_end = 0
    elif invalid is None and total <= _MAX:
        valid_end = _utf16_len(normalized) - 1  # the loop stays valid to the last code unit
    elif entities is None:
        valid_end = _valid_end_utf16(normalized, emoji_parsing)
    else:
        valid_end = _valid_end(normalized, entities, len(normalized) if invalid is None else invalid.start())
    valid_end += text16 - _utf16_len(normalized)  # twitter-text's "normalization offset"
    return Parsed(
        weighted_length=length,
        valid=invalid is None and 0 < total <= _MAX,
        permillage=math.floor(length / MAX_WEIGHTED_LENGTH * 1000),
        valid_range_utf16=(0, valid_end),
        display_range_utf16=(0, text16 - 1 if text16 else 0),
    )


def extract_urls(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of the URLs in ``text``, end exclusive.

    These are the URLs that twitter-text's ``extractUrlsWithIndices`` finds
    (each one weighs 23), as indices into ``text``. It looks at ``text`` as
    given: ``weighted_length`` and ``parse`` NFC-normalise first, so for text
    that is not NFC pass ``unicodedata.normalize("NFC", text)`` to see exactly
    the URLs they count.
    """
    return [(u.start, u.end) for u in _find_urls(text)]


# ---------------------------------------------------------------------------
# Weighing: twitter-text's parseTweet loop.


class _Url(NamedTuple):
    start: int  # where extractUrlsWithIndices says the URL is, in code points
    end: int
    skip_end: int | None  # where parseTweet's skip of ``url.length`` ends (None: inside a surrogate pair)
    start_utf16: int  # the start, and the skip, in UTF-16 code units as JavaScript counts them
    skip_utf16: int


def _nfc(text: str) -> str:
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _plain_weight(s: str) -> int:
    """The scaled weight of ``s`` counted code point by code point."""
    return _LIGHT * len(s) + (_HEAVY - _LIGHT) * len(_res().heavy.findall(s))


def _weigh(text: str, emoji_parsing: bool = True) -> tuple[int, list[tuple[int, int, int]] | None]:
    """The scaled weight of NFC ``text`` (``weightedLength`` times 100), and the
    ``(start, end, weight)`` of the URLs and emoji that parseTweet counted.

    parseTweet walks the text; where a URL starts it adds 23 and skips
    ``url.length`` characters, else where an emoji starts it adds 2 and skips
    the emoji, else it adds the weight of one code point. An entity that
    starts inside one already skipped is ignored. (The entities are None in
    the odd case that a skip ends inside a surrogate pair, which only
    JavaScript's own loop over UTF-16 units, ``_utf16_steps``, can follow.)
    """
    total = _plain_weight(text)
    urls = _find_urls(text)
    emoji = _find_emoji(text) if emoji_parsing else []
    if not urls and not emoji:
        return total, []
    starts: dict[int, tuple[int, int]] = {}
    for start, end in emoji:
        starts[start] = (end, _HEAVY)
    for url in urls:  # a URL wins over an emoji at the same index; a later URL over an earlier
        if url.skip_end is None:
            return sum(weight for _, _, weight in _utf16_steps(text, urls, emoji)), None
        starts[url.start] = (url.skip_end, _URL)
    counted = []
    pos = 0
    for start in sorted(starts):
        if start >= pos:
            end, weight = starts[start]
            total += weight - _plain_weight(text[start:end])
            counted.append((start, end, weight))
            pos = end
    return total, counted


def _valid_end(text: str, entities: list[tuple[int, int, int]], stop: int) -> int:
    """parseTweet's validRangeEnd for NFC ``text`` (before the normalisation offset).

    That is the UTF-16 index of the last code unit of the last step of the
    loop at which the weight so far is at most 280 and no invalid character
    was met; ``stop`` is the index of the first invalid character (none is
    ever inside an entity).
    """
    total = 0
    end = 0  # where the last step that stayed valid ends (code points)
    pos = 0
    for start, entity_end, weight in [*entities, (len(text), len(text), 0)]:
        plain = text[pos : min(start, stop)]
        plain_weight = _plain_weight(plain)
        if total + plain_weight > _MAX:  # the limit is passed in this run of characters
            low, high = 0, len(plain)  # the longest prefix that fits: low
            while low < high:
                mid = (low + high + 1) // 2
                if total + _plain_weight(plain[:mid]) <= _MAX:
                    low = mid
                else:
                    high = mid - 1
            end = pos + low if low else end
            break
        total += plain_weight
        end = pos + len(plain) if plain else end
        if start >= stop or total + weight > _MAX:
            break
        total += weight
        end = pos = entity_end
    return _utf16_len(text[:end]) - 1 if end else 0


def _utf16_steps(text: str, urls: list[_Url], emoji: list[tuple[int, int]]):
    """parseTweet's loop in UTF-16 code units: (index of each step's last unit, that unit, weight)."""
    offsets = [0]  # code point index -> UTF-16 index
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    units = memoryview(text.encode("utf-16-le", "surrogatepass")).cast("H")
    size = len(units)
    heavy = _res().heavy.match
    skips = {offsets[start]: (offsets[end] - offsets[start], _HEAVY) for start, end in emoji}
    for url in urls:
        skips[url.start_utf16] = (url.skip_utf16, _URL)
    i = 0
    while i < size:
        if i in skips:
            skip, weight = skips[i]
            i += skip - 1
        else:
            if 0xD800 <= units[i] <= 0xDBFF and i + 1 < size and 0xDC00 <= units[i + 1] <= 0xDFFF:
                i += 1  # a surrogate pair weighs what its low surrogate weighs: 200
            weight = _LIGHT if heavy(chr(units[i])) is None else _HEAVY
        yield i, units[i], weight
        i += 1


def _valid_end_utf16(text: str, emoji_parsing: bool = True) -> int:
    """``_valid_end`` the slow way, following parseTweet's loop unit by unit."""
    emoji = _find_emoji(text) if emoji_parsing else []
    total = 0
    last = 0
    for index, unit, weight in _utf16_steps(text, _find_urls(text), emoji):
        total += weight
        if total > _MAX or unit in _INVALID_UNITS:  # both stay true once true
            break
        last = index
    return last


# ---------------------------------------------------------------------------
# Emoji: twemoji-parser's parse(), which parseTweet uses.


def _read_data(name: str) -> list[str]:
    """The lines of ``data/<name>`` that are neither blank nor comments."""
    with open(os.path.join(_DATA, name), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]


# Every emoji starts with one of these, or is a keycap ("#", "*" or a digit,
# U+FE0F maybe, then U+20E3). Looking ahead for them first makes the search
# skip other text about ten times faster; it finds the same emoji.
_EMOJI_START = r"\u00a9\u00ae\u203c-\u2b55\u3030\u303d\u3297\u3299\ue50a\ufe0f\U0001f000-\U0001faff"


@lru_cache(maxsize=None)
def _emoji_re() -> re.Pattern[str]:
    (pattern,) = _read_data("twemoji_regex.txt")
    return re.compile(rf"(?=[{_EMOJI_START}]|[#*0-9]\ufe0f?\u20e3)(?:{pattern})")


def _find_emoji(text: str) -> list[tuple[int, int]]:
    """twemoji-parser's parse: the (start, end) of each emoji in ``text``.

    An emoji starts with one of ``_EMOJI_START`` or is a keycap, whose U+20E3 comes at most two characters
    after its start: the search starts there (the pattern's look-ahead keeps ``re`` from scanning fast).
    """
    first = None if text.isascii() else _res().emoji_part.search(text)
    if first is None:
        return []
    return [m.span() for m in _emoji_re().finditer(text, max(0, first.start() - 2))]


# ---------------------------------------------------------------------------
# URLs: twitter-text's extractUrlsWithIndices and the regular expressions it
# is built from (names in comments are twitter-text's). Classes spell out
# both cases where twitter-text matches case-insensitively, because Python's
# re.IGNORECASE folds a few more letters than JavaScript's /i (the Kelvin
# sign matches "k" in Python, not in JavaScript), and JavaScript's /i also
# folds a few letters into these classes that their ranges leave out.

_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]\^_{|}~$"  # punct (no '"' nor '`')
_PUNCT_BUT_DASHES = r"!'#%&()*+,\\./:;<=>?@\[\]\^{|}~$"
_PUNCT_BUT_DASHES_AND_DOT = r"!'#%&()*+,\\/:;<=>?@\[\]\^{|}~$"
_SPACES = r"\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # spacesGroup
_INVALID_CHARS = r"\ufffe\ufeff\uffff"  # invalidCharsGroup
_DIRECTIONAL = r"\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"  # directionalMarkersGroup
_LATIN_ACCENTS = (  # latinAccentChars
    r"\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
    r"\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
# What JavaScript's /i adds to latinAccentChars: the characters it takes for
# one in it because they have the same upper case.
_LATIN_ACCENTS_I = (
    r"\u0260\u0269\u0275\u0280\u0283\u0288\u028a\u028c\u0292\u0399\u03b9\u1fbe\u2c65\u2c66\u2c7e\u2c7f\ua7dc"
)
_CYRILLIC = r"\u0400-\u04ff"  # cyrillicLettersAndMarks
_CYRILLIC_I = r"\u1c80-\u1c87"  # what /i adds to it (old-style forms of в д о с т ъ ѣ)

_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]"  # validDomainChars
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"  # validSubdomain
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"  # validDomainName
_TLD_END = r"(?=[^0-9a-zA-Z@+\-]|\Z)"
_PUNYCODE = r"(?:[xX][nN]--[\-0-9a-zA-Z]+)"  # validPunycode
# validUrlPrecedingChars is "(?:this|[directionalMarkersGroup]|^)"; this class
# holds the directional marks already, and "^" is tried on its own (see
# _find_urls_utf16), so that the regex starts with a class that re can scan for.
_PRECEDING = rf"[^A-Za-z0-9@\uff20$#\uff03{_INVALID_CHARS}]"
_PATH_CHAR = (  # validGeneralUrlPathChars
    rf"[a-zA-Z{_CYRILLIC}{_CYRILLIC_I}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}{_LATIN_ACCENTS_I}]"
)
_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"  # validUrlBalancedParens
_PATH_END = (  # validUrlPathEndingChars, which is "[...]|(?:validUrlBalancedParens)"
    rf"[+\-a-zA-Z{_CYRILLIC}{_CYRILLIC_I}0-9=_#/{_LATIN_ACCENTS}{_LATIN_ACCENTS_I}]|(?:{_PARENS})"
)
# validUrlPath. twitter-text pastes validUrlPathEndingChars in without a group,
# so its "|" splits the first alternative: a path segment is path characters
# ending in an ending character, or balanced parentheses alone.
_PATH = rf"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-zA-Z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"  # validUrlQueryChars
_QUERY_END = r"[a-zA-Z0-9\-_&=#/]"  # validUrlQueryEndingChars
_HTTP = r"[hH][tT][tT][pP][sS]?://"

_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG_LENGTH = 40
_MAX_LABEL_LENGTH = 63


class _UrlRegexes(NamedTuple):
    extract: re.Pattern[str]  # the character before a URL (group 1), then the URL
    ascii_domain: re.Pattern[str]
    tco: re.Pattern[str]
    chain: re.Pattern[str]  # what domains are made of, dots included
    ascii_tlds: frozenset[str]  # the TLDs that are all ASCII (lower case) ...
    letters: re.Pattern[str]
    other_tld: re.Pattern[str]  # ... and the others
    punycode_start: re.Pattern[str]
    not_printable_ascii: re.Pattern[str]
    idna_dots: re.Pattern[str]
    tld_dot: re.Pattern[str]  # a dot a TLD may follow (every TLD, and punycode's xn--, starts with a letter)


@lru_cache(maxsize=None)
def _url_res() -> _UrlRegexes:
    generic, country = _tlds()
    tld = rf"(?:(?:{_trie_pattern(generic)}){_TLD_END}|(?:{_trie_pattern(country)}){_TLD_END}|{_PUNYCODE})"
    domain = rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}{tld})"  # validDomain
    domain_run = f"[^{_PUNCT_BUT_DASHES}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]"  # validDomainChars, "-" or "_"
    url = (  # extractUrl, after the character before (group 1)
        rf"(({_HTTP})?"  # 2: the URL; 3: its protocol
        rf"(?={domain_run}*+\.)"  # (no domain without a dot: a quick way to fail)
        rf"({domain})"  # 4: its domain
        r"(?::[0-9]+)?"  # port
        rf"(/{_PATH}*)?"  # 5: path
        rf"(?:\?{_QUERY_CHAR}*{_QUERY_END})?)"  # query
    )
    ascii_domain = rf"(?:[\-a-zA-Z0-9{_LATIN_ACCENTS}{_LATIN_ACCENTS_I}]+\.)+{tld}"  # validAsciiDomain
    tco = rf"{_HTTP}[tT]\.[cC][oO]/([a-zA-Z0-9]+)(?:\?{_QUERY_CHAR}*{_QUERY_END})?"  # validTcoUrl
    other_tlds = [tld for tld in generic + country if not tld.isascii()]
    return _UrlRegexes(
        re.compile(f"({_PRECEDING}){url}"),
        re.compile(ascii_domain),
        re.compile(tco),
        re.compile(f"[^{_PUNCT_BUT_DASHES_AND_DOT}{_SPACES}{_INVALID_CHARS}{_DIRECTIONAL}]*"),
        frozenset(tld for tld in generic + country if tld.isascii()),
        re.compile("[a-zA-Z]+"),
        re.compile(f"(?:{_trie_pattern(other_tlds)}){_TLD_END}"),
        re.compile("[xX][nN]--"),
        re.compile(r"[^\x20-\x7e]"),
        re.compile(r"[\u3002\uff0e\uff61]"),  # the dots punycode.js splits labels at
        re.compile(r"\.(?=[a-zA-Z]|[^\x00-\x7f])"),
    )


def _tlds() -> tuple[list[str], list[str]]:
    """twitter-text's generic and country-code TLDs, from ``data/tlds.txt``."""
    lists: dict[str, list[str]] = {"[generic]": [], "[country]": []}
    current = None
    for line in _read_data("tlds.txt"):
        line = line.strip()
        if line in lists:
            current = lists[line]
        elif current is None:
            raise ValueError(f"tlds.txt: {line!r} before a [generic] or [country] header")
        else:
            current.append(line)
    return lists["[generic]"], lists["[country]"]


def _trie_pattern(words: list[str]) -> str:
    """A regex for the alternation of ``words`` that prefers longer words.

    twitter-text lists every TLD before its prefixes (``嘉里大酒店|嘉里``), so a
    trie that tries the longer branch first matches as its alternation does,
    and much faster than 1,500 alternatives tried one by one.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        branches = [_tld_char(ch) + pattern(child) for ch, child in node.items() if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return (body if len(branches) > 1 else f"(?:{body})") + "?"

    return pattern(trie)


def _tld_char(ch: str) -> str:
    if "a" <= ch <= "z":
        return f"[{ch}{ch.upper()}]"
    if ch.isascii():
        return re.escape(ch)
    if ch.lower() != ch or ch.upper() != ch:
        # For these letters Python's case folding is JavaScript's /i (checked
        # for each letter of twitter-text 3.1.0's TLDs); the two differ where
        # ASCII letters are concerned (Python folds "K", the Kelvin sign, to "k").
        return f"(?i:{ch})"
    return ch


@lru_cache(maxsize=32)  # X, Mastodon and Threads look for the URLs of the same draft when they fit it
def _find_urls(text: str) -> tuple[_Url, ...]:
    """extractUrlsWithIndices: the URLs in ``text``, in order.

    The regular expressions run over ``text`` with each code point outside
    the BMP split into its two surrogates, so that they see the UTF-16 code
    units that JavaScript's see (a lone low surrogate is a domain character
    to twitter-text), and report UTF-16 indices.
    """
    if "." not in text:
        return ()
    astral_re = _res().astral
    astral = [m.start() + k for k, m in enumerate(astral_re.finditer(text))]  # their UTF-16 indices
    if not astral:
        return tuple(_Url(s, e, s + k, s, k) for s, e, k in _find_urls_utf16(text))
    units = astral_re.sub(_surrogates, text)
    urls = []
    for start, end, skip in _find_urls_utf16(units):
        skip_end = start + skip
        before_skip_end = bisect_left(astral, skip_end)
        if before_skip_end and astral[before_skip_end - 1] == skip_end - 1:
            cp_skip_end = None  # ends between the two surrogates of a pair
        else:
            cp_skip_end = skip_end - before_skip_end
        cp_start = start - bisect_left(astral, start)
        urls.append(_Url(cp_start, end - bisect_left(astral, end), cp_skip_end, start, skip))
    return tuple(urls)


def _surrogates(m: re.Match[str]) -> str:
    c = ord(m.group()) - 0x10000
    return chr(0xD800 + (c >> 10)) + chr(0xDC00 + (c & 0x3FF))


def _find_urls_utf16(text: str) -> list[tuple[int, int, int]]:
    """(start, end, url.length) of each URL, over text in UTF-16 code units."""
    res = _url_res()
    urls: list[list[int]] = []
    pos = 0
    reversed_text = text[::-1]
    while True:
        first = _first_possible_start(text, pos, reversed_text)
        if first is None:
            break
        m = None
        shift = 0
        if first == 0:
            m = res.extract.match(text)
            if m is None:  # JavaScript's "^" in place of the character before
                m = res.extract.match(" " + text)  # (which a space stands for)
                shift = 1
            first = 1
        if m is None:
            m = res.extract.search(text, first)
            shift = 0
            if m is None:
                break
        pos = m.end() - shift
        before, url, protocol, domain, path = m.group(1, 2, 3, 4, 5)
        before = before[shift:]
        start = m.start(2) - shift
        if not _is_valid_url(url, protocol or "https://", domain):
            continue
        if protocol:
            tco = res.tco.match(url)
            if tco:  # t.co links end after their slug (and query)
                if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group()
            urls.append([start, start + len(url), len(url)])
            continue
        # Without a protocol only the ASCII domains inside count, and none
        # right after "-", "_", "." or "/".
        if before and before in "-_./":
            continue
        last = None
        ascii_end = 0
        for ascii_match in res.ascii_domain.finditer(domain):
            ascii_domain = ascii_match.group()
            ascii_start = domain.find(ascii_domain, ascii_end)  # JavaScript's indexOf, as twitter-text
            ascii_end = ascii_start + len(ascii_domain)
            last = [start + ascii_start, start + ascii_end, len(ascii_domain)]
            urls.append(last)
        if last is not None and path:
            # The last ASCII domain takes the rest of the URL, and parseTweet
            # skips the URL with that domain in place of the whole domain.
            last[1] = pos
            last[2] = len(url) - len(domain) + last[2]
    return [(s, e, k) for s, e, k in urls]


def _first_possible_start(text: str, pos: int, reversed_text: str) -> int | None:
    """No URL starts at or after ``pos`` before the returned index (None: no URL at all).

    A domain ends with a dot and a TLD, and runs over domain characters, "-",
    "_" and dots before it; only a protocol (at most 8 characters) and the
    character before it can come before the domain. So no URL starts before
    the first such dot's run less 9 (a cheap test that keeps the regex from
    trying every character of text without spaces, such as Japanese text with
    a "2.1" in it).
    """
    res = _url_res()
    for match in res.tld_dot.finditer(text, pos):
        after = match.end()
        letters = res.letters.match(text, after)
        if (
            (letters and letters.group().lower() in res.ascii_tlds)
            or res.other_tld.match(text, after)
            or res.punycode_start.match(text, after)
        ):
            dot = after - 1
            break
    else:
        return None
    before_dot = len(text) - dot  # where text[dot - 1] is in reversed_text
    run = res.chain.match(reversed_text, before_dot).end() - before_dot
    return max(pos, dot - run - 9)


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    """twitter-text's isValidUrl (its idna.toAscii only checks label lengths)."""
    if domain.startswith("xn--") and _url_res().ascii_domain.search(domain) is None:
        return False  # punycode must stay ASCII
    for label in domain.split("."):
        if not 1 <= _punycode_length(label) <= _MAX_LABEL_LENGTH:
            return False
    return len(protocol) + len(url) <= _MAX_URL_LENGTH


def _punycode_length(label: str) -> int:
    """``punycode.toASCII(label).length`` with punycode.js 1.4.1, as twitter-text 3.1.0 has it.

    ``label`` is in UTF-16 code units. (It holds no "@", which toASCII would
    take for an e-mail address.)
    """
    res = _url_res()
    if res.not_printable_ascii.search(label) is None:
        return len(label)
    # Back to code points, as punycode.js decodes UTF-16 (lone surrogates stay).
    label = label.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    parts = res.idna_dots.sub(".", label).split(".")
    return len(parts) - 1 + sum(
        4 + len(part.encode("punycode")) if res.not_printable_ascii.search(part) else len(part) for part in parts
    )
