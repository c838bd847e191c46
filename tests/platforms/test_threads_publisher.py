"""ThreadsPublisher against recorded Threads API answers (cassettes/test_threads_publisher/).

The cassettes were written by hand from Meta's Threads API documentation (posts, publishing
reference, create replies, troubleshooting, retrieve posts, reply management) and Graph API's
error handling guide; each says at its top what is unverified. The token travels as the
``access_token`` parameter, so the filters below replace it (in query strings and form bodies)
with REDACTED and put parameters in one order, before recording and before matching. To
re-record against a real profile, set NOTECAST_THREADS_USER_ID and NOTECAST_THREADS_TOKEN and
run with ``--record-mode=rewrite``.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from support import replay
from pipeline import run
from pipeline.compose import compose_all
from pipeline.config import Config
from pipeline.errors import Rejected, Retryable, Unknown
from pipeline.ledger import Ledger
from pipeline.media import Media
from pipeline.platforms.threads import publisher as threads
from pipeline.platforms.threads.publisher import RATE_HINT, TOKEN_HINT, ThreadsPublisher
from pipeline.publisher import Part, Progress, Receipt
from pipeline.transport import DryRun

USER = os.environ.get("NOTECAST_THREADS_USER_ID") or "25000000000000001"
TOKEN = os.environ.get("NOTECAST_THREADS_TOKEN") or "test-token"
API = "https://graph.threads.net/v1.0"
TINY = Path(os.path.relpath(Path(__file__).parent.parent / "data" / "mastodon-tiny.png"))  # 4×4 red PNG
MEDIA_BASE = "https://raw.githubusercontent.com/someone/notes/main"
SECRET_KEYS = ("access_token", "client_secret", "refresh_token")


def canonical(query: str) -> str:
    """Parameters in one order, the token replaced: the same for a live request and a cassette's."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(sorted((k, "REDACTED" if k in SECRET_KEYS else v) for k, v in pairs))


def _scrub_request(request):
    parts = urlsplit(request.uri)
    if parts.query:
        request.uri = urlunsplit(parts._replace(query=canonical(parts.query)))
    if request.body and "x-www-form-urlencoded" in (request.headers.get("Content-Type") or ""):
        body = request.body if isinstance(request.body, str) else request.body.decode()
        request.body = canonical(body).encode()
    return request


def _scrub_response(response):
    response["body"]["string"] = re.sub(rb'"access_token":\s*"[^"]*"', b'"access_token": "REDACTED"',
                                        response["body"]["string"]).replace(TOKEN.encode(), b"REDACTED")
    return response


@pytest.fixture(scope="module")
def vcr_config():
    return replay(_scrub_request, _scrub_response)


@pytest.fixture
def sent():
    return []


def make(sent, **settings) -> ThreadsPublisher:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    return ThreadsPublisher(session, {"user_id": USER, "token": TOKEN, **settings})


@pytest.fixture
def publisher(sent, sleeps):
    return make(sent)


def part(text, index=0, count=1, media=(), progress=None) -> Part:
    return Part(note="posts/a.md", platform="threads", index=index, count=count, text=text, media=media,
                created=datetime(2026, 11, 28, 20, 0, tzinfo=timezone.utc), progress=progress or {})


def form(request) -> dict:
    return dict(parse_qsl(request.body if isinstance(request.body, str) else request.body.decode()))


def query(request) -> dict:
    return dict(parse_qsl(urlsplit(request.url).query))


def calls(sent) -> list[tuple[str, str]]:
    return [(r.method, r.url.split("?")[0].removeprefix(API)) for r in sent]


def publish(publisher, post, tmp_path, root=None, parent=None) -> Receipt:
    """As a run publishes: each Progress recorded in a ledger, then the next step."""
    return run._complete(post, publisher, Ledger(tmp_path / "ledger.jsonl"), "e1", root, parent)


# ---- publishing -----------------------------------------------------------------------------------


@pytest.mark.vcr
def test_single_post(publisher, sent, tmp_path):
    receipt = publish(publisher, part("Hello from notecast"), tmp_path)
    assert receipt == Receipt("18050000000000001", "https://www.threads.net/@notecast/post/DAbCdEfGhIj",
                              {"container": "17890000000000001"})
    assert calls(sent) == [("POST", f"/{USER}/threads"), ("GET", "/17890000000000001"),
                           ("POST", f"/{USER}/threads_publish"), ("GET", "/18050000000000001")]
    assert form(sent[0]) == {"media_type": "TEXT", "text": "Hello from notecast", "access_token": TOKEN}
    assert query(sent[1])["fields"] == "status,error_message"
    assert form(sent[2]) == {"creation_id": "17890000000000001", "access_token": TOKEN}
    entries = Ledger(tmp_path / "ledger.jsonl").entries
    assert [(e.event, e.extra) for e in entries] == [("progress", {"container": "17890000000000001"})]


@pytest.mark.vcr
def test_thread_replies_chain(publisher, sent, tmp_path):
    receipts: list[Receipt] = []
    for i, text in enumerate(["A thread about notes (1/3)", "The middle (2/3)", "The end (3/3)"]):
        root, parent = (receipts[0], receipts[-1]) if receipts else (None, None)
        receipts.append(publish(publisher, part(text, i, 3), tmp_path, root, parent))
    assert [r.id for r in receipts] == ["18050000000000011", "18050000000000012", "18050000000000013"]
    creates = [form(r) for r in sent if r.method == "POST" and r.url.endswith("/threads")]
    assert [c.get("reply_to_id") for c in creates] == [None, "18050000000000011", "18050000000000012"]


@pytest.mark.vcr
def test_container_in_progress_is_polled_until_finished(publisher, sent, sleeps, tmp_path):
    receipt = publish(publisher, part("Slow to prepare"), tmp_path)
    assert receipt.id == "18050000000000021"
    assert sleeps == [5.0, 10.0]
    assert [m for m, _ in calls(sent)] == ["POST", "GET", "GET", "GET", "POST", "GET"]


@pytest.mark.vcr
def test_container_error_is_rejected_with_threads_reason(publisher, sent, tmp_path):
    with pytest.raises(Rejected, match="could not prepare the post: UNKNOWN") as caught:
        publish(publisher, part("Refused by the pipeline"), tmp_path)
    assert "change the note" in caught.value.hint
    assert not any(r.url.endswith("/threads_publish") for r in sent)


@pytest.mark.vcr
def test_container_expired_or_failed_in_an_earlier_run_is_made_again(publisher, sent, tmp_path):
    receipt = publish(publisher, part("Made again", progress={"container": "17890000000000040"}), tmp_path)
    assert receipt == Receipt("18050000000000041", "https://www.threads.net/@notecast/post/DAbCdEfGh41",
                              {"container": "17890000000000041"})
    assert calls(sent) == [("GET", "/17890000000000040"), ("POST", f"/{USER}/threads"), ("GET", "/17890000000000041"),
                           ("POST", f"/{USER}/threads_publish"), ("GET", "/18050000000000041")]
    assert form(sent[3])["creation_id"] == "17890000000000041"  # the old container is never published


@pytest.mark.vcr
def test_unauthorized_says_how_to_fix(publisher, tmp_path):
    with pytest.raises(Rejected) as caught:
        publish(publisher, part("Hello"), tmp_path)
    assert caught.value.status == 401 and "Error validating access token" in caught.value.message
    assert caught.value.hint == TOKEN_HINT and "60 days" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.vcr
def test_rate_limited_with_429_then_published(publisher, sent, sleeps, tmp_path):
    receipt = publish(publisher, part("Busy hour"), tmp_path)
    assert receipt.id == "18050000000000051"
    publishes = [r for r in sent if r.url.endswith("/threads_publish")]
    assert len(publishes) == 2 and sleeps == [3.0]


@pytest.mark.vcr
def test_publishing_limit_reached_is_retryable_with_a_hint(publisher, sent, tmp_path):
    with pytest.raises(Retryable) as caught:
        publish(publisher, part("The 251st post"), tmp_path)
    assert caught.value.hint == RATE_HINT and "(code 4)" in caught.value.message
    assert not caught.value.maybe_sent
    assert len([r for r in sent if r.url.endswith("/threads_publish")]) == 1  # a 400 is not retried at once


@pytest.mark.vcr
def test_image_with_media_base_url(sent, sleeps, tmp_path):
    publisher = make(sent, media_base_url=MEDIA_BASE + "/")
    receipt = publish(publisher, part("A red dot", media=(Media(TINY, "a red dot on white", 3),)), tmp_path)
    assert receipt.id == "18050000000000061"
    assert form(sent[0]) == {"media_type": "IMAGE", "text": "A red dot", "image_url": f"{MEDIA_BASE}/{TINY.as_posix()}",
                             "alt_text": "a red dot on white", "access_token": TOKEN}


def test_image_outside_the_current_folder_is_refused(sent):
    publisher = make(sent, media_base_url=MEDIA_BASE)
    with pytest.raises(Rejected, match="outside the current folder"):
        publisher.publish(part("Far away", media=(Media(Path("/tmp/x.png"), "x", 1),)), root=None, parent=None)
    assert sent == []


def test_image_is_left_out_without_media_base_url(tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(TINY.read_bytes())
    (tmp_path / "n.md").write_text("---\ntitle: Dot\n---\nA dot. ![a red dot](a.png)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTECAST_THREADS_MEDIA_BASE_URL", raising=False)
    (without,) = compose_all(["n.md"], Config(), ("threads",)).results
    assert without.posts[0].media == () and any("media_base_url" in w for w in without.warnings)
    config = Config(platforms={"threads": {"media_base_url": MEDIA_BASE}})
    (with_url,) = compose_all(["n.md"], config, ("threads",)).results
    assert [m.alt for m in with_url.posts[0].media] == ["a red dot"] and not with_url.warnings


# ---- after a crash ----------------------------------------------------------------------------------


def test_recover_without_a_recorded_container_knows_nothing_was_published(publisher, sent):
    assert publisher.recover(part("Never published"), root=None, parent=None) is None
    assert sent == []  # a container is published only after its id is in the ledger


@pytest.mark.vcr
def test_recover_finds_a_published_post(publisher, sent):
    post = part("Published before the crash", progress={"container": "17890000000000070"})
    receipt = publisher.recover(post, root=None, parent=None)
    assert receipt == Receipt("18050000000000070", "https://www.threads.net/@notecast/post/DAbCdEfGh70",
                              {"container": "17890000000000070"})
    assert calls(sent) == [("GET", "/17890000000000070"), ("GET", f"/{USER}/threads")]


@pytest.mark.vcr
def test_recover_finds_a_published_reply_among_the_parents_replies(publisher, sent):
    parent = Receipt("18050000000000071", "https://www.threads.net/@notecast/post/DAbCdEfGh71")
    post = part("The reply (2/2)", 1, 2, progress={"container": "17890000000000072"})
    receipt = publisher.recover(post, root=parent, parent=parent)
    assert receipt.id == "18050000000000072"
    assert calls(sent) == [("GET", "/17890000000000072"), ("GET", "/18050000000000071/replies")]


@pytest.mark.vcr
def test_recover_a_finished_container_then_publish_that_same_container(publisher, sent, tmp_path):
    post = part("Ready, not yet published", progress={"container": "17890000000000080"})
    assert publisher.recover(post, root=None, parent=None) is None
    receipt = publish(publisher, post, tmp_path)
    assert receipt.id == "18050000000000080"
    assert [form(r)["creation_id"] for r in sent if r.url.endswith("/threads_publish")] == ["17890000000000080"]
    assert not any(r.method == "POST" and r.url.endswith("/threads") for r in sent)  # nothing created again


@pytest.mark.vcr
def test_publish_never_publishes_a_published_container_again(publisher, sent, tmp_path):
    receipt = publish(publisher, part("Published before the crash", progress={"container": "17890000000000070"}),
                      tmp_path)
    assert receipt.id == "18050000000000070"
    assert not any(r.method == "POST" for r in sent)


@pytest.mark.vcr
def test_recover_is_unknown_when_the_published_post_cannot_be_found(publisher):
    post = part("Published, but where?", progress={"container": "17890000000000090"})
    with pytest.raises(Unknown, match="notecast resolve") as caught:
        publisher.recover(post, root=None, parent=None)
    assert "container 17890000000000090 is PUBLISHED" in str(caught.value)


@pytest.mark.vcr
def test_recover_is_unknown_when_threads_cannot_say(publisher):
    post = part("Who knows", progress={"container": "17890000000000091"})
    with pytest.raises(Unknown, match="could not ask about container 17890000000000091"):
        publisher.recover(post, root=None, parent=None)


# ---- dry run ------------------------------------------------------------------------------------------


def test_dry_run_walks_a_thread_with_create_wait_publish_and_reply_to(sleeps, tmp_path):
    session = requests.Session()
    publisher = ThreadsPublisher(session, {"user_id": USER, "token": TOKEN})
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    first = publish(publisher, part("Dry run (1/2)", 0, 2), tmp_path)
    second = publish(publisher, part("Dry run (2/2)", 1, 2), tmp_path, first, first)
    assert first.url.startswith("https://www.threads.net/@user/post/") and second.id != first.id
    steps = [(r.method, urlsplit(r.url).path.removeprefix("/v1.0")) for r in adapter.requests]
    container = adapter.requests[0]
    assert steps[:4] == [("POST", f"/{USER}/threads"), ("GET", f"/{first.extra['container']}"),
                         ("POST", f"/{USER}/threads_publish"), ("GET", f"/{first.id}")]
    assert container.body == {"media_type": "TEXT", "text": "Dry run (1/2)", "access_token": "****"}
    assert adapter.requests[4].body["reply_to_id"] == first.id
    assert TOKEN not in repr(adapter.requests)
    assert publisher.discover() == {}
    assert isinstance(publisher.publish(part("x"), root=None, parent=None), Progress)


def test_cassettes_hold_no_secrets():
    cassettes = sorted((Path(__file__).parent / "cassettes" / "test_threads_publisher").glob("*.yaml"))
    assert len(cassettes) >= 14
    for cassette in cassettes:
        text = cassette.read_text(encoding="utf-8")
        assert TOKEN not in text and "test-token" not in text, cassette.name
        assert not re.search(r"access_token=(?!REDACTED)", text), cassette.name


@pytest.mark.parametrize("user, level", [("123", "ok"), ("999", "error")])
def test_health_says_whom_the_token_signs_in_as(user, level):
    session = requests.Session()
    publisher = ThreadsPublisher(session, {"user_id": user, "token": "test-token"})
    adapter = DryRun(lambda method, url, body: (200, {}, {"id": "123", "username": "me"}))
    session.mount("https://", adapter)
    (finding,) = publisher.health()
    assert finding.level == level and "@me (user id 123)" in finding.message
    assert urlsplit(adapter.requests[0].url).path == "/v1.0/me"
