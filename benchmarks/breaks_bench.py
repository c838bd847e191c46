"""Benchmark: where threads break. The share of breaks that cut a sentence, and posts per thread.

    python benchmarks/breaks_bench.py                  # the bundled notes and 2,000 generated ones
    python benchmarks/breaks_bench.py --notes 500      # fewer generated notes
    PYTHONPATH=/tmp/old python benchmarks/breaks_bench.py --code /tmp/old   # another checkout's pipeline

Each note is rendered and fitted for the threaded platforms (X, Bluesky, Mastodon) exactly as
``notecast render`` does. Each break between two posts of a thread is found in the draft and counted
as *clean* when it falls between blocks, or the post before it ends a sentence (``.!?…`` and CJK
stops, a closing quote or bracket after them) or an intro line (``:``), or the post after it starts a
list item or quote; otherwise it cuts a sentence (*mid-sentence*). Code lines count as sentences, so
the numbers compare versions rather than judge one. Three sets of notes: the bundled ones
(``posts/``), generated ones (``fit_bench.Notes``), and the same generated ones with their paragraphs
hard-wrapped at 80 columns, as many real notes are (Obsidian keeps single line breaks).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import textwrap
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent
THREADED = ("x", "bluesky", "mastodon")
ENDS_SENTENCE = re.compile(r"(?:[.!?…。！？:：][\"'”’)\]」』）]{0,2}|#\S+)$")
STARTS_ITEM = re.compile(r"^(?:[•◦▪>“]|\d+\. |[☑☐])")


def load(code: Path):
    """The pipeline of the checkout at ``code`` (this one by default)."""
    sys.path.insert(0, str(code))
    sys.path.insert(1, str(HERE))
    from pipeline import document, notes, platforms  # noqa: E402 (after the path is set)
    from pipeline.fit import fit  # noqa: E402
    from pipeline.render import render  # noqa: E402
    import fit_bench  # noqa: E402
    return document, notes, platforms, fit, render, fit_bench


def wrapped(note: str) -> str:
    """A note with each plain paragraph hard-wrapped at 80 columns."""
    head, sep, body = note.partition("\n---\n\n")
    blocks = []
    for block in body.split("\n\n"):
        plain = block and not block.startswith(("- ", "1.", ">", "```", "#", "![[")) and "\n" not in block
        blocks.append(textwrap.fill(block, 80, break_long_words=False, break_on_hyphens=False) if plain else block)
    return head + sep + "\n\n".join(blocks)


def breaks(draft: str, posts: tuple[str, ...]) -> list[str]:
    """Each break between posts as "clean" or "mid-sentence" (see the module's docstring)."""
    flat = draft.replace("\f", "\n\n")
    out, pos = [], 0
    for before, after in zip(posts, posts[1:]):
        end = flat.find(before[-40:], pos)
        end = end + len(before[-40:]) if end >= 0 else -1
        start = flat.find(after[:40], max(end, 0)) if end >= 0 else -1
        gap = flat[end:start] if 0 <= end <= start else " "
        pos = max(start, pos)
        clean = ("\n\n" in gap or ENDS_SENTENCE.search(before.rstrip()) is not None
                 or STARTS_ITEM.match(after.lstrip()) is not None)
        out.append("clean" if clean else "mid-sentence")
    return out


def measure(paths, modules) -> dict:
    document, notes, platforms, fit, render, _ = modules
    chosen = [platforms.get(name) for name in THREADED]
    counts: Counter = Counter()
    for path in paths:
        note = notes.read(path, platforms=tuple(platforms.registry()))
        doc = document.parse(note.body, note.body_line)
        for platform in chosen:
            draft = render(note, doc, platform).text
            try:
                posts = fit(draft, platform, where=str(path)).posts
            except Exception:  # a token longer than a post: the CLI reports it; nothing to measure
                counts["unfit"] += 1
                continue
            counts["renders"] += 1
            counts["posts"] += len(posts)
            if len(posts) > 1:
                counts["threads"] += 1
                counts["thread posts"] += len(posts)
                counts["short last"] += len(posts[-1].split()) < 5 and len(posts[-1]) < 40  # CJK has no spaces
                counts.update(breaks(draft, posts))
    return counts


def report(name: str, counts: Counter) -> None:
    total = counts["clean"] + counts["mid-sentence"]
    share = counts["mid-sentence"] / total if total else 0.0
    per_thread = counts["thread posts"] / counts["threads"] if counts["threads"] else 0.0
    print(f"{name:<26} {counts['renders']:6d} renders {counts['threads']:6d} threads {total:6d} breaks  "
          f"mid-sentence {share:6.1%}  posts/thread {per_thread:5.2f}  posts/render {counts['posts'] / max(counts['renders'], 1):5.2f}  "
          f"short last posts {counts['short last']:4d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=2000, help="how many generated notes (default 2000)")
    parser.add_argument("--seed", type=int, default=20240501, help="seed of the note generator")
    parser.add_argument("--code", type=Path, default=CHECKOUT, help="the checkout whose pipeline is measured")
    args = parser.parse_args(argv)
    modules = load(args.code)
    fit_bench = modules[-1]
    report("bundled (posts/)", measure(sorted((CHECKOUT / "posts").glob("*.md")), modules))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = fit_bench.write_notes(folder, args.notes, args.seed)
        report("generated", measure(paths, modules))
        for path in paths:
            path.write_text(wrapped(path.read_text(encoding="utf-8")), encoding="utf-8")
        report("generated, wrapped at 80", measure(paths, modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
