"""Reading notes: every silent case of python-frontmatter becomes a clear error with file and line."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import config, render
from pipeline.errors import NoteError
from pipeline.notes import read, strip_zettel_id

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "posts" / "202303012203-my-failure-resume.md"
PLATFORMS = ("linkedin", "x", "bluesky", "mastodon")


def write(tmp_path: Path, content: str | bytes, name: str = "note.md") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def problem_of(path: Path, **kwargs):
    """The one problem reading ``path`` reports."""
    with pytest.raises(NoteError) as caught:
        read(path, **kwargs)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    found = problems[0]
    assert found.path == str(path)
    assert found.level == "error"
    assert found.hint, "every problem says how to fix it"
    assert "Traceback" not in str(caught.value)
    return found


# ---- bad input: one clear error each -------------------------------------------------------------


@pytest.mark.parametrize("lead", ["", "\n", "\n\n"])
def test_front_matter_never_closed(tmp_path, lead):
    path = write(tmp_path, lead + "---\ntitle: x\ndate: 2023-03-01\n\nThe body, but no closing line.\n")
    found = problem_of(path)
    assert "never closed" in found.message
    assert found.line == len(lead) + 1  # the opening ---
    assert "---" in found.hint


def test_front_matter_that_is_a_list(tmp_path):
    found = problem_of(write(tmp_path, "---\n- a\n- b\n---\nbody\n"))
    assert "a list" in found.message and found.line == 2
    assert "key: value" in found.hint


@pytest.mark.parametrize("scalar", ["just a sentence", "42", "true"])
def test_front_matter_that_is_a_scalar(tmp_path, scalar):
    found = problem_of(write(tmp_path, f"---\n{scalar}\n---\nbody\n"))
    assert "not a set of keys" in found.message and found.line == 2


@pytest.mark.parametrize("lead", ["", "\n", "\n\n\n"])
@pytest.mark.parametrize("front, line", [
    ('title: x\ntags: [a, b\n', 2),              # unclosed flow list: the line that opened it
    ('title: "never closed\ndate: 2023-03-01\n', 1),  # unclosed quote
    ("title: a: b\n", 1),                          # mapping value in a plain scalar
    ("title: x\n  bad: indentation\nz: 1\n", 2),
    ("title: x\ntags: {a\n\n", 2),
])
def test_yaml_syntax_error_has_the_real_line(tmp_path, lead, front, line):
    """``line`` counts front matter lines from 1; the file line adds the opening --- and leading blanks."""
    path = write(tmp_path, f"{lead}---\n{front}---\nbody\n")
    found = problem_of(path)
    assert found.message.startswith("front matter is not valid YAML")
    assert found.line == len(lead) + 1 + line


def test_yaml_error_line_in_a_copy_of_the_example(tmp_path):
    """The example starts with a blank line, which python-frontmatter strips: lines must still be right."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.startswith("\n---\n")
    broken = text.replace('Date: 2023-03-01', 'Date: [2023-03-01', 1)
    lines = broken.split("\n")
    expected = next(i for i, line in enumerate(lines, 1) if line.startswith("Date:"))
    assert expected == 4
    found = problem_of(write(tmp_path, broken))
    assert found.line == expected


def test_invalid_utf8(tmp_path):
    path = write(tmp_path, b"---\ntitle: ok\n---\nfirst line\nsecond \xff\xfe line\n")
    found = problem_of(path)
    assert "UTF-8" in found.message and "0xff" in found.message
    assert found.line == 5
    assert "UTF-8" in found.hint


def test_latin1_file_is_invalid_utf8(tmp_path):
    found = problem_of(write(tmp_path, "---\ntitle: Caf\xe9\n---\nbody\n".encode("latin-1")))
    assert found.line == 2 and "UTF-8" in found.message


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    b"%PDF-1.4\n\x00\x01\x02binary",
    bytes(range(256)),
])
def test_binary_file(tmp_path, data):
    found = problem_of(write(tmp_path, data, "image.md"))
    assert "binary" in found.message
    assert found.line is None


@pytest.mark.parametrize("content", [b"", b"\n", b"   \n\n\t\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    found = problem_of(write(tmp_path, content))
    assert "empty" in found.message


def test_unreadable_path(tmp_path):
    found = problem_of(tmp_path / "missing.md")
    assert "cannot read" in found.message


def test_bom_and_crlf_are_fine(tmp_path):
    path = write(tmp_path, "\ufeff---\r\ntitle: Windows note\r\ntags: [a]\r\n---\r\nBody line\r\n")
    note = read(path)
    assert note.title == "Windows note" and note.tags == ("a",)
    assert note.body.strip() == "Body line" and "\r" not in note.body


def test_no_front_matter_at_all(tmp_path):
    note = read(write(tmp_path, "Just text.\n", "202401011200 - a plain thought.md"))
    assert note.meta == {} and note.body_line == 1
    assert note.title == "a plain thought"


def test_a_note_may_start_with_a_rule_that_is_not_front_matter(tmp_path):
    note = read(write(tmp_path, "----- a line of dashes and text\n\nBody.\n"))
    assert note.meta == {} and "Body." in note.body


# ---- notecast: block errors name the line of the key ---------------------------------------------

BLOCK = """---
title: k
notecast:
  colour: red
  platforms: [linkedin, myspace]
  publish_at: next tuesday
  status: done
  template: ../../etc/passwd
---
body
"""


def test_notecast_block_errors_each_name_their_line(tmp_path):
    path = write(tmp_path, BLOCK)
    with pytest.raises(NoteError) as caught:
        read(path, platforms=PLATFORMS)
    found = {p.line: p.message for p in caught.value.problems}
    assert "notecast.colour" in found[4]
    assert "myspace" in found[5]
    assert "publish_at" in found[6]
    assert "status" in found[7]
    assert "template" in found[8]
    assert all(p.hint for p in caught.value.problems)


@pytest.mark.parametrize("bad, word", [
    ("notecast: [a, b]", "notecast:"),
    ("notecast:\n  platforms: 3", "platforms"),
    ("notecast:\n  linkedin: truncate", "linkedin"),
    ("notecast: {status: maybe}", "status"),
    ("tags: 12", "tags"),
    ("date: yesterday", "date"),
])
def test_more_bad_values(tmp_path, bad, word):
    with pytest.raises(NoteError) as caught:
        read(write(tmp_path, f"---\ntitle: t\n{bad}\n---\nbody\n"), platforms=PLATFORMS)
    (problem,) = caught.value.problems
    assert word in problem.message
    assert problem.line == 3 + bad.count("\n")  # the line of the offending key


@pytest.mark.parametrize("front, line, words", [
    ("title: t\ndate: 2023-02-30", 3, "day is out of range"),  # YAML builds dates itself: not a YAMLError
    ("title: t\nnotecast:\n  publish_at: 2026-13-45", 4, "month must be in"),
    ("title: !!timestamp not-a-time", 2, "cannot be read"),
    ("title: !!int", 2, "cannot be read"),
    ("title: [a, b]", 2, "title must be text"),
    ("tags: [[a, b], c]", 2, "single word"),
    ("title: !!python/object:os.system x", 2, "not valid YAML"),  # safe loading only
])
def test_values_yaml_cannot_build(tmp_path, front, line, words):
    found = problem_of(write(tmp_path, f"\n---\n{front}\n---\nbody\n"), platforms=PLATFORMS)
    assert words in found.message
    assert found.line == line + 1  # the file starts with a blank line


def test_publish_at_forms(tmp_path):
    def when(value, tz="UTC"):
        return read(write(tmp_path, f"---\nnotecast:\n  publish_at: {value}\n---\nx\n"), timezone=tz,
                    platforms=PLATFORMS).settings.publish_at

    assert when("2026-12-01T09:00:00+01:00") == datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    assert when('"2026-12-01T08:00:00Z"') == datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    madrid = when("2026-12-01 09:00", "Europe/Madrid")
    assert madrid.utcoffset() == timedelta(hours=1) and madrid.hour == 9
    assert when("2026-12-01") == datetime(2026, 12, 1, 9, tzinfo=timezone.utc)  # a date: 09:00


# ---- keys, titles, tags ---------------------------------------------------------------------------


def test_keys_are_case_insensitive(tmp_path):
    note = read(write(tmp_path, "---\nTITLE: Loud\nDate: 2023-03-01\nTags: [One]\nNoteCast:\n  Status: Ready\n---\nx\n"),
                platforms=PLATFORMS)
    assert note.title == "Loud"
    assert note.date == date(2023, 3, 1)
    assert note.tags == ("One",)
    assert note.settings.status == "ready"
    assert note.lines["date"] == 3


def test_the_example_note():
    note = read(EXAMPLE, platforms=PLATFORMS)
    assert note.title == "My failure resume"
    assert note.date == date(2023, 3, 1)  # written as Date:
    assert note.tags == ("permanent-note", "career")
    assert note.body_line == 9  # blank line, 7 lines of front matter, then the body
    assert note.body.split("\n")[1].startswith("![](notes/attachments/")
    assert note.lines == {"title": 3, "date": 4, "tags": 5}
    assert note.settings.status == "draft"


@pytest.mark.parametrize("raw, shown", [
    ("202303012203 - My failure resume", "My failure resume"),
    ("202303012203 My failure resume", "My failure resume"),
    ("202303012203: My failure resume", "My failure resume"),
    ("202303012203_My failure resume", "My failure resume"),
    ("20230301 – Dated", "Dated"),
    ("20230301220315 — Seconds too", "Seconds too"),
    ("2023 in review", "2023 in review"),  # a year is not an id
    ("1234567 numbers", "1234567 numbers"),  # 7 digits: not an id
    ("My failure resume", "My failure resume"),
    ("Top 10 lists", "Top 10 lists"),
])
def test_zettelkasten_id_dropped_from_title(raw, shown):
    assert strip_zettel_id(raw) == shown


def test_title_from_file_name_without_id(tmp_path):
    note = read(write(tmp_path, "---\ndate: 2023-03-01\n---\nx\n", "202303012203-my-failure-resume.md"))
    assert note.title == "my failure resume"


def test_title_that_is_only_an_id_is_kept(tmp_path):
    note = read(write(tmp_path, "---\ntitle: 202303012203\n---\nx\n"))
    assert note.title  # never empty


@pytest.mark.parametrize("front, tags", [
    ("tags: [career, data-science]", ("career", "data-science")),
    ("tags:\n  - career\n  - data-science", ("career", "data-science")),
    ("tags: career, data-science", ("career", "data-science")),
    ('tags: "career,data-science"', ("career", "data-science")),
    ("tags: career data-science", ("career", "data-science")),
    ('tags: ["#career", "#data-science"]', ("career", "data-science")),
    ("tags: career", ("career",)),
    ("tags:", ()),
    ("tags: []", ()),
])
def test_tags_as_list_or_comma_string(tmp_path, front, tags):
    assert read(write(tmp_path, f"---\n{front}\n---\nx\n")).tags == tags


def _hashtags(note, exclude):
    from pipeline import document, platforms

    return render.render(note, document.parse(note.body, note.body_line), platforms.get("x"),
                         exclude_tags=exclude).text.split("\n")[-1]


def test_workflow_tags_excluded_by_default(tmp_path):
    note = read(write(tmp_path, "---\ntitle: T\ntags: [permanent-note, Fleeting-Note, literature-note, career]\n---\nx\n"))
    assert config.Config().exclude_tags == config.DEFAULT_EXCLUDED_TAGS
    assert {"permanent-note", "fleeting-note", "literature-note"} <= set(config.DEFAULT_EXCLUDED_TAGS)
    assert _hashtags(note, config.Config().exclude_tags) == "#career"


def test_excluded_tags_are_configurable(tmp_path):
    toml = write(tmp_path, 'exclude_tags = ["career"]\n', "notecast.toml")
    cfg = config.load(toml)
    assert cfg.exclude_tags == ("career",)
    note = read(write(tmp_path, "---\ntitle: T\ntags: [permanent-note, career]\n---\nx\n"))
    assert _hashtags(note, cfg.exclude_tags) == "#permanentnote"
    assert _hashtags(note, ()) == "#permanentnote #career"


def test_extra_hashtags_from_the_notecast_block(tmp_path):
    note = read(write(tmp_path, "---\ntitle: T\ntags: career\nnotecast:\n  hashtags: [buildinpublic]\n---\nx\n"),
                platforms=PLATFORMS)
    assert note.settings.hashtags == ("buildinpublic",)
    assert _hashtags(note, ()) == "#career #buildinpublic"


# ---- hostile front matter: alias bombs, wrong types, huge values --------------------------------------


def billion_laughs(key: str = "title", levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [" + ", ".join(f"*{prev}" for _ in range(9)) + "]")
    last = chr(ord("a") + levels - 1)
    return "\n".join(lines) + f"\n{key}: *{last}\n"


@pytest.mark.parametrize("key", ["title", "tags", "notecast", "anything"])
def test_alias_bomb_is_refused_at_once(tmp_path, key):
    import time

    start = time.perf_counter()
    found = problem_of(write(tmp_path, "---\n" + billion_laughs(key) + "---\nbody\n"), platforms=PLATFORMS)
    assert time.perf_counter() - start < 0.5
    assert "expands to more than 10,000 values" in found.message and "alias" in found.hint
    assert found.line == 6  # e: 9**5 values, the first key over the limit
    assert len(str(found)) < 300


def test_aliases_in_moderation_are_fine(tmp_path):
    note = read(write(tmp_path, "---\ntitle: &t Hello\nbase: &b [career, data]\ntags: *b\nalt: *t\n---\nx\n"))
    assert note.title == "Hello" and note.tags == ("career", "data")


def test_recursive_alias_is_refused(tmp_path):
    found = problem_of(write(tmp_path, "---\ntitle: t\nloop: &a [x, *a]\n---\nbody\n"))
    assert "contains itself" in found.message and found.line == 3


def test_deeply_nested_front_matter_is_refused(tmp_path):
    found = problem_of(write(tmp_path, "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\nbody\n"))
    assert found.line == 2 and len(str(found)) < 300


@pytest.mark.parametrize("front, line, words", [
    ("lang: [en, {x: 1}]", 3, "lang [\'en\', {\'x\': 1}] is not a language code"),
    ("language: {a: 1}", 3, "is not a language code"),
    ("lang: 12", 3, "is not a language code"),
    ("title: {a: 1}", 3, "title must be text"),
    ("tags: [{x: 1}]", 3, "single word"),
    ("notecast:\n  platforms: [{x: 1}]", 4, "list of platform names"),
    ("notecast:\n  status: {a: 1}", 4, "is not draft or ready"),
    ("notecast:\n  mastodon: {content_warning: {a: 1}}", 4, "notecast.mastodon.content_warning must be a single value"),
])
def test_front_matter_of_the_wrong_type(tmp_path, front, line, words):
    found = problem_of(write(tmp_path, f"---\ntitle: t\n{front}\n---\nbody\n".replace("title: t\ntitle", "title")),
                       platforms=PLATFORMS)
    assert words in found.message
    assert found.line == (line - 1 if front.startswith("title") else line)


def test_language_codes_are_fine(tmp_path):
    for code in ("en", "pt-BR", "zh-Hant", "ast"):
        assert read(write(tmp_path, f"---\nlang: {code}\n---\nx\n")).meta["lang"] == code


@pytest.mark.parametrize("front", ["date: " + "9" * 5000, "notecast:\n  status: " + "x" * 5000,
                                   "notecast:\n  publish_at: " + "y" * 5000, "notecast:\n  " + "k" * 1000 + ": 1",
                                   "lang: " + "z" * 5000])
def test_a_huge_value_is_quoted_short(tmp_path, front):
    found = problem_of(write(tmp_path, f"---\ntitle: t\n{front}\n---\nbody\n"), platforms=PLATFORMS)
    assert len(found.message) < 200 and not any(c * 100 in found.message for c in "9xykz")
