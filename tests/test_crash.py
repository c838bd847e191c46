"""Kill ``notecast publish`` (SIGKILL, in a subprocess) at every step of a 5-post thread, rerun it,
and find each post exactly once, in the right reply chain.

Mastodon here replays recorded answers (a cassette written from the API docs, built below from the
note's rendered text); Mastodon's ``Idempotency-Key`` makes a repeated create return the status it
already made, so "exactly once" means: every create of part k carried part k's one key, and the
ledger records each part once, replying to part k-1. The same test against the real Bluesky PDS is
in tests/platforms/test_bluesky_crash.py.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
INSTANCE = "https://mastodon.example"
NOTE = "posts/thread.md"


def child_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTECAST_", "CRASH_"))}
    env.update({"PYTHONPATH": str(HERE.parent), "NOTECAST_MASTODON_INSTANCE": INSTANCE,
                "NOTECAST_MASTODON_TOKEN": "test-token", "NOTECAST_MASTODON_MAX_CHARACTERS": "500"}, **extra)
    return env


def run(cwd: Path, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HERE / "crash_child.py"), *args], cwd=cwd, env=child_env(**env),
                          capture_output=True, text=True, timeout=120)


def status_id(i: int) -> str:
    return f"11350000000000010{i}"


def status(i: int, text: str) -> dict:
    """A Mastodon 4.x Status entity, as POST /api/v1/statuses answers it."""
    return {"id": status_id(i), "created_at": "2026-11-28T20:06:07.123Z",
            "in_reply_to_id": status_id(i - 1) if i else None,
            "in_reply_to_account_id": "109876543210987654" if i else None, "sensitive": False,
            "spoiler_text": "", "visibility": "public", "language": None,
            "uri": f"{INSTANCE}/users/notecast/statuses/{status_id(i)}", "url": f"{INSTANCE}/@notecast/{status_id(i)}",
            "content": "".join(f"<p>{p}</p>" for p in text.split("\n\n")), "media_attachments": [],
            "account": {"id": "109876543210987654", "username": "notecast", "acct": "notecast",
                        "url": f"{INSTANCE}/@notecast"}, "mentions": [], "tags": [], "emojis": []}


@pytest.fixture(scope="module")
def thread(tmp_path_factory) -> tuple[Path, list[str]]:
    """A vault with the 5-post note, its rendered texts, and a cassette answering each create."""
    root = tmp_path_factory.mktemp("vault")
    (root / "posts").mkdir()
    shutil.copy(HERE / "data" / "crash" / "mastodon-thread.md", root / NOTE)
    rendered = subprocess.run([sys.executable, "-m", "pipeline", "render", NOTE, "-p", "mastodon", "--format", "json"],
                              cwd=root, env=child_env(), capture_output=True, text=True, check=True)
    texts = [post["text"] for post in json.loads(rendered.stdout)[0]["posts"]]
    assert len(texts) == 5, "the crash note must render as a 5-post thread on Mastodon"
    interactions = []
    for i, text in enumerate(texts):
        body = {"status": text, "visibility": "public", **({"in_reply_to_id": status_id(i - 1)} if i else {})}
        interactions.append({
            "request": {"method": "POST", "uri": f"{INSTANCE}/api/v1/statuses", "body": json.dumps(body),
                        "headers": {"Authorization": ["REDACTED"], "Content-Type": ["application/json"]}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["application/json; charset=utf-8"]},
                         "body": {"string": json.dumps(status(i, text))}}})
    (root / "cassette.yaml").write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return root, texts


def fresh(thread, tmp_path: Path) -> Path:
    root, _ = thread
    vault = tmp_path / "vault"
    shutil.copytree(root, vault)
    return vault


def ledger(vault: Path) -> list[dict]:
    path = vault / ".notecast" / "ledger.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def creates(vault: Path) -> list[dict]:
    path = vault / "requests.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [r for r in map(json.loads, lines) if r["method"] == "POST" and r["url"].endswith("/api/v1/statuses")]


def check_exactly_once(vault: Path, texts: list[str]) -> None:
    entries = ledger(vault)
    done = [e for e in entries if e["event"] == "done"]
    assert sorted(e["part"] for e in done) == [0, 1, 2, 3, 4], entries
    assert {e["part"]: e["id"] for e in done} == {i: status_id(i) for i in range(5)}
    assert not [e for e in entries if e["event"] in ("failed", "unknown")]
    keys: dict[int, set[str]] = {}
    for request in creates(vault):
        body = json.loads(request["body"])
        part = texts.index(body["status"])
        assert body.get("in_reply_to_id") == (status_id(part - 1) if part else None)  # the right reply chain
        keys.setdefault(part, set()).add(request["idempotency_key"])
    assert sorted(keys) == [0, 1, 2, 3, 4]
    assert all(len(k) == 1 for k in keys.values()), f"a part was sent under two keys: {keys}"
    assert len(set().union(*keys.values())) == 5


def publish(vault: Path, crash_at: int = 0) -> subprocess.CompletedProcess:
    return run(vault, "publish", NOTE, "--platform", "mastodon", CRASH_AT=str(crash_at),
               CRASH_LOG=str(vault / "requests.jsonl"), CRASH_CASSETTE=str(vault / "cassette.yaml"))


def test_uninterrupted_run_posts_the_thread_once_and_a_rerun_sends_nothing(thread, tmp_path):
    vault = fresh(thread, tmp_path)
    first = publish(vault)
    assert first.returncode == 0, first.stderr
    assert f"published 5 post(s): {INSTANCE}/@notecast/{status_id(0)}" in first.stdout
    check_exactly_once(vault, thread[1])
    sent = len(creates(vault))
    again = publish(vault)
    assert again.returncode == 0, again.stderr
    assert len(creates(vault)) == sent == 5
    assert "published" in again.stdout and "would send" not in again.stdout


def test_killed_at_every_step_then_rerun_posts_each_part_exactly_once(thread, tmp_path):
    step, killed = 0, []
    while True:
        step += 1
        assert step < 100, "the run never finished"
        vault = fresh(thread, tmp_path / str(step))
        crashed = publish(vault, crash_at=step)
        if crashed.returncode == 0:
            break  # step is past the last one: the whole run completed
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        assert "Traceback" not in crashed.stderr
        killed.append(step)
        resumed = publish(vault)
        assert resumed.returncode == 0, f"step {step}: {resumed.stdout}\n{resumed.stderr}"
        check_exactly_once(vault, thread[1])
        sent = len(creates(vault))
        again = publish(vault)  # and a third run has nothing left to do
        assert again.returncode == 0 and len(creates(vault)) == sent
    # 5 parts × (intent line, before the request, after the answer, done line)
    assert len(killed) == 20


def test_a_run_with_nothing_due_touches_no_account(thread, tmp_path):
    vault = fresh(thread, tmp_path)
    note = vault / NOTE
    note.write_text(note.read_text().replace("status: ready", "status: draft"))
    quiet = run(vault, "publish", "--due", CRASH_LOG=str(vault / "requests.jsonl"),
                CRASH_CASSETTE=str(vault / "cassette.yaml"), NOTECAST_MASTODON_MAX_CHARACTERS="")
    assert quiet.returncode == 0, quiet.stderr
    assert not (vault / "requests.jsonl").exists()  # not even the instance's limit was asked
    assert "1 note(s): 1 draft, 0 due" in quiet.stdout
