"""Signing in with a password, sessions that expire, signing out.

`login` checks a name and password and opens a session: a random token for the browser,
of which only the sha256 is stored, valid CTOWER_SESSION_HOURS. Every attempt is written
to `login_attempts`; wrong ones and lockouts also to the audit log.

Lockout: a user name takes at most CTOWER_LOGIN_MAX_FAILURES wrong passwords in any
CTOWER_LOGIN_LOCK_MINUTES (counted since its last successful sign-in); the next attempt,
even with the right password, is refused with the time to try again, which is when the
oldest of those failures is LOCK_MINUTES old. Refusals while locked are not counted, so
waiting always works. Unknown names are counted and answered the same way as wrong
passwords ("wrong user name or password"), so the form does not tell which names exist.

Every function takes `now` (default: the wall clock) so tests can move time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from app import audit
from app.auth import passwords
from app.auth.roles import Actor
from app.db.engine import sql_text
from app.settings import Settings, load_settings


class LoginRefused(PermissionError):
    """Sign-in refused; the message (one line) is safe to show on the form."""

    def __init__(self, message: str, *, retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Session:
    token: str  # give it to the browser; the database has only its sha256
    actor: Actor
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clock(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _attempt(conn: Connection, username: str, at: datetime, outcome: str, client: str) -> None:
    conn.execute(
        sql_text("auth/attempt_insert"),
        {
            "username": username,
            "at": at,
            "ok": outcome in ("ok", "sso"),
            "outcome": outcome,
            "client": client,
        },
    )


def locked_until(
    conn: Connection, username: str, *, now: datetime | None = None, settings: Settings | None = None
) -> datetime | None:
    """When `username` may try again, if it is locked now; else None."""
    settings = settings or load_settings()
    at = _clock(now)
    window = timedelta(minutes=settings.login_lock_minutes)
    failures = (
        conn.execute(
            sql_text("auth/recent_failures"),
            {
                "username": username,
                "since": at - window,
                "now": at,
                "max_failures": settings.login_max_failures,
            },
        )
        .scalars()
        .all()
    )
    if len(failures) < settings.login_max_failures:
        return None
    return failures[-1] + window  # the oldest of the newest N leaves the window then


def _retry_words(retry_at: datetime, now: datetime) -> str:
    minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))  # rounded up
    return f"try again after {retry_at.astimezone(UTC):%H:%M} UTC (in {minutes} minute{'s' * (minutes > 1)})"


def login(
    engine: Engine,
    username: str,
    password: str,
    *,
    client: str = "web",
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Session:
    """Open a session for a right name and password; else record the failure (committed)
    and raise `LoginRefused` with a one-line message."""
    settings = settings or load_settings()
    at = _clock(now)
    name = username.strip().lower()[:200]
    if not name:
        raise LoginRefused("enter a user name")
    refusal: LoginRefused | None = None
    with engine.begin() as conn:
        conn.execute(sql_text("auth/attempts_lock"), {"username": name})  # one attempt at a time
        retry_at = locked_until(conn, name, now=at, settings=settings)
        if retry_at is not None:
            _attempt(conn, name, at, "locked", client)
            refusal = LoginRefused(
                f"too many wrong passwords for {name!r}: {_retry_words(retry_at, at)}", retry_at=retry_at
            )
        else:
            user = conn.execute(sql_text("auth/user_get"), {"username": name}).mappings().first()
            right = passwords.verify_password(user["password_hash"] if user else None, password)
            if user is not None and right and user["removed_at"] is None:
                return _open(
                    conn,
                    user["username"],
                    user["role"],
                    user["password_hash"],
                    password,
                    at,
                    client,
                    settings,
                )
            outcome = "unknown_user" if user is None else "removed" if right else "wrong_password"
            _attempt(conn, name, at, outcome, client)
            role = user["role"] if user is not None else "none"
            audit.record(
                conn,
                actor=name,
                role=role,
                action="login.failed",
                entity_kind="user",
                entity_key=name,
                reason=outcome.replace("_", " "),
                before=None,
                after=None,
                detail={"client": client},
                at=at,
            )
            retry_at = locked_until(conn, name, now=at, settings=settings)
            if retry_at is not None:
                audit.record(
                    conn,
                    actor=name,
                    role=role,
                    action="login.locked",
                    entity_kind="user",
                    entity_key=name,
                    reason=f"{settings.login_max_failures} wrong passwords in "
                    f"{settings.login_lock_minutes:g} minutes",
                    before=None,
                    after={"locked_until": retry_at},
                    detail={"client": client},
                    at=at,
                )
                refusal = LoginRefused(
                    f"wrong user name or password; {name!r} is now locked: {_retry_words(retry_at, at)}",
                    retry_at=retry_at,
                )
            else:
                refusal = LoginRefused("wrong user name or password")
    raise refusal


def _open(
    conn: Connection,
    username: str,
    role: str,
    password_hash: str,
    password: str,
    at: datetime,
    client: str,
    settings: Settings,
) -> Session:
    if passwords.needs_rehash(password_hash):
        conn.execute(
            sql_text("auth/user_rehash"),
            {"username": username, "password_hash": passwords.hash_password_unchecked(password)},
        )
    _attempt(conn, username, at, "ok", client)
    token = secrets.token_urlsafe(32)
    expires_at = at + timedelta(hours=settings.session_hours)
    conn.execute(
        sql_text("auth/session_insert"),
        {"token_hash": token_hash(token), "username": username, "now": at, "expires_at": expires_at},
    )
    return Session(token=token, actor=Actor(username, role), expires_at=expires_at)


def session_actor(conn: Connection, token: str | None, *, now: datetime | None = None) -> Actor | None:
    """Who holds this token now: None when unknown, expired, signed out or removed."""
    if not token:
        return None
    row = conn.execute(
        sql_text("auth/session_actor"), {"token_hash": token_hash(token), "now": _clock(now)}
    ).first()
    return Actor(row.username, row.role) if row else None


def logout(conn: Connection, token: str | None, *, now: datetime | None = None) -> bool:
    """End a session; True when it was open."""
    if not token:
        return False
    result = conn.execute(
        sql_text("auth/session_revoke"), {"token_hash": token_hash(token), "now": _clock(now)}
    )
    return bool(result.rowcount)


def record_sso_login(engine: Engine, actor: Actor, *, now: datetime | None = None) -> None:
    """Note a single sign-on in login_attempts (once per browser session, by the caller)."""
    with engine.begin() as conn:
        _attempt(conn, actor.username, _clock(now), "sso", "sso")
