"""Rendering a Document into a platform's draft text through Jinja2 templates.

Templates run in Jinja's sandbox with ``StrictUndefined``: a typo is an error
naming the template and line, and reaching into Python internals is refused.
The text forms (bullets, links, quotes, footnotes…) are filters, so a user
template decides the layout while each platform decides the spelling.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from . import document as d
from .errors import NoteError, shown
from .fit import POST_BREAK
from .notes import Note
from .media import Media
from .platforms import Platform
from .sandbox import Sandbox, TooMuchOutput, capped, limit_filters

CALLOUT_ICONS = {"note": "📝", "info": "ℹ️", "tip": "💡", "hint": "💡", "important": "❗", "warning": "⚠️",
                 "caution": "⚠️", "danger": "⛔", "error": "⛔", "bug": "🐞", "example": "📋", "quote": "❝",
                 "cite": "❝", "success": "✅", "check": "✅", "done": "✅", "question": "❓", "faq": "❓",
                 "failure": "❌", "abstract": "📄", "summary": "📄", "tldr": "📄", "todo": "☑️"}
BULLETS = ("•", "◦", "▪")  # by depth
# What str.isspace calls white space, but a line break and a form feed (a post break, fit.POST_BREAK: kept).
SPACE = "\t\x0b\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
        "\u2028\u2029\u202f\u205f\u3000"
MAX_INDENT = 6  # deeper list levels are indented no further: a post has no room for a staircase


@dataclass(frozen=True)
class Draft:
    """A note rendered for one platform, before fitting."""

    note: Note
    platform: Platform
    text: str
    media: tuple[Media, ...] = ()
    warnings: tuple[str, ...] = ()
    url: str | None = None


class TextForm:
    """How a Document is spelled in one platform's plain text."""

    def __init__(self, platform: Platform, *, unicode_bold: bool = False):
        self.platform = platform
        self.bullets = BULLETS
        self.unicode_bold = unicode_bold
        self.linked = False  # whether the block spelled last holds a link

    def document(self, doc: d.Document, made: dict[tuple[int, bool], str] | None = None) -> str:
        """The document's text. ``made``: the text of each block (with its footnotes) another platform's form
        spelled that holds no link, which is the same on every platform, taken instead of spelling it again;
        this form adds those it spells."""
        out: list[str] = []
        blocks = list(doc.blocks)
        for i, block in enumerate(blocks):
            if isinstance(block, d.Rule):  # a thematic break ends a post of a thread; elsewhere a blank line
                if self.platform.threads and out and out[-1] != "\f":
                    out.append("\f")
                continue
            text = made.get((i, self.unicode_bold)) if made is not None else None
            if text is None:
                text = self._with_notes(doc, block)
                if made is not None and not self.linked:
                    made[(i, self.unicode_bold)] = text
            if not text:
                continue
            previous = blocks[i - 1] if i else None
            if out and out[-1] != "\f" and (isinstance(previous, d.Heading) or (
                    isinstance(block, d.List) and isinstance(previous, d.Paragraph) and out[-1].endswith(":"))):
                out[-1] += "\n" + text  # a heading or an intro line stays with what follows
            else:
                out.append(text)
        return "\n\n".join(out).replace("\n\n\f\n\n", POST_BREAK)

    def _with_notes(self, doc: d.Document, block: d.Block) -> str:
        """A block's text and its footnotes' ("" for a block without text); ``linked`` tells if it spelled a link."""
        self.linked = False
        text = self.block(block, 0)
        if not text:
            return ""
        # (markdown-it makes a footnote reference only where its footnote is defined)
        refs = [s.number for s in d.walk(block) if isinstance(s, d.FootnoteRef)] if doc.footnotes else []
        notes = [f"[{n}] " + "\n".join(self.block(b, 0) for b in doc.footnotes.get(n, ())) for n in refs]
        if notes:
            text += "\n\n" + "\n".join(notes)
        return text

    def block(self, block: d.Block, depth: int) -> str:
        if isinstance(block, (d.Paragraph, d.Heading)):
            return self.spans(block.spans).strip()
        if isinstance(block, d.List):
            lines = []
            for n, item in enumerate(block.items, block.start):
                marker = f"{n}." if block.ordered else self.bullets[min(depth, len(self.bullets) - 1)]
                if item.checked is not None:
                    marker += " ☑" if item.checked else " ☐"
                body = [self.block(b, depth + 1) for b in item.blocks]
                first, *rest = [t for t in body if t] or [""]
                lines.append("   " * min(depth, MAX_INDENT) + f"{marker} {first}")
                lines.extend(rest)
            return "\n".join(lines)
        if isinstance(block, d.Quote):
            inner = [self.block(b, depth) for b in block.blocks]
            inner = [t for t in inner if t]
            if len(inner) == 1 and "\n" not in inner[0]:
                return f"“{inner[0]}”"
            return "\n".join("> " + line if line else ">" for line in "\n\n".join(inner).split("\n"))
        if isinstance(block, d.Callout):
            icon = CALLOUT_ICONS.get(block.kind, "📝")
            body = "\n\n".join(t for t in (self.block(b, depth) for b in block.blocks) if t)
            return f"{icon} {block.title}" + (f"\n{body}" if body else "")
        if isinstance(block, d.CodeBlock):
            return block.text
        if isinstance(block, d.Table):
            return "\n".join(" | ".join(self.spans(cell) for cell in row) for row in block.rows)
        return ""

    def spans(self, spans) -> str:
        out = []
        for span in spans:
            if isinstance(span, (d.Text, d.Code)):
                out.append(span.text)
            elif isinstance(span, d.Styled):
                inner = self.spans(span.children)
                out.append(bold(inner) if self.unicode_bold and span.style == "strong" else inner)
            elif isinstance(span, d.Link):  # the one spelling that is the platform's own
                self.linked = True
                out.append(self.platform.link(d.plain(span.children).strip(), span.url))
            elif isinstance(span, d.NoteLink):  # a note without a page of its own: its text
                out.append(self.spans(span.children))
            elif isinstance(span, d.Embed):  # an embed that could not be resolved keeps its name
                out.append(span.label)
            elif isinstance(span, d.Attachment):
                out.append(d.attachment_name(span.src))
            elif isinstance(span, d.Hashtag):
                out.append("#" + span.tag)
            elif isinstance(span, d.Mention):
                out.append("@" + span.handle)
            elif isinstance(span, d.FootnoteRef):
                out.append(f"[{span.number}]")
            elif isinstance(span, d.Break):
                out.append("\n")
        return "".join(out)


def bold(text: str) -> str:
    """Mathematical bold letters (opt-in: screen readers spell them out)."""
    table = {**{c: chr(0x1D400 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
             **{c: chr(0x1D41A + i) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},
             **{c: chr(0x1D7CE + i) for i, c in enumerate("0123456789")}}
    return "".join(table.get(c, c) for c in text)


def hashtag(tag: str, style: str) -> str:
    """A tag as a hashtag: ``data-science`` -> ``#datascience`` or, camel, ``#DataScience``."""
    words = [w for w in re.split(r"[\s_\-/.]+", tag.lstrip("#")) if w]
    if style == "camel" and len(words) > 1:
        return "#" + "".join(w[:1].upper() + w[1:] for w in words)
    return "#" + "".join(words)


@lru_cache(maxsize=8)
def environment(folders: tuple[Path, ...]):
    """A sandboxed Jinja environment over the user's folders, then the defaults."""
    loader = jinja2.FileSystemLoader([*map(str, folders), str(bundled("templates", "templates"))])
    env = Sandbox(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                  keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True)
    limit_filters(env.filters)
    return env


def bundled(installed: str, checkout: str) -> Path:
    """A folder shipped with notecast: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    inside = here / installed
    return inside if inside.is_dir() else here.parent / checkout


def template_names(note: Note, platform: Platform) -> list[str]:
    """Where a note's template is looked for, first match wins (``post.j2`` serves any platform without its own)."""
    name = note.settings.template
    return [f"{name}.{platform.name}.j2", f"{name}.j2"] if name else [f"{platform.name}.j2", "post.j2"]


def render(note: Note, doc: d.Document, platform: Platform, *, media: tuple[Media, ...] = (),
           folders: tuple[Path, ...] = (), exclude_tags: tuple[str, ...] = (), url: str | None = None,
           unicode_bold: bool = False) -> Draft:
    """Render one note for one platform into a Draft (text before fitting, media, warnings)."""
    form = TextForm(platform, unicode_bold=unicode_bold)
    excluded = {t.lower() for t in exclude_tags}
    tags = [t for t in (*note.tags, *note.settings.hashtags) if t.lower() not in excluded]
    hashtags = list(dict.fromkeys(hashtag(t, platform.hashtag_style) for t in tags))
    media, warnings = platform.attach(media)
    context = {
        "title": note.title,
        "date": note.date,
        "tags": tags,
        "hashtags": hashtags,
        "url": url,
        "meta": dict(note.meta),
        "document": doc,
        "body": _body(form, doc),
        "images": [{"path": str(m.path), "alt": m.alt} for m in media],
        "platform": {"name": platform.name, "limit": platform.limit, "threads": platform.threads},
        "post_break": POST_BREAK,
    }
    env = environment(folders)
    env.filters.update(text=form.document, spans=form.spans, hashtag=lambda t: hashtag(t, platform.hashtag_style),
                       link=lambda label, target: platform.link(label, target))
    names = template_names(note, platform)
    try:
        template = _template(env, folders, names)
    except jinja2.TemplatesNotFound:
        line = note.lines.get("notecast.template") or note.lines.get("notecast")
        raise NoteError.at(note.path, line, f"no template {' or '.join(names)}",
                           f"create it in {folders[0] if folders else 'templates/'} or fix notecast.template") from None
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax(exc) from None
    text = _run(template, context)
    return Draft(note, platform, clean_draft(text), media, tuple(warnings), url)


# The text of each block without a link in the documents rendered last: a note's platforms are rendered one
# after the other, and only a link is spelled differently by each.
_MADE: dict[int, tuple[d.Document, dict[tuple[int, bool], str]]] = {}


def _body(form: TextForm, doc: d.Document) -> str:
    """``form.document(doc)``, with the blocks another platform's form already spelled the same."""
    made = _MADE.get(id(doc))
    if made is None or made[0] is not doc:  # (the document is kept with its texts: its id is not reused)
        if len(_MADE) >= 8:
            _MADE.clear()
        made = _MADE[id(doc)] = (doc, {})
    return form.document(doc, made[1])


_CHOSEN: dict[tuple[tuple[Path, ...], tuple[str, ...]], str] = {}  # (folders, names looked for) -> the name found


def _template(env, folders: tuple[Path, ...], names: list[str]):
    """The first template of ``names`` in ``folders``. Which name that is, is remembered: a name that is
    not there costs a search of every folder, each time. The template itself is Jinja's (reloaded when its
    file changes)."""
    key = (folders, tuple(names))
    if key in _CHOSEN:
        try:
            return env.get_template(_CHOSEN[key])
        except jinja2.TemplateNotFound:  # deleted since: look again
            del _CHOSEN[key]
    template = env.select_template(names)
    _CHOSEN[key] = template.name
    return template


def _run(template, context: dict) -> str:
    """The template's output; any failure while it runs is an error naming the template file and line."""
    try:
        return capped(template, context)
    except TooMuchOutput as exc:
        raise NoteError.at(*exc.where, f"template tried something unsafe: {exc}",
                           "templates may only build posts; look for a loop that writes too much") from None
    except jinja2.TemplateSyntaxError as exc:  # in a template it includes or imports
        raise _syntax(exc) from None
    except jinja2.TemplateNotFound as exc:
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, f"template error: no template {shown(exc.name)} to include or import",
                           "create it in your templates folder, or fix the name") from None
    except jinja2.exceptions.SecurityError as exc:
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, f"template tried something unsafe: {exc}",
                           "templates may only use the note's fields and notecast's filters") from None
    except jinja2.UndefinedError as exc:
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, f"template error: {exc.message}",
                           "check the name against the fields listed in the README's template reference") from None
    except RecursionError as exc:
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, "template error: a macro or include calls itself without end",
                           "give the recursion a condition that stops it") from None
    except MemoryError as exc:
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, "template error: the template ran out of memory",
                           "templates may only build posts; look for a loop or repetition that grows") from None
    except Exception as exc:  # a template is code: {{ 1/0 }}, int('x'), a filter given the wrong type…
        where, line = _template_frame(exc)
        raise NoteError.at(where, line, f"template error: {type(exc).__name__}: {_short(str(exc))}",
                           "check the template's expressions") from None


def _syntax(exc) -> NoteError:
    return NoteError.at(exc.filename or exc.name or "template", exc.lineno, f"template syntax error: {exc.message}",
                        "fix the template; see the README's template reference")


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def clean_draft(text: str) -> str:
    """The draft without trailing white space on its lines, post breaks (form feeds) kept."""
    return "\n".join(line.rstrip(SPACE) for line in text.strip().split("\n"))


def _template_frame(exc: BaseException) -> tuple[str, int | None]:
    """The template file and line where rendering failed, from Jinja's rewritten traceback."""
    tb = exc.__traceback__
    found: tuple[str, int | None] = ("template", None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
