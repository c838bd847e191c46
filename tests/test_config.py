"""Configuration: defaults, notecast.toml, --config, environment overrides, unknown keys, secrets."""
from __future__ import annotations

import dataclasses
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
    (tmp_path / "tpl").mkdir()
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
    """The environment as the command starts: the configuration keeps what it read then."""
    monkeypatch.setenv("NOTECAST_BLUESKY_HANDLE", "env.bsky.social")
    monkeypatch.setenv("NOTECAST_BLUESKY_APP_PASSWORD", "env-app-password")
    monkeypatch.setenv("NOTECAST_X_LIMIT", "4000")
    monkeypatch.setenv("NOTECAST_MASTODON_ENABLED", "false")
    cfg = load(tmp_path, '[platforms.bluesky]\nhandle = "file.bsky.social"\n\n[platforms.x]\nlimit = 280\n')
    monkeypatch.setenv("NOTECAST_X_LIMIT", "5000")  # later changes are not seen
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


def test_bad_platform_values_are_usage_errors(tmp_path, monkeypatch):
    cfg = load(tmp_path, '[platforms.x]\noverflow = "explode"\n')
    with pytest.raises(UsageError):
        platforms.get("x").configure(cfg.platform("x"))
    monkeypatch.setenv("NOTECAST_X_LIMIT", "lots")  # the environment is read after the file is checked
    with pytest.raises(UsageError):
        platforms.get("x").configure(load(tmp_path, "").platform("x"))


@pytest.mark.parametrize("text, words", [
    ('ledger = "../elsewhere/ledger.jsonl"\n', "ledger '../elsewhere/ledger.jsonl' is outside the project folder"),
    ('ledger = "/tmp/ledger.jsonl"\n', "ledger '/tmp/ledger.jsonl' is outside the project folder"),
    ('notes = "/"\n', "notes '/' is outside the project folder"),
    ('notes = "../.."\n', "notes '../..' is outside the project folder"),
    ('templates = "notecast.toml"\n', "templates 'notecast.toml' is a file, not a folder"),
    ('templates = "nowhere"\n', "templates folder 'nowhere' does not exist"),
    ('[platforms.x]\nnumbering = "{i}/{n} {total}"\n', "not a format of {i} and {n} (unknown: {total})"),
    ('[platforms.x]\nnumbering = "{0}"\n', "(unknown: {0})"),
    ('[platforms.x]\nnumbering = "{i"\n', "is not a format of {i} and {n}"),
    ('[platforms.x]\nnumbering = "{n} posts"\n', "does not show the post's number {i}"),
    ('[platforms.x]\nnumbering = 3\n', "numbering must be on, off or a format"),
    ('[platforms.x]\nlimit = 0\n', "[platforms.x] limit must be a whole number of characters, at least 1, not 0"),
    ('[platforms.x]\nlimit = -5\n', "limit must be a whole number"),
    ('[platforms.x]\nlimit = "lots"\n', "limit must be a whole number"),
    ('[platforms.mastodon]\nmax_characters = 0\n', "[platforms.mastodon] max_characters must be a whole number"),
    ('[platforms.mastodon]\nvisibility = "everyone"\n', "visibility 'everyone' is not one of public, unlisted, private, direct"),
    ('[platforms.bluesky]\nenabled = "yes"\n', "[platforms.bluesky] enabled must be true or false, not 'yes'"),
    ('max_thread_posts = 0\n', "max_thread_posts must be a whole number"),
    ('follow_external_symlinks = "yes"\n', "follow_external_symlinks must be true or false"),
])
def test_bad_settings_name_their_key(tmp_path, text, words):
    with pytest.raises(UsageError) as caught:
        load(tmp_path, text)
    assert words in str(caught.value) and caught.value.exit_code == 2
    assert str(caught.value).count("\n") == 0  # one problem, one line


def test_good_settings_pass(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "notes").mkdir()
    cfg = load(tmp_path, 'notes = "notes"\ntemplates = "tpl"\nledger = "./state/l.jsonl"\nmax_thread_posts = 40\n'
                         'follow_external_symlinks = true\n[platforms.x]\nnumbering = "({i}/{n})"\nlimit = 1\n'
                         '[platforms.mastodon]\nvisibility = "direct"\nenabled = false\n')
    assert cfg.max_thread_posts == 40 and cfg.follow_external_symlinks is True


@pytest.mark.parametrize("platform, key, variable", [
    ("bluesky", "password", "NOTECAST_BLUESKY_APP_PASSWORD"),
    ("bluesky", "pass", "NOTECAST_BLUESKY_APP_PASSWORD"),
    ("mastodon", "access_token", "NOTECAST_MASTODON_TOKEN"),
    ("linkedin", "api_token", "NOTECAST_LINKEDIN_TOKEN"),
    ("x", "token", "NOTECAST_X_ACCESS_TOKEN"),
    ("x", "secret", "NOTECAST_X_ACCESS_SECRET or NOTECAST_X_API_SECRET"),
    ("linkedin", "client_secret", "NOTECAST_LINKEDIN_CLIENT_SECRET"),  # declared since doctor reads it
])
def test_a_secret_under_another_name_names_the_real_variable(tmp_path, platform, key, variable):
    with pytest.raises(UsageError) as caught:
        load(tmp_path, f'[platforms.{platform}]\n{key} = "hunter2-value"\n')
    message = str(caught.value)
    assert f"secret '{key}' in the file" in message and f"({variable})" in message
    assert "unknown key" not in message and "hunter2-value" not in message


def test_secret_names_come_from_the_platforms_declared_settings(tmp_path):
    path = write(tmp_path, '[platforms.x]\npassword = "p"\n')
    pin = dataclasses.replace(platforms.get("x"), settings=(platforms.Setting("pin", secret=True),))
    with pytest.raises(UsageError, match=r"\(NOTECAST_X_PIN\)"):
        config.load(path, registry={"x": pin})


def test_an_empty_environment_variable_does_not_override_the_file(tmp_path, monkeypatch):
    (tmp_path / "notecast.toml").write_text('[platforms.bluesky]\nhandle = "me.bsky.social"\n')
    monkeypatch.setenv("NOTECAST_BLUESKY_HANDLE", "")  # how an unset GitHub variable arrives
    from pipeline import config

    assert config.load(tmp_path / "notecast.toml").platform("bluesky")["handle"] == "me.bsky.social"
