"""`ctower actions ...`: manual actions from the command line (app/actions).

    ctower actions [list] [--status S] [--json]
    ctower actions show ID [--json]
    ctower actions candidates ORDER [--json]
    ctower actions request KIND KEY [--param NAME=VALUE ...] --reason R --as USER [--key K]
    ctower actions approve ID --as USER [--reason R]
    ctower actions reject ID --as USER --reason R
    ctower actions dispatch [--once] [--url URL]

`--as USER` signs in with the password in CTOWER_PASSWORD, else the first line of stdin.
A refusal (a viewer, a stale or busy entity, self-approval) is one line and exit status 1
(usage errors 2, as everywhere).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from typing import Any

from app.commands import UsageError

STATUSES = ("pending", "approved", "rejected", "sent", "confirmed", "failed")
EXIT_REFUSED = 1


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "actions", parents=[common_parent], help="manual actions: request, approve, dispatch, list"
    )
    sub = parser.add_subparsers(dest="actions_command", parser_class=type(parser))
    parser.add_argument("--status", choices=STATUSES, help="list only actions with this status")
    parser.add_argument("--json", action="store_true", help="print JSON")

    listing = sub.add_parser("list", parents=[common_parent], help="recent actions, newest first")
    listing.add_argument("--status", choices=STATUSES, help="only actions with this status")
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    show = sub.add_parser("show", parents=[common_parent], help="one action and its outbox commands")
    show.add_argument("action_id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")

    candidates = sub.add_parser("candidates", parents=[common_parent], help="nodes to reroute an order to")
    candidates.add_argument("order_id", metavar="ORDER")
    candidates.add_argument("--json", action="store_true", help="print a JSON list")

    from app.actions.registry import KINDS

    request = sub.add_parser("request", parents=[common_parent], help="request an action")
    request.add_argument("kind", choices=KINDS, metavar="KIND", help=f"one of {', '.join(KINDS)}")
    request.add_argument("key", metavar="KEY", help="the entity: ORDER, SKU@LOCATION, TRANSFER, ...")
    request.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="e.g. to_node=DC-EAST, qty=5"
    )
    request.add_argument("--reason", required=True, help="why (required, not blank)")
    request.add_argument("--as", dest="user", required=True, metavar="USER", help="sign in as USER")
    request.add_argument("--key", dest="idempotency_key", help="idempotency key (default: a new one)")
    request.add_argument("--json", action="store_true", help="print the action as JSON")

    for name, helptext in (("approve", "approve a pending action"), ("reject", "reject a pending action")):
        decide = sub.add_parser(name, parents=[common_parent], help=helptext)
        decide.add_argument("action_id", type=int, metavar="ID")
        decide.add_argument("--as", dest="user", required=True, metavar="USER", help="sign in as USER")
        decide.add_argument("--reason", required=name == "reject", default="", help="why")
        decide.add_argument("--json", action="store_true", help="print the action as JSON")

    dispatch = sub.add_parser("dispatch", parents=[common_parent], help="send the outbox's due commands")
    dispatch.add_argument("--once", action="store_true", help="one pass, then exit")
    dispatch.add_argument("--url", help="base URL of the systems (default: $CTOWER_COMMANDS_URL)")
    dispatch.add_argument("--every", type=float, default=None, metavar="S", help="seconds between passes")
    return parser


def _param(text: str) -> tuple[str, Any]:
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise UsageError(f"--param must be NAME=VALUE, got {text!r}")
    stripped = value.strip()
    if stripped.lstrip("-").isdigit():
        return name.strip(), int(stripped)
    return name.strip(), stripped


def _password() -> str:
    password = os.environ.get("CTOWER_PASSWORD")
    if password is None:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise UsageError("no password: set CTOWER_PASSWORD or give it on stdin")
    return password


def _sign_in(engine: Any, user: str) -> Any:
    from app.auth.sessions import LoginRefused, login

    try:
        return login(engine, user, _password(), client="cli").actor
    except LoginRefused as exc:
        raise _Refused(str(exc)) from None


class _Refused(Exception):
    pass


def _instant(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def _print_action(action: Any, as_json: bool) -> None:
    from app.cli import print_json

    data = action.as_dict()
    if as_json:
        print_json(data)
        return
    value = "" if data["value"] is None else f", value {float(data['value']):,.2f}"
    print(
        f"#{data['action_id']} {data['kind']} {data['entity_key']} {data['params']}: {data['status']}"
        f" (requested by {data['requested_by']}{value}"
        f"{', needs approval' if data['needs_approval'] else ''})"
    )


def run_actions(args: argparse.Namespace) -> int:
    from app.actions.base import ActionError
    from app.auth.roles import Forbidden
    from app.db.engine import get_engine
    from app.db.migrate import migrate

    engine = get_engine(args.database_url)
    migrate(engine)
    try:
        return _run(args, engine)
    except (ActionError, Forbidden, _Refused) as exc:
        print(f"ctower: refused: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_REFUSED


def _run(args: argparse.Namespace, engine: Any) -> int:
    from app.actions import core
    from app.actions.base import plain
    from app.cli import print_json

    command = args.actions_command or "list"
    if command == "list":
        rows = core.list_actions(engine, args.status)
        if args.json:
            print_json([plain({k: _instant(v) for k, v in r.items()}) for r in rows])
            return 0
        if not rows:
            print("no actions")
        for r in rows:
            print(
                f"#{r['action_id']:<5} {r['status']:<10} {r['kind']:<18} {r['entity_key']:<24} "
                f"by {r['requested_by']:<10} {_instant(r['requested_at'])}  "
                f"commands {r['confirmed']}/{r['commands']} confirmed"
                + (f"  error: {r['error']}" if r["error"] else "")
            )
        return 0
    if command == "show":
        action = core.get(engine, args.action_id)
        rows = core.outbox_rows(engine, args.action_id)
        if args.json:
            print_json(
                {**action.as_dict(), "outbox": [plain({k: _instant(v) for k, v in r.items()}) for r in rows]}
            )
            return 0
        _print_action(action, False)
        print(f"  reason: {action.reason}")
        if action.decided_by:
            print(f"  decided by {action.decided_by} at {_instant(action.decided_at)}")
        if action.error:
            print(f"  error: {action.error}")
        for r in rows:
            print(
                f"  {r['command_id']} -> {r['target_system']} {r['endpoint']}: {r['status']}, "
                f"{r['attempts']} attempt(s)"
                + (f", last error: {r['last_error']}" if r["last_error"] else "")
            )
        return 0
    if command == "candidates":
        from app.actions.reroute import FAMILY

        with engine.connect() as conn:
            found = FAMILY.candidates(conn, args.order_id)
        if args.json:
            print_json(found)
            return 0
        if not found:  # say why there is nothing to choose from, rather than print nothing
            print(f"no node to reroute {args.order_id} to: no other location is known yet")
            return 0
        for c in found:
            load = f"{c['routed']}/{c['daily_capacity']}" if c["daily_capacity"] else f"{c['routed']}/-"
            print(
                f"{c['location_id']:<12} {c['kind'] or '?':<6} {c['region'] or '?':<8} "
                f"{'same region' if c['same_region'] else '           '} load {load:<9} "
                + ("ok" if c["ok"] else f"no: {c['why_not']}")
            )
        return 0
    if command == "request":
        params = dict(_param(p) for p in args.param)
        actor = _sign_in(engine, args.user)
        action = core.request(
            engine,
            actor,
            args.kind,
            args.key,
            params,
            reason=args.reason,
            idempotency_key=args.idempotency_key or core.new_idempotency_key(),
        )
        _print_action(action, args.json)
        return 0
    if command in ("approve", "reject"):
        actor = _sign_in(engine, args.user)
        if command == "approve":
            action = core.approve(engine, actor, args.action_id, reason=args.reason)
        else:
            action = core.reject(engine, actor, args.action_id, reason=args.reason)
        _print_action(action, args.json)
        return 0
    if command == "dispatch":
        from app.outbox.dispatcher import dispatch_once
        from app.settings import load_settings

        every = args.every or load_settings().outbox_dispatch_seconds
        while True:
            counts = dispatch_once(engine, base_url=args.url)
            print(", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
            if args.once:
                return 0
            time.sleep(every)
    raise UsageError(f"unknown actions command {command!r}")
