"""`ctower`, the scriptable face of the product (see README "CLI reference").

Every command takes --database-url (else DATABASE_URL, else the embedded server). Bad
input, an unreadable file or an unreachable database end in ONE line on stderr and a
non-zero exit status:
  2 usage (a wrong flag or value), 3 database unreachable, 4 input unreadable, 1 other.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import orjson

from app import __version__
from app.commands import UsageError
from app.db.engine import DatabaseUnavailable
from app.ingest.reader import InputError
from app.settings import SettingsError

EXIT_USAGE, EXIT_DATABASE, EXIT_INPUT, EXIT_OTHER = 2, 3, 4, 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"ctower: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (default: $DATABASE_URL, else the embedded server in $CTOWER_DATA_DIR)",
    )
    parser = _Parser(prog="ctower", description="Control Tower: retail operations control tower.")
    parser.add_argument("--version", action="version", version=f"ctower {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = commands.add_parser(
        "ingest", parents=[common], help="load canonical events (JSON Lines or a JSON array)"
    )
    ingest.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files to read ('-' for stdin; .gz is read as gzip)",
    )
    ingest.add_argument(
        "--source", metavar="NAME", help="the feed's name, recorded on batches and quarantine"
    )
    ingest.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    ingest.add_argument("--batch-size", type=_positive, metavar="N", help="events per transaction")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")

    db = commands.add_parser("db", help="the database: url, start, stop, migrate, status")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_commands.add_parser(
        "url", parents=[common], help="print the database URL (starts the embedded server)"
    )
    db_commands.add_parser("start", parents=[common], help="start the embedded server and migrate")
    db_commands.add_parser("stop", parents=[common], help="stop the embedded server")
    db_commands.add_parser("migrate", parents=[common], help="apply pending migrations")
    db_commands.add_parser("status", parents=[common], help="server, migrations and event counts")

    metrics = commands.add_parser(
        "metrics", parents=[common], help="the figures of contracts/METRICS.md for a window"
    )
    from app.commands.metrics import parse_instant

    metrics.add_argument(
        "--since", type=parse_instant, metavar="T", help="window start (default: until - 7 days)"
    )
    metrics.add_argument(
        "--until", type=parse_instant, metavar="T", help="window end, exclusive (default: as-of)"
    )
    metrics.add_argument("--as-of", type=parse_instant, metavar="T", help="the instant (default: now)")
    metrics.add_argument("--json", action="store_true", help="print one JSON object (METRICS.md shape)")
    for scope in ("region", "channel", "node", "source"):  # metrics/scoping.py: what each narrows
        metrics.add_argument(f"--{scope}", metavar=scope.upper(), help=f"only this {scope} (default: all)")

    from app.commands.exceptions import register as register_exceptions
    from app.commands.policies import register as register_policies

    register_exceptions(commands, common)

    register_policies(commands, common)

    from app.commands.collect import register as register_collect

    register_collect(commands, common)

    from app.commands.demo import register as register_demo
    from app.commands.simulate import register as register_simulate

    register_simulate(commands, common)
    register_demo(commands, common)

    from app.commands.export import register as register_export

    register_export(commands, common)

    from app.commands.actions import register as register_actions

    register_actions(commands, common)

    from app.commands.audit import register as register_audit
    from app.commands.users import register as register_users

    register_users(commands, common)
    register_audit(commands, common)

    from app.commands.incidents import register as register_incidents

    register_incidents(commands, common)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ingest":
            from app.commands.ingest import run_ingest

            return run_ingest(args)
        if args.command == "db":
            from app.commands.db import run_db

            return run_db(args)
        if args.command == "metrics":
            from app.commands.metrics import run_metrics

            return run_metrics(args)
        if args.command == "exceptions":
            from app.commands.exceptions import run_exceptions

            return run_exceptions(args)
        if args.command == "policies":
            from app.commands.policies import run_policies

            return run_policies(args)
        if args.command in ("collect", "sources", "scheduler"):
            from app.commands import collect

            run = {
                "collect": collect.run_collect,
                "sources": collect.run_sources,
                "scheduler": collect.run_scheduler_command,
            }[args.command]
            return run(args)
        if args.command == "simulate":
            from app.commands.simulate import run_simulate

            return run_simulate(args)
        if args.command == "users":
            from app.commands.users import run_users

            return run_users(args)
        if args.command == "audit":
            from app.commands.audit import run_audit

            return run_audit(args)
        if args.command == "incidents":
            from app.commands.incidents import run_incidents

            return run_incidents(args)
        if args.command == "actions":
            from app.commands.actions import run_actions

            return run_actions(args)
        if args.command == "demo":
            from app.commands.demo import run_demo

            return run_demo(args)
        if args.command == "export":
            from app.commands.export import run_export

            return run_export(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SettingsError as exc:
        return _fail(f"bad setting: {exc}", EXIT_USAGE)
    except DatabaseUnavailable as exc:
        return _fail(str(exc), EXIT_DATABASE)
    except InputError as exc:
        return _fail(str(exc), EXIT_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted; committed batches are kept, run the same command again to finish", 130)
    except Exception as exc:  # the last guard: one line, not a traceback
        import sqlalchemy as sa

        if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            return _fail(
                f"lost the database connection ({reason}); "
                "committed batches are kept, run the same command again to finish",
                EXIT_DATABASE,
            )
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        return _fail(f"unexpected error: {type(exc).__name__}: {first_line}", EXIT_OTHER)
    return EXIT_OTHER


def _fail(message: str, code: int) -> int:
    print(f"ctower: error: {message}", file=sys.stderr)
    return code


def print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
