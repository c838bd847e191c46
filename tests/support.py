"""Helpers shared by test files: golden files, and multipart bodies that cassettes can match."""
from __future__ import annotations

import hashlib
import os
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

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
