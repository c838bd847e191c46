"""No secret reaches any output or file, in any form: every command runs with canary secrets set.

The canaries hold the characters that change a value's spelling (quote, backslash, space, non-ASCII,
a pasted trailing newline), and a server on 127.0.0.1 echoes the Authorization header back in its error.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from support import JSONHandler
from pipeline import secrets

ROOT = Path(__file__).resolve().parent.parent
CANARIES = {
    "NOTECAST_MASTODON_TOKEN": 'mastodon"can\\ary tok3n\n',
    "NOTECAST_BLUESKY_APP_PASSWORD": "blue sky-canary-pw\u00e9 ",
    "NOTECAST_LINKEDIN_TOKEN": "\tlinked'in-canary-token",
    "NOTECAST_X_API_KEY": "x-canary-api-key\r\n",
    "NOTECAST_X_API_SECRET": "x-canary/api+secret=",
    "NOTECAST_X_ACCESS_TOKEN": "x-canary-access-token",
    "NOTECAST_X_ACCESS_SECRET": "x-canary-access-secret",
}
NOTE = """---
title: Canary
notecast:
  status: ready
  platforms: [mastodon]
---
A short note.
"""


def forms(value: str) -> set[str]:
    """How a secret may be spelled in text, worked out here independently of notecast's mask."""
    out = set()
    for v in {value, value.strip()}:
        out |= {v, repr(v)[1:-1], json.dumps(v)[1:-1], json.dumps(v, ensure_ascii=False)[1:-1], quote(v, safe=""),
                quote_plus(v), base64.b64encode(v.encode()).decode().rstrip("="),
                base64.b64encode(f"user:{v}".encode()).decode()}
    return {f for f in out if len(f.strip()) >= 6}


class Echo(JSONHandler):
    """A Mastodon that refuses every token and quotes it back, as some servers do."""

    def do_GET(self):
        if self.path == "/api/v2/instance":
            return self.answer(200, {"configuration": {"statuses": {"max_characters": 500}}})
        return self.answer(401, {"error": f"The access token is invalid: {self.headers.get('Authorization')}"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self.answer(401, {"error": f"The access token is invalid: {self.headers.get('Authorization')}",
                                 "headers": dict(self.headers)})



@pytest.fixture
def project(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "canary.md").write_text(NOTE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTECAST_")}
    env.update(CANARIES, NOTECAST_MASTODON_INSTANCE=f"http://127.0.0.1:{server.server_port}",
               NOTECAST_BLUESKY_HANDLE="canary.test", PYTHONPATH=str(ROOT))
    yield tmp_path, env
    server.shutdown()


def run(project, *args) -> str:
    folder, env = project
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr or "--debug" in args
    return done.stdout + done.stderr


def test_no_command_prints_or_writes_a_secret_in_any_form(project):
    folder, _ = project
    outputs = [
        run(project, "publish", "posts/"),  # the server echoes the token into the error, and the ledger
        run(project, "status", "posts/"),
        run(project, "check", "posts/"),
        run(project, "render", "posts/"),
        run(project, "preview", "posts/canary.md", "--html", "preview.html"),
        run(project, "publish", "--dry-run", "posts/", "-p", "mastodon", "-p", "bluesky", "-p", "x", "-p", "linkedin"),
        run(project, "--debug", "publish", "posts/"),
    ]
    assert "failed at post 1 of 1" in outputs[0] and "401" in outputs[0]
    assert "has spaces or a line break around it" in outputs[0]
    files = [p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()]
    assert any('"event":"failed"' in f for f in files)  # the ledger was written, with the error
    leaks = [(name, form) for name, value in CANARIES.items() for form in forms(value)
             for text in outputs + files if form in text]
    assert leaks == []


def test_every_form_of_a_watched_secret_is_masked(monkeypatch):
    value = 'pa"ss\\wörd 1'
    monkeypatch.setenv("NOTECAST_TEST_TOKEN", value)
    secrets.watch(["NOTECAST_TEST_TOKEN"])
    for form in forms(value):
        assert form not in secrets.redact(f"before {form} after"), form
    assert secrets.redact("{'Authorization': 'Basic dXNlcjpwYXNz'}") == "{'Authorization': 'Basic ****'}"


def test_a_padded_secret_is_stripped_once_and_named(monkeypatch):
    monkeypatch.setenv("NOTECAST_TEST_PADDED_TOKEN", " padded-token\n")
    assert secrets.watch(["NOTECAST_TEST_PADDED_TOKEN"]) == ["NOTECAST_TEST_PADDED_TOKEN"]
    assert os.environ["NOTECAST_TEST_PADDED_TOKEN"] == "padded-token"
    assert secrets.watch(["NOTECAST_TEST_PADDED_TOKEN"]) == []
