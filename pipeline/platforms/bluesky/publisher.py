"""Bluesky: create ``app.bsky.feed.post`` records (and threads of them) with images and alt text.

XRPC endpoints, relative to the ``service`` setting (your PDS, or https://bsky.social):

- ``com.atproto.server.createSession`` (handle + app password), once per run, on first use;
  ``com.atproto.server.refreshSession`` when the access token has expired (400 ExpiredToken or
  401), and a new session if the refresh token is refused too.
- ``com.atproto.repo.uploadBlob`` (the image's bytes, ``Content-Type`` its type), answering a blob
  reference for ``app.bsky.embed.images``, or for the thumb of a link card, ``app.bsky.embed.external``
  (``{uri, title, description, thumb}``: Bluesky's servers make no cards, the client does). A post has one
  embed: images win over a card. A card whose thumb cannot be uploaded goes without it.
- ``com.atproto.repo.createRecord`` with a record key (``rkey``) notecast chooses.
- ``com.atproto.repo.getRecord`` to look a post up by that key (recover, and after any failed create).
- ``health`` logs in once with ``createSession`` and no retry: Bluesky allows 30 logins per 5 minutes
  and 300 a day per account (docs.bsky.app/docs/advanced-guides/rate-limits; one report says the
  entryway counts 100 a day, bluesky-social/bsky-docs#183). Its answer carries ``active`` and, when
  false, ``status`` (takendown, suspended, deactivated), as ``getSession``'s lexicon describes.

Idempotency: the record key is a TID derived from the part itself (see :func:`record_key`), so a
post sent twice lands on the same key. The reference PDS refuses a second create of a key with a
bare 500, so creates are never retried blindly: after any failure (and in ``recover``) notecast
asks for the record under that key. Same text: the post was made, and its receipt is returned.
No record: the post was not made. Different text: someone else's post holds the key, and a
person must decide (``Unknown``). A repeated blob upload only leaves an unreferenced blob, which
the PDS deletes by itself.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from ... import http, secrets
from ...clock import SYSTEM, Clock, iso
from ...errors import PublishError, Rejected, Retryable, Unknown
from ...publisher import Finding, Part, Receipt

SERVICE = "https://bsky.social"
POST = "app.bsky.feed.post"
IMAGE_BYTES = 1_000_000  # the posts guide's limit per image (the lexicon now says 2 MB; older PDSes refuse more)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PASSWORD_HINT = ("Bluesky did not accept the handle and app password: create an app password (Settings → Privacy "
                 "and security → App passwords) and set NOTECAST_BLUESKY_APP_PASSWORD to it, and check that "
                 "NOTECAST_BLUESKY_HANDLE is your handle and NOTECAST_BLUESKY_SERVICE your PDS; never use your "
                 "account password")
SESSION_ERRORS = ("ExpiredToken", "InvalidToken")  # a 400 that means: log in again


def record_key(part: Part) -> str:
    """The part's record key: a TID that is the same every time the same part is sent.

    A TID is 64 bits, top bit 0, then 53 bits of microseconds since 1970 and 10 bits of "clock id",
    written as 13 base32-sortable characters. notecast uses the microseconds of ``part.created``
    (the first attempt's time, which the ledger keeps across runs, so the key stays plausible and
    a thread's keys sort in order) and takes the clock id from ``part.key`` (note, platform, index
    and content), so two parts made in the same microsecond still differ.
    """
    created = part.created if part.created.tzinfo else part.created.replace(tzinfo=timezone.utc)
    micros = (created - EPOCH) // _MICROSECOND
    value = ((micros & (2**53 - 1)) << 10) | (int(part.key[:8], 16) & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


class BlueskyPublisher:
    """Publishes to one Bluesky account through the ``requests.Session`` it is given."""

    platform = "bluesky"

    def __init__(self, session, settings: Mapping[str, str], clock: Clock = SYSTEM):
        self.session = session
        self.clock = clock
        service = (settings.get("service") or SERVICE).strip().rstrip("/")
        self.service = service if "://" in service else f"https://{service}"
        self.handle = (settings.get("handle") or "").strip().lstrip("@")
        self.password = settings.get("app_password") or ""
        self._auth: dict[str, Any] | None = None  # createSession's answer: accessJwt, refreshJwt, did, handle
        self._error = ""  # the XRPC error name of the last failed response
        self._dry_ids = itertools.count(1)
        self._dids: dict[str, str | None] = {}  # handle -> DID, resolved once per run

    # ---- the protocol -------------------------------------------------------

    def publish(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt:
        """Upload the part's images, then create the post under its own record key."""
        repo = self._did()  # log in first: a refused login is not a reason to look for the post
        record: dict[str, Any] = {"$type": POST, "text": part.text, "createdAt": iso(part.created, "milliseconds")}
        facets = [*(part.extra.get("facets") or ()), *self._mentions(part.extra.get("mentions") or ())]
        if facets:
            record["facets"] = sorted(facets, key=lambda f: f["index"]["byteStart"])
        if part.language:
            record["langs"] = [part.language]
        if part.media:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [self._upload(m) for m in part.media]}
        elif part.card:
            record["embed"] = {"$type": "app.bsky.embed.external", "external": self._external(part.card)}
        if parent is not None:
            record["reply"] = {"root": self._ref(root or parent), "parent": self._ref(parent)}
        rkey = record_key(part)
        try:
            response = self._xrpc("POST", "com.atproto.repo.createRecord", retry_safe=False, hint=self._create_hint,
                                  json={"repo": repo, "collection": POST, "rkey": rkey, "record": record})
        except PublishError as exc:  # carried out anyway? the record key says
            try:
                found = self._lookup(part, rkey)
            except PublishError:
                raise exc from None
            if found is None:
                raise
            return found
        answer = http.json_object(response, "com.atproto.repo.createRecord")
        return self._receipt(answer.get("uri"), answer.get("cid"))

    def recover(self, part: Part, *, root: Receipt | None, parent: Receipt | None) -> Receipt | None:
        """The post under the part's record key, if it was made."""
        self._login()
        try:
            return self._lookup(part, record_key(part))
        except PublishError as exc:
            raise Retryable(f"{_which(part)} may already be on Bluesky, and notecast could not look it up "
                            f"({exc.message})", hint="the next run looks again before sending it",
                            status=exc.status, maybe_sent=True) from None

    def discover(self) -> dict[str, str]:
        """Nothing to ask before planning."""
        return {}

    def health(self) -> list[Finding]:
        """Log in once (``createSession``, no retry: logins are rate-limited) and say whose account it is."""
        response = self._xrpc("POST", "com.atproto.server.createSession", retry_safe=True, auth=False,
                              policy=http.ONCE, hint=self._login_hint,
                              json={"identifier": self.handle, "password": self.password})
        self._adopt(http.json_object(response, "com.atproto.server.createSession"))
        who = f"@{self._auth.get('handle') or self.handle} on {self.service}"
        if self._auth.get("active") is False:
            status = self._auth.get("status") or "not active"
            return [Finding(self.platform, "error", f"signed in as {who}, but the account is {status}",
                            "sign in to Bluesky to see why (a deactivated account is reactivated by signing in); "
                            "nothing can be posted until it is active")]
        return [Finding(self.platform, "ok", f"signed in as {who} ({self._auth['did']})")]

    def dry_reply(self, method: str, url: str, body: Any) -> tuple[int, Mapping[str, str], Any]:
        """Plausible answers from a Bluesky PDS, for dry runs."""
        parts = urlsplit(url)
        nsid = parts.path.rsplit("/", 1)[-1]
        handle = self.handle or "you.bsky.social"
        did = "did:plc:" + _b32(hashlib.sha256(handle.encode()).digest())[:24]
        if nsid in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            n = next(self._dry_ids)
            return 200, {}, {"did": did, "handle": handle, "accessJwt": f"dry-run-access-jwt-{n}",
                             "refreshJwt": f"dry-run-refresh-jwt-{n}", "active": True}
        if nsid == "com.atproto.repo.uploadBlob":
            size = re.findall(r"([\d,]+) bytes, ([\w.+-]+/[\w.+-]+)>$", str(body))
            return 200, {}, {"blob": {"$type": "blob", "ref": {"$link": _cid(str(body).encode(), codec=0x55)},
                                      "mimeType": size[0][1] if size else "image/png",
                                      "size": int(size[0][0].replace(",", "")) if size else 0}}
        if nsid == "com.atproto.repo.createRecord" and isinstance(body, dict):
            rkey = body.get("rkey") or "3" + _b32(hashlib.sha256(str(body).encode()).digest())[:12]
            return 200, {}, {"uri": f"at://{body.get('repo') or did}/{body.get('collection') or POST}/{rkey}",
                             "cid": _cid(repr(body).encode()),
                             "commit": {"cid": _cid(f"commit {rkey}".encode()), "rev": rkey},
                             "validationStatus": "valid"}
        if nsid == "com.atproto.identity.resolveHandle":
            named = parse_qs(parts.query).get("handle", [""])[0]
            return 200, {}, {"did": "did:plc:" + _b32(hashlib.sha256(named.encode()).digest())[:24]}
        if nsid == "com.atproto.repo.getRecord":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            return 400, {}, {"error": "RecordNotFound", "message": f"Could not locate record: at://"
                             f"{query.get('repo', did)}/{query.get('collection', POST)}/{query.get('rkey', '')}"}
        return 501, {}, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}

    # ---- the session ---------------------------------------------------------

    def _login(self) -> None:
        """Create the run's session (once): the tokens become secrets that output never shows."""
        if self._auth is not None:
            return
        response = self._xrpc("POST", "com.atproto.server.createSession", retry_safe=True, auth=False,
                              hint=self._login_hint, json={"identifier": self.handle, "password": self.password})
        self._adopt(http.json_object(response, "com.atproto.server.createSession"))

    def _renew(self) -> None:
        """After an expired token: refresh the session, or log in again if the refresh is refused."""
        refresh = (self._auth or {}).get("refreshJwt")
        self._auth = None
        if refresh:
            try:
                response = http.request(self.session, "POST", self._url("com.atproto.server.refreshSession"),
                                        retry_safe=True, describe=self._describe, hint=self._login_hint,
                                        headers={"Authorization": f"Bearer {refresh}"})
                self._adopt(http.json_object(response, "com.atproto.server.refreshSession"))
                return
            except Rejected:
                pass
        self._login()

    def _adopt(self, answer: dict) -> None:
        if not all(isinstance(answer.get(k), str) and answer[k] for k in ("accessJwt", "refreshJwt", "did")):
            raise Retryable("the Bluesky session answer has no tokens or DID", hint="the next run tries again")
        secrets.remember(answer["accessJwt"])
        secrets.remember(answer["refreshJwt"])
        self._auth = answer

    def _did(self) -> str:
        self._login()
        return self._auth["did"]

    # ---- helpers ------------------------------------------------------------

    def _url(self, nsid: str) -> str:
        return f"{self.service}/xrpc/{nsid}"

    def _xrpc(self, method: str, nsid: str, *, retry_safe: bool, auth: bool = True, hint=None, headers=None,
              **kwargs):
        """One XRPC call; with ``auth``, logged in, and once more with a new session if the token expired."""
        def send():
            sent = dict(headers or {})
            if auth:
                self._login()
                sent["Authorization"] = f"Bearer {self._auth['accessJwt']}"
            return http.request(self.session, method, self._url(nsid), retry_safe=retry_safe,
                                describe=self._describe, hint=hint or self._hint, headers=sent, **kwargs)

        try:
            return send()
        except Rejected as exc:  # the server did nothing with a request it did not authenticate
            if not auth or not (exc.status == 401 or (exc.status == 400 and self._error in SESSION_ERRORS)):
                raise
        self._renew()
        return send()

    def _describe(self, response) -> str:
        """The PDS's error text, ``{"error": name, "message": text}``; the name is kept for the caller."""
        answer = http.answer(response)
        self._error = answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), str) else ""
        if not isinstance(answer, dict):
            return response.text[:300].strip() or response.reason or ""
        message = answer.get("message") if isinstance(answer.get("message"), str) else ""
        return ": ".join(s for s in (self._error, message) if s) or str(answer)[:300]

    def _hint(self, status: int) -> str:
        if status == 401:
            return PASSWORD_HINT
        if status == 413:
            return "the image is larger than this server accepts; make it smaller"
        if status == 429:
            return "Bluesky's rate limit was reached; the next run continues"
        if status >= 500:
            return f"the server ({self.service}) is having trouble; the next run tries again"
        if status == 400:
            return "Bluesky refused the request as written; change the note and publish again"
        return ""

    def _login_hint(self, status: int) -> str:
        if status in (400, 401):
            return PASSWORD_HINT
        if status == 429:
            return ("Bluesky allows 30 logins per 5 minutes and 300 per day for an account; the next run "
                    "continues")
        return self._hint(status)

    def _create_hint(self, status: int) -> str:
        if status >= 500:
            return ("the post may have been made anyway; the next run looks it up by its record key before "
                    "sending it again")
        return self._hint(status)

    def _upload(self, media) -> dict[str, Any]:
        """Upload one image; its entry in ``app.bsky.embed.images`` (blob, alt text, aspect ratio)."""
        upload = media.prepare(IMAGE_BYTES, "Bluesky")
        response = self._xrpc("POST", "com.atproto.repo.uploadBlob", retry_safe=True, timeout=120, data=upload.data,
                              headers={"Content-Type": upload.mime})
        blob = http.json_object(response, "com.atproto.repo.uploadBlob").get("blob")
        if not isinstance(blob, dict) or not blob.get("ref"):
            raise Retryable(f"com.atproto.repo.uploadBlob answered {response.status_code} without a blob",
                            hint="the next run uploads the image again")
        image: dict[str, Any] = {"alt": media.alt or "", "image": blob}
        if upload.size:
            image["aspectRatio"] = {"width": upload.size[0], "height": upload.size[1]}
        return image

    def _external(self, card) -> dict[str, Any]:
        """A link card as ``app.bsky.embed.external#external``; its thumb uploaded if it has one."""
        external: dict[str, Any] = {"uri": card.uri, "title": card.title, "description": card.description}
        if card.thumb:
            try:
                response = self._xrpc("POST", "com.atproto.repo.uploadBlob", retry_safe=True, timeout=120,
                                      data=card.thumb.data, headers={"Content-Type": card.thumb.mime})
                blob = http.json_object(response, "com.atproto.repo.uploadBlob").get("blob")
            except PublishError:  # the post never fails because of its card: it goes without the image
                blob = None
            if isinstance(blob, dict) and blob.get("ref"):
                external["thumb"] = blob
        return external

    def _lookup(self, part: Part, rkey: str) -> Receipt | None:
        """The post under ``rkey`` if it has the part's text; None if there is none; Unknown otherwise."""
        try:
            response = self._xrpc("GET", "com.atproto.repo.getRecord", retry_safe=True,
                                  params={"repo": self._did(), "collection": POST, "rkey": rkey})
        except Rejected as exc:
            if exc.status == 400 and self._error == "RecordNotFound":
                return None
            raise
        answer = http.json_object(response, "com.atproto.repo.getRecord")
        value = answer.get("value") if isinstance(answer.get("value"), dict) else {}
        if value.get("text") == part.text:
            return self._receipt(answer.get("uri"), answer.get("cid"))
        raise Unknown(f"{_which(part)}: its record key {rkey} already holds a different post ({answer.get('uri')}); "
                      "check the account, then record what you find with `notecast resolve --platform bluesky`")

    def _mentions(self, named) -> list[dict[str, Any]]:
        """Mention facets for the handles that resolve to an account; the others stay plain text."""
        out = []
        for mention in named:
            handle = mention["handle"]
            if handle not in self._dids:
                try:
                    answer = http.json_object(self._xrpc("GET", "com.atproto.identity.resolveHandle", retry_safe=True,
                                                   auth=False, params={"handle": handle}),
                                        "com.atproto.identity.resolveHandle")
                    self._dids[handle] = answer.get("did") if isinstance(answer.get("did"), str) else None
                except Rejected:  # "Unable to resolve handle": no such account
                    self._dids[handle] = None
            if self._dids[handle]:
                out.append({"index": mention["index"],
                            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self._dids[handle]}]})
        return out

    def _ref(self, receipt: Receipt) -> dict[str, str]:
        """A strong reference {uri, cid} to a post notecast made (or a person recorded by its URL)."""
        uri, cid = receipt.extra.get("uri"), receipt.extra.get("cid")
        if isinstance(uri, str) and isinstance(cid, str) and uri and cid:
            return {"uri": uri, "cid": cid}
        found = re.search(r"/profile/([^/]+)/post/([^/?#]+)", receipt.url or "")
        at = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/]+)", receipt.id)
        repo, rkey = (found.groups() if found else (at.group(1), at.group(3)) if at else (self._did(), receipt.id))
        response = self._xrpc("GET", "com.atproto.repo.getRecord", retry_safe=True,
                              params={"repo": repo, "collection": POST, "rkey": rkey})
        answer = http.json_object(response, "com.atproto.repo.getRecord")
        if not answer.get("uri") or not answer.get("cid"):
            raise Rejected(f"the post to reply to ({receipt.url or receipt.id}) has no uri and cid",
                           hint="record it with `notecast resolve --platform bluesky --sent <its at:// uri>`")
        return {"uri": answer["uri"], "cid": answer["cid"]}

    def _receipt(self, uri: Any, cid: Any) -> Receipt:
        if not isinstance(uri, str) or not uri.startswith("at://") or not isinstance(cid, str) or not cid:
            raise Retryable("com.atproto.repo.createRecord answered without a uri and cid",
                            hint="the next run looks the post up by its record key")
        handle = (self._auth or {}).get("handle") or self.handle
        return Receipt(id=uri, url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
                       extra={"uri": uri, "cid": cid})


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - EPOCH


def _which(part: Part) -> str:
    return f"{part.note}: post {part.index + 1} of {part.count}"


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=").lower()


def _cid(data: bytes, codec: int = 0x71) -> str:
    """A CIDv1 string (sha2-256; dag-cbor for records, raw for blobs) of ``data``: dry runs only."""
    return "b" + _b32(bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest())
