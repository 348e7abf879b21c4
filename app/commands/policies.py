"""`ctower policies [--json]`, `ctower policies set NAME VALUE ...`, `ctower policies reset NAME ...`.

Shows every policy (its value, its default, and who changed it when), and sets or resets an
override with a required reason, recorded in the policy history (metrics/policies.py).
"""

from __future__ import annotations

import argparse
import getpass
import socket
from datetime import datetime
from typing import Any

from app.commands import UsageError
from app.db.engine import get_engine
from app.db.migrate import migrate

_SCOPE_FLAGS = (
    ("channel", "--channel", "C"),
    ("node_kind", "--node-kind", "K"),
    ("interface", "--interface", "I"),
)


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `policies` (with `set` and `reset`) to the `ctower` subcommands; returns its parser."""
    policies = subparsers.add_parser(
        "policies",
        parents=[common_parent],
        help="metric thresholds: show them, set or reset an override (with a reason)",
    )
    policies.add_argument("--json", action="store_true", help="print a JSON list, one object a policy")
    actions = policies.add_subparsers(dest="policies_command", metavar="{set,reset}")
    set_ = actions.add_parser("set", help="override a policy (for the deployment, or one scope)")
    set_.add_argument("name", metavar="NAME", help="the policy, e.g. at_risk_hours")
    set_.add_argument("value", metavar="VALUE", help="its new value, e.g. 48")
    reset = actions.add_parser("reset", help="remove an override: the default (or deployment value) applies")
    reset.add_argument("name", metavar="NAME", help="the policy, e.g. at_risk_hours")
    for sub in (set_, reset):
        scope = sub.add_mutually_exclusive_group()
        for dest, flag, metavar in _SCOPE_FLAGS:
            scope.add_argument(
                flag, dest=dest, metavar=metavar, help=f"only for this {dest.replace('_', ' ')}"
            )
        sub.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded in the history)")
        # SUPPRESS: a --database-url given before `set`/`reset` is kept, not reset to None
        sub.add_argument(
            "--database-url", metavar="URL", default=argparse.SUPPRESS, help="as for `ctower policies`"
        )
    return policies


def actor() -> str:
    """Who is changing a policy: user@host."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    for dest, _, _ in _SCOPE_FLAGS:
        value = getattr(args, dest, None)
        if value is not None:
            return dest, value
    return "deployment", ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def listing(conn: Any) -> list[dict[str, Any]]:
    """One entry per policy for the deployment, then one per scoped override."""
    from metrics import policies as pol

    stored = pol.overrides(conn)
    deployment = {o.name: o for o in stored if o.scope == pol.DEPLOYMENT}
    out = []
    for name in pol.NAMES:
        o = deployment.get(name)
        out.append(
            {
                "name": name,
                "scope": pol.DEPLOYMENT,
                "scope_value": "",
                "value": o.value if o else pol.default(name),
                "default": pol.default(name),
                "overridden": o is not None,
                "reason": o.reason if o else None,
                "changed_by": o.changed_by if o else None,
                "changed_at": _iso(o.changed_at) if o else None,
            }
        )
    for o in stored:
        if o.scope != pol.DEPLOYMENT:
            out.append(
                {
                    "name": o.name,
                    "scope": o.scope,
                    "scope_value": o.scope_value,
                    "value": o.value,
                    "default": pol.default(o.name),
                    "overridden": True,
                    "reason": o.reason,
                    "changed_by": o.changed_by,
                    "changed_at": _iso(o.changed_at),
                }
            )
    return out


def render_table(rows: list[dict[str, Any]]) -> str:
    header = ("policy", "scope", "value", "default", "changed by", "changed at")
    cells = [
        (
            r["name"],
            r["scope"] if r["scope"] == "deployment" else f"{r['scope']}={r['scope_value']}",
            str(r["value"]),
            str(r["default"]),
            r["changed_by"] or "",
            r["changed_at"] or "",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *cells]
    )


def run_policies(args: argparse.Namespace) -> int:
    from app.cli import print_json
    from metrics import policies as pol

    engine = get_engine(args.database_url)
    migrate(engine)
    command = getattr(args, "policies_command", None)
    try:
        if command is None:
            with engine.connect() as conn:
                rows = listing(conn)
            if args.json:
                print_json(rows)
            else:
                print(render_table(rows))
            return 0
        scope, scope_value = _scope(args)
        with engine.begin() as conn:
            if command == "set":
                value = pol.set_policy(
                    conn,
                    args.name,
                    args.value,
                    scope=scope,
                    scope_value=scope_value,
                    reason=args.reason,
                    actor=actor(),
                )
                done = f"{args.name} = {value}"
            else:
                old = pol.reset_policy(
                    conn, args.name, scope=scope, scope_value=scope_value, reason=args.reason, actor=actor()
                )
                done = f"{args.name} reset (was {old})"
    except pol.PolicyError as exc:
        raise UsageError(str(exc)) from None
    where = "" if scope == pol.DEPLOYMENT else f" for {scope.replace('_', ' ')} {scope_value}"
    print(f"{done}{where}")
    return 0
