"""Images a note refers to: where they are, whether they may be used, their alt text."""
from __future__ import annotations

import dataclasses
import glob
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .document import Document
from .errors import Problem
from .notes import Note
from .richtext import clean

TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}


@dataclass(frozen=True)
class Media:
    """An image to attach: its file (relative to the current folder when possible) and alt text."""

    path: Path
    alt: str
    line: int

    @property
    def mime(self) -> str:
        return TYPES.get(self.path.suffix.lower(), "application/octet-stream")

    def for_platform(self, alt_limit: int) -> "Media":
        return dataclasses.replace(self, alt=self.alt[:alt_limit]) if len(self.alt) > alt_limit else self


def resolve(note: Note, src: str, vault: Path) -> Path | None:
    """Where an image reference points: beside the note, or (for a bare name) anywhere in the vault.

    None for a web address, which notecast does not download.
    """
    src = unquote(src.split("#")[0].split("?")[0]).replace("\x00", "\ufffd")  # no file name holds a NUL
    if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I):
        return None
    candidate = vault / src.lstrip("/") if src.startswith("/") else note.path.parent / src
    if not src.strip() or candidate.is_file() or "/" in src:
        return candidate
    # Obsidian finds ![[name.png]] wherever it lives; the name is a file name, not a glob pattern
    for found in sorted(vault.rglob(glob.escape(src))):
        if not any(part.startswith(".") for part in found.relative_to(vault).parts):
            return found
    return candidate


def gather(note: Note, doc: Document, vault: Path) -> tuple[tuple[Media, ...], list[Problem]]:
    """The usable images of a note and a problem for each one that is not (or has no alt text)."""
    media, problems = [], []
    root = vault.resolve()
    for image in doc.images:
        where = (str(note.path), image.line)
        path = resolve(note, image.src, vault)
        if path is None:
            problems.append(Problem(*where, f"image {image.src} is a web address and is not attached",
                                    "download it next to the note", "warning"))
            continue
        if not path.resolve().is_relative_to(root):
            problems.append(Problem(*where, f"image {image.src} is outside the notes folder",
                                    "keep images inside the vault, e.g. in attachments/"))
            continue
        if not path.is_file():
            problems.append(Problem(*where, f"image {image.src} not found",
                                    "check the file name, or remove the image from the note"))
            continue
        if not image.alt:
            problems.append(Problem(*where, f"image {image.src} has no alt text",
                                    "describe it for people who cannot see it: ![a small plant growing](…)", "warning"))
        media.append(Media(_relative(path), clean(image.alt), image.line))
    return tuple(media), problems


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
