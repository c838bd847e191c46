"""A third-party notecast platform, written as a separate package would write it.

One module and one entry point (``notecast_echo-0.1.dist-info/entry_points.txt``
beside this file, which is what ``pip install`` leaves behind): nothing in
notecast names it. Its "server" is a JSON-lines outbox file (setting
``outbox``), so tests can see exactly what was posted, and how often.

Like every publisher it does all its I/O through the session notecast gives it:
it mounts its server (an adapter over the outbox) for ``https://echo.example/``
and talks HTTP to it. In a dry run notecast replaces the session's adapters, so
nothing reaches the outbox.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from requests.adapters import BaseAdapter
from requests.models import Response

from pipeline.errors import Retryable, Unknown
from pipeline.platforms import Platform, Setting
from pipeline.publisher import Receipt

SERVER = "https://echo.example"


class Outbox(BaseAdapter):
    """The echo server: GET /posts lists the outbox, POST /posts appends to it."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def posts(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def send(self, request, **kwargs):
        if request.method == "POST":
            record = {"id": str(len(self.posts()) + 1), **json.loads(request.body)}
            with self.path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            return answer(request, 200, record)
        return answer(request, 200, self.posts())

    def close(self):
        pass


def answer(request, status, payload) -> Response:
    response = Response()
    response.status_code, response.request, response.url = status, request, request.url
    response._content = json.dumps(payload).encode()
    return response


class EchoPublisher:
    platform = "echo"

    def __init__(self, session, settings, clock):
        self.session = session
        session.mount(SERVER + "/", Outbox(Path(settings["outbox"])))
        self.doubt = bool(settings.get("doubt"))  # recover cannot tell, like a platform without idempotency
        self.lose_answer = bool(settings.get("lose_answer"))  # the post is made, then the answer is a 503

    def posts(self) -> list[dict]:
        return self.session.get(f"{SERVER}/posts").json()

    def publish(self, part, *, root, parent) -> Receipt:
        record = {"key": part.key, "text": part.text, "reply_to": parent.id if parent else None}
        number = self.session.post(f"{SERVER}/posts", json=record).json()["id"]
        if self.lose_answer:
            raise Retryable("POST https://echo.example/posts answered 503: upstream timed out", status=503,
                            maybe_sent=True)
        return Receipt(number, f"https://echo.example/{number}")

    def recover(self, part, *, root, parent) -> Receipt | None:
        if self.doubt:
            raise Unknown(f"echo cannot tell whether post {part.index + 1} was made")
        for record in self.posts():
            if record["key"] == part.key:
                return Receipt(record["id"], f"https://echo.example/{record['id']}")
        return None

    def discover(self):
        return {}

    def dry_reply(self, method, url, body):
        return (200, {}, {"id": "dry-1"}) if method == "POST" else (200, {}, [])


@dataclass(frozen=True)
class Echo(Platform):
    def measure(self, text: str) -> int:
        return len(text)


platform = Echo(name="echo", title="Echo", limit=200, threads=True, publisher_class=EchoPublisher,
                settings=(Setting("outbox", default="outbox.jsonl", help="where posts go"),
                          Setting("doubt", default="", help="make recover() unsure (tests)"),
                          Setting("lose_answer", default="", help="answer 503 after posting (tests)")))
