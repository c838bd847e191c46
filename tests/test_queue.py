"""The queue (issue 17): ready notes without publish_at go out one slot at a time.

Slot arithmetic is tested directly; the queue itself through the command line, as in
tests/test_schedule.py: the third-party ``echo`` platform, its outbox as the "server", and
``NOTECAST_NOW`` pinning the clock. Slots are Tue and Thu 09:00 in Europe/Madrid, which is
08:00 UTC in winter; 2026-12-01 is a Tuesday.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest

from pipeline import config, platforms
from pipeline.errors import NoteError, UsageError
from pipeline.notes import read
from pipeline.queue import Queue, Slot, ordinal, parse_slot, rank
from test_schedule import HERE, PLUGIN, notecast, outbox

QUEUE = '[queue]\nslots = ["Tue 09:00", "Thu 09:00"]\n'
TUE, THU, NEXT_TUE, NEXT_THU, LAST_TUE = (
    "2026-12-01T08:05:00Z", "2026-12-03T08:05:00Z", "2026-12-08T08:05:00Z", "2026-12-10T08:05:00Z",
    "2026-12-15T08:05:00Z")
LONG = "\n\n".join(f"Paragraph {i} is long enough that two of them never share a post on the echo platform, "
                   "whose limit is two hundred characters." for i in range(1, 4))


def note(title: str, day: str = "2026-11-01", *, status: str = "ready", extra: str = "",
         body: str = "A short note for the queue.") -> str:
    return (f"---\ntitle: {title}\ndate: {day}\nnotecast:\n  platforms: [echo]\n  status: {status}\n{extra}---\n"
            f"{body} ({title})\n")


def configure(vault: Path, queue: str = QUEUE) -> None:
    (vault / "notecast.toml").write_text(
        f'timezone = "Europe/Madrid"\n\n{queue}\n[platforms.echo]\noutbox = "outbox.jsonl"\n')


@pytest.fixture
def vault(tmp_path):
    (tmp_path / "posts").mkdir()
    configure(tmp_path)
    return tmp_path


def write_notes(vault: Path, count: int) -> None:
    for i in range(1, count + 1):  # n1 is the oldest
        (vault / "posts" / f"n{i}.md").write_text(note(f"Note {i}", f"2026-11-{i:02d}"))


def sent(vault: Path) -> list[str]:
    """The titles of the notes the echo server got, in order (first post of each thread)."""
    return [p["text"].split("\n")[0] for p in outbox(vault) if p["reply_to"] is None]


def status(vault: Path, now: str) -> dict[str, tuple[str, str]]:
    """Each note's (state, detail) on echo."""
    lines = notecast(vault, "status", now=now).stdout.splitlines()
    return {f.split("\t")[0]: (f.split("\t")[2], (f.split("\t") + [""])[3]) for f in lines if "\techo\t" in f}


def publish(vault: Path, now: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    result = notecast(vault, "publish", "--due", *args, now=now, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# ---- slots -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, slot", [
    ("Tue 09:00", Slot(1, time(9, 0))),
    ("09:00", Slot(None, time(9, 0))),
    ("thursday 7:30", Slot(3, time(7, 30))),
    ("  SUN 23:59 ", Slot(6, time(23, 59))),
])
def test_slots_are_read(text, slot):
    assert parse_slot(text) == slot


@pytest.mark.parametrize("text", ["Tue 9am", "Tues 09:00", "24:00", "09:60", "Tue", "", 9])
def test_bad_slots_are_refused(text):
    with pytest.raises(ValueError):
        parse_slot(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_the_latest_slot_and_the_next_ones():
    queue = Queue((parse_slot("Tue 09:00"), parse_slot("Thu 09:00")), timezone="Europe/Madrid")
    assert queue.latest(utc("2026-12-01T08:00:00")) == utc("2026-12-01T08:00:00")  # a slot has come at its instant
    assert queue.latest(utc("2026-12-01T07:59:59")) == utc("2026-11-26T08:00:00")  # else the one before
    assert queue.latest(utc("2026-12-07T12:00:00")) == utc("2026-12-03T08:00:00")
    after = queue.upcoming(utc("2026-12-01T08:00:00"))
    assert [next(after) for _ in range(3)] == [utc("2026-12-03T08:00:00"), utc("2026-12-08T08:00:00"),
                                              utc("2026-12-10T08:00:00")]
    assert queue.label(utc("2026-12-03T08:00:00")) == "Thu 2026-12-03 09:00"


def test_slots_across_daylight_saving_changes_follow_publish_at():
    """Wall times in the configured timezone: a slot in the spring gap or the autumn fold is read with fold=0."""
    daily = Queue((parse_slot("09:00"), parse_slot("02:30")), timezone="Europe/Madrid")
    assert daily.instants(date(2026, 3, 28)) == [utc("2026-03-28T01:30:00"), utc("2026-03-28T08:00:00")]
    assert daily.instants(date(2026, 3, 29)) == [utc("2026-03-29T01:30:00"), utc("2026-03-29T07:00:00")]
    assert daily.instants(date(2026, 10, 25)) == [utc("2026-10-25T00:30:00"), utc("2026-10-25T08:00:00")]
    assert daily.label(utc("2026-03-29T07:00:00")) == "Sun 2026-03-29 09:00"


def test_queue_order_and_ordinals():
    entries = [("normal", date(2026, 1, 2), "posts/a.md"), ("normal", None, "posts/b.md"),
               ("high", date(2026, 5, 1), "posts/c.md"), ("normal", date(2026, 1, 1), "posts/d.md"),
               ("normal", date(2026, 1, 1), "posts/c2.md")]
    assert [e[2] for e in sorted(entries, key=lambda e: rank(*e))] == [
        "posts/c.md", "posts/c2.md", "posts/d.md", "posts/a.md", "posts/b.md"]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


# ---- configuration and front matter ------------------------------------------------------------------------

def test_the_queue_setting_is_read(tmp_path):
    path = tmp_path / "notecast.toml"
    path.write_text('timezone = "Europe/Madrid"\n[queue]\nslots = ["Tue 09:00", "18:30"]\nper_slot = 2\n')
    cfg = config.load(path, registry=platforms.registry())
    assert cfg.queue == Queue((Slot(1, time(9)), Slot(None, time(18, 30))), 2, "Europe/Madrid")
    path.write_text('timezone = "Europe/Madrid"\n')
    assert config.load(path, registry=platforms.registry()).queue is None


@pytest.mark.parametrize("table, words", [
    ('[queue]\nslots = ["Tue 9am"]\n', ["queue.slots[0]", "'Tue 9am' is not a slot", '"Tue 09:00"']),
    ('[queue]\nslots = ["09:00", "Tues 09:00"]\n', ["queue.slots[1]", "unknown weekday 'Tues'"]),
    ('[queue]\nslots = ["Tue 25:00"]\n', ["queue.slots[0]", "not a time of day"]),
    ('[queue]\nslots = []\n', ["queue.slots must be a list of at least one slot"]),
    ('[queue]\nper_slot = 1\n', ["queue.slots must be a list"]),
    ('[queue]\nslots = ["09:00"]\nper_slot = 0\n', ["queue.per_slot must be a whole number of 1 or more, not 0"]),
    ('[queue]\nslots = ["09:00"]\nper_slot = "2"\n', ["queue.per_slot", "not '2'"]),
    ('[queue]\nslots = ["09:00"]\nevery = "day"\n', ["unknown key 'every' in [queue]"]),
    ('queue = "Tue 09:00"\n', ["[queue] must be a table"]),
])
def test_bad_queue_settings_name_their_key(tmp_path, table, words):
    path = tmp_path / "notecast.toml"
    path.write_text(table)
    with pytest.raises(UsageError) as caught:
        config.load(path, registry=platforms.registry())
    assert caught.value.exit_code == 2
    for word in words:
        assert word in str(caught.value)
    assert str(caught.value).startswith(f"{path}: error: ")


def test_a_bad_queue_setting_is_exit_2_on_the_command_line(vault):
    configure(vault, '[queue]\nslots = ["Tue 09:00"]\nper_slot = 0\n')
    result = notecast(vault, "status", now=TUE)
    assert result.returncode == 2 and "queue.per_slot" in result.stderr


def test_priority_is_high_or_normal(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("---\nnotecast:\n  priority: High\n---\nx\n")
    assert read(path).settings.priority == "high"
    path.write_text("---\nnotecast:\n  status: ready\n  priority: urgent\n---\nx\n")
    with pytest.raises(NoteError) as caught:
        read(path)
    (problem,) = caught.value.problems
    assert problem.line == 4 and "notecast.priority 'urgent' is not high or normal" in problem.message


# ---- the queue at work -------------------------------------------------------------------------------------

def test_five_ready_notes_drain_one_per_slot(vault):
    write_notes(vault, 5)
    assert status(vault, TUE) == {
        "posts/n1.md": ("due", "queue slot Tue 2026-12-01 09:00"),
        "posts/n2.md": ("queued", "Thu 2026-12-03 09:00, 1st in line"),
        "posts/n3.md": ("queued", "Tue 2026-12-08 09:00, 2nd in line"),
        "posts/n4.md": ("queued", "Thu 2026-12-10 09:00, 3rd in line"),
        "posts/n5.md": ("queued", "Tue 2026-12-15 09:00, 4th in line")}
    for count, now in enumerate((TUE, THU, NEXT_TUE, NEXT_THU, LAST_TUE), start=1):
        result = publish(vault, now)
        assert sent(vault) == [f"Note {i}" for i in range(1, count + 1)], result.stdout
    assert {s for s, _ in status(vault, LAST_TUE).values()} == {"published"}


def test_two_runs_within_one_slot_send_once_and_the_summary_says_what_waits(vault):
    write_notes(vault, 3)
    first = publish(vault, TUE)
    assert "posts/n2.md → echo: queued (Thu 2026-12-03 09:00, 1st in line)" in first.stdout
    assert "queue: next slot Thu 2026-12-03 09:00 (Europe/Madrid)" in first.stdout
    assert "queue: echo: 2 note(s) waiting; next posts/n2.md at Thu 2026-12-03 09:00" in first.stdout
    second = publish(vault, "2026-12-03T07:59:00Z")  # the last minute before Thursday's slot
    assert sent(vault) == ["Note 1"]
    assert "posts/n2.md → echo: queued" in second.stdout
    publish(vault, THU)
    assert sent(vault) == ["Note 1", "Note 2"]
    last = publish(vault, LAST_TUE)
    assert sent(vault) == ["Note 1", "Note 2", "Note 3"]
    assert "queue: nothing waiting" in last.stdout


def test_a_week_without_runs_sends_one_slots_worth(vault):
    configure(vault, QUEUE + "per_slot = 2\n")
    write_notes(vault, 7)
    publish(vault, TUE)
    assert sent(vault) == ["Note 1", "Note 2"]
    publish(vault, "2026-12-10T20:00:00Z")  # three slots went by without a run (Thu, Tue, Thu)
    assert sent(vault) == ["Note 1", "Note 2", "Note 3", "Note 4"]
    assert status(vault, "2026-12-10T20:00:00Z")["posts/n5.md"] == ("queued", "Tue 2026-12-15 09:00, 1st in line")
    assert status(vault, "2026-12-10T20:00:00Z")["posts/n6.md"] == ("queued", "Tue 2026-12-15 09:00, 2nd in line")


def test_the_queue_orders_by_priority_then_date_then_path(vault):
    (vault / "posts" / "old.md").write_text(note("Old", "2020-01-01"))
    (vault / "posts" / "b-same-day.md").write_text(note("B", "2026-01-01"))
    (vault / "posts" / "a-same-day.md").write_text(note("A", "2026-01-01"))
    (vault / "posts" / "urgent.md").write_text(note("Urgent", "2026-11-30", extra="  priority: high\n"))
    (vault / "posts" / "undated.md").write_text(note("Undated").replace("date: 2026-11-01\n", ""))
    lines = status(vault, TUE)
    assert lines["posts/urgent.md"][0] == "due"
    assert {detail.split(", ")[1]: path for path, (state, detail) in lines.items() if state == "queued"} == {
        "1st in line": "posts/old.md", "2nd in line": "posts/a-same-day.md", "3rd in line": "posts/b-same-day.md",
        "4th in line": "posts/undated.md"}


def test_publish_at_notes_keep_their_time_and_use_no_slot(vault):
    write_notes(vault, 2)
    extra = "  publish_at: 2026-12-01T09:00:00\n"
    (vault / "posts" / "timed.md").write_text(note("Timed", "2020-01-01", extra=extra))
    (vault / "posts" / "later.md").write_text(note("Later", "2020-01-01", extra="  publish_at: 2026-12-02T10:00:00\n"))
    publish(vault, TUE)
    assert sorted(sent(vault)) == ["Note 1", "Timed"]  # the slot went to the queue, the timed note came anyway
    lines = status(vault, TUE)
    assert lines["posts/later.md"] == ("scheduled", "at 2026-12-02T10:00:00+01:00")
    assert lines["posts/n2.md"] == ("queued", "Thu 2026-12-03 09:00, 1st in line")
    publish(vault, "2026-12-02T09:00:00Z")  # later.md is due; the queue waits for Thursday
    assert sorted(sent(vault)) == ["Later", "Note 1", "Timed"]


def test_a_timed_note_sent_after_the_slot_leaves_the_slot_to_the_queue(vault):
    (vault / "posts" / "n1.md").write_text(note("Note 1", status="draft"))
    (vault / "posts" / "timed.md").write_text(note("Timed", extra="  publish_at: 2026-12-01T09:02:00\n"))
    publish(vault, "2026-12-01T08:02:00Z")  # two minutes after Tuesday's slot
    assert sent(vault) == ["Timed"]
    (vault / "posts" / "n1.md").write_text(note("Note 1"))
    publish(vault, "2026-12-01T08:30:00Z")
    assert sent(vault) == ["Timed", "Note 1"]


def test_without_a_queue_every_ready_note_goes_at_once(vault):
    configure(vault, "")
    write_notes(vault, 3)
    result = publish(vault, TUE)
    assert sent(vault) == ["Note 1", "Note 2", "Note 3"]
    assert "queue" not in result.stdout + result.stderr


def test_publish_without_due_sends_whatever_the_queue_says(vault):
    """As for publish_at: without --due, every ready note in the given paths is sent now."""
    write_notes(vault, 2)
    publish(vault, TUE)
    result = notecast(vault, "publish", "posts/n2.md", now=TUE)
    assert result.returncode == 0 and sent(vault) == ["Note 1", "Note 2"]


def test_the_dry_run_shows_what_this_run_would_send_and_what_waits(vault):
    write_notes(vault, 2)
    result = publish(vault, TUE, "--dry-run")
    assert "== posts/n1.md → echo: would send 1 of 1 post(s) (due)" in result.stdout
    assert "posts/n1.md → echo: dry-run" in result.stdout
    assert "posts/n2.md → echo: queued (Thu 2026-12-03 09:00, 1st in line)" in result.stdout


def test_a_queued_note_turned_draft_leaves_the_queue(vault):
    write_notes(vault, 3)
    publish(vault, TUE)
    assert status(vault, TUE)["posts/n2.md"] == ("queued", "Thu 2026-12-03 09:00, 1st in line")
    (vault / "posts" / "n2.md").write_text(note("Note 2", "2026-11-02", status="draft"))
    lines = status(vault, TUE)
    assert lines["posts/n2.md"][0] == "draft"
    assert lines["posts/n3.md"] == ("queued", "Thu 2026-12-03 09:00, 1st in line")
    publish(vault, THU)
    assert sent(vault) == ["Note 1", "Note 3"]


def crash_after(vault: Path, steps: int, now: str) -> None:
    """A scheduled run killed at its Nth ledger step or request (tests/crash_child.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTECAST_")}
    env.update(PYTHONPATH=os.pathsep.join([str(PLUGIN), str(HERE.parent)]), CRASH_AT=str(steps), NOTECAST_NOW=now)
    killed = subprocess.run([sys.executable, str(HERE / "crash_child.py"), "publish", "--due"], cwd=vault, env=env,
                            capture_output=True, timeout=60)
    assert killed.returncode < 0


def test_a_half_sent_thread_holds_its_platforms_queue(vault):
    (vault / "posts" / "n1.md").write_text(note("Thread", "2026-11-01", body=LONG))
    (vault / "posts" / "n2.md").write_text(note("Next", "2026-11-02"))
    crash_after(vault, 4, TUE)  # after post 1 of 3: intent, request, answer, done
    assert len(outbox(vault)) == 1
    lines = status(vault, THU)
    assert lines["posts/n1.md"] == ("partial", "1 of 3 posts sent")
    assert lines["posts/n2.md"][0] == "queued"  # Thursday's slot is free, but the thread comes first
    publish(vault, THU)
    assert [p["reply_to"] for p in outbox(vault)] == [None, "1", "2"]  # the thread finished, nothing else
    publish(vault, "2026-12-03T09:00:00Z")  # and it used Thursday's slot
    assert len(outbox(vault)) == 3
    publish(vault, NEXT_TUE)
    assert sent(vault) == ["Thread", "Next"]


@pytest.mark.parametrize("trouble", [{"NOTECAST_ECHO_LOSE_ANSWER": "yes"}, {"NOTECAST_ECHO_DOUBT": "yes"}])
def test_a_failed_or_unknown_publication_keeps_its_slot(vault, trouble):
    write_notes(vault, 2)
    if "NOTECAST_ECHO_DOUBT" in trouble:
        crash_after(vault, 1, TUE)  # after the intent line: the rerun cannot tell whether the post was made
        doubt = notecast(vault, "publish", "--due", now=TUE, **trouble)
        assert doubt.returncode == 1 and "unknown" in doubt.stdout
    else:
        lost = notecast(vault, "publish", "--due", now=TUE, **trouble)  # made, but answered 503
        assert lost.returncode == 1
    state = "unknown" if "NOTECAST_ECHO_DOUBT" in trouble else "failed"
    assert status(vault, THU)["posts/n1.md"][0] == state
    held = notecast(vault, "publish", "--due", now=THU, **trouble)
    assert "posts/n2.md → echo: queued" in held.stdout and "Note 2" not in sent(vault)
    assert sent(vault) in ([], ["Note 1"])
    if "NOTECAST_ECHO_DOUBT" in trouble:
        resolved = notecast(vault, "resolve", "posts/n1.md", "--platform", "echo", "--not-sent", now=THU)
        assert resolved.returncode == 0, resolved.stderr
    publish(vault, THU)  # n1 goes (or is found); n2 still waits for a slot of its own
    assert sent(vault) == ["Note 1"] and status(vault, THU)["posts/n2.md"][0] == "queued"
    publish(vault, NEXT_TUE)
    assert sent(vault) == ["Note 1", "Note 2"]


def test_a_daylight_saving_week_in_madrid(vault):
    """Clocks go forward on Sunday 2026-03-29: the daily 09:00 slot is 08:00 UTC on Saturday, 07:00 on Sunday."""
    configure(vault, '[queue]\nslots = ["09:00"]\n')
    write_notes(vault, 3)
    publish(vault, "2026-03-28T08:00:00Z")
    assert sent(vault) == ["Note 1"]
    assert status(vault, "2026-03-28T08:00:00Z")["posts/n2.md"] == ("queued", "Sun 2026-03-29 09:00, 1st in line")
    publish(vault, "2026-03-29T06:59:00Z")  # 08:59 summer time: 09:00 by Saturday's offset, but not yet
    assert sent(vault) == ["Note 1"]
    publish(vault, "2026-03-29T07:00:00Z")
    assert sent(vault) == ["Note 1", "Note 2"]
    assert status(vault, "2026-03-29T07:00:00Z")["posts/n3.md"] == ("queued", "Mon 2026-03-30 09:00, 1st in line")


# ---- check ----------------------------------------------------------------------------------------------------

def test_check_warns_when_one_run_would_send_several_notes_to_a_platform(vault):
    configure(vault, "")
    write_notes(vault, 2)
    (vault / "posts" / "later.md").write_text(note("Later", extra="  publish_at: 2027-01-01T09:00:00\n"))
    result = notecast(vault, "check", now=TUE)
    assert result.returncode == 0, result.stdout + result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if "due now" in line]
    assert warning.startswith("notecast.toml: warning: echo: 2 notes are due now")
    assert "posts/n1.md, posts/n2.md" in warning and "later.md" not in warning and "[queue]" in warning
    (vault / "posts" / "n2.md").write_text(note("Note 2", status="draft"))
    assert "due now" not in notecast(vault, "check", now=TUE).stdout
    configure(vault)
    write_notes(vault, 2)
    assert "due now" not in notecast(vault, "check", now=TUE).stdout
