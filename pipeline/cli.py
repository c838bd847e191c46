"""The ``notecast`` command: parses options, calls the pipeline, prints results.

Nothing heavy is imported at start-up: ``--help`` and ``--version`` load
neither requests nor jinja2.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from datetime import timedelta
from pathlib import Path

from . import __version__
from .errors import NotecastError, UsageError

EPILOG = """exit codes:
  0  everything is fine
  1  a check found problems, or a publication failed
  2  bad usage or unreadable input (no such path, bad notecast.toml)

Run 'notecast COMMAND --help' for a command's options. Docs: README.md"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="notecast", description="Turn Markdown notes into social posts and publish them.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"notecast {__version__}")
    top.add_argument("--config", metavar="PATH", help="configuration file (default: ./notecast.toml if present)")
    top.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str, paths: str | None = "*") -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if paths:
            p.add_argument("paths", nargs=paths, metavar="PATH",
                           help="notes or folders of notes (default: the configured notes folder, posts/)")
        return p

    def platform_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--platform", "-p", action="append", default=[], metavar="P",
                       help="only this platform (repeatable): linkedin, x, bluesky, mastodon")

    p = command("render", "Render notes into posts for each platform.", "+")
    platform_option(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="text for people, json for tools")

    p = command("check", "Validate notes: front matter, schedule, templates, lengths, images, alt text.")
    p.add_argument("--strict", action="store_true", help="treat warnings (missing alt text…) as errors")

    p = command("length", "Count the text on stdin by a platform's rule; print JSON.", None)
    p.add_argument("--platform", "-p", required=True, metavar="P", help="linkedin, x, bluesky or mastodon")

    p = command("preview", "Show how a note's posts will look.", 1)
    platform_option(p)
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML page imitating each platform")

    p = command("publish", "Publish notes (use --dry-run to see the exact requests first).")
    platform_option(p)
    p.add_argument("--due", action="store_true", help="only notes with status: ready whose publish_at has come")
    p.add_argument("--dry-run", action="store_true", help="send nothing, write no ledger; print every request")
    p.add_argument("--republish", action="store_true", help="publish notes edited after they were published")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="a line for every note and platform (default: only those sent, due soon or needing you)")

    p = command("status", "Show what is drafted, scheduled, queued, published, partial or failed.")
    platform_option(p)

    p = command("doctor", "Check that every configured account will work: settings, then one read-only call each.",
                None)
    platform_option(p)
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help='text for people; json for tools: [{"platform", "level", "message", "hint"}]')

    p = command("resolve", "Record a person's decision about a post whose fate notecast could not tell.", 1)
    p.add_argument("--platform", "-p", required=True, metavar="P", help="the platform of the post")
    p.add_argument("--part", type=int, metavar="N", help="which post of the thread, from 1 (default: the one in doubt)")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--sent", metavar="ID_OR_URL", help="it was posted: its id or web address")
    decision.add_argument("--not-sent", action="store_true", help="it was not posted: the next run sends it")
    return top


def command() -> int:
    """The ``notecast`` command (and ``python -m pipeline``): :func:`main`, in a process of its own."""
    return main(own_process=True)


def main(argv: list[str] | None = None, *, own_process: bool = False) -> int:
    """Run the command line ``argv``; ``own_process``: the process ends with it (see :func:`settle_memory`)."""
    args = parser().parse_args(argv)
    args.own_process = own_process
    if not args.command:
        parser().print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except NotecastError as exc:
        emit(str(exc), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        emit("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback unless asked for, and then through the mask
        if args.debug:
            emit(traceback.format_exc(), err=True)
            return 1
        emit(f"notecast: internal error: {type(exc).__name__}: {exc}; rerun with --debug and report it", err=True)
        return 1


def emit(text: str, *, err: bool = False) -> None:
    """Print through the secret filter: the only way notecast writes to the terminal."""
    from .secrets import redact  # here and below: commands import what they use, so --help stays light

    stream = sys.stderr if err else sys.stdout
    stream.write(redact(text) + ("\n" if not text.endswith("\n") else ""))


def settle_memory() -> None:
    """Tune Python's garbage collector for one command, once it has loaded what it needs.

    A command keeps each note it read (and each note's publications) until it ends, and Python's full
    collections walk every object kept: on 50,000 notes they took a quarter of the scheduled run. What is
    loaded by now lives as long as the command, so it is frozen out of collections; and young objects are
    collected every 10,000 allocations instead of 700, so the kept ones rarely reach a full collection.
    """
    import gc

    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _setup(args):
    """The configuration and the clock of a command (and the secrets every output must hide)."""
    from . import clock, config, platforms, secrets

    found = platforms.registry()
    if args.own_process:
        settle_memory()
    for name in secrets.watch(name for p in found.values() for name in p.secret_settings):
        emit(f"warning: {name} has spaces or a line break around it; notecast removed them, but fix the "
             "secret where you set it (e.g. paste it again without the newline)", err=True)
    return config.load(args.config, registry=found), clock.from_environment()


def _paths(args, cfg) -> list:
    return list(args.paths) if getattr(args, "paths", None) else [cfg.notes]


def _problems(problems) -> None:
    for problem in problems:
        emit(str(problem), err=True)


def _skipped(skipped) -> None:
    """Say on stderr how many .md files were not read, and why, so no note is left out without a word."""
    from .vault import summary

    if summary(skipped):
        emit(summary(skipped) + "; a note given by name is always read, and exclude in notecast.toml "
             "says which others are not", err=True)


def cmd_render(args) -> int:
    from .compose import compose_all
    from .report import as_json, as_text
    from .run import cards

    cfg, clock = _setup(args)
    report = compose_all(_paths(args, cfg), cfg, tuple(args.platform))
    results = cards(report.results, cfg, clock)
    emit(as_json(results) if args.format == "json" else as_text(results))
    _problems(report.failures)
    _skipped(report.skipped)
    return 1 if report.failures else 0


def cmd_check(args) -> int:
    from .run import check

    cfg, clock = _setup(args)
    problems, notes, skipped = check(_paths(args, cfg), cfg, clock, strict=args.strict)
    for problem in problems:
        emit(str(problem))
    _skipped(skipped)
    errors = sum(p.level == "error" for p in problems)
    warnings = sum(p.level == "warning" for p in problems)
    emit(f"checked {notes} note(s): {errors} error(s), {warnings} warning(s)", err=True)
    return 1 if errors else 0


def cmd_length(args) -> int:
    from . import platforms

    platform = platforms.get(args.platform)
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"<stdin>: error: invalid UTF-8 at byte {exc.start} (0x{data[exc.start]:02x}); "
                         "send UTF-8 text, e.g. convert it with iconv -t UTF-8") from None
    if text.endswith("\n") and not text.endswith("\n\n"):
        text = text[:-1]  # the newline a shell adds is not part of the post
    length = platform.measure(text)
    emit(json.dumps({"platform": platform.name, "length": length, "limit": platform.limit,
                     "fits": platform.fits(text)}, ensure_ascii=False))
    return 0


def cmd_preview(args) -> int:
    from .compose import compose_all
    from .report import preview_html, preview_text
    from .run import cards
    from .secrets import redact

    cfg, clock = _setup(args)
    report = compose_all(args.paths, cfg, tuple(args.platform))
    results = cards(report.results, cfg, clock)
    _problems(report.failures)
    if args.html:
        try:
            Path(args.html).write_text(redact(preview_html(results)), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.html}: error: cannot write the preview: {exc.strerror}; "
                             "check that the folder exists and is writable") from None
        emit(f"wrote {args.html}", err=True)
    else:
        emit(preview_text(results))
    return 1 if report.failures else 0


def cmd_publish(args) -> int:
    from .report import card_lines
    from .run import publish
    from .transport import format_request

    cfg, clock = _setup(args)
    run = publish(_paths(args, cfg), cfg, clock, chosen=tuple(args.platform), due=args.due, dry_run=args.dry_run,
                  republish=args.republish)
    _problems(run.problems)
    for outcome in run.outcomes.values():
        pub = outcome.publication
        if outcome.notice:
            emit(outcome.notice, err=True)
        for warning in outcome.warnings:
            emit(f"{pub.note} → {pub.platform.name}: warning: {warning}", err=True)
        if run.dry_run and outcome.acted:
            pub = outcome.publication
            cost = f"; estimated cost ${outcome.cost:.3f}" if outcome.cost is not None else ""
            emit(f"== {pub.note} → {pub.platform.name}: would send {len(pub.pending)} of "
                 f"{len(pub.parts)} post(s) ({pub.state}{cost})")
            emit("".join(line + "\n" for line in card_lines(pub.parts, cfg.card_cache))
                 + "\n\n".join(format_request(r) for r in outcome.requests) + "\n")
    now = clock.now()
    shown = [run.line(i) for i, pub in enumerate(run.publications)
             if args.verbose or i in run.outcomes or _worth_a_line(pub, now)]
    if shown:
        emit("\n".join(shown))
    emit(_tally(run.publications) if run.publications else "nothing to publish")
    if run.next_slot:
        emit(_queue_summary(run, cfg.queue))
    if run.dry_run:
        for name, cost in run.costs.items():
            emit(f"estimated cost on {name}: ${cost:.3f} at the prices of [platforms.{name}] "
                 "(pay-per-use; see README)")
        emit("dry run: nothing was sent and the ledger was not written", err=True)
    return 0 if run.ok else 1


SOON = timedelta(days=1)
TALLY = ("draft", "scheduled", "queued", "due", "published", "edited", "failed", "unknown")  # the summary's order


def _worth_a_line(pub, now) -> bool:
    """A run's line for a publication that needs a person (or was acted on), or is scheduled within a day."""
    if pub.state not in ("draft", "published", "scheduled"):
        return True
    return pub.state == "scheduled" and pub.when is not None and pub.when - now <= SOON


def _tally(publications) -> str:
    """``12 note(s): 10 draft, 1 scheduled (next: …), 1 due``: each note counted once, by its most pressing state."""
    order = ["unknown", "failed", "due", "edited", "queued", "scheduled", "published", "draft"]
    states: dict = {}
    for pub in publications:
        state = "due" if pub.state == "partial" else pub.state
        key = pub.file.path
        states[key] = min(states.get(key, state), state, key=order.index)
    counts = {state: sum(s == state for s in states.values()) for state in TALLY}
    scheduled = [p.when for p in publications if p.state == "scheduled" and p.when]
    parts = []
    for state in TALLY:
        if counts[state] or state == "due":
            text = f"{counts[state]} {state}"
            if state == "scheduled" and scheduled:
                text += f" (next: {min(scheduled).isoformat()})"
            parts.append(text)
    return f"{len(states)} note(s): " + ", ".join(parts)


def _queue_summary(run, queue) -> str:
    """What waits in the queue on each platform, and when the next slot is."""
    waiting: dict[str, list] = {}
    for pub in run.publications:
        if pub.state == "queued":
            waiting.setdefault(pub.platform.name, []).append(pub)
    lines = [f"queue: next slot {queue.label(run.next_slot)} ({queue.timezone})"]
    for name, pubs in waiting.items():
        first = min(pubs, key=lambda p: p.place)
        lines.append(f"queue: {name}: {len(pubs)} note(s) waiting; next {first.note} at {queue.label(first.when)}")
    return "\n".join(lines if waiting else [*lines, "queue: nothing waiting"])


def cmd_status(args) -> int:
    from .run import status

    cfg, clock = _setup(args)
    problems, publications = status(_paths(args, cfg), cfg, clock, chosen=tuple(args.platform))
    _problems(problems)
    for pub in publications:
        detail = pub.reason
        if pub.state == "published":
            detail = " ".join(r.url or r.id for _, r in sorted(pub.done.items()))
        elif pub.state == "due" and pub.when:
            detail = f"due since {pub.when.isoformat()}"
        elif pub.state == "scheduled" and pub.when:
            detail = f"at {pub.when.isoformat()}"
        emit(f"{pub.note}\t{pub.platform.name}\t{pub.state}" + (f"\t{detail}" if detail else ""))
    return 1 if problems or any(p.state in ("failed", "unknown") for p in publications) else 0


def cmd_doctor(args) -> int:
    from .doctor import doctor, worst

    cfg, clock = _setup(args)
    findings = doctor(cfg, clock, chosen=tuple(args.platform))
    if args.format == "json":
        emit(json.dumps([{"platform": f.platform, "level": f.level, "message": f.message, "hint": f.hint}
                         for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            emit(str(finding))
    if not findings:
        emit("no platform is configured: set its NOTECAST_<PLATFORM>_* settings (see README), or name one with "
             "--platform", err=True)
    return 1 if worst(findings) == "error" else 0


def cmd_resolve(args) -> int:
    from .run import resolve

    cfg, clock = _setup(args)
    problems, outcome = resolve(args.paths[0], cfg, clock, platform=args.platform, part=args.part,
                                sent=args.sent)
    _problems(problems)
    if not outcome:
        return 1
    emit(outcome)
    return 0


COMMANDS = {"render": cmd_render, "check": cmd_check, "length": cmd_length, "preview": cmd_preview,
            "publish": cmd_publish, "status": cmd_status, "resolve": cmd_resolve, "doctor": cmd_doctor}


if __name__ == "__main__":
    sys.exit(main())
