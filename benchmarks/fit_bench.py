"""Benchmark: read, parse, render and fit many notes of realistic shape for the five built-in platforms.

    python benchmarks/fit_bench.py                 # 10,000 notes
    python benchmarks/fit_bench.py --notes 2000    # fewer
    python benchmarks/fit_bench.py --profile       # also print the top of a cProfile of render + fit

The notes are generated deterministically (``--seed``) and written to a
temporary folder as Markdown files with front matter, then:

(a) read + parse: ``pipeline.notes.read`` (front matter) and ``pipeline.document.parse`` (markdown-it);
(b) render: ``pipeline.render.render`` through the bundled templates, for each platform;
(c) fit: ``pipeline.fit.fit`` of each rendered draft for its platform (threads, numbering, truncation);
(d) compose: ``pipeline.compose.compose`` end to end (render + fit + each post's final form), as the CLI runs it.

Each stage prints notes per second (a note counts once even when it is done for five platforms). The
issue's budget is render at most 3x the time of read + parse; the ratio is printed.
Notes that cannot be fitted (a token longer than a whole post) are counted, as the CLI would report them.
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from pipeline import compose, document, notes, platforms  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.errors import NoteError  # noqa: E402
from pipeline.fit import fit  # noqa: E402
from pipeline.render import render  # noqa: E402

WORDS = ("the a of to and in that it is for on with as was be by this are or from at an not but have we you they "
         "note notes garden writing thinking idea ideas link links draft post posts public small habit habits "
         "week day year work project team code test tests ship shipping release bug fix learn learning read "
         "reading book books question answer system design simple hard easy slow fast better worse first last "
         "because when while after before never always often sometimes every most some many few more less").split()
LONG_WORDS = ("Zettelkasten", "interoperability", "asynchronous", "procrastination", "documentation",
              "accessibility", "internationalisation", "café", "naïve", "résumé", "façade", "Straße")
EMOJI = ("🌱", "✨", "🚀", "📝", "👍🏽", "👩🏿‍💻", "🇪🇸", "❤️", "👨‍👩‍👧‍👦", "🎉", "☕", "🧵")
JAPANESE = ("毎日少しずつ書くことにしました。", "一日に三行だけでも、一年で千行を超えます。", "大切なのは完璧な文章ではなく、続けることです。",
            "小さな習慣が、いつか大きな庭になります。", "朝、コーヒーを飲みながら書く。", "書いたものは消さない。",
            "週に一度、読み返してつなげる。", "メモは考えるための場所です。")
CHINESE = ("我每天写一点笔记。", "重要的不是完美，而是坚持。", "小习惯会慢慢长成大花园。")
TAGS = ("writing", "notes", "digital-garden", "learning-in-public", "python", "productivity", "日本語",
        "data-science", "shipping", "open-source", "permanent-note", "til")
HOSTS = ("example.com", "garden.example.org", "blog.example.net", "docs.python.org", "github.com",
         "en.wikipedia.org", "maggieappleton.com")
LANGS = ("python", "bash", "js", "toml")


class Notes:
    """A deterministic generator of notes of varied, realistic shape."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def word(self) -> str:
        r = self.r.random()
        if r < 0.03:
            return self.r.choice(LONG_WORDS)
        if r < 0.05:
            return self.r.choice(EMOJI)
        if r < 0.06:
            return "#" + self.r.choice(TAGS).replace("-", "")
        if r < 0.065:
            return "@" + self.r.choice(("alice", "bob", "carol@mastodon.social", "dan.bsky.social"))
        if r < 0.08:
            return f"`{self.r.choice(WORDS)}()`"
        if r < 0.095:
            return f"**{self.r.choice(WORDS)}**"
        return self.r.choice(WORDS)

    def url(self) -> str:
        path = "/".join(self.r.choice(WORDS) for _ in range(self.r.randint(0, 4)))
        return f"https://{self.r.choice(HOSTS)}/{path}" + (f"?ref={self.r.randint(1, 999)}" if self.r.random() < 0.2 else "")

    def sentence(self) -> str:
        words = [self.word() for _ in range(self.r.randint(4, 22))]
        words[0] = words[0][:1].upper() + words[0][1:]
        roll = self.r.random()
        if roll < 0.06:
            words.insert(self.r.randrange(len(words)), f"[{self.r.choice(WORDS)} {self.r.choice(WORDS)}]({self.url()})")
        elif roll < 0.09:
            words.insert(self.r.randrange(len(words)), self.url())
        elif roll < 0.11:
            words.insert(self.r.randrange(len(words)), f"[[{self.r.choice(WORDS).title()} {self.r.choice(WORDS)}]]")
        return " ".join(words) + self.r.choice(".....!?:")[0].replace(":", ".")

    def paragraph(self, sentences: tuple[int, int] = (1, 5)) -> str:
        return " ".join(self.sentence() for _ in range(self.r.randint(*sentences)))

    def cjk(self) -> str:
        pool = JAPANESE if self.r.random() < 0.8 else CHINESE
        return "".join(self.r.choice(pool) for _ in range(self.r.randint(2, 12)))

    def listing(self) -> str:
        ordered = self.r.random() < 0.3
        items = []
        for i in range(self.r.randint(2, 7)):
            marker = f"{i + 1}." if ordered else "-"
            task = " [x]" if not ordered and self.r.random() < 0.1 else ""
            items.append(f"{marker}{task} " + " ".join(self.word() for _ in range(self.r.randint(2, 12))))
        return "\n".join(items)

    def block(self) -> str:
        roll = self.r.random()
        if roll < 0.55:
            return self.paragraph()
        if roll < 0.72:
            return self.listing()
        if roll < 0.80:
            return "> " + self.paragraph((1, 2))
        if roll < 0.85:
            kind = self.r.choice(("note", "tip", "warning", "quote"))
            return f"> [!{kind}] {self.r.choice(WORDS).title()}\n> {self.paragraph((1, 2))}"
        if roll < 0.92:
            lang = self.r.choice(LANGS)
            code = "\n".join(f"{self.r.choice(WORDS)} = {self.r.choice(WORDS)}({self.r.randint(0, 99)})"
                             for _ in range(self.r.randint(1, 8)))
            return f"```{lang}\n{code}\n```"
        if roll < 0.96:
            return self.cjk()
        return f"![[image-{self.r.randint(1, 9)}.png|{self.paragraph((1, 1))}]]"

    def body(self, kind: str) -> str:
        if kind == "short":
            return "\n\n".join(self.paragraph((1, 3)) for _ in range(self.r.randint(1, 2)))
        if kind == "cjk":
            return "\n\n".join(self.cjk() if self.r.random() < 0.8 else self.listing() for _ in range(self.r.randint(1, 6)))
        if kind == "essay":
            parts = [self.paragraph()]
            for _ in range(self.r.randint(2, 7)):
                parts.append("## " + " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(2, 6))).title())
                parts.extend(self.block() for _ in range(self.r.randint(1, 5)))
            return "\n\n".join(parts)
        return "\n\n".join(self.block() for _ in range(self.r.randint(2, 6)))  # medium

    def note(self, i: int) -> str:
        kind = self.r.choices(("short", "medium", "essay", "cjk"), weights=(40, 35, 15, 10))[0]
        title = " ".join(self.r.choice(WORDS) for _ in range(self.r.randint(2, 8))).capitalize()
        if kind == "cjk":
            title = self.r.choice(JAPANESE).rstrip("。")
        tags = self.r.sample(TAGS, self.r.randint(0, 4))
        front = [f"title: \"{202401010000 + i} - {title}\"", f"date: 2024-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}"]
        if tags:
            front.append("tags: [" + ", ".join(tags) + "]")
        if self.r.random() < 0.1:
            front.append("notecast:\n  status: ready\n  hashtags: [til]")
        return "---\n" + "\n".join(front) + "\n---\n\n" + self.body(kind) + "\n"


def write_notes(folder: Path, count: int, seed: int) -> list[Path]:
    gen = Notes(seed)
    paths = []
    for i in range(count):
        path = folder / f"{202401010000 + i}-note.md"
        path.write_text(gen.note(i), encoding="utf-8")
        paths.append(path)
    return paths


def stage(name: str, count: int, seconds: float) -> None:
    print(f"{name:<28} {seconds:8.2f} s  {count / seconds:10.0f} notes/s")


def run(args) -> int:
    config = Config(canonical_url="https://garden.example/{slug}/")
    chosen = [platforms.get(name) for name in platforms.BUILTIN_ORDER]
    chosen = [dataclasses.replace(p, numbering="on") if p.threads and args.numbering else p for p in chosen]
    known = tuple(platforms.registry())
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp)
        t = time.perf_counter()
        paths = write_notes(vault, args.notes, args.seed)
        print(f"generated {len(paths)} notes ({sum(p.stat().st_size for p in paths) / 1e6:.1f} MB) in "
              f"{time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        parsed = []
        for path in paths:
            note = notes.read(path, platforms=known)
            parsed.append((note, document.parse(note.body, note.body_line)))
        read_parse = time.perf_counter() - t

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        t = time.perf_counter()
        drafts = []
        for note, doc in parsed:
            url = compose.canonical_url(note, config, vault)
            for platform in chosen:
                drafts.append((note, platform, url, render(note, doc, platform, exclude_tags=config.exclude_tags, url=url)))
        rendering = time.perf_counter() - t

        t = time.perf_counter()
        posts, failed, threads = 0, 0, 0
        for note, platform, url, draft in drafts:
            try:
                fitted = fit(draft.text, platform, where=str(note.path), read_more=url)
            except NoteError:
                failed += 1
                continue
            posts += len(fitted.posts) + len(fitted.comments)
            threads += len(fitted.posts) > 1
        fitting = time.perf_counter() - t
        if profiler:
            profiler.disable()

        t = time.perf_counter()
        for note, doc in parsed:
            for platform in chosen:
                try:
                    compose.compose(note, doc, platform, config, vault)
                except NoteError:
                    pass
        composing = time.perf_counter() - t

    n = len(paths)
    print(f"platforms: {', '.join(p.name for p in chosen)}; {posts} posts, {threads} threads, "
          f"{failed} drafts that cannot be fitted")
    stage("(a) read + parse", n, read_parse)
    stage(f"(b) render, {len(chosen)} platforms", n, rendering)
    stage(f"(c) fit, {len(chosen)} platforms", n, fitting)
    stage(f"(d) compose, {len(chosen)} platforms", n, composing)
    ratio = rendering / read_parse
    print(f"render / (read + parse) = {ratio:.2f} (budget: <= 3){'' if ratio <= 3 else '  OVER BUDGET'}")
    print(f"fit / (read + parse)    = {fitting / read_parse:.2f}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10_000, help="how many notes (default 10000)")
    parser.add_argument("--seed", type=int, default=20240501, help="seed of the note generator")
    parser.add_argument("--numbering", action="store_true", help="number the threads (1/5) on X, Bluesky, Mastodon")
    parser.add_argument("--profile", action="store_true", help="profile render + fit with cProfile")
    parser.add_argument("--top", type=int, default=35, help="profile lines to print")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
