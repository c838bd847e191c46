"""The notecast command, run as users run it: a subprocess with a clean environment.

Every run asserts that no traceback reaches the user.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "posts/202303012203-my-failure-resume.md"
PLATFORMS = ("linkedin", "x", "bluesky", "mastodon", "threads")
MEDIA_URL = {"NOTECAST_THREADS_MEDIA_BASE_URL": "https://raw.example/notes/main"}  # Threads attaches images too
PROBLEM = re.compile(r"^(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+))?: (?P<level>error|warning): (?P<message>.+)$")



def env(**extra: str) -> dict[str, str]:
    """A clean environment: no NOTECAST_* at all unless given, but link cards off (the sample notes link to the
    web, and tests reach no server but their own)."""
    out = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp"),
           "NOTECAST_CARDS": "off"}
    out.update(extra)
    return out


def notecast(*args: str, cwd: Path = ROOT, stdin: str | None = None, extra_env: dict | None = None,
             python_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *python_args, "-m", "pipeline", *args], cwd=cwd, input=stdin,
                          env=env(**(extra_env or {})), capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def problems(output: str) -> list[dict]:
    """Every `path:line: level: message` line; any other line fails the test."""
    found = []
    for line in output.splitlines():
        match = PROBLEM.match(line)
        assert match, f"not a problem line: {line!r}"
        found.append(match.groupdict())
    return found


# ---- version and help ----------------------------------------------------------------------------


def test_version():
    from pipeline import __version__

    done = notecast("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"notecast {__version__}"


def test_console_script_version():
    script = Path(sys.executable).parent / "notecast"
    if not script.exists():
        pytest.skip("the notecast console script is not installed beside this Python")
    done = subprocess.run([str(script), "--version"], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("notecast ")


def test_the_command_tunes_the_garbage_collector_and_a_caller_of_main_keeps_its_own():
    """``notecast`` freezes what it loaded and collects young objects every 10,000 allocations (a vault's notes
    are kept to the end of the command); ``main()`` called in a process that goes on (tests, a script) leaves
    the collector alone."""
    probe = ("import gc, sys; from pipeline import cli; sys.argv = ['notecast', 'status', 'posts']; "
             "{call}; print(gc.get_threshold()[0], gc.get_freeze_count() > 0)")
    command = subprocess.run([sys.executable, "-c", probe.format(call="cli.command()")], cwd=ROOT, env=env(),
                             capture_output=True, text=True, timeout=60)
    assert command.stdout.split()[-2:] == ["10000", "True"], command.stderr
    caller = subprocess.run([sys.executable, "-c", probe.format(call="cli.main(sys.argv[1:])")], cwd=ROOT,
                            env=env(), capture_output=True, text=True, timeout=60)
    assert caller.stdout.split()[-2:] == ["700", "False"], caller.stderr


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_neither_requests_nor_jinja2(args):
    done = notecast(*args, python_args=("-X", "importtime"))
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "pipeline" in imported or "pipeline.cli" in imported
    heavy = {m for m in imported if m.split(".")[0] in ("requests", "jinja2", "urllib3")}
    assert not heavy, heavy


def test_help_lists_commands_and_exit_codes():
    done = notecast("--help")
    for word in ("render", "check", "length", "preview", "publish", "status", "resolve", "doctor", "exit codes"):
        assert word in done.stdout


@pytest.mark.parametrize("command", ["render", "check", "length", "preview", "publish", "status", "resolve", "doctor"])
def test_every_command_has_help(command):
    from pipeline.cli import COMMANDS

    assert command in COMMANDS
    done = notecast(command, "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: notecast {command}")
    assert "exit codes" in done.stdout


def test_doctor_help_says_what_it_checks_and_the_json_shape():
    done = notecast("doctor", "--help")
    assert "read-only call" in done.stdout and "--platform" in done.stdout
    assert '[{"platform", "level", "message", "hint"}]' in " ".join(done.stdout.split())


# ---- check ---------------------------------------------------------------------------------------------


def test_check_samples_exits_0():
    done = notecast("check", "posts/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert all(p["level"] == "warning" for p in problems(done.stdout))
    assert re.search(r"checked \d+ note\(s\): 0 error\(s\)", done.stderr)


@pytest.fixture
def bad_vault(tmp_path: Path) -> Path:
    v = tmp_path / "vault"
    (v / "sub").mkdir(parents=True)
    (v / "attachments").mkdir()
    (v / "attachments" / "ok.png").write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="))
    files = {
        "a-unclosed.md": "\n---\ntitle: never closed\nbody\n",
        "b-list.md": "---\n- a\n- b\n---\nbody\n",
        "c-scalar.md": "---\njust words\n---\nbody\n",
        "d-yaml.md": "\n---\ntitle: x\ntags: [a, b\n---\nbody\n",
        "e-empty.md": "",
        "f-good.md": "---\ntitle: Good\n---\nA fine note with ![a dot](attachments/ok.png).\n",
        "sub/g-keys.md": "---\ntitle: k\nnotecast:\n  colour: red\n  platforms: [linkedin, myspace]\n"
                         "  publish_at: next tuesday\n---\nbody\n",
        "sub/h-escape.md": "---\ntitle: esc\n---\nText.\n\n![secret](../../etc/passwd)\n",
        "sub/i-missing.md": "---\ntitle: m\n---\n![a chart](attachments/nope.png)\n",
        "sub/j-noalt.md": "---\ntitle: n\n---\n![](../attachments/ok.png)\n",
        "z-good.md": "---\ntitle: Last good\n---\nStill checked after all the bad ones.\n",
        ".obsidian/bad.md": "---\n- hidden\n---\n",
        ".trash/bad.md": "\x00binary",
        ".git/bad.md": "",
        "sub/.hidden/bad.md": "",
    }
    for name, text in files.items():
        path = v / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (v / "attachments" / "link.png").symlink_to("/etc/hostname")  # inside by name, outside in fact
    (v / "sub" / "m-symlink.md").write_text("---\ntitle: s\n---\n![a host](../attachments/link.png)\n", encoding="utf-8")
    (v / "k-binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (v / "l-latin1.md").write_bytes("---\ntitle: caf\xe9\n---\nbody\n".encode("latin-1"))
    return v


def test_check_bad_vault(bad_vault):
    done = notecast("check", ".", cwd=bad_vault, extra_env=MEDIA_URL)
    assert done.returncode == 1
    found = problems(done.stdout)
    by_file: dict[str, list[dict]] = {}
    for p in found:
        by_file.setdefault(p["path"], []).append(p)
    expected_errors = {
        "a-unclosed.md": (2, "never closed"),
        "b-list.md": (2, "a list"),
        "c-scalar.md": (2, "not a set of keys"),
        "d-yaml.md": (4, "not valid YAML"),
        "e-empty.md": (None, "empty"),
        "k-binary.md": (None, "binary"),
        "l-latin1.md": (2, "UTF-8"),
        "sub/h-escape.md": (6, "outside the notes folder"),
        "sub/i-missing.md": (4, "not found"),
        "sub/m-symlink.md": (4, "outside the notes folder"),
    }
    for name, (line, words) in expected_errors.items():
        errors = [p for p in by_file.get(name, []) if p["level"] == "error"]
        assert errors, f"no error for {name}: {done.stdout}"
        assert any(words in p["message"] and (p["line"] == (str(line) if line else None)) for p in errors), errors
    keys = {p["line"]: p["message"] for p in by_file["sub/g-keys.md"]}
    assert "notecast.colour" in keys["4"] and "myspace" in keys["5"] and "publish_at" in keys["6"]
    assert all(p["level"] == "error" for p in by_file["sub/g-keys.md"])
    (noalt,) = by_file["sub/j-noalt.md"]
    assert noalt["level"] == "warning" and "alt text" in noalt["message"] and noalt["line"] == "4"
    assert "f-good.md" not in by_file and "z-good.md" not in by_file
    assert not any(".obsidian" in f or ".trash" in f or ".git" in f or ".hidden" in f for f in by_file)
    summary = re.search(r"checked (\d+) note\(s\): (\d+) error\(s\), (\d+) warning\(s\)", done.stderr)
    assert summary and int(summary.group(2)) == sum(p["level"] == "error" for p in found)
    for line in done.stdout.splitlines():
        assert "; " in line, f"every problem carries a hint: {line}"


@pytest.fixture
def linked_vault(tmp_path: Path) -> Path:
    """A vault with symbolic links: a folder and a note leading out of it, a folder inside it, a loop."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.md").write_text("---\ntitle: Secret\n---\nNot for posting.\n", encoding="utf-8")
    (tmp_path / "outside" / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    v = tmp_path / "vault"
    (v / "real").mkdir(parents=True)
    (v / "real" / "a.md").write_text("---\ntitle: A\n---\nA note. ![a picture](../pic.png)\n", encoding="utf-8")
    (v / "inside").symlink_to("real")
    (v / "real" / "loop").symlink_to("..")
    (v / "away").symlink_to("../outside")
    (v / "secret.md").symlink_to("../outside/secret.md")
    (v / "pic.png").symlink_to("../outside/pic.png")
    return v


def test_symlinks_out_of_the_vault_are_reported_and_skipped(linked_vault):
    done = notecast("check", ".", cwd=linked_vault)
    assert done.returncode == 1
    errors = {(p["path"], p["line"]): p["message"] for p in problems(done.stdout) if p["level"] == "error"}
    assert set(errors) == {("away", None), ("secret.md", None), ("real/a.md", "4")}, done.stdout
    assert "symbolic link" in errors[("away", None)] and "outside the notes folder" in errors[("secret.md", None)]
    assert "checked 1 note(s)" in done.stderr  # real/a.md once, though inside/ and the loop lead to it again


def test_follow_external_symlinks_allows_them(linked_vault):
    (linked_vault / "notecast.toml").write_text("follow_external_symlinks = true\n", encoding="utf-8")
    done = notecast("check", ".", cwd=linked_vault)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checked 2 note(s): 0 error(s)" in done.stderr  # real/a.md, and secret.md (away/secret.md is the same)


def test_check_warns_about_a_hand_edited_ledger_line(tmp_path):
    (tmp_path / "n.md").write_text("---\ntitle: n\n---\nA note.\n", encoding="utf-8")
    (tmp_path / ".notecast").mkdir()
    line = '{"v":1,"at":"","event":"done","note":"n.md","platform":"x","edition":{},"part":0,"parts":1}'
    (tmp_path / ".notecast" / "ledger.jsonl").write_bytes(line.encode() + b'\n{"v":1,"event":"in\xc3')
    done = notecast("check", "n.md", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ('.notecast/ledger.jsonl:1: warning: ledger line skipped: "edition" must be text, not {}' in done.stdout)
    assert "ledger.jsonl:2" not in done.stdout  # a torn last line is skipped quietly


def test_check_warns_that_threads_needs_a_media_url_for_images(bad_vault):
    done = notecast("check", "f-good.md", cwd=bad_vault)
    assert done.returncode == 0
    assert done.stdout == ("f-good.md: warning: threads: 1 image(s) left out: Threads fetches images from a public "
                           "URL; set media_base_url (e.g. the raw URL of your notes repository's default branch) to "
                           "attach them\n")


def test_check_keeps_going_after_a_bad_note(bad_vault):
    """The note after every bad one is still checked: its own problem is reported."""
    (bad_vault / "zz-late.md").write_text("---\ntitle: late\nnotecast:\n  status: maybe\n---\nx\n", encoding="utf-8")
    done = notecast("check", ".", cwd=bad_vault)
    assert "zz-late.md:4: error: notecast.status 'maybe'" in done.stdout


def test_check_strict_makes_warnings_errors(tmp_path):
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "n.md").write_text("---\ntitle: n\n---\n![](attachments/ok.png)\n", encoding="utf-8")
    assert notecast("check", ".", cwd=tmp_path).returncode == 0
    strict = notecast("check", "--strict", ".", cwd=tmp_path)
    assert strict.returncode == 1 and "n.md:4: error: image attachments/ok.png has no alt text" in strict.stdout


def test_check_a_single_file_and_several_paths(bad_vault):
    done = notecast("check", "f-good.md", "z-good.md", cwd=bad_vault, extra_env=MEDIA_URL)
    assert done.returncode == 0 and done.stdout == ""
    done = notecast("check", "f-good.md", "b-list.md", cwd=bad_vault)
    assert done.returncode == 1 and done.stdout.startswith("b-list.md:2: error:")


# ---- exit codes and no traceback, ever -----------------------------------------------------------------


@pytest.mark.parametrize("args, code", [
    (["check", "posts/"], 0),
    (["render", EXAMPLE, "-p", "x"], 0),
    (["check", "no/such/folder"], 2),
    (["render", "no-such-note.md"], 2),
    (["render"], 2),
    (["bogus-command"], 2),
    ([], 2),
    (["--config", "missing.toml", "check", "posts/"], 2),
    (["length", "--platform", "myspace"], 2),
    (["render", EXAMPLE, "--platform", "myspace"], 2),
    (["render", EXAMPLE, "--format", "xml"], 2),
    (["preview", EXAMPLE, "--html", "/nonexistent-folder/x.html"], 2),
    (["status", "no/such/folder"], 2),
    (["publish", "--dry-run", "no/such/folder"], 2),
])
def test_exit_codes(args, code):
    done = notecast(*args, stdin="")
    assert done.returncode == code, done.stdout + done.stderr
    if code == 2:
        assert (done.stderr or done.stdout).strip(), "a usage error says what is wrong"


def test_bad_configuration_exits_2(tmp_path):
    (tmp_path / "notecast.toml").write_text("this is = = not toml\n", encoding="utf-8")
    done = notecast("check", str(ROOT / "posts"), cwd=tmp_path)
    assert done.returncode == 2 and "notecast.toml: error: not valid TOML" in done.stderr


@pytest.mark.parametrize("command", [["render"], ["preview"], ["status"], ["publish", "--dry-run"]])
def test_bad_notes_never_give_a_traceback(bad_vault, command):
    args = [*command, "k-binary.md" if command == ["preview"] else "."]
    done = notecast(*args, cwd=bad_vault)
    assert done.returncode == 1, done.stdout + done.stderr


# ---- length ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform, text, length, limit", [
    ("x", "hello https://example.com/a/very/long/path/that/is/shortened\n", 29, 280),
    ("x", "日本語", 6, 280),
    ("mastodon", "hi https://example.com/a/very/long/path @alice@example.social", 33, 500),  # 3 + 23 + 1 + 6
    ("bluesky", "👩‍👩‍👧‍👦 family", 8, 300),
    ("linkedin", "a (b)", 7, 3000),
])
def test_length(platform, text, length, limit):
    done = notecast("length", "--platform", platform, stdin=text)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"platform": platform, "length": length, "limit": limit, "fits": True}


def test_length_over_the_limit():
    done = notecast("length", "--platform", "x", stdin="a" * 281)
    assert json.loads(done.stdout) == {"platform": "x", "length": 281, "limit": 280, "fits": False}


def test_length_refuses_invalid_utf8():
    done = subprocess.run([sys.executable, "-m", "pipeline", "length", "--platform", "x"], cwd=ROOT,
                          input=b"caf\xe9 au lait", env=env(), capture_output=True, timeout=60)
    assert done.returncode == 2 and done.stdout == b""
    assert b"<stdin>: error: invalid UTF-8 at byte 3 (0xe9)" in done.stderr and b"Traceback" not in done.stderr


# ---- render --format json --------------------------------------------------------------------------------


def test_render_json_shape():
    done = notecast("render", "posts/", "--format", "json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    notes = {r["note"] for r in results}
    chosen = {r["note"]: 4 if "launch" in r["note"] else len(PLATFORMS) for r in results}  # it names four
    assert len(results) == sum(chosen.values()) and EXAMPLE in notes
    for r in results:
        assert set(r) >= {"note", "platform", "title", "posts", "warnings"}
        assert r["platform"] in PLATFORMS and isinstance(r["title"], str) and isinstance(r["warnings"], list)
        assert not re.match(r"\d{8}", r["title"])
        assert (ROOT / r["note"]).is_file() and not Path(r["note"]).is_absolute()
        if r["platform"] == "linkedin":
            assert len(r["posts"]) == 1
        for post in r["posts"]:
            assert set(post) >= {"text", "length", "limit", "media"}
            assert isinstance(post["text"], str) and 0 < post["length"] <= post["limit"]
            for media in post["media"]:
                assert set(media) == {"path", "alt"} and (ROOT / media["path"]).is_file()
                assert not Path(media["path"]).is_absolute()
            if r["platform"] == "bluesky":
                data = post["text"].encode("utf-8")
                for facet in post["facets"]:
                    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
                    assert 0 <= start < end <= len(data)
                    data[start:end].decode("utf-8")  # on character boundaries
                    (feature,) = facet["features"]
                    assert feature["$type"] in ("app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag",
                                                "app.bsky.richtext.facet#mention")
            else:
                assert "facets" not in post
    example = [r for r in results if r["note"] == EXAMPLE]
    assert {r["title"] for r in example} == {"My failure resume"}
    assert all(r["posts"][0]["media"][0]["path"].startswith("posts/notes/attachments/") for r in example
               if r["platform"] != "threads")  # Threads attaches images only with media_base_url set


def test_render_text_format():
    done = notecast("render", EXAMPLE, "-p", "mastodon")
    assert done.stdout.startswith(f"== {EXAMPLE} → Mastodon (thread of ")
    assert re.search(r"^--- \[1/\d+\] \d+/500$", done.stdout, re.M)


def test_render_a_folder_with_a_bad_note_renders_the_rest(bad_vault):
    done = notecast("render", ".", "--format", "json", "-p", "x", cwd=bad_vault)
    assert done.returncode == 1
    rendered = {r["note"] for r in json.loads(done.stdout)}
    assert {"f-good.md", "z-good.md"} <= rendered
    assert "b-list.md:2: error:" in done.stderr


# ---- preview --html ---------------------------------------------------------------------------------


class Page(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text, self.alts, self.errors = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_preview_html(tmp_path):
    out = tmp_path / "preview.html"
    done = notecast("preview", EXAMPLE, "--html", str(out))
    assert done.returncode == 0 and out.is_file()
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    text = "".join(page.text)
    assert "…see more" in text  # LinkedIn's fold
    assert "ALT: missing" in text  # the example's image has no alt text, and the page says so
    assert page.alts == [""] * 4  # the image on each platform, with its (empty) alt attribute
    assert all(dict(t[1]).get("src", "").startswith("data:image/png;base64,") for t in page.tags if t[0] == "img")
    sections = [attrs.get("class", "") for tag, attrs in page.tags if tag == "section"]
    assert [s.split()[-1] for s in sections] == list(PLATFORMS)
    assert "Traceback" not in text


def test_preview_html_alt_text(tmp_path):
    out = tmp_path / "p.html"
    done = notecast("preview", "posts/202411101930-writing-in-public.md", "-p", "bluesky", "--html", str(out))
    assert done.returncode == 0
    page = Page()
    page.feed(out.read_text(encoding="utf-8"))
    assert not page.errors
    assert page.alts == ["A bar chart of notes written per week: four bars, rising and then falling again"]


def test_preview_terminal():
    done = notecast("preview", EXAMPLE, "-p", "linkedin")
    assert done.returncode == 0
    assert "⟪…see more⟫" in done.stdout and "/3000" in done.stdout


# ---- publish --dry-run -------------------------------------------------------------------------------

FAKE_SECRETS = {
    "NOTECAST_LINKEDIN_TOKEN": "fake-linkedin-token-0001",
    "NOTECAST_MASTODON_TOKEN": "fake-mastodon-token-0002",
    "NOTECAST_BLUESKY_APP_PASSWORD": "fake-app-pass-0003",
    "NOTECAST_X_API_KEY": "fake-x-api-key-0004",
    "NOTECAST_X_API_SECRET": "fake-x-api-secret-0005",
    "NOTECAST_X_ACCESS_TOKEN": "fake-x-access-token-0006",
    "NOTECAST_X_ACCESS_SECRET": "fake-x-access-secret-0007",
    "NOTECAST_THREADS_TOKEN": "fake-threads-token-0008",
}


def requests_by_platform(stdout: str) -> dict[str, list[str]]:
    """The request lines (METHOD URL) printed under each `== note → platform: would send` header."""
    found: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        header = re.match(r"^== .+ → (\w+): would send", line)
        if header:
            current = found.setdefault(header.group(1), [])
        elif current is not None and re.match(r"^(GET|POST|PUT|PATCH|DELETE) https?://", line):
            current.append(line)
    return found


def assert_no_secret(output: str, values) -> None:
    for value in values:
        for form in (value, base64.b64encode(value.encode()).decode().rstrip("=")):
            assert form not in output, f"a secret leaked: {value}"


def test_publish_dry_run_mastodon_without_settings():
    done = notecast("publish", "--dry-run", "-p", "mastodon", "posts/")
    assert done.returncode == 0, done.stderr
    sent = requests_by_platform(done.stdout)
    assert sent["mastodon"] and all(r.startswith("POST https://") for r in sent["mastodon"])
    assert "nothing was sent" in done.stderr


def test_publish_dry_run_mastodon_hides_secrets():
    done = notecast("publish", "--dry-run", "-p", "mastodon", "posts/", extra_env=FAKE_SECRETS)
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout + done.stderr, FAKE_SECRETS.values())
    assert "Authorization: ****" in done.stdout


def test_publish_dry_run_all_platforms_without_settings(tmp_path):
    ledger_before = sorted((ROOT / ".notecast").glob("*")) if (ROOT / ".notecast").exists() else []
    done = notecast("publish", "--dry-run", "posts/")
    assert done.returncode == 0, done.stdout + done.stderr
    sent = requests_by_platform(done.stdout)
    assert set(sent) == set(PLATFORMS), sent.keys()
    assert all(sent[name] for name in PLATFORMS)
    assert "nothing was sent" in done.stderr
    after = sorted((ROOT / ".notecast").glob("*")) if (ROOT / ".notecast").exists() else []
    assert after == ledger_before  # no ledger written


def test_publish_dry_run_all_platforms_never_shows_a_secret():
    done = notecast("publish", "--dry-run", "posts/", extra_env=FAKE_SECRETS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(requests_by_platform(done.stdout)) == set(PLATFORMS)
    assert_no_secret(done.stdout + done.stderr, FAKE_SECRETS.values())


def test_publish_without_dry_run_and_without_settings_fails_cleanly(tmp_path):
    note = tmp_path / "n.md"
    note.write_text("---\ntitle: n\nnotecast:\n  status: ready\n---\nHello.\n", encoding="utf-8")
    done = notecast("publish", "-p", "mastodon", str(note), cwd=tmp_path)
    assert done.returncode == 1
    assert "NOTECAST_MASTODON_TOKEN" in done.stderr and "--dry-run" in done.stderr


# ---- doctor -------------------------------------------------------------------------------------------------


def test_doctor_with_nothing_configured_exits_0():
    done = notecast("doctor")
    assert done.returncode == 0 and done.stdout == ""
    assert "no platform is configured" in done.stderr


def test_doctor_reports_an_unreachable_server_without_showing_the_token():
    done = notecast("doctor", "--format", "json", extra_env={"NOTECAST_MASTODON_INSTANCE": "http://127.0.0.1:9",
                                                             "NOTECAST_MASTODON_TOKEN": "doctor-secret-token"})
    assert done.returncode == 1
    (finding,) = json.loads(done.stdout)
    assert finding["platform"] == "mastodon" and finding["level"] == "error"
    assert finding["message"].startswith("GET http://127.0.0.1:9/api/v1/accounts/verify_credentials: ConnectionError")
    assert "doctor-secret-token" not in done.stdout + done.stderr
