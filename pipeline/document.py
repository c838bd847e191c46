"""Parsing a note's body once into a :class:`Document` of blocks and spans.

markdown-it-py parses CommonMark (plus tables, strikethrough and footnotes);
a few Obsidian habits are added on top:

* a tab-indented list written right under a paragraph line is a list, as
  Obsidian shows it (CommonMark reads it as more paragraph text);
* ``[[Note]]`` / ``[[Note|alias]]`` become their text, ``![[file.png|alt]]``
  an image; ``%%comments%%`` and HTML comments are dropped;
* ``> [!note] Title`` blockquotes are callouts; ``==text==`` is a highlight;
* ``:shortcode:`` emoji become emoji where they stand as a word (outside
  code, URLs and paths: ``10:30:00`` and ``user:x:1000`` stay as written).

Every platform renders from this one value; nobody parses Markdown again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache
from typing import Union

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin


# ---- inline spans -----------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Styled:
    """Emphasis of some kind around other spans: em, strong, mark or strike."""

    style: str
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Link:
    url: str
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Hashtag:
    tag: str  # without the leading '#'


@dataclass(frozen=True)
class Mention:
    handle: str  # without the leading '@'; may be user@domain or a Bluesky handle


@dataclass(frozen=True)
class FootnoteRef:
    number: int


@dataclass(frozen=True)
class Image:
    src: str
    alt: str
    line: int
    embed: bool = False  # written as ![[...]]


@dataclass(frozen=True)
class NoteLink:
    """``[[Note]]`` or ``[[Note#Heading|label]]``: the label shown, the note named (a link once resolved)."""

    target: str
    children: tuple["Inline", ...]


@dataclass(frozen=True)
class Embed:
    """``![[Note]]``, ``![[Note#Heading]]``, ``![[Note#^block]]``: another note's text, brought in by
    :mod:`pipeline.transclude`; one still here could not be, and shows its ``label``."""

    target: str
    label: str
    line: int


@dataclass(frozen=True)
class Attachment:
    """``![[paper.pdf]]``, audio or video: a file that is not an image, shown by its name, never posted."""

    src: str
    kind: str  # "PDF", "audio", "video"
    line: int


@dataclass(frozen=True)
class Break:
    hard: bool = False


Inline = Union[Text, Code, Styled, Link, Hashtag, Mention, FootnoteRef, Image, NoteLink, Embed, Attachment, Break]

# ---- blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    spans: tuple[Inline, ...]
    line: int


@dataclass(frozen=True)
class Heading:
    level: int
    spans: tuple[Inline, ...]
    line: int


@dataclass(frozen=True)
class Item:
    blocks: tuple["Block", ...]
    checked: bool | None = None  # task list items: [ ] / [x]


@dataclass(frozen=True)
class List:
    ordered: bool
    start: int
    items: tuple[Item, ...]
    line: int


@dataclass(frozen=True)
class Quote:
    blocks: tuple["Block", ...]
    line: int


@dataclass(frozen=True)
class Callout:
    kind: str
    title: str
    blocks: tuple["Block", ...]
    line: int


@dataclass(frozen=True)
class CodeBlock:
    language: str
    text: str
    line: int


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]
    line: int


@dataclass(frozen=True)
class Rule:
    line: int


Block = Union[Paragraph, Heading, List, Quote, Callout, CodeBlock, Table, Rule]


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...]
    footnotes: dict[int, tuple[Block, ...]] = field(default_factory=dict)
    anchors: dict[str, Block] = field(default_factory=dict)  # ^block-id -> the paragraph or list item it ends

    @cached_property
    def nodes(self) -> tuple:
        """Every block and span, as :func:`walk` yields them: listed once, asked for by every reader of the note."""
        return tuple(walk(self))

    @cached_property
    def callouts(self) -> tuple[Callout, ...]:
        """Every callout in reading order (each platform's version of the note looks for its own)."""
        return tuple(node for node in self.nodes if isinstance(node, Callout))

    @property
    def images(self) -> tuple[Image, ...]:
        """Every image in reading order."""
        return tuple(node for node in self.nodes if isinstance(node, Image))


CHILDREN = ("spans", "children", "blocks", "items")
_CHILDREN: dict[type, tuple[str, ...]] = {}  # the names in CHILDREN each kind of node has, last first


def _field_names(node) -> set[str]:
    return {f.name for f in fields(node)}


def walk(node):
    """Yield every block and span under ``node`` (a Document, block or span), depth first."""
    if isinstance(node, Document):
        stack = [*(b for blocks in reversed(node.footnotes.values()) for b in reversed(blocks)), *reversed(node.blocks)]
    else:
        stack = [node]
    push = stack.extend
    while stack:
        node = stack.pop()
        yield node
        kind = type(node)
        names = _CHILDREN.get(kind)
        if names is None:
            names = _CHILDREN[kind] = tuple(name for name in reversed(CHILDREN) if name in _field_names(node))
        if kind is Table:
            push([span for row in reversed(node.rows) for cell in reversed(row) for span in reversed(cell)])
        for name in names:
            push(reversed(getattr(node, name)))


# ---- parsing ------------------------------------------------------------------

CALLOUT = re.compile(r"^\[!([\w-]+(?:[ \t]*,[ \t]*[\w-]+)*)\]([+-]?)[ \t]*(.*)$")  # [!a,b]: per-platform text
LIST_MARKER = re.compile(r"^(\t+| {2,})([-*+]|\d{1,9}[.)])[ \t]")
INDENTED_MARKER = re.compile(LIST_MARKER.pattern, re.M)  # one anywhere in a note
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# a %%comment%%, or code (a fenced block, an inline span) in which %% is literal text
COMMENT_OR_CODE = re.compile(r"(?P<fence>^ {0,3}(?P<mark>`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}(?P=mark)[`~]*[ \t]*$|\Z))"
                             r"|(?P<code>(?P<ticks>`+)[^`\n]+?(?P=ticks))|%%.*?%%", re.S | re.M)
ANY_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
HIGHLIGHT = re.compile(r"==(?=\S)(.+?)(?<=\S)==")
HASHTAG = re.compile(r"(?<![\w&/#])#([^\W\d_][\w/-]*|\d+[^\W\d][\w/-]*)")
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|(?:\.[A-Za-z0-9-]+)+)?)(?<![.-])")
TAG_OR_MENTION = re.compile(f"{HASHTAG.pattern}|{MENTION.pattern}")
BARE_URL = re.compile(r"(?<![\w/])https?://[^\s<>\"]+", re.I)
IMAGE_SIZE = re.compile(r"^\d+(x\d+)?$")
IMAGE_SUFFIXES = {"png", "jpg", "jpeg", "gif", "webp", "bmp", "svg", "avif"}  # what Obsidian shows as images
ATTACHMENT_KINDS = {"pdf": "PDF", **{a: "audio" for a in ("mp3", "m4a", "wav", "ogg", "flac", "3gp")},
                    **{v: "video" for v in ("mp4", "mov", "webm", "mkv", "ogv")}}
# Obsidian's block id: ``^id`` at the end of a paragraph or list item, or on its own line after a block
BLOCK_ID = re.compile(r"(?:^|[ \t])\^([A-Za-z0-9-]+)$")
# A shortcode stands as a word: no letter or digit touches it (``:a::b:`` is two, ``a:b:c`` none).
SHORTCODE = re.compile(r"(?<!\w):[^\s:]+:(?!\w)")


def prepare(source: str) -> str:
    """Apply Obsidian's reading of the source without changing its line count."""
    if "%%" in source:  # (code is kept as it is: without a %% there is nothing to change)
        source = COMMENT_OR_CODE.sub(
            lambda m: m.group(0) if m.group("fence") or m.group("code") else "\n" * m.group(0).count("\n"), source)
    if not INDENTED_MARKER.search(source):  # lines change only from an indented list marker on
        return source
    lines = source.split("\n")
    fence = None
    base = None  # indent stripped from the current lenient list
    previous = ""
    in_list = False  # inside a list, an indented marker is an ordinary nested list
    for i, line in enumerate(lines):
        opener = FENCE.match(line)
        if fence:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            previous = ""
            continue
        if opener and base is None:
            fence = opener.group(1)
            continue
        if base is not None:
            if line.startswith(base):
                lines[i] = line[len(base):]
                continue
            base = None
        was_in_list = in_list
        if ANY_MARKER.match(line):
            in_list = True
        elif line.strip() and not line[:1].isspace() and not previous.strip():
            in_list = False
        marker = LIST_MARKER.match(line)
        if marker and not was_in_list and previous.strip() and not previous.lstrip().startswith((">", "-", "*", "+", "#", "|")):
            base = marker.group(1)
            lines[i] = line[len(base):]
            continue
        previous = line
    return "\n".join(lines)


# markdown-it drops everything nested deeper than maxNesting tokens (20: about ten list levels); two
# tokens per level, so 100 keeps 50 levels of lists or quotes while Python's recursion stays far away.
MAX_NESTING = 100


@lru_cache(maxsize=1)
def _markdown():
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable(["table", "strikethrough"]).use(footnote_plugin)
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    return md


def _wikilink_rule(state, silent: bool) -> bool:
    src, pos = state.src, state.pos
    embed = src.startswith("![[", pos)
    if not embed and not src.startswith("[[", pos):
        return False
    start = pos + (3 if embed else 2)
    end = src.find("]]", start)
    if end < 0 or "\n" in src[start:end] or end == start:
        return False
    if not silent:
        target, _, alias = src[start:end].partition("|")
        token = state.push("wikilink", "", 0)
        token.meta = {"target": target.strip(), "alias": alias.strip(), "embed": embed}
    state.pos = end + 2
    return True


@lru_cache(maxsize=512)  # parsed once per process: a run composes again after a server decided a limit
def parse(body: str, first_line: int = 1) -> Document:
    """Parse a note body; ``first_line`` is the file line the body starts on."""
    tokens = _markdown().parse(prepare(body))
    builder = _Builder(first_line - 1)
    blocks = builder.blocks(tokens)
    return Document(tuple(blocks), builder.footnotes, builder.anchors)


class _Builder:
    """Turns markdown-it's flat token stream into the nested Document."""

    def __init__(self, offset: int):
        self.offset = offset
        self.footnotes: dict[int, tuple[Block, ...]] = {}
        self.anchors: dict[str, Block] = {}
        self._named: dict[int, str] = {}  # id() of a block -> the ^block-id that names it
        self.line = 1

    def blocks(self, tokens) -> list[Block]:
        out: list[Block] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.map:
                self.line = tok.map[0] + 1 + self.offset
            line = self.line
            kind = tok.type
            if kind in ("paragraph_open", "heading_open"):
                spans = self.inlines(tokens[i + 1].children or [])
                if kind == "heading_open" and spans:
                    out.append(Heading(int(tok.tag[1]), spans, line))
                elif spans:
                    spans, anchor = _block_id(spans)
                    if spans:
                        out.append(Paragraph(spans, line))
                    if anchor and (spans or out):  # alone on its line, the id names the block above
                        self.anchors[anchor] = out[-1]
                        self._named[id(out[-1])] = anchor
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open", "blockquote_open", "footnote_open", "table_open"):
                end = _close(tokens, i)
                inner = tokens[i + 1:end]
                if kind == "blockquote_open":
                    out.append(self._quote(self.blocks(inner), line))
                elif kind == "footnote_open":
                    self.footnotes[tok.meta["id"] + 1] = tuple(self.blocks(inner))
                elif kind == "table_open":
                    out.append(self._table(inner, line))
                else:
                    start = int(tok.attrGet("start") or 1)
                    items = [Item(tuple(self.blocks(tokens[a + 1:b]))) for a, b in _children(tokens, i, end, "list_item_open")]
                    ordered = kind == "ordered_list_open"
                    items = [_task(it) for it in items]
                    for n, item in enumerate(items):  # an id ending an item's text names the item
                        anchor = self._named.get(id(item.blocks[0])) if item.blocks else None
                        if anchor:
                            self.anchors[anchor] = List(ordered, start + n, (item,), line)
                    out.append(List(ordered, start, tuple(items), line))
                i = end + 1
                continue
            if kind in ("fence", "code_block"):
                out.append(CodeBlock(tok.info.strip().split(" ")[0] if tok.info else "", tok.content.rstrip("\n"), line))
            elif kind == "hr":
                out.append(Rule(line))
            elif kind == "html_block":
                text = re.sub(r"<!--.*?-->", "", tok.content, flags=re.S).strip()
                if text:
                    out.append(Paragraph((Text(re.sub(r"<[^>]+>", "", text)),), line))
            i += 1
        return out

    def _quote(self, blocks: list[Block], line: int) -> Block:
        first = blocks[0] if blocks else None
        if isinstance(first, Paragraph) and first.spans and isinstance(first.spans[0], Text):
            head, _, rest = first.spans[0].text.partition("\n")
            match = CALLOUT.match(head)
            if match:
                spans = list(first.spans[1:])
                while spans and isinstance(spans[0], Break):
                    spans.pop(0)
                    break
                if rest:
                    spans.insert(0, Text(rest))
                body = ([Paragraph(tuple(spans), first.line + 1)] if spans else []) + list(blocks[1:])
                kind = re.sub(r"[ \t]", "", match.group(1).lower())
                return Callout(kind, match.group(3).strip() or kind.capitalize(), tuple(body), line)
        return Quote(tuple(blocks), line)

    def _table(self, tokens, line: int) -> Table:
        rows, row = [], []
        for tok in tokens:
            if tok.type == "inline":
                row.append(self.inlines(tok.children or []))
            elif tok.type == "tr_close":
                rows.append(tuple(row))
                row = []
        return Table(tuple(rows), line)

    def inlines(self, children) -> tuple[Inline, ...]:
        out: list[Inline] = []
        stack: list[tuple[str, str, list]] = []  # (kind, url/style, saved out)
        for tok in children:
            kind = tok.type
            if kind == "text":
                out.extend(_text_spans(tok.content, urls=not stack or not any(k == "link_open" for k, _, _ in stack)))
            elif kind == "code_inline":
                out.append(Code(tok.content))
            elif kind in ("softbreak", "hardbreak"):
                out.append(Break(kind == "hardbreak"))
            elif kind in ("em_open", "strong_open", "s_open", "link_open"):
                stack.append((kind, tok.attrGet("href") or "", out))
                out = []
            elif kind in ("em_close", "strong_close", "s_close", "link_close") and stack:
                opened, href, saved = stack.pop()
                inner = tuple(_marks(out))
                out = saved
                if opened == "link_open":
                    out.append(Link(href, inner))
                else:
                    out.append(Styled({"em_open": "em", "strong_open": "strong", "s_open": "strike"}[opened], inner))
            elif kind == "image":
                alt = "".join(c.content for c in (tok.children or []) if c.type in ("text", "code_inline"))
                src = tok.attrGet("src") or ""
                suffix = src.split("#")[0].split("?")[0].rsplit(".", 1)[-1].lower()
                if suffix in ATTACHMENT_KINDS and "://" not in src:
                    out.append(Attachment(src, ATTACHMENT_KINDS[suffix], self.line))
                else:
                    out.append(Image(src, alt.strip(), self.line))
            elif kind == "wikilink":
                meta = tok.meta
                name = meta["target"].split("#")[0]
                if meta["embed"]:
                    out.append(_embed(meta["target"], meta["alias"], self.line))
                elif name:
                    out.append(NoteLink(meta["target"], (Text(meta["alias"] or name),)))
                else:  # [[#Heading]]: a place in this very note
                    out.append(Text(meta["alias"] or meta["target"].lstrip("#^")))
            elif kind == "footnote_ref":
                out.append(FootnoteRef(tok.meta["id"] + 1))
            elif kind == "html_inline":
                continue  # tags and comments carry no text of their own
        while stack:  # unbalanced emphasis: keep the text
            _, _, saved = stack.pop()
            out = saved + out
        return _merge(_marks(out))


def _block_id(spans: tuple[Inline, ...]) -> tuple[tuple[Inline, ...], str]:
    """Spans without a closing ``^block-id``, and the id ("" if none)."""
    last = spans[-1] if spans else None
    match = BLOCK_ID.search(last.text) if isinstance(last, Text) else None
    if not match:
        return spans, ""
    rest = last.text[:match.start()].rstrip()
    return _merge([*spans[:-1], Text(rest)]), match.group(1)


def _close(tokens, i: int) -> int:
    depth, opener = 0, tokens[i].type
    closer = opener.replace("_open", "_close")
    for j in range(i, len(tokens)):
        if tokens[j].type == opener:
            depth += 1
        elif tokens[j].type == closer:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _children(tokens, i: int, end: int, opener: str):
    j = i + 1
    while j < end:
        if tokens[j].type == opener:
            k = _close(tokens, j)
            yield j, k
            j = k + 1
        else:
            j += 1


def _task(item: Item) -> Item:
    first = item.blocks[0] if item.blocks else None
    if isinstance(first, Paragraph) and first.spans and isinstance(first.spans[0], Text):
        match = re.match(r"^\[([ xX])\] ", first.spans[0].text)
        if match:
            rest = (Text(first.spans[0].text[4:]),) + first.spans[1:]
            return Item((Paragraph(rest, first.line),) + item.blocks[1:], match.group(1) != " ")
    return item


def _text_spans(text: str, urls: bool = True) -> list[Inline]:
    """Split plain text into text, highlight, hashtag, mention and (bare URL) link spans; emojize shortcodes."""
    if ":" in text and SHORTCODE.search(text):  # (a word that holds one holds it in the text too)
        text = _emojize(text)
    if "==" not in text:  # no highlight
        return _tags(text, urls)
    out: list[Inline] = []
    pos = 0
    for match in HIGHLIGHT.finditer(text):
        out.extend(_tags(text[pos:match.start()], urls))
        out.append(Styled("mark", tuple(_tags(match.group(1), urls))))
        pos = match.end()
    out.extend(_tags(text[pos:], urls))
    return out


def _emojize(text: str) -> str:
    """``:rocket:`` as 🚀 where it stands as a word; a word holding a URL or a path stays as written."""
    import emoji  # 26 ms to load its table: only text with a colon needs it

    def word(match: re.Match) -> str:
        found = match.group(0)
        if "/" in found or "\\" in found:
            return found
        return SHORTCODE.sub(lambda m: emoji.emojize(m.group(0), language="alias"), found)

    return re.sub(r"\S*:\S*", word, text)


def _marks(spans: list[Inline]) -> list[Inline]:
    """``==`` pairs around other spans (``==a *b* c==``) as highlights; a lone ``==`` stays text.

    ``==text==`` inside one text run is already a highlight (:func:`_text_spans`).
    """
    if not any(isinstance(s, Text) and "==" in s.text for s in spans):
        return spans
    pieces: list[Inline | tuple[bool, bool]] = []  # spans, and markers as (can_open, can_close)
    for span in spans:
        if not (isinstance(span, Text) and "==" in span.text):
            pieces.append(span)
            continue
        parts = span.text.split("==")
        for k, part in enumerate(parts):
            if k:
                before, after = parts[k - 1], part
                pieces.append((not after[:1].isspace(), not before[-1:].isspace()))
            if part:
                pieces.append(Text(part))
    out: list[Inline] = []
    opener = None  # index in out where an unmatched opening == stands
    for piece in pieces:
        if not isinstance(piece, tuple):
            out.append(piece)
        elif opener is not None and piece[1] and len(out) > opener + 1:
            inner = tuple(out[opener + 1:])
            del out[opener:]
            out.append(Styled("mark", inner))
            opener = None
        elif piece[0]:
            if opener is not None:
                out[opener] = Text("==")
            opener = len(out)
            out.append(Text("=="))
        else:
            out.append(Text("=="))
    return out


def _tags(text: str, urls: bool = True) -> list[Inline]:
    if urls and "://" in text:  # a bare URL is a link, whose shown text a platform may shorten
        out, pos = [], 0
        for match in BARE_URL.finditer(text):
            url = match.group(0).rstrip(".,;:!?'\"’”")
            while url[-1] in ")]" and url.count(url[-1]) > url.count("(" if url[-1] == ")" else "["):
                url = url[:-1].rstrip(".,;:!?'\"’”")
            out.extend(_tags(text[pos:match.start()], False))
            out.append(Link(url, (Text(url),)))
            pos = match.start() + len(url)
        out.extend(_tags(text[pos:], False))
        return out
    if "#" not in text and "@" not in text:
        return [Text(text)] if text else []
    out: list[Inline] = []
    pos = 0
    for match in TAG_OR_MENTION.finditer(text):
        if match.start() > pos:
            out.append(Text(text[pos:match.start()]))
        out.append(Hashtag(match.group(1)) if match.group(1) else Mention(match.group(2)))
        pos = match.end()
    if pos < len(text):
        out.append(Text(text[pos:]))
    return out


def tidy(spans) -> tuple[Inline, ...]:
    """Spans cut out of a paragraph as a paragraph's spans: texts joined, white space and breaks at the ends trimmed."""
    out = list(_merge(list(spans)))
    while out and isinstance(out[0], Break):
        out = list(_merge(out[1:]))
    return tuple(out)


def _merge(spans: list[Inline]) -> tuple[Inline, ...]:
    """Join neighbouring Text spans and trim white space at the ends."""
    if len(spans) == 1 and type(spans[0]) is Text:  # the most common case: one run of text
        text = spans[0].text.strip()
        return (spans[0] if len(text) == len(spans[0].text) else Text(text),) if text else ()
    out: list[Inline] = []
    for span in spans:
        if isinstance(span, Text):
            if not span.text:
                continue
            if out and isinstance(out[-1], Text):
                out[-1] = Text(out[-1].text + span.text)
                continue
        out.append(span)
    while out and isinstance(out[-1], Break):
        out.pop()
    if out and isinstance(out[0], Text) and out[0].text[:1].isspace():  # (a new span only where one changes)
        out[0] = Text(out[0].text.lstrip())
    if out and isinstance(out[-1], Text) and out[-1].text[-1:].isspace():
        out[-1] = Text(out[-1].text.rstrip())
    return tuple(s for s in out if not (isinstance(s, Text) and not s.text))


def plain(spans) -> str:
    """The visible text of spans, without any markup."""
    parts = []
    for span in spans:
        if isinstance(span, (Text, Code)):
            parts.append(span.text)
        elif isinstance(span, (Styled, Link, NoteLink)):
            parts.append(plain(span.children))
        elif isinstance(span, Embed):
            parts.append(span.label)
        elif isinstance(span, Attachment):
            parts.append(attachment_name(span.src))
        elif isinstance(span, Hashtag):
            parts.append("#" + span.tag)
        elif isinstance(span, Mention):
            parts.append("@" + span.handle)
        elif isinstance(span, Break):
            parts.append("\n")
    return "".join(parts)


def attachment_name(src: str) -> str:
    """How an attachment stands in the text: its file name."""
    return src.split("#")[0].rstrip("/").rsplit("/", 1)[-1]


def _embed(target: str, alias: str, line: int) -> Inline:
    """What ``![[target|alias]]`` is, by the name's suffix: an image, another kind of attachment, or a note."""
    name = target.split("#")[0]
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in IMAGE_SUFFIXES:
        return Image(target, "" if IMAGE_SIZE.match(alias) else alias, line, embed=True)
    if suffix in ATTACHMENT_KINDS:
        return Attachment(target, ATTACHMENT_KINDS[suffix], line)
    return Embed(target, alias or name or target.lstrip("#^"), line)
