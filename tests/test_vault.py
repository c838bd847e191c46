"""Real vaults, whole: every folder read but hidden ones, the templates folder and ``exclude``; embeds
brought in (whole note, section, block, nested, cyclic, missing); attachments that are not images;
wikilinks to notes with a page; thematic breaks.

Golden files: tests/golden/vault.<platform>.txt is what ``notecast render . --platform P`` prints in
tests/data/vault. Regenerate after an intended change with
NOTECAST_UPDATE_GOLDEN=1 python -m pytest tests/test_vault.py and review the diff.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config as configuration, platforms
from pipeline.compose import compose_all
from pipeline.config import Config
from pipeline.errors import UsageError
from pipeline.report import as_text
from pipeline.vault import Vault, summary
from support import golden

VAULT = Path(__file__).resolve().parent / "data" / "vault"
PLATFORMS = ("linkedin", "x", "bluesky", "mastodon")


def run(*args: str, cwd: Path = VAULT) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr
    return done


@pytest.fixture(scope="module")
def rendered():
    old = os.getcwd()
    os.chdir(VAULT)
    try:
        cfg = configuration.load("notecast.toml", registry=platforms.registry())
        report = compose_all(["."], cfg)
    finally:
        os.chdir(old)
    assert not report.failures, report.failures
    return report


@pytest.mark.parametrize("name", PLATFORMS)
def test_vault_golden(rendered, name):
    golden(f"vault.{name}.txt", as_text([c for c in rendered.results if c.platform.name == name]) + "\n")


def test_every_folder_is_read_but_hidden_templates_and_excluded(rendered):
    read = {c.note.path.as_posix() for c in rendered.results}
    assert {"_posts/embeds.md", "__/Sub note.md", "__/Sections.md", "breaks.md"} <= read
    assert not any(p.startswith((".obsidian", ".trash", "templates", "Archive")) or "excalidraw" in p for p in read)
    assert summary(rendered.skipped) == "skipped 5 .md file(s): 2 in hidden folders, 1 in the templates folder, 2 matched exclude"


def test_check_exits_0_and_says_what_it_skipped():
    done = run("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped 5 .md file(s): 2 in hidden folders, 1 in the templates folder, 2 matched exclude" in done.stderr
    assert "checked 10 note(s): 0 error(s)" in done.stderr


def test_render_says_what_it_skipped_and_a_note_given_by_name_is_read():
    done = run("render", ".", "--platform", "x")
    assert done.returncode == 0 and "skipped 5 .md file(s)" in done.stderr
    done = run("render", "Archive/old.md", ".obsidian/workspace.md", "--platform", "x")
    assert done.returncode == 0 and "Archived, excluded." in done.stdout and "Obsidian settings" in done.stdout
    assert "skipped" not in done.stderr


def test_embeds_are_brought_in_once_each(rendered):
    (x,) = [c for c in rendered.results if c.platform.name == "x" and c.note.path.name == "embeds.md"]
    text = "\n".join(p.text for p in x.posts)
    assert "The sub note's whole text, without its front matter" in text and "fleeting-note" not in text
    assert "Second text." in text and "Deeper text stays" in text and "First text" not in text
    assert text.count("Third text. This is the key idea of the note.") == 1 and "^key-idea" not in text
    assert "• item two, named by its id" in text and "item one" not in text
    assert "Nested D is one embed too deep" not in text and "Nested D" in text
    assert "paper.pdf" in text and "talk.mp3" in text and not x.posts[0].media
    warnings = "\n".join(x.warnings)
    for words in ("'Cycle A' embeds itself", "'Missing note' not found", "no heading 'No such heading'",
                  "more than 3 embeds deep", "PDF paper.pdf is not posted", "audio talk.mp3 is not posted"):
        assert words in warnings


def test_wikilinks_link_to_pages_only_with_canonical_url(tmp_path):
    (tmp_path / "a.md").write_text("See [[B note|the other note]], [[Nowhere]] and [[Old]].\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b note.md").write_text("---\ntitle: Bee\n---\nB.\n", encoding="utf-8")
    (tmp_path / "Archive").mkdir()
    (tmp_path / "Archive" / "old.md").write_text("Old.\n", encoding="utf-8")
    cfg = Config(notes=tmp_path, canonical_url="https://garden.example/{slug}/", exclude=("Archive/",))
    (linked,) = compose_all([tmp_path / "a.md"], cfg, ("x",)).results
    assert linked.posts[0].text.endswith("See the other note https://garden.example/bee/, Nowhere and Old.")
    (plain,) = compose_all([tmp_path / "a.md"], Config(notes=tmp_path), ("x",)).results
    assert plain.posts[0].text.endswith("See the other note, Nowhere and Old.")


def test_names_resolve_as_obsidian_finds_them(tmp_path):
    for name in ("deep/deeper/Note.md", "other/note.md", "Note.png", "a/Picture.PNG", "b/c/picture.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "gone.md").write_text("x", encoding="utf-8")
    vault = Vault(tmp_path)
    assert vault.lookup("note") == tmp_path / "other/note.md"  # the shortest path first, any case, .md optional
    assert vault.lookup("Note.md") == tmp_path / "other/note.md"
    assert vault.lookup("deeper/note") == tmp_path / "deep/deeper/Note.md"  # a path by its end
    assert vault.lookup("picture.png") == tmp_path / "a/Picture.PNG"
    assert vault.lookup("gone") is None and vault.lookup("") is None and vault.lookup("nothing") is None


def test_why_skipped(tmp_path):
    vault = Vault(tmp_path, exclude=["Archive/", "*.excalidraw.md", "!keep.excalidraw.md"])
    assert vault.why_skipped(tmp_path / ".obsidian" / "a.md") == "in hidden folders"
    assert vault.why_skipped(tmp_path / "x" / "templates" / "a.md") == "in the templates folder"
    assert vault.why_skipped(tmp_path / "notes" / "Archive" / "a.md") == "matched exclude"
    assert vault.why_skipped(tmp_path / "d.excalidraw.md") == "matched exclude"
    assert vault.why_skipped(tmp_path / "keep.excalidraw.md") == ""
    assert vault.why_skipped(tmp_path / "_posts" / "a.md") == vault.why_skipped(tmp_path / "__" / "b.md") == ""


@pytest.mark.parametrize("value", ['"Archive/"', "[1]", '[["a"]]'])
def test_exclude_must_be_a_list_of_patterns(tmp_path, value):
    (tmp_path / "notecast.toml").write_text(f"exclude = {value}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="exclude must be a list of gitignore-style patterns"):
        configuration.load(tmp_path / "notecast.toml")
