"""Configuration: ``notecast.toml`` plus ``NOTECAST_*`` environment overrides.

Every setting has a default, so the bundled samples need no file at all.
Secrets are never read from the file: only from the environment (see
:mod:`pipeline.secrets`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import UsageError, shown

DEFAULT_EXCLUDED_TAGS = ("permanent-note", "fleeting-note", "literature-note", "evergreen", "draft", "moc")
TOP_KEYS = {"notes", "templates", "timezone", "canonical_url", "exclude_tags", "ledger", "platforms", "language",
            "follow_external_symlinks", "max_thread_posts"}
COMMON_PLATFORM_KEYS = {"enabled", "overflow", "numbering", "limit", "visibility"}


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
    follow_external_symlinks: bool = False  # notes and images whose symbolic links lead out of the vault
    max_thread_posts: int = 25  # a note that becomes more posts than this is a warning in check

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


def load(path: str | Path | None = None, *, known_settings: Mapping[str, set[str]] | None = None) -> Config:
    """Load ``path`` (or ``./notecast.toml`` if it exists); report unknown keys as errors."""
    import tomllib

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
    secret_like = [(n, k) for n, t in platforms.items() if isinstance(t, dict) for k in t
                   if k in ("token", "app_password", "api_key", "api_secret", "access_token", "access_secret", "password")]
    for name, key in secret_like:
        problems.append(f"secret {key!r} in the file: secrets go only in the environment "
                        f"(NOTECAST_{name.upper()}_{key.upper()}); remove it from the file")
    for key in ("notes", "templates", "timezone", "canonical_url", "ledger", "language"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key} must be a string, not {type(data[key]).__name__}")
    tags = data.get("exclude_tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append('exclude_tags must be a list of tags, e.g. exclude_tags = ["permanent-note", "draft"]')
    most = data.get("max_thread_posts", 25)
    if not isinstance(most, int) or isinstance(most, bool) or most < 1:
        problems.append(f"max_thread_posts must be a whole number of posts, at least 1, not {shown(most)}")
    if not isinstance(data.get("follow_external_symlinks", False), bool):
        problems.append("follow_external_symlinks must be true or false")
    if isinstance(data.get("canonical_url"), str):
        try:
            data["canonical_url"].format(slug="s", stem="s", path="s")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"canonical_url {data['canonical_url']!r} cannot be filled in ({type(exc).__name__}: {exc}); "
                            "use only {slug}, {stem} and {path}")
    if problems:
        raise UsageError("\n".join(f"{path}: error: {p}" for p in problems))

    def rel(value: Any, default: Path | None) -> Path | None:
        return (root / value) if isinstance(value, str) else default

    tz = data.get("timezone", "UTC")
    try:
        from zoneinfo import ZoneInfo

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
        follow_external_symlinks=data.get("follow_external_symlinks", False),
        max_thread_posts=data.get("max_thread_posts", 25),
    )
