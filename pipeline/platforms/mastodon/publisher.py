"""Mastodon: post statuses (and threads of them) with images and alt text.

Endpoints, relative to the ``instance`` setting, all with ``Authorization: Bearer``:

- ``POST /api/v2/media`` (multipart ``file`` + ``description`` = alt text):
  200 when processed, 202 while processing; then ``GET /api/v1/media/:id``
  answers 206 until ``url`` is set and 200 after.
- ``POST /api/v1/statuses`` (JSON ``status``, ``in_reply_to_id``, ``media_ids``,
  ``visibility``, ``language``) with an ``Idempotency-Key`` header.
- ``GET /api/v2/instance`` for ``configuration.statuses.max_characters`` (discover).
- ``GET /api/v1/accounts/verify_credentials`` and ``/api/v1/accounts/:id/statuses``
  to look for an interrupted post (recover).
- ``GET /api/v1/accounts/verify_credentials`` and ``GET /api/v1/apps/verify_credentials`` for
  ``health``: the second answers the token's application with its ``scopes`` (Mastodon 4.3 and
  later; earlier versions leave them out). Those are the scopes the application was registered with,
  which for a token made in Preferences → Development are the token's own; a token from an OAuth flow
  may hold fewer (docs.joinmastodon.org/methods/apps/#verify_credentials, entities/Application).

Idempotency: Mastodon remembers an ``Idempotency-Key`` for about an hour and
answers a repeat with the status it already made, so the status POST is
retried on 5xx and re-sent by ``recover`` while the first attempt is younger
than 55 minutes. Later, ``recover`` looks through the account's latest
statuses for one with the same text (and parent), and says ``Unknown`` when
it cannot be sure. A repeated media upload only leaves an unattached
attachment, which the server deletes by itself.
"""
from __future__ import annotations

import html
import itertools
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from ... import http
from ...clock import SYSTEM, Clock
from ...errors import PublishError, Retryable, Unknown
from ...publisher import Finding, Part, Receipt
from .rules import REMOTE_MENTION

IMAGE_BYTES = 16 * 1024 * 1024  # configuration.media_attachments.image_size_limit, default
POLLS = 10  # GET /api/v1/media/:id while the server processes an upload
POLL_WAIT = 2.0  # seconds between polls
REPLAY_WINDOW = timedelta(minutes=55)  # Mastodon keeps Idempotency-Keys for 1 hour
CLOCK_SKEW = timedelta(minutes=10)  # our clock against the server's, when looking back
PAGE = 40  # the most statuses Mastodon returns at once
WRITE_SCOPES = ("write:statuses", "write:media")  # publish needs them
READ_SCOPES = ("read:accounts", "read:statuses")  # recover needs them to look for a post an interrupted run made
TOKEN_HINT = ("the token is invalid or revoked; create one in Preferences → Development with "
              "write:statuses and write:media (and read:accounts, read:statuses, so a rerun can look for a post an "
              "interrupted run made), then set NOTECAST_MASTODON_TOKEN")


class MastodonPublisher:
    """Publishes to one Mastodon account through the ``requests.Session`` it is given."""

    platform = "mastodon"

    def __init__(self, session, settings: Mapping[str, str], clock: Clock = SYSTEM):
        self.session = session
        self.clock = clock
        instance = (settings.get("instance") or "").strip().rstrip("/")
        self.instance = instance if "://" in instance else f"https://{instance}"
        self.token = settings.get("token") or ""
        self.max_characters = settings.get("max_characters") or ""
        self.visibility = settings.get("visibility") or "public"
        self._dry_ids = itertools.count(1)

    # ---- the protocol -------------------------------------------------------

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Upload the part's images, then post it (as a reply to ``parent`` if given)."""
        body: dict[str, Any] = {"status": part.text, "visibility": self.visibility}
        if parent is not None:
            body["in_reply_to_id"] = parent.id
        if part.extra.get("spoiler_text"):
            body["spoiler_text"] = part.extra["spoiler_text"]
        media_ids = [self._upload(media) for media in part.media]
        if media_ids:
            body["media_ids"] = media_ids
        if part.language:
            body["language"] = part.language.split("-")[0].lower()  # ISO 639-1
        response = self._call("POST", "/api/v1/statuses", retry_safe=True, json=body,
                              headers={"Idempotency-Key": part.key})
        return self._receipt(http.json_object(response, "/api/v1/statuses"))

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """Re-send while Mastodon still knows the Idempotency-Key; later, look for the post."""
        created = part.created if part.created.tzinfo else part.created.replace(tzinfo=timezone.utc)
        age = self.clock.now() - created
        if age < REPLAY_WINDOW:
            return self.publish(part, root=root, parent=parent)  # the server replays the first status
        unsure = (f"{part.note}: post {part.index + 1} of {part.count} may already be on {self.instance}: "
                  f"the first attempt was {_ago(age)}, longer than Mastodon remembers an Idempotency-Key")
        try:
            statuses = self._recent(created - CLOCK_SKEW)
        except PublishError as exc:
            raise Unknown(f"{unsure}, and notecast could not look ({exc.message}); check the account "
                          "(a token with read:accounts and read:statuses lets notecast look by itself), "
                          "then run `notecast status`") from None
        if statuses is None:
            raise Unknown(f"{unsure}, and the account posted more than {PAGE} statuses since, too many to "
                          "check; check the account, then run `notecast status`")
        replying_to = parent.id if parent is not None else None
        candidates = [s for s in statuses if s.get("in_reply_to_id") == replying_to]
        matches = [s for s in candidates if _plain(s.get("content") or "") == _words(part.text)]
        if matches:
            return self._receipt(matches[-1])  # newest first: the oldest copy is the one to keep
        if not candidates:
            return None
        raise Unknown(f"{unsure}, and a {'reply' if parent else 'post'} made since does not quite match; "
                      "check the account, then run `notecast status`")

    def discover(self) -> dict[str, str]:
        """The instance's character limit, when the settings do not give one: a public read, no token, one try."""
        if self.max_characters:
            return {}
        try:
            response = http.request(self.session, "GET", self.instance + "/api/v2/instance", retry_safe=True,
                                    policy=http.ONCE, timeout=10, describe=_describe)
            limit = response.json()["configuration"]["statuses"]["max_characters"]
        except (PublishError, ValueError, KeyError, TypeError):
            return {}
        return {"max_characters": str(limit)} if isinstance(limit, int) and limit > 0 else {}

    def health(self) -> list[Finding]:
        """Whom the token signs in as, and whether its scopes cover what publish and recover need."""
        me = http.json_object(self._call("GET", "/api/v1/accounts/verify_credentials", retry_safe=True),
                              "/api/v1/accounts/verify_credentials")
        who = f"@{me.get('acct') or me.get('username') or '?'} on {urlsplit(self.instance).netloc}"
        try:
            app = http.json_object(self._call("GET", "/api/v1/apps/verify_credentials", retry_safe=True),
                                   "/api/v1/apps/verify_credentials")
        except PublishError as exc:
            return [Finding(self.platform, "warning", f"signed in as {who}, but the token's scopes could not be read "
                            f"({exc.message})", _SCOPES_HINT)]
        scopes = app.get("scopes")
        if not isinstance(scopes, list):
            return [Finding(self.platform, "warning", f"signed in as {who}, but the instance does not say the token's "
                            "scopes (Mastodon before 4.3)", _SCOPES_HINT)]
        lacking = [s for s in (*WRITE_SCOPES, *READ_SCOPES) if not _covers(scopes, s)]
        if any(s in WRITE_SCOPES for s in lacking):
            return [Finding(self.platform, "error", f"signed in as {who}, but the token may not post: it lacks "
                            f"{', '.join(lacking)}", _SCOPES_HINT)]
        if lacking:
            return [Finding(self.platform, "warning", f"signed in as {who}; the token may post, but lacks "
                            f"{', '.join(lacking)}, so after an interrupted run notecast cannot look for a post it "
                            "may have made", _SCOPES_HINT)]
        return [Finding(self.platform, "ok", f"signed in as {who}; the token has the scopes notecast needs")]

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """Plausible answers from a Mastodon 4.4 instance, for dry runs."""
        path = urlsplit(url).path
        media = re.fullmatch(r"/api/v1/media/(\w+)", path)
        if method == "GET" and path == "/api/v2/instance":
            return 200, {}, {"domain": urlsplit(self.instance).netloc, "title": "Mastodon", "version": "4.4.0",
                             "configuration": {"statuses": {"max_characters": 500, "max_media_attachments": 4,
                                                            "characters_reserved_per_url": 23},
                                               "media_attachments": {"image_size_limit": IMAGE_BYTES,
                                                                     "image_matrix_limit": 33177600,
                                                                     "description_limit": 1500}}}
        if method == "POST" and path == "/api/v2/media":
            alt = body.get("description") if isinstance(body, dict) else None
            return 200, {}, self._dry_media(str(100 + next(self._dry_ids)), alt)
        if method == "GET" and media:
            return 200, {}, self._dry_media(media.group(1), None)
        if method == "POST" and path == "/api/v1/statuses":
            return 200, {}, self._dry_status(body if isinstance(body, dict) else {})
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return 200, {}, {"id": "1", "username": "user", "acct": "user", "url": f"{self.instance}/@user"}
        if method == "GET" and re.fullmatch(r"/api/v1/accounts/\w+/statuses", path):
            return 200, {}, []
        return 404, {}, {"error": "Record not found"}

    # ---- helpers ------------------------------------------------------------

    def _call(self, method: str, path: str, *, retry_safe: bool, headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return http.request(self.session, method, self.instance + path, retry_safe=retry_safe,
                            describe=_describe, hint=self._hint, headers=headers, **kwargs)

    def _hint(self, status: int) -> str:
        if status == 401:
            return TOKEN_HINT
        if status == 403:
            return "the token lacks a scope; create one with write:statuses and write:media"
        if status == 404:
            return f"check the mastodon instance setting ({self.instance}): is it your server's address?"
        if status == 422:
            return "Mastodon refused the post as written; change the note and publish again"
        if status == 429:
            return "Mastodon's rate limit was reached (300 requests per 5 minutes by default); the next run continues"
        if status >= 500:
            return "the instance is having trouble; the next run tries again without posting twice within the hour"
        return ""

    def _upload(self, media) -> str:
        """Upload one image with its alt text; its attachment id once the server has processed it."""
        upload = media.prepare(IMAGE_BYTES, "Mastodon")
        response = self._call("POST", "/api/v2/media", retry_safe=True, timeout=120,
                              files={"file": (upload.name, upload.data, upload.mime)}, data={"description": media.alt})
        attachment = http.json_object(response, "/api/v2/media")
        media_id = str(attachment.get("id") or "")
        if not media_id:
            raise Retryable(f"POST /api/v2/media answered {response.status_code} without an id",
                            hint="the next run uploads the image again")
        for _ in range(POLLS):
            if response.status_code == 200 and attachment.get("url"):
                return media_id
            http._sleep(POLL_WAIT)
            response = self._call("GET", f"/api/v1/media/{media_id}", retry_safe=True)
            attachment = http.json_object(response, "/api/v1/media")
        if response.status_code == 200 and attachment.get("url"):
            return media_id
        raise Retryable(f"{media.path.as_posix()}: Mastodon was still processing the image after "
                        f"{POLLS * POLL_WAIT:.0f} s", hint="the next run uploads it again")

    def _recent(self, since: datetime) -> list[dict] | None:
        """The account's statuses made since ``since``; None if there were too many to see them all."""
        me = http.json_object(self._call("GET", "/api/v1/accounts/verify_credentials", retry_safe=True),
                        "/api/v1/accounts/verify_credentials")
        if not isinstance(me.get("id"), str):
            raise Retryable("GET /api/v1/accounts/verify_credentials answered without an account id")
        response = self._call("GET", f"/api/v1/accounts/{me['id']}/statuses", retry_safe=True,
                              params={"limit": PAGE, "exclude_reblogs": "true"})
        try:
            statuses = response.json()
        except ValueError:
            statuses = None
        if not isinstance(statuses, list):
            raise Retryable(f"GET /api/v1/accounts/{me['id']}/statuses answered with something other "
                            "than a list of statuses")
        statuses = [s for s in statuses if isinstance(s, dict)]
        recent = [s for s in statuses if (http.timestamp(s.get("created_at")) or since) >= since]
        return recent if len(recent) < len(statuses) or len(statuses) < PAGE else None

    def _receipt(self, status: dict) -> Receipt:
        if not status.get("id"):
            raise Retryable("POST /api/v1/statuses answered without a status id", hint="the next run tries again")
        return Receipt(id=str(status["id"]), url=status.get("url") or status.get("uri") or "")

    def _dry_media(self, media_id: str, alt: str | None) -> dict:
        return {"id": media_id, "type": "image", "description": alt, "blurhash": None, "meta": {},
                "url": f"{self.instance}/system/media_attachments/files/{media_id}/original.png",
                "preview_url": f"{self.instance}/system/media_attachments/files/{media_id}/small.png"}

    def _dry_status(self, body: dict) -> dict:
        status_id = str(110000000000000000 + next(self._dry_ids))
        paragraphs = re.split(r"\n{2,}", html.escape(str(body.get("status", ""))))
        return {"id": status_id, "created_at": self.clock.now().isoformat(timespec="milliseconds"),
                "in_reply_to_id": body.get("in_reply_to_id"), "visibility": body.get("visibility", "public"),
                "language": body.get("language"), "uri": f"{self.instance}/users/user/statuses/{status_id}",
                "url": f"{self.instance}/@user/{status_id}",
                "content": "".join(f"<p>{p.replace(chr(10), '<br />')}</p>" for p in paragraphs),
                "account": {"id": "1", "username": "user", "acct": "user"},
                "media_attachments": [{"id": i, "type": "image"} for i in body.get("media_ids") or []]}


def _describe(response) -> str:
    """Mastodon's error text: ``{"error": "…"}``, sometimes with an ``error_description``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason or ""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        more = body.get("error_description")
        return f"{body['error']} ({more})" if isinstance(more, str) else body["error"]
    return str(body)[:300]



_SCOPES_HINT = ("in Preferences → Development, open the application (or make a new one) with the scopes "
                f"{' '.join((*WRITE_SCOPES, *READ_SCOPES))}, save, then set NOTECAST_MASTODON_TOKEN to its access token")


def _covers(scopes: list, needed: str) -> bool:
    """Whether ``scopes`` grant ``needed``: itself, or its umbrella (``write`` covers ``write:statuses``)."""
    return needed in scopes or needed.split(":")[0] in scopes


def _plain(content: str) -> str:
    """A status's HTML as its words: what Mastodon renders, back to comparable text."""
    text = re.sub(r"<br\s*/?>|</p>", " ", content)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _words(text: str) -> str:
    """The text as ``_plain`` would give it back: remote mentions render as @user."""
    return " ".join(REMOTE_MENTION.sub(r"\1", text).split())



def _ago(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours ago" if hours < 48 else f"{hours / 24:.0f} days ago"
