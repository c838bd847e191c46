"""Helpers shared by test files: golden files, and what the cassette tests need (matching, replay,
a lost connection)."""
from __future__ import annotations

import hashlib
import json
import os
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import requests

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden(name: str, actual: str) -> None:
    """``actual`` must equal tests/golden/``name``; NOTECAST_UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("NOTECAST_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path}; create it with NOTECAST_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; if intended, rerun with NOTECAST_UPDATE_GOLDEN=1"


def canonical_multipart(body: bytes, kind: str) -> bytes:
    """A multipart body with a fixed boundary and each file as its size and hash, so it can be matched."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body)
    out = []
    for field in message.iter_parts():
        name = field.get_param("name", header="content-disposition")
        payload = field.get_payload(decode=True) or b""
        if field.get_filename():
            out.append(f'--BOUNDARY\nContent-Disposition: form-data; name="{name}"; filename="{field.get_filename()}"\n'
                       f"Content-Type: {field.get_content_type()}\n\n"
                       f"<{len(payload)} bytes, sha256 {hashlib.sha256(payload).hexdigest()}>\n")
        else:
            out.append(f'--BOUNDARY\nContent-Disposition: form-data; name="{name}"\n\n{payload.decode()}\n')
    return ("".join(out) + "--BOUNDARY--\n").encode()


def replay(scrub_request, scrub_response) -> dict:
    """pytest-recording's configuration for hand-written cassettes: replay only (record mode ``none``),
    Authorization filtered out, requests matched on method, URI and (scrubbed) body."""
    return {"record_mode": "none", "filter_headers": [("authorization", "REDACTED")],
            "match_on": ["method", "uri", "body"],
            "before_record_request": scrub_request, "before_record_response": scrub_response}


def disconnected(calls: list) -> requests.Session:
    """A session whose every request is sent (and appended to ``calls``) and then loses its connection."""
    class Broken(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):
            calls.append(request)
            raise requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")

        def close(self):
            pass

    session = requests.Session()
    session.mount("https://", Broken())
    return session


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet request handler for the small API servers tests run on 127.0.0.1: it answers JSON."""

    def answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
