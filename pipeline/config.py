"""Configuration: ``notecast.toml`` plus ``NOTECAST_*`` environment overrides.

Every setting has a default, so the bundled samples need no file at all.
Secrets are never read from the file: only from the environment (see
:mod:`pipeline.secrets`).
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping
from zoneinfo import ZoneInfo

from . import queue as queues
from .errors import UsageError

if TYPE_CHECKING:
    from .platforms import Platform

DEFAULT_EXCLUDED_TAGS = ("permanent-note", "fleeting-note", "literature-note", "evergreen", "draft", "moc")
TOP_KEYS = {"notes", "templates", "timezone", "canonical_url", "exclude_tags", "ledger", "platforms", "language", "queue"}
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
    ledger: Path = Path(".notecast/ledger.jsonl")
    language: str | None = None
    platforms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    queue: queues.Queue | None = None  # [queue]: ready notes without publish_at wait for a slot

    def platform(self, name: str) -> Mapping[str, Any]:
        """The settings table of one platform, environment overrides applied."""
        table = dict(self.platforms.get(name, {}))
        prefix = f"NOTECAST_{name.upper()}_"
        for key, value in os.environ.items():
            if key.startswith(prefix) and value != "":  # an empty variable (an unset GitHub one) is unset
                table[key[len(prefix):].lower()] = value
        return table

    def enabled(self, names) -> tuple[str, ...]:
        return tuple(n for n in names if _truthy(self.platform(n).get("enabled", True)))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def load(path: str | Path | None = None, *, registry: Mapping[str, "Platform"] | None = None) -> Config:
    """Load ``path`` (or ``./notecast.toml`` if it exists); report unknown keys, and secrets, as errors.

    ``registry`` (the installed platforms) says which settings each platform has and which are secret."""
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
            if known_settings is not None and key not in allowed:
                problems.append(f"unknown key {key!r} in [platforms.{name}] (known: {', '.join(sorted(allowed))})")
    for name, table in platforms.items():
        for key in table if isinstance(table, dict) else ():
            if key in secrets.get(name, ()):
                problems.append(f"secret {key!r} in the file: secrets go only in the environment "
                                f"(NOTECAST_{name.upper()}_{key.upper()}); remove it from the file")
    for key in ("notes", "templates", "timezone", "canonical_url", "ledger", "language"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key} must be a string, not {type(data[key]).__name__}")
    tags = data.get("exclude_tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append('exclude_tags must be a list of tags, e.g. exclude_tags = ["permanent-note", "draft"]')
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
        ledger=rel(data.get("ledger"), root / ".notecast" / "ledger.jsonl"),
        language=data.get("language"),
        platforms=platforms,
        queue=dataclasses.replace(queue, timezone=tz) if queue else None,
    )
