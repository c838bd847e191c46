"""The run shared by check, publish and status: what a server decides is asked before the plan is trusted.

A small Mastodon stand-in on 127.0.0.1 answers ``/api/v2/instance`` with a limit of 1000 and records each
status it is sent, so the three commands are seen to agree on a note's edition.
"""
from __future__ import annotations

import json
import pathlib
import threading
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer

import pytest

from support import JSONHandler
from pipeline import cli, run
from pipeline.errors import Rejected
from pipeline.ledger import Ledger
from pipeline.publisher import Part, Progress, Receipt

NOTE = """---
title: A long note
notecast:
  status: ready
  platforms: [mastodon]
---
""" + " ".join(f"Sentence number {i} says a little more about the idea." for i in range(1, 14)) + "\n"


class Instance(JSONHandler):
    statuses: list[dict] = []
    asked: list[str] = []

    def do_GET(self):
        self.asked.append(self.path)
        if self.path == "/api/v2/instance":
            return self.answer(200, {"domain": "127.0.0.1", "configuration": {"statuses": {"max_characters": 1000}}})
        return self.answer(404, {"error": "Record not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.statuses.append(body)
        ident = str(len(self.statuses))
        return self.answer(200, {"id": ident, "url": f"http://127.0.0.1/@me/{ident}", "content": body["status"]})



@pytest.fixture
def instance(monkeypatch, tmp_path):
    Instance.statuses, Instance.asked = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Instance)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for key in ("MAX_CHARACTERS", "VISIBILITY", "CONTENT_WARNING"):
        monkeypatch.delenv(f"NOTECAST_MASTODON_{key}", raising=False)
    monkeypatch.setenv("NOTECAST_MASTODON_INSTANCE", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("NOTECAST_MASTODON_TOKEN", "test-token")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "long.md").write_text(NOTE, encoding="utf-8")
    yield Instance
    server.shutdown()


def test_a_note_published_under_the_instance_limit_stays_published_in_status_and_check(instance, capsys):
    assert 500 < len(NOTE) < 1000
    assert cli.main(["publish", "posts/"]) == 0
    assert len(instance.statuses) == 1  # one post: the instance allows 1000, not the default 500
    capsys.readouterr()

    assert cli.main(["status", "posts/"]) == 0
    assert "\tmastodon\tpublished\thttp://127.0.0.1/@me/1" in capsys.readouterr().out
    assert cli.main(["check", "posts/"]) == 0
    assert "edited" not in capsys.readouterr().out
    assert cli.main(["publish", "posts/"]) == 0 and len(instance.statuses) == 1  # a rerun sends nothing
    assert instance.asked.count("/api/v2/instance") == 2  # publish and check; status and the rerun read the ledger


def test_a_configured_limit_is_not_asked(instance, monkeypatch, capsys):
    monkeypatch.setenv("NOTECAST_MASTODON_MAX_CHARACTERS", "500")
    assert cli.main(["publish", "posts/"]) == 0
    assert len(instance.statuses) == 2 and instance.asked == []


def test_a_scheduled_run_parses_no_draft_no_future_note_and_nothing_already_published(instance, capsys):
    """Issue 12: a run with nothing due costs what reading front matter costs: the Markdown parser never runs."""
    from pipeline import compose

    for i in range(5):
        (pathlib.Path("posts") / f"draft-{i}.md").write_text(f"---\ntitle: Draft {i}\n---\nNot yet.\n")
    (pathlib.Path("posts") / "later.md").write_text(
        "---\ntitle: Later\nnotecast:\n  status: ready\n  publish_at: 2099-01-01\n---\nOne day.\n")
    compose.document.parse.cache_clear()
    assert cli.main(["publish", "--due", "posts/"]) == 0
    assert compose.document.parse.cache_info().misses == 1  # only the ready note, parsed once
    assert len(instance.statuses) == 1
    assert cli.main(["publish", "--due", "posts/"]) == 0
    assert cli.main(["status", "posts/"]) == 0
    info = compose.document.parse.cache_info()
    assert info.misses + info.hits == 2 and len(instance.statuses) == 1  # the first run's two asks, no more
    out = capsys.readouterr().out
    assert "7 note(s): 5 draft, 1 scheduled (next: 2099-01-01T09:00:00+00:00), 0 due, 1 published" in out
    assert "posts/long.md\tmastodon\tpublished\thttp://127.0.0.1/@me/1" in out


def test_a_run_keeps_an_outcome_only_for_what_it_had_to_send_and_a_line_for_every_publication(instance):
    """Issue 12: a scheduled run over a vault of drafts makes no outcome per draft; each still has its line."""
    from pipeline import clock, config, platforms

    for i in range(3):
        (pathlib.Path("posts") / f"draft-{i}.md").write_text(f"---\ntitle: Draft {i}\n---\nNot yet.\n")
    cfg = config.load(None, registry=platforms.registry())
    done = run.publish([pathlib.Path("posts")], cfg, clock.SYSTEM, due=True)
    sent = [i for i, pub in enumerate(done.publications) if pub.actionable]
    assert list(done.outcomes) == sent and len(sent) == 1 and done.ok
    assert len(instance.statuses) == 1
    lines = [done.line(i) for i in range(len(done.publications))]
    assert lines[sent[0]].startswith("posts/long.md → mastodon: published 1 post(s)")
    drafts = [(pub.note, pub.platform.name) for i, pub in enumerate(done.publications) if i not in sent]
    assert {note for note, _ in drafts} == {f"posts/draft-{i}.md" for i in range(3)}
    assert [line for i, line in enumerate(lines) if i not in sent] == [
        f"{note} → {name}: draft (status is draft; set notecast.status: ready to publish)" for note, name in drafts]


def test_an_edited_note_is_composed_again_and_shows_as_edited(instance, capsys):
    assert cli.main(["publish", "--due", "posts/"]) == 0
    note = pathlib.Path("posts/long.md")
    note.write_text(note.read_text().replace("Sentence number 1 ", "Sentence number one "))
    capsys.readouterr()
    assert cli.main(["status", "posts/"]) == 0
    assert "\tmastodon\tedited\t" in capsys.readouterr().out


class TwoSteps:
    """A publisher whose create takes two steps, like Threads: a container, then its publication."""

    platform = "echo"

    def __init__(self):
        self.calls: list[dict] = []

    def publish(self, part, *, root, parent):
        self.calls.append(dict(part.progress))
        if not part.progress:
            return Progress({"container": f"c{part.index}"})
        return Receipt(f"post-{part.progress['container']}")


def test_each_progress_is_in_the_ledger_before_the_next_step(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    publisher = TwoSteps()
    part = Part("posts/a.md", "echo", 0, 1, "Hello", created=datetime(2026, 11, 28, tzinfo=timezone.utc))
    seen = []
    original = publisher.publish
    publisher.publish = lambda p, **kw: (seen.append([e.event for e in ledger.entries]), original(p, **kw))[1]
    receipt = run._complete(part, publisher, ledger, "e1", None, None)
    assert receipt == Receipt("post-c0")
    assert publisher.calls == [{}, {"container": "c0"}]
    assert seen == [[], ["progress"]]  # the second step starts only once the container id is durable
    assert Ledger(tmp_path / "ledger.jsonl").progress("posts/a.md", "echo", "e1") == {0: {"container": "c0"}}


def test_a_publisher_that_never_finishes_is_stopped(tmp_path):
    class Endless(TwoSteps):
        def publish(self, part, *, root, parent):
            return Progress({"container": "again"})

    part = Part("posts/a.md", "echo", 0, 1, "Hello", created=datetime(2026, 11, 28, tzinfo=timezone.utc))
    with pytest.raises(Rejected, match="not done after 4 steps"):
        run._complete(part, Endless(), Ledger(tmp_path / "ledger.jsonl"), "e1", None, None)


def test_a_notes_name_in_the_ledger_is_its_real_path_however_it_is_reached(tmp_path, monkeypatch):
    """A note reached through a linked folder, a link to the file itself, or a relative path is recorded
    under its real path from the project root, whether a vault's walk found it or it was given by name."""
    from pipeline.compose import find
    from pipeline.notes import read
    from pipeline.plan import note_name

    (tmp_path / "notes").mkdir()
    real = tmp_path / "notes" / "a.md"
    real.write_text("---\ntitle: a\n---\nbody\n", encoding="utf-8")
    (tmp_path / "linked").symlink_to("notes")
    (tmp_path / "b.md").symlink_to("notes/a.md")
    for path in (real, tmp_path / "linked" / "a.md", tmp_path / "b.md"):
        assert note_name(read(path), tmp_path) == "notes/a.md"
        walked = [read(note, real=where) for note, where, _vault in find([path.parent]) if note.name == path.name]
        assert [note_name(note, tmp_path) for note in walked] == ["notes/a.md"]
    monkeypatch.chdir(tmp_path / "linked")
    assert note_name(read(pathlib.Path("a.md")), tmp_path) == "notes/a.md"
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.md"
    outside.write_text("body\n", encoding="utf-8")
    try:
        assert note_name(read(outside), tmp_path) == outside.as_posix()
    finally:
        outside.unlink()
