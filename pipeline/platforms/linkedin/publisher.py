"""LinkedIn: post to a member's or an organization's feed, with images and alt text.

Endpoints, relative to the ``api`` setting (https://api.linkedin.com), each with
``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``:

- ``POST /rest/images?action=initializeUpload`` (``{"initializeUploadRequest": {"owner": author}}``),
  answering ``{"value": {"uploadUrl", "image", "uploadUrlExpiresAt"}}``; then ``PUT`` the bytes
  to ``uploadUrl``.
- ``POST /rest/posts`` (JSON ``author``, ``commentary`` in the little text format, ``visibility``,
  ``distribution``, ``content.media`` for one image or ``content.multiImage`` for 2 to 20, or
  ``content.article`` for a link card, ``lifecycleState``, ``isReshareDisabledByAuthor``), answering
  201 with an empty body and the post's URN in the ``x-restli-id`` header.

Link cards: LinkedIn does not read the page a post links to ("Article Post API does not support url
scraping … API partners need to set article fields such as thumbnail, title and description within
the post", https://learn.microsoft.com/en-us/linkedin/marketing/integrations/ads/advertising-targeting/version/article-ads-integrations).
So a card is ``content.article = {source, title, description, thumbnail}``, ``thumbnail`` an image URN
from the Images API (the same upload as a post's image). The field names are those of the Posts API's
article content, as other clients send them; ``thumbnailAltText`` is left out (unverified here). A
post has one ``content``: images win over a card, and a card whose thumbnail cannot be uploaded goes
without it.
- ``GET /rest/posts?author=…&q=author`` (the "find posts by authors" finder) to look for a post
  that may already exist (recover, and after a duplicate refusal). Reading needs
  ``r_member_social`` (granted only to approved apps) or, for a Page, ``r_organization_social``.
- ``GET /v2/userinfo`` (OpenID Connect, scopes ``openid profile``; unversioned) for ``health``: its
  ``sub`` is the member the token belongs to, ``urn:li:person:<sub>``. A token without those scopes
  gets 403 (documented: the scopes are "required"; the exact status is unverified).
- ``POST https://www.linkedin.com/oauth/v2/introspectToken`` (form ``client_id``, ``client_secret``,
  ``token``), answering ``active``, ``status`` (active, expired, revoked), ``expires_at`` (epoch
  seconds) and ``scope`` (comma-separated), for ``health`` when the app's client id and secret are
  given (learn.microsoft.com/en-us/linkedin/shared/authentication/token-introspection).

Idempotency: none. A post POST that fails with 5xx or a broken connection may
have made the post, so it is never retried within a run; ``recover`` looks
through the author's latest posts for one with the same commentary and says
``Unknown`` when it cannot look or cannot be sure. LinkedIn refuses identical
text with 422 DUPLICATE_POST and names the post it duplicates. Image uploads
are retried: a repeated one only leaves an unused image. LinkedIn has no
threads, so ``root`` and ``parent`` are always None here.
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

from ... import http
from ...clock import SYSTEM, Clock
from ...errors import PublishError, Rejected, Retryable, Unknown
from ...publisher import EXPIRY_NOTICE, Finding, Part, Receipt
from .rules import AUTHOR

API = "https://api.linkedin.com"
INTROSPECT = "https://www.linkedin.com/oauth/v2/introspectToken"
RESTLI = "2.0.0"  # X-Restli-Protocol-Version
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")  # what the Images API takes
PAGE = 20  # posts read when looking for one (the finder's count)
CLOCK_SKEW = timedelta(minutes=10)  # our clock against LinkedIn's, when looking back
TOKEN_HINT = ("the access token is invalid or expired (LinkedIn tokens last 60 days, and only approved partners "
              "get refresh tokens): get a new one through your app's OAuth flow in the LinkedIn developer portal "
              "(https://www.linkedin.com/developers/tools/oauth, scope w_member_social, or w_organization_social "
              "for a Page), then set NOTECAST_LINKEDIN_TOKEN")
PERMISSION_HINT = ("the token may not post as this author: posting as yourself needs the w_member_social scope "
                   "(product \"Share on LinkedIn\"); posting as a Page needs w_organization_social and an admin role "
                   "on the Page; check NOTECAST_LINKEDIN_AUTHOR too")
CREATE_HINT = ("LinkedIn may have made the post anyway, so notecast did not send it again; the next run looks for "
               "it before sending")
_HASHTAG = re.compile(r"\{hashtag\|\\?#\|([^}]*)\}")  # how LinkedIn may give back a hashtag
_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")
_VERSION = re.compile(r"NONEXISTENT_VERSION|VERSION_MISSING|INVALID_VERSION|[Rr]equested version \d+ is not active")


class LinkedInPublisher:
    """Publishes as one LinkedIn member or organization through the ``requests.Session`` it is given."""

    platform = "linkedin"

    def __init__(self, session, settings: Mapping[str, str], clock: Clock = SYSTEM):
        self.session = session
        self.clock = clock
        self.api = (settings.get("api") or API).strip().rstrip("/")
        self.author = (settings.get("author") or "").strip()
        self.token = settings.get("token") or ""
        self.version = (settings.get("version") or "").strip()
        self.client_id = (settings.get("client_id") or "").strip()
        self.client_secret = settings.get("client_secret") or ""
        self._dry_ids = itertools.count(1)

    # ---- the protocol -------------------------------------------------------

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Upload the part's images, then post it.

        If LinkedIn refuses the text as a duplicate of a post made since the first attempt, that post is returned.
        """
        self._check_author()
        images = [self._upload(media) for media in part.media]
        body: dict[str, Any] = {
            "author": self.author, "commentary": part.text, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
        if len(images) == 1:
            body["content"] = {"media": images[0]}
        elif images:
            body["content"] = {"multiImage": {"images": images}}
        elif part.card:
            body["content"] = {"article": self._article(part.card)}
        try:
            response = self._call("POST", "/rest/posts", retry_safe=False, json=body, hint=self._create_hint)
        except Rejected as exc:
            urn = _duplicate_of(exc)
            if urn is None:
                raise
            return self._duplicate(part, urn)
        answer = http.answer(response)
        urn = response.headers.get("x-restli-id") or str((answer if isinstance(answer, dict) else {}).get("id") or "")
        if not urn:
            raise Unknown(f"{_which(part)}: LinkedIn answered {response.status_code} without the post's id "
                          f"(x-restli-id), so the post was probably made; {self._check(part)}")
        return _receipt(urn)

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """Look through the author's latest posts for this one: LinkedIn cannot replay a request."""
        why = f"{_which(part)} may already be on LinkedIn: the run stopped while sending it"
        since = _aware(part.created) - CLOCK_SKEW
        posts, seen_all = self._look(part, why, since)
        recent = [p for p in posts if (_time(p.get("createdAt")) or since) >= since]
        ours = _plain(part.text)
        matches = [p for p in recent if _plain(p.get("commentary")) == ours and p.get("id")]
        if matches:
            return _receipt(str(matches[-1]["id"]))  # newest first: the oldest copy is the one to keep
        if not seen_all:
            raise Unknown(f"{why}, and the author posted more than {len(posts)} times since, too many to check; "
                          f"{self._check(part)}")
        if recent:
            raise Unknown(f"{why}, and a post made since does not quite match; {self._check(part)}")
        return None

    def discover(self) -> dict[str, str]:
        """Nothing to ask before planning."""
        return {}

    def health(self) -> list[Finding]:
        """Whom the token belongs to (``/v2/userinfo``), and, given the app's client id and secret, when it expires."""
        found = [self._whoami()]
        if self.client_id and self.client_secret:
            found.append(self._introspect())
        return found

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """Plausible answers from LinkedIn's versioned REST API, for dry runs."""
        parts = urlsplit(url)
        n = next(self._dry_ids)
        if method == "POST" and parts.path == "/rest/images" and "action=initializeUpload" in parts.query:
            asset = f"D4E10AQDryRun{n:06d}"
            return 200, {"x-restli-protocol-version": RESTLI}, {"value": {
                "uploadUrlExpiresAt": int(self.clock.now().timestamp() * 1000) + 86_400_000,
                "uploadUrl": f"https://www.linkedin.com/dms-uploads/sp/v2/{asset}/uploaded-image/0?ca=vector_feedshare"
                             "&cn=uploads&sync=0&v=beta",
                "image": f"urn:li:image:{asset}"}}
        if method == "PUT" and parts.path.startswith("/dms-uploads/"):
            return 201, {}, None
        if method == "POST" and parts.path == "/rest/posts":
            urn = f"urn:li:share:{7400000000000000000 + n}"
            return 201, {"x-restli-id": urn, "x-restli-protocol-version": RESTLI}, None
        if method == "GET" and parts.path == "/rest/posts":
            return 200, {}, {"paging": {"start": 0, "count": PAGE, "links": [], "total": 0}, "elements": []}
        return 404, {}, {"status": 404, "code": "NOT_FOUND", "message": f"No virtual resource found for {parts.path}"}

    # ---- helpers ------------------------------------------------------------

    def _call(self, method: str, path: str, *, retry_safe: bool, hint=None, headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", "LinkedIn-Version": self.version,
                   "X-Restli-Protocol-Version": RESTLI, **(headers or {})}
        try:
            return http.request(self.session, method, self.api + path, retry_safe=retry_safe, describe=_describe,
                                hint=hint or self._hint, headers=headers, **kwargs)
        except Rejected as exc:
            if exc.status == 426 or not _VERSION.search(exc.message):
                raise
            raise Rejected(exc.message, hint=self._version_hint(), status=exc.status) from None

    def _hint(self, status: int) -> str:
        if status == 401:
            return TOKEN_HINT
        if status == 403:
            return PERMISSION_HINT
        if status == 426:
            return self._version_hint()
        if status == 429:
            return "LinkedIn's daily limit was reached (it resets at midnight UTC); the next run continues"
        if status >= 500:
            return "LinkedIn is having trouble; the next run tries again"
        if status in (400, 422):
            return "LinkedIn refused the post as written; change the note and publish again"
        if status == 404:
            return f"check the linkedin api setting ({self.api})"
        return ""

    def _create_hint(self, status: int) -> str:
        return CREATE_HINT if status >= 500 else self._hint(status)

    def _version_hint(self) -> str:
        return (f"LinkedIn does not serve API version {self.version or '(none)'} (a version is retired about a year "
                "after its release): set NOTECAST_LINKEDIN_VERSION, or version in [platforms.linkedin], to a recent "
                "month as YYYYMM")

    def _whoami(self) -> Finding:
        """The token's member from ``GET /v2/userinfo``, against the configured author."""
        try:
            response = http.request(self.session, "GET", self.api + "/v2/userinfo", retry_safe=True,
                                    describe=_describe, hint=self._hint,
                                    headers={"Authorization": f"Bearer {self.token}"})
        except Rejected as exc:
            if exc.status != 403:
                raise
            return Finding(self.platform, "warning", "the token is accepted, but it may not read who it belongs to "
                           f"(GET /v2/userinfo answered 403), so the author {self.author} was not checked",
                           "add the product \"Sign In with LinkedIn using OpenID Connect\" to your app and make the "
                           "token with the scopes openid profile w_member_social")
        sub = http.json_object(response, "GET /v2/userinfo").get("sub")
        if not isinstance(sub, str) or not sub:
            return Finding(self.platform, "warning", "GET /v2/userinfo answered without a sub, so the author "
                           f"{self.author} was not checked", "check the token with the Token Inspector in LinkedIn's "
                           "developer portal (Docs and tools → OAuth Token Tools)")
        member = f"urn:li:person:{sub}"
        if ":organization:" in self.author:
            return Finding(self.platform, "ok", f"the token works and belongs to {member}; the author "
                           f"{self.author} is a Page, whose admin rights cannot be checked this way")
        if member != self.author:
            return Finding(self.platform, "error", f"the token belongs to {member}, not to the author {self.author}",
                           f"set NOTECAST_LINKEDIN_AUTHOR to {member}, or make a token as {self.author}")
        return Finding(self.platform, "ok", f"the token works and belongs to the author {member}")

    def _introspect(self) -> Finding:
        """When the token expires and what it may do, from LinkedIn's token introspection."""
        try:
            response = http.request(self.session, "POST", INTROSPECT, retry_safe=True, describe=_describe,
                                    data={"client_id": self.client_id, "client_secret": self.client_secret,
                                          "token": self.token})
            answer = http.json_object(response, "POST /oauth/v2/introspectToken")
        except PublishError as exc:
            return Finding(self.platform, "warning", f"LinkedIn would not say when the token expires ({exc.message})",
                           "check NOTECAST_LINKEDIN_CLIENT_ID and NOTECAST_LINKEDIN_CLIENT_SECRET (your app's Auth "
                           "tab), or unset them and set NOTECAST_LINKEDIN_TOKEN_EXPIRES instead")
        if answer.get("active") is not True:
            return Finding(self.platform, "error", f"LinkedIn says the token is {answer.get('status') or 'not active'}",
                           TOKEN_HINT)
        needed = "w_organization_social" if ":organization:" in self.author else "w_member_social"
        scopes = [s.strip() for s in str(answer.get("scope") or "").replace(" ", ",").split(",") if s.strip()]
        if scopes and needed not in scopes:
            return Finding(self.platform, "error", f"the token may not post: its scopes are {', '.join(scopes)}, "
                           f"without {needed}", PERMISSION_HINT)
        expires = _time((answer.get("expires_at") or 0) * 1000) if isinstance(answer.get("expires_at"), int) else None
        if expires is None:
            return Finding(self.platform, "ok", "LinkedIn says the token is active (it did not say until when)")
        left = expires - self.clock.now()
        when = f"{expires:%Y-%m-%d %H:%M} UTC"
        if left.total_seconds() <= 0:
            return Finding(self.platform, "error", f"the token expired on {when}", TOKEN_HINT)
        if left <= EXPIRY_NOTICE:
            return Finding(self.platform, "warning", f"the token expires on {when}, in {left.days} day(s)", TOKEN_HINT)
        return Finding(self.platform, "ok", f"the token is active until {when}, in {left.days} days")

    def _check_author(self) -> None:
        if not AUTHOR.fullmatch(self.author):
            raise Rejected(f"the linkedin author setting {self.author or '(empty)'!r} is not urn:li:person:… or "
                           "urn:li:organization:…",
                           hint="set NOTECAST_LINKEDIN_AUTHOR to urn:li:person:<id> (the sub of GET "
                                "https://api.linkedin.com/v2/userinfo with the same token) or "
                                "urn:li:organization:<Page id>")

    def _article(self, card) -> dict[str, str]:
        """A link card as the Posts API's article content; its thumbnail uploaded if it has one."""
        article = {"source": card.uri, "title": card.title}
        if card.description:
            article["description"] = card.description
        if card.thumb:
            try:
                article["thumbnail"] = self._upload_bytes(card.thumb.data, card.thumb.mime)
            except PublishError:  # the post never fails because of its card: it goes without the image
                pass
        return article

    def _upload(self, media) -> dict[str, str]:
        """Upload one image; the post's reference to it, with its alt text."""
        data, mime = _image(media)
        image = self._upload_bytes(data, mime)
        return {"id": image, "altText": media.alt} if media.alt else {"id": image}

    def _upload_bytes(self, data: bytes, mime: str) -> str:
        """Upload an image's bytes through the Images API; its URN."""
        response = self._call("POST", "/rest/images?action=initializeUpload", retry_safe=True,
                              json={"initializeUploadRequest": {"owner": self.author}})
        answer = http.answer(response)
        value = answer.get("value") if isinstance(answer, dict) else None
        value = value if isinstance(value, dict) else {}
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not isinstance(image, str) or not upload_url or not image:
            raise Retryable(f"POST /rest/images answered {response.status_code} without an uploadUrl and image",
                            hint="the next run uploads the image again", status=response.status_code)
        headers = {"Content-Type": mime}
        if _linkedin_host(upload_url, self.api):  # the token goes to LinkedIn only
            headers["Authorization"] = f"Bearer {self.token}"
        http.request(self.session, "PUT", upload_url, retry_safe=True, describe=_describe, hint=self._hint,
                     headers=headers, data=data, timeout=120)
        return image

    def _look(self, part: Part, why: str, since: datetime) -> tuple[list[dict], bool]:
        """The author's latest posts, newest first, and whether they reach back to ``since``; Unknown if it cannot."""
        try:
            response = self._call("GET", "/rest/posts", retry_safe=True, headers={"X-RestLi-Method": "FINDER"},
                                  params=[("author", self.author), ("q", "author"), ("count", str(PAGE)),
                                          ("sortBy", "LAST_MODIFIED")])
            answer = http.answer(response)
            if not isinstance(answer, dict) or not isinstance(answer.get("elements"), list):
                raise Retryable("GET /rest/posts answered with something other than a list of posts")
        except PublishError as exc:
            scope = (" (reading posts back needs the r_member_social scope, which LinkedIn gives only to approved "
                     "apps, or r_organization_social for a Page)" if exc.status == 403 else "")
            raise Unknown(f"{why}, and notecast could not look ({exc.message}){scope}; {self._check(part)}") from None
        posts = [p for p in answer["elements"] if isinstance(p, dict)]
        paging = answer.get("paging") if isinstance(answer.get("paging"), dict) else {}
        total = paging.get("total")
        complete = len(posts) < PAGE or (isinstance(total, int) and total <= len(posts))
        # sorted by last modification, newest first: one post older than ``since`` means none made since is missing
        older = any((_time(p.get("lastModifiedAt") or p.get("createdAt")) or since) < since for p in posts)
        return posts, complete or older

    def _duplicate(self, part: Part, urn: str) -> Receipt:
        """LinkedIn refused the text as a duplicate of ``urn``: that post if made since the first attempt."""
        url = _receipt(urn).url
        why = f"{_which(part)} was refused by LinkedIn as a duplicate of {url}"
        since = _aware(part.created) - CLOCK_SKEW
        try:
            posts, _ = self._look(part, why, since)
        except Unknown:
            posts = []
        for post in posts:
            if post.get("id") == urn and (_time(post.get("createdAt")) or since) >= since:
                return _receipt(urn)
        raise Unknown(f"{why}; if that is this note's post, record it with `notecast resolve {part.note} "
                      f"--platform linkedin --sent {url}`; if it is an older post with the same text, change the "
                      "note so LinkedIn accepts it")

    def _check(self, part: Part) -> str:
        where = ("the Page's posts (Page admin view → Posts)" if ":organization:" in self.author
                 else "your LinkedIn activity (Me → Posts & Activity)")
        return (f"check {where}, then record what you find: `notecast resolve {part.note} --platform linkedin "
                "--sent URL` if the post is there (URL from its ⋯ menu → Copy link to post), or `notecast resolve "
                f"{part.note} --platform linkedin --not-sent` if it is not")


def _receipt(urn: str) -> Receipt:
    return Receipt(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


def _describe(response) -> str:
    """LinkedIn's error text: ``message``, plus its ``code`` and each input error's code."""
    answer = http.answer(response)
    if not isinstance(answer, dict):
        return response.text[:300].strip() or response.reason or ""
    message = answer.get("message") if isinstance(answer.get("message"), str) else ""
    codes = [answer["code"]] if isinstance(answer.get("code"), str) else []
    details = answer.get("errorDetails") if isinstance(answer.get("errorDetails"), dict) else {}
    for error in details.get("inputErrors") or []:
        if isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"] not in codes:
            codes.append(error["code"])
    codes = [c for c in codes if c not in message]
    if message and codes:
        return f"{message} ({', '.join(codes)})"
    return message or ", ".join(codes) or str(answer)[:300]


def _duplicate_of(exc: PublishError) -> str | None:
    """The post LinkedIn says this one duplicates, from a 422 DUPLICATE_POST."""
    if exc.status != 422 or "duplicate" not in exc.message.lower():
        return None
    found = _URN.search(exc.message)
    return found.group(0) if found else None


def _which(part: Part) -> str:
    return f"{part.note}: the post"


def _plain(text: Any) -> str:
    """Little text as its words: hashtag templates as #word, escapes undone, spaces collapsed."""
    text = _HASHTAG.sub(r"#\1", str(text or ""))
    return " ".join(re.sub(r"\\(.)", r"\1", text, flags=re.S).split())


def _linkedin_host(url: str, api: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == (urlsplit(api).hostname or "").lower() or host == "linkedin.com" or host.endswith(".linkedin.com")


def _image(media) -> tuple[bytes, str]:
    """The bytes and type to upload; JPG, GIF and PNG only."""
    if media.mime not in IMAGE_TYPES:
        raise Rejected(f"{media.path.as_posix()}: LinkedIn takes JPG, GIF and PNG images, not {media.mime}",
                       hint="convert the image, or remove it from the note")
    return media.read(), media.mime



def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _time(value: Any) -> datetime | None:
    """LinkedIn's times are epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
