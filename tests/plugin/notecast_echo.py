"""A third-party notecast platform, written as a separate package would write it.

One module and one entry point (``notecast_echo-0.1.dist-info/entry_points.txt``
beside this file, which is what ``pip install`` leaves behind): nothing in
notecast names it. Its "server" is a JSON-lines outbox file (setting
``outbox``), so tests can see exactly what was posted, and how often.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import Retryable, Unknown
from pipeline.platforms import Platform, Setting
from pipeline.publisher import Receipt


class EchoPublisher:
    platform = "echo"

    def __init__(self, session, settings, clock):
        self.session = session
        self.outbox = Path(settings["outbox"])
        self.doubt = bool(settings.get("doubt"))  # recover cannot tell, like a platform without idempotency
        self.lose_answer = bool(settings.get("lose_answer"))  # the post is made, then the answer is a 503

    def posts(self) -> list[dict]:
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text().splitlines() if line.strip()]

    def publish(self, part, *, root, parent) -> Receipt:
        number = str(len(self.posts()) + 1)
        record = {"id": number, "key": part.key, "text": part.text, "reply_to": parent.id if parent else None}
        with self.outbox.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
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
        return 200, {}, {}


@dataclass(frozen=True)
class Echo(Platform):
    def measure(self, text: str) -> int:
        return len(text)

    def publisher(self, session, settings, clock):
        return EchoPublisher(session, settings, clock)


platform = Echo(name="echo", title="Echo", limit=200, threads=True,
                settings=(Setting("outbox", default="outbox.jsonl", help="where posts go"),
                          Setting("doubt", default="", help="make recover() unsure (tests)"),
                          Setting("lose_answer", default="", help="answer 503 after posting (tests)")))
