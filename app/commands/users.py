"""`ctower users add|remove|role|passwd|list`: the accounts of the Streamlit app.

Every change is written to the audit log with the operating-system user running the
command (user@host, role `cli`) as its actor. A password is read from stdin with
--password-stdin (the first line), else generated and printed once; it is never stored
plainly nor logged.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands import UsageError
from app.db.engine import get_engine
from app.db.migrate import migrate


def register(subparsers: Any, common_parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add `users` and its subcommands to the `ctower` subcommands; returns its parser."""
    from app.auth.roles import ROLES

    users = subparsers.add_parser(
        "users", parents=[common_parent], help="accounts of the app: add, remove, role, passwd, list"
    )
    actions = users.add_subparsers(
        dest="users_command", required=True, metavar="{add,remove,role,passwd,list}"
    )
    add = actions.add_parser("add", help="add an account (prints a generated password once)")
    add.add_argument("name", metavar="NAME", help="user name (letters, digits, . _ @ -)")
    add.add_argument("--role", required=True, metavar="ROLE", help=f"one of {', '.join(ROLES)}")
    remove = actions.add_parser("remove", help="remove an account (it can no longer sign in)")
    remove.add_argument("name", metavar="NAME")
    role = actions.add_parser("role", help="change an account's role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", metavar="ROLE", help=f"one of {', '.join(ROLES)}")
    passwd = actions.add_parser("passwd", help="set a new password (prints a generated one once)")
    passwd.add_argument("name", metavar="NAME")
    listing = actions.add_parser("list", help="the accounts and their roles")
    listing.add_argument("--json", action="store_true", help="print a JSON list, one object an account")
    listing.add_argument("--all", action="store_true", help="removed accounts too")
    for sub in (add, passwd):
        sub.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin (its first line)"
        )
    for sub in (add, remove, role, passwd):
        sub.add_argument("--reason", default="", metavar="TEXT", help="why (recorded in the audit log)")
    for sub in (add, remove, role, passwd, listing):
        # SUPPRESS: a --database-url given before the subcommand is kept, not reset to None
        sub.add_argument(
            "--database-url", metavar="URL", default=argparse.SUPPRESS, help="as for `ctower users`"
        )
    return users


def _password(args: argparse.Namespace) -> str | None:
    if not getattr(args, "password_stdin", False):
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise UsageError("--password-stdin: no password on stdin")
    return line


def render_table(users: list[Any]) -> str:
    header = ("user", "role", "created", "password changed", "removed")
    cells = [
        (
            u.username,
            u.role,
            f"{u.created_at:%Y-%m-%d %H:%M}",
            f"{u.password_changed_at:%Y-%m-%d %H:%M}",
            f"{u.removed_at:%Y-%m-%d %H:%M}" if u.removed_at else "",
        )
        for u in users
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *cells]
    )


def run_users(args: argparse.Namespace) -> int:
    from app.auth import accounts
    from app.cli import print_json

    command = args.users_command
    password = _password(args)
    engine = get_engine(args.database_url)
    migrate(engine)
    by = accounts.cli_actor()
    try:
        if command == "list":
            with engine.connect() as conn:
                users = accounts.list_users(conn, include_removed=args.all)
            if args.json:
                print_json([u.to_json() for u in users])
            else:
                print(render_table(users) if users else "no accounts yet (ctower users add NAME --role ROLE)")
            return 0
        with engine.begin() as conn:
            if command == "add":
                plain = accounts.add_user(conn, args.name, args.role, password, by=by, reason=args.reason)
                done = f"added {accounts.normalise_username(args.name)} ({args.role})"
            elif command == "remove":
                accounts.remove_user(conn, args.name, by=by, reason=args.reason)
                done, plain = f"removed {accounts.normalise_username(args.name)}", None
            elif command == "role":
                accounts.set_role(conn, args.name, args.role, by=by, reason=args.reason)
                done, plain = f"{accounts.normalise_username(args.name)} is now {args.role}", None
            else:
                plain = accounts.set_password(conn, args.name, password, by=by, reason=args.reason)
                done = f"new password set for {accounts.normalise_username(args.name)}; signed out everywhere"
    except accounts.AccountError as exc:
        raise UsageError(str(exc)) from None
    print(done)
    if plain is not None and password is None:
        print(f"password: {plain}")
        print("(shown once: it is stored only as a hash)")
    return 0
