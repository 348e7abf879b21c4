"""`ctower collect`, `ctower sources` and `ctower scheduler`: run and manage collectors.

- `ctower collect [SOURCE...] [--once] [--config FILE] [--json]`: register the file's sources
  (--config, else $CTOWER_SOURCES_FILE), then run the named sources (default: every enabled
  one) once with --once, else on their schedules until Ctrl-C. A failed source: exit 1,
  one line each on stderr.
- `ctower sources [--json]`: every source with its health; `ctower sources add FILE`,
  `ctower sources pause NAME`, `ctower sources resume NAME`.
- `ctower scheduler [--config FILE]`: every enabled source on its schedule, the exception
  detectors, and the sources table re-read, until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from app.commands import UsageError

SOURCES_ACTIONS = ("add", "pause", "resume")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `collect`, `sources` and `scheduler` to `subparsers`."""
    collect = subparsers.add_parser(
        "collect", parents=[common], help="run collectors: once (--once) or on their schedules"
    )
    collect.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="sources to run (default: every enabled one)"
    )
    collect.add_argument("--once", action="store_true", help="run each source once, then exit")
    collect.add_argument("--config", metavar="FILE", help="TOML file of sources to register first")
    collect.add_argument("--json", action="store_true", help="print the runs as one JSON list (with --once)")

    sources = subparsers.add_parser(
        "sources",
        parents=[common],
        help="list sources and their health; sources add FILE | pause NAME | resume NAME",
    )
    sources.add_argument("action", nargs="?", choices=SOURCES_ACTIONS, help="what to do (default: list)")
    sources.add_argument("target", nargs="?", metavar="FILE|NAME", help="the sources file, or a source")
    sources.add_argument("--json", action="store_true", help="print the list as JSON")

    scheduler = subparsers.add_parser(
        "scheduler", parents=[common], help="run every enabled source on its schedule until stopped"
    )
    scheduler.add_argument("--config", metavar="FILE", help="TOML file of sources to register first")


def _engine(args: argparse.Namespace) -> Engine:
    from app.db.engine import get_engine
    from app.db.migrate import migrate

    engine = get_engine(args.database_url)
    migrate(engine)
    return engine


def _register_file(engine: Engine, path: str | None) -> int:
    """Register the sources of `path` (else $CTOWER_SOURCES_FILE); returns how many."""
    from app.ingest.reader import InputError
    from app.settings import load_settings
    from collectors import config

    path = path or (str(load_settings().sources_file) if load_settings().sources_file else None)
    if not path:
        return 0
    try:
        configs = config.load_file(path)
    except config.ConfigFileMissing as exc:
        raise InputError(str(exc)) from None
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    config.register(engine, configs)
    return len(configs)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _until_stopped(engine: Engine, names: list[str] | None) -> int:
    from collectors.jobs import default_context, run_scheduler

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_scheduler(engine, default_context(engine), stop, names=names)
    except KeyboardInterrupt:
        pass  # run_scheduler has let the running runs finish
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped; every committed page is kept", file=sys.stderr)
    return 0


def _line(result: Any) -> str:
    if result.status in ("skipped", "paused"):
        why = "another run holds its lock" if result.status == "skipped" else "resume it to collect"
        return f"{result.source}: {result.status} ({why})"
    return (
        f"{result.source}: {result.status}, {result.pages} pages, {result.read} read, "
        f"{result.accepted} accepted, {result.duplicate} duplicate, {result.quarantined} quarantined"
    )


def run_collect(args: argparse.Namespace) -> int:
    from app.cli import print_json
    from collectors.config import load_sources
    from collectors.jobs import default_context, detect_exceptions
    from collectors.runner import collect_all

    engine = _engine(args)
    _register_file(engine, args.config)
    known = {s.name: s for s in load_sources(engine)}
    if not known:
        raise UsageError(
            "no sources registered: pass --config FILE, set CTOWER_SOURCES_FILE, "
            "or run ctower sources add FILE"
        )
    unknown = [name for name in args.sources if name not in known]
    if unknown:
        raise UsageError(f"unknown source {unknown[0]!r}; known sources: {', '.join(sorted(known))}")
    names = list(dict.fromkeys(args.sources)) or [s.name for s in known.values() if s.enabled]
    if not names:
        raise UsageError("no source is enabled; name the sources to run")
    if not args.once:
        _logging()
        return _until_stopped(engine, names)
    logging.getLogger("ctower").setLevel(logging.ERROR)  # one line per failure below; "down" still said
    context = default_context(engine)
    results = collect_all(engine, [known[name] for name in names], context)
    if any(r.accepted for r in results):
        detect_exceptions(engine, context.clock())
    if args.json:
        print_json([r.as_json() for r in results])
    else:
        for result in results:
            if result.status != "failed":
                print(_line(result))
    failed = [r for r in results if r.status == "failed"]
    for result in failed:
        print(f"ctower: error: source {result.source} failed: {result.error}", file=sys.stderr)
    return 1 if failed else 0


def _instant(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _ago(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"


def run_sources(args: argparse.Namespace) -> int:
    from app.cli import print_json
    from collectors import config, health

    if args.action is None and args.target is not None:
        raise UsageError(f"unknown action {args.target!r}: use add FILE, pause NAME or resume NAME")
    if args.action is not None and args.target is None:
        what = "FILE" if args.action == "add" else "NAME"
        raise UsageError(f"sources {args.action} needs a {what}")
    engine = _engine(args)
    if args.action == "add":
        count = _register_file(engine, args.target)
        print(f"{count} sources registered from {args.target}")
        return 0
    if args.action in ("pause", "resume"):
        if not config.set_paused(engine, args.target, args.action == "pause"):
            known = ", ".join(s.name for s in config.load_sources(engine)) or "none registered"
            raise UsageError(f"unknown source {args.target!r}; known sources: {known}")
        print(f"{args.target}: {'paused' if args.action == 'pause' else 'resumed'}")
        return 0
    now = datetime.now(UTC)
    rows = health.statuses(engine, now)
    if args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "schedule_seconds": r.schedule_seconds,
                    "enabled": r.enabled,
                    "paused": r.paused,
                    "status": r.status,
                    "last_run_at": _instant(r.last_run_at),
                    "last_success_at": _instant(r.last_success_at),
                    "consecutive_failures": r.consecutive_failures,
                    "last_error": r.last_error,
                    "last_event_time": _instant(r.last_event_time),
                    "lag_seconds": r.lag.total_seconds() if r.lag is not None else None,
                }
                for r in rows
            ]
        )
        return 0
    if not rows:
        print("no sources registered (ctower sources add FILE)")
        return 0
    print(
        f"{'source':<20} {'kind':<22} {'every':>7} {'status':<7} {'last success':<21} "
        f"{'fails':>5} {'lag':>7}  last error"
    )
    for r in rows:
        every = f"{r.schedule_seconds:g}s" if r.schedule_seconds is not None else "-"
        success = _instant(r.last_success_at.replace(microsecond=0)) if r.last_success_at else "never"
        print(
            f"{r.name:<20} {r.kind or '-':<22} {every:>7} {r.status:<7} {success:<21} "
            f"{r.consecutive_failures:>5} {_ago(r.lag):>7}  {r.last_error or ''}"
        )
    return 0


def run_scheduler_command(args: argparse.Namespace) -> int:
    from collectors.config import load_sources

    engine = _engine(args)
    _register_file(engine, args.config)
    _logging()
    runnable = load_sources(engine, runnable_only=True)
    listed = ", ".join(s.name for s in runnable) or "none yet"
    print(f"scheduler: {len(runnable)} sources scheduled ({listed}); Ctrl-C to stop", file=sys.stderr)
    return _until_stopped(engine, None)
