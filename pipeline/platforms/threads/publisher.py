"""Threads: publish posts (and threads of replies) as two-step media containers.

Endpoints (https://developers.facebook.com/docs/threads/posts,
https://developers.facebook.com/docs/threads/reference/publishing), relative to
``{api}/v1.0``, each with the ``access_token`` parameter (a form field on POST, a query
parameter on GET: the way every example in Meta's documentation sends it; whether the API
also takes an ``Authorization: Bearer`` header is unverified, so we do not rely on it):

- ``POST /{user-id}/threads`` (``media_type`` TEXT or IMAGE, ``text``, ``image_url``,
  ``alt_text``, ``reply_to_id``): a media container, ``{"id": …}``. ``reply_to_id`` is the
  previous post's id (https://developers.facebook.com/docs/threads/retrieve-and-manage-replies/create-replies).
- ``GET /{container-id}?fields=status,error_message``: IN_PROGRESS, FINISHED, ERROR, EXPIRED
  (not published within 24 h) or PUBLISHED (https://developers.facebook.com/docs/threads/troubleshooting).
- ``POST /{user-id}/threads_publish`` (``creation_id``): the post, ``{"id": …}``. Limited to
  250 posts per 24 h (https://developers.facebook.com/docs/threads/overview).
- ``GET /{media-id}?fields=permalink``: the post's web address.
- ``GET /{user-id}/threads`` and ``GET /{media-id}/replies`` (``threads_read_replies``):
  to look for a post an interrupted run published (recover).

Never twice: a post exists only once its container is published, and the container id is in
the ledger (a :class:`Progress`, written before anything else is sent) before it is. So after
a crash: no container recorded means no post; a recorded container that is FINISHED (or
still IN_PROGRESS) is published now, not made again; ERROR or EXPIRED was never published,
so a new container is made; PUBLISHED means the post exists, and it is looked up by its text
among the account's posts (or the parent's replies). A container made but never recorded
is never published and expires after 24 h.

Unverified: the error shape (Graph API's ``{"error": {"message", "code", …}}`` is assumed,
with its codes 190 for an expired token, 4/17/32/341/613 for throttling, 10 and 200-299 for a
missing permission, https://developers.facebook.com/docs/graph-api/guides/error-handling);
what ``threads_publish`` answers when the 250 posts are used up (we treat a 429 and the
throttling codes alike); whether publishing a PUBLISHED container again is refused.
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Mapping
from urllib.parse import parse_qs, quote, urlsplit

from ... import http
from ...clock import SYSTEM, Clock
from ...errors import PublishError, Rejected, Retryable, Unknown
from ...publisher import Finding, Part, Progress, Receipt

VERSION = "v1.0"
WAITS = (5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0)  # Meta: check about once a minute, for 5 minutes at most
PAGE = 50  # latest posts looked through for an interrupted one (replies: the first page of the parent's)
THROTTLED = {4, 17, 32, 341, 613}
PERMISSION = {10, *range(200, 300)}
TOKEN_HINT = ("the token is invalid or expired (Threads tokens last 60 days): get a long-lived token with "
              "threads_basic and threads_content_publish, or refresh it (see the README, Threads), then set "
              "NOTECAST_THREADS_TOKEN")
RATE_HINT = ("Threads' rate limit was reached (250 posts per 24 hours, and calls per app and user); "
             "the next run continues where this one stopped")


class ThreadsPublisher:
    """Publishes to one Threads profile through the ``requests.Session`` it is given."""

    platform = "threads"

    def __init__(self, session, settings: Mapping[str, str], clock: Clock = SYSTEM):
        self.session = session
        self.clock = clock
        self.user = (settings.get("user_id") or "").strip()
        self.token = settings.get("token") or ""
        self.media_base_url = (settings.get("media_base_url") or "").strip()
        self.api = (settings.get("api") or "https://graph.threads.net").rstrip("/")
        self._made: set[str] = set()  # containers this run created: an ERROR in one of them is the note's fault
        self._dry_ids = itertools.count(1)
        self._dry_published: set[str] = set()

    # ---- the protocol -------------------------------------------------------

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | Progress:
        """Create the part's container (a Progress to record), or publish the recorded one once it is ready."""
        container = str(part.progress.get("container") or "")
        if not container:
            return Progress({"container": self._create(part, parent)})
        status, error = self._wait(container, part)
        if status == "PUBLISHED":  # an earlier run published it: never again
            return self._find(part, parent, container)
        if status == "EXPIRED" or (status == "ERROR" and container not in self._made):
            return Progress({"container": self._create(part, parent)})
        if status == "ERROR":
            raise Rejected(f"{_where(part)}: Threads could not prepare the post: {error or 'no reason given'}",
                           hint=_error_hint(error))
        if status != "FINISHED":
            raise Retryable(f"{_where(part)}: Threads was still preparing the post after {sum(WAITS):.0f} s",
                            hint="the next run publishes the same container, within 24 hours")
        response = self._call("POST", f"{self.user}/threads_publish", data={"creation_id": container},
                              retry_safe=False)
        post = str(http.json_object(response, "threads_publish").get("id") or "")
        if not post:
            raise Retryable("POST threads_publish answered without a post id", maybe_sent=True,
                            hint="the next run asks Threads whether the post was made")
        return Receipt(post, self._permalink(post), {"container": container})

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """Whether the recorded container was published: the post if so, None if it surely was not."""
        container = str(part.progress.get("container") or "")
        if not container:
            return None  # a container is published only after the ledger has its id: none was
        try:
            status, _ = self._status(container)
        except PublishError as exc:
            raise Unknown(f"{_where(part)} may be on Threads: notecast could not ask about container {container} "
                          f"({exc.message}); check the account, then run `notecast status`") from None
        if status == "PUBLISHED":
            return self._find(part, parent, container)
        if status in ("FINISHED", "IN_PROGRESS", "ERROR", "EXPIRED"):
            return None  # not published: publish() goes on from the container (or makes a new one)
        raise Unknown(f"{_where(part)}: Threads says container {container} is {status or 'in no known state'}; "
                      "check the account, then run `notecast status`")

    def discover(self) -> dict[str, str]:
        """Nothing: Threads' limits are fixed."""
        return {}

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """Plausible answers from the Threads API, for dry runs."""
        parts = urlsplit(url)
        path = parts.path.removeprefix(f"/{VERSION}/")
        fields = (parse_qs(parts.query).get("fields") or [""])[0]
        if method == "POST" and path.endswith("/threads"):
            container = str(17890000000000000 + next(self._dry_ids))
            return 200, {}, {"id": container}
        if method == "POST" and path.endswith("/threads_publish"):
            creation = str((body or {}).get("creation_id", "")) if isinstance(body, dict) else ""
            self._dry_published.add(creation)
            return 200, {}, {"id": str(18050000000000000 + next(self._dry_ids))}
        if method == "GET" and path.endswith(("/threads", "/replies")):
            return 200, {}, {"data": [], "paging": {}}
        if method == "GET" and "status" in fields:
            return 200, {}, {"id": path, "status": "PUBLISHED" if path in self._dry_published else "FINISHED"}
        if method == "GET" and "permalink" in fields:
            return 200, {}, {"id": path, "permalink": f"https://www.threads.net/@user/post/DRY{path[-6:]}"}
        return 404, {}, {"error": {"message": "Unsupported request", "type": "GraphMethodException", "code": 100}}

    # ---- helpers ------------------------------------------------------------

    def _create(self, part: Part, parent: Receipt | None) -> str:
        """A new media container for the part (a reply to ``parent`` if given): its id."""
        data = {"media_type": "TEXT", "text": part.text}
        if part.media and self.media_base_url:
            image = part.media[0]
            data.update(media_type="IMAGE", image_url=self._image_url(image.path.as_posix()), alt_text=image.alt)
        if parent is not None:
            data["reply_to_id"] = parent.id
        # A repeated create only leaves an unpublished container, which expires: safe to retry.
        response = self._call("POST", f"{self.user}/threads", data=data, retry_safe=True)
        container = str(http.json_object(response, "POST threads").get("id") or "")
        if not container:
            raise Retryable("POST threads answered without a container id", hint="the next run tries again")
        self._made.add(container)
        return container

    def _image_url(self, path: str) -> str:
        """Where Meta fetches an image: ``media_base_url`` joined with its path from the current folder."""
        if path.startswith("/") or path.startswith("../"):
            raise Rejected(f"{path}: the image is outside the current folder, so media_base_url cannot name it",
                           hint="run notecast from the root of your notes repository")
        return f"{self.media_base_url.rstrip('/')}/{quote(path)}"

    def _wait(self, container: str, part: Part) -> tuple[str, str]:
        """The container's status once it is no longer IN_PROGRESS (or the waits run out)."""
        status, error = self._status(container)
        for wait in WAITS:
            if status != "IN_PROGRESS":
                break
            http._sleep(wait)
            status, error = self._status(container)
        return status, error

    def _status(self, container: str) -> tuple[str, str]:
        answer = http.json_object(self._call("GET", container, params={"fields": "status,error_message"}),
                                  f"GET {container}")
        return str(answer.get("status") or ""), str(answer.get("error_message") or "")

    def _permalink(self, post: str) -> str:
        """The post's web address; empty if Threads does not say (the post is made either way)."""
        try:
            answer = http.answer(self._call("GET", post, params={"fields": "permalink"}, policy=http.ONCE))
        except PublishError:
            return ""
        return str(answer.get("permalink") or "") if isinstance(answer, dict) else ""

    def _find(self, part: Part, parent: Receipt | None, container: str) -> Receipt:
        """The post a PUBLISHED container became, by its text among the latest posts (or the parent's replies)."""
        where = f"{parent.id}/replies" if parent is not None else f"{self.user}/threads"
        def unsure(what: str) -> str:
            return (f"{_where(part)} is on Threads (container {container} is PUBLISHED) but notecast could not "
                    f"find it among the latest {what}; check the account, then record it with "
                    "`notecast resolve … --platform threads --sent URL`")

        params = ({"fields": "id,text,timestamp,permalink,is_reply_owned_by_me"} if parent is not None
                  else {"fields": "id,text,timestamp,permalink", "limit": str(PAGE)})
        try:
            answer = http.json_object(self._call("GET", where, params=params), f"GET {where}")
        except PublishError as exc:
            hint = " (replies need the threads_read_replies permission)" if parent is not None else ""
            raise Unknown(unsure(f"posts: {exc.message}{hint}")) from None
        posts = [p for p in answer.get("data") or [] if isinstance(p, dict)]
        wanted = " ".join(part.text.split())
        for post in reversed(posts):  # newest first: the oldest copy is the one to keep
            if " ".join(str(post.get("text") or "").split()) == wanted and post.get("is_reply_owned_by_me", True):
                return Receipt(str(post["id"]), str(post.get("permalink") or ""), {"container": container})
        raise Unknown(unsure("replies to the previous post" if parent is not None else "posts"))

    def health(self) -> list[Finding]:
        """Whom the token signs in as (``GET /me``), and that it is the configured user."""
        me = http.json_object(self._call("GET", "me", params={"fields": "id,username"}), "GET /me")
        who = f"@{me.get('username') or '?'} (user id {me.get('id')})"
        if self.user and str(me.get("id")) != self.user:
            return [Finding(self.platform, "error", f"the token signs in as {who}, not user_id {self.user}",
                            "set NOTECAST_THREADS_USER_ID to the id GET /me answers, or use that account's token")]
        return [Finding(self.platform, "ok", f"the token works and signs in as {who}; it lasts 60 days from when it "
                        "was made or refreshed", "refresh it monthly (see the README's Threads section)")]

    def _call(self, method: str, path: str, *, params=None, data=None, retry_safe: bool = True,
              policy: http.Policy = http.DEFAULT):
        """One request with the token as Meta's examples send it; Graph error codes turned into hints."""
        url = f"{self.api}/{VERSION}/{path}"
        auth = {"access_token": self.token}
        try:
            if method == "GET":
                return http.request(self.session, method, url, retry_safe=True, policy=policy, describe=_describe,
                                    hint=self._hint, params={**(params or {}), **auth})
            return http.request(self.session, method, url, retry_safe=retry_safe, policy=policy,
                                describe=_describe, hint=self._hint, data={**(data or {}), **auth})
        except Rejected as exc:
            code = _code(exc.message)
            if code in THROTTLED:
                raise Retryable(exc.message, hint=RATE_HINT, status=exc.status) from None
            if code == 190:
                raise Rejected(exc.message, hint=TOKEN_HINT, status=exc.status) from None
            if code in PERMISSION:
                raise Rejected(exc.message, status=exc.status, hint="the token lacks a permission; grant "
                               "threads_basic and threads_content_publish (and threads_read_replies), then "
                               "get a new token") from None
            raise

    def _hint(self, status: int) -> str:
        if status == 401:
            return TOKEN_HINT
        if status == 403:
            return "the token lacks a permission; grant threads_basic and threads_content_publish, then get a new token"
        if status == 404:
            return f"check the threads user_id setting ({self.user}): GET /me?fields=id with your token tells it"
        if status == 429:
            return RATE_HINT
        if status >= 500:
            return "Threads is having trouble; the next run asks before it sends anything again"
        return "Threads refused the post as written; change the note and publish again"


def _describe(response) -> str:
    """Graph API's error text: ``{"error": {"message", "code", "error_subcode", "error_user_msg"}}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason or ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(body)[:300]
    text = str(error.get("error_user_msg") or error.get("message") or "error")
    code = error.get("code")
    return f"{text} (code {code})" if isinstance(code, int) else text


def _code(message: str) -> int | None:
    found = re.search(r"\(code (\d+)\)$", message)
    return int(found.group(1)) if found else None


def _error_hint(error: str) -> str:
    if "DOWNLOAD" in error or "IMAGE" in error.upper():
        return "check that media_base_url serves the image publicly (JPEG or PNG, at most 8 MB), then publish again"
    return "change the note and publish again"


def _where(part: Part) -> str:
    return f"{part.note}: post {part.index + 1} of {part.count}"
