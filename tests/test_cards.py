"""Link cards (pipeline/cards.py and where the run uses them), against a web site on 127.0.0.1 (tests/pages.py).

A card's page is read once per run and remembered in .notecast/cards.json; every way a page can fail
is a warning and the post goes without a card; a card never changes a note's edition.
"""
from __future__ import annotations

import json
import socket
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests

from pipeline import cards, cli
from pipeline.cards import THUMB_BYTES, Cache, Card, Cards, Thumb, Unavailable, parse
from pipeline.clock import Clock, from_environment
from pipeline.compose import attach, compose_all
from pipeline.config import Config, load
from pipeline.errors import NoteError, UsageError
from pipeline.ledger import Ledger
from pipeline.media import Media
from pipeline.notes import read
from pipeline.plan import plan
from pipeline.platforms.bluesky.publisher import BlueskyPublisher
from pipeline.publisher import Part
from pipeline.transport import DryRun

ROOT = Path(__file__).resolve().parent.parent
PINNED = "2026-12-01T08:00:00Z"


@pytest.fixture
def clock():
    return from_environment({"NOTECAST_NOW": PINNED})


@pytest.fixture
def made(pages, clock):
    """A run's cards, without a cache."""
    return Cards(None, clock)


def note(tmp_path: Path, body: str, notecast: str = "status: ready", name: str = "linked.md") -> Path:
    (tmp_path / "posts").mkdir(exist_ok=True)
    path = tmp_path / "posts" / name
    path.write_text(f"---\ntitle: Linked\nnotecast:\n  {notecast}\n---\n{body}\n", encoding="utf-8")
    return path


# ---- reading a page ------------------------------------------------------------------------------------


def test_open_graph_tags_make_the_card_and_the_image_is_shrunk_without_exif(pages, made):
    card = made.card(pages.url("/article"))
    assert (card.uri, card.title, card.description) == (
        pages.url("/article"), "Gardens & notes", "Why a digital garden grows better in public.")
    assert card.image == pages.url("/images/photo.jpg")  # relative og:image, made absolute
    assert card.fetched == PINNED and not card.problem
    thumb = card.thumb
    assert thumb.mime == "image/jpeg" and len(thumb.data) <= THUMB_BYTES < len(pages.files["/images/photo.jpg"][1])
    from PIL import Image
    with Image.open(BytesIO(thumb.data)) as image:
        assert image.size == thumb.size and max(image.size) <= cards.THUMB_SIDE
        assert not image.getexif() and "exif" not in image.info
    assert b"CanaryCam" not in thumb.data and b"Secret-Place" not in thumb.data


def test_without_open_graph_title_description_and_twitter_image_are_used(pages, made):
    card = made.card(pages.url("/fallback/page"))
    assert (card.title, card.description) == ("Plain title", "Plain description")
    assert card.image == pages.url("/images/small.png") and card.thumb.size == (40, 20)


def test_parse_prefers_open_graph_and_resolves_the_image():
    html = ('<head><title>T</title><meta name="twitter:title" content="TT"><meta property="og:title" content=" O  G ">'
            '<meta name="description" content="D"><meta property="og:image" content="//cdn.example/i.png">'
            '<meta name="twitter:image" content="/other.png"></head>')
    assert parse(html, "https://site.example/a/b") == {"title": "O G", "description": "D",
                                                      "image": "https://cdn.example/i.png"}
    assert parse('<meta property="og:image" content="data:image/png;base64,AA">', "https://x.example/")["image"] == ""
    assert parse("<title>" + "long " * 200 + "</title>", "https://x.example/")["title"].endswith("…")


def test_a_page_declared_latin_1_is_read_as_latin_1(pages, made):
    assert made.card(pages.url("/latin1")).title == "Café crème"


def test_a_redirect_is_followed_and_the_card_keeps_the_notes_link(pages, made):
    card = made.card(pages.url("/moved"))
    assert card.uri == pages.url("/moved") and card.title == "Gardens & notes"


@pytest.mark.parametrize("path, why", [
    ("/bare", "the page has no title or description"),
    ("/gone", "the server answered 404 Not Found"),
    ("/loop", "redirects more than 5 times"),
    ("/huge-untagged", "the page has no title or description"),
    ("/pdf", "it is not a web page but application/pdf"),
])
def test_a_page_without_a_card(pages, made, path, why):
    with pytest.raises(Unavailable, match=why):
        made.card(pages.url(path))


def test_a_redirect_loop_stops_after_five_redirects(pages, made):
    with pytest.raises(Unavailable):
        made.card(pages.url("/loop"))
    assert pages.hits["/loop"] == cards.MAX_REDIRECTS + 1


def test_a_huge_page_is_read_only_as_far_as_its_first_megabyte(pages, made):
    began = time.monotonic()
    card = made.card(pages.url("/huge"))
    assert card.title == "A huge page" and time.monotonic() - began < cards.TIMEOUT
    assert pages.sent["/huge"] < 10_000_000 < 30_000_000  # the client hung up; the rest was never sent


def test_a_slow_server_is_given_up_on(pages, made, monkeypatch):
    monkeypatch.setattr(cards, "TIMEOUT", 0.3)
    began = time.monotonic()
    with pytest.raises(Unavailable, match=r"did not answer within 0.3 s"):
        made.card(pages.url("/slow"))
    assert time.monotonic() - began < 1.5


@pytest.mark.parametrize("path, why", [
    ("/not-an-image", "is not a PNG, JPEG, GIF or WebP image (the server calls it text/html)"),
    ("/svg", "is an SVG drawing, which a card cannot show"),
])
def test_an_image_that_cannot_be_shown_leaves_a_card_without_one(pages, made, path, why):
    card = made.card(pages.url(path))
    assert card.title and card.thumb is None and why in card.problem


def test_only_http_and_https_are_fetched(made):
    with pytest.raises(Unavailable, match="not an http or https address"):
        made.card("ftp://127.0.0.1/page")


def test_a_closed_port_says_there_may_be_no_network(made):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unavailable, match="could not be reached \\(connection refused\\); is there a network?"):
        made.card(f"http://127.0.0.1:{port}/")


def test_each_page_and_image_is_fetched_once_per_run(pages, made):
    for _ in range(3):
        made.card(pages.url("/article"))
        made.card(pages.url("/moved"))  # another page with the same image
        with pytest.raises(Unavailable):
            made.card(pages.url("/gone"))
    assert pages.hits["/article"] == 2 and pages.hits["/images/photo.jpg"] == 1 and pages.hits["/gone"] == 1


def test_the_user_agent_says_who_asks(pages):
    seen = []
    session = requests.Session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request.headers["User-Agent"]))
    Cards(None, Clock(), session).card(pages.url("/article"))
    assert seen and all("notecast" in agent and agent.startswith("Mozilla/5.0") for agent in seen)


# ---- the cache -------------------------------------------------------------------------------------------


def test_the_cache_remembers_pages_with_their_fetch_time_and_not_failures(pages, clock, tmp_path):
    path = tmp_path / ".notecast" / "cards.json"
    cache = Cache(path)
    run = Cards(cache, clock)
    run.card(pages.url("/article"))
    with pytest.raises(Unavailable):
        run.card(pages.url("/gone"))
    cache.save()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved == {"v": 1, "cards": {pages.url("/article"): {
        "uri": pages.url("/article"), "title": "Gardens & notes",
        "description": "Why a digital garden grows better in public.", "image": pages.url("/images/photo.jpg"),
        "fetched": "2026-12-01T08:00:00Z"}}}
    again = Cards(Cache(path), Clock()).card(pages.url("/article"))
    assert again.cached and again.fetched == "2026-12-01T08:00:00Z" and again.thumb is not None
    assert pages.hits["/article"] == 1  # the page from the cache; the image is downloaded again by each run


def test_a_broken_cache_is_fetched_again(pages, clock, tmp_path):
    path = tmp_path / "cards.json"
    path.write_text("{not json", encoding="utf-8")
    assert Cards(Cache(path), clock).card(pages.url("/article")).cached is False


# ---- which link, and the edition --------------------------------------------------------------------------


def test_front_matter_card_is_a_url_or_false(tmp_path):
    assert read(note(tmp_path, "x", "card: false")).settings.card is False
    assert read(note(tmp_path, "x", "card: true")).settings.card is None
    assert read(note(tmp_path, "x", "card: https://example.com/a")).settings.card == "https://example.com/a"
    with pytest.raises(NoteError) as caught:
        read(note(tmp_path, "x", "card: [1, 2]"))
    (problem,) = caught.value.problems
    assert problem.line == 4 and "notecast.card [1, 2] is not a web address or false" in str(problem)
    assert "card: false" in problem.hint


def links(tmp_path, body, notecast="status: ready", platforms=("linkedin", "bluesky", "x", "mastodon")):
    results = compose_all([note(tmp_path, body, notecast)], Config(), platforms).results
    return {c.platform.name: c.card_link for c in results}, results


def test_the_first_link_becomes_the_card_where_the_client_makes_cards(tmp_path):
    found, _ = links(tmp_path, "Read [this](https://a.example/one) and https://b.example/two.")
    assert found == {"linkedin": (0, "https://a.example/one"), "bluesky": (0, "https://a.example/one"),
                     "x": None, "mastodon": None}


def test_front_matter_chooses_another_link_or_none(tmp_path):
    body = "Read [this](https://a.example/one) and https://b.example/two."
    assert links(tmp_path, body, "card: https://b.example/two")[0]["bluesky"] == (0, "https://b.example/two")
    assert links(tmp_path, body, "card: false")[0] == dict.fromkeys(("linkedin", "bluesky", "x", "mastodon"))


def test_images_win_over_a_card(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "dot.png").write_bytes((ROOT / "tests" / "data" / "mastodon-tiny.png").read_bytes())
    body = "![a red dot](dot.png)\n\nRead https://a.example/one"
    found, _ = links(tmp_path, body)
    assert found["linkedin"] is None and found["bluesky"] is None
    found, results = links(tmp_path, body, "card: https://a.example/one")
    assert found["linkedin"] is None
    assert any("is not shown: post 1 has images" in w for w in results[0].warnings)


def test_a_thread_shows_the_card_on_the_first_post_that_carries_the_link(tmp_path):
    (composed,) = compose_all([ROOT / "posts" / "202303012203-my-failure-resume.md"], Config(), ("bluesky",)).results
    assert composed.card_link == (4, "https://jzhao.xyz/posts/a-failure-resume/")  # post 1 has the image


def test_a_card_changes_neither_the_edition_nor_the_record_keys(tmp_path):
    _, (composed,) = links(tmp_path, "Read https://a.example/one", platforms=("bluesky",))
    card = Card("https://a.example/one", "A", "B", "https://a.example/i.png", PINNED,
                thumb=Thumb(b"\x89PNG", "image/png", (1, 1)))
    (carded,) = attach([composed], lambda url: card)
    assert carded.posts[0].card == card
    ledger = Ledger(tmp_path / "ledger.jsonl", writable=False)
    (plain,), (with_card,) = (plan([c], ledger, root=tmp_path, now=Clock().now()) for c in (composed, carded))
    assert with_card.parts[0].card == card and plain.parts[0].card is None
    assert with_card.edition == plain.edition and with_card.parts[0].key == plain.parts[0].key


# ---- the commands ------------------------------------------------------------------------------------------


@pytest.fixture
def project(pages, tmp_path, monkeypatch):
    """A folder with one ready note that links to the local site; its ledger and cache in .notecast/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTECAST_NOW", PINNED)
    for key in ("BLUESKY_SERVICE", "BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD", "LINKEDIN_TOKEN", "LINKEDIN_AUTHOR"):
        monkeypatch.delenv(f"NOTECAST_{key}", raising=False)
    note(tmp_path, f"Why I garden in public: {pages.url('/article')}", "status: ready\n  platforms: [bluesky, linkedin]")
    return tmp_path


def test_render_json_gives_the_post_its_card(project, pages, capsys):
    assert cli.main(["render", "posts/linked.md", "--format", "json"]) == 0
    objects = json.loads(capsys.readouterr().out)
    for obj in objects:
        assert obj["posts"][0]["card"] == {"uri": pages.url("/article"), "title": "Gardens & notes",
                                           "description": "Why a digital garden grows better in public.",
                                           "image": pages.url("/images/photo.jpg")}
        assert obj["warnings"] == []
    assert pages.hits["/article"] == 1 and pages.hits["/images/photo.jpg"] == 1  # once for both platforms


def test_preview_shows_the_card_and_remembers_it_for_publish(project, pages, capsys):
    assert cli.main(["preview", "posts/linked.md"]) == 0
    out = capsys.readouterr().out
    assert "│ ╭─ Gardens & notes\n│ │ Why a digital garden grows better in public.\n│ │ " + pages.url("/article") in out
    assert (project / ".notecast" / "cards.json").exists()

    assert cli.main(["publish", "--dry-run", "posts/linked.md", "-p", "bluesky"]) == 0
    out = capsys.readouterr().out
    assert (f"card on post 1: {pages.url('/article')}: 'Gardens & notes'; image {pages.url('/images/photo.jpg')} ("
            in out) and "page read 2026-12-01T08:00:00Z, remembered in .notecast/cards.json" in out
    assert pages.hits["/article"] == 1  # publish used what preview saw


def test_preview_html_shows_the_card(project, pages, capsys):
    assert cli.main(["preview", "posts/linked.md", "--html", "preview.html"]) == 0
    page = (project / "preview.html").read_text(encoding="utf-8")
    assert f'<a class="link" href="{pages.url("/article")}"><img src="data:image/jpeg;base64,' in page
    assert '<div class="title">Gardens &amp; notes</div>' in page


def test_the_dry_run_shows_the_fetch_and_the_card_in_the_request_bodies(project, pages, capsys):
    assert cli.main(["publish", "--dry-run", "posts/linked.md"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "page fetched now (2026-12-01T08:00:00Z)" in out
    assert '"$type": "app.bsky.embed.external"' in out and f'"uri": "{pages.url("/article")}"' in out
    assert "<the link card's image " + pages.url("/images/photo.jpg") in out  # the uploadBlob body, described
    assert '"article": {' in out and '"source": "' + pages.url("/article") in out and '"thumbnail": "urn:li:image:' in out
    assert not (project / ".notecast").exists()  # a dry run writes nothing, not even the card cache


def test_with_no_network_preview_and_the_dry_run_still_work_and_say_why(pages, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    note(tmp_path, f"Read http://127.0.0.1:{port}/gone-offline", "status: ready\n  platforms: [bluesky]")
    assert cli.main(["preview", "posts/linked.md"]) == 0
    why = (f"no link card for http://127.0.0.1:{port}/gone-offline: 127.0.0.1 could not be reached (connection "
           "refused); is there a network?; the post goes without one")
    assert f"│ ⚠ {why}" in capsys.readouterr().out
    assert cli.main(["publish", "--dry-run", "posts/linked.md"]) == 0
    captured = capsys.readouterr()
    assert f"posts/linked.md → bluesky: warning: {why}" in captured.err
    assert "embed" not in captured.out


def test_a_page_without_a_card_is_a_warning_in_render(project, pages, capsys):
    note(project, f"See {pages.url('/gone')}", name="gone.md")
    assert cli.main(["render", "posts/gone.md", "-p", "linkedin"]) == 0
    assert (f"warning: no link card for {pages.url('/gone')}: the server answered 404 Not Found; the post goes "
            "without one") in capsys.readouterr().out


def test_cards_off_fetch_nothing(project, pages, monkeypatch, capsys):
    monkeypatch.setenv("NOTECAST_CARDS", "off")
    assert cli.main(["render", "posts/linked.md", "--format", "json"]) == 0
    assert "card" not in json.loads(capsys.readouterr().out)[0]["posts"][0] and not pages.hits
    monkeypatch.delenv("NOTECAST_CARDS")
    (project / "notecast.toml").write_text("cards = false\n", encoding="utf-8")
    assert cli.main(["preview", "posts/linked.md"]) == 0 and not pages.hits


def test_check_and_status_fetch_nothing(project, pages, capsys):
    assert cli.main(["check", "posts/"]) == 0
    assert cli.main(["status", "posts/"]) == 0
    assert not pages.hits


def test_the_bluesky_record_takes_the_card_and_images_win(tmp_path):
    session = requests.Session()
    publisher = BlueskyPublisher(session, {"service": "https://bsky.social", "handle": "you.bsky.social",
                                           "app_password": "<NOTECAST_BLUESKY_APP_PASSWORD>"})
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    card = Card("https://a.example/one", "A title", "", "https://a.example/i.png", PINNED,
                thumb=Thumb(b"\x89PNG fake", "image/png", (2, 1)))
    made = Clock().now()
    publisher.publish(Part("posts/a.md", "bluesky", 0, 1, "One", card=card, created=made), root=None, parent=None)
    embed = adapter.requests[-1].body["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    assert {k: v for k, v in embed["external"].items() if k != "thumb"} == {
        "uri": "https://a.example/one", "title": "A title", "description": ""}
    assert embed["external"]["thumb"]["mimeType"] == "image/png"
    dot = Media(ROOT / "tests" / "data" / "mastodon-tiny.png", "a red dot", 1)
    publisher.publish(Part("posts/a.md", "bluesky", 0, 1, "Two", media=(dot,), card=card, created=made),
                      root=None, parent=None)
    assert adapter.requests[-1].body["record"]["embed"]["$type"] == "app.bsky.embed.images"


def test_cards_in_notecast_toml_must_be_true_or_false(tmp_path):
    (tmp_path / "notecast.toml").write_text('cards = "yes"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="cards must be true or false"):
        load(tmp_path / "notecast.toml")
    (tmp_path / "notecast.toml").write_text("cards = false\n", encoding="utf-8")
    assert load(tmp_path / "notecast.toml").cards is False
