"""`ctower export ocel [--since T] [--until T] [--order ID ...] -o FILE`: the control tower's
events of a set of orders as an OCEL 2.0 JSON log (collectors/ocel/export.py), validated
against the standard's JSON schema before it is written.

The orders: created in [--since, --until) (either may be left out), and among the --order
ids when given; every stored event of theirs is written (any type with that order_id).
FILE ending in .gz is gzipped; `-o -` writes to stdout. Prints one line: events, orders,
file. The `ocel` collector kind reads such a file back into the same events.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from typing import Any

import orjson

from app.commands import UsageError

FORMATS = ("ocel",)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `export` to `subparsers`."""
    from app.commands.metrics import parse_instant

    export = subparsers.add_parser(
        "export", parents=[common], help="write the events of a set of orders as an OCEL 2.0 JSON log"
    )
    export.add_argument("format", choices=FORMATS, help="the format: ocel (OCEL 2.0 JSON)")
    export.add_argument("--since", type=parse_instant, metavar="T", help="orders created at or after T")
    export.add_argument("--until", type=parse_instant, metavar="T", help="orders created before T")
    export.add_argument(
        "--order", action="append", metavar="ID", dest="orders", help="an order id (repeat for more)"
    )
    export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the file to write ('-': stdout)"
    )


def run_export(args: argparse.Namespace) -> int:
    from app.db.engine import get_engine, sql_text
    from app.db.migrate import migrate
    from collectors.ocel.export import to_ocel, validate

    if args.since and args.until and args.since >= args.until:
        raise UsageError(
            f"--since ({args.since.isoformat()}) must be before --until ({args.until.isoformat()})"
        )
    if args.output != "-" and not Path(args.output).expanduser().parent.is_dir():
        raise UsageError(f"-o {args.output}: no folder {Path(args.output).expanduser().parent}")
    engine = get_engine(args.database_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sql_text("process/export_events"),
            {"since": args.since, "until": args.until, "orders": args.orders},
        ).mappings()
        events = [{**row, "data": orjson.loads(row["data"])} for row in rows]
    log = to_ocel(events)
    validate(log)
    payload = orjson.dumps(log)
    orders = len({e["data"].get("order_id") for e in events})
    if args.output == "-":
        sys.stdout.buffer.write(payload + b"\n")
        sys.stdout.flush()
        return 0
    path = Path(args.output).expanduser()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    print(f"wrote {len(events):,} events of {orders:,} orders to {path} (OCEL 2.0 JSON, schema-valid)")
    return 0
