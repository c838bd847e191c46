"""Configuration: defaults, notecast.toml, --config, environment overrides, unknown keys, secrets."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config, platforms
from pipeline.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {"linkedin": ["token"], "mastodon": ["token"], "bluesky": ["app_password"],
           "x": ["api_key", "api_secret", "access_token", "access_secret"]}


@pytest.fixture(autouse=True)
def no_notecast_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("NOTECAST_"):
            monkeypatch.delenv(key)


def write(tmp_path: Path, text: str, name: str = "notecast.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> config.Config:
    return config.load(write(tmp_path, text), registry=platforms.registry())


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = config.load(None, registry=platforms.registry())
    assert cfg == config.Config()
    assert cfg.notes == Path("posts") and cfg.templates is None and cfg.timezone == "UTC"
    assert cfg.canonical_url is None and cfg.language is None
    assert {"permanent-note", "fleeting-note", "literature-note"} <= set(cfg.exclude_tags)
    assert cfg.ledger == Path(".notecast/ledger.jsonl")
    assert cfg.enabled(tuple(platforms.registry()))[:4] == ("linkedin", "x", "bluesky", "mastodon")
    assert cfg.platform("bluesky") == {}


def test_the_samples_need_no_configuration():
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", "posts"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (ROOT / "notecast.toml").exists() or "notecast.toml" in done.stdout


def test_file_in_the_current_folder_is_found(tmp_path, monkeypatch):
    write(tmp_path, 'timezone = "Europe/Madrid"\n')
    monkeypatch.chdir(tmp_path)
    assert config.load(None, registry=platforms.registry()).timezone == "Europe/Madrid"


def test_every_key(tmp_path):
    cfg = load(tmp_path, """
notes = "vault/posts"
templates = "tpl"
timezone = "Europe/Madrid"
canonical_url = "https://garden.example/{slug}/"
exclude_tags = ["permanent-note", "draft"]
ledger = "state/ledger.jsonl"
language = "es"

[platforms.linkedin]
enabled = false
overflow = "comment"
author = "urn:li:person:abc123"
version = "202609"

[platforms.x]
numbering = "on"
limit = 25000

[platforms.bluesky]
handle = "me.bsky.social"
service = "https://pds.example"

[platforms.mastodon]
instance = "https://mastodon.example"
max_characters = 1000
""")
    root = tmp_path.resolve()
    assert cfg.path == tmp_path / "notecast.toml" and cfg.root == root
    assert cfg.notes == root / "vault/posts" and cfg.templates == root / "tpl"
    assert cfg.ledger == root / "state/ledger.jsonl"  # paths are relative to the file
    assert cfg.timezone == "Europe/Madrid" and cfg.language == "es"
    assert cfg.exclude_tags == ("permanent-note", "draft")
    assert cfg.canonical_url == "https://garden.example/{slug}/"
    assert cfg.platform("linkedin")["author"] == "urn:li:person:abc123"
    assert cfg.enabled(("linkedin", "x", "bluesky", "mastodon")) == ("x", "bluesky", "mastodon")
    assert platforms.get("x").configure(cfg.platform("x")).limit == 25000
    assert platforms.get("mastodon").configure(cfg.platform("mastodon")).limit == 1000


def test_explicit_config_path(tmp_path, monkeypatch):
    write(tmp_path, 'timezone = "Asia/Tokyo"\n', "elsewhere.toml")
    write(tmp_path, 'timezone = "Europe/Madrid"\n')  # ./notecast.toml is not used when --config is given
    monkeypatch.chdir(tmp_path)
    assert config.load("elsewhere.toml", registry=platforms.registry()).timezone == "Asia/Tokyo"


def test_explicit_config_that_does_not_exist(tmp_path):
    with pytest.raises(UsageError) as caught:
        config.load(tmp_path / "missing.toml")
    assert "missing.toml: error: configuration file not found" in str(caught.value)
    assert caught.value.exit_code == 2


def test_environment_wins(tmp_path, monkeypatch):
    cfg = load(tmp_path, '[platforms.bluesky]\nhandle = "file.bsky.social"\n\n[platforms.x]\nlimit = 280\n')
    monkeypatch.setenv("NOTECAST_BLUESKY_HANDLE", "env.bsky.social")
    monkeypatch.setenv("NOTECAST_BLUESKY_APP_PASSWORD", "env-app-password")
    monkeypatch.setenv("NOTECAST_X_LIMIT", "4000")
    monkeypatch.setenv("NOTECAST_MASTODON_ENABLED", "false")
    assert cfg.platform("bluesky") == {"handle": "env.bsky.social", "app_password": "env-app-password"}
    assert platforms.get("x").configure(cfg.platform("x")).limit == 4000
    assert cfg.enabled(("linkedin", "x", "bluesky", "mastodon")) == ("linkedin", "x", "bluesky")
    assert cfg.platform("linkedin") == {}  # other platforms' variables do not leak


def test_environment_names_are_per_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTECAST_X_API_KEY", "k-1234")
    monkeypatch.setenv("NOTECAST_X_ACCESS_SECRET", "s-1234")
    monkeypatch.setenv("NOTECAST_NOW", "2026-01-01T00:00:00Z")  # not a platform setting
    cfg = config.Config()
    assert cfg.platform("x") == {"api_key": "k-1234", "access_secret": "s-1234"}


@pytest.mark.parametrize("text, words", [
    ('colour = "red"\n', ["unknown key 'colour'"]),
    ('[platforms.myspace]\nenabled = true\n', ["unknown platform [platforms.myspace]"]),
    ('[platforms.x]\nhandle = "me"\n', ["unknown key 'handle' in [platforms.x]"]),
    ('platforms = 3\n', ["[platforms] must be a table"]),
    ('[platforms]\nx = 3\n', ["[platforms.x] must be a table"]),
    ('colour = 1\nsize = 2\n[platforms.x]\nfoo = 1\n', ["'colour'", "'size'", "'foo'"]),  # all reported at once
    ('timezone = "Mars/Olympus"\n', ["unknown timezone 'Mars/Olympus'"]),
    ('notes = \n', ["not valid TOML"]),
])
def test_problems_are_reported_not_ignored(tmp_path, text, words):
    with pytest.raises(UsageError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    for word in words:
        assert word in message
    for line in message.splitlines():
        assert line.startswith(f"{tmp_path / 'notecast.toml'}: error: ")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("platform, key", [(p, k) for p, keys in SECRETS.items() for k in keys])
def test_secrets_in_the_file_are_refused(tmp_path, platform, key):
    """DESIGN.md: secrets never go in this file, only in the environment."""
    value = f"do-not-print-{platform}-{key}"
    with pytest.raises(UsageError) as caught:
        load(tmp_path, f'[platforms.{platform}]\n{key} = "{value}"\n')
    message = str(caught.value)
    assert f"secret '{key}'" in message and "environment" in message
    assert f"NOTECAST_{platform.upper()}_{key.upper()}" in message
    assert value not in message


def test_secret_in_the_file_through_the_cli(tmp_path):
    write(tmp_path, '[platforms.mastodon]\ntoken = "file-token-value-1234"\n')
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", "."], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"})
    assert done.returncode == 2
    assert "file-token-value-1234" not in done.stdout + done.stderr
    assert "secret 'token'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("text, word", [
    ('exclude_tags = "career"\n', "exclude_tags"),
    ('canonical_url = "https://e.com/{nope}/"\n', "canonical_url"),
    ('canonical_url = 3\n', "canonical_url"),
    ('notes = 3\n', "notes"),
    ('language = ["en"]\n', "language"),
])
def test_bad_values_are_reported(tmp_path, text, word):
    with pytest.raises(UsageError) as caught:
        load(tmp_path, text)
    assert word in str(caught.value)


def test_bad_platform_values_are_usage_errors(tmp_path):
    cfg = load(tmp_path, '[platforms.x]\nlimit = "lots"\noverflow = "explode"\n')
    with pytest.raises(UsageError):
        platforms.get("x").configure(cfg.platform("x"))


def test_an_empty_environment_variable_does_not_override_the_file(tmp_path, monkeypatch):
    (tmp_path / "notecast.toml").write_text('[platforms.bluesky]\nhandle = "me.bsky.social"\n')
    monkeypatch.setenv("NOTECAST_BLUESKY_HANDLE", "")  # how an unset GitHub variable arrives
    from pipeline import config

    assert config.load(tmp_path / "notecast.toml").platform("bluesky")["handle"] == "me.bsky.social"
