"""Scheduling and reruns, through the command line, with a third-party platform plugin.

The ``echo`` platform (tests/plugin/) is installed the way pip leaves a package behind (a
``.dist-info`` with an entry point on the path), so these tests also show that notecast finds
publishers by entry point and never by name. Its outbox file is the "server": it tells how often
each post was made. ``NOTECAST_NOW`` pins the clock.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from pipeline.notes import parse_when

HERE = Path(__file__).parent
PLUGIN = HERE / "plugin"


def note(publish_at: str | None, status: str = "ready", body: str = "A short note about schedules.") -> str:
    when = f"\n  publish_at: {publish_at}" if publish_at else ""
    return f"---\ntitle: Scheduled\nnotecast:\n  platforms: [echo]\n  status: {status}{when}\n---\n{body}\n"


@pytest.fixture
def vault(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "notecast.toml").write_text('timezone = "Europe/Madrid"\n\n[platforms.echo]\noutbox = "outbox.jsonl"\n')
    return tmp_path


def notecast(vault: Path, *args: str, now: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTECAST_")}
    env.update(PYTHONPATH=os.pathsep.join([str(PLUGIN), str(HERE.parent)]), NOTECAST_NOW=now, **extra)
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=vault, env=env,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def outbox(vault: Path) -> list[dict]:
    path = vault / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def state(vault: Path, now: str) -> str:
    result = notecast(vault, "status", now=now)
    (line,) = [line for line in result.stdout.splitlines() if "\techo\t" in line]
    return line.split("\t")[2]


# ---- wall times across daylight-saving changes (Europe/Madrid: +01:00 in winter, +02:00 in summer) ----

@pytest.mark.parametrize("wall, utc", [
    ("2026-03-28 09:00", "2026-03-28T08:00:00+00:00"),  # the day before the change: CET
    ("2026-03-29 09:00", "2026-03-29T07:00:00+00:00"),  # the morning after clocks went forward: CEST
    ("2026-03-29 02:30", "2026-03-29T01:30:00+00:00"),  # a time that never happened: read with the old offset
    ("2026-10-25 02:30", "2026-10-25T00:30:00+00:00"),  # a time that happened twice: the first one
    ("2026-10-25 09:00", "2026-10-25T08:00:00+00:00"),  # after clocks went back: CET again
    ("2026-10-25T09:00:00+05:30", "2026-10-25T03:30:00+00:00"),  # an explicit offset wins
    ("2026-10-25T09:00:00Z", "2026-10-25T09:00:00+00:00"),
    ("2026-12-01", "2026-12-01T08:00:00+00:00"),
    (date(2026, 12, 1), "2026-12-01T08:00:00+00:00"),
])
def test_wall_times_use_the_configured_timezone_across_dst(wall, utc):
    """A date alone means 09:00 that day, quoted ("2026-12-01", a string to YAML) or not (a date)."""
    assert parse_when(wall, "Europe/Madrid").astimezone(timezone.utc) == datetime.fromisoformat(utc)


def test_a_note_due_the_morning_after_the_change_publishes_at_the_right_instant(vault):
    (vault / "posts" / "spring.md").write_text(note("2026-03-29T09:00:00"))  # 07:00 UTC, not 08:00
    assert state(vault, "2026-03-29T06:59:00Z") == "scheduled"
    early = notecast(vault, "publish", "--due", now="2026-03-29T06:59:00Z")
    assert early.returncode == 0 and outbox(vault) == []
    assert state(vault, "2026-03-29T07:00:00Z") == "due"
    on_time = notecast(vault, "publish", "--due", now="2026-03-29T07:00:00Z")
    assert on_time.returncode == 0, on_time.stderr
    assert len(outbox(vault)) == 1


def test_a_missed_run_publishes_once_on_the_next_run(vault):
    (vault / "posts" / "missed.md").write_text(note("2026-11-20T09:00:00"))  # no run happened for a week
    first = notecast(vault, "publish", "--due", now="2026-11-28T10:00:00Z")
    assert first.returncode == 0, first.stderr
    assert "published 1 post(s): https://echo.example/1" in first.stdout
    second = notecast(vault, "publish", "--due", now="2026-11-28T10:15:00Z")  # right after: nothing to send
    assert second.returncode == 0, second.stderr
    assert len(outbox(vault)) == 1
    assert "1 note(s): 0 due, 1 published" in second.stdout  # one summary line: nothing needs a line
    assert state(vault, "2026-11-28T10:30:00Z") == "published"


def test_drafts_and_future_notes_wait(vault):
    (vault / "posts" / "draft.md").write_text(note("2026-11-01T09:00:00", status="draft"))
    (vault / "posts" / "later.md").write_text(note("2027-01-01T09:00:00"))
    result = notecast(vault, "publish", "--due", now="2026-11-28T10:00:00Z")
    assert result.returncode == 0, result.stderr
    assert outbox(vault) == []
    status = notecast(vault, "status", now="2026-11-28T10:00:00Z").stdout
    assert "posts/draft.md\techo\tdraft" in status
    assert "posts/later.md\techo\tscheduled\tat 2027-01-01T09:00:00+01:00" in status


def test_a_thread_through_a_plugin_replies_in_order_and_an_edit_is_not_reposted(vault):
    body = "\n\n".join(f"Paragraph {i} of a note long enough to need a thread on a small platform, "
                       f"which the echo plugin is: two hundred characters per post." for i in range(1, 4))
    path = vault / "posts" / "thread.md"
    path.write_text(note(None, body=body))
    result = notecast(vault, "publish", "--due", now="2026-11-28T10:00:00Z")
    assert result.returncode == 0, result.stderr
    posts = outbox(vault)
    assert len(posts) >= 3 and [p["reply_to"] for p in posts] == [None, *[p["id"] for p in posts[:-1]]]
    path.write_text(note(None, body=body + "\n\nA paragraph added later."))
    assert state(vault, "2026-11-28T11:00:00Z") == "edited"
    check = notecast(vault, "check", now="2026-11-28T11:00:00Z")
    assert "edited" in check.stderr + check.stdout
    again = notecast(vault, "publish", "--due", now="2026-11-28T11:00:00Z")
    assert len(outbox(vault)) == len(posts), again.stdout


def crash_then_doubt(vault: Path, crash_at: int) -> None:
    """Kill a run after its first ledger step, then rerun with a platform that cannot tell what happened."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTECAST_")}
    env.update(PYTHONPATH=os.pathsep.join([str(PLUGIN), str(HERE.parent)]), CRASH_AT=str(crash_at))
    subprocess.run([sys.executable, str(HERE / "crash_child.py"), "publish"], cwd=vault, env=env,
                   capture_output=True, timeout=60)
    env.pop("CRASH_AT")
    env["NOTECAST_ECHO_DOUBT"] = "yes"
    doubt = subprocess.run([sys.executable, "-m", "pipeline", "publish"], cwd=vault, env=env, capture_output=True,
                           text=True, timeout=60)
    assert doubt.returncode == 1 and "unknown: part 1 may have been sent" in doubt.stdout, doubt.stdout


@pytest.mark.parametrize("decision", ["--not-sent", "--sent=https://echo.example/1"])
def test_a_post_in_doubt_waits_for_a_person_then_the_thread_goes_on(vault, decision):
    (vault / "posts" / "doubt.md").write_text(note(None, body="\n\n".join(
        f"Paragraph {i} is long enough that two of them never share a post on the echo platform, "
        "whose limit is two hundred characters." for i in range(1, 3))))
    crash_then_doubt(vault, crash_at=1)  # died after the intent line of post 1, before sending it
    assert outbox(vault) == []
    assert state(vault, "2026-11-28T10:00:00Z") == "unknown"
    again = notecast(vault, "publish", now="2026-11-28T10:00:00Z", NOTECAST_ECHO_DOUBT="yes")  # never sent blindly
    assert outbox(vault) == [] and again.returncode == 1
    resolved = notecast(vault, "resolve", "posts/doubt.md", "--platform", "echo", decision, now="2026-11-28T10:01:00Z")
    assert resolved.returncode == 0, resolved.stderr
    assert "post 1 of 2 recorded as" in resolved.stdout
    final = notecast(vault, "publish", now="2026-11-28T10:02:00Z")
    assert final.returncode == 0, final.stdout + final.stderr
    posts = outbox(vault)
    if decision == "--not-sent":
        assert [p["reply_to"] for p in posts] == [None, "1"]
    else:  # post 1 exists (the person saw it): only post 2 is sent, replying to it
        assert [p["reply_to"] for p in posts] == ["1"]
    assert state(vault, "2026-11-28T10:03:00Z") == "published"


def test_resolve_says_when_nothing_is_in_doubt(vault):
    (vault / "posts" / "fine.md").write_text(note(None))
    result = notecast(vault, "resolve", "posts/fine.md", "--platform", "echo", "--not-sent", now="2026-11-28T10:00:00Z")
    assert result.returncode == 2 and "no post is in doubt" in result.stderr


def test_a_create_answered_503_is_looked_up_not_sent_again(vault):
    """The server made the post but answered 503: the next run asks before it sends."""
    (vault / "posts" / "flaky.md").write_text(note(None))
    lost = notecast(vault, "publish", now="2026-11-28T10:00:00Z", NOTECAST_ECHO_LOSE_ANSWER="yes")
    assert lost.returncode == 1 and "503" in lost.stdout
    assert len(outbox(vault)) == 1
    status = notecast(vault, "status", now="2026-11-28T10:01:00Z").stdout
    assert "\tfailed\t" in status
    rerun = notecast(vault, "publish", now="2026-11-28T10:02:00Z")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert len(outbox(vault)) == 1  # found by recover(), not posted twice
    assert state(vault, "2026-11-28T10:03:00Z") == "published"


def test_status_shows_a_thread_cut_short_as_partial_and_the_rerun_finishes_it(vault):
    (vault / "posts" / "cut.md").write_text(note(None, body="\n\n".join(
        f"Paragraph {i} is long enough that two of them never share a post on the echo platform, "
        "whose limit is two hundred characters." for i in range(1, 4))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTECAST_")}
    env.update(PYTHONPATH=os.pathsep.join([str(PLUGIN), str(HERE.parent)]), CRASH_AT="4")  # after post 1: intent, request, answer, done
    killed = subprocess.run([sys.executable, str(HERE / "crash_child.py"), "publish"], cwd=vault, env=env,
                            capture_output=True, timeout=60)
    assert killed.returncode < 0 and len(outbox(vault)) == 1
    status = notecast(vault, "status", now="2026-11-28T10:00:00Z").stdout
    assert "posts/cut.md\techo\tpartial\t1 of 3 posts sent" in status
    assert notecast(vault, "publish", now="2026-11-28T10:01:00Z").returncode == 0
    assert [p["reply_to"] for p in outbox(vault)] == [None, "1", "2"]
    assert "https://echo.example/1 https://echo.example/2 https://echo.example/3" in \
        notecast(vault, "status", now="2026-11-28T10:02:00Z").stdout


def test_resolve_wants_one_note_not_a_folder(vault):
    for name in ("a.md", "b.md"):
        (vault / "posts" / name).write_text(note(None))
    result = notecast(vault, "resolve", "posts", "--platform", "echo", "--not-sent", now="2026-11-28T10:00:00Z")
    assert result.returncode == 2 and "give one note, not a folder of 2" in result.stderr


# ---- publish never does less than check promised, and a dry run never reaches a platform ----

def test_publish_refuses_a_note_that_check_finds_an_error_in(vault):
    (vault / "posts" / "image.md").write_text(note(None, body="A note.\n\n![a chart](missing.png)"))
    (vault / "posts" / "fine.md").write_text(note(None))
    check = notecast(vault, "check", now="2026-11-28T10:00:00Z")
    assert check.returncode == 1 and "image.md:9: error: image missing.png not found" in check.stdout
    for args in (("publish", "--dry-run"), ("publish",)):
        result = notecast(vault, *args, now="2026-11-28T10:00:00Z")
        assert result.returncode == 1
        assert "image.md:9: error: image missing.png not found" in result.stderr
        assert "posts/image.md → echo: not sent (`notecast check` finds an error in it" in result.stdout
    assert [p["text"] for p in outbox(vault)] == ["Scheduled\n\nA short note about schedules."]


def test_a_draft_with_an_error_does_not_fail_the_scheduled_run(vault):
    (vault / "posts" / "image.md").write_text(note(None, status="draft", body="![a chart](missing.png)"))
    result = notecast(vault, "publish", "--due", now="2026-11-28T10:00:00Z")
    assert result.returncode == 0 and "missing.png" not in result.stderr


def test_a_dry_run_through_a_plugin_never_reaches_its_server(vault):
    """The plugin mounts its own server on the session; a dry run replaces the session's adapters."""
    (vault / "posts" / "a.md").write_text(note(None))
    result = notecast(vault, "publish", "--dry-run", now="2026-11-28T10:00:00Z")
    assert result.returncode == 0, result.stderr
    assert "POST https://echo.example/posts" in result.stdout and '"text": "Scheduled' in result.stdout
    assert not (vault / "outbox.jsonl").exists()


def test_linkedin_overflow_comment_is_refused_by_check_and_publish(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "notecast.toml").write_text('[platforms.linkedin]\noverflow = "comment"\n')
    long = " ".join(f"Sentence {i} of a note that is far longer than one LinkedIn post." for i in range(80))
    (tmp_path / "posts" / "long.md").write_text(f"---\ntitle: Long\nnotecast:\n  status: ready\n"
                                                f"  platforms: [linkedin]\n---\n{long}\n")
    check = notecast(tmp_path, "check", now="2026-11-28T10:00:00Z")
    assert check.returncode == 1
    assert 'linkedin: overflow "comment" would post only the first 1 of 2 parts' in check.stdout
    assert 'set overflow = "truncate"' in check.stdout
    dry = notecast(tmp_path, "publish", "--dry-run", now="2026-11-28T10:00:00Z")
    assert dry.returncode == 1 and "linkedin: not sent" in dry.stdout and "POST" not in dry.stdout
