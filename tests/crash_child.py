"""``notecast publish`` in a child process that kills itself (SIGKILL) at its Nth step.

Used by tests/test_crash.py. A step is each durable ledger line written and
each HTTP request just before it is sent and just after its answer came back,
so killing at every N covers: before a request left, while it was in flight
(the server acted, the answer was lost) and after the answer but before the
ledger knew. Every request is logged (one fsynced JSON line) before it is sent.

    CRASH_AT=N        kill at step N (0: never)
    CRASH_LOG=FILE    where to log requests
    CRASH_CASSETTE=F  replay HTTP from this pytest-recording cassette (Mastodon)
"""
from __future__ import annotations

import json
import os
import signal
import sys


def main(argv: list[str]) -> int:
    import requests

    from pipeline import cli, ledger

    kill_at = int(os.environ.get("CRASH_AT") or 0)
    log_path = os.environ.get("CRASH_LOG")
    steps = 0

    def step() -> None:
        nonlocal steps
        steps += 1
        if steps == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def log(request) -> None:
        if not log_path:
            return
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace") if b"\0" not in body else f"<{len(body)} bytes>"
        line = json.dumps({"method": request.method, "url": request.url, "body": body,
                           "idempotency_key": request.headers.get("Idempotency-Key")})
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    append, send = ledger.Ledger.append, requests.Session.send

    def crashing_append(self, entry):
        result = append(self, entry)
        step()
        return result

    def crashing_send(self, request, **kwargs):
        log(request)
        step()
        response = send(self, request, **kwargs)
        step()
        return response

    ledger.Ledger.append = crashing_append
    requests.Session.send = crashing_send
    cassette = os.environ.get("CRASH_CASSETTE")
    if not cassette:
        return cli.main(argv)
    import vcr

    # Mastodon answers a repeated Idempotency-Key with the status it already made: replaying the
    # recorded answer to a repeated request is exactly that.
    recorder = vcr.VCR(record_mode="none", match_on=["method", "uri", "body"])
    with recorder.use_cassette(cassette, allow_playback_repeats=True):
        return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
