"""`ctower audit verify` and `ctower audit list`: the tamper-evident audit log.

`verify` recomputes the hash chain: exit 0 and "audit chain intact: N rows" (with the head
hash to keep elsewhere), or exit 1 naming the first row that does not match.
"""

from __future__ import annotations

import argparse
from typing import Any

from app.db.engine import get_engine
from app.db.migrate import migrate


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `audit verify` and `audit list` to the `ctower` subcommands; returns its parser."""
    from app.commands.metrics import parse_instant

    audit = subparsers.add_parser(
        "audit", parents=[common_parent], help="the audit log: verify its hash chain, list rows"
    )
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="{verify,list}")
    verify = actions.add_parser("verify", help="check the hash chain (exit 1 at the first bad row)")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    listing = actions.add_parser("list", help="audit rows, newest first")
    listing.add_argument("--since", type=parse_instant, metavar="T", help="rows at or after T")
    listing.add_argument("--until", type=parse_instant, metavar="T", help="rows before T")
    listing.add_argument("--actor", metavar="NAME", help="only this actor")
    listing.add_argument("--action", metavar="ACTION", help="only this action, e.g. user.add")
    listing.add_argument("--entity-kind", metavar="KIND", help="only this kind of entity, e.g. order")
    listing.add_argument("--entity-key", metavar="KEY", help="only this entity")
    listing.add_argument("--limit", type=_limit, default=100, metavar="N", help="rows at most (default 100)")
    listing.add_argument("--json", action="store_true", help="print a JSON list, one object a row")
    for sub in (verify, listing):
        sub.add_argument(
            "--database-url", metavar="URL", default=argparse.SUPPRESS, help="as for `ctower audit`"
        )
    return audit


def _limit(text: str) -> int:
    from app import audit

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= audit.MAX_ROWS:
        raise argparse.ArgumentTypeError(f"must be 1 to {audit.MAX_ROWS}, got {value}")
    return value


def _iso(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def row_json(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(row), "at": _iso(row.at)}


def render_table(rows: list[Any]) -> str:
    header = ("id", "at", "actor", "role", "action", "entity", "reason")
    cells = [
        (
            str(r.audit_id),
            _iso(r.at)[:19] + "Z",
            r.actor,
            r.role,
            r.action,
            f"{r.entity_kind} {r.entity_key}",
            r.reason,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *cells]
    )


def run_audit(args: argparse.Namespace) -> int:
    import sys

    from app import audit
    from app.cli import print_json

    engine = get_engine(args.database_url)
    migrate(engine)
    with engine.connect() as conn:
        if args.audit_command == "verify":
            result = audit.verify(conn)
            if args.json:
                print_json(
                    {
                        "ok": result.ok,
                        "rows": result.rows,
                        "head_hash": result.head_hash,
                        "bad_audit_id": result.bad_audit_id,
                        "problem": result.problem,
                    }
                )
            elif result.ok:
                print(result.message())
                if result.head_hash:
                    print(f"head hash: {result.head_hash}")
            else:
                print(f"ctower: error: {result.message()}", file=sys.stderr)
            return 0 if result.ok else 1
        rows = audit.rows(
            conn,
            since=args.since,
            until=args.until,
            actor=args.actor,
            action=args.action,
            entity_kind=args.entity_kind,
            entity_key=args.entity_key,
            limit=args.limit,
        )
    if args.json:
        print_json([row_json(r) for r in rows])
    else:
        print(render_table(rows) if rows else "no audit rows match")
    return 0
