"""MastodonPublisher against recorded Mastodon answers (cassettes/test_mastodon_publisher/).

The cassettes were written by hand from the Mastodon API docs and source
(statuses, media, instance, accounts; rack-attack's 429). To re-record against
a real account, set NOTECAST_MASTODON_INSTANCE and NOTECAST_MASTODON_TOKEN and
run with ``--record-mode=rewrite``: the filters below keep the token out.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from support import canonical_multipart, replay
from pipeline import http
from pipeline.errors import Rejected, Retryable
from pipeline.media import Media
from pipeline.errors import Unknown
from pipeline.publisher import Part, Receipt
from pipeline.platforms.mastodon import publisher as mastodon
from pipeline.platforms.mastodon.publisher import TOKEN_HINT, MastodonPublisher
from pipeline.transport import DryRun

INSTANCE = os.environ.get("NOTECAST_MASTODON_INSTANCE") or "https://mastodon.example"
TOKEN = os.environ.get("NOTECAST_MASTODON_TOKEN") or "test-token"
TINY = Path(os.path.relpath(Path(__file__).parent.parent / "data" / "mastodon-tiny.png"))  # 4×4 red PNG, 77 bytes
CASSETTES = Path(__file__).parent / "cassettes" / "test_mastodon_publisher"
SECRET_KEYS = ("access_token", "refresh_token", "token", "password", "client_secret")
LONG_AGO = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # past Mastodon's one-hour key memory


def _scrub_json(value):
    if isinstance(value, dict):
        return {k: "REDACTED" if k.lower() in SECRET_KEYS else _scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value



def _scrub_request(request):
    """Applied before recording and before matching (to the cassette's requests too, hence idempotent):
    no secrets, no random multipart boundary."""
    kind = request.headers.get("Content-Type", "")
    if request.body and kind.startswith("multipart/form-data") and not kind.endswith("boundary=BOUNDARY"):
        request.body = canonical_multipart(request.body, kind)
        request.headers["Content-Type"] = "multipart/form-data; boundary=BOUNDARY"
    elif request.body and "json" in kind:
        request.body = json.dumps(_scrub_json(json.loads(request.body))).encode()
    return request


def _scrub_response(response):
    body = response["body"]["string"]
    try:
        body = json.dumps(_scrub_json(json.loads(body))).encode()
    except ValueError:
        pass
    response["body"]["string"] = body.replace(TOKEN.encode(), b"REDACTED")
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return replay(_scrub_request, _scrub_response)



@pytest.fixture
def sent():
    """Every request the publisher sent, as requests prepared it (retries included)."""
    return []


@pytest.fixture
def publisher(sent, sleeps):
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    return MastodonPublisher(session, {"instance": INSTANCE, "token": TOKEN, "max_characters": ""})


def part(text, index=0, count=1, media=(), language=None, created=None) -> Part:
    return Part(note="posts/a.md", platform="mastodon", index=index, count=count, text=text, media=media,
                language=language, created=created or datetime.now(timezone.utc))


def body(request) -> dict:
    return json.loads(request.body)


@pytest.mark.vcr
def test_single_post(publisher, sent):
    post = part("Hello from notecast", language="en")
    receipt = publisher.publish(post, root=None, parent=None)
    assert receipt == Receipt(id="113500000000000001", url=f"{INSTANCE}/@notecast/113500000000000001")
    (request,) = sent
    assert (request.method, request.url) == ("POST", f"{INSTANCE}/api/v1/statuses")
    assert request.headers["Idempotency-Key"] == post.key
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert body(request) == {"status": "Hello from notecast", "visibility": "public", "language": "en"}


@pytest.mark.vcr
def test_thread_replies_chain(publisher, sent):
    texts = ["A thread about notes (1/3)", "The middle (2/3)", "The end (3/3)"]
    receipts: list[Receipt] = []
    for i, text in enumerate(texts):
        root, parent = (receipts[0], receipts[-1]) if receipts else (None, None)
        receipts.append(publisher.publish(part(text, i, 3), root=root, parent=parent))
    assert [r.id for r in receipts] == ["113500000000000011", "113500000000000012", "113500000000000013"]
    assert [body(r).get("in_reply_to_id") for r in sent] == [None, "113500000000000011", "113500000000000012"]
    assert len({r.headers["Idempotency-Key"] for r in sent}) == 3


@pytest.mark.vcr
def test_image_with_alt_text(publisher, sent):
    post = part("A red dot", media=(Media(TINY, "a red dot on white", 3),))
    receipt = publisher.publish(post, root=None, parent=None)
    assert receipt.id == "113500000000000021"
    upload, status = sent
    assert (upload.method, upload.url) == ("POST", f"{INSTANCE}/api/v2/media")
    assert b'name="description"\r\n\r\na red dot on white' in upload.body
    assert TINY.read_bytes() in upload.body
    assert body(status)["media_ids"] == ["110600000000000001"]


@pytest.mark.vcr
def test_media_still_processing_is_polled(publisher, sent, sleeps):
    post = part("A red dot, slowly", media=(Media(TINY, "a red dot", 3),))
    receipt = publisher.publish(post, root=None, parent=None)
    assert receipt.id == "113500000000000031"
    assert [(r.method, r.url) for r in sent] == [("POST", f"{INSTANCE}/api/v2/media"),
                                                 ("GET", f"{INSTANCE}/api/v1/media/110600000000000002"),
                                                 ("POST", f"{INSTANCE}/api/v1/statuses")]
    assert sleeps == [mastodon.POLL_WAIT]
    assert body(sent[-1])["media_ids"] == ["110600000000000002"]


@pytest.mark.vcr(allow_playback_repeats=True)
def test_media_processing_gives_up(publisher, sent, sleeps):
    post = part("A red dot, never", media=(Media(TINY, "a red dot", 3),))
    with pytest.raises(Retryable, match="still processing the image"):
        publisher.publish(post, root=None, parent=None)
    assert len(sleeps) == mastodon.POLLS
    assert not any(r.url.endswith("/api/v1/statuses") for r in sent)


@pytest.mark.vcr
def test_unauthorized_says_how_to_fix(publisher):
    with pytest.raises(Rejected) as caught:
        publisher.publish(part("Hello"), root=None, parent=None)
    assert caught.value.status == 401
    assert "The access token is invalid" in caught.value.message
    assert caught.value.hint == TOKEN_HINT
    assert "Preferences → Development" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.vcr
def test_validation_error_is_rejected_with_the_servers_text(publisher, sent):
    with pytest.raises(Rejected, match="Validation failed: Text character limit of 500 exceeded"):
        publisher.publish(part("x" * 501), root=None, parent=None)
    assert len(sent) == 1  # never retried


@pytest.mark.vcr
def test_rate_limited_with_mastodon_headers_then_posted(publisher, sent, sleeps):
    receipt = publisher.publish(part("Busy server"), root=None, parent=None)
    assert receipt.id == "113500000000000041"
    assert len(sent) == 2 and len(sleeps) == 1  # rack-attack sends no Retry-After: backoff
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]


@pytest.mark.vcr
def test_rate_limited_with_retry_after_then_posted(publisher, sent, sleeps):
    receipt = publisher.publish(part("Behind a proxy"), root=None, parent=None)
    assert receipt.id == "113500000000000042"
    assert sleeps == [3.0]


@pytest.mark.vcr
def test_server_error_is_retried_with_the_same_idempotency_key(publisher, sent, sleeps):
    post = part("Retried safely")
    receipt = publisher.publish(post, root=None, parent=None)
    assert receipt.id == "113500000000000051"
    assert len(sent) == 2 and len(sleeps) == 1
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"] == post.key
    assert sent[0].body == sent[1].body


@pytest.mark.vcr
def test_server_error_is_surfaced_after_the_last_try(publisher, sent):
    with pytest.raises(Retryable) as caught:
        publisher.publish(part("Never lucky"), root=None, parent=None)
    assert caught.value.status == 503
    assert "temporary problem" in caught.value.message
    assert len(sent) == http.DEFAULT.tries


@pytest.mark.vcr
def test_recover_within_the_hour_resends_and_gets_the_first_status(publisher, sent):
    post = part("Sent once", created=datetime.now(timezone.utc) - timedelta(minutes=5))
    receipt = publisher.recover(post, root=None, parent=None)
    assert receipt == Receipt(id="113500000000000061", url=f"{INSTANCE}/@notecast/113500000000000061")
    assert sent[0].headers["Idempotency-Key"] == post.key


@pytest.mark.vcr
def test_recover_later_finds_the_reply_by_its_text(publisher, sent):
    parent = Receipt(id="113500000000000071", url=f"{INSTANCE}/@notecast/113500000000000071")
    text = ("It's all at https://example.com/a/very/long/path/to/an/article & thanks "
            "@alice@social.example (2/2)")
    receipt = publisher.recover(part(text, 1, 2, created=LONG_AGO), root=parent, parent=parent)
    assert receipt == Receipt(id="113500000000000072", url=f"{INSTANCE}/@notecast/113500000000000072")
    assert [r.method for r in sent] == ["GET", "GET"]  # looked, posted nothing


@pytest.mark.vcr
def test_recover_later_knows_the_post_was_not_made(publisher):
    assert publisher.recover(part("Never arrived", created=LONG_AGO), root=None, parent=None) is None


@pytest.mark.vcr
def test_recover_later_is_unknown_when_unsure(publisher):
    with pytest.raises(Unknown, match="notecast status"):
        publisher.recover(part("Arrived, maybe", created=LONG_AGO), root=None, parent=None)


@pytest.mark.vcr
def test_recover_later_is_unknown_when_the_token_cannot_look(publisher):
    with pytest.raises(Unknown, match="read:accounts") as caught:
        publisher.recover(part("Arrived, maybe", created=LONG_AGO), root=None, parent=None)
    assert "check the account" in str(caught.value) and TOKEN not in str(caught.value)


@pytest.mark.vcr
def test_discover_reads_the_instance_limit(publisher, sent):
    assert publisher.discover() == {"max_characters": "1000"}
    assert [(r.method, r.url) for r in sent] == [("GET", f"{INSTANCE}/api/v2/instance")]


@pytest.mark.vcr
def test_discover_falls_back_when_the_instance_cannot_tell(publisher):
    assert publisher.discover() == {}


def test_discover_keeps_a_configured_limit():
    session = requests.Session()
    adapter = DryRun(lambda *a: (500, {}, None))
    session.mount("https://", adapter)
    publisher = MastodonPublisher(session, {"instance": INSTANCE, "token": TOKEN, "max_characters": "11000"})
    assert publisher.discover() == {}
    assert adapter.requests == []


def dry_publisher(token=TOKEN):
    session = requests.Session()
    publisher = MastodonPublisher(session, {"instance": INSTANCE, "token": token, "max_characters": ""})
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return publisher, adapter


def test_dry_run_walks_a_whole_thread(sleeps):
    publisher, adapter = dry_publisher()
    adapter.know(TINY.read_bytes(), f"{TINY.name}, alt: a red dot")
    first = part("Dry run (1/2)", 0, 2, media=(Media(TINY, "a red dot", 3),), language="en")
    root = publisher.publish(first, root=None, parent=None)
    reply = publisher.publish(part("Dry run (2/2)", 1, 2, language="en"), root=root, parent=root)
    assert root.url == f"{INSTANCE}/@user/{root.id}" and int(reply.id) > int(root.id)
    upload, status, answer = adapter.requests
    assert (upload.method, upload.url) == ("POST", f"{INSTANCE}/api/v2/media")
    assert upload.body == {"description": "a red dot", "file": f"<{TINY.name}, alt: a red dot, 77 bytes, image/png>"}
    assert (status.method, status.url) == ("POST", f"{INSTANCE}/api/v1/statuses")
    assert status.body == {"status": "Dry run (1/2)", "visibility": "public", "media_ids": ["101"], "language": "en"}
    assert status.headers["Idempotency-Key"] == first.key
    assert answer.body["in_reply_to_id"] == root.id
    assert all(r.headers["Authorization"] == "****" for r in adapter.requests)
    assert TOKEN not in repr(adapter.requests)
    assert publisher.discover() == {"max_characters": "500"}
    assert publisher.recover(part("x", created=LONG_AGO), root=None, parent=None) is None


def test_large_image_is_shrunk_with_pillow(tmp_path, monkeypatch):
    from PIL import Image

    big = tmp_path / "big.png"
    Image.effect_noise((300, 300), 80).convert("RGB").save(big)
    monkeypatch.setattr(mastodon, "IMAGE_BYTES", 20_000)
    publisher, adapter = dry_publisher()
    publisher.publish(part("Big", media=(Media(big, "noise", 1),)), root=None, parent=None)
    found = re.fullmatch(r"<([\d,]+) bytes, image/jpeg>", adapter.requests[0].body["file"])
    assert found and int(found.group(1).replace(",", "")) <= 20_000


def test_large_image_without_pillow_is_refused(tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    big.write_bytes(TINY.read_bytes() + b"\0" * 200)
    monkeypatch.setattr(mastodon, "IMAGE_BYTES", 100)
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    publisher, adapter = dry_publisher()
    with pytest.raises(Rejected, match=r"pip install 'notecast\[images\]'"):
        publisher.publish(part("Big", media=(Media(big, "x", 1),)), root=None, parent=None)
    assert adapter.requests == []


def test_cassettes_hold_no_secrets():
    cassettes = sorted(CASSETTES.glob("*.yaml"))
    assert len(cassettes) >= 15
    for cassette in cassettes:
        text = cassette.read_text(encoding="utf-8")
        assert TOKEN not in text and "test-token" not in text, cassette.name
        assert not re.search(r"(?i)bearer\s+(?!REDACTED|realm=)\S", text), cassette.name
        assert not re.search(r'(?i)"(access_token|refresh_token|password)":\s*"(?!REDACTED)', text), cassette.name
