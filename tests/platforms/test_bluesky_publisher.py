"""BlueskyPublisher against the reference PDS, running on loopback (the ``pds`` fixture, tests/pds_server.py).

Every post is read back from the server (listRecords, getRecord, getBlob), so what is checked is
what Bluesky stored: text, facets, reply references, language, images and alt text.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import pds_server
from pipeline.clock import SYSTEM
from pipeline.compose import compose_all
from pipeline.config import Config
from pipeline.errors import Rejected, Retryable
from pipeline.ledger import Ledger
from pipeline.media import Media
from pipeline.plan import plan
from pipeline.errors import Unknown
from pipeline.publisher import Part, Receipt
from pipeline.platforms.bluesky.publisher import IMAGE_BYTES, PASSWORD_HINT, BlueskyPublisher, record_key
from pipeline.transport import DryRun

pytestmark = pytest.mark.pds

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "posts" / "202303012203-my-failure-resume.md"  # the seed note: 13 posts, an image, a link, a tag
ILLUSTRATED = ROOT / "posts" / "202411101930-writing-in-public.md"  # an image with alt text



@pytest.fixture(scope="module")
def account(pds):
    return pds.create_account("notecast")


@pytest.fixture
def sent():
    """(method, XRPC method, status) of every response the publisher got."""
    return []


@pytest.fixture
def connect(sent, sleeps):
    def make(server, account, password=None) -> BlueskyPublisher:
        session = requests.Session()
        session.hooks["response"].append(
            lambda r, *args, **kwargs: sent.append((r.request.method, r.url.split("/xrpc/")[-1].split("?")[0],
                                                    r.status_code)))
        return BlueskyPublisher(session, {"service": server.url, "handle": account.handle,
                                          "app_password": password or account.app_password})
    return make


@pytest.fixture
def publisher(connect, pds, account):
    return connect(pds, account)


def part(text, index=0, count=1, **kwargs) -> Part:
    kwargs.setdefault("created", SYSTEM.now() + timedelta(microseconds=index))
    return Part(note="posts/pds-test.md", platform="bluesky", index=index, count=count, text=text, **kwargs)


def calls(sent) -> list[str]:
    return [nsid.removeprefix("com.atproto.") for _, nsid, _ in sent]


def test_the_seed_note_as_a_thread(pds, account, publisher, sent, tmp_path):
    (composed,) = compose_all([EXAMPLE], Config(), ("bluesky",)).results
    (pub,) = plan([composed], Ledger(tmp_path / "ledger.jsonl", writable=False), root=ROOT, now=SYSTEM.now(),
                  language="en")
    parts = pub.parts
    assert len(parts) == 13 and len(parts[0].media) == 1
    receipts = []
    for p in parts:
        root, parent = (receipts[0], receipts[-1]) if receipts else (None, None)
        receipts.append(publisher.publish(p, root=root, parent=parent))

    assert calls(sent) == ["server.createSession", "repo.uploadBlob"] + ["repo.createRecord"] * 13
    records = pds.records(account.did)
    assert [r["uri"] for r in records] == [r.id for r in receipts]  # record keys sort in thread order
    for p, receipt, record in zip(parts, receipts, records):
        rkey = record_key(p)
        assert receipt.id == f"at://{account.did}/app.bsky.feed.post/{rkey}"
        assert receipt.url == f"https://bsky.app/profile/{account.handle}/post/{rkey}"
        assert receipt.extra == {"uri": record["uri"], "cid": record["cid"]}
        value = record["value"]
        assert value["text"] == p.text
        assert value.get("facets", []) == p.extra["facets"]
        assert value["langs"] == ["en"]
        assert value["createdAt"] == p.created.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if p.index:
            assert value["reply"] == {"root": receipts[0].extra, "parent": receipts[p.index - 1].extra}
        else:
            assert "reply" not in value

    def linked(p) -> list[tuple[str, dict]]:  # each facet's bytes of the stored text, and its feature
        stored = records[p.index]["value"]
        data = stored["text"].encode()
        return [(data[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"][0])
                for f in stored.get("facets", [])]

    assert linked(parts[4]) == [("failure resume", {"$type": "app.bsky.richtext.facet#link",
                                                     "uri": "https://jzhao.xyz/posts/a-failure-resume/"})]
    assert linked(parts[-1]) == [("#career", {"$type": "app.bsky.richtext.facet#tag", "tag": "career"})]

    (image,) = records[0]["value"]["embed"]["images"]
    assert records[0]["value"]["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == ""  # the seed note's image has none; the key is required, empty is allowed
    source = parts[0].media[0].path.read_bytes()
    data, kind = pds.blob(account.did, image["image"]["ref"]["$link"])
    assert data == source and kind == "image/png"
    assert image["image"]["mimeType"] == "image/png" and image["image"]["size"] == len(source)
    from PIL import Image
    assert image["aspectRatio"] == dict(zip(("width", "height"), Image.open(BytesIO(source)).size))


def test_wrong_password_says_how_to_fix(pds, account, connect, sent):
    publisher = connect(pds, account, password="not-the-app-password")
    with pytest.raises(Rejected) as caught:
        publisher.publish(part("Never sent"), root=None, parent=None)
    assert caught.value.status == 401
    assert "AuthenticationRequired: Invalid identifier or password" in caught.value.message
    assert caught.value.hint == PASSWORD_HINT
    assert "app password" in str(caught.value) and "NOTECAST_BLUESKY_APP_PASSWORD" in str(caught.value)
    assert calls(sent) == ["server.createSession"]  # neither retried nor looked for


def test_expired_access_token_is_refreshed(pds, account, publisher, sent):
    first = publisher.publish(part("Before the token expires"), root=None, parent=None)
    publisher._auth["accessJwt"] = pds_server.forge_expired(publisher._auth["accessJwt"])
    second = publisher.publish(part("After it expired", 1, 2), root=first, parent=first)
    assert [(c, s) for c, s in zip(calls(sent), (s for *_, s in sent))] == [
        ("server.createSession", 200), ("repo.createRecord", 200),
        ("repo.createRecord", 400), ("server.refreshSession", 200), ("repo.createRecord", 200)]
    assert pds.record(second.id)["value"]["reply"]["parent"] == first.extra


def test_refused_refresh_logs_in_again(pds, account, publisher, sent):
    publisher.publish(part("Logged in once"), root=None, parent=None)
    publisher._auth["accessJwt"] = pds_server.forge_expired(publisher._auth["accessJwt"])
    publisher._auth["refreshJwt"] = pds_server.forge_expired(publisher._auth["refreshJwt"])
    receipt = publisher.publish(part("Logged in twice"), root=None, parent=None)
    assert calls(sent)[2:] == ["repo.createRecord", "server.refreshSession", "server.createSession",
                               "repo.createRecord"]
    assert pds.record(receipt.id)["value"]["text"] == "Logged in twice"


def test_same_record_key_twice_finds_the_first_post(pds, account, publisher, sent):
    once = part("Sent twice, posted once")
    before = len(pds.records(account.did))
    first = publisher.publish(once, root=None, parent=None)
    again = publisher.publish(once, root=None, parent=None)  # the PDS answers a taken key with a bare 500
    assert again == first
    assert [(c, s) for c, (*_, s) in zip(calls(sent), sent)][1:] == [
        ("repo.createRecord", 200), ("repo.createRecord", 500), ("repo.getRecord", 200)]
    assert publisher.recover(once, root=None, parent=None) == first
    assert len(pds.records(account.did)) == before + 1


def test_a_reply_to_a_post_recorded_by_hand(pds, publisher):
    first = publisher.publish(part("Recorded by hand later", 0, 2), root=None, parent=None)
    by_hand = Receipt(first.url.rsplit("/", 1)[-1], first.url, {"resolved": "by hand"})  # `notecast resolve --sent URL`
    reply = publisher.publish(part("A reply to it", 1, 2), root=by_hand, parent=by_hand)
    assert pds.record(reply.id)["value"]["reply"] == {"root": first.extra, "parent": first.extra}


def test_mentions_of_known_handles_become_mention_facets(pds, account, publisher, sent):
    from pipeline.platforms.bluesky import platform

    friend = pds.create_account("friend")
    text = f"Thanks to @{friend.handle} and @nobody-here.test, café ☕ #notes"
    final = platform.finish(text)
    assert [m["handle"] for m in final["mentions"]] == [friend.handle, "nobody-here.test"]
    made = publisher.publish(part(final["text"], extra={k: v for k, v in final.items() if k != "text"}),
                             root=None, parent=None)
    record = pds.record(made.id)["value"]
    encoded = record["text"].encode()
    by_type = {f["features"][0]["$type"].rsplit("#", 1)[-1]: f for f in record["facets"]}
    assert set(by_type) == {"mention", "tag"}  # the unknown handle stays plain text
    mention = by_type["mention"]
    assert mention["features"][0]["did"] == friend.did
    assert encoded[mention["index"]["byteStart"]:mention["index"]["byteEnd"]].decode() == f"@{friend.handle}"
    assert [f["index"]["byteStart"] for f in record["facets"]] == sorted(f["index"]["byteStart"] for f in record["facets"])
    assert calls(sent).count("identity.resolveHandle") == 2


def test_recover_finds_nothing_when_nothing_was_posted(publisher, sent):
    assert publisher.recover(part("Never sent either"), root=None, parent=None) is None
    assert calls(sent) == ["server.createSession", "repo.getRecord"]


def test_a_different_post_under_the_key_is_unknown(pds, account, publisher):
    mine = part("What notecast meant to post")
    session = pds.xrpc("POST", "com.atproto.server.createSession",
                       json={"identifier": account.handle, "password": account.password}).json()
    pds.xrpc("POST", "com.atproto.repo.createRecord", token=session["accessJwt"], json={
        "repo": account.did, "collection": "app.bsky.feed.post", "rkey": record_key(mine),
        "record": {"$type": "app.bsky.feed.post", "text": "Something else", "createdAt": "2026-11-28T20:00:00Z"},
    }).raise_for_status()
    with pytest.raises(Unknown, match=f"record key {record_key(mine)} already holds a different post"):
        publisher.publish(mine, root=None, parent=None)
    with pytest.raises(Unknown):
        publisher.recover(mine, root=None, parent=None)


def _noise_png(path: Path, side: int = 900) -> Path:
    """An RGB PNG of random pixels: it does not compress, so it is over 1,000,000 bytes."""
    from PIL import Image
    rng = random.Random(7)
    Image.frombytes("RGB", (side, side // 2), rng.randbytes(side * (side // 2) * 3)).save(path)
    assert path.stat().st_size > IMAGE_BYTES
    return path


def test_a_large_image_is_shrunk(pds, account, publisher, tmp_path):
    big = _noise_png(tmp_path / "noise.png")
    receipt = publisher.publish(part("A large image", media=(Media(big, "random noise", 1),)), root=None,
                                parent=None)
    (image,) = pds.record(receipt.id)["value"]["embed"]["images"]
    data, kind = pds.blob(account.did, image["image"]["ref"]["$link"])
    assert len(data) <= IMAGE_BYTES and kind == "image/jpeg" and data[:2] == b"\xff\xd8"
    assert image["alt"] == "random noise"
    assert image["aspectRatio"]["width"] == 2 * image["aspectRatio"]["height"]


def test_a_large_image_without_pillow_is_refused(pds, account, publisher, sent, tmp_path, monkeypatch):
    big = _noise_png(tmp_path / "noise.png")
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL fails as if it were not installed
    with pytest.raises(Rejected, match="over Bluesky's 1,000,000 bytes") as caught:
        publisher.publish(part("Too large", media=(Media(big, "noise", 1),)), root=None, parent=None)
    assert "pip install 'notecast[images]'" in caught.value.hint
    assert calls(sent) == ["server.createSession"]


@pytest.fixture(scope="module")
def limited_pds(pds):
    """A second PDS, with its rate limiter on (``pds`` first: it skips, or fails in CI, if none is installed)."""
    server = pds_server.start(rate_limits=True)
    yield server
    server.stop()


def test_rate_limited_login_is_not_waited_out(limited_pds, connect, sent, sleeps):
    account = limited_pds.create_account("limited")

    def wrong(_):
        return requests.post(f"{limited_pds.url}/xrpc/com.atproto.server.createSession", timeout=30,
                             json={"identifier": account.handle, "password": "wrong"}).status_code

    with ThreadPoolExecutor(10) as pool:  # spend the 30 logins per 5 minutes at once
        assert sorted(pool.map(wrong, range(30))) == [401] * 30
    publisher = connect(limited_pds, account)
    with pytest.raises(Retryable, match="asked to wait") as caught:
        publisher.publish(part("Rate limited"), root=None, parent=None)
    assert 0 < caught.value.retry_after <= 300  # from RateLimit-Reset, the end of the 5-minute window
    assert sent == [("POST", "com.atproto.server.createSession", 429)] and sleeps == []


def test_dry_run_walks_a_thread_through_plausible_answers():
    session = requests.Session()
    publisher = BlueskyPublisher(session, {"service": "https://bsky.social", "handle": "you.bsky.social",
                                           "app_password": "<NOTECAST_BLUESKY_APP_PASSWORD>"})
    adapter = DryRun(publisher.dry_reply)
    session.mount("https://", adapter)
    image = Media(ROOT / "tests" / "data" / "mastodon-tiny.png", "a red dot", 1)
    adapter.know(image.path.read_bytes(), "tiny.png, alt: a red dot")
    first = publisher.publish(part("One", 0, 2, media=(image,)), root=None, parent=None)
    second = publisher.publish(part("Two", 1, 2), root=first, parent=first)
    assert publisher.recover(part("Three", 2, 3), root=first, parent=second) is None
    assert [urlsplit(r.url).path for r in adapter.requests] == [
        f"/xrpc/com.atproto.{m}" for m in ("server.createSession", "repo.uploadBlob", "repo.createRecord",
                                           "repo.createRecord", "repo.getRecord")]
    assert adapter.requests[3].body["record"]["reply"] == {"root": dict(first.extra), "parent": dict(first.extra)}
    (blob,) = adapter.requests[2].body["record"]["embed"]["images"]
    assert blob["alt"] == "a red dot" and blob["aspectRatio"] == {"width": 4, "height": 4}
    assert blob["image"]["size"] == image.path.stat().st_size and blob["image"]["mimeType"] == "image/png"
    assert first.url.startswith("https://bsky.app/profile/you.bsky.social/post/3")
    assert first.extra["cid"].startswith("bafyrei") and blob["image"]["ref"]["$link"].startswith("bafkrei")
    assert adapter.requests[1].headers["Authorization"] == "****"


def test_notecast_publish_end_to_end(pds, tmp_path):
    account = pds.create_account("cli")
    (tmp_path / "posts" / "attachments").mkdir(parents=True)
    shutil.copy(ROOT / "posts" / "attachments" / "notes-per-week.png", tmp_path / "posts" / "attachments")
    text = ILLUSTRATED.read_text(encoding="utf-8")
    assert "status: ready" in text
    (tmp_path / "posts" / ILLUSTRATED.name).write_text(text, encoding="utf-8")
    (tmp_path / "notecast.toml").write_text('notes = "posts"\nledger = "state/ledger.jsonl"\nlanguage = "en"\n')
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "NOTECAST_BLUESKY_SERVICE": pds.url, "NOTECAST_BLUESKY_HANDLE": account.handle,
           "NOTECAST_BLUESKY_APP_PASSWORD": account.app_password,
           "NOTECAST_CARDS": "off"}  # its link would be fetched from the web: tests/test_cards.py serves its own

    def publish():
        return subprocess.run([sys.executable, "-m", "pipeline", "publish", "--platform", "bluesky"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    done = publish()
    assert done.returncode == 0, done.stderr
    records = pds.records(account.did)
    first = records[0]["uri"].rsplit("/", 1)[-1]
    assert done.stdout.strip() == (f"posts/{ILLUSTRATED.name} → bluesky: published {len(records)} post(s): "
                                   f"https://bsky.app/profile/{account.handle}/post/{first}\n1 note(s): 1 due")
    assert len(records) == 7 and account.app_password not in done.stdout + done.stderr
    (image,) = records[0]["value"]["embed"]["images"]
    assert image["alt"] == "A bar chart of notes written per week: four bars, rising and then falling again"
    assert all(r["value"]["langs"] == ["en"] for r in records)
    assert [r["value"]["reply"]["parent"]["uri"] for r in records[1:]] == [r["uri"] for r in records[:-1]]
    ledger = [json.loads(line) for line in (tmp_path / "state" / "ledger.jsonl").read_text().splitlines()]
    done_lines = [e for e in ledger if e["event"] == "done"]
    assert [e["id"] for e in done_lines] == [r["uri"] for r in records]
    assert all(e["extra"] == {"uri": r["uri"], "cid": r["cid"]} for e, r in zip(done_lines, records))

    again = publish()
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "1 note(s): 0 due, 1 published"
    assert len(pds.records(account.did)) == 7
    assert len((tmp_path / "state" / "ledger.jsonl").read_text().splitlines()) == len(ledger)


def test_a_link_card_end_to_end(pds, pages, tmp_path, monkeypatch, capsys):
    """`notecast publish` of a note that links to a page with Open Graph tags (tests/pages.py): the record
    carries app.bsky.embed.external, and its thumb is a readable blob within the lexicon's limit."""
    from PIL import Image

    from pipeline import cli
    from pipeline.cards import THUMB_BYTES

    account = pds.create_account("cards")
    monkeypatch.chdir(tmp_path)
    for key, value in (("SERVICE", pds.url), ("HANDLE", account.handle), ("APP_PASSWORD", account.app_password)):
        monkeypatch.setenv(f"NOTECAST_BLUESKY_{key}", value)
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "garden.md").write_text(
        "---\ntitle: Garden\nnotecast:\n  status: ready\n  platforms: [bluesky]\n---\n"
        f"Why I garden in public: {pages.url('/article')}\n", encoding="utf-8")
    assert cli.main(["publish", "posts/"]) == 0, capsys.readouterr().err
    (record,) = pds.records(account.did)
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert {k: external[k] for k in ("uri", "title", "description")} == {
        "uri": pages.url("/article"), "title": "Gardens & notes",
        "description": "Why a digital garden grows better in public."}
    data, kind = pds.blob(account.did, external["thumb"]["ref"]["$link"])
    assert kind == "image/jpeg" and external["thumb"]["mimeType"] == "image/jpeg"
    assert len(data) == external["thumb"]["size"] <= THUMB_BYTES < len(pages.files["/images/photo.jpg"][1])
    with Image.open(BytesIO(data)) as image:
        assert image.format == "JPEG" and not image.getexif()
    assert b"CanaryCam" not in data
    capsys.readouterr()

    monkeypatch.setenv("NOTECAST_CARDS", "off")  # the card is not part of the edition: still published
    assert cli.main(["status", "posts/"]) == 0
    assert "\tbluesky\tpublished\t" in capsys.readouterr().out
