"""A vault: the folder of notes as Obsidian sees it.

Which Markdown files are notes: every one, except those in hidden folders
(``.obsidian``, ``.git``, ``.trash``…), in the templates folder, or matched by
the ``exclude`` patterns (gitignore-style, relative to the notes folder); the
skipped ones are counted by reason. And where a name written in a note leads
(``[[Note]]``, ``![[picture.png]]``): anywhere in the vault, case-insensitively,
the shortest path first, with or without ``.md``, as Obsidian finds it.
"""
from __future__ import annotations

import os
from collections import Counter
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Iterable

import pathspec

from .errors import Problem

HIDDEN = "in hidden folders"
TEMPLATES = "in the templates folder"
EXCLUDED = "matched exclude"
REASONS = (HIDDEN, TEMPLATES, EXCLUDED)


class Vault:
    """One folder of notes: its notes, and its files by name."""

    def __init__(self, root: str | Path, *, exclude: Iterable[str] = (), base: str | Path | None = None,
                 templates: Iterable[Path] = (), follow_external: bool = False):
        self.root = Path(root)
        self.spec = pathspec.GitIgnoreSpec.from_lines(list(exclude))
        # patterns are relative to the notes folder; a folder given outside it is its own base
        base = Path(os.path.abspath(base)) if base is not None else None
        here = Path(os.path.abspath(self.root))
        self.base = base if base is not None and here.is_relative_to(base) else here
        self.templates = {os.path.abspath(t) for t in templates}
        self.follow_external = follow_external

    @cached_property
    def real_root(self) -> Path:
        """The folder with every symbolic link on its way resolved (asked once per note)."""
        return self.root.resolve()

    # ---- which files are notes ----------------------------------------------------------------

    def notes(self, problems: list[Problem]) -> tuple[list[tuple[Path, str]], Counter]:
        """The notes in path order, each with its real path (links resolved), and how many ``.md`` files
        were skipped, by reason.

        Symbolically linked folders are walked after the real tree, each real folder once (so a
        link back up ends, and a note is found at its own path first); a link that leads out of the
        vault is a problem and skipped unless ``follow_external``.
        """
        notes: dict[str, Path] = {}  # real file -> the path it was found at
        skipped: Counter = Counter()
        visited: set[str] = set()
        pending = [self.root]
        while pending:
            top = pending.pop(0)
            if top != self.root and (os.path.realpath(top) in visited or self.outside(top, problems)):
                continue
            folders = [top]
            while folders:
                here = folders.pop()
                real = os.path.realpath(here)
                if real in visited:
                    continue
                visited.add(real)
                try:
                    with os.scandir(here) as listing:
                        entries = sorted(listing, key=lambda e: e.name)
                except OSError:
                    continue
                inner = []
                for entry in entries:
                    if _is_dir(entry):  # a link to a folder too: walked after the real tree
                        folder = here / entry.name
                        reason = self.skipped_folder(folder)
                        if reason:
                            skipped[reason] += _markdown_files(folder)
                        elif entry.is_symlink():
                            pending.append(folder)
                        else:
                            inner.append(folder)
                    elif entry.name.endswith(".md"):
                        found = here / entry.name
                        if self.excluded(found):
                            skipped[EXCLUDED] += 1
                        elif _is_file(entry):
                            link = entry.is_symlink()  # a plain file in a walked folder is where its folder is
                            if not (link and self.outside(found, problems)):
                                notes.setdefault(str(found.resolve()) if link else os.path.join(real, entry.name), found)
                folders.extend(reversed(inner))  # depth first, in name order, like os.walk
        return sorted(((found, real) for real, found in notes.items()), key=itemgetter(0)), skipped

    def why_skipped(self, path: str | Path) -> str:
        """Why walking the vault would leave the note at ``path`` out (a reason of REASONS), or ""."""
        path = Path(os.path.abspath(path))
        here = Path(os.path.abspath(self.root))
        if not path.is_relative_to(here):
            return ""
        for depth in range(1, len(path.relative_to(here).parts)):
            reason = self.skipped_folder(here.joinpath(*path.relative_to(here).parts[:depth]))
            if reason:
                return reason
        return EXCLUDED if self.excluded(path) else ""

    def skipped_folder(self, folder: Path) -> str:
        """Why the notes of ``folder`` are not read, or ""."""
        if folder.name.startswith("."):
            return HIDDEN
        if folder.name == "templates" or os.path.abspath(folder) in self.templates:
            return TEMPLATES
        if self.excluded(folder, folder=True):
            return EXCLUDED
        return ""

    def excluded(self, path: Path, *, folder: bool = False) -> bool:
        """Whether an ``exclude`` pattern matches ``path`` (relative to the notes folder)."""
        if not self.spec.patterns:
            return False
        rel = Path(os.path.abspath(path)).relative_to(self.base).as_posix()
        return self.spec.match_file(rel + "/" if folder else rel)

    def outside(self, path: Path, problems: list[Problem]) -> bool:
        """Whether ``path`` leads out of the vault through a symbolic link and must be skipped (a problem says so)."""
        if self.follow_external or path.resolve().is_relative_to(self.real_root):
            return False
        problems.append(Problem(str(path), None, f"is a symbolic link to {path.resolve()}, outside the notes folder; skipped",
                                "move it into the notes folder, or set follow_external_symlinks = true in notecast.toml"))
        return True

    # ---- where a name leads ---------------------------------------------------------------------

    def lookup(self, name: str) -> Path | None:
        """The file a link or embed names, as Obsidian finds it: a bare name anywhere in the vault, a
        path by its end; case-insensitively, ``.md`` optional, the shortest path first. None if none."""
        wanted = name.strip().strip("/").replace("\\", "/").casefold()
        if not wanted or "\x00" in wanted:
            return None
        for candidate in (wanted, wanted + ".md"):
            found = self._by_name.get(candidate.rsplit("/", 1)[-1], ())
            if "/" in candidate:
                found = [p for p in found if ("/" + p.as_posix().casefold()).endswith("/" + candidate)]
            if found:
                return self.root / found[0]
        return None

    @cached_property
    def _by_name(self) -> dict[str, list[Path]]:
        """Every file outside hidden folders by its name in lower case, shortest path first."""
        index: dict[str, list[Path]] = {}
        visited: set[str] = set()
        inside = self.real_root
        for folder, dirs, files in os.walk(self.root, followlinks=True):
            real = os.path.realpath(folder)
            if real in visited or not (self.follow_external or Path(real).is_relative_to(inside)):
                dirs[:] = []  # a link back up would walk forever; one out of the vault, anywhere
                continue
            visited.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            rel = Path(folder).relative_to(self.root)
            for name in files:
                index.setdefault(name.casefold(), []).append(rel / name)
        for paths in index.values():
            paths.sort(key=lambda p: (len(p.parts), len(p.as_posix()), p.as_posix()))
        return index


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _markdown_files(folder: Path) -> int:
    """How many ``.md`` files are under ``folder`` (git's own folder holds none worth counting)."""
    if folder.name == ".git":
        return 0
    return sum(name.endswith(".md") for _, _, files in os.walk(folder) for name in files)


def summary(skipped: Counter) -> str:
    """``skipped 12 .md file(s): 10 in hidden folders, 2 matched exclude``, or "" when none were."""
    total = sum(skipped.values())
    if not total:
        return ""
    return f"skipped {total} .md file(s): " + ", ".join(f"{skipped[r]} {r}" for r in REASONS if skipped[r])
