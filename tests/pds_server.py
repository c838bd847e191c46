"""The local Bluesky PDS for tests: start it, make accounts, read posts back, stop it.

The server is the reference AT Protocol PDS that ``tests/pds/install.sh`` installs into
``.peers/bluesky-pds`` (or ``$NOTECAST_PDS_DIR``); ``start.mjs`` there runs it with an in-memory PLC
directory on loopback and prints ``PDS_URL=…`` when it is ready (tests/pds/RECIPE.md). Plain
``requests``, no pytest: the fixtures live in conftest.py.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import selectors
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PEER = Path(os.environ.get("NOTECAST_PDS_DIR") or ROOT / ".peers" / "bluesky-pds")
NODE = PEER / "node_modules" / ".bin" / "node"
JWT_SECRET = b"jwt-secret"  # dev-env's fixed secret (RECIPE.md): lets tests forge an expired token
POST = "app.bsky.feed.post"
_names = itertools.count(1)


def installed() -> bool:
    return NODE.exists() and (PEER / "start.mjs").exists()


@dataclass(frozen=True)
class Account:
    handle: str
    did: str
    password: str  # the account password
    app_password: str  # what notecast is given


class PDS:
    """One running PDS (with its PLC directory), started by :func:`start`."""

    def __init__(self, proc: subprocess.Popen, url: str, errors: Path, started_in: float):
        self.proc, self.url, self.errors, self.started_in = proc, url, errors, started_in
        self.http = requests.Session()

    def xrpc(self, method: str, nsid: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, f"{self.url}/xrpc/{nsid}", headers=headers, timeout=30, **kwargs)

    def create_account(self, name: str = "") -> Account:
        """A fresh account (unique handle ``<name>-<n>.test``) with an app password."""
        handle = f"{name or 'user'}-{next(_names)}-{uuid.uuid4().hex[:6]}.test"
        password = uuid.uuid4().hex
        made = self.xrpc("POST", "com.atproto.server.createAccount",
                         json={"handle": handle, "email": f"{handle}@example.com", "password": password})
        made.raise_for_status()
        session = made.json()
        app = self.xrpc("POST", "com.atproto.server.createAppPassword", token=session["accessJwt"],
                        json={"name": "notecast"})
        app.raise_for_status()
        return Account(handle, session["did"], password, app.json()["password"])

    def records(self, did: str, collection: str = POST) -> list[dict]:
        """Every record of a collection, oldest first (listRecords pages newest first)."""
        out, cursor = [], None
        while True:
            params = {"repo": did, "collection": collection, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self.xrpc("GET", "com.atproto.repo.listRecords", params=params)
            page.raise_for_status()
            answer = page.json()
            out += answer["records"]
            cursor = answer.get("cursor")
            if not cursor or not answer["records"]:
                return out[::-1]

    def record(self, uri: str) -> dict:
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        got = self.xrpc("GET", "com.atproto.repo.getRecord", params={"repo": repo, "collection": collection,
                                                                     "rkey": rkey})
        got.raise_for_status()
        return got.json()

    def blob(self, did: str, cid: str) -> tuple[bytes, str]:
        got = self.xrpc("GET", "com.atproto.sync.getBlob", params={"did": did, "cid": cid})
        got.raise_for_status()
        return got.content, got.headers.get("Content-Type", "")

    def stop(self) -> None:
        """SIGTERM (the server removes its temp dir), then SIGKILL if it does not stop within 10 s."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.errors.unlink(missing_ok=True)


def start(*, rate_limits: bool = False, timeout: float = 90) -> PDS:
    """Start a PDS on a free loopback port and wait until it answers; RuntimeError if it does not."""
    if not installed():
        raise RuntimeError(f"the Bluesky PDS is not installed in {PEER}; run `bash tests/pds/install.sh`")
    fd, name = tempfile.mkstemp(prefix="notecast-pds-", suffix=".err")
    errors = Path(name)
    began = time.monotonic()
    args = [str(NODE), "start.mjs", "--port", "0"] + (["--rate-limits"] if rate_limits else [])
    with os.fdopen(fd, "w") as stderr:
        proc = subprocess.Popen(args, cwd=PEER, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                text=True)
    line = ""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while not line and proc.poll() is None and time.monotonic() - began < timeout:
            if selector.select(timeout=0.5):
                line = proc.stdout.readline()
    if not line.startswith("PDS_URL="):
        server = PDS(proc, "", errors, 0.0)
        detail = errors.read_text(errors="replace")[-2000:]
        server.stop()
        raise RuntimeError(f"the Bluesky PDS did not start within {timeout:.0f} s "
                           f"(exit code {proc.returncode}): {line.strip()}\n{detail}")
    return PDS(proc, line.strip().split("=", 1)[1], errors, time.monotonic() - began)


def forge_expired(token: str) -> str:
    """The same JWT, expired an hour ago, signed again with dev-env's secret (as RECIPE.md's smoke test does)."""
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=").decode()
    signature = hmac.new(JWT_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
