"""The ledger: durable appends, torn and foreign lines, merges, the lock."""
from __future__ import annotations

import json
import os

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


def test_what_a_run_appends_is_seen_by_its_next_question(tmp_path):
    """The ledger answers from an index of (note, platform) built on the first question: lines appended
    after it are in the next answer, and other notes' lines never are."""
    ledger = Ledger(tmp_path / "ledger.jsonl")
    other = Entry(event="done", note="posts/b.md", platform="bluesky", edition="e9", part=0, parts=1, at="x", id="9")
    ledger.append(other)
    assert ledger.latest("posts/a.md", "bluesky") == {}
    intent, done = entry("intent"), entry("done", id="1")
    ledger.append(intent)
    assert ledger.latest("posts/a.md", "bluesky") == {"e1": {0: intent}}
    ledger.append(done)
    ledger.append(entry("progress", part=1, extra={"container": "c1"}))
    assert ledger.latest("posts/a.md", "bluesky")["e1"][0] == done
    assert ledger.progress("posts/a.md", "bluesky", "e1") == {1: {"container": "c1"}}
    assert ledger.latest("posts/b.md", "bluesky") == {"e9": {0: other}}


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
    path.mkdir()  # a folder where the ledger should be
    with pytest.raises(UsageError, match="cannot read the ledger"):
        Ledger(path)


def test_a_last_line_torn_inside_a_utf8_character_is_skipped(tmp_path):
    path = tmp_path / "ledger.jsonl"
    good = entry("done", id="1", error="café").to_json().encode()
    path.write_bytes(good + b"\n" + entry("intent", part=1, error="café").to_json().encode()[:-3])  # torn in "é"
    assert path.read_bytes()[-1:] == b"\xc3"
    ledger = Ledger(path)
    assert [e.id for e in ledger.entries] == ["1"] and ledger.warnings == []
    ledger.append(entry("done", part=1, id="2"))
    assert [e.id for e in read(path)] == ["1", "2"]


@pytest.mark.parametrize("change, words", [
    ({"edition": {}}, '"edition" must be text, not {}'),
    ({"note": 12}, '"note" must be text, not 12'),
    ({"part": "0"}, '"part" must be a whole number'),
    ({"part": True}, '"part" must be a whole number'),
    ({"parts": 1.5}, '"parts" must be a whole number'),
    ({"extra": []}, '"extra" must be a set of keys, not []'),
    ({"url": ["x" * 500]}, '"url" must be text, not ['),
    ({"doubt": "yes"}, '"doubt" must be true or false'),
    ({"event": None}, '"event" must be text, not None'),
])
def test_a_hand_edited_line_of_the_wrong_type_is_skipped_with_a_warning(tmp_path, change, words):
    path = tmp_path / "ledger.jsonl"
    bad = {**json.loads(entry("done", id="2").to_json()), **change}
    path.write_text(f"{entry('intent').to_json()}\n{json.dumps(bad)}\n{entry('done', id='3').to_json()}\n")
    ledger = Ledger(path)
    assert [e.id for e in ledger.entries] == ["", "3"]
    (warning,) = ledger.warnings
    assert (warning.path, warning.line, warning.level) == (str(path), 2, "warning")
    assert words in warning.message and warning.hint and len(warning.message) < 150


def test_check_writable_passes_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "state" / "deeper" / "ledger.jsonl"
    Ledger(path).check_writable()
    assert not (tmp_path / "state").exists()
    ledger = Ledger(path)
    ledger.append(entry("intent"))
    ledger.check_writable()
    assert [e.event for e in read(path)] == ["intent"]
    Ledger(tmp_path / "x" / "ledger.jsonl", writable=False).check_writable()  # a dry run writes nothing


def test_check_writable_refuses_a_folder_in_the_ledgers_place(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    path.mkdir()  # a folder made where the ledger should be, after it was read (reading one fails too)
    with pytest.raises(UsageError, match=r"ledger.jsonl: error: the ledger cannot be written .*nothing was sent"):
        ledger.check_writable()
    assert path.is_dir()


def test_check_writable_refuses_a_file_in_the_folders_place(tmp_path):
    (tmp_path / "state").write_text("not a folder")
    with pytest.raises(UsageError, match="the ledger cannot be written"):
        Ledger(tmp_path / "state" / "ledger.jsonl").check_writable()
    assert (tmp_path / "state").read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(UsageError, match="Permission denied"):
            Ledger(folder / "ledger.jsonl").check_writable()
    finally:
        folder.chmod(0o755)


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
