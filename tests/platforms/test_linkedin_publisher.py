"""LinkedInPublisher against recorded LinkedIn answers (cassettes/test_linkedin_publisher/).

The cassettes were written by hand from LinkedIn's Posts, Images and
MultiImage API docs and its error-handling page (201 with ``x-restli-id``,
``{"status", "serviceErrorCode", "code", "message"}`` errors, 422
DUPLICATE_POST, 426 NONEXISTENT_VERSION, the "find posts by authors"
finder). LinkedIn documents no rate-limit headers; the Retry-After case is
what a proxy in front of it may send. To re-record against a real account,
set NOTECAST_LINKEDIN_AUTHOR and NOTECAST_LINKEDIN_TOKEN and run with
``--record-mode=rewrite``: the token is filtered out of headers and bodies.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from support import disconnected, replay
from pipeline.cards import Card, Thumb
from pipeline.errors import Rejected, Retryable
from pipeline.media import Media
from pipeline.platforms.linkedin import platform
from pipeline.platforms.linkedin.rules import escape
from pipeline.errors import Unknown
from pipeline.ledger import Ledger
from pipeline.publisher import Part, Receipt
from pipeline.run import send as _send
from pipeline.platforms.linkedin import publisher as linkedin
from pipeline.platforms.linkedin.publisher import CREATE_HINT, PERMISSION_HINT, TOKEN_HINT, LinkedInPublisher
from pipeline.transport import DryRun

API = "https://api.linkedin.com"
AUTHOR = os.environ.get("NOTECAST_LINKEDIN_AUTHOR") or "urn:li:person:4kVwQ6mZpT"
TOKEN = os.environ.get("NOTECAST_LINKEDIN_TOKEN") or "test-token"
SETTINGS = {"author": AUTHOR, "token": TOKEN, "version": "202609", "api": API}
TINY = Path(os.path.relpath(Path(__file__).parent.parent / "data" / "mastodon-tiny.png"))  # 4×4 red PNG, 77 bytes
CREATED = datetime(2026, 11, 28, 20, 6, 0, tzinfo=timezone.utc)  # the first attempt, in the cassettes' time
FINDER = {"author": AUTHOR, "q": "author", "count": "20", "sortBy": "LAST_MODIFIED"}
_DIGEST = re.compile(rb"<\d+ bytes, sha256 [0-9a-f]{64}>")


def _scrub_request(request):
    """Applied before recording and before matching (to the cassette's requests too, hence idempotent):
    JSON in one canonical spelling, uploaded bytes as their size and hash."""
    kind = request.headers.get("Content-Type", "")
    body = request.body
    if body and "json" in kind:
        request.body = json.dumps(json.loads(body), sort_keys=True).encode()
    elif body and kind.startswith("image/") and not _DIGEST.fullmatch(body):
        request.body = f"<{len(body)} bytes, sha256 {hashlib.sha256(body).hexdigest()}>".encode()
    return request


def _scrub_response(response):
    response["body"]["string"] = response["body"]["string"].replace(TOKEN.encode(), b"REDACTED")
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return replay(_scrub_request, _scrub_response)



@pytest.fixture
def sent():
    """Every request the publisher sent, as requests prepared it (retries included)."""
    return []


def make(sent, **settings) -> LinkedInPublisher:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    return LinkedInPublisher(session, {**SETTINGS, **settings})


@pytest.fixture
def publisher(sent, sleeps):
    return make(sent)


def part(text, media=(), created=CREATED) -> Part:
    return Part(note="posts/a.md", platform="linkedin", index=0, count=1, text=text, media=media, created=created)


def body(request) -> dict:
    return json.loads(request.body)


def post_body(commentary, **content) -> dict:
    """The JSON of POST /rest/posts, as LinkedIn's Posts API documents it."""
    expected = {"author": AUTHOR, "commentary": commentary, "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
    return {**expected, "content": content} if content else expected


def receipt(urn) -> Receipt:
    return Receipt(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


def assert_versioned(request):
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["LinkedIn-Version"] == "202609"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"


@pytest.mark.vcr
def test_single_post(publisher, sent):
    assert publisher.publish(part("Hello from notecast"), root=None, parent=None) == \
        receipt("urn:li:share:7400112233445566001")
    (request,) = sent
    assert (request.method, request.url) == ("POST", f"{API}/rest/posts")
    assert_versioned(request)
    assert request.headers["Content-Type"] == "application/json"
    assert body(request) == post_body("Hello from notecast")


@pytest.mark.vcr
def test_every_reserved_character_survives(publisher, sent):
    text = escape("Keep them all: \\ | { } @ [ ] ( ) < > # * _ ~ and #notecast")
    assert text == r"Keep them all: \\ \| \{ \} \@ \[ \] \( \) \< \> \# \* \_ \~ and #notecast"
    assert publisher.publish(part(text), root=None, parent=None).id == "urn:li:share:7400112233445566002"
    commentary = body(sent[0])["commentary"]
    assert commentary == text  # sent as is: JSON carries every backslash
    for char in "\\|{}@[]()<>#*_~":
        assert f"\\{char}" in commentary, char
    assert commentary.endswith(" #notecast")  # a live hashtag stays unescaped


@pytest.mark.vcr
def test_image_with_alt_text(publisher, sent):
    post = part("A red dot", media=(Media(TINY, "a red dot on white", 3),))
    assert publisher.publish(post, root=None, parent=None) == receipt("urn:li:share:7400112233445566003")
    init, upload, create = sent
    assert (init.method, init.url) == ("POST", f"{API}/rest/images?action=initializeUpload")
    assert_versioned(init)
    assert body(init) == {"initializeUploadRequest": {"owner": AUTHOR}}
    assert upload.method == "PUT"
    assert upload.url.startswith("https://www.linkedin.com/dms-uploads/sp/v2/D4E10AQHqZ3tVx8Kp2A/")
    assert upload.body == TINY.read_bytes() and upload.headers["Content-Type"] == "image/png"
    assert body(create) == post_body("A red dot", media={"id": "urn:li:image:D4E10AQHqZ3tVx8Kp2A",
                                                         "altText": "a red dot on white"})


@pytest.mark.vcr
def test_two_images(publisher, sent):
    media = (Media(TINY, "the first dot", 3), Media(TINY, "the second dot", 4))
    assert publisher.publish(part("Two red dots", media=media), root=None, parent=None).id == \
        "urn:li:share:7400112233445566004"
    assert [r.method for r in sent] == ["POST", "PUT", "POST", "PUT", "POST"]
    assert body(sent[-1])["content"] == {"multiImage": {"images": [
        {"id": "urn:li:image:D4E10AQF1rstImg0001", "altText": "the first dot"},
        {"id": "urn:li:image:D4E10AQS2cndImg0002", "altText": "the second dot"}]}}


@pytest.mark.vcr
def test_image_upload_server_error_is_retried(publisher, sent, sleeps):
    post = part("A red dot, again", media=(Media(TINY, "", 3),))
    assert publisher.publish(post, root=None, parent=None).id == "urn:li:share:7400112233445566008"
    assert [r.method for r in sent] == ["POST", "POST", "PUT", "POST"] and len(sleeps) == 1
    assert body(sent[-1])["content"] == {"media": {"id": "urn:li:image:D4E10AQRetryImg0001"}}  # no alt: none sent


@pytest.mark.vcr
def test_expired_token_says_how_to_renew(publisher, sent):
    with pytest.raises(Rejected) as caught:
        publisher.publish(part("Hello"), root=None, parent=None)
    error = caught.value
    assert error.status == 401 and error.hint == TOKEN_HINT
    assert "The token used in the request has expired (EXPIRED_ACCESS_TOKEN)" in error.message
    for words in ("60 days", "developer portal", "OAuth", "NOTECAST_LINKEDIN_TOKEN"):
        assert words in str(error)
    assert TOKEN not in str(error) and len(sent) == 1


@pytest.mark.vcr
def test_retired_version_says_which_setting(sent, sleeps):
    with pytest.raises(Rejected) as caught:
        make(sent, version="202301").publish(part("Hello"), root=None, parent=None)
    assert caught.value.status == 426 and "NONEXISTENT_VERSION" in caught.value.message
    assert "NOTECAST_LINKEDIN_VERSION" in caught.value.hint and "202301" in caught.value.hint
    assert sent[0].headers["LinkedIn-Version"] == "202301"


@pytest.mark.vcr
def test_rate_limited_with_retry_after_then_posted(publisher, sent, sleeps):
    assert publisher.publish(part("Busy day"), root=None, parent=None).id == "urn:li:share:7400112233445566006"
    assert sleeps == [5.0] and sent[0].body == sent[1].body  # a 429 made nothing: sending again is safe


@pytest.mark.vcr
def test_rate_limited_without_retry_after_backs_off(publisher, sent, sleeps):
    assert publisher.publish(part("Busy day again"), root=None, parent=None).id == "urn:li:share:7400112233445566007"
    assert len(sent) == 2 and len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0


@pytest.mark.vcr
def test_server_error_on_the_post_is_surfaced_and_not_retried(publisher, sent, sleeps):
    with pytest.raises(Retryable) as caught:
        publisher.publish(part("Maybe made"), root=None, parent=None)
    assert caught.value.status == 500 and "Internal Server Error" in caught.value.message
    assert caught.value.hint == CREATE_HINT and caught.value.maybe_sent
    assert len(sent) == 1 and sleeps == []  # no idempotency key: a second POST could post twice


def test_connection_lost_after_sending_the_post_is_not_retried(sleeps):
    calls = []
    session = disconnected(calls)
    with pytest.raises(Retryable, match="ConnectionError") as caught:
        LinkedInPublisher(session, SETTINGS).publish(part("Lost"), root=None, parent=None)
    assert caught.value.maybe_sent and len(calls) == 1 and sleeps == []


@pytest.mark.vcr
def test_recover_finds_the_post_by_its_text(publisher, sent):
    text = escape("Notes become posts (finally) #notecast")
    post = part(text, media=(Media(TINY, "a red dot", 3),))
    assert publisher.recover(post, root=None, parent=None) == receipt("urn:li:share:7400112233445566011")
    (request,) = sent  # looked; posted and uploaded nothing
    assert request.method == "GET" and request.url.startswith(f"{API}/rest/posts?author=urn%3Ali%3Aperson%3A")
    assert dict(parse_qsl(urlsplit(request.url).query)) == FINDER
    assert list(dict(parse_qsl(urlsplit(request.url).query))) == ["author", "q", "count", "sortBy"]  # author first
    assert request.headers["X-RestLi-Method"] == "FINDER"
    assert_versioned(request)


@pytest.mark.vcr
def test_recover_knows_the_post_was_not_made(publisher):
    assert publisher.recover(part("Never arrived"), root=None, parent=None) is None


@pytest.mark.vcr
def test_recover_is_unknown_when_unsure(publisher):
    with pytest.raises(Unknown, match="does not quite match") as caught:
        publisher.recover(part("Arrived, maybe"), root=None, parent=None)
    assert "notecast resolve posts/a.md --platform linkedin --sent URL" in str(caught.value)


@pytest.mark.vcr
def test_recover_is_unknown_when_too_many_posts_since(publisher, monkeypatch):
    monkeypatch.setattr(linkedin, "PAGE", 3)
    with pytest.raises(Unknown, match="more than 3 times since"):
        publisher.recover(part("Lost in the crowd"), root=None, parent=None)


@pytest.mark.vcr
def test_recover_is_unknown_when_it_cannot_look(publisher, sent):
    with pytest.raises(Unknown, match="could not look") as caught:
        publisher.recover(part("Arrived, maybe"), root=None, parent=None)
    message = str(caught.value)
    assert "Not enough permissions" in message and "r_member_social" in message
    assert "your LinkedIn activity" in message
    assert "`notecast resolve posts/a.md --platform linkedin --sent URL`" in message
    assert "`notecast resolve posts/a.md --platform linkedin --not-sent`" in message
    assert TOKEN not in message and len(sent) == 1


@pytest.mark.vcr
def test_duplicate_is_recognised_and_the_post_found(publisher, sent):
    assert publisher.publish(part("Said once"), root=None, parent=None) == receipt("urn:li:share:7400112233445566021")
    assert [r.method for r in sent] == ["POST", "GET"]


@pytest.mark.vcr
def test_duplicate_of_an_older_post_is_unknown(publisher, sent):
    with pytest.raises(Unknown, match="duplicate") as caught:
        publisher.publish(part("Good morning"), root=None, parent=None)
    message = str(caught.value)
    url = "https://www.linkedin.com/feed/update/urn:li:share:7390000000000000001/"
    assert f"notecast resolve posts/a.md --platform linkedin --sent {url}" in message
    assert "change the note" in message
    assert [r.method for r in sent] == ["POST", "GET"]


def test_commentary_comparison_follows_what_linkedin_gives_back():
    plain = linkedin._plain
    assert plain(r"a \(b\) {hashtag|\#|notes}") == plain(escape("a (b) #notes")) == "a (b) #notes"
    assert plain(r"keep \\ \\\( this") == "keep \\ \\( this"
    assert plain("two\n\nlines ") == plain("two lines")
    assert plain(r"a \(b\)") != plain("a b")


def test_the_author_must_be_a_linkedin_urn(sent):
    with pytest.raises(Rejected, match="is not urn:li:person") as caught:
        make(sent, author="4kVwQ6mZpT").publish(part("Hello"), root=None, parent=None)
    assert "NOTECAST_LINKEDIN_AUTHOR" in caught.value.hint and "/v2/userinfo" in caught.value.hint
    assert sent == []


def test_only_jpg_gif_and_png_are_uploaded(tmp_path, sent):
    webp = tmp_path / "dot.webp"
    webp.write_bytes(b"RIFF\0\0\0\0WEBP")
    with pytest.raises(Rejected, match="LinkedIn takes JPG, GIF and PNG images, not image/webp"):
        make(sent).publish(part("Hello", media=(Media(webp, "a dot", 1),)), root=None, parent=None)
    assert sent == []


def dry_publisher(settings=SETTINGS):
    session = requests.Session()
    publisher = platform.publisher(session, settings)  # as the runner gets it
    assert isinstance(publisher, LinkedInPublisher)
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return publisher, adapter


def test_dry_run_posts_with_two_images_without_secrets(sleeps):
    values = {s.key: s.default or s.placeholder for s in platform.settings}  # a dry run without any setting
    assert values["token"] == "<NOTECAST_LINKEDIN_TOKEN>"
    publisher, adapter = dry_publisher(values)
    adapter.know(TINY.read_bytes(), f"{TINY.name}, alt: a dot")
    media = (Media(TINY, "a dot", 3), Media(TINY, "", 4))
    made = publisher.publish(part(escape("Dry run (1/1)"), media=media), root=None, parent=None)
    assert made.id.startswith("urn:li:share:") and made.url == f"https://www.linkedin.com/feed/update/{made.id}/"
    assert [(r.method, urlsplit(r.url).path.split("/")[1]) for r in adapter.requests] == [
        ("POST", "rest"), ("PUT", "dms-uploads"), ("POST", "rest"), ("PUT", "dms-uploads"), ("POST", "rest")]
    create = adapter.requests[-1]
    assert create.body["author"] == "urn:li:person:YOUR-ID" and create.body["commentary"] == r"Dry run \(1/1\)"
    images = create.body["content"]["multiImage"]["images"]
    assert images[0]["altText"] == "a dot" and "altText" not in images[1]
    assert adapter.requests[1].body == f"<{TINY.name}, alt: a dot, 77 bytes, image/png>"
    assert all(r.headers.get("Authorization") == "****" for r in adapter.requests)
    assert create.headers["LinkedIn-Version"] == "202609"
    assert publisher.recover(part("x"), root=None, parent=None) is None  # the finder, then nothing


def test_dry_run_hides_a_real_token():
    publisher, adapter = dry_publisher()
    publisher.publish(part("Hello"), root=None, parent=None)
    assert TOKEN not in repr(adapter.requests)


def test_a_missing_version_header_says_which_setting():
    publisher, adapter = dry_publisher({**SETTINGS, "version": ""})
    adapter.reply = lambda *a: (400, {}, {"status": 400, "code": "VERSION_MISSING",
                                          "message": "A version must be present. Please specify a version by "
                                                     "adding the LinkedIn-Version header."})
    with pytest.raises(Rejected) as caught:
        publisher.publish(part("Hello"), root=None, parent=None)
    assert "VERSION_MISSING" in caught.value.message and "NOTECAST_LINKEDIN_VERSION" in caught.value.hint


def test_a_refused_post_is_rejected_with_linkedins_words():
    publisher, adapter = dry_publisher()
    adapter.reply = lambda *a: (403, {}, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                                          "message": "Not enough permissions to access: posts.CREATE.20260901"})
    with pytest.raises(Rejected, match="Not enough permissions to access") as caught:
        publisher.publish(part("Hello"), root=None, parent=None)
    assert caught.value.hint == PERMISSION_HINT and len(adapter.requests) == 1


def test_a_post_made_without_an_id_is_recorded_as_unknown(tmp_path):
    """201 without x-restli-id: the post exists but cannot be named; the runner records it for a person."""
    publisher, adapter = dry_publisher()
    adapter.reply = lambda *a: (201, {}, None)
    post = part("Hello")
    pub = SimpleNamespace(note=post.note, edition="1", parts=[post], done={}, interrupted=())
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ok, outcome = _send(pub, publisher, ledger)
    assert not ok and outcome.startswith("unknown: part 1 may have been sent") and "x-restli-id" in outcome
    assert [e.event for e in ledger.entries] == ["intent", "unknown"]


def carded(text="Why I garden in public: https://garden.example/why") -> Part:
    """A post with a link card whose thumbnail is the 4×4 red PNG (the run made it; the publisher uploads it as is)."""
    card = Card("https://garden.example/why", "Gardens & notes", "Why a digital garden grows better in public.",
                "https://garden.example/og.png", "2026-11-28T20:00:00Z", thumb=Thumb(TINY.read_bytes(), "image/png", (4, 4)))
    return Part(note="posts/a.md", platform="linkedin", index=0, count=1, text=text, card=card, created=CREATED)


@pytest.mark.vcr
def test_link_card_as_an_article(publisher, sent):
    """The Posts API does not read the page: the article's title, description and thumbnail are sent."""
    assert publisher.publish(carded(), root=None, parent=None).id == "urn:li:share:7400112233445566101"
    init, upload, create = sent
    assert body(init) == {"initializeUploadRequest": {"owner": AUTHOR}}
    assert upload.method == "PUT" and upload.body == TINY.read_bytes() and upload.headers["Content-Type"] == "image/png"
    assert body(create) == post_body("Why I garden in public: https://garden.example/why", article={
        "source": "https://garden.example/why", "title": "Gardens & notes",
        "description": "Why a digital garden grows better in public.", "thumbnail": "urn:li:image:D4E10AQCard0Thumb1"})


@pytest.mark.vcr
def test_link_card_goes_without_a_thumbnail_it_cannot_upload(publisher, sent):
    """The post never fails because of its card: a refused thumbnail upload leaves the article without one."""
    assert publisher.publish(carded(), root=None, parent=None).id == "urn:li:share:7400112233445566102"
    assert [r.method for r in sent] == ["POST", "POST"]
    assert body(sent[-1])["content"] == {"article": {
        "source": "https://garden.example/why", "title": "Gardens & notes",
        "description": "Why a digital garden grows better in public."}}


def test_images_win_over_a_link_card(sent):
    session = requests.Session()
    dry = LinkedInPublisher(session, SETTINGS)
    adapter = DryRun(dry.dry_reply)
    session.mount("https://", adapter)
    with_image = Part(note="posts/a.md", platform="linkedin", index=0, count=1, text="A dot",
                      media=(Media(TINY, "a red dot", 3),), card=carded().card, created=CREATED)
    dry.publish(with_image, root=None, parent=None)
    assert list(adapter.requests[-1].body["content"]) == ["media"]
