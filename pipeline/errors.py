"""The one exception tree of notecast.

    NotecastError
     ├── UsageError        bad command line or configuration: exit 2
     ├── NoteError         a note, template or setting is wrong: carries problems
     ├── PublishError      a platform refused or failed a request
     │    ├── Retryable    safe to try again (429, 5xx before anything was created)
     │    └── Rejected     the platform said no: retrying will not help
     └── Unknown           whether an interrupted post was made cannot be told: a person decides

Every message says where, what and how to fix it. Nothing here prints; the
CLI decides how a problem is shown and which exit code it earns.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One finding about an input: `path:line: level: message; hint`."""

    path: str
    line: int | None
    message: str
    hint: str = ""
    level: str = "error"
    platform: str = ""  # the one platform it concerns, or "" for every platform of the note

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.level}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters with "…", so a message quoting it stays one readable line."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # repr of the head only: a megabyte value is never copied whole
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class NotecastError(Exception):
    """Base of every error notecast raises on purpose."""

    exit_code = 1


class UsageError(NotecastError):
    """The command line or the configuration cannot be used as given."""

    exit_code = 2


class NoteError(NotecastError):
    """One or more problems with a note (or a template or setting it uses)."""

    def __init__(self, *problems: Problem):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def at(cls, path: str | Path, line: int | None, message: str, hint: str = "") -> "NoteError":
        return cls(Problem(str(path), line, message, hint))


class PublishError(NotecastError):
    """A platform did not accept a post."""

    def __init__(self, message: str, *, hint: str = "", status: int | None = None,
                 retry_after: float | None = None, maybe_sent: bool = False):
        self.message = message
        self.hint = hint
        self.status = status
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent  # a request that is not safe to repeat may have been carried out
        super().__init__(f"{message}; {hint}" if hint else message)


class Retryable(PublishError):
    """A failure that may pass: the request can be sent again safely."""


class Rejected(PublishError):
    """The platform refused the request; sending it again will not help."""


class Unknown(NotecastError):
    """Whether an interrupted post was made cannot be told: a person must decide (``notecast resolve``).

    Not a :class:`PublishError`: a handler that retries or looks up after a failed request must let it through.
    """
