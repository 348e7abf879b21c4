"""Accounts: add, remove, set role, set password, list; each change audited.

Every function runs in the caller's transaction (`with engine.begin() as conn:`), so an
account change and its audit row commit together. `by` is who makes the change (an
`Actor`: a signed-in admin, or the operating-system user of the CLI, see `cli_actor`).
Audit rows never hold a password or a hash: `user.add` and `user.role` record the role,
`user.password` records only that it changed.

A removed account keeps its row (the audit log names it), cannot sign in, and is signed
out everywhere; adding the same name again brings it back with a new role and password.
The last admin cannot be removed or demoted.
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from app import audit
from app.auth import passwords
from app.auth.roles import ROLES, Actor
from app.db.engine import sql_text

USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
CLI_ROLE = "cli"  # the audit role of the command line: it has the database's rights
DEMO_USERS = {"viewer": "viewer", "manager": "manager", "manager2": "manager", "admin": "admin"}


class AccountError(ValueError):
    """An account change that cannot be made; the message (one line) says why."""


@dataclass(frozen=True)
class Auditor:
    """Who makes a change, as the audit log records it."""

    username: str
    role: str


@dataclass(frozen=True)
class User:
    username: str
    role: str
    created_at: datetime
    password_changed_at: datetime
    removed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "username": self.username,
            "role": self.role,
            "created_at": iso(self.created_at),
            "password_changed_at": iso(self.password_changed_at),
            "removed_at": iso(self.removed_at),
        }


def cli_actor() -> Auditor:
    """The operating-system user running the CLI: user@host."""
    return Auditor(f"{getpass.getuser()}@{socket.gethostname()}", CLI_ROLE)


def normalise_username(name: str) -> str:
    """Names are compared lower-cased; letters, digits and . _ @ - only, 64 at most."""
    clean = name.strip().lower()
    if not USERNAME.fullmatch(clean):
        raise AccountError(
            f"bad user name {name!r}: 1 to 64 letters, digits or . _ @ -, starting with a letter or digit"
        )
    return clean


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _audit(
    conn: Connection,
    by: Auditor | Actor,
    action: str,
    username: str,
    reason: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> None:
    audit.record(
        conn,
        actor=by.username,
        role=by.role,
        action=action,
        entity_kind="user",
        entity_key=username,
        reason=reason,
        before=before,
        after=after,
        at=now,
    )


def _active(conn: Connection, username: str) -> Any:
    row = conn.execute(sql_text("auth/user_get_for_update"), {"username": username}).mappings().first()
    if row is None or row["removed_at"] is not None:
        raise AccountError(f"no user {username!r} (see ctower users list)")
    return row


def _last_admin_guard(conn: Connection, row: Any, doing: str) -> None:
    if row["role"] == "admin":
        conn.execute(sql_text("auth/admins_lock"))
        if conn.execute(sql_text("auth/admins_active")).scalar_one() <= 1:
            raise AccountError(f"refused: {row['username']!r} is the last admin; {doing} another admin first")


def get_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(sql_text("auth/user_get"), {"username": username.strip().lower()}).mappings().first()
    if row is None:
        return None
    return User(**{k: row[k] for k in User.__dataclass_fields__})


def list_users(conn: Connection, *, include_removed: bool = False) -> list[User]:
    rows = conn.execute(sql_text("auth/users_list"), {"include_removed": include_removed}).mappings()
    return [User(**dict(r)) for r in rows]


def add_user(
    conn: Connection,
    username: str,
    role: str,
    password: str | None = None,
    *,
    by: Auditor | Actor,
    reason: str = "",
    now: datetime | None = None,
) -> str:
    """Create an account (or bring back a removed one); the password, generated if not given.

    The generated password is returned once and stored only as its hash.
    """
    name, role = normalise_username(username), check_role(role)
    plain = password if password is not None else passwords.generate_password()
    try:
        hashed = passwords.hash_password(plain)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from None
    at = _now(now)
    before = conn.execute(sql_text("auth/user_get_for_update"), {"username": name}).mappings().first()
    inserted = conn.execute(
        sql_text("auth/user_insert"), {"username": name, "role": role, "password_hash": hashed, "now": at}
    ).first()
    if inserted is None:
        raise AccountError(f"user {name!r} already exists (ctower users role/passwd change it)")
    _audit(
        conn,
        by,
        "user.add",
        name,
        reason,
        {"role": before["role"], "removed": True} if before is not None else None,
        {"role": role},
        at,
    )
    return plain


def remove_user(
    conn: Connection, username: str, *, by: Auditor | Actor, reason: str = "", now: datetime | None = None
) -> None:
    """Remove an account: it can no longer sign in and its sessions end now."""
    name, at = normalise_username(username), _now(now)
    row = _active(conn, name)
    _last_admin_guard(conn, row, "add")
    conn.execute(sql_text("auth/user_remove"), {"username": name, "now": at})
    conn.execute(sql_text("auth/sessions_revoke_user"), {"username": name, "now": at})
    _audit(conn, by, "user.remove", name, reason, {"role": row["role"]}, {"removed": True}, at)


def set_role(
    conn: Connection,
    username: str,
    role: str,
    *,
    by: Auditor | Actor,
    reason: str = "",
    now: datetime | None = None,
) -> None:
    """Change an account's role; it applies to its open sessions at once."""
    name, role, at = normalise_username(username), check_role(role), _now(now)
    row = _active(conn, name)
    if row["role"] == role:
        raise AccountError(f"user {name!r} is already {role}")
    if role != "admin":
        _last_admin_guard(conn, row, "make")
    conn.execute(sql_text("auth/user_set_role"), {"username": name, "role": role})
    _audit(conn, by, "user.role", name, reason, {"role": row["role"]}, {"role": role}, at)


def set_password(
    conn: Connection,
    username: str,
    password: str | None = None,
    *,
    by: Auditor | Actor,
    reason: str = "",
    now: datetime | None = None,
) -> str:
    """Give an account a new password (generated if not given) and sign it out everywhere."""
    name, at = normalise_username(username), _now(now)
    _active(conn, name)
    plain = password if password is not None else passwords.generate_password()
    try:
        hashed = passwords.hash_password(plain)
    except passwords.WeakPassword as exc:
        raise AccountError(str(exc)) from None
    conn.execute(sql_text("auth/user_set_password"), {"username": name, "password_hash": hashed, "now": at})
    conn.execute(sql_text("auth/sessions_revoke_user"), {"username": name, "now": at})
    _audit(conn, by, "user.password", name, reason, None, {"password_changed": True}, at)
    return plain


def ensure_demo_users(engine: Engine, *, now: datetime | None = None) -> dict[str, str]:
    """One account per role for `ctower demo` (viewer, manager, manager2 for four-eyes
    approvals, admin), each with a fresh password; existing ones get a new password and
    their demo role back. Returns {username: password} to show once."""
    by = Auditor(cli_actor().username, CLI_ROLE)
    out: dict[str, str] = {}
    with engine.begin() as conn:
        for name, role in DEMO_USERS.items():
            user = get_user(conn, name)
            if user is None or user.removed_at is not None:
                out[name] = add_user(conn, name, role, by=by, reason="ctower demo", now=now)
                continue
            if user.role != role:  # the demo accounts keep their demo roles
                conn.execute(sql_text("auth/user_set_role"), {"username": name, "role": role})
                _audit(
                    conn, by, "user.role", name, "ctower demo", {"role": user.role}, {"role": role}, _now(now)
                )
            out[name] = set_password(conn, name, by=by, reason="ctower demo", now=now)
    return out
