"""Reading a note: a Markdown file with YAML front matter.

python-frontmatter does the splitting and YAML loading, but it hides several
mistakes (an unclosed block, a list or a scalar instead of a mapping all come
back as ``{}``) and reports YAML errors without the file's line numbers. This
module wraps it so that each of those becomes a :class:`~pipeline.errors.Problem`
naming the file and line.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import frontmatter
import yaml

from .errors import NoteError, Problem, shown

ZETTEL_ID = re.compile(r"^\s*\d{8,14}\s*(?:[-–—:_|]\s*)?(?=\S)")
NOTECAST_KEYS = {"platforms", "publish_at", "status", "template", "hashtags", "priority", "card"}
STATUSES = ("draft", "ready")
# Front matter is a few dozen values; aliases nested in aliases (a "billion laughs") expand to
# astronomically many, which notecast would copy into every request. Refused before they are built.
MAX_VALUES = 10_000
CLOSING = re.compile(r"^-{3,}[^\S\n]*$", re.M)  # the line that closes front matter
YAML = frontmatter.YAMLHandler()  # python-frontmatter's splitting (its loading hides errors: see _load)
KEY = re.compile(r"([^\s#:-][^:]*?)\s*:")  # a top-level front matter key, e.g. title:
NESTED_KEY = re.compile(r"[ \t]+([^\s#:-][^:]*?)\s*:")  # a key nested in a block, e.g. notecast: status:
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
PRIORITIES = ("normal", "high")


@dataclass(frozen=True)
class Settings:
    """The note's own ``notecast:`` block, validated."""

    platforms: tuple[str, ...] | None = None
    publish_at: datetime | None = None
    status: str = "draft"
    template: str | None = None
    hashtags: tuple[str, ...] = ()
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    priority: str = "normal"  # high: first in the queue
    card: str | bool | None = None  # a URL to show as the link card, False for none, None: the first link


NO_SETTINGS = Settings()  # a note without a notecast: block (most notes of a vault share it)


@dataclass(frozen=True)
class Note:
    """A note as read from disk: front matter (keys lower-cased) and body."""

    path: Path
    meta: Mapping[str, Any]
    body: str
    body_line: int  # the file line on which ``body`` starts (1-based)
    title: str
    date: date | None
    tags: tuple[str, ...]
    settings: Settings
    lines: Mapping[str, int] = field(default_factory=dict)  # front matter key -> file line
    digest: str = ""  # sha256 of the file's text: with the settings and templates, it tells an unchanged note
    real: str = ""  # the file's real path (links resolved): the ledger names the note by it

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or self.path.stem


def strip_zettel_id(title: str) -> str:
    """``202303012203 - My failure resume`` -> ``My failure resume``."""
    return ZETTEL_ID.sub("", title, count=1).strip()


def read(path: str | Path, *, timezone: str = "UTC", platforms: tuple[str, ...] = (), real: str = "") -> Note:
    """Read and validate one note; raise :class:`NoteError` with every problem found.

    ``real``: the file's real path, where the caller knows it (a vault's walk does); else it is found."""
    path = path if isinstance(path, Path) else Path(path)
    text = _decode(path)
    meta, body, body_line, lines = _split(path, text)
    meta = {str(k).lower(): v for k, v in meta.items()}
    problems: list[Problem] = []

    def problem(key: str, message: str, hint: str = "") -> None:
        problems.append(Problem(str(path), lines.get(key) or lines.get(key.split(".")[0]), message, hint))

    raw_title = meta.get("title")
    if isinstance(raw_title, (list, dict)):
        problem("title", f"title must be text, not a {'list' if isinstance(raw_title, list) else 'set of keys'}",
                'write e.g. title: "My failure resume"')
        raw_title = None
    if raw_title is not None and not isinstance(raw_title, str):
        raw_title = str(raw_title)
    for key in ("lang", "language"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, str) and LANGUAGE.fullmatch(value.strip())):
            problem(key, f"{key} {shown(value)} is not a language code", f"write one code, e.g. {key}: en or {key}: pt-BR")
    title = strip_zettel_id(raw_title) if raw_title else strip_zettel_id(path.stem.replace("-", " "))
    tags = _tags(meta.get("tags"), lambda m, h="": problem("tags", m, h))
    settings = _settings(meta.get("notecast"), timezone, platforms, problem)
    note_date = meta.get("date")
    if isinstance(note_date, datetime):
        note_date = note_date.date()
    elif note_date is not None and not isinstance(note_date, date):
        try:
            note_date = date.fromisoformat(str(note_date).strip())
        except ValueError:
            problem("date", f"date {shown(note_date)} is not a date", "write it as YYYY-MM-DD, e.g. 2023-03-01")
            note_date = None
    if problems:
        raise NoteError(*problems)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return Note(path, meta, body, body_line, title or path.stem, note_date, tags, settings, lines, digest,
                real or os.path.realpath(path))


def body(path: str | Path) -> tuple[str, int]:
    """The text of a Markdown file without its front matter, and the file line it starts on (to embed it)."""
    path = Path(path)
    _meta, text, first_line, _lines = _split(path, _decode(path))
    return text, first_line


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoteError.at(path, None, f"cannot read the file: {exc.strerror}", "check the path and its permissions") from None
    if not data.strip():
        raise NoteError.at(path, None, "the note is empty", "write some text, or delete the file")
    if b"\x00" in data[:8192]:
        raise NoteError.at(path, None, "this is a binary file, not a Markdown note",
                           "keep only text notes under the notes folder, or rename it away from .md")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NoteError.at(path, line, f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
                           "save the file as UTF-8 in your editor") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():  # e.g. only a byte order mark
        raise NoteError.at(path, None, "the note is empty", "write some text, or delete the file")
    return text


def _split(path: Path, text: str) -> tuple[dict, str, int, dict[str, int]]:
    """Split front matter from body; map each top-level key to its file line."""
    lead = len(text) - len(text.lstrip("\n"))  # blank lines python-frontmatter would strip
    rest = text[lead:]
    if not rest.startswith("---"):
        return {}, text, 1, {}
    first = rest.split("\n", 1)[0]
    if first.rstrip() != "---":
        return {}, text, 1, {}
    end = CLOSING.search(text, lead + len(first))  # the closing ---, after the opening line
    closing = text.count("\n", 0, end.start()) if end else None  # its line index
    if closing is None:
        raise NoteError.at(path, lead + 1, "front matter is never closed",
                           "add a line with only --- after the last front matter line")
    fm, _content = YAML.split(rest)  # fm keeps the rest of the opening line: line k of fm is file line lead+1+k
    try:
        meta = _load(fm) if fm.strip() else {}
    except _TooMany as exc:
        raise NoteError.at(path, lead + 1 + exc.line, f"front matter {exc.reason}",
                           "write the values out instead of nesting &anchors and *aliases") from None
    except RecursionError:
        raise NoteError.at(path, lead + 1, "front matter is nested too deeply to read",
                           "write it as plain key: value lines") from None
    except yaml.YAMLError as exc:
        # PyYAML marks an unclosed quote or bracket where it gave up (often the closing ---);
        # the line that opened it (context_mark) is the one to fix. A block mapping's context is
        # its first key, far from the mistake: there the problem mark is right.
        marks = [getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)]
        if not str(getattr(exc, "context", "") or "").startswith("while parsing a block"):
            marks.reverse()
        found = [lead + 1 + m.line for m in marks if m is not None]
        line = next((n for n in found if n <= closing), closing) if found else lead + 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NoteError.at(path, line, f"front matter is not valid YAML: {reason}",
                           "check the quotes, colons and indentation on that line") from None
    except Exception as exc:  # well-formed, but a value cannot be built (2023-02-30, a bad !!tag)
        line = _unreadable_value(fm)
        reason = f": {exc}" if isinstance(exc, ValueError) else ""
        raise NoteError.at(path, lead + 1 + line if line is not None else lead + 1,
                           f"front matter has a value that cannot be read{reason}",
                           "write dates as real dates (YYYY-MM-DD), or quote the value") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = "a list" if isinstance(meta, list) else f"a single {type(meta).__name__}"
        raise NoteError.at(path, lead + 2, f"front matter is {kind}, not a set of keys",
                           "write it as key: value lines, e.g. title: My note")
    body_start = closing + 2  # 1-based line after the closing ---
    body = text[end.end() + 1:]
    all_lines = text[:end.start()].split("\n")
    key_lines: dict[str, int] = {}
    parent = ""
    for number in range(lead + 2, closing + 1):
        line = all_lines[number - 1]
        m = KEY.match(line)
        if m:
            parent = m.group(1).strip("'\" ").lower()
            key_lines.setdefault(parent, number)
            continue
        m = NESTED_KEY.match(line)  # a key nested in a block: notecast.status
        if m and parent:
            key_lines.setdefault(f"{parent}.{m.group(1).strip(chr(39) + chr(34) + ' ').lower()}", number)
    return meta, body, body_start, key_lines


class _TooMany(Exception):
    """Front matter whose aliases expand to too many values, or refer to themselves."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


def _load(fm: str) -> Any:
    """YAML front matter as Python values, refusing alias bombs before anything is built."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(fm)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if "*" in fm:  # only an alias (*name) can make the values outnumber the text
            _count(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _count(root) -> None:
    """Raise :class:`_TooMany` if ``root`` expands (each alias as a copy) to more than MAX_VALUES values.

    Each node is sized once (aliases share nodes), so this takes time in the
    size of the text, not of the expansion; the line is that of the key whose
    value crosses the limit.
    """
    sizes: dict[int, int] = {}
    total = 0
    pairs = root.value if isinstance(root, yaml.MappingNode) else [(root, None)]
    for key, value in pairs:
        total += _size(key, sizes) + (_size(value, sizes) if value is not None else 0)
        if total > MAX_VALUES:
            raise _TooMany(key.start_mark.line, f"expands to more than {MAX_VALUES:,} values "
                           "(aliases nested in aliases)")


def _size(node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias expanded (iterative: no recursion limit)."""
    stack, on_path = [(node, False)], set()
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if key in sizes:
            continue
        if isinstance(current, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = [n for pair in current.value for n in pair] if isinstance(current, yaml.MappingNode) else current.value
        if children_done:
            on_path.discard(key)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), MAX_VALUES + 1)
            continue
        if key in on_path:
            raise _TooMany(current.start_mark.line, "has a value that contains itself (a recursive alias)")
        on_path.add(key)
        stack.append((current, True))
        for child in children:
            if id(child) in on_path:
                raise _TooMany(child.start_mark.line, "has a value that contains itself (a recursive alias)")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(node)]


def _unreadable_value(fm: str) -> int | None:
    """The front matter line (0-based, as in ``fm``) of the first value YAML parses but cannot build."""
    try:
        root = yaml.compose(fm, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop(0)
        try:
            yaml.SafeLoader("").construct_document(node)
        except Exception:
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else (
                list(node.value) if isinstance(node, yaml.SequenceNode) else [])
            if not children:
                return node.start_mark.line
            pending = children
    return None


def _tags(value: Any, problem) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = [t for t in re.split(r"[,\s]+", value) if t]
    elif isinstance(value, (list, tuple)):
        if any(isinstance(t, (list, dict, set)) for t in value):
            problem("each tag must be a single word, not a list or a set of keys", "write e.g. tags: [career, data-science]")
            return ()
        items = [str(t) for t in value if t is not None]
    else:
        problem(f"tags must be a list or a comma-separated string, not {type(value).__name__}",
                "write e.g. tags: [career, data-science]")
        return ()
    return tuple(tag for tag in (t.strip().lstrip("#") for t in items) if tag)


def _settings(block: Any, tz: str, platforms: tuple[str, ...], problem) -> Settings:
    if block is None:
        return NO_SETTINGS
    if not isinstance(block, dict):
        problem("notecast", "notecast: must be a set of keys", "write e.g. notecast: {status: ready}")
        return NO_SETTINGS
    block = {str(k).lower(): v for k, v in block.items()}
    known = set(platforms)
    for key in block:
        if key not in NOTECAST_KEYS and key not in known:
            close = ", ".join(sorted(NOTECAST_KEYS | known))
            problem(f"notecast.{key}", f"unknown key notecast.{shown(key)[1:-1]}", f"use one of: {close}")
    chosen = None
    if "platforms" in block:
        raw = block["platforms"]
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
            problem("notecast.platforms", "notecast.platforms must be a list of platform names",
                    "write e.g. platforms: [linkedin, bluesky]")
        else:
            chosen = tuple(str(p).lower() for p in raw)
            for name in chosen:
                if known and name not in known:
                    problem("notecast.platforms", f"unknown platform {shown(name)} in notecast.platforms",
                            f"use one of: {', '.join(sorted(known))}")
    status = block.get("status", "draft")
    status = status.lower() if isinstance(status, str) else status
    if status not in STATUSES:
        problem("notecast.status", f"notecast.status {shown(status)} is not draft or ready", "write status: ready to publish it")
        status = "draft"
    priority = str(block.get("priority", "normal")).lower()
    if priority not in PRIORITIES:
        problem("notecast.priority", f"notecast.priority {shown(priority)} is not high or normal",
                "write priority: high to put the note first in the queue")
    publish_at = None
    if block.get("publish_at") is not None:
        try:
            publish_at = parse_when(block["publish_at"], tz)
        except ValueError:
            problem("notecast.publish_at", f"publish_at {shown(str(block['publish_at']))} is not a date",
                    "write e.g. 2026-12-01T09:00:00+01:00")
    template = block.get("template")
    if template is not None and (not isinstance(template, str) or not re.fullmatch(r"[\w.-]+", template)):
        problem("notecast.template", f"notecast.template {shown(template)} is not a template name",
                "write a name such as essay (templates/essay.<platform>.j2)")
        template = None
    hashtags = _tags(block.get("hashtags"), lambda m, h="": problem("notecast.hashtags", m, h))
    card = _card(block.get("card"), lambda m, h: problem("notecast.card", m, h))
    overrides = {k: v for k, v in block.items() if k in known}
    for name, value in overrides.items():
        if not isinstance(value, dict):
            problem(f"notecast.{name}", f"notecast.{name} must be a set of keys", f"write e.g. {name}: {{overflow: error}}")
    overrides = {k: {str(a).lower(): b for a, b in v.items()} for k, v in overrides.items() if isinstance(v, dict)}
    for name, table in overrides.items():
        for key, value in table.items():
            if key == "text" and not isinstance(value, str):
                problem(f"notecast.{name}", f"notecast.{name}.text must be the post's text in Markdown, not {shown(value)}",
                        f"write it as a block: {name}: {{text: |\n    Your words for {name}…}}")
            elif not isinstance(value, (str, int, float, bool)):
                problem(f"notecast.{name}", f"notecast.{name}.{shown(key)[1:-1]} must be a single value, not {shown(value)}",
                        f"write e.g. {name}: {{overflow: error}}")
    return Settings(chosen, publish_at, status, template, hashtags, overrides, priority, card)



def _card(value: Any, problem) -> str | bool | None:
    """``card:``: a web address to show as the link card, false for none; true or nothing: the first link."""
    if value is None or value is True:
        return None
    if value is False:
        return False
    if isinstance(value, str) and re.fullmatch(r"https?://[^\s/?#]+\S*", value.strip(), re.I):
        return value.strip()
    problem(f"notecast.card {shown(value)} is not a web address or false",
            "write card: https://example.com/page to choose the link shown as a card, or card: false for none")
    return None



def parse_when(value: Any, tz: str) -> datetime:
    """A schedule time as an aware datetime; naive times are in ``tz``.

    ``zoneinfo`` resolves a naive wall time in a daylight-saving gap or fold
    with ``fold=0``: the earlier of two ambiguous instants, and for a time that
    does not exist, the instant it would have been before the change.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value, time(9, 0))
    else:
        text = str(value).strip().replace(" ", "T", 1)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # a quoted date is a date, like an unquoted one
            return parse_when(date.fromisoformat(text), tz)
        when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when
