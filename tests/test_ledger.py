"""The ledger: durable appends, torn and foreign lines, merges, the lock."""
from __future__ import annotations

import json

import pytest

from pipeline.errors import UsageError
from pipeline.ledger import Entry, Ledger, read


def entry(event: str, part: int = 0, **kwargs) -> Entry:
    return Entry(event=event, note="posts/a.md", platform="bluesky", edition="e1", part=part, parts=2,
                 at="2026-11-28T10:00:00.000Z", **kwargs)


def test_each_append_is_one_json_line_read_back_the_same(tmp_path):
    path = tmp_path / "state" / "ledger.jsonl"
    ledger = Ledger(path)
    written = [entry("intent", key="k0", created="2026-11-28T10:00:00.000001Z"),
               entry("done", id="at://did/app.bsky.feed.post/3abc", url="https://bsky.app/x", extra={"cid": "bafy"}),
               entry("failed", part=1, error="POST answered 503", doubt=True)]
    for e in written:
        ledger.append(e)
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["v"] == 1 for line in lines)
    assert list(read(path)) == written
    assert "doubt" not in lines[0] and json.loads(lines[2])["doubt"] is True


def test_a_line_torn_by_a_crash_is_skipped_and_the_next_append_starts_clean(tmp_path):
    path = tmp_path / "ledger.jsonl"
    Ledger(path).append(entry("intent"))
    with path.open("a") as handle:
        handle.write('{"v":1,"at":"2026-11-28T10:00:01Z","event":"do')  # killed mid-write
    ledger = Ledger(path)
    assert [e.event for e in ledger.entries] == ["intent"]
    ledger.append(entry("done", id="1"))
    assert [e.event for e in read(path)] == ["intent", "done"]
    assert path.read_text().splitlines()[-1].startswith('{"v":1')


def test_merge_leftovers_and_foreign_lines_are_skipped(tmp_path):
    path = tmp_path / "ledger.jsonl"
    good = entry("done", id="1").to_json()
    path.write_text(f"<<<<<<< HEAD\n{good}\n=======\n\nnot json\n[1, 2]\n>>>>>>> main\n")
    assert [e.id for e in read(path)] == ["1"]


def test_a_done_post_stays_done_whatever_a_merge_puts_after_it(tmp_path):
    path = tmp_path / "ledger.jsonl"
    done, stale = entry("done", id="1"), entry("intent")
    path.write_text(f"{entry('intent').to_json()}\n{done.to_json()}\n{stale.to_json()}\n")  # a union merge's order
    assert Ledger(path).latest("posts/a.md", "bluesky") == {"e1": {0: done}}


def test_a_dry_run_ledger_writes_nothing(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path, writable=False)
    ledger.append(entry("intent"))
    assert not path.exists() and len(ledger.entries) == 1


def test_two_runs_never_publish_at_once(tmp_path):
    path = tmp_path / "ledger.jsonl"
    with Ledger(path).lock():
        with pytest.raises(UsageError, match="another notecast publish is running"):
            with Ledger(path).lock():
                pass
    with Ledger(path).lock():  # released
        pass


def test_an_unreadable_ledger_is_a_clear_error(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(UsageError, match="cannot read the ledger"):
        Ledger(path)


def test_progress_is_the_newest_progress_line_of_each_part_of_one_edition(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    for e in (entry("intent"), entry("progress", extra={"container": "c1"}), entry("failed", error="503"),
              entry("progress", extra={"container": "c2"}), entry("progress", part=1, extra={"container": "c3"}),
              Entry(event="progress", note="posts/a.md", platform="bluesky", edition="e0", part=0, parts=2, at="",
                    extra={"container": "old"})):
        ledger.append(e)
    again = Ledger(tmp_path / "ledger.jsonl")
    assert again.progress("posts/a.md", "bluesky", "e1") == {0: {"container": "c2"}, 1: {"container": "c3"}}
    assert again.progress("posts/a.md", "x", "e1") == {}
