"""`ctower exceptions [--status S] [--as-of T] [--json]` (DESIGN.md, contracts/METRICS.md).

Runs every detector as of `--as-of` (default now) over the default window (the 7 days
before it) with the default policies, updates the queue, then lists it most severe and
oldest first: the unresolved exceptions (open and acknowledged), or those of `--status`.
With --json: a list of {"key", "type", "entity", "status", "severity", "first_seen",
"last_seen"}.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from app.commands import UsageError
from app.commands.metrics import parse_instant

STATUSES = ("open", "acknowledged", "resolved")
JSON_KEYS = ("key", "type", "entity", "status", "severity", "first_seen", "last_seen")


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `exceptions` command to `subparsers` (with --database-url from `common_parent`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "exceptions",
        parents=[common_parent],
        help="run the exception detectors up to as-of and list the queue",
    )
    parser.add_argument(
        "--status",
        choices=STATUSES,
        help="list only exceptions with this status (default: open and acknowledged)",
    )
    parser.add_argument("--as-of", type=parse_instant, metavar="T", help="the instant (default: now)")
    parser.add_argument("--json", action="store_true", help="print a JSON list (DESIGN.md shape)")
    return parser


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def as_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _instant(r[k]) if isinstance(r[k], datetime) else r[k] for k in JSON_KEYS} for r in rows]


def render_table(rows: list[dict[str, Any]], counts: dict[str, int], as_of: datetime) -> str:
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    lines = [f"as of {_instant(as_of)}: {summary}; {len(rows)} listed", ""]
    for r in rows:
        lines.append(
            f"{r['severity']:<8} {r['status']:<12} {r['type']:<19} {r['entity']}  "
            f"(first seen {_instant(r['first_seen'])}, last seen {_instant(r['last_seen'])})"
        )
    return "\n".join(lines)


def run_exceptions(args: argparse.Namespace) -> int:
    from app.cli import print_json
    from app.db.engine import get_engine
    from app.db.migrate import migrate
    from metrics import policies as stored_policies
    from metrics.exception_queue import QueueReplayError, queue, run_detectors
    from metrics.params import Window

    if args.status is not None and args.status not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, not {args.status!r}")
    try:
        window = Window.of(as_of=args.as_of)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    engine = get_engine(args.database_url)
    migrate(engine)
    with engine.connect() as conn:
        policies = stored_policies.load(conn)  # the thresholds in force (ctower policies)
    try:
        counts = run_detectors(engine, window, policies)
    except QueueReplayError as exc:
        raise UsageError(str(exc)) from None
    with engine.connect() as conn:
        rows = queue(conn, args.status)
    if args.json:
        print_json(as_json(rows))
    else:
        print(render_table(rows, counts, window.as_of))
    return 0
