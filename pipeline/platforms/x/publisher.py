"""X: post tweets (and threads of them) with images and alt text, through the v2 API.

Endpoints, relative to the ``api`` setting (https://api.x.com), each request
signed with OAuth 1.0a user context (the app's API key and secret, the
account's access token and secret):

- ``POST /2/media/upload`` (multipart ``media`` + ``media_category``), answering
  ``{"data": {"id", "media_key", …}}``; then ``POST /2/media/metadata`` (JSON
  ``{"id", "metadata": {"alt_text": {"text"}}}``) for the alt text.
- ``POST /2/tweets`` (JSON ``text``, ``reply.in_reply_to_tweet_id``,
  ``media.media_ids``), answering 201 ``{"data": {"id", "text"}}``.
- ``GET /2/users/me`` and ``GET /2/users/:id/tweets`` to look for a post that
  may already exist (recover, and after a duplicate-content refusal).
- ``GET /2/users/me`` for ``health`` too: its ``x-access-level`` response header says what an OAuth
  1.0a token may do: ``read``, ``read-write`` or ``read-write-directmessages``. X announced that every
  authenticated request returns it (twitter-api-announce, "new three-tier permission model", 2011) and
  clients read it from v1.1 ``account/verify_credentials``; that v2 sends it too is **unverified**, so
  a missing header is a warning, not an error. X bills the call as one "User: Read" ($0.010, pricing
  page, 2026).

Idempotency: none. A tweet POST that fails with 5xx or a broken connection may
have made the post, so it is never retried within a run. When it is sent
again later, X refuses identical text with 403 "duplicate content" without
naming the post; notecast then looks through the account's latest tweets for
one with the same text and parent, and says ``Unknown`` when it cannot be
sure. Uploads and alt text are retried: a repeated upload only leaves an
unused media id, which X forgets after a day.
"""
from __future__ import annotations

import html
import itertools
import re
import unicodedata
from datetime import timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from ... import http
from ...clock import SYSTEM, Clock
from ...errors import PublishError, Rejected, Retryable, Unknown
from ...publisher import Finding, Part, Receipt
from ..twitter_text import extract_urls

API = "https://api.x.com"
IMAGE_BYTES = 5 * 1024 * 1024  # the image limit of POST /2/media/upload
PAGE = 20  # tweets read when looking for one (max_results may be 5 to 100; reads are billed)
CLOCK_SKEW = timedelta(minutes=10)  # our clock against X's, when looking back
DUPLICATE = "duplicate content"  # in 403 "You are not allowed to create a Tweet with duplicate content."
TWEET_FIELDS = "created_at,conversation_id,referenced_tweets"
CREDENTIALS_HINT = ("X did not accept the credentials: check NOTECAST_X_API_KEY and NOTECAST_X_API_SECRET (the app's "
                    "API Key and Secret) and NOTECAST_X_ACCESS_TOKEN and NOTECAST_X_ACCESS_SECRET (the access token "
                    "and secret generated for your account), and that the app's user authentication settings give "
                    "it \"Read and write\" permission; regenerate the access token and secret after changing it")
PERMISSION_HINT = ("the app may only have \"Read\" permission: set \"Read and write\" in the app's user authentication "
                   "settings in the developer portal, then regenerate NOTECAST_X_ACCESS_TOKEN and "
                   "NOTECAST_X_ACCESS_SECRET")
WRITE_LEVELS = ("read-write", "read-write-directmessages")  # x-access-level values that may post
READ_ONLY_HINT = ("in the developer portal, open the app's User authentication settings and set App permissions to "
                  "\"Read and write\", save, then regenerate the Access Token and Secret (Keys and tokens) and set "
                  "NOTECAST_X_ACCESS_TOKEN and NOTECAST_X_ACCESS_SECRET to the new ones: a token keeps the permission "
                  "the app had when it was generated")
CREATE_HINT = ("X may have made the post anyway, so notecast did not send it again; the next run sends it, and if X "
               "answers that it is a duplicate, notecast finds the post already made")
_TCO = re.compile(r"https?://t\.co/\w+")  # how X shows every link


class XPublisher:
    """Publishes to one X account through the ``requests.Session`` it is given."""

    platform = "x"

    def __init__(self, session, settings: Mapping[str, str], clock: Clock = SYSTEM):
        self.session = session
        self.clock = clock
        self.api = (settings.get("api") or API).strip().rstrip("/")
        from requests_oauthlib import OAuth1  # 0.2 s to import: only a run that posts to X pays it

        self.auth = OAuth1(settings.get("api_key") or "", client_secret=settings.get("api_secret") or "",
                           resource_owner_key=settings.get("access_token") or "",
                           resource_owner_secret=settings.get("access_secret") or "",
                           decoding=None)  # keep headers str: oauthlib would turn every header into bytes
        self._me = ""  # the account's user id, once looked up
        self._dry_ids = itertools.count(1)

    # ---- the protocol -------------------------------------------------------

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Upload the part's images, then post it (as a reply to ``parent`` if given).

        If X refuses the text as a duplicate, the post an earlier attempt made is looked up and returned.
        """
        body: dict[str, Any] = {"text": part.text}
        if parent is not None:
            body["reply"] = {"in_reply_to_tweet_id": parent.id}
        media_ids = [self._upload(media) for media in part.media]
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        try:
            response = self._call("POST", "/2/tweets", retry_safe=False, json=body, hint=self._create_hint)
        except Rejected as exc:
            if not _duplicate(exc):
                raise
            why = f"{_which(part)} was refused by X as a duplicate of a post already on the account"
            found = self._find(part, parent, why)
            if found is not None:
                return found
            where = f"as a reply to {parent.id}" if parent else "as a post of its own"
            raise Unknown(f"{why}, and none of the account's latest {PAGE} posts has that text {where}; if the "
                          "post is there, record it with `notecast resolve --platform x --sent URL`; if an older "
                          "post has the same text, change the note so X accepts it") from None
        return self._receipt(self._data(response, "/2/tweets"))

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """Look through the account's latest tweets for this one: X cannot replay a request."""
        return self._find(part, parent, f"{_which(part)} may already be on X: the run stopped while sending it")

    def discover(self) -> dict[str, str]:
        """Nothing to ask before planning."""
        return {}

    def health(self) -> list[Finding]:
        """Whom the credentials sign in as (``GET /2/users/me``), and whether the token may post."""
        response = self._call("GET", "/2/users/me", retry_safe=True)
        me = self._data(response, "/2/users/me")
        who = f"@{me['username']}" if isinstance(me.get("username"), str) else f"user {me.get('id', '?')}"
        level = (response.headers.get("x-access-level") or "").strip().lower()
        if level in WRITE_LEVELS:
            return [Finding(self.platform, "ok", f"signed in as {who}; the token may post ({level})")]
        if level == "read":
            return [Finding(self.platform, "error", f"signed in as {who}, but the access token is read-only: it was "
                            "generated while the app could only read, and X refuses every post", READ_ONLY_HINT)]
        if level:
            return [Finding(self.platform, "warning", f"signed in as {who}, but X gave the token an access level "
                            f"notecast does not know ({level!r})", "if posts are refused with 403, " + READ_ONLY_HINT)]
        return [Finding(self.platform, "warning", f"signed in as {who}, but X did not say whether the token may post "
                        "(no x-access-level header)", "if posts are refused with 403, " + READ_ONLY_HINT)]

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """Plausible answers from the X API v2, for dry runs."""
        path = urlsplit(url).path
        body = body if isinstance(body, dict) else {}
        if method == "POST" and path == "/2/media/upload":
            media_id = str(1990000000000000000 + next(self._dry_ids))
            return 200, {}, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": 0,
                                      "expires_after_secs": 86400, "image": {"image_type": "image/png"}}}
        if method == "POST" and path == "/2/media/metadata":
            return 200, {}, {"data": {"id": str(body.get("id", "")),
                                      "associated_metadata": body.get("metadata") or {}}}
        if method == "POST" and path == "/2/tweets":
            tweet_id = str(1995000000000000000 + next(self._dry_ids))
            return 201, {}, {"data": {"id": tweet_id, "text": str(body.get("text", "")),
                                      "edit_history_tweet_ids": [tweet_id]}}
        if method == "GET" and path == "/2/users/me":
            return 200, {}, {"data": {"id": "1", "name": "User", "username": "user"}}
        if method == "GET" and re.fullmatch(r"/2/users/\w+/tweets", path):
            return 200, {}, {"meta": {"result_count": 0}}
        return 404, {}, {"title": "Not Found Error", "detail": f"Could not find {path}", "type": "about:blank",
                         "status": 404}

    # ---- helpers ------------------------------------------------------------

    def _call(self, method: str, path: str, *, retry_safe: bool, hint=None, **kwargs):
        return http.request(self.session, method, self.api + path, retry_safe=retry_safe, describe=_describe,
                            hint=hint or self._hint, auth=self.auth, **kwargs)

    def _hint(self, status: int) -> str:
        if status == 401:
            return CREDENTIALS_HINT
        if status == 403:
            return PERMISSION_HINT
        if status == 429:
            return "X's rate limit was reached; the next run continues"
        if status >= 500:
            return "X is having trouble; the next run tries again"
        if status == 400:
            return "X refused the request as written; change the note and publish again"
        return ""

    def _create_hint(self, status: int) -> str:
        if status == 429:
            return "X's rate limit for posting was reached (about 200 posts per 15 minutes); the next run continues"
        return CREATE_HINT if status >= 500 else self._hint(status)

    def _upload(self, media) -> str:
        """Upload one image and set its alt text; its media id."""
        upload = media.prepare(IMAGE_BYTES, "X")
        response = self._call("POST", "/2/media/upload", retry_safe=True, timeout=120,
                              files={"media": (upload.name, upload.data, upload.mime)}, data={"media_category": "tweet_image"})
        media_id = str(self._data(response, "/2/media/upload").get("id") or "")
        if not media_id:
            raise Retryable(f"POST /2/media/upload answered {response.status_code} without a media id",
                            hint="the next run uploads the image again")
        if media.alt:
            self._call("POST", "/2/media/metadata", retry_safe=True,
                       json={"id": media_id, "metadata": {"alt_text": {"text": media.alt}}})
        return media_id

    def _find(self, part: Part, parent: Receipt | None, why: str) -> Receipt | None:
        """The post with the part's text and parent among the account's latest; None if surely not made."""
        created = part.created if part.created.tzinfo else part.created.replace(tzinfo=timezone.utc)
        since = created - CLOCK_SKEW
        try:
            tweets, complete = self._latest()
        except PublishError as exc:
            raise Unknown(f"{why}, and notecast could not look ({exc.message}); check the account, then record "
                          "what you find with `notecast resolve`") from None
        replying_to = parent.id if parent is not None else None
        siblings = [t for t in tweets if _parent(t) == replying_to]
        matches = [t for t in siblings if _same_text(str(t.get("text") or ""), part)]
        if matches:
            return self._receipt(matches[-1])  # newest first: the oldest copy is the one to keep
        if not complete and all((http.timestamp(t.get("created_at")) or since) >= since for t in tweets):
            raise Unknown(f"{why}, and the account posted more than {PAGE} times since, too many to check; check "
                          "the account, then record what you find with `notecast resolve`")
        if any((http.timestamp(t.get("created_at")) or since) >= since for t in siblings):
            raise Unknown(f"{why}, and a {'reply' if parent else 'post'} made since does not quite match; check "
                          "the account, then record what you find with `notecast resolve`")
        return None

    def _latest(self) -> tuple[list[dict], bool]:
        """The account's latest tweets, newest first, and whether they are all it has."""
        if not self._me:
            me = self._data(self._call("GET", "/2/users/me", retry_safe=True), "/2/users/me")
            if not isinstance(me.get("id"), str) or not me["id"]:
                raise Retryable("GET /2/users/me answered without a user id")
            self._me = me["id"]
        path = f"/2/users/{self._me}/tweets"
        response = self._call("GET", path, retry_safe=True,
                              params={"max_results": PAGE, "exclude": "retweets", "tweet.fields": TWEET_FIELDS})
        answer = http.answer(response)
        if not isinstance(answer, dict) or not isinstance(answer.get("data", []), list):
            raise Retryable(f"GET {path} answered with something other than a list of posts")
        meta = answer.get("meta") if isinstance(answer.get("meta"), dict) else {}
        tweets = [t for t in answer.get("data", []) if isinstance(t, dict)]
        return tweets, not meta.get("next_token")

    def _data(self, response, path: str) -> dict:
        answer = http.answer(response)
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise Retryable(f"{path} answered {response.status_code} without a data object",
                            hint="the next run tries again", status=response.status_code)
        return data

    def _receipt(self, tweet: dict) -> Receipt:
        if not tweet.get("id"):
            raise Retryable("POST /2/tweets answered without a post id", hint="the next run tries again")
        return Receipt(id=str(tweet["id"]), url=f"https://x.com/i/web/status/{tweet['id']}")


def _describe(response) -> str:
    """X's error text: a problem ``detail`` (or ``title``), plus each ``errors[].message``."""
    answer = http.answer(response)
    if not isinstance(answer, dict):
        return response.text[:300].strip() or response.reason or ""
    said = [answer[k] for k in ("detail", "title") if isinstance(answer.get(k), str)][:1]
    for error in answer.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"] not in said:
            said.append(error["message"])
    return "; ".join(said) or str(answer)[:300]


def _duplicate(exc: PublishError) -> bool:
    return exc.status == 403 and DUPLICATE in exc.message.lower()


def _which(part: Part) -> str:
    return f"{part.note}: post {part.index + 1} of {part.count}"


def _parent(tweet: dict) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            return str(ref.get("id"))
    return None


def _same_text(posted: str, part: Part) -> bool:
    """Whether X's text of a post is the part's text: X links every URL through t.co, escapes
    ``& < >``, and ends the text of a post with images with one more t.co link."""
    ours = unicodedata.normalize("NFC", part.text)
    for start, end in reversed(extract_urls(ours)):
        ours = ours[:start] + "\x00" + ours[end:]
    theirs = _TCO.sub("\x00", unicodedata.normalize("NFC", html.unescape(posted)))
    ours, theirs = " ".join(ours.split()), " ".join(theirs.split())
    return theirs == ours or (bool(part.media) and theirs == f"{ours} \x00")
