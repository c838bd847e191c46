"""Configuration: ``notecast.toml`` plus ``NOTECAST_*`` environment overrides.

Every setting has a default, so the bundled samples need no file at all.
Secrets are never read from the file: only from the environment (see
:mod:`pipeline.secrets`).
"""
from __future__ import annotations

import dataclasses
import os
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from zoneinfo import ZoneInfo

from . import queue as queues
from .errors import UsageError, shown

if TYPE_CHECKING:
    from .platforms import Platform

DEFAULT_EXCLUDED_TAGS = ("permanent-note", "fleeting-note", "literature-note", "evergreen", "draft", "moc")
TOP_KEYS = {"notes", "templates", "timezone", "canonical_url", "exclude_tags", "exclude", "ledger", "platforms",
            "language", "follow_external_symlinks", "max_thread_posts", "queue", "cards"}
COMMON_PLATFORM_KEYS = {"enabled", "overflow", "numbering", "limit", "visibility", "bold"}


@dataclass(frozen=True)
class Config:
    root: Path = Path(".")
    path: Path | None = None
    notes: Path = Path("posts")
    templates: Path | None = None
    timezone: str = "UTC"
    canonical_url: str | None = None  # e.g. https://garden.example/{slug}/
    exclude_tags: tuple[str, ...] = DEFAULT_EXCLUDED_TAGS
    exclude: tuple[str, ...] = ()  # gitignore-style patterns of notes not to read, relative to the notes folder
    ledger: Path = Path(".notecast/ledger.jsonl")
    language: str | None = None
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    follow_external_symlinks: bool = False  # notes and images whose symbolic links lead out of the vault
    max_thread_posts: int = 25  # a note that becomes more posts than this is a warning in check
    queue: queues.Queue | None = None  # [queue]: ready notes without publish_at wait for a slot
    environment: Mapping[str, str] = field(default_factory=lambda: environment(), repr=False, compare=False)
    cards: bool = True  # fetch the pages that links point to, for link cards (NOTECAST_CARDS wins)
    _tables: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def platform(self, name: str) -> Mapping[str, Any]:
        """The settings table of one platform, environment overrides applied (a copy, made once per name)."""
        table = self._tables.get(name)
        if table is None:
            table = dict(self.platforms.get(name, {}))
            prefix = f"NOTECAST_{name.upper()}_"
            table.update((key[len(prefix):].lower(), value) for key, value in self.environment.items()
                         if key.startswith(prefix))
            self._tables[name] = table
        return dict(table)

    def fetch_cards(self) -> bool:
        """Whether link cards are made: ``NOTECAST_CARDS`` (on/off) if set, else ``cards`` in the file."""
        value = self.environment.get("NOTECAST_CARDS", "")
        return _truthy(value) if value.strip() else self.cards

    @property
    def card_cache(self) -> Path:
        """Where fetched cards are remembered: ``cards.json`` beside the ledger."""
        return self.ledger.parent / "cards.json"

    def enabled(self, names) -> tuple[str, ...]:
        return tuple(n for n in names if _truthy(self.platform(n).get("enabled", True)))


def environment() -> dict[str, str]:
    """The NOTECAST_* variables as the command starts; an empty one (an unset GitHub variable) is unset."""
    return {k: v for k, v in os.environ.items() if k.startswith("NOTECAST_") and v != ""}


SECRET_WORDS = ("password", "passwd", "token", "secret", "key")
VISIBILITIES = ("public", "unlisted", "private", "direct")


def _secret_like(key: str, declared: set[str], allowed: set[str]) -> bool:
    """A declared secret, or an unknown key named like one (password, api_token…)."""
    if key in declared:
        return True
    return key not in allowed and (key == "pass" or any(w in key.lower().split("_") for w in SECRET_WORDS))


def _secret_problem(name: str, key: str, declared: set[str]) -> str:
    """A secret found in the file, naming the environment variable(s) it belongs in (password -> app_password)."""
    words = set(key.lower().split("_")) | ({"password"} if key.lower() in ("pass", "passwd") else set())
    meant = [key] if key in declared else sorted(s for s in declared if words & set(s.split("_"))) or sorted(declared)
    variables = " or ".join(f"NOTECAST_{name.upper()}_{s.upper()}" for s in meant or [key])
    return (f"secret {key!r} in the file: secrets go only in the environment ({variables}); "
            "remove it from the file")


def _platform_values(table: Mapping[str, Any]) -> list[str]:
    """What is wrong with the values every platform shares (enabled, numbering, limit, visibility)."""
    out = []
    if "enabled" in table and not isinstance(table["enabled"], bool):
        out.append(f"enabled must be true or false, not {shown(table['enabled'])}")
    for key in ("limit", "max_characters"):
        value = table.get(key)
        if key in table and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            out.append(f"{key} must be a whole number of characters, at least 1, not {shown(value)}")
    if "visibility" in table and table["visibility"] not in VISIBILITIES:
        out.append(f"visibility {shown(table['visibility'])} is not one of {', '.join(VISIBILITIES)}")
    numbering = table.get("numbering")
    if isinstance(numbering, str) and numbering not in ("on", "off"):
        out.extend(_numbering(numbering))
    elif "numbering" in table and not isinstance(numbering, (str, bool)):
        out.append(f"numbering must be on, off or a format such as '({{i}}/{{n}})', not {shown(numbering)}")
    return out


def _numbering(fmt: str) -> list[str]:
    """A numbering format may use only {i} (the post) and {n} (how many), and must use {i}."""
    fix = 'write e.g. numbering = "({i}/{n})"'
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError:
        return [f"numbering {shown(fmt)} is not a format of {{i}} and {{n}}; {fix}"]
    unknown = sorted({"{" + f + "}" for f in fields if f not in ("i", "n")})
    if unknown:
        return [f"numbering {shown(fmt)} is not a format of {{i}} and {{n}} (unknown: {', '.join(unknown)}); {fix}"]
    try:
        fmt.format(i=1, n=2)
    except (ValueError, KeyError, IndexError, AttributeError):
        return [f"numbering {shown(fmt)} is not a format of {{i}} and {{n}}; {fix}"]
    if "i" not in fields:
        return [f"numbering {shown(fmt)} does not show the post's number {{i}}; {fix}"]
    return []


def _folders(data: Mapping[str, Any], root: Path) -> list[str]:
    """notes and ledger must be inside the project folder; templates must name an existing folder."""
    out = []
    for key in ("notes", "ledger"):
        value = data.get(key)
        if isinstance(value, str) and not (root / value).resolve().is_relative_to(root):
            out.append(f"{key} {shown(value)} is outside the project folder {root}; "
                       f"give a path inside it, e.g. {key} = \"{'posts' if key == 'notes' else '.notecast/ledger.jsonl'}\"")
    templates = data.get("templates")
    if isinstance(templates, str):
        folder = root / templates
        if folder.exists() and not folder.is_dir():
            out.append(f"templates {shown(templates)} is a file, not a folder; name the folder that holds your templates")
        elif not folder.exists():
            out.append(f"templates folder {shown(templates)} does not exist; create it, or remove the setting")
    return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def load(path: str | Path | None = None, *, registry: Mapping[str, "Platform"] | None = None) -> Config:
    """Load ``path`` (or ``./notecast.toml`` if it exists); report unknown keys, bad values and secrets as errors.

    ``registry`` (the installed platforms) says which settings each platform has and which are secret: a
    secret found in the file is named by the environment variable it belongs in."""
    known_settings = {n: p.setting_keys for n, p in registry.items()} if registry is not None else None
    secrets = {n: {s.key for s in p.settings if s.secret} for n, p in (registry or {}).items()}
    explicit = path is not None
    path = Path(path) if explicit else Path("notecast.toml")
    if not path.exists():
        if explicit:
            raise UsageError(f"{path}: error: configuration file not found; check the --config path")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: error: cannot read the configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: error: not valid TOML: {exc}; see the README's configuration reference") from None
    root = path.resolve().parent
    problems = [f"unknown key {k!r}" for k in data if k not in TOP_KEYS]
    platforms = data.get("platforms", {})
    if not isinstance(platforms, dict):
        problems.append("[platforms] must be a table of [platforms.<name>] tables")
        platforms = {}
    for name, table in platforms.items():
        if known_settings is not None and name not in known_settings:
            problems.append(f"unknown platform [platforms.{name}] (known: {', '.join(sorted(known_settings))})")
            continue
        if not isinstance(table, dict):
            problems.append(f"[platforms.{name}] must be a table")
            continue
        allowed = COMMON_PLATFORM_KEYS | (known_settings or {}).get(name, set())
        for key in table:
            if _secret_like(key, secrets.get(name, set()), allowed):
                problems.append(_secret_problem(name, key, secrets.get(name, set())))
            elif known_settings is not None and key not in allowed:
                problems.append(f"unknown key {key!r} in [platforms.{name}] (known: {', '.join(sorted(allowed))})")
        problems.extend(f"[platforms.{name}] {p}" for p in _platform_values(table))
    for key in ("notes", "templates", "timezone", "canonical_url", "ledger", "language"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key} must be a string, not {type(data[key]).__name__}")
    problems.extend(_folders(data, root))
    tags = data.get("exclude_tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append('exclude_tags must be a list of tags, e.g. exclude_tags = ["permanent-note", "draft"]')
    patterns = data.get("exclude", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        problems.append('exclude must be a list of gitignore-style patterns, e.g. exclude = ["Templates/", "*.excalidraw.md"]')
    most = data.get("max_thread_posts", 25)
    if not isinstance(most, int) or isinstance(most, bool) or most < 1:
        problems.append(f"max_thread_posts must be a whole number of posts, at least 1, not {shown(most)}")
    for key in ("follow_external_symlinks", "cards"):
        if not isinstance(data.get(key, False), bool):
            problems.append(f"{key} must be true or false")
    if isinstance(data.get("canonical_url"), str):
        try:
            data["canonical_url"].format(slug="s", stem="s", path="s")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"canonical_url {data['canonical_url']!r} cannot be filled in ({type(exc).__name__}: {exc}); "
                            "use only {slug}, {stem} and {path}")
    queue = None
    if "queue" in data:
        queue, found = queues.parse(data["queue"])
        problems.extend(found)
    if problems:
        raise UsageError("\n".join(f"{path}: error: {p}" for p in problems))

    def rel(value: Any, default: Path | None) -> Path | None:
        return (root / value) if isinstance(value, str) else default

    tz = data.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except Exception:
        raise UsageError(f"{path}: error: unknown timezone {tz!r}; write an IANA name such as Europe/Madrid") from None
    return Config(
        root=root,
        path=path,
        notes=rel(data.get("notes"), root / "posts"),
        templates=rel(data.get("templates"), None),
        timezone=tz,
        canonical_url=data.get("canonical_url"),
        exclude_tags=tuple(data.get("exclude_tags", DEFAULT_EXCLUDED_TAGS)),
        exclude=tuple(data.get("exclude", ())),
        ledger=rel(data.get("ledger"), root / ".notecast" / "ledger.jsonl"),
        language=data.get("language"),
        platforms=platforms,
        follow_external_symlinks=data.get("follow_external_symlinks", False),
        max_thread_posts=data.get("max_thread_posts", 25),
        queue=dataclasses.replace(queue, timezone=tz) if queue else None,
        cards=data.get("cards", True),
    )
