"""``notecast doctor`` against a small fake server on 127.0.0.1 that plays each platform's API.

Each test says what the server answers (``answers``), runs the command as users run it (``cli.main``), and
looks at the lines, the exit code and the requests the server saw. No network: every platform's base URL
points at the fake server (LinkedIn's token introspection, on www.linkedin.com, is pointed there too).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline import cli, doctor
from pipeline.clock import Clock
from pipeline.config import Config
from pipeline.platforms import Platform, Setting
from pipeline.platforms.linkedin import publisher as linkedin
from pipeline.platforms.linkedin.rules import version_findings
from pipeline.publisher import Finding

NOW = "2026-11-29T12:00:00Z"
TOKEN = "li-token-0123456789"  # a secret: never printed
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


class Fake(BaseHTTPRequestHandler):
    """Answers ``(method, path)`` from ``answers``: (status, headers, JSON body); 404 otherwise."""

    answers: dict[tuple[str, str], tuple[int, dict, object]] = {}
    seen: list[tuple[str, str, str]] = []  # method, path, body

    def do_GET(self):
        self.reply("GET")

    def do_POST(self):
        self.reply("POST")

    def reply(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path = urlsplit(self.path).path
        self.seen.append((method, path, body))
        status, headers, answer = self.answers.get((method, path), (404, {}, {"error": "not found"}))
        data = json.dumps(answer).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch, tmp_path, sleeps):
    """The fake server, a clean NOTECAST_* environment pinned to NOW, and an empty project folder."""
    Fake.answers, Fake.seen = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    for name in list(os.environ):
        if name.startswith("NOTECAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NOTECAST_NOW", NOW)
    monkeypatch.setattr(linkedin, "INTROSPECT", base + "/oauth/v2/introspectToken")
    monkeypatch.chdir(tmp_path)
    yield base
    httpd.shutdown()


def run(capsys, *args: str) -> tuple[int, list[str], str]:
    """``notecast doctor ARGS``: the exit code, the lines on stdout and what went to stderr."""
    code = cli.main(["doctor", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def set_env(monkeypatch, **values: str) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


# ---- which platforms ------------------------------------------------------------------------------------


def test_nothing_configured_checks_nothing_and_says_so(server, capsys):
    code, lines, err = run(capsys)
    assert code == 0 and lines == []
    assert "no platform is configured" in err and Fake.seen == []


def test_only_configured_platforms_are_checked(server, monkeypatch, capsys):
    set_env(monkeypatch, NOTECAST_MASTODON_INSTANCE=server, NOTECAST_MASTODON_TOKEN="m-token-1234")
    Fake.answers = {("GET", "/api/v1/accounts/verify_credentials"): (200, {}, {"id": "1", "acct": "me"}),
                    ("GET", "/api/v1/apps/verify_credentials"): (200, {}, {"name": "notecast", "scopes": ["read", "write"]})}
    code, lines, _ = run(capsys)
    assert code == 0
    assert lines == ["mastodon: ok: signed in as @me on 127.0.0.1:%s; the token has the scopes notecast needs"
                     % server.rsplit(":", 1)[1]]


def test_a_named_platform_without_settings_is_an_error_and_nothing_is_asked(server, capsys):
    code, lines, _ = run(capsys, "--platform", "x")
    assert code == 1
    assert lines == ["x: error: NOTECAST_X_API_KEY, NOTECAST_X_API_SECRET, NOTECAST_X_ACCESS_TOKEN, "
                     "NOTECAST_X_ACCESS_SECRET not set; set them in the environment (in GitHub Actions: repository "
                     "secrets for credentials, variables for the rest; see README); a setting that is not a secret "
                     "may go in notecast.toml"]
    assert Fake.seen == []


def test_an_unknown_platform_is_bad_usage(server, capsys):
    code, _, err = run(capsys, "--platform", "myspace")
    assert code == 2 and "unknown platform 'myspace'" in err


def test_a_disabled_platform_is_not_checked_unless_named(server, monkeypatch, capsys, tmp_path):
    (tmp_path / "notecast.toml").write_text("[platforms.x]\nenabled = false\n")
    set_env(monkeypatch, NOTECAST_X_API_KEY="key-1234")
    assert run(capsys)[:2] == (0, [])
    assert run(capsys, "-p", "x")[0] == 1


# ---- LinkedIn -------------------------------------------------------------------------------------------


@pytest.fixture
def linkedin_env(server, monkeypatch):
    set_env(monkeypatch, NOTECAST_LINKEDIN_API=server, NOTECAST_LINKEDIN_TOKEN=TOKEN,
            NOTECAST_LINKEDIN_AUTHOR="urn:li:person:abc123", NOTECAST_LINKEDIN_VERSION="202609")
    return server


def test_linkedin_healthy(linkedin_env, capsys):
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "abc123", "name": "Ada"})}
    code, lines, _ = run(capsys)
    assert code == 0
    assert lines == ["linkedin: ok: the token works and belongs to the author urn:li:person:abc123"]
    assert Fake.seen == [("GET", "/v2/userinfo", "")]  # one read-only call


def test_linkedin_expired_token_is_an_error_with_the_way_to_renew_it(linkedin_env, capsys):
    Fake.answers = {("GET", "/v2/userinfo"): (401, {}, {"status": 401, "serviceErrorCode": 65600,
                                                        "code": "INVALID_ACCESS_TOKEN", "message": "Invalid access token"})}
    code, lines, _ = run(capsys)
    assert code == 1
    (line,) = lines
    assert line.startswith("linkedin: error: GET http://127.0.0.1:")
    assert "answered 401: Invalid access token (INVALID_ACCESS_TOKEN); the access token is invalid or expired" in line
    assert "NOTECAST_LINKEDIN_TOKEN" in line and TOKEN not in line


def test_linkedin_token_of_someone_else(linkedin_env, capsys):
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "zzz"})}
    code, lines, _ = run(capsys)
    assert code == 1
    assert lines == ["linkedin: error: the token belongs to urn:li:person:zzz, not to the author urn:li:person:abc123; "
                     "set NOTECAST_LINKEDIN_AUTHOR to urn:li:person:zzz, or make a token as urn:li:person:abc123"]


def test_linkedin_page_author_cannot_be_checked_and_says_so(linkedin_env, monkeypatch, capsys):
    monkeypatch.setenv("NOTECAST_LINKEDIN_AUTHOR", "urn:li:organization:42")
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "abc123"})}
    code, lines, _ = run(capsys)
    assert code == 0 and lines == ["linkedin: ok: the token works and belongs to urn:li:person:abc123; the author "
                                   "urn:li:organization:42 is a Page, whose admin rights cannot be checked this way"]


def test_linkedin_token_without_openid_is_a_warning(linkedin_env, capsys):
    Fake.answers = {("GET", "/v2/userinfo"): (403, {}, {"status": 403, "message": "Not enough permissions"})}
    code, lines, _ = run(capsys)
    assert code == 0
    assert lines[0].startswith("linkedin: warning: the token is accepted, but it may not read who it belongs to")
    assert "openid profile w_member_social" in lines[0]


@pytest.mark.parametrize("version, level", [("202609", None), ("202602", None), ("202601", "warning"), ("202512", "warning"),
                                            ("202511", "error"), ("202412", "error"), ("202701", "warning"),
                                            ("2026-09", "error"), ("202613", "error")])
def test_linkedin_version_age(version, level):
    """A version is served for a year: from 10 months old a warning, from 12 an error (counted from its month's 1st)."""
    found = version_findings("linkedin", version, _now())
    assert [f.level for f in found] == ([level] if level else [])
    assert all("NOTECAST_LINKEDIN_VERSION" in f.hint for f in found)


def _now() -> datetime:
    return datetime.fromisoformat(NOW.replace("Z", "+00:00"))


def test_linkedin_old_version_is_found_offline_and_the_account_still_checked(linkedin_env, monkeypatch, capsys):
    monkeypatch.setenv("NOTECAST_LINKEDIN_VERSION", "202510")
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "abc123"})}
    code, lines, _ = run(capsys)
    assert code == 1
    assert lines[0].startswith("linkedin: error: LinkedIn-Version 202510 is 13 months old")
    assert lines[1] == "linkedin: ok: the token works and belongs to the author urn:li:person:abc123"


@pytest.mark.parametrize("expires, level, says", [
    ("2027-02-01", "ok", "expires on 2027-02-01, in 64 days"),
    ("2026-12-10", "warning", "expires on 2026-12-10, in 11 day(s)"),
    ("2026-11-01", "error", "expired on 2026-11-01"),
    ("next month", "error", "NOTECAST_LINKEDIN_TOKEN_EXPIRES='next month' is not a date"),
])
def test_linkedin_token_expires_setting(linkedin_env, monkeypatch, capsys, expires, level, says):
    monkeypatch.setenv("NOTECAST_LINKEDIN_TOKEN_EXPIRES", expires)
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "abc123"})}
    code, lines, _ = run(capsys)
    assert lines[0].startswith(f"linkedin: {level}: ") and says in lines[0]
    assert code == (1 if level == "error" else 0)


@pytest.fixture
def introspection(linkedin_env, monkeypatch):
    set_env(monkeypatch, NOTECAST_LINKEDIN_CLIENT_ID="client-1", NOTECAST_LINKEDIN_CLIENT_SECRET="client-secret-99")
    Fake.answers = {("GET", "/v2/userinfo"): (200, {}, {"sub": "abc123"})}

    def answer(**fields):
        body = {"active": True, "client_id": "client-1", "status": "active", "scope": "w_member_social,openid,profile",
                "auth_type": "3L", **fields}
        Fake.answers[("POST", "/oauth/v2/introspectToken")] = (200, {}, body)
    return answer


def test_linkedin_introspection_warns_14_days_before_expiry(introspection, capsys):
    introspection(expires_at=1796126400)  # 2026-12-01 12:00 UTC: two days after NOW
    code, lines, err = run(capsys)
    assert code == 0
    assert lines[1].startswith("linkedin: warning: the token expires on 2026-12-01 12:00 UTC, in 2 day(s); ")
    (post,) = [body for method, path, body in Fake.seen if path == "/oauth/v2/introspectToken"]
    assert parse_qs(post) == {"client_id": ["client-1"], "client_secret": ["client-secret-99"], "token": [TOKEN]}
    assert "client-secret-99" not in "\n".join(lines) + err


def test_linkedin_introspection_far_from_expiry_is_ok(introspection, capsys):
    introspection(expires_at=1801310400)  # 2027-01-30
    code, lines, _ = run(capsys)
    assert code == 0 and lines[1] == "linkedin: ok: the token is active until 2027-01-30 12:00 UTC, in 62 days"


def test_linkedin_introspection_of_a_revoked_token(introspection, capsys):
    introspection(active=False, status="revoked")
    code, lines, _ = run(capsys)
    assert code == 1 and lines[1].startswith("linkedin: error: LinkedIn says the token is revoked; ")


def test_linkedin_introspection_of_a_token_that_may_not_post(introspection, capsys):
    introspection(scope="openid,profile", expires_at=1801310400)
    code, lines, _ = run(capsys)
    assert code == 1 and "its scopes are openid, profile, without w_member_social" in lines[1]


def test_linkedin_introspection_refused_is_a_warning(introspection, capsys):
    Fake.answers[("POST", "/oauth/v2/introspectToken")] = (401, {}, {"error": "invalid_client"})
    code, lines, _ = run(capsys)
    assert code == 0 and lines[1].startswith("linkedin: warning: LinkedIn would not say when the token expires")


# ---- Mastodon -------------------------------------------------------------------------------------------


@pytest.fixture
def mastodon_env(server, monkeypatch):
    set_env(monkeypatch, NOTECAST_MASTODON_INSTANCE=server, NOTECAST_MASTODON_TOKEN="m-token-1234")
    Fake.answers = {("GET", "/api/v1/accounts/verify_credentials"): (200, {}, {"id": "1", "acct": "me"})}

    def scopes(granted):
        app = {"name": "notecast", "website": None}
        if granted is not None:
            app["scopes"] = granted
        Fake.answers[("GET", "/api/v1/apps/verify_credentials")] = (200, {}, app)
    return scopes


@pytest.mark.parametrize("granted, level, says", [
    (["write:statuses", "write:media", "read:accounts", "read:statuses"], "ok", "has the scopes notecast needs"),
    (["read", "write"], "ok", "has the scopes notecast needs"),
    (["write", "read:accounts"], "warning", "lacks read:statuses, so after an interrupted run"),
    (["write:statuses", "read"], "error", "may not post: it lacks write:media"),
    (["read"], "error", "lacks write:statuses, write:media"),
    (None, "warning", "does not say the token's scopes (Mastodon before 4.3)"),
])
def test_mastodon_scopes(mastodon_env, capsys, granted, level, says):
    mastodon_env(granted)
    code, lines, _ = run(capsys)
    (line,) = lines
    assert line.startswith(f"mastodon: {level}: signed in as @me on 127.0.0.1:") and says in line
    assert code == (1 if level == "error" else 0)
    if level != "ok":
        assert "Preferences → Development" in line


def test_mastodon_revoked_token(mastodon_env, capsys):
    Fake.answers[("GET", "/api/v1/accounts/verify_credentials")] = (401, {}, {"error": "The access token is invalid"})
    code, lines, _ = run(capsys)
    assert code == 1 and "answered 401: The access token is invalid; the token is invalid or revoked" in lines[0]
    assert [p for _, p, _ in Fake.seen] == ["/api/v1/accounts/verify_credentials"]


def test_mastodon_bad_visibility_is_found_offline(mastodon_env, monkeypatch, capsys):
    mastodon_env(["read", "write"])
    monkeypatch.setenv("NOTECAST_MASTODON_VISIBILITY", "everyone")
    code, lines, _ = run(capsys)
    assert code == 1 and lines[0].startswith("mastodon: error: visibility 'everyone' is not one of public, unlisted")


# ---- X --------------------------------------------------------------------------------------------------


@pytest.fixture
def x_env(server, monkeypatch):
    set_env(monkeypatch, NOTECAST_X_API=server, NOTECAST_X_API_KEY="x-key-1234", NOTECAST_X_API_SECRET="x-secret-1234",
            NOTECAST_X_ACCESS_TOKEN="x-token-1234", NOTECAST_X_ACCESS_SECRET="x-token-secret-1234")

    def me(status=200, **headers):
        body = {"data": {"id": "2244994945", "name": "Me", "username": "me"}} if status == 200 else \
            {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        Fake.answers = {("GET", "/2/users/me"): (status, headers, body)}
    return me


def test_x_read_write_token(x_env, capsys):
    x_env(**{"x-access-level": "read-write"})
    code, lines, _ = run(capsys)
    assert code == 0 and lines == ["x: ok: signed in as @me; the token may post (read-write)"]


def test_x_read_only_token_is_an_error_that_says_how_to_fix_it(x_env, capsys):
    x_env(**{"x-access-level": "read"})
    code, lines, _ = run(capsys)
    assert code == 1
    (line,) = lines
    assert line.startswith("x: error: signed in as @me, but the access token is read-only")
    assert "set App permissions to \"Read and write\"" in line and "regenerate the Access Token and Secret" in line


def test_x_without_the_header_is_a_warning(x_env, capsys):
    x_env()
    code, lines, _ = run(capsys)
    assert code == 0 and lines[0].startswith("x: warning: signed in as @me, but X did not say whether the token may post")


def test_x_refused_credentials(x_env, capsys):
    x_env(status=401)
    code, lines, _ = run(capsys)
    assert code == 1 and "answered 401: Unauthorized; X did not accept the credentials" in lines[0]
    assert not any(secret in lines[0] for secret in ("x-key-1234", "x-token-1234", "x-token-secret-1234"))


# ---- Bluesky --------------------------------------------------------------------------------------------


@pytest.fixture
def bluesky_env(server, monkeypatch):
    set_env(monkeypatch, NOTECAST_BLUESKY_SERVICE=server, NOTECAST_BLUESKY_HANDLE="me.example.com",
            NOTECAST_BLUESKY_APP_PASSWORD=APP_PASSWORD)

    def session(code=200, **fields):
        body = {"did": "did:plc:abc", "handle": "me.example.com", "accessJwt": "access-jwt-1",
                "refreshJwt": "refresh-jwt-1", "active": True, **fields} if code == 200 else \
            {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        Fake.answers = {("POST", "/xrpc/com.atproto.server.createSession"): (code, {}, body)}
    return session


def test_bluesky_logs_in_once(bluesky_env, capsys):
    bluesky_env()
    code, lines, _ = run(capsys)
    assert code == 0 and len(lines) == 1
    assert lines[0].startswith("bluesky: ok: signed in as @me.example.com on http://127.0.0.1:")
    assert lines[0].endswith("(did:plc:abc)")
    assert [p for _, p, _ in Fake.seen] == ["/xrpc/com.atproto.server.createSession"]


def test_bluesky_revoked_app_password(bluesky_env, capsys):
    bluesky_env(code=401)
    code, lines, _ = run(capsys)
    assert code == 1 and "Invalid identifier or password; Bluesky did not accept the handle and app password" in lines[0]
    assert APP_PASSWORD not in lines[0]


def test_bluesky_rate_limited_login_is_not_retried(bluesky_env, capsys, sleeps):
    Fake.answers = {("POST", "/xrpc/com.atproto.server.createSession"):
                    (429, {"Retry-After": "1"}, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})}
    code, lines, _ = run(capsys)
    assert code == 1 and "30 logins per 5 minutes" in lines[0]
    assert len(Fake.seen) == 1 and sleeps == []


def test_bluesky_deactivated_account(bluesky_env, capsys):
    bluesky_env(active=False, status="deactivated")
    code, lines, _ = run(capsys)
    assert code == 1 and "but the account is deactivated" in lines[0]


def test_bluesky_account_password_shape_is_a_warning(bluesky_env, monkeypatch, capsys):
    bluesky_env()
    monkeypatch.setenv("NOTECAST_BLUESKY_APP_PASSWORD", "correct horse battery staple")
    code, lines, _ = run(capsys)
    assert code == 0 and lines[0].startswith("bluesky: warning: NOTECAST_BLUESKY_APP_PASSWORD does not look like")
    assert "correct horse" not in "\n".join(lines)


# ---- output ---------------------------------------------------------------------------------------------


def test_json_for_tools(x_env, mastodon_env, capsys):
    x_env(**{"x-access-level": "read"})
    mastodon_env(["read", "write"])
    Fake.answers[("GET", "/api/v1/accounts/verify_credentials")] = (200, {}, {"id": "1", "acct": "me"})
    code, lines, _ = run(capsys, "--format", "json")
    found = json.loads("\n".join(lines))
    assert code == 1
    assert [(f["platform"], f["level"]) for f in found] == [("x", "error"), ("mastodon", "ok")]
    assert all(set(f) == {"platform", "level", "message", "hint"} for f in found)
    assert found[0]["hint"].startswith("in the developer portal")


def test_a_secret_in_an_answer_is_masked(linkedin_env, capsys):
    Fake.answers = {("GET", "/v2/userinfo"): (401, {}, {"message": f"token {TOKEN} is expired"})}
    code, lines, _ = run(capsys)
    assert code == 1 and TOKEN not in lines[0] and "token **** is expired" in lines[0]


# ---- a third-party publisher ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Old(Platform):
    def measure(self, text: str) -> int:
        return len(text)


class OldPublisher:
    platform = "old"

    def __init__(self, session, settings, clock):
        pass


def test_a_publisher_without_health_is_a_warning(monkeypatch):
    old = Old(name="old", limit=10, settings=(Setting("token", secret=True, placeholder="<T>"),),
              publisher_class=OldPublisher)
    monkeypatch.setenv("NOTECAST_OLD_TOKEN", "t-1234")
    found = doctor.examine(old, Config(), Clock(_now()), session=lambda: None)
    assert found == [Finding("old", "warning", "the old publisher cannot check its account (it has no health method)",
                             "ask its author to add one; meanwhile watch the publish runs")]
    assert doctor.worst(found) == "warning" and doctor.worst([]) == "ok"
