"""Hostile inputs: each one is a clear `path:line: level: message` from `notecast check`, in bounded time and
memory, never a traceback.

Every case runs the real command in a subprocess with its address space capped (RLIMIT_AS) and a timeout,
so an input that makes notecast run away fails the test instead of the machine.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

MEMORY = 1 << 30  # 1 GiB of address space


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ", ".join(f"*{prev}" for _ in range(9)) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\nLaughs.\n"


def note(front: str = "title: A note", body: str = "Some text.") -> str:
    return f"---\n{front}\n---\n{body}\n"


LEDGER_LINES = ('{"v":1,"at":"","event":"done","note":"n.md","platform":"x","edition":{},"part":0,"parts":1}\n'
                '{"v":1,"event":"intent","note":"n.md","error":"caf\xc3').encode("latin-1")

# name: (files to write, command arguments, expected exit code, the line expected in the output, seconds allowed)
# A file's content may be text, bytes, or a symlink target given as ("->", target).
CASES = {
    "alias bomb": ({"n.md": billion_laughs()}, ["check", "n.md"], 1,
                   "n.md:6: error: front matter expands to more than 10,000 values", 5),
    "recursive alias": ({"n.md": note("title: t\nloop: &a [x, *a]")}, ["check", "n.md"], 1,
                        "n.md:3: error: front matter has a value that contains itself", 5),
    "deep nesting": ({"n.md": note("title: " + "[" * 100_000 + "]" * 100_000)}, ["check", "n.md"], 1,
                     "n.md:2: error: front matter", 5),
    "a megabyte without spaces": ({"n.md": note(body="lorem.ipsum,dolor;sit/amet" * 40_000)}, ["check", "n.md"], 0,
                                  "n.md: warning: x: the note becomes", 90),  # about 7 s on 2 idle cores
    "a megabyte of spaces inside a line": ({"n.md": note(body="One" + " " * 1_000_000 + "two.")}, ["check", "n.md"], 0,
                                           "n.md: warning: linkedin: the note is 1000015 characters", 30),  # 2.5 s;
    # stripping white space at line ends from every space of the run took 40 s for 30,000 (quadratic)
    "enormous thread": ({"n.md": note(body="\n\n".join("Sentence number %d is here." % i for i in range(2000)))},
                        ["check", "n.md"], 0, "n.md: warning: bluesky: the note becomes", 30),
    "template divides by zero": ({"n.md": note(), "templates/x.j2": "{{ title }}\n{{ 1/0 }}\n"}, ["check", "n.md"], 1,
                                 "templates/x.j2:2: error: template error: ZeroDivisionError", 5),
    "template includes a missing file": ({"n.md": note(), "templates/x.j2": "{% include 'gone.j2' %}\n"},
                                         ["check", "n.md"], 1, "templates/x.j2:1: error: template error: no template", 5),
    "template recursion": ({"n.md": note(), "templates/x.j2": "{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}\n"},
                           ["check", "n.md"], 1, "templates/x.j2:", 10),
    "template huge range": ({"n.md": note(), "templates/x.j2": "{% for i in range(10**9) %}x{% endfor %}\n"},
                            ["check", "n.md"], 1, "templates/x.j2:1: error: template tried something unsafe", 5),
    "template huge string": ({"n.md": note(), "templates/x.j2": "{{ title }}\n{{ 'x' * 10**9 }}\n"},
                             ["check", "n.md"], 1, "templates/x.j2:2: error: template tried something unsafe", 5),
    "ledger torn and hand-edited": ({"n.md": note(), ".notecast/ledger.jsonl": LEDGER_LINES}, ["check", "n.md"], 0,
                                    ".notecast/ledger.jsonl:1: warning: ledger line skipped", 5),
    "ledger is a folder": ({"n.md": note(), ".notecast/ledger.jsonl/x": "x"}, ["check", "n.md"], 2,
                           ".notecast/ledger.jsonl: error: cannot read the ledger: it is a folder", 5),
    "config notes outside": ({"n.md": note(), "notecast.toml": 'notes = "/"\n'}, ["check", "n.md"], 2,
                             "notecast.toml: error: notes '/' is outside the project folder", 5),
    "config bad numbering": ({"n.md": note(), "notecast.toml": '[platforms.x]\nnumbering = "{i}/{total}"\n'},
                             ["check", "n.md"], 2, "notecast.toml: error: [platforms.x] numbering", 5),
    "config secret": ({"n.md": note(), "notecast.toml": '[platforms.bluesky]\npassword = "hunter2"\n'},
                      ["check", "n.md"], 2, "NOTECAST_BLUESKY_APP_PASSWORD", 5),
    "config negative limit": ({"n.md": note(), "notecast.toml": '[platforms.x]\nlimit = -1\n'}, ["check", "n.md"], 2,
                              "notecast.toml: error: [platforms.x] limit must be a whole number", 5),
    "front matter of the wrong type": ({"n.md": note("title: t\nlang: [en, {x: 1}]")}, ["check", "n.md"], 1,
                                       "n.md:3: error: lang", 5),
    "title of keys": ({"n.md": note("title: {a: 1}")}, ["check", "n.md"], 1, "n.md:2: error: title must be text", 5),
    "empty image": ({"n.md": note(body="![a picture](p.png)"), "p.png": b""}, ["check", "n.md"], 1,
                    "n.md:4: error: image p.png is an empty file", 5),
    "image of another type": ({"n.md": note(body="![a picture](p.jpg)"), "p.jpg": b"\x89PNG\r\n\x1a\n"},
                              ["check", "n.md"], 1, "n.md:4: error: image p.jpg is not a JPEG image", 5),
    "note symlinked out of the vault": ({"vault/ok.md": note(), "vault/n.md": ("->", "../secret.md"),
                                         "secret.md": note("title: Secret")}, ["check", "vault"], 1,
                                        "vault/n.md: error: is a symbolic link to", 5),
    "image symlinked out of the vault": ({"vault/n.md": note(body="![a picture](p.png)"),
                                          "vault/p.png": ("->", "../outside.png"), "outside.png": b"\x89PNG\r\n\x1a\n"},
                                         ["check", "vault"], 1, "vault/n.md:4: error: image p.png is outside", 5),
}


def limited() -> None:
    """In the child: cap its address space, so a runaway input fails with MemoryError, not the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(cwd: Path, args: list[str], stdin: bytes | None = None, timeout: float = 60):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, input=stdin, env=env,
                          capture_output=True, timeout=timeout, preexec_fn=limited)
    return done, time.perf_counter() - start


def build(root: Path, files: dict) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            path.symlink_to(content[1])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_hostile_input(tmp_path, name):
    files, args, code, expected, seconds = CASES[name]
    build(tmp_path, files)
    done, took = run(tmp_path, args, timeout=seconds * 3 + 30)
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert "Traceback" not in out + err and "internal error" not in out + err, err
    assert done.returncode == code, out + err
    lines = [line for line in (out + err).splitlines() if expected in line]
    assert len(lines) == 1, f"expected one line with {expected!r}:\n{out}{err}"
    assert len(lines[0]) < 400, "a message quotes values short"
    level = "error" if code else "warning"
    assert sum(f": {level}: " in line for line in (out + err).splitlines()) >= 1
    assert took < seconds, f"{name} took {took:.1f} s"


def test_invalid_utf8_on_length_stdin(tmp_path):
    done, took = run(tmp_path, ["length", "--platform", "bluesky"], stdin=b"ok \xff\xfe then more")
    assert done.returncode == 2 and done.stdout == b""
    assert b"<stdin>: error: invalid UTF-8 at byte 3" in done.stderr and b"Traceback" not in done.stderr
    assert took < 5


def test_the_other_notes_go_on(tmp_path):
    """Every bad note of the table in one vault: each reports its own error and the good note is still checked."""
    vault = tmp_path / "vault"
    build(vault, {"good.md": note("title: Good", "Fine.")})
    for i, key in enumerate(("alias bomb", "front matter of the wrong type", "empty image", "title of keys")):
        files = CASES[key][0]
        build(vault, {f"bad{i}-{n}" if n.endswith(".md") else n: c for n, c in files.items()})
    done, took = run(tmp_path, ["check", "vault"])
    out = done.stdout.decode()
    assert done.returncode == 1 and "Traceback" not in out + done.stderr.decode()
    assert {line.split(":")[0] for line in out.splitlines() if ": error: " in line} == {
        "vault/bad0-n.md", "vault/bad1-n.md", "vault/bad2-n.md", "vault/bad3-n.md"}
    assert "checked 5 note(s)" in done.stderr.decode() and took < 10


# ---- random front matter and bodies: never an internal error -------------------------------------------

import tempfile  # noqa: E402 (the property test's own imports, kept with it)
from datetime import date, datetime, timezone  # noqa: E402

import yaml  # noqa: E402
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline import cli  # noqa: E402

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", 200))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["ready", "draft", "x", "linkedin", "bluesky", "2026-12-01T09:00:00+01:00", "next tuesday",
                     "essay", "../../etc/passwd", "en", "pt-BR", "{{ 1/0 }}", ":rocket:", "#tag", "@a@b.c"]),
    st.dates(min_value=date(1, 1, 1)), st.datetimes(timezones=st.just(timezone.utc)))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8) | st.sampled_from(["overflow", "limit", "numbering"]),
                                                 inner, max_size=4)), max_leaves=12)
KEYS = st.sampled_from(["title", "date", "tags", "lang", "language", "Title", "aliases", "created"]) | st.text(max_size=10)
NOTECAST = st.dictionaries(
    st.sampled_from(["platforms", "publish_at", "status", "template", "hashtags", "linkedin", "x", "bluesky",
                     "mastodon", "colour"]), VALUES, max_size=5)
BODY_PIECES = st.sampled_from([
    "text ", "\n", "\n\n", "# Heading\n", "- item\n", "\t- tab item\n", "1. one\n", "> quote\n", "> [!tip] T\n",
    "```py\ncode :rocket:\n```\n", "`x`", "**b**", "_i_", "==hl==", "%%c%%", "<!-- c -->", "[[Note|alias]]",
    "![[img.png|alt]]", "![alt](img.png)", "![](https://e.com/a.png)", "[l](https://e.com)", "https://e.com/a_(b)",
    "#tag ", "@user@ex.social ", "@h.bsky.social ", ":rocket:", "a:b:c", "10:30:00", "[^1]", "\n[^1]: note\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n", "…", "。", "👩‍👩‍👧‍👦", "é\u0301", "\ue000", "\x00", "\r\n", "\f", "---\n",
    "{{ title }}", "x" * 300, "a.b/c" * 40])
BODIES = st.lists(BODY_PIECES | st.text(max_size=20), max_size=40).map("".join)


def front_matter(data: dict, raw: str | None) -> str:
    """YAML for ``data`` (or ``raw`` text as it is), between --- lines."""
    try:
        text = raw if raw is not None else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        text = "title: x\n"
    return f"---\n{text}---\n"


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(KEYS, VALUES, max_size=6), block=st.none() | NOTECAST,
       raw=st.none() | st.text(max_size=80), body=BODIES, with_front=st.booleans())
def test_random_notes_never_cause_an_internal_error(monkeypatch, capsys, data, block, raw, body, with_front):
    if block is not None:
        data = {**data, "notecast": block}
    with tempfile.TemporaryDirectory() as folder:
        monkeypatch.chdir(folder)
        Path("img.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        Path("n.md").write_text((front_matter(data, raw) if with_front else "") + body, encoding="utf-8",
                                errors="surrogatepass")
        code = cli.main(["check", "n.md"])
    out, err = capsys.readouterr()
    event(f"exit {code}")  # --hypothesis-show-statistics: how many examples got through to fitting
    assert code in (0, 1, 2), (code, err)
    assert "internal error" not in err and "Traceback" not in out + err, err
    if code:
        assert ": error: " in out + err, (out, err)
