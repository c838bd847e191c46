"""Rendering: the example note on every platform (golden files), templates, the sandbox, odd notes.

Golden files: tests/golden/example.<platform>.txt is exactly what
``notecast render posts/202303012203-my-failure-resume.md --platform P --format text`` prints from the
repository root, and example.<platform>.json what ``--format json`` prints (Bluesky facets included).
Regenerate after an intended change with NOTECAST_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py
and review the diff.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import document, platforms
from pipeline.compose import compose_all
from pipeline.config import Config
from pipeline.notes import read
from support import GOLDEN, golden
from pipeline.platforms.linkedin.rules import escape as linkedin_escape
from pipeline.render import TextForm, render
from pipeline.report import as_json, as_text, preview_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "posts/202303012203-my-failure-resume.md"
PLATFORMS = ("linkedin", "x", "bluesky", "mastodon", "threads")
RESERVED = "\\|{}@[]()<>#*_~"
ITEMS = [
    "Inability to reproduce the code",
    "Negative valuations in a production real estate valuation model",
    "Making the engineering team sweat sanger",
    "Business intrusions",
    "Giving too much responsibility without enough support",
    "Not making sure they got the message",
    "I make jokes when I shouldn't",
]


def clean_env(**extra) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/tmp"),
           "NOTECAST_CARDS": "off"}  # the seed note links to the web; tests reach no server but their own
    env.update(extra)
    return env



def unescape_little(text: str) -> str:
    r"""LinkedIn's little text as shown: ``\x`` is a literal x."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def unescaped_reserved(text: str) -> list[tuple[int, str]]:
    """Reserved characters LinkedIn would act on (and cut the post at), except live hashtags."""
    found, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 2
            continue
        if c in RESERVED:
            live = c == "#" and (i == 0 or text[i - 1].isspace()) and i + 1 < len(text) and text[i + 1].isalnum()
            if not live:
                found.append((i, c))
        i += 1
    return found


@pytest.fixture(scope="module")
def example():
    """The example note composed for every platform, with paths as the CLI prints them."""
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        report = compose_all([EXAMPLE], Config())
    finally:
        os.chdir(old)
    assert not report.failures, report.failures
    return {c.platform.name: c for c in report.results}


def shown(composed) -> str:
    """Everything a reader of a platform sees, posts and comments, as shown."""
    texts = [p.text for p in (*composed.posts, *composed.comments)]
    if composed.platform.name == "linkedin":
        texts = [unescape_little(t) for t in texts]
    return "\n\n".join(texts)


# ---- golden files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_golden_text(example, name):
    golden(f"example.{name}.txt", as_text([example[name]]) + "\n")


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_golden_json(example, name):
    golden(f"example.{name}.json", as_json([example[name]]) + "\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_prints_exactly_the_golden_files(fmt):
    args = [sys.executable, "-m", "pipeline", "render", EXAMPLE, "--format", fmt]
    for name in PLATFORMS:
        args += ["--platform", name]
    done = subprocess.run(args, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if fmt == "text":
        parts = [(GOLDEN / f"example.{n}.txt").read_text(encoding="utf-8").rstrip("\n") for n in PLATFORMS]
        assert done.stdout == "\n\n".join(parts) + "\n"
    else:
        expected = [obj for n in PLATFORMS for obj in json.loads((GOLDEN / f"example.{n}.json").read_text(encoding="utf-8"))]
        assert json.loads(done.stdout) == expected


# ---- issue 4's "done when" on the example ------------------------------------------------------------


@pytest.mark.parametrize("name", ["x", "bluesky", "mastodon", "threads"])
def test_example_list_items_are_list_lines(example, name):
    lines = shown(example[name]).split("\n")
    bullets = [line for line in lines if line.startswith("• ")]
    assert len(bullets) == 7
    for item in ITEMS:
        assert any(line.startswith("• " + item) for line in bullets), item
    assert "Top DS screw-ups:" in lines and "Top managerial screw-ups:" in lines


def test_example_list_items_on_linkedin():
    """LinkedIn takes one post of 3,000 characters and the example is longer: with overflow=comment the
    rest goes to a comment and all 7 items are list lines; by default it is cut with a warning."""
    note = read(ROOT / EXAMPLE, platforms=PLATFORMS)
    doc = document.parse(note.body, note.body_line)
    draft = render(note, doc, platforms.get("linkedin"))
    assert sum(line.startswith("• ") for line in draft.text.split("\n")) == 7
    report = compose_all([ROOT / EXAMPLE], Config(platforms={"linkedin": {"overflow": "comment"}}), ("linkedin",))
    (composed,) = report.results
    bullets = [line for line in shown(composed).split("\n") if line.startswith("• ")]
    assert [b[2:].startswith(item) for b, item in zip(bullets, ITEMS)] == [True] * 7


def test_example_linkedin_cut_is_explained(example):
    composed = example["linkedin"]
    assert len(composed.posts) == 1 and composed.posts[0].length <= 3000
    assert any("over the limit of 3000" in w for w in composed.warnings)
    lines = shown(composed).split("\n")
    assert all(line.startswith("• ") for line in lines if any(line.lstrip("• ").startswith(i) for i in ITEMS))


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_quote_link_tags_and_title(example, name):
    composed = example[name]
    text = shown(composed)
    assert "“Don't take yourself too seriously.”" in text
    assert "“LinkedIn, you are a very powerful professional tool, but social networking dynamics suck.”" in text
    url = "https://jzhao.xyz/posts/a-failure-resume/"
    if name == "linkedin":
        assert f"failure resume ({url})" in text
    elif name == "bluesky":
        assert "failure resume" in text and url not in text  # the URL is in the facet
    else:
        assert f"failure resume {url}" in text
    assert text.startswith("My failure resume\n")
    assert "#career" in text
    assert "permanent" not in text.lower()
    assert "202303012203" not in text and "202303012203" not in composed.note.title


def test_example_bluesky_facets(example):
    posts = example["bluesky"].posts
    facets = [(p.text.encode("utf-8"), f) for p in posts for f in p.extra["facets"]]
    features = [(t[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"]) for t, f in facets]
    assert features == [
        ("failure resume", [{"$type": "app.bsky.richtext.facet#link", "uri": "https://jzhao.xyz/posts/a-failure-resume/"}]),
        ("#career", [{"$type": "app.bsky.richtext.facet#tag", "tag": "career"}]),
    ]


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_image_attached_and_warned(example, name):
    composed = example[name]
    if name == "threads":  # Meta fetches images from a URL: without media_base_url there is none
        assert not any(p.media for p in composed.posts)
        assert any("1 image(s) left out" in w and "media_base_url" in w for w in composed.warnings)
        return
    (media,) = composed.posts[0].media
    assert media.path.as_posix().startswith("posts/notes/attachments/pelayo_SCENE_A_little_plant")
    assert (ROOT / media.path).is_file() and media.alt == ""
    assert any("has no alt text" in w and ":10:" in w for w in composed.warnings)
    assert all(not p.media for p in composed.posts[1:])


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_has_no_markdown_left(example, name):
    for post in (*example[name].posts, *example[name].comments):
        for syntax in ("**", "[", "](", "![", "> [!", "%%", "==", "<!--", "\t"):
            assert syntax not in post.text, (syntax, post.text)
        assert not re.search(r"^\s*[-*+] ", post.text, re.M), "a Markdown bullet was left"
        assert not re.search(r"^#{1,6} ", post.text, re.M), "a Markdown heading was left"


@pytest.mark.parametrize("name", PLATFORMS)
def test_example_posts_fit(example, name):
    platform = platforms.get(name)
    for post in example[name].posts:
        assert 0 < post.length <= post.limit == platform.limit


# ---- LinkedIn's reserved characters -------------------------------------------------------------


def test_linkedin_escape_every_reserved_character():
    for c in RESERVED:
        for text in (c, f"a{c}b", f"{c}{c}", f"x {c} y", f"({c})"):
            escaped = linkedin_escape(text)
            assert unescaped_reserved(escaped) == [], (text, escaped)
            assert unescape_little(escaped) == text
    everything = "".join(RESERVED) + " " + " ".join(RESERVED) + " \\\\ \\# done"
    assert unescape_little(linkedin_escape(everything)) == everything
    assert unescaped_reserved(linkedin_escape(everything)) == []


def test_linkedin_hashtags_stay_live():
    assert linkedin_escape("#career and C# and a#b and #1x") == "#career and C\\# and a\\#b and #1x"
    assert linkedin_escape("end\n#career #data_science") == "end\n#career #data\\_science"


def test_reserved_characters_survive_a_whole_render(tmp_path):
    (tmp_path / "r.md").write_text(
        "---\ntitle: Reserved (all) {of} them <ok>\ntags: [c-sharp]\n---\n"
        "Code: `\\ | { } @ [ ] ( ) < > # * _ ~`\n\n"
        "Text: a \\\\ b | c {d} e@f \\[g\\] \\(h\\) \\<i\\> j#k \\*l\\* \\_m\\_ ~n~ and #live @alice\n\n"
        "A [link (with parens)](https://example.com/a_(b)) and C# too.\n", encoding="utf-8")
    report = compose_all([tmp_path / "r.md"], Config(), ("linkedin",))
    assert not report.failures
    (post,) = report.results[0].posts
    assert unescaped_reserved(post.text) == [], post.text
    text = unescape_little(post.text)
    assert "Code: \\ | { } @ [ ] ( ) < > # * _ ~" in text
    assert "Text: a \\ b | c {d} e@f [g] (h) <i> j#k *l* _m_ ~n~ and #live @alice" in text
    assert "link (with parens) (https://example.com/a_(b))" in text
    assert text.startswith("Reserved (all) {of} them <ok>\n")
    assert text.endswith("\n#csharp")
    assert post.length == len(post.text)  # LinkedIn counts the escaped text (ASCII here)


# ---- templates: overrides, named templates, sandbox ---------------------------------------------------


def vault(tmp_path: Path, front: str = "title: Hello") -> Path:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text(f"---\n{front}\n---\nBody text.\n", encoding="utf-8")
    return notes


def compose_one(paths, cfg=None, chosen=("linkedin",)):
    report = compose_all(paths, cfg or Config(), chosen)
    return report


def test_override_template_beside_notes_wins(tmp_path):
    notes = vault(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "linkedin.j2").write_text("MINE {{ title }} / {{ body }}\n", encoding="utf-8")
    report = compose_one([notes], chosen=("linkedin", "x"))
    texts = {c.platform.name: c.posts[0].text for c in report.results}
    assert texts["linkedin"] == "MINE Hello / Body text."
    assert texts["x"] == "Hello\n\nBody text."  # the other platforms keep the default


def test_override_template_from_config_wins(tmp_path):
    notes = vault(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "linkedin.j2").write_text("VAULT {{ title }}\n", encoding="utf-8")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "linkedin.j2").write_text("CONFIG {{ title }}\n", encoding="utf-8")
    (tmp_path / "notecast.toml").write_text('templates = "tpl"\n', encoding="utf-8")
    from pipeline import config

    cfg = config.load(tmp_path / "notecast.toml")
    assert cfg.templates == tmp_path.resolve() / "tpl"
    (composed,) = compose_one([notes], cfg).results
    assert composed.posts[0].text == "CONFIG Hello"


def test_one_default_template_serves_every_platform_and_one_override_changes_them_all(tmp_path):
    shipped = sorted(p.name for p in (ROOT / "templates").glob("*.j2"))
    assert shipped == ["post.j2"]
    notes = vault(tmp_path, "title: Hello\ntags: [career]")
    (notes / "templates").mkdir()
    (notes / "templates" / "post.j2").write_text('{{ title }}\n\nTags: {{ hashtags | join(", ") }}\n', encoding="utf-8")
    results = compose_one([notes], chosen=("linkedin", "x", "bluesky", "mastodon")).results
    assert [c.platform.name for c in results] == ["linkedin", "x", "bluesky", "mastodon"]
    assert all(c.posts[0].text.endswith("Tags: #career") for c in results)


def test_named_template(tmp_path):
    notes = vault(tmp_path, "title: Hello\nnotecast:\n  template: essay")
    (notes / "templates").mkdir()
    (notes / "templates" / "essay.j2").write_text("ESSAY {{ title }} on {{ platform.name }}\n", encoding="utf-8")
    (notes / "templates" / "essay.x.j2").write_text("ESSAY FOR X {{ title }}\n", encoding="utf-8")
    report = compose_one([notes], chosen=("linkedin", "x"))
    assert not report.failures
    texts = {c.platform.name: c.posts[0].text for c in report.results}
    assert texts == {"linkedin": "ESSAY Hello on linkedin", "x": "ESSAY FOR X Hello"}


def test_named_template_missing_is_a_clear_error(tmp_path):
    notes = vault(tmp_path, "title: Hello\nnotecast:\n  template: essay")
    report = compose_one([notes])
    (problem,) = report.failures
    assert problem.path == str(notes / "a.md") and problem.line == 4
    assert "essay.linkedin.j2" in problem.message and "essay.j2" in problem.message


def template_problem(tmp_path, source: str):
    notes = vault(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "linkedin.j2").write_text(source, encoding="utf-8")
    report = compose_one([notes])
    assert not report.results
    (problem,) = report.failures
    assert problem.path == str(notes / "templates" / "linkedin.j2")
    return problem


@pytest.mark.parametrize("escape", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ title.__class__ }}",
    "{{ document.__init__.__globals__ }}",
    "{{ meta.__class__.__base__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__ }}",
])
def test_sandbox_refuses_escapes(tmp_path, escape):
    problem = template_problem(tmp_path, "first line\n{{ title }}\n" + escape + "\n")
    assert problem.line == 3
    assert "unsafe" in problem.message or "undefined" in problem.message
    assert problem.hint
    assert "uid=" not in problem.message


def test_sandbox_refuses_the_mro_with_a_clear_message(tmp_path):
    problem = template_problem(tmp_path, "{{ title }}\n\n{{ ''.__class__.__mro__ }}\n")
    assert problem.line == 3
    assert "unsafe" in problem.message and "__class__" in problem.message


def test_typo_in_a_template_names_file_and_line(tmp_path):
    problem = template_problem(tmp_path, "{{ title }}\n\n{{ titel }}\n")
    assert problem.line == 3 and "'titel' is undefined" in problem.message


def test_missing_attribute_in_a_template(tmp_path):
    problem = template_problem(tmp_path, "{{ title }}\n{{ images[0].path }}\n")
    assert problem.line == 2


def test_template_syntax_error_names_file_and_line(tmp_path):
    problem = template_problem(tmp_path, "{{ title }}\n{% if %}\n")
    assert problem.line == 2 and "syntax" in problem.message


def test_template_error_through_the_cli(tmp_path):
    notes = vault(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "linkedin.j2").write_text("{{ title }}\n{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipeline", "render", "notes", "-p", "linkedin"], cwd=tmp_path,
                          env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "notes/templates/linkedin.j2:2: error: template tried something unsafe" in done.stderr


def test_template_context_and_filters(tmp_path):
    notes = vault(tmp_path, "title: 202401011200 - Context\ndate: 2024-01-01\ntags: [permanent-note, data-science]")
    (notes / "templates").mkdir()
    (notes / "templates" / "mastodon.j2").write_text(
        "{{ title }}|{{ date }}|{{ tags | join(',') }}|{{ hashtags | join(' ') }}|{{ platform.limit }}"
        "|{{ 'a b' | hashtag }}|{{ 'label' | link('https://e.com') }}|{{ document.blocks | length }}"
        "|{{ url }}|{{ images | length }}|{{ meta.date }}\n", encoding="utf-8")
    cfg = Config(canonical_url="https://garden.example/{slug}/")
    (composed,) = compose_one([notes], cfg, ("mastodon",)).results
    assert composed.posts[0].text == (
        "Context|2024-01-01|data-science|#DataScience|500|#AB|label https://e.com|1"
        "|https://garden.example/context/|0|2024-01-01")


# ---- every sample note, every platform ------------------------------------------------------------------


def test_all_sample_notes_render_within_limits():
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        report = compose_all(["posts"], Config())
    finally:
        os.chdir(old)
    assert not report.failures, report.failures
    notes = {c.note.path.name for c in report.results}
    assert len(notes) >= 6
    chosen = {c.note.path.name: c.note.settings.platforms or PLATFORMS for c in report.results}
    assert len(report.results) == sum(map(len, chosen.values()))  # the launch note names four platforms
    for composed in report.results:
        platform = composed.platform
        assert composed.posts
        for post in (*composed.posts, *composed.comments):
            assert 0 < post.length <= post.limit, (composed.note.path, platform.name, post.text)
            assert platform.measure(post.text if platform.name != "linkedin" else unescape_little(post.text)) == post.length
            if platform.name == "linkedin":
                assert unescaped_reserved(post.text) == [], (composed.note.path, post.text)
            for syntax in ("**", "](", "![", "> [!", "%%", "[[", "<!--"):
                assert syntax not in post.text, (composed.note.path, platform.name, syntax)
            assert not re.search(r":[a-z_]+:", post.text.replace("https:", "")), "an emoji shortcode was left"


# ---- robustness: odd notes never crash the renderer ----------------------------------------------------------

ODD = {
    "code-heavy.md": "---\ntitle: Code\n---\n" + "\n\n".join(
        f"```python\ndef f{i}(x):\n    return {{'a': [x ** 2 for _ in range({i})]}}  # :rocket: %% [x](y)\n```"
        for i in range(40)) + "\n\n    indented code\n\nInline `code` and ``double ` tick``.\n",
    "huge.md": "---\ntitle: Huge\n---\n" + "\n\n".join(
        f"Paragraph {i}. " + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12 for i in range(150)),
    "one-long-word.md": "---\ntitle: Word\n---\n" + "a" * 5000 + "\n\nhttps://example.com/" + "b" * 600 + "\n",
    "non-latin.md": "---\ntitle: 多言語 · متعدد · बहुभाषी\ntags: [日本語, русский, हिन्दी]\n---\n"
                    + "日本語の文章は空白がありません" * 60 + "\n\n"
                    + "هذا نص عربي طويل مع علامات التشكيل: مَرْحَبًا بِكُمْ. " * 20 + "\n\n"
                    + "नमस्ते दुनिया, यह एक लंबा वाक्य है। " * 20 + "\n\n"
                    + "สวัสดีครับนี่คือข้อความภาษาไทยที่ไม่มีช่องว่าง" * 20 + "\n\n"
                    + "Ζωή 👩‍👩‍👧‍👦 🇪🇸 👍🏽 é (e + combining) e\u0301 " * 40 + "\n",
    "glob-names.md": "---\ntitle: Globs\n---\n![[my*notes [v2].png|x]] ![[**]] ![[?]] ![[ ]] ![](%00.png) ![[a\\b.png]]\n",
    "many-images.md": "---\ntitle: Gallery\n---\n" + "\n\n".join(
        f"![Picture number {i}](img/p{i}.png) ![[e{i}.png|Embedded {i}]]" for i in range(25)) + "\n\nText.\n",
    "deep-nesting.md": "---\ntitle: Deep\n---\n" + "\n".join("  " * i + f"- level {i}" for i in range(30)) + "\n\n"
                       + "\n".join(">" * i + f" quote level {i}" for i in range(1, 25)) + "\n\n"
                       + "\n".join("   " * i + f"{i}. numbered {i}" for i in range(12)) + "\n\n"
                       + "> [!note] Outer\n> > [!tip] Inner\n> > - a\n> >   - b\n",
    "empty-body.md": "---\ntitle: Only a title\ntags: [x]\n---\n",
    "comments-only.md": "---\ntitle: Hidden\n---\n%% everything is private %%\n<!-- and this -->\n",
    "no-front-matter.md": "Just a line with #hashtag and @mention@example.social and :tada:.\n",
    "markup-soup.md": "---\ntitle: Soup\n---\n"
                      "**unclosed bold _and ~~strike [link]( ==high [[wiki| ![[img.png|\n\n"
                      "| a | b |\n|---|---|\n| 1 | [x](http://e.com) |\n\n"
                      "Footnote[^1] and[^missing].\n\n[^1]: Text with [^1] itself.\n\n"
                      "<div>html <b>block</b></div>\n\n***\n\n# H1\n###### H6\nSetext\n===\n",
    "hashtags-everywhere.md": "---\ntitle: Tags\ntags: " + ", ".join(f"tag{i}" for i in range(60)) + "\n---\nBody.\n",
    "crlf-and-tabs.md": "---\r\ntitle: Windows\r\n---\r\nIntro:\r\n\t- one\r\n\t- two\r\n\r\nEnd.\r\n",
    "long-lines-of-emoji.md": "---\ntitle: Emoji\n---\n" + "🚀" * 400 + "\n\n" + ":rocket: " * 200 + "\n",
}


@pytest.fixture(scope="module")
def odd_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    (root / "img").mkdir()
    for name, text in ODD.items():
        (root / name).write_bytes(text.encode("utf-8"))
    return compose_all([root], Config())


def test_odd_notes_do_not_crash(odd_report):
    failed = {Path(p.path).name for p in odd_report.failures if not p.message.startswith("threads: ")}
    # an empty rendered post is a clear error, never a crash; everything else renders
    assert failed <= {"empty-body.md", "comments-only.md"}, odd_report.failures
    # Threads counts a URL as typed: one of 620 characters cannot fit its 500
    assert {Path(p.path).name for p in odd_report.failures if "longer than a whole post" in p.message} \
        <= {"one-long-word.md"}
    rendered = {c.note.path.name for c in odd_report.results}
    assert set(ODD) - failed <= rendered
    for composed in odd_report.results:
        for post in (*composed.posts, *composed.comments):
            assert 0 < post.length <= post.limit, (composed.note.path.name, composed.platform.name)


def test_odd_notes_images_are_capped_and_warned(odd_report):
    gallery = {c.platform.name: c for c in odd_report.results if c.note.path.name == "many-images.md"}
    assert gallery, "the gallery note must render"
    for name, composed in gallery.items():
        assert len(composed.posts[0].media) == 0  # none of the files exist
        assert sum("not found" in w for w in composed.warnings) == 50


def test_code_keeps_its_text(odd_report):
    code = {c.platform.name: c for c in odd_report.results if c.note.path.name == "code-heavy.md"}
    text = "\n".join(p.text for p in code["mastodon"].posts)
    assert "return {'a': [x ** 2 for _ in range(3)]}  # :rocket: %% [x](y)" in text


@pytest.mark.parametrize("name, data, why", [
    ("empty.png", b"", "is an empty file (0 bytes)"),
    ("text.png", b"hello, I am text", "is not a PNG image"),
    ("png.jpg", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a JPEG image"),
    ("riff.webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", "is not a WEBP image"),
    ("jpeg.gif", b"\xff\xd8\xff\xe0\x00\x10JFIF", "is not a GIF image"),
])
def test_broken_image_is_an_error(tmp_path, name, data, why):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / name).write_bytes(data)
    (notes / "a.md").write_text(f"---\ntitle: Pic\n---\nText.\n\n![a picture]({name})\n", encoding="utf-8")
    report = compose_all([notes], Config(), ("mastodon",))
    (problem,) = report.findings
    assert (problem.path, problem.line, problem.level) == (str(notes / "a.md"), 6, "error")
    assert f"image {name} {why}" in problem.message and problem.hint
    assert report.results and not report.results[0].posts[0].media  # the note goes on without it


@pytest.mark.parametrize("name, data", [
    ("ok.png", b"\x89PNG\r\n\x1a\n"), ("ok.jpeg", b"\xff\xd8\xff\xdb"), ("ok.gif", b"GIF89a\x01\x00"),
    ("ok.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 "),
])
def test_images_of_the_type_their_name_says_are_attached(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "a.md").write_text(f"---\ntitle: Pic\n---\n![a picture]({name})\n", encoding="utf-8")
    report = compose_all([tmp_path], Config(), ("mastodon",))
    assert not report.findings and report.results[0].posts[0].media[0].path.name == name


# ---- templates that fail while rendering ----------------------------------------------------------------


@pytest.mark.parametrize("source, words", [
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ("{% include 'missing.j2' %}", "no template 'missing.j2' to include"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls itself"),
    ("{% for i in range(10**9) %}{% endfor %}", "too large"),
    ("{% for i in range(200000) %}{% endfor %}", "Range too big"),
    ("{{ 'x' * 10**9 }}", "too large"),
    ("{{ [1, 2] * 10**9 }}", "too large"),
    ("{{ 10 ** 10000000 }}", "too large"),
    ("{{ '%999999999d' % 1 }}", "too large"),
    ("{{ '%999999999d' | format(1) }}", "too large"),
    ("{{ '{:>999999999}'.format(1) }}", "too large"),
    ("{{ 'x'.center(10**9) }}", "too large"),
    ("{{ 'x' | center(10**9) }}", "too large"),
    ("{{ [1] | batch(10**9, 0) | list }}", "too large"),
    ("{{ ('x' * 999999).join(range(99999)) }}", "too large"),
    ("{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "too large"),
    ("{% for i in range(100000) %}{% for j in range(1000) %}{{ 'x' * 1000 }}{% endfor %}{% endfor %}", "wrote more than"),
    ("{{ int('x') }}", "undefined"),
    ("{{ title | int + 'x' }}", "TypeError"),
])
def test_a_template_that_fails_while_rendering_names_its_line(tmp_path, source, words):
    import time

    start = time.perf_counter()
    problem = template_problem(tmp_path, "{{ title }}\n\n" + source + "\n")
    assert time.perf_counter() - start < 5
    assert problem.line == 3, problem
    assert words in problem.message and problem.hint
    assert len(problem.message) < 300


def test_a_failing_template_stops_only_its_note_and_platform(tmp_path):
    notes = vault(tmp_path)
    (notes / "b.md").write_text("---\ntitle: Other\nnotecast:\n  template: plain\n---\nFine.\n", encoding="utf-8")
    (notes / "templates").mkdir()
    (notes / "templates" / "linkedin.j2").write_text("{{ 1/0 }}\n", encoding="utf-8")
    (notes / "templates" / "plain.j2").write_text("{{ title }}: {{ body }}\n", encoding="utf-8")
    report = compose_one([notes], chosen=("linkedin", "x"))
    assert [(Path(p.path).name, p.line) for p in report.failures] == [("linkedin.j2", 1)]
    assert sorted((c.note.path.name, c.platform.name) for c in report.results) == [
        ("a.md", "x"), ("b.md", "linkedin"), ("b.md", "x")]


def test_a_long_note_still_renders_in_full(tmp_path):
    notes = vault(tmp_path)
    (notes / "a.md").write_text("---\ntitle: Long\n---\n" + "word " * 400_000 + "\n", encoding="utf-8")
    report = compose_one([notes], chosen=("mastodon",))
    assert not report.failures and len(report.results[0].posts) > 25


# ---- per-platform wording inside a note (issue 16) ----

WORDING = "tests/data/wording/hook.md"


@pytest.fixture(scope="module")
def wording():
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        report = compose_all([WORDING], Config())
    finally:
        os.chdir(old)
    assert not report.failures and not report.findings, report.failures + report.findings
    return {c.platform.name: c for c in report.results}


@pytest.mark.parametrize("name", PLATFORMS)
def test_platform_callouts_and_text_override_golden(wording, name):
    """A LinkedIn hook, an X-only line, a not-mastodon block, a LinkedIn-and-Mastodon close, a Bluesky text."""
    golden(f"wording.{name}.txt", as_text([wording[name]]) + "\n")


def test_each_platform_says_where_its_text_comes_from(wording):
    assert {n: c.source for n, c in wording.items()} == {
        "linkedin": "body, 3 platform callouts", "x": "body, 2 platform callouts",
        "bluesky": "front matter notecast.bluesky.text", "mastodon": "body, 1 platform callout",
        "threads": "body, 1 platform callout"}
    assert "· from body, 3 platform callouts" in preview_text([wording["linkedin"]]).splitlines()[0]


def test_editing_one_platforms_text_leaves_the_others_editions(tmp_path):
    note = (ROOT / WORDING).read_text(encoding="utf-8")
    (tmp_path / "a.md").write_text(note, encoding="utf-8")
    before = {c.platform.name: [p.text for p in c.posts] for c in compose_all([tmp_path / "a.md"], Config()).results}
    (tmp_path / "a.md").write_text(note.replace("four times", "five times"), encoding="utf-8")
    after = {c.platform.name: [p.text for p in c.posts] for c in compose_all([tmp_path / "a.md"], Config()).results}
    assert [n for n in before if before[n] != after[n]] == ["linkedin"]


def test_a_misspelt_platform_callout_is_a_warning_with_the_closest_name(tmp_path):
    (tmp_path / "a.md").write_text("Body.\n\n> [!linkdin]\n> Only for LinkedIn.\n\n> [!tip]\n> A tip.\n",
                                   encoding="utf-8")
    report = compose_all([tmp_path / "a.md"], Config())
    (problem,) = report.findings
    assert problem.level == "warning" and problem.line == 3 and "did you mean [!linkedin]?" in problem.hint


def test_a_platform_left_with_nothing_is_a_warning(tmp_path):
    (tmp_path / "a.md").write_text("> [!linkedin]\n> Only for LinkedIn.\n", encoding="utf-8")
    report = compose_all([tmp_path / "a.md"], Config())
    assert sorted(p.platform for p in report.findings) == ["bluesky", "mastodon", "threads", "x"]
    assert all("nothing of the body is left" in p.message for p in report.findings)


def test_an_image_in_a_dropped_callout_is_not_attached(tmp_path):
    (tmp_path / "chart.png").write_bytes((ROOT / "tests/data/mastodon-tiny.png").read_bytes())
    (tmp_path / "a.md").write_text("Body.\n\n> [!linkedin]\n> ![a chart](chart.png)\n", encoding="utf-8")
    media = {c.platform.name: len(c.posts[0].media) for c in compose_all([tmp_path / "a.md"], Config()).results}
    assert media == {"linkedin": 1, "x": 0, "bluesky": 0, "mastodon": 0, "threads": 0}


def test_a_list_forty_levels_deep_keeps_its_text_and_stops_indenting():
    doc = document.parse("\n".join("  " * i + f"- level {i}" for i in range(40)))
    lines = TextForm(platforms.get("mastodon")).document(doc).split("\n")
    assert [line.strip().split(" ", 1)[1] for line in lines] == [f"level {i}" for i in range(40)]
    assert max(len(line) - len(line.lstrip()) for line in lines) == 18


def test_blocks_without_a_link_are_spelled_once_for_every_platform_and_links_by_each():
    doc = document.parse("Read [the guide](https://example.com/guide) first.\n\nA link in its note[^1].\n\n"
                         "**Plain** words.\n\n- an item\n- [a site](https://example.org)\n\n"
                         "[^1]: A note with [a link](https://x.org).\n")
    chosen = [platforms.get(name) for name in ("bluesky", "linkedin", "x", "mastodon")]
    alone = [TextForm(p).document(doc) for p in chosen]
    made: dict = {}
    shared = [TextForm(p).document(doc, made) for p in chosen]
    assert shared == alone and len(set(alone)) == 3  # Bluesky, LinkedIn and the rest spell links apart
    assert made == {(2, False): "Plain words."}  # a footnote's link counts as its block's
    bold = TextForm(chosen[2], unicode_bold=True)
    assert bold.document(doc, made) == TextForm(chosen[2], unicode_bold=True).document(doc)
    assert made[(2, True)] == "𝐏𝐥𝐚𝐢𝐧 words."


def test_a_templates_post_break_starts_a_new_post(tmp_path):
    notes = vault(tmp_path)
    (notes / "templates").mkdir()
    (notes / "templates" / "post.j2").write_text("{{ title }}{{ post_break }}{{ body }}\n", encoding="utf-8")
    (composed,) = compose_one([notes], chosen=("x",)).results
    assert [p.text for p in composed.posts] == ["Hello", "Body text."]


# ---- white space at line ends -----------------------------------------------------------------------

def test_space_is_what_python_calls_white_space_but_line_breaks_and_form_feeds():
    from pipeline.render import SPACE

    assert set(SPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()} - {"\n", "\f"}


def test_a_draft_loses_white_space_at_its_ends_and_its_lines_ends_only():
    """clean_draft strips line by line what the pattern [^\\S\\f\\n]+$ (multiline) finds, on any mix of white
    space, form feeds (post breaks, kept), line separators, combining marks and letters."""
    import random

    from pipeline.render import clean_draft

    rng = random.Random(7)
    alphabet = [" ", "\t", "\n", "\f", "\r", "\x0b", "\x1c", "\x85", "\u2028", "\u3000", "\xa0", "a", "é", "\u0301"]
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert clean_draft(text) == re.sub(r"[^\S\f\n]+$", "", text.strip(), flags=re.M), repr(text)
