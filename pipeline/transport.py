"""Dry runs: a requests adapter that records every prepared request and answers it itself.

Mounted on the session for ``http://`` and ``https://``, it guarantees that
nothing reaches the network; each publisher supplies plausible replies so a
whole thread (login, uploads, replies) can be walked through.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl

from requests.adapters import BaseAdapter
from requests.models import PreparedRequest, Response
from requests.structures import CaseInsensitiveDict

MASKED_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}
# Credentials some APIs take as a query or form parameter (Threads: access_token), masked the same way.
MASKED_PARAMS = {"access_token", "refresh_token", "client_secret", "password", "token"}
_QUERY_SECRET = re.compile(rf"(?i)([?&](?:{'|'.join(sorted(MASKED_PARAMS))})=)[^&#]*")


@dataclass(frozen=True)
class Recorded:
    method: str
    url: str
    headers: Mapping[str, str]
    body: Any  # parsed JSON, a dict of form fields, or a summary string


class DryRun(BaseAdapter):
    """Records requests; answers with ``reply(method, url, body) -> (status, headers, json)``."""

    def __init__(self, reply: Callable[[str, str, Any], tuple[int, Mapping[str, str], Any]]):
        super().__init__()
        self.reply = reply
        self.requests: list[Recorded] = []
        self.files: dict[str, str] = {}  # sha256 of bytes -> description (path, alt)

    def know(self, data: bytes, description: str) -> None:
        """Describe media bytes by their file and alt text instead of dumping them."""
        self.files[hashlib.sha256(data).hexdigest()] = description

    def send(self, request: PreparedRequest, **kwargs) -> Response:
        body = self._body(request)
        headers = {k: ("****" if k.lower() in MASKED_HEADERS else v) for k, v in request.headers.items()}
        self.requests.append(Recorded(request.method or "GET", _QUERY_SECRET.sub(r"\1****", request.url or ""),
                                      headers, _mask_form(body, request.headers.get("Content-Type", ""))))
        status, reply_headers, payload = self.reply(request.method or "GET", request.url or "", body)
        response = Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **reply_headers})
        response._content = json.dumps(payload).encode() if payload is not None else b""
        response.url = request.url
        response.request = request
        response.reason = "OK" if status < 400 else "Error"
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass

    def _body(self, request: PreparedRequest) -> Any:
        raw = request.body
        if raw is None:
            return None
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        kind = request.headers.get("Content-Type", "")
        if "json" in kind:
            try:
                return json.loads(data)
            except ValueError:
                pass
        if kind.startswith("multipart/form-data"):
            return self._multipart(data, kind)
        if kind.startswith("application/x-www-form-urlencoded"):

            return dict(parse_qsl(data.decode("utf-8", "replace")))
        return self._describe(data, kind)

    def _describe(self, data: bytes, kind: str) -> str:
        known = self.files.get(hashlib.sha256(data).hexdigest())
        return f"<{known}, {len(data):,} bytes, {kind or 'unknown type'}>" if known else f"<{len(data):,} bytes, {kind}>"

    def _multipart(self, data: bytes, kind: str) -> dict:

        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + kind.encode() + b"\r\n\r\n" + data)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                fields[name] = self._describe(payload, part.get_content_type())
            else:
                fields[name] = payload.decode("utf-8", "replace")
        return fields


def _mask_form(body: Any, kind: str) -> Any:
    """A form body with its credential fields masked; any other body as it is."""
    if not isinstance(body, dict) or not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return body
    return {k: ("****" if k.lower() in MASKED_PARAMS else v) for k, v in body.items()}


def format_request(recorded: Recorded) -> str:
    """One request as a person reads it: method and URL, headers, then the body."""
    lines = [f"{recorded.method} {recorded.url}"]
    lines += [f"  {k}: {v}" for k, v in recorded.headers.items()
              if k.lower() not in ("user-agent", "accept-encoding", "accept", "connection", "content-length")]
    if recorded.body is not None:
        body = recorded.body if isinstance(recorded.body, str) else json.dumps(recorded.body, ensure_ascii=False, indent=2)
        lines += ["  " + line for line in body.split("\n")]
    return "\n".join(lines)
