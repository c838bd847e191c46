"""The dry-run adapter: it answers every request itself and records it with credentials masked."""
from __future__ import annotations

import requests

from pipeline.transport import DryRun, format_request


def test_credentials_in_headers_query_and_form_are_masked_in_the_record():
    replies = []
    adapter = DryRun(lambda method, url, body: (replies.append(body), (200, {}, {"id": "1"}))[1])
    session = requests.Session()
    session.mount("https://", adapter)
    session.get("https://graph.example/v1.0/123", params={"fields": "status", "access_token": "s3cret-value"},
                headers={"Authorization": "Bearer s3cret-value"})
    session.post("https://graph.example/v1.0/me/threads", data={"text": "Hi", "access_token": "s3cret-value"})
    get, post = adapter.requests
    assert get.url == "https://graph.example/v1.0/123?fields=status&access_token=****"
    assert get.headers["Authorization"] == "****"
    assert post.body == {"text": "Hi", "access_token": "****"}
    assert "s3cret" not in "\n".join(map(format_request, adapter.requests))
    assert replies[1] == {"text": "Hi", "access_token": "s3cret-value"}  # the answer sees the request as sent


def test_a_json_body_is_recorded_as_sent():
    adapter = DryRun(lambda *a: (200, {}, {}))
    session = requests.Session()
    session.mount("https://", adapter)
    session.post("https://api.example/login", json={"identifier": "me", "token": "kept"})
    assert adapter.requests[0].body == {"identifier": "me", "token": "kept"}  # secrets.redact masks it by value
