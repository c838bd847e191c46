"""pipeline.platforms.twitter_text against twitter-text, X's official library.

The conformance cases come from twitter-text's own ``validate.yml`` (vendored
in tests/data/twitter-text/). The other expected values were produced with the
official library itself, twitter-text 3.1.0 (``parseTweet``,
``extractUrlsWithIndices``) run with Node.js, and are written down here.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from pipeline.platforms import twitter_text as tt

VALIDATE_YML = Path(__file__).resolve().parent.parent / "data" / "twitter-text" / "validate.yml"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦


@lru_cache(maxsize=None)
def _conformance() -> dict:
    return yaml.safe_load(VALIDATE_YML.read_text(encoding="utf-8"))["tests"]


def _cases(section: str) -> list:
    return [pytest.param(case["text"], case["expected"], id=case["description"]) for case in _conformance()[section]]


def _as_expected(parsed: tt.Parsed) -> dict:
    """``parsed`` in validate.yml's terms (twitter-text's parseTweet result)."""
    return {
        "weightedLength": parsed.weighted_length,
        "valid": parsed.valid,
        "permillage": parsed.permillage,
        "displayRangeStart": parsed.display_range_utf16[0],
        "displayRangeEnd": parsed.display_range_utf16[1],
        "validRangeStart": parsed.valid_range_utf16[0],
        "validRangeEnd": parsed.valid_range_utf16[1],
    }


# --- twitter-text's conformance suite -----------------------------------------


def test_the_conformance_sections_are_all_there():
    tests = _conformance()
    assert len(tests["WeightedTweetsWithDiscountedEmojiCounterTest"]) == 22
    assert len(tests["UnicodeDirectionalMarkerCounterTest"]) == 2
    assert len(tests["WeightedTweetsCounterTest"]) == 20


@pytest.mark.parametrize("text, expected", _cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_conformance_weighted_with_discounted_emoji(text, expected):
    # The section for config v3 (emoji parsing on), which X uses.
    assert _as_expected(tt.parse(text)) == expected
    assert tt.weighted_length(text) == expected["weightedLength"]


@pytest.mark.parametrize("text, expected", _cases("UnicodeDirectionalMarkerCounterTest"))
def test_conformance_directional_markers(text, expected):
    assert _as_expected(tt.parse(text)) == expected
    assert tt.weighted_length(text) == expected["weightedLength"]


@pytest.mark.parametrize("text, expected", _cases("WeightedTweetsCounterTest"))
def test_conformance_weighted_without_emoji_parsing(text, expected):
    # The same rules with emoji parsing off (config v2): every code point of an
    # emoji sequence weighs on its own. Checks URLs and NFC the same way.
    assert _as_expected(tt._parse(text, emoji_parsing=False)) == expected


@pytest.mark.parametrize("text", [case["text"] for case in _conformance()["urls_without_protocol"]])
def test_conformance_urls_without_protocol_are_found_whole(text):
    assert tt.extract_urls(text) == [(0, len(text))]


# --- everyday text --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("a\r\nb", 4, id="CRLF: CR and LF weigh 1 each"),
        pytest.param("\u00a9", 1, id="bare copyright sign is not an emoji"),
        pytest.param("\u00a9\ufe0f", 2, id="copyright sign + VS16 is one emoji"),
        pytest.param("\u2b50\ufe0f", 2, id="star + VS16 is one emoji"),
        pytest.param(FAMILY, 2, id="ZWJ family"),
        pytest.param("\U0001f1ea\U0001f1f8", 2, id="flag"),
        pytest.param("\U0001f44d\U0001f3fd", 2, id="skin tone"),
        pytest.param("1\ufe0f\u20e3", 2, id="keycap"),
        pytest.param("caf\u00e9", 4, id="cafe composed"),
        pytest.param("cafe\u0301", 4, id="cafe decomposed"),
        pytest.param("\u65e5\u672c\u8a9e", 6, id="CJK"),
        pytest.param("https://example.com/very/long/path?x=1", 23, id="URL"),
        pytest.param("example.com", 23, id="URL without scheme"),
        pytest.param("notaurl.invalidtld", 18, id="unknown TLD is text"),
        pytest.param("", 0, id="empty"),
    ],
)
def test_weighted_length_of_everyday_text(text, expected):
    assert tt.weighted_length(text) == expected
    assert tt.parse(text).weighted_length == expected


def test_composed_and_decomposed_text_weigh_the_same():
    composed = "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve \u00c5ngstr\u00f6m"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert tt.weighted_length(decomposed) == tt.weighted_length(composed) == len(composed)


def test_280_ascii_characters_are_valid_and_281_are_not():
    fits = tt.parse("x" * 280)
    assert (fits.weighted_length, fits.valid, fits.permillage) == (280, True, 1000)
    over = tt.parse("x" * 281)
    assert (over.weighted_length, over.valid, over.permillage) == (281, False, 1003)
    assert over.valid_range_utf16 == (0, 279)
    assert over.display_range_utf16 == (0, 280)


def test_140_cjk_characters_fill_a_post():
    assert tt.parse("\u65e5" * 140).valid
    assert not tt.parse("\u65e5" * 141).valid


@pytest.mark.parametrize("char", ["\ufffe", "\ufeff", "\uffff"])
def test_invalid_characters_make_a_post_invalid(char):
    parsed = tt.parse(f"fine {char} text")
    assert not parsed.valid
    assert parsed.weighted_length == 12
    assert parsed.valid_range_utf16 == (0, 4)


def test_empty_text_is_not_a_valid_post():
    assert tt.parse("") == tt.Parsed(0, False, 0, (0, 0), (0, 0))


def test_parsed_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        tt.parse("hi").valid = False  # type: ignore[misc]


# --- cases checked against twitter-text 3.1.0 ---------------------------------------

# (text, weightedLength, valid, validRangeEnd, URL spans in code points), from
# parseTweet and extractUrlsWithIndices of the official library.
OFFICIAL = [
    ("\u00ae", 1, True, 0, []),
    ("\u2122", 2, True, 0, []),
    ("\u2122\ufe0f", 2, True, 1, []),
    ("\u2b50", 2, True, 0, []),
    ("\u2b50\ufe0e", 4, True, 1, []),  # text presentation: no emoji
    ("\u263a", 2, True, 0, []),
    ("\u203c\ufe0f", 2, True, 1, []),
    ("\U0001f468\u200d\U0001f3a4", 2, True, 4, []),
    # twemoji-parser 11 (twitter-text 3.1.0's) predates these ZWJ sequences:
    ("\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1", 8, True, 7, []),
    ("\u2764\ufe0f\u200d\U0001f525", 5, True, 4, []),
    ("\U0001f3f3\ufe0f\u200d\U0001f308", 2, True, 5, []),
    ("\U0001f1ea\U0001f1f8\U0001f1eb\U0001f1f7", 4, True, 7, []),
    ("\U0001f1ea", 2, True, 1, []),
    ("\U0001f3fd", 2, True, 1, []),
    ("1\u20e3", 2, True, 1, []),
    ("#\ufe0f\u20e3", 2, True, 2, []),
    ("12", 2, True, 1, []),
    ("\u2026", 2, True, 0, []),
    ("\u2014", 1, True, 0, []),
    ("\u201cquotes\u201d", 8, True, 7, []),
    ("\u2022", 2, True, 0, []),
    ("\ud55c\uad6d\uc5b4", 6, True, 2, []),
    ("www.example.com.", 24, True, 15, [(0, 15)]),
    ("e.g. i.e. etc.", 14, True, 13, []),
    ("README.md", 23, True, 8, [(0, 9)]),  # .md is a country TLD
    ("main.py", 23, True, 6, [(0, 7)]),
    ("index.js", 8, True, 7, []),
    ("t.co", 23, True, 3, [(0, 4)]),
    ("http://t.co/abc?x=1.", 24, True, 19, [(0, 19)]),
    ("https://t.co/" + "a" * 41, 54, True, 53, []),  # a t.co slug is at most 40 characters
    ("HTTPS://EXAMPLE.COM/Path", 23, True, 23, [(0, 24)]),
    ("ftp://example.com", 17, True, 16, []),
    ("user@example.com", 16, True, 15, []),
    ("#example.com", 12, True, 11, []),
    ("-example.com", 12, True, 11, []),
    ("/example.com", 12, True, 11, []),
    ("http://\u4f8b\u5b50.\u6d4b\u8bd5", 16, True, 11, []),
    ("http://\u65e5\u672c.jp/", 23, True, 12, [(0, 13)]),
    ("\u65e5\u672c.jp", 7, True, 4, []),  # without a protocol only ASCII domains count
    ("m\u00fcnchen.de", 23, True, 9, [(0, 10)]),
    ("xn--mnchen-3ya.de", 23, True, 16, [(0, 17)]),
    ("example.com:8080/x", 23, True, 17, [(0, 18)]),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", 23, True, 38, [(0, 39)]),
    ("https://example.com/(a(b)c)", 23, True, 26, [(0, 27)]),
    ("https://example.com/~(a)", 27, True, 23, [(0, 20)]),
    ("(see example.com)", 29, True, 16, [(5, 16)]),
    ('"example.com"', 25, True, 12, [(1, 12)]),
    ("example.com/@user/", 23, True, 17, [(0, 18)]),
    ("example.com/path.", 24, True, 16, [(0, 16)]),
    ("example.com?q=1&", 28, True, 15, [(0, 11)]),
    ("a.com.b.com", 23, True, 10, [(0, 11)]),
    ("\U0001f600example.com", 25, True, 12, [(1, 12)]),
    ("\U0001f600 example.com", 26, True, 13, [(2, 13)]),
    ("http://" + "a" * 64 + ".com", 75, True, 74, []),  # a domain label is at most 63 characters
    ("http://" + "a" * 63 + ".com", 23, True, 73, [(0, 74)]),
    ("\u202ahttp://example.com\u202c", 27, True, 19, [(1, 19)]),
    # The last ASCII domain takes the path, and parseTweet skips only
    # "a.com/p".length characters, ending inside the surrogate pair of 😀.
    ("a.com.\U0001f600.com/p", 31, True, 13, [(0, 13)]),
    ("a\uffffb", 4, False, 0, []),
    (" ", 1, True, 0, []),
]


@pytest.mark.parametrize(
    "text, length, valid, valid_end, urls", OFFICIAL, ids=[repr(case[0])[:40] for case in OFFICIAL]
)
def test_matches_the_official_library(text, length, valid, valid_end, urls):
    parsed = tt.parse(text)
    assert (parsed.weighted_length, parsed.valid, parsed.valid_range_utf16[1]) == (length, valid, valid_end)
    assert tt.weighted_length(text) == length
    assert tt.extract_urls(text) == urls


def test_extract_urls_in_a_sentence():
    text = "Read https://example.com/a, then example.org. Not e.g. v1.2 or notes.txt (\U0001f600 t.co/x)"
    assert [text[start:end] for start, end in tt.extract_urls(text)] == [
        "https://example.com/a",
        "example.org",
        "t.co/x",
    ]


def test_extract_urls_indexes_the_text_as_given():
    text = "cafe\u0301 example.com"  # not NFC: the indices are still this string's
    assert tt.extract_urls(text) == [(6, 17)]
    assert tt.weighted_length(text) == 4 + 1 + 23


# --- data and speed ---------------------------------------------------------------


def test_tld_lists_load():
    generic, country = tt._tlds()
    assert len(generic) > 1000 and len(country) > 250
    assert {"com", "org", "dev", "onion", "\u307f\u3093\u306a"} <= set(generic)
    assert {"jp", "uk", "md", "\u0440\u0444"} <= set(country)


def test_every_tld_comes_before_its_prefixes():
    # _trie_pattern tries longer TLDs first, which is twitter-text's order.
    for tlds in tt._tlds():
        position = {tld: i for i, tld in enumerate(tlds)}
        for i, tld in enumerate(tlds):
            prefixes = (tld[:n] for n in range(1, len(tld)))
            assert all(position[prefix] > i for prefix in prefixes if prefix in position), tld


def test_plain_ascii_without_a_dot_runs_no_regex():
    tt._res.cache_clear()
    tt._emoji_re.cache_clear()
    tt._url_res.cache_clear()
    assert tt.weighted_length("just some plain words, nothing else!") == 36
    assert tt._res.cache_info().currsize == 0
    assert tt._emoji_re.cache_info().currsize == 0
    assert tt._url_res.cache_info().currsize == 0


def test_the_emoji_prefilter_lets_every_emoji_start_through():
    # _emoji_re looks ahead for _EMOJI_START (or a keycap) before trying the
    # emoji pattern. Work out which characters the pattern can start with.
    sre = pytest.importorskip("re._parser")
    constants = pytest.importorskip("re._constants")
    (pattern,) = tt._read_data("twemoji_regex.txt")

    def first(items) -> tuple[set[int], bool]:
        found: set[int] = set()
        for op, av in items:
            chars, can_be_empty = first_of(op, av)
            found |= chars
            if not can_be_empty:
                return found, False
        return found, True

    def first_of(op, av) -> tuple[set[int], bool]:
        if op is constants.LITERAL:
            return {av}, False
        if op is constants.IN:
            chars: set[int] = set()
            for kind, value in av:
                if kind is constants.LITERAL:
                    chars.add(value)
                else:
                    assert kind is constants.RANGE, kind
                    chars.update(range(value[0], value[1] + 1))
            return chars, False
        if op is constants.SUBPATTERN:
            return first(av[-1])
        if op is constants.BRANCH:
            results = [first(branch) for branch in av[1]]
            return set().union(*(chars for chars, _ in results)), any(empty for _, empty in results)
        if op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
            chars, empty = first(av[2])
            return chars, empty or av[0] == 0
        assert op in (constants.ASSERT, constants.ASSERT_NOT), op
        return set(), True

    starts, can_be_empty = first(sre.parse(pattern))
    assert not can_be_empty
    prefilter = re.compile(f"[{tt._EMOJI_START}]")
    missed = {chr(c) for c in starts if not prefilter.match(chr(c))}
    assert missed <= set("#*0123456789")  # those start only keycaps, which the prefilter lets through
