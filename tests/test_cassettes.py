"""Every recorded cassette under tests/ (all platforms, present and future) is YAML and holds no secret.

A cassette is any ``*.yaml``/``*.yml`` file below a folder named ``cassettes``.
Each interaction is searched for: an ``Authorization`` (or ``Proxy-Authorization``,
``Cookie``, ``Set-Cookie``, ``X-Api-Key``) header that is not ``REDACTED``; an
``access_token``, ``refresh_token``, ``password``, ``accessJwt``, ``refreshJwt``,
``oauth_signature``, ``client_secret``… value that is not ``REDACTED`` (as JSON,
form, query or OAuth header parameter); JWT-looking strings; ``Bearer`` tokens;
the fake secrets the tests use (``test-token``…); and the real secrets in the
environment, should someone have re-recorded with them. A finding names the
file and the interaction's index, never the whole secret.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from pipeline import platforms, secrets

TESTS = Path(__file__).parent
ALLOWED = {"REDACTED", ""}
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
_KEYS = (r"[A-Za-z0-9_-]*(?:access_?token|refresh_?token|password|access_?jwt|refresh_?jwt|oauth_signature"
         r"|oauth_token_secret|client_?secret)")
_JSON_VALUE = re.compile(rf'"(?P<key>{_KEYS})"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"', re.I)
_PARAM_VALUE = re.compile(rf'(?<![A-Za-z0-9_-])(?P<key>{_KEYS})=(?P<value>"[^"]*"|[^&\s,;"]*)', re.I)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}")
_BEARER = re.compile(r"(?i)\bbearer\s+(?!REDACTED\b)(?![A-Za-z_-]+=)(?P<value>[A-Za-z0-9._~+/%-]{12,}=*)")
_FALLBACK = re.compile(r'environ\.get\(\s*"(NOTECAST_\w+)"\s*\)\s*or\s*"([^"]+)"')
FAKE_SECRETS = {"test-token", "test-api-key", "test-api-secret", "test-access-token", "test-access-secret",
                "test-password", "test-app-password", "test-client-secret"}


SECRET_VARIABLES = {name for p in platforms.registry().values() for name in p.secret_settings}


def cassettes() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*") if p.suffix in (".yaml", ".yml") and "cassettes" in p.parts[:-1]
                  and p.is_file())


def fake_secrets() -> set[str]:
    """The made-up secrets the tests fall back to (``os.environ.get("NOTECAST_X_TOKEN") or "test-token"``)."""
    found = set(FAKE_SECRETS)
    for source in TESTS.rglob("*.py"):
        for name, value in _FALLBACK.findall(source.read_text(encoding="utf-8", errors="replace")):
            if name in SECRET_VARIABLES and len(value) >= secrets.MIN_LENGTH:
                found.add(value)
    return found


def findings(path: Path, known: set[str] | None = None) -> list[str]:
    """Everything secret-looking in one cassette, as ``file: interaction N: what``; or why it is not a cassette."""
    known = fake_secrets() if known is None else known
    name = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else path.as_posix()
    try:
        cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return [f"{name}: not YAML: {str(exc).splitlines()[0]}"]
    interactions = cassette.get("interactions") if isinstance(cassette, dict) else None
    if not isinstance(interactions, list) or not interactions:
        return [f"{name}: no list of interactions"]
    out = []
    secrets.watch(SECRET_VARIABLES)
    real = set(secrets.secret_values())
    for index, interaction in enumerate(interactions):
        where = f"{name}: interaction {index}"
        if not isinstance(interaction, dict) or not all(isinstance(interaction.get(k), dict)
                                                        for k in ("request", "response")):
            out.append(f"{where}: not a request and a response")
            continue
        for side in ("request", "response"):
            headers = interaction[side].get("headers") or {}
            for header, values in headers.items() if isinstance(headers, dict) else ():
                for value in values if isinstance(values, list) else [values]:
                    if str(header).lower() in SECRET_HEADERS and str(value) not in ALLOWED:
                        out.append(f"{where}: {side} header {header} is {_masked(str(value))}, not REDACTED")
        for text in _strings(interaction):
            out += [f"{where}: {m['key']} is {_masked(m['value'])}, not REDACTED"
                    for pattern in (_JSON_VALUE, _PARAM_VALUE) for m in pattern.finditer(text)
                    if m["value"].strip('"') not in ALLOWED]
            out += [f"{where}: a JWT ({_masked(m.group(0))})" for m in _JWT.finditer(text)]
            out += [f"{where}: a Bearer token ({_masked(m['value'])})" for m in _BEARER.finditer(text)
                    if re.search(r"\d", m["value"]) or len(m["value"]) >= 24]
            out += [f"{where}: the test secret {secret!r}" for secret in sorted(known) if secret in text]
            out += [f"{where}: a secret from the environment ({_masked(secret)})"
                    for secret in sorted(real) if secret in text]
    return out


def _strings(value: Any) -> Iterator[str]:
    """Every string in an interaction: header names and values, URIs, bodies (bytes decoded, gzip opened)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, bytes):
        if value[:2] == b"\x1f\x8b":
            try:
                value = gzip.decompress(value)
            except (OSError, EOFError):
                pass
        yield value.decode("utf-8", "replace")
    elif isinstance(value, str):
        yield value


def _masked(value: str) -> str:
    return repr(value[:4] + "…") if len(value) > 6 else repr("…")


CASSETTES = cassettes()


def test_cassettes_are_found():
    folders = {p.parent.name for p in CASSETTES}
    assert {"test_mastodon_publisher", "test_x_publisher", "test_linkedin_publisher"} <= folders
    assert not any(p.name == "validate.yml" for p in CASSETTES)  # test data is not a cassette


@pytest.mark.parametrize("cassette", CASSETTES, ids=lambda p: p.relative_to(TESTS).as_posix())
def test_cassette_holds_no_secret(cassette):
    found = findings(cassette)
    assert not found, "\n".join(found)


def test_the_fake_secrets_of_the_tests_are_known():
    known = fake_secrets()
    assert {"test-token", "test-api-secret", "test-access-secret"} <= known
    assert not any(v.startswith(("urn:", "https://")) for v in known)  # authors and instances are not secrets


CLEAN = """\
- request:
    body: '{"status": "Hello"}'
    headers:
      Authorization:
      - REDACTED
    method: POST
    uri: https://social.example/api/v1/statuses
  response:
    body:
      string: '{"id": "1", "password": "REDACTED", "note": "a password is needed"}'
    headers:
      WWW-Authenticate:
      - Bearer realm="Doorkeeper", error="invalid_token"
    status:
      code: 200
      message: OK
"""

BAD = {
    "authorization header": ("Authorization:\n      - REDACTED", "Authorization:\n      - Bearer abc"),
    "cookie": ("WWW-Authenticate:", "Set-Cookie:\n      - _session=0a1b2c3d4e\n      WWW-Authenticate:"),
    "access_token in JSON": ('"id": "1"', '"id": "1", "access_token": "ZA1b2C3d4E5f6G7h"'),
    "refreshJwt in JSON": ('"id": "1"', '"id": "1", "refreshJwt": "abc.def.ghi"'),
    "accessJwt in JSON": ('"id": "1"', '"id": "1", "accessJwt": "REDACTEDx"'),
    "password in a form": ('{"status": "Hello"}', "grant_type=password&password=hunter22&client_id=x"),
    "client_secret in a query": ("statuses", "statuses?client_secret=s3cr3tval"),
    "oauth_signature": ("Bearer realm", 'OAuth oauth_signature="hmac%2Bsig%3D", Bearer realm'),
    "a JWT": ('"note": "a', '"note": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjIn0.c2lnbmF0dXJl a'),
    "a Bearer token": ('"note": "a', '"note": "use Bearer AbC123dEf456gHi789 a'),
    "the test secret": ('"note": "a', '"note": "test-token a'),
}


@pytest.mark.parametrize("kind", BAD)
def test_the_scan_finds_each_kind_of_secret_with_file_and_interaction(tmp_path, kind):
    old, new = BAD[kind]
    assert old in CLEAN
    cassette = tmp_path / "test_example.yaml"
    cassette.write_text("interactions:\n" + CLEAN + CLEAN.replace(old, new, 1) + "version: 1\n", encoding="utf-8")
    found = findings(cassette, {"test-token"})
    assert found and all(line.startswith(f"{cassette.as_posix()}: interaction 1: ") for line in found), found
    assert not any("hunter22" in line or "s3cr3tval" in line or "AbC123dEf456" in line for line in found)


def test_a_clean_cassette_has_no_finding(tmp_path):
    cassette = tmp_path / "test_example.yaml"
    cassette.write_text("interactions:\n" + CLEAN + "version: 1\n", encoding="utf-8")
    assert findings(cassette, {"test-token"}) == []


@pytest.mark.parametrize("text, problem", [("interactions: [\n", "not YAML"),
                                           ("version: 1\n", "no list of interactions"),
                                           ("interactions: []\n", "no list of interactions"),
                                           ("interactions:\n- request: {}\n", "interaction 0: not a request")])
def test_a_file_that_is_not_a_cassette_is_reported(tmp_path, text, problem):
    cassette = tmp_path / "test_example.yaml"
    cassette.write_text(text, encoding="utf-8")
    (line,) = findings(cassette, set())
    assert line.startswith(cassette.as_posix()) and problem in line
