"""Kill ``notecast publish`` (SIGKILL, in a subprocess) at every step of a Threads thread, rerun it, and
find each post exactly once, in the right reply chain, with no container published twice.

A small stand-in for the Threads API runs on 127.0.0.1 in the test process (real HTTP, loopback only).
It keeps containers and posts as Meta's documentation describes them: a container is FINISHED when made
and PUBLISHED once ``threads_publish`` turned it into a post; publishing it again is refused. A step is
each ledger line written and each request just before it leaves and just after its answer came back
(tests/crash_child.py).
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from support import JSONHandler

TESTS = Path(__file__).parent.parent
NOTE = "posts/thread.md"
USER = "25000000000000001"
TOKEN = "test-token"
PARTS = 3  # the first three paragraphs of the crash note: a root, a middle and a last reply


class Threads:
    """What the stand-in server knows: containers, posts, and every publish attempt."""

    def __init__(self):
        self.ids = itertools.count(1)
        self.containers: dict[str, dict] = {}
        self.posts: dict[str, dict] = {}  # in the order they were made
        self.publishes: list[str] = []
        self.lock = threading.Lock()


class Handler(JSONHandler):
    state: Threads

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if query.get("access_token") != TOKEN:
            return self.error(401, "Error validating access token", 190)
        path = url.path.removeprefix("/v1.0/")
        state = self.state
        if path == f"{USER}/threads":
            posts = [{"id": i, "text": p["text"], "permalink": p["permalink"]} for i, p in state.posts.items()
                     if not p["reply_to"]]
            return self.answer(200, {"data": posts[::-1], "paging": {}})
        if path.endswith("/replies"):
            parent = path.removesuffix("/replies")
            posts = [{"id": i, "text": p["text"], "permalink": p["permalink"], "is_reply_owned_by_me": True}
                     for i, p in state.posts.items() if p["reply_to"] == parent]
            return self.answer(200, {"data": posts[::-1], "paging": {}})
        if path in state.containers and "status" in query.get("fields", ""):
            return self.answer(200, {"id": path, "status": state.containers[path]["status"]})
        if path in state.posts:
            return self.answer(200, {"id": path, "permalink": state.posts[path]["permalink"]})
        return self.error(400, f"Object with ID '{path}' does not exist", 100)

    def do_POST(self):
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        if form.get("access_token") != TOKEN:
            return self.error(401, "Error validating access token", 190)
        path, state = urlsplit(self.path).path.removeprefix("/v1.0/"), self.state
        with state.lock:
            if path == f"{USER}/threads":
                if form.get("reply_to_id") and form["reply_to_id"] not in state.posts:
                    return self.error(400, "reply_to_id is not a post", 100)
                container = f"1789{next(state.ids):013d}"
                state.containers[container] = {"text": form["text"], "reply_to": form.get("reply_to_id"),
                                               "status": "FINISHED"}
                return self.answer(200, {"id": container})
            if path == f"{USER}/threads_publish":
                container = form.get("creation_id", "")
                state.publishes.append(container)
                found = state.containers.get(container)
                if not found or found["status"] != "FINISHED":
                    return self.error(400, f"The container is {found and found['status']}", 24)
                post = f"1805{next(state.ids):013d}"
                found["status"] = "PUBLISHED"
                state.posts[post] = {"text": found["text"], "reply_to": found["reply_to"], "container": container,
                                     "permalink": f"https://www.threads.net/@notecast/post/P{post[-6:]}"}
                return self.answer(200, {"id": post})
        return self.error(400, "Unsupported post request", 100)

    def error(self, status: int, message: str, code: int) -> None:
        self.answer(status, {"error": {"message": message, "type": "OAuthException", "code": code}})



@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def write_note(root: Path) -> None:
    (root / "posts").mkdir(parents=True)
    text = (TESTS / "data" / "crash" / "mastodon-thread.md").read_text(encoding="utf-8")
    head, body = text.split("---\n", 2)[1:]
    paragraphs = body.strip().split("\n\n")[:PARTS]
    (root / NOTE).write_text("---\n" + head.replace("[mastodon]", "[threads]") + "---\n" + "\n\n".join(paragraphs)
                             + "\n", encoding="utf-8")


def child_env(api: str, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTECAST_", "CRASH_"))}
    env.update(PYTHONPATH=str(TESTS.parent), NOTECAST_THREADS_API=api, NOTECAST_THREADS_USER_ID=USER,
               NOTECAST_THREADS_TOKEN=TOKEN, **extra)
    return env


def publish(vault: Path, api: str, crash_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TESTS / "crash_child.py"), "publish", NOTE, "--platform", "threads"],
                          cwd=vault, env=child_env(api, CRASH_AT=str(crash_at)), capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def texts(tmp_path_factory, server) -> list[str]:
    root = tmp_path_factory.mktemp("render")
    write_note(root)
    rendered = subprocess.run([sys.executable, "-m", "pipeline", "render", NOTE, "-p", "threads", "--format", "json"],
                              cwd=root, env=child_env(server), capture_output=True, text=True, check=True)
    found = [post["text"] for post in json.loads(rendered.stdout)[0]["posts"]]
    assert len(found) == PARTS, f"the note must render as a {PARTS}-post thread on Threads"
    return found


def check_exactly_once(state: Threads, vault: Path, texts: list[str]) -> None:
    posts = list(state.posts.items())
    assert [p["text"] for _, p in posts] == texts  # each post once, in order
    assert [p["reply_to"] for _, p in posts] == [None] + [i for i, _ in posts[:-1]]  # the right reply chain
    assert len(state.publishes) == len(set(state.publishes)), "a container was published twice"
    lines = (vault / ".notecast" / "ledger.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    done = {e["part"]: e["id"] for e in entries if e["event"] == "done"}
    assert done == {i: post for i, (post, _) in enumerate(posts)}
    assert not [e for e in entries if e["event"] in ("failed", "unknown")], entries


def test_killed_at_every_step_then_rerun_posts_each_part_exactly_once(server, texts, tmp_path):
    step, killed = 0, []
    while True:
        step += 1
        assert step < 100, "the run never finished"
        Handler.state = state = Threads()
        vault = tmp_path / str(step)
        write_note(vault)
        crashed = publish(vault, server, crash_at=step)
        if crashed.returncode == 0:
            check_exactly_once(state, vault, texts)
            break  # past the last step: the whole run completed
        assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
        killed.append(step)
        resumed = publish(vault, server)
        assert resumed.returncode == 0, f"step {step}: {resumed.stdout}\n{resumed.stderr}"
        assert "Traceback" not in resumed.stderr
        check_exactly_once(state, vault, texts)
        sent = len(state.publishes)
        again = publish(vault, server)  # nothing left: a third run sends nothing
        assert again.returncode == 0 and len(state.publishes) == sent
        check_exactly_once(state, vault, texts)
    # each part: intent line, create (before, after), progress line, status (before, after),
    # publish (before, after), permalink (before, after), done line
    assert len(killed) == PARTS * 11
