"""Parsing a body once into a Document: CommonMark plus Obsidian's habits.

The parsed Document of the example note is compared with tests/golden/example.document.json;
regenerate it after an intended change with NOTECAST_UPDATE_GOLDEN=1 python -m pytest tests/test_document.py
(and review the diff).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pipeline import document as d
from pipeline.notes import read
from support import golden

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "posts" / "202303012203-my-failure-resume.md"


def data(node):
    """A Document as plain JSON data: every block and span with its type name."""
    if dataclasses.is_dataclass(node):
        out = {"type": type(node).__name__}
        for f in dataclasses.fields(node):
            out[f.name] = data(getattr(node, f.name))
        return out
    if isinstance(node, (tuple, list)):
        return [data(x) for x in node]
    if isinstance(node, dict):
        return {str(k): data(v) for k, v in node.items()}
    return node



def parse(text: str) -> d.Document:
    return d.parse(text)


def only(doc: d.Document, kind):
    found = [b for b in doc.blocks if isinstance(b, kind)]
    assert len(found) == 1, doc.blocks
    return found[0]


def item_texts(block: d.List) -> list[str]:
    return [d.plain(item.blocks[0].spans) for item in block.items]


# ---- the example note ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> d.Document:
    note = read(EXAMPLE)
    return d.parse(note.body, note.body_line)


def test_example_golden_document(example):
    golden("example.document.json", json.dumps(data(example), ensure_ascii=False, indent=2) + "\n")


def test_example_blocks(example):
    kinds = [type(b).__name__ for b in example.blocks]
    assert kinds == ["Paragraph", "Paragraph", "Quote", "Paragraph", "Quote", "Paragraph",
                     "Paragraph", "List", "Paragraph", "List", "Paragraph"]


def test_example_lenient_lists(example):
    """Tab-indented items right under `Top DS screw-ups:` are a list, as in Obsidian."""
    blocks = example.blocks
    ds, managerial = (i for i, b in enumerate(blocks) if isinstance(b, d.List))
    assert d.plain(blocks[ds - 1].spans) == "Top DS screw-ups:"
    assert d.plain(blocks[managerial - 1].spans) == "Top managerial screw-ups:"
    assert [t.split(".")[0] for t in item_texts(blocks[ds])] == [
        "Inability to reproduce the code and get the same results in a research paper as part of my thesis",
        "Negative valuations in a production real estate valuation model",
        "Making the engineering team sweat sanger",
        "Business intrusions",
    ]
    assert [t.split(".")[0] for t in item_texts(blocks[managerial])] == [
        "Giving too much responsibility without enough support",
        "Not making sure they got the message",
        "I make jokes when I shouldn't",
    ]
    assert not blocks[ds].ordered and not blocks[managerial].ordered
    assert blocks[ds].line == 23 and blocks[managerial].line == 29  # file lines


def test_example_quote_link_image(example):
    quotes = [b for b in example.blocks if isinstance(b, d.Quote)]
    assert [d.plain(q.blocks[0].spans) for q in quotes] == [
        "Don't take yourself too seriously.",
        "LinkedIn, you are a very powerful professional tool, but social networking dynamics suck."]
    links = [s for s in d.walk(example) if isinstance(s, d.Link)]
    assert [(link.url, d.plain(link.children)) for link in links] == [
        ("https://jzhao.xyz/posts/a-failure-resume/", "failure resume")]
    (image,) = example.images
    assert image.src.startswith("notes/attachments/pelayo_SCENE_A_little_plant") and image.alt == ""
    assert image.line == 10  # the file line, counting the leading blank line and the front matter


def test_line_numbers_are_file_lines():
    doc = d.parse("first\n\nsecond\n", first_line=10)
    assert [b.line for b in doc.blocks] == [10, 12]


# ---- Obsidian constructs ---------------------------------------------------------------------------


def test_wikilinks_show_their_text_and_keep_their_note():
    doc = parse("See [[Zettelkasten]], [[Maps of Content|maps]], [[Note#Heading]] and [[#Local]].")
    assert d.plain(doc.blocks[0].spans) == "See Zettelkasten, maps, Note and Local."
    links = [s for s in doc.blocks[0].spans if isinstance(s, d.NoteLink)]
    assert [(s.target, d.plain(s.children)) for s in links] == [
        ("Zettelkasten", "Zettelkasten"), ("Maps of Content", "maps"), ("Note#Heading", "Note")]


def test_wikilink_embeds_of_images_are_images():
    doc = parse("![[pic.png|A small plant]] ![[sized.png|300]] ![[wide.png|640x480]] ![[bare.png]]")
    assert [(i.src, i.alt, i.embed) for i in doc.images] == [
        ("pic.png", "A small plant", True), ("sized.png", "", True), ("wide.png", "", True), ("bare.png", "", True)]


def test_embeds_of_notes_and_other_attachments_are_not_images():
    doc = parse("![[Other note]] ![[Other note#Heading]] ![[Other#^block-id]] ![[v1.2 notes]]\n\n"
                "![[paper.pdf]] ![[talk.MP3]] ![[clip.mov]] ![slides](deck.pdf)")
    first, second = doc.blocks
    assert doc.images == ()
    assert [(s.target, s.label) for s in first.spans if isinstance(s, d.Embed)] == [
        ("Other note", "Other note"), ("Other note#Heading", "Other note"), ("Other#^block-id", "Other"),
        ("v1.2 notes", "v1.2 notes")]
    assert [(s.src, s.kind) for s in second.spans if isinstance(s, d.Attachment)] == [
        ("paper.pdf", "PDF"), ("talk.MP3", "audio"), ("clip.mov", "video"), ("deck.pdf", "PDF")]


def test_block_ids_are_hidden_and_name_their_block():
    doc = parse("A paragraph. ^para-1\n\n- one\n- two ^item\n\n> quoted\n\n^quote\n")
    assert d.plain(doc.blocks[0].spans) == "A paragraph."
    assert doc.anchors["para-1"] is doc.blocks[0]
    item = doc.anchors["item"]
    assert isinstance(item, d.List) and item.start == 2 and [d.plain(i.blocks[0].spans) for i in item.items] == ["two"]
    assert doc.anchors["quote"] is doc.blocks[2] and len(doc.blocks) == 3


def test_markdown_images():
    doc = parse('![A *bar* chart](img/chart%20one.png "title") and ![](empty.png)')
    assert [(i.src, i.alt, i.embed) for i in doc.images] == [
        ("img/chart%20one.png", "A bar chart", False), ("empty.png", "", False)]


@pytest.mark.parametrize("kind", ["note", "tip", "warning", "info", "danger", "question"])
def test_callouts(kind):
    doc = parse(f"> [!{kind.upper()}] Mind the gap\n> Body with **bold**.\n> Second line.\n\n> plain quote\n")
    callout, quote = doc.blocks
    assert isinstance(callout, d.Callout) and callout.kind == kind and callout.title == "Mind the gap"
    assert d.plain(callout.blocks[0].spans) == "Body with bold.\nSecond line."
    assert isinstance(quote, d.Quote)


def test_callout_without_title_and_foldable():
    callout, folded = parse("> [!note]\n> Only body.\n\n> [!faq]- Folded?\n> Yes.\n").blocks
    assert (callout.kind, callout.title, d.plain(callout.blocks[0].spans)) == ("note", "Note", "Only body.")
    assert (folded.kind, folded.title) == ("faq", "Folded?")


def test_footnotes():
    doc = parse("Claim[^1] and another[^note].\n\n[^1]: First source.\n[^note]: Second, *styled*.\n")
    spans = doc.blocks[0].spans
    assert [s for s in spans if isinstance(s, d.FootnoteRef)] == [d.FootnoteRef(1), d.FootnoteRef(2)]
    assert len(doc.blocks) == 1
    assert {n: d.plain(b[0].spans) for n, b in doc.footnotes.items()} == {1: "First source.", 2: "Second, styled."}


def test_highlight_and_emphasis():
    (para,) = parse("A ==marked *phrase*== and **bold** and *it* and ~~gone~~.").blocks
    styles = [s.style for s in para.spans if isinstance(s, d.Styled)]
    assert styles == ["mark", "strong", "em", "strike"]
    assert d.plain(para.spans) == "A marked phrase and bold and it and gone."


def test_obsidian_comments_dropped():
    doc = parse("Keep %%drop this%% this.\n\n%%\na whole\nblock\n%%\n\nAfter.\n")
    assert [d.plain(b.spans) for b in doc.blocks] == ["Keep  this.", "After."]
    assert doc.blocks[1].line == 8  # dropping a comment keeps the line count


def test_html_comments_dropped():
    doc = parse("<!-- private: rewrite -->\n\nText <!-- gone --> stays.\n\n<!--\nmulti\nline\n-->\n")
    assert [d.plain(b.spans) for b in doc.blocks] == ["Text  stays."]


def test_comment_markers_inside_code_are_text():
    doc = parse("```\nx = '%%not a comment%%'\n```\n\nUse `%%` to comment.\n")
    assert doc.blocks[0].text == "x = '%%not a comment%%'"
    assert d.plain(doc.blocks[1].spans) == "Use %% to comment."


def test_emoji_shortcodes():
    (para,) = parse("Shipped :rocket: :tada: with `:rocket:` left alone, and :not_an_emoji: too.").blocks
    assert d.plain(para.spans) == "Shipped 🚀 🎉 with :rocket: left alone, and :not_an_emoji: too."


@pytest.mark.parametrize("source, shown", [
    ("a:b:c and user:x:1000 at 10:30:00", "a:b:c and user:x:1000 at 10:30:00"),
    ("x:rocket: and :rocket:y stay", "x:rocket: and :rocket:y stay"),
    (":rocket:", "🚀"),
    ("(:rocket:), :tada:! and :rocket::tada:", "(🚀), 🎉! and 🚀🎉"),
    ("see https://example.com/:rocket:/x and docs/:tada:/a.md", "see https://example.com/:rocket:/x and docs/:tada:/a.md"),
    ("Ends with a shortcode :tada:", "Ends with a shortcode 🎉"),
])
def test_emoji_shortcodes_only_as_words(source, shown):
    (para,) = parse(source).blocks
    assert d.plain(para.spans) == shown


def test_code_blocks_keep_their_text():
    source = "```python\ndef f(x):\n    # not a heading\n    return x ** 2  # :rocket: [link](x)\n```\n\n    indented code\n"
    fence, indented = parse(source).blocks
    assert fence == d.CodeBlock("python", "def f(x):\n    # not a heading\n    return x ** 2  # :rocket: [link](x)", 1)
    assert indented.text == "indented code" and indented.language == ""


def test_nested_and_ordered_lists():
    source = "1. one\n2. two\n   - nested a\n     - deeper\n   - nested b\n3. three\n\n5) five\n6) six\n"
    first, second = parse(source).blocks
    assert first.ordered and first.start == 1 and item_texts(first) == ["one", "two", "three"]
    nested = first.items[1].blocks[1]
    assert isinstance(nested, d.List) and not nested.ordered and item_texts(nested) == ["nested a", "nested b"]
    assert item_texts(nested.items[0].blocks[1]) == ["deeper"]
    assert second.ordered and second.start == 5 and item_texts(second) == ["five", "six"]


@pytest.mark.parametrize("indent", ["  ", "\t"])
def test_lists_forty_levels_deep_keep_every_level(indent):
    source = "\n".join(indent * i + f"- level {i}" for i in range(40)) + "\n\nAfter.\n"
    doc = parse(source)
    texts = [s.text for s in d.walk(doc) if isinstance(s, d.Text)]
    assert texts == [f"level {i}" for i in range(40)] + ["After."]


def test_nested_list_with_tabs_and_continuation():
    source = "- a\n\tcontinued\n\t- nested\n- b\n"
    (lst,) = parse(source).blocks
    assert item_texts(lst) == ["a\ncontinued", "b"]
    assert item_texts(lst.items[0].blocks[1]) == ["nested"]


@pytest.mark.parametrize("indent", ["\t", "  ", "    ", "\t\t"])
def test_lenient_list_under_a_paragraph_line(indent):
    doc = parse(f"Intro line:\n{indent}- first\n{indent}- second\n{indent}\t- nested\n\nAfter.\n")
    intro, lst, after = doc.blocks
    assert d.plain(intro.spans) == "Intro line:"
    assert item_texts(lst) == ["first", "second"]
    assert item_texts(lst.items[1].blocks[1]) == ["nested"]
    assert d.plain(after.spans) == "After."


def test_lenient_ordered_list():
    intro, lst = parse("Steps:\n\t1. one\n\t2. two\n").blocks
    assert lst.ordered and item_texts(lst) == ["one", "two"]


def test_lenient_lists_leave_code_alone():
    doc = parse("```\nIntro:\n\t- not a list\n```\n")
    assert doc.blocks == (d.CodeBlock("", "Intro:\n\t- not a list", 1),)


def test_task_lists():
    (lst,) = parse("- [ ] todo\n- [x] done\n- plain\n").blocks
    assert [i.checked for i in lst.items] == [False, True, None]
    assert item_texts(lst) == ["todo", "done", "plain"]


def test_headings_and_rule():
    heading, rule, sub = parse("# Title *here*\n\n---\n\n## Sub\n").blocks
    assert (heading.level, d.plain(heading.spans)) == (1, "Title here")
    assert isinstance(rule, d.Rule) and sub.level == 2


def test_hashtags_and_mentions():
    (para,) = parse("Tags #python and #data-science, not C# or a#b or #1; "
                    "@alice@mastodon.social, @bob.bsky.social and mail@example.com.").blocks
    assert [s for s in para.spans if isinstance(s, d.Hashtag)] == [d.Hashtag("python"), d.Hashtag("data-science")]
    assert [s for s in para.spans if isinstance(s, d.Mention)] == [
        d.Mention("alice@mastodon.social"), d.Mention("bob.bsky.social")]


def test_links():
    (para,) = parse("[text](https://example.com/a) <https://example.com/b> and [[wiki]]").blocks
    links = [s for s in para.spans if isinstance(s, d.Link)]
    assert [(link.url, d.plain(link.children)) for link in links] == [
        ("https://example.com/a", "text"), ("https://example.com/b", "https://example.com/b")]


def test_tables():
    (table,) = parse("| a | b |\n|---|---|\n| 1 | **2** |\n").blocks
    assert [[d.plain(c) for c in row] for row in table.rows] == [["a", "b"], ["1", "2"]]


@pytest.mark.parametrize("source", [
    "", "\n\n", "%% only a comment %%", "<!-- only html -->", "**", "[[", "![[", "[^missing]", "> [!", "```",
    "- \n- ", "==", ":", "#", "@", "\t- lonely", "|a|\n|-|", "[x](", "<div>\n\n</div>",
])
def test_odd_sources_do_not_crash(source):
    doc = d.parse(source)
    assert isinstance(doc, d.Document)
    list(d.walk(doc))
