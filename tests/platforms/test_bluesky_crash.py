"""Kill ``notecast publish`` (SIGKILL, in a subprocess) at every step of a 5-post Bluesky thread against
the real reference PDS, rerun it, and find each post exactly once, in the right reply chain.

A step is each ledger line written and each request just before it leaves and just after its answer
came back (tests/crash_child.py). Each step gets a fresh account, so the account's records are exactly
what notecast made.
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

TESTS = Path(__file__).parent.parent
NOTE = "posts/thread.md"
POST = "app.bsky.feed.post"

pytestmark = pytest.mark.pds


def publish(vault: Path, pds, account, crash_at: int = 0) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTECAST_", "CRASH_"))}
    env.update(PYTHONPATH=str(TESTS.parent), CRASH_AT=str(crash_at), NOTECAST_BLUESKY_SERVICE=pds.url,
               NOTECAST_BLUESKY_HANDLE=account.handle, NOTECAST_BLUESKY_APP_PASSWORD=account.app_password)
    return subprocess.run([sys.executable, str(TESTS / "crash_child.py"), "publish", NOTE, "--platform", "bluesky"],
                          cwd=vault, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("render")
    (root / "posts").mkdir()
    shutil.copy(TESTS / "data" / "crash" / "bluesky-thread.md", root / NOTE)
    rendered = subprocess.run([sys.executable, "-m", "pipeline", "render", NOTE, "-p", "bluesky", "--format", "json"],
                              cwd=root, env={**os.environ, "PYTHONPATH": str(TESTS.parent)}, capture_output=True,
                              text=True, check=True)
    found = [post["text"] for post in json.loads(rendered.stdout)[0]["posts"]]
    assert len(found) == 5, "the crash note must render as a 5-post thread on Bluesky"
    return found


def check_exactly_once(pds, account, texts: list[str]) -> None:
    records = pds.records(account.did)
    assert [r["value"]["text"] for r in records] == texts  # each post once, in order
    root = {"uri": records[0]["uri"], "cid": records[0]["cid"]}
    assert "reply" not in records[0]["value"]
    for before, record in zip(records, records[1:]):
        assert record["value"]["reply"] == {"root": root, "parent": {"uri": before["uri"], "cid": before["cid"]}}


def test_killed_at_every_step_then_rerun_posts_each_part_exactly_once(pds, texts, tmp_path):
    step, killed = 0, []
    while True:
        step += 1
        assert step < 100, "the run never finished"
        vault = tmp_path / str(step)
        (vault / "posts").mkdir(parents=True)
        shutil.copy(TESTS / "data" / "crash" / "bluesky-thread.md", vault / NOTE)
        account = pds.create_account(f"crash{step}")
        crashed = publish(vault, pds, account, crash_at=step)
        if crashed.returncode == 0:
            check_exactly_once(pds, account, texts)
            break  # past the last step: the whole run completed
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        killed.append(step)
        resumed = publish(vault, pds, account)
        assert resumed.returncode == 0, f"step {step}: {resumed.stdout}\n{resumed.stderr}"
        assert "Traceback" not in resumed.stderr
        check_exactly_once(pds, account, texts)
        again = publish(vault, pds, account)  # nothing left: a third run sends nothing
        assert again.returncode == 0 and "published 5 post(s)" not in again.stdout
        check_exactly_once(pds, account, texts)
    # createSession (before, after), then 5 parts × (intent line, before the request, after the answer, done line)
    assert len(killed) == 2 + 5 * 4
