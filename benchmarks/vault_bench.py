"""Benchmark: what notecast's commands cost on a vault, as ratios to the floor of reading it.

    python benchmarks/vault_bench.py                       # 2,000 notes
    python benchmarks/vault_bench.py --notes 10000         # more
    python benchmarks/vault_bench.py --sizes 1000 10000 50000 --only due   # how the scheduled run grows
    python benchmarks/vault_bench.py --vault ~/notes                       # a copy of a real vault

The notes are generated deterministically (the generator of fit_bench.py): most are drafts, some are
ready with a publish_at far in the future, none is due, as in a vault between two scheduled posts.
In one process, each stage is timed on the same files:

floor:    python-frontmatter's load of each file, and markdown-it's parse of its body;
due:      ``notecast publish --due`` with nothing due (the hourly scheduled run), timed first;
render:   composing every note for every platform (``notecast render``): the five, and the four the issue
          measured (LinkedIn, X, Bluesky, Mastodon);
check:    ``notecast check``.

Each prints its time and its ratio to the floor. The floor, the scheduled run and render are timed ``--repeat``
times (3) and the fastest kept, as timeit does (a machine's speed drifts); the floor is timed again after
each run of render, and each run of render starts as a new process would (see forget); check runs once.
The floor runs as a plain script would, with Python's default garbage collection; render runs as the command
does, with the collector tuned (cli.settle_memory), so the floor is also timed so tuned, and render's ratio
to that printed too.
The issue's targets: render at most 3x the floor (aim for 2x), and the scheduled run with nothing due
at most 2x the time to read the front matter.
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import frontmatter  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402

from fit_bench import Notes  # noqa: E402
from pipeline import cli, clock, config, fit, platforms, render, run  # noqa: E402
from pipeline.compose import compose_all  # noqa: E402
from pipeline.vault import Vault  # noqa: E402


FOUR = ("linkedin", "x", "bluesky", "mastodon")  # the platforms of the measure
DEFAULT_GC = gc.get_threshold()  # Python's own, before any stage tunes it


def write_vault(folder: Path, count: int, seed: int) -> None:
    """``count`` notes: 90% drafts, 10% ready but scheduled for 2099."""
    gen = Notes(seed)
    (folder / "posts").mkdir(parents=True)
    for i in range(count):
        text = gen.note(i).replace("notecast:\n  status: ready\n", "notecast:\n  status: ready\n  publish_at: 2099-01-01\n")
        (folder / "posts" / f"{202401010000 + i}-note.md").write_text(text, encoding="utf-8")


def timed(fn, repeat: int = 1) -> float:
    """The fastest of ``repeat`` runs of ``fn`` (the others lost time to the machine, not to the code)."""
    fastest = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


class Floor:
    """Seconds to read every note's front matter, and to read it and parse its Markdown too: the fastest of
    every time it was sampled (between the runs of render too, so that a slow spell of the machine does not
    set the floor of all the ratios)."""

    def __init__(self, paths: list[Path]):
        self.paths, self.front, self.both = paths, float("inf"), float("inf")
        self.tuned = float("inf")  # front matter + Markdown with the collector tuned as the command tunes it
        self.md = MarkdownIt("commonmark")

    def sample(self, repeat: int = 1) -> None:
        """Time both once more (``repeat`` times), with Python's garbage collector as a plain script has it
        (and, once the stages have tuned it, front matter + Markdown again as tuned)."""
        tuned = gc.get_threshold()  # (the stages run as the command does: see cli.settle_memory)
        gc.set_threshold(*DEFAULT_GC)
        try:
            self.front = min(self.front, timed(lambda: [frontmatter.load(p) for p in self.paths], repeat))
            self.both = min(self.both, timed(self._both, repeat))
        finally:
            gc.set_threshold(*tuned)
        if tuned != DEFAULT_GC:
            self.tuned = min(self.tuned, timed(self._both, repeat))

    def _both(self) -> list:
        return [self.md.parse(frontmatter.load(p).content) for p in self.paths]


def stages(folder: Path, only: set[str], repeat: int, floor: Floor) -> dict[str, float]:
    """Each stage's seconds on the notes under ``folder / "posts"``, run from ``folder``."""
    os.chdir(folder)
    gc.unfreeze()  # what the stages of a smaller vault left behind (cycles, frozen): gone, as in a new process
    gc.collect()
    cfg = config.load(None, registry=platforms.registry())
    cli.settle_memory()  # as the command does once it has started
    paths = [folder / "posts"]
    out = {}
    if "due" in only:  # first, as the scheduled command runs alone: rendering would leave its caches behind
        out["due"] = timed(lambda: run.publish(paths, cfg, clock.SYSTEM, due=True), repeat)
    if "render" in only:  # each run as a new process would start it (see forget), the floor again after each
        four = five = float("inf")
        for _ in range(repeat):
            four = min(four, timed(lambda: forget() or compose_all(paths, cfg, FOUR)))
            five = min(five, timed(lambda: forget() or compose_all(paths, cfg)))
            floor.sample()
        out["render, four platforms"], out["render, five platforms"] = four, five
    if "check" in only:
        out["check"] = timed(lambda: forget() or run.check(paths, cfg, clock.SYSTEM))
    return out


def forget() -> None:
    """Drop what an earlier run left in memory for the next (parsed notes, word tallies, measures of posts,
    compiled templates and parsers), so that a repeated run starts as a new process would, imports aside.
    Dropping it costs next to nothing beside a run, so it is inside the time."""
    for name, module in list(sys.modules.items()):
        if name == "pipeline" or name.startswith("pipeline."):
            for value in list(vars(module).values()):
                inside = [getattr(value, key) for key in vars(value)] if isinstance(value, type) else []
                for cached in [value, *inside]:  # functions, and methods of classes
                    if callable(getattr(cached, "cache_clear", None)) and \
                            str(getattr(cached, "__module__", "")).startswith("pipeline"):
                        cached.cache_clear()
    fit._WORDS.clear()
    render._CHOSEN.clear()
    render._MADE.clear()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="*", help="several vault sizes, one after the other")
    parser.add_argument("--only", nargs="*", default=["render", "due", "check"], choices=["render", "due", "check"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vault", type=Path, help="time a copy of this folder's notes (a real vault) instead of "
                        "generated ones; the floor reads the notes notecast reads (hidden folders and templates left out)")
    parser.add_argument("--repeat", type=int, default=3, help="time the floor, the scheduled run and render this "
                        "many times each and keep the fastest (check runs once)")
    args = parser.parse_args(argv)
    for key in [k for k in os.environ if k.startswith("NOTECAST_")]:
        del os.environ[key]  # the benchmark's settings only: nothing is due, nothing is sent
    for size in [None] if args.vault else args.sizes or [args.notes]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if args.vault:  # copied: the stages run in the folder, and a run may leave its lock file there
                shutil.copytree(args.vault, folder / "posts", ignore=shutil.ignore_patterns(".git"), symlinks=True)
            else:
                write_vault(folder, size, args.seed)
            notes = [path for path, _real in Vault(folder / "posts").notes([])[0]]
            floor = Floor(notes)
            floor.sample(args.repeat)
            timings = stages(folder, set(args.only), args.repeat, floor)
            print(f"{len(notes):,} notes" + (f" of {args.vault}" if args.vault else ""))
            print(f"  floor: front matter            {floor.front:8.2f} s")
            print(f"  floor: front matter + markdown {floor.both:8.2f} s")
            for name, seconds in timings.items():
                base, label = (floor.front, "front matter") if name == "due" else (floor.both, "floor")
                print(f"  {name:<30} {seconds:8.2f} s   {seconds / base:5.2f}x {label}")
            four = timings.get("render, four platforms")
            if four is not None:  # (the floor was timed tuned between the runs of render)
                print(f"  (the floor with the collector as the command tunes it: {floor.tuned:.2f} s; "
                      f"render, four platforms, {four / floor.tuned:.2f}x that)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
