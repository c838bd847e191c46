"""``notecast doctor``: whether every configured account will work, before the schedule depends on it.

For each configured platform (one with any of its settings set in the environment or ``notecast.toml``,
or named with ``--platform``): first offline, that its settings are present and well-formed
(``Platform.configure`` and ``Platform.check_settings``); then, when they are all there, the
publisher's own read-only proof of the credentials (``Publisher.health``). Plain values in and out:
``cli.py`` prints the findings.
"""
from __future__ import annotations

from typing import Callable, Iterable

from . import platforms
from .clock import Clock
from .config import Config
from .errors import PublishError, UsageError
from .platforms import Platform
from .publisher import LEVELS, Finding
from .run import new_session, settings_for


def configured(config: Config, chosen: Iterable[str] = ()) -> list[str]:
    """The platforms to examine, in the usual order: those named, and the enabled ones with a setting of their own."""
    named = {platforms.get(name).name for name in chosen}  # an unknown name is a usage error
    found = []
    for name, platform in platforms.registry().items():
        table = config.platform(name)
        own = any(table.get(key) not in (None, "") for key in platform.setting_keys)
        if name in named or (own and config.enabled([name])):
            found.append(name)
    return found


def doctor(config: Config, clock: Clock, *, chosen: Iterable[str] = (),
           session: Callable = new_session) -> list[Finding]:
    """Every finding about every configured platform: offline checks first, then one read-only proof each."""
    return [finding for name in configured(config, chosen)
            for finding in examine(platforms.get(name), config, clock, session)]


def examine(platform: Platform, config: Config, clock: Clock, session: Callable = new_session) -> list[Finding]:
    """One platform's findings: its settings, then (when none is missing) its account."""
    table = config.platform(platform.name)
    values, missing = settings_for(platform, table, dry_run=False)
    found = []
    if missing:
        them = "it" if len(missing) == 1 else "them"
        found.append(Finding(platform.name, "error", f"{', '.join(missing)} not set",
                             f"set {them} in the environment (in GitHub Actions: repository secrets for credentials, "
                             "variables for the rest; see README); a setting that is not a secret may go in "
                             "notecast.toml"))
    try:
        platform.configure(table)
    except UsageError as exc:
        found.append(Finding(platform.name, "error", str(exc), "correct it in notecast.toml or the environment"))
    found.extend(platform.check_settings(values, clock.now()))
    if missing:
        return found
    publisher = platform.publisher(session(), values, clock)
    health = getattr(publisher, "health", None)
    if health is None:  # a third-party publisher may predate the method
        return found + [Finding(platform.name, "warning", f"the {platform.name} publisher cannot check its account "
                                "(it has no health method)", "ask its author to add one; meanwhile watch the "
                                "publish runs")]
    try:
        return found + list(health())
    except PublishError as exc:
        return found + [Finding(platform.name, "error", exc.message, exc.hint)]


def worst(findings: Iterable[Finding]) -> str:
    """The most serious level among ``findings`` (``ok`` when there are none)."""
    return max((f.level for f in findings), key=LEVELS.index, default="ok")
