"""Each platform's length rule, as the team's PLATFORMS.md states it (§1.1, 2.1, 3.1, 4.1).

* Bluesky: 300 grapheme clusters AND 3000 UTF-8 bytes; a marked link counts
  its shown text; facet offsets are UTF-8 byte offsets.
* Mastodon: grapheme clusters; every http(s) URL counts 23, a bare
  ``example.com`` counts as typed; ``@user@domain`` counts as ``@user``.
* LinkedIn: every reserved character escaped (a live #hashtag excepted); the
  length is counted after escaping, in UTF-16 code units.
* X: twitter-text v3 weighting (its conformance suite is test_twitter_text.py).
* Threads: 500; an emoji cluster counts its UTF-8 bytes, other text its UTF-16
  units (the strict reading); URLs as typed; at most 5 distinct links.
"""
from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime, timezone

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import cli, richtext
from pipeline.fit import fit
from pipeline.platforms import bluesky, linkedin, mastodon, threads, x
from pipeline.platforms.threads import rules as threads_rules
from pipeline.platforms.linkedin import rules as linkedin_rules
from pipeline.text import apart, clusters, grapheme_count, graphemes, joined, merged, simple, utf8_bytes, utf16_units

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦: 7 code points, 25 UTF-8 bytes
THUMB = "\U0001f44d\U0001f3fd"  # 👍🏽: 2 code points, 8 UTF-8 bytes
FLAG = "\U0001f1ea\U0001f1f8"  # 🇪🇸
BOLD_B = "\U0001d401"  # 𝐁: one code point outside the BMP, two UTF-16 units
RESERVED = "\\|{}@[]()<>#*_~"

BSKY, MASTODON, LINKEDIN, X = bluesky.platform, mastodon.platform, linkedin.platform, x.platform


# ---- counting: the fast paths agree with regex's \X ------------------------------------

PIECES = ["a", "b ", " ", "\r\n", "\r", "\n", "e\u0301", "\u0301", "\u200d", "\ufe0f", "\U0001f3fd", FAMILY, THUMB, FLAG,
          "\U0001f1ea", "日本語", "한국어", "\u1100\u1161\u11a8", "\u11a8", "\u0600", "\u0915\u094d\u0937", "\u0903",
          "Привет", "é", "👍", "\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1", "\U000e0067", "ก\u0e33"]


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 500)), deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=40).map("".join))
def test_counting_fast_paths_agree_with_regex(text):
    clusters = regex.findall(r"\X", text)
    assert grapheme_count(text) == len(clusters)
    assert graphemes(text) == clusters
    if simple(text):
        assert len(clusters) == len(text) - text.count("\r\n")
    assert utf16_units(text) == len(text.encode("utf-16-le")) // 2
    assert utf8_bytes(text) == len(text.encode("utf-8"))


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 500)), deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=40).map("".join))
def test_clusters_are_found_where_they_can_be_as_regex_finds_them(text):
    """``clusters`` and ``joined`` segment only around joining characters, yet find what ``\\X`` finds."""
    spans, pos = [], 0
    for cluster in regex.findall(r"\X", text):
        spans.append((pos, pos + len(cluster)))
        pos += len(cluster)
    assert clusters(text) == [(a, b) for a, b in spans if b - a > 1 or not text[a].isascii()]
    assert clusters(text, threads_rules._EMOJI) == [(a, b) for a, b in spans if threads_rules._EMOJI.search(text, a, b)]
    assert joined(text) == [(a, b) for a, b in spans if b - a > 1]


def test_merged_joins_spans_that_overlap_and_adds_up_their_extras():
    spans = [(5, 7, (1, 0)), (0, 2, (0, 1)), (1, 3, (2, 0)), (3, 4, (0, 5)), (6, 9, (0, 2)), (7, 8, (1, 1))]
    assert merged(spans) == [(0, 3, (2, 1)), (3, 4, (0, 5)), (5, 9, (2, 3))]


def test_apart_keeps_the_first_group_and_what_overlaps_nothing_kept():
    first = [(2, 4, "a"), (10, 12, "b")]
    second = [(0, 1, "c"), (1, 3, "d"), (4, 5, "e"), (9, 11, "f"), (11, 13, "g"), (13, 14, "h")]
    assert apart(first, second, [(0, 2, "i"), (5, 6, "j")]) == [
        (0, 1, "c"), (2, 4, "a"), (4, 5, "e"), (5, 6, "j"), (10, 12, "b"), (13, 14, "h")]


def test_counting_long_mixed_text():
    text = ("Notes 👍🏽 grow, e\u0301 " * 30) + "日本語の文章。" * 40 + (FLAG + " ") * 20 + "Привет мир " * 20
    assert grapheme_count(text) == len(regex.findall(r"\X", text))
    assert grapheme_count("日本語" * 100) == 300 and simple("日本語の文章、한국어 Ωμέγα")
    assert not simple("e\u0301") and not simple(THUMB) and not simple(FLAG)


# ---- Bluesky: 300 graphemes AND 3000 UTF-8 bytes ---------------------------------------

def test_bluesky_limit_is_300_graphemes():
    assert BSKY.limit == 300
    assert BSKY.fits("a" * 300) and not BSKY.fits("a" * 301)
    assert BSKY.fits(THUMB * 300) and BSKY.measure(THUMB * 300) == 300  # 2400 bytes
    assert not BSKY.fits(THUMB * 301)
    assert BSKY.fits("e\u0301" * 300) and not BSKY.fits("e\u0301" * 301)  # a combining mark is no cluster of its own
    assert BSKY.fits(FLAG * 300) and BSKY.measure(FLAG * 300) == 300


def test_bluesky_limit_is_also_3000_utf8_bytes():
    assert len((FAMILY * 120).encode()) == 3000 and BSKY.fits(FAMILY * 120)
    assert len((FAMILY * 121).encode()) == 3025
    assert BSKY.measure(FAMILY * 121) == 121 and not BSKY.fits(FAMILY * 121)  # few graphemes, too many bytes


def test_bluesky_empty_post_does_not_fit():
    assert not BSKY.fits("")


def test_bluesky_marked_link_counts_its_shown_text():
    url = "https://example.com/" + "a" * 3000
    text = "Read " + richtext.link(url, "the whole note") + " now"
    assert BSKY.measure(text) == len("Read the whole note now")
    assert BSKY.fits(text)  # neither the URL's graphemes nor its bytes count


def test_bluesky_link_shows_a_short_url():
    url = "https://www.example.com/a/very/long/path/to/a/note/on/the/web"
    marked = BSKY.link(url, url)
    assert richtext.shown(marked) == "example.com/a/very/long/pa…" and BSKY.measure(marked) == 27
    assert BSKY.finish(marked)["facets"][0]["features"][0]["uri"] == url
    assert richtext.shown(BSKY.link("my site", url)) == "my site"


def _facet_texts(post: dict) -> list[tuple[str, str]]:
    raw = post["text"].encode("utf-8")
    return [(f["features"][0]["$type"].rsplit("#", 1)[1],
             raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8")) for f in post["facets"]]


def test_bluesky_facets_are_utf8_byte_offsets_after_emoji():
    url = "https://example.com/notes/one"
    text = f"{FAMILY} {FLAG} {THUMB} e\u0301 read " + richtext.link(url, "the note") + " and https://bsky.app/x. #Notes 日本"
    post = BSKY.finish(text)
    before = f"{FAMILY} {FLAG} {THUMB} e\u0301 read "
    link = post["facets"][0]
    assert link["index"] == {"byteStart": len(before.encode()), "byteEnd": len(before.encode()) + len(b"the note")}
    assert link["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]
    assert _facet_texts(post) == [("link", "the note"), ("link", "https://bsky.app/x"), ("tag", "#Notes")]
    assert post["facets"][2]["features"][0]["tag"] == "Notes"
    assert richtext.LINK_START not in post["text"] and url not in post["text"]


def test_bluesky_facets_for_a_link_at_the_start_and_the_end():
    url = "https://example.com/"
    post = BSKY.finish(richtext.link(url, "start") + f" {FAMILY} " + richtext.link(url, "𝐁nd"))
    assert _facet_texts(post) == [("link", "start"), ("link", "𝐁nd")]
    assert post["facets"][1]["index"]["byteEnd"] == len(post["text"].encode())


# ---- Mastodon: graphemes, URLs 23, remote mentions by their user ---------------------

@pytest.mark.parametrize("url", ["https://example.com/" + "a" * 200, "http://example.com/", "https://t.co/x",
                                 "HTTPS://EXAMPLE.COM/PATH?q=1"])
def test_mastodon_http_and_https_urls_count_23(url):
    assert MASTODON.measure(url) == 23
    assert MASTODON.measure(f"see {url} now") == 4 + 23 + 4


@pytest.mark.parametrize("text", ["example.com", "example.com/" + "a" * 40, "www.example.com/page",
                                  "ftp://example.com/file.txt"])
def test_mastodon_urls_without_http_count_as_typed(text):
    assert MASTODON.measure(text) == len(text)


def test_mastodon_remote_mention_counts_as_the_user():
    assert MASTODON.measure("@alice@mastodon.social") == len("@alice")
    assert MASTODON.measure("Hi @bob@example.org and @carol!") == len("Hi @bob and @carol!")
    assert MASTODON.measure("mail me at me@example.org") == len("mail me at me@example.org")  # an address, not a mention


@pytest.mark.parametrize("size, counted", [(253, len("@al")), (254, len("@al@") + 254)])
def test_mastodon_mention_with_a_domain_longer_than_dns_allows_counts_in_full(size, counted):
    domain = "a" * (size - 4) + ".org"
    assert len(domain) == size
    assert MASTODON.measure(f"@al@{domain}") == counted


def test_mastodon_counts_grapheme_clusters():
    assert MASTODON.measure(FAMILY) == 1 and MASTODON.measure(THUMB) == 1 and MASTODON.measure(FLAG) == 1
    assert MASTODON.measure("e\u0301") == 1 and MASTODON.measure("日本語") == 3
    assert MASTODON.measure(f"{FAMILY} https://example.com/{'a' * 50}") == 1 + 1 + 23


def test_mastodon_limit_is_500_by_default():
    assert MASTODON.limit == 500
    assert MASTODON.fits("a" * 500) and not MASTODON.fits("a" * 501)
    assert MASTODON.fits(FAMILY * 500)  # no byte limit
    assert MASTODON.fits("https://example.com/" + "a" * 1000)
    assert MASTODON.configure({"max_characters": "1000"}).fits("a" * 1000)


# ---- LinkedIn: escaping, then UTF-16 units -------------------------------------------

def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def unescaped_reserved(escaped: str) -> list[int]:
    """Positions of reserved characters left unescaped; every backslash must escape one reserved character."""
    found, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert i + 1 < len(escaped) and escaped[i + 1] in RESERVED, f"stray backslash at {i} in {escaped!r}"
            i += 2
            continue
        if escaped[i] in RESERVED:
            found.append(i)
        i += 1
    return found


def live_hashtag_at(text: str, i: int) -> bool:
    return text[i] == "#" and (i == 0 or text[i - 1].isspace()) and re.match(r"[^\W_]", text[i + 1:i + 2]) is not None


@pytest.mark.parametrize("char", list(RESERVED))
def test_linkedin_escapes_every_reserved_character(char):
    for text in (char, f"a{char}b", f"a {char} b", f"{char}{char}"):
        escaped = linkedin_rules.escape(text)
        assert unescape(escaped) == text and not unescaped_reserved(escaped), (text, escaped)


@pytest.mark.parametrize("text,escaped", [
    ("#python rocks", "#python rocks"),
    ("I like #python and #日本語", "I like #python and #日本語"),
    ("line\n#tag", "line\n#tag"),
    ("#snake_case", "#snake\\_case"),
    ("a#b", "a\\#b"),
    ("# heading", "\\# heading"),
    ("(#tag)", "\\(\\#tag\\)"),
    ("#_x", "\\#\\_x"),
    ("@alice (cc)", "\\@alice \\(cc\\)"),
    ("[link](https://example.com/a_b)", "\\[link\\]\\(https://example.com/a\\_b\\)"),
    ("C:\\path", "C:\\\\path"),
])
def test_linkedin_escape_examples(text, escaped):
    assert linkedin_rules.escape(text) == escaped
    assert LINKEDIN.finish(text) == {"text": escaped}


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 500)), deadline=None)
@given(st.lists(st.one_of(st.sampled_from(list(RESERVED) + list("ab1_é日 \n\t\u3000") + [THUMB, "#tag", "\\#"]),
                         st.characters(blacklist_categories=("Cs",)))).map("".join))
def test_linkedin_escape_round_trips_and_leaves_only_live_hashtags(text):
    escaped = linkedin_rules.escape(text)
    assert unescape(escaped) == text
    for i in unescaped_reserved(escaped):
        assert live_hashtag_at(escaped, i), (text, escaped, i)
    assert LINKEDIN.measure(text) == len(escaped.encode("utf-16-le")) // 2


def test_linkedin_counts_utf16_units_after_escaping():
    assert LINKEDIN.measure(BOLD_B) == 2
    assert LINKEDIN.measure(THUMB) == 4 and LINKEDIN.measure(FAMILY) == 11
    assert LINKEDIN.measure("(a)") == 5 and LINKEDIN.measure("#tag") == 4 and LINKEDIN.measure("a_b") == 4
    assert LINKEDIN.fits("(" * 1500) and not LINKEDIN.fits("(" * 1501)
    assert LINKEDIN.fits(BOLD_B * 1500) and not LINKEDIN.fits(BOLD_B * 1501)
    assert LINKEDIN.fits("a" * 3000) and not LINKEDIN.fits("a" * 3001)


def test_linkedin_link_is_written_in_parentheses_and_escaped():
    assert LINKEDIN.link("the note", "https://example.com/n") == "the note (https://example.com/n)"
    assert LINKEDIN.measure(LINKEDIN.link("the note", "https://example.com/n")) == len("the note \\(https://example.com/n\\)")


# ---- X: a few cases of the weighted count (the conformance suite is test_twitter_text.py) ----

def test_x_weighted_limit():
    assert X.limit == 280
    assert X.fits("a" * 280) and not X.fits("a" * 281)
    assert X.fits("日" * 140) and not X.fits("日" * 141)
    assert X.measure("é" * 10) == 10 and X.measure("e\u0301") == 1  # NFC first


def test_x_urls_count_23_with_or_without_scheme():
    assert X.measure("https://example.com/" + "a" * 300) == 23
    assert X.measure("see example.com now") == 4 + 23 + 4
    assert X.fits("https://example.com/" + "a" * 2000)


def test_x_emoji_sequences_count_2():
    assert X.measure(FAMILY) == 2 and X.measure(THUMB) == 2 and X.measure(FLAG) == 2
    assert X.fits(FAMILY * 140) and not X.fits(FAMILY * 141)


def test_x_invalid_characters_never_fit():
    assert not X.fits("hello \ufeff") and not X.fits("\ufffe") and not X.fits("")


def test_mastodon_content_warning_shares_the_budget_and_is_sent_as_spoiler_text():
    import requests

    from pipeline.publisher import Part
    from pipeline.platforms.mastodon.publisher import MastodonPublisher
    from pipeline.transport import DryRun

    warned = mastodon.platform.configure({"content_warning": "Long read: career"})
    assert warned.measure("x" * 483) == 17 + 483 == 500 and warned.fits("x" * 483) and not warned.fits("x" * 484)
    assert warned.finish("Hello") == {"text": "Hello", "spoiler_text": "Long read: career"}
    assert mastodon.platform.finish("Hello") == {"text": "Hello"}
    session = requests.Session()
    publisher = MastodonPublisher(session, {"instance": "https://mastodon.example", "token": "t0ken-value"})
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    publisher.publish(Part("posts/a.md", "mastodon", 0, 1, "Hello", {"spoiler_text": "Long read: career"},
                           created=datetime(2026, 12, 1, tzinfo=timezone.utc)),
                      root=None, parent=None)
    (request,) = adapter.requests
    assert request.body["spoiler_text"] == "Long read: career" and request.body["status"] == "Hello"


@pytest.mark.parametrize("text, handles", [
    ("Thanks @alice.bsky.social.", ["alice.bsky.social"]),  # the full stop ends the sentence, not the handle
    ("(@bob.example.com) and @carol", ["bob.example.com"]),  # a handle is a domain name
    ("mail me@example.com or @dan@mastodon.social", []),  # an address, a Fediverse mention
    ("Über @Émile.test? no; @eve.test yes", ["eve.test"]),
])
def test_bluesky_mentions_are_handles_at_word_starts(text, handles):
    final = bluesky.platform.finish(text)
    found = final.get("mentions", [])
    assert [m["handle"] for m in found] == handles
    encoded = final["text"].encode()
    for mention in found:
        span = encoded[mention["index"]["byteStart"]:mention["index"]["byteEnd"]].decode()
        assert span.lower() == "@" + mention["handle"]


# ---- Threads: 500, emoji as UTF-8 bytes, at most 5 links (PLATFORMS.md §5.1) ---------------------------

THREADS = threads.platform


@pytest.mark.parametrize("text, length", [
    ("hello", 5), ("é", 1), ("日本語", 3), ("👍", 4), (THUMB, 8), (FAMILY, 25), (FLAG, 8), ("❤️", 6),
    ("1️⃣", 7), ("©", 2), (BOLD_B, 2), ("a\r\nb", 4), ("e\u0301", 2),
    ("https://example.com/a/very/long/path", 36),  # a URL counts as typed
])
def test_threads_counts_emoji_as_utf8_bytes_and_the_rest_in_utf16_units(text, length):
    assert THREADS.measure(text) == length


def test_threads_limit_and_links():
    assert THREADS.fits("a" * 500) and not THREADS.fits("a" * 499 + "👍")
    five = " ".join(f"https://example.com/{i}" for i in range(5))
    assert THREADS.fits(five) and THREADS.fits(five + " https://example.com/0")  # the same link twice is one
    assert not THREADS.fits(five + " example.org")  # a sixth link, even without a scheme


def test_threads_splits_a_post_with_too_many_links():
    text = "\n\n".join(f"Read https://example.com/{i} today." for i in range(8))
    posts = fit(text, THREADS, where="posts/a.md").posts
    assert len(posts) == 2 and all(threads_rules.links(p) <= 5 for p in posts)


def test_threads_length_command(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("Hello 👍🏽 world".encode())))
    assert cli.main(["length", "--platform", "threads"]) == 0
    assert json.loads(capsys.readouterr().out) == {"platform": "threads", "length": 20, "limit": 500, "fits": True}


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 500)), deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "1", "#", "é", "\u0301", "😀", "👍🏽", "👩‍👩‍👧", "🇪🇸", "1️⃣", "©", "日本",
                                 "\u200d", "\ufe0f", "\U0001F3FB", "\u0600", "\r\n", "\u1100", "\u1161"]),
                max_size=30).map("".join))
def test_threads_counts_each_emoji_cluster_as_its_bytes_segmenting_only_around_non_ascii(text):
    """The fast count equals the definition: every grapheme cluster, its UTF-8 bytes if it holds an emoji."""
    reference = sum(utf8_bytes(c) if threads_rules._EMOJI.search(c) else utf16_units(c) for c in graphemes(text))
    assert threads_rules.measure(text) == reference
