"""The outbox dispatcher: send due commands to the systems that own them, then confirm them.

`dispatch_once(engine, now=..., base_url=..., http=...) -> counts` is one unit of work,
safe to run in several processes at once (rows are taken with FOR UPDATE SKIP LOCKED):

- every pending row due at `now` is POSTed to base_url + its endpoint, one transaction a row;
- 2xx, or 409 (the system applied that command_id before): sent;
- 422 or another 4xx (the system refused it; resending cannot help): failed, with its reason;
- 5xx, 429, timeout, refused connection: resent later, after backoff x 2^(attempt-1) capped
  at backoff_max; failed after `attempts` sends, with the last error;
- then `confirm_once`: a sent command whose effect has come back as a collected event is
  confirmed (sql/outbox/confirm.sql says which event confirms which command).

The action follows its commands: all sent -> sent, all confirmed -> confirmed, any failed ->
failed (the family undoes its local bookkeeping, e.g. a hold). Each change of an action is
audited (actor ctower/outbox) in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from app import audit
from app.db.engine import sql_text
from app.outbox.http import PostClient, UrllibClient
from app.settings import Settings, load_settings

log = logging.getLogger("ctower.outbox")
ACTOR, ROLE = "ctower/outbox", "system"
MAX_ERROR = 300


def backoff(attempt: int, settings: Settings) -> timedelta:
    """The wait after the `attempt`-th failed send: base x 2^(attempt-1), at most the cap."""
    seconds = settings.outbox_backoff_seconds * 2 ** (attempt - 1)
    return timedelta(seconds=min(seconds, settings.outbox_backoff_max_seconds))


def _reason(status: int, body: bytes) -> str:
    try:
        answer = orjson.loads(body)
        text = answer.get("reason") or answer.get("error") or body.decode()[:200]
    except (orjson.JSONDecodeError, AttributeError, UnicodeDecodeError):
        text = body[:200].decode(errors="replace")
    return f"HTTP {status}: {text}"[:MAX_ERROR]


def dispatch_once(
    engine: Engine,
    *,
    now: datetime | None = None,
    base_url: str | None = None,
    http: PostClient | None = None,
    settings: Settings | None = None,
    timeout: float = 10.0,
    limit: int = 1000,
) -> dict[str, int]:
    """Send what is due, then confirm what came back; counts of sent, retried, failed, confirmed."""
    settings = settings or load_settings()
    at = now or datetime.now(UTC)
    base = (base_url or settings.commands_url).rstrip("/")
    client = http or UrllibClient()
    counts = {"sent": 0, "retried": 0, "failed": 0, "confirmed": 0}
    for _ in range(limit):
        with engine.begin() as conn:
            row = conn.execute(sql_text("outbox/next_due"), {"now": at}).first()
            if row is None:
                break
            outcome = _send(conn, row, base, client, at, settings, timeout)
            counts[outcome] += 1
            _follow(conn, row.action_id, at)
    counts["confirmed"] = confirm_once(engine, now=at)
    return counts


def _send(
    conn: Connection,
    row: Any,
    base: str,
    client: PostClient,
    at: datetime,
    settings: Settings,
    timeout: float,
) -> str:
    after_seq = conn.execute(sql_text("outbox/events_seq")).scalar_one()
    url = base + row.endpoint
    try:
        status, body = client.post(url, row.command.encode(), timeout)
        error = None if 200 <= status < 300 or status == 409 else _reason(status, body)
        final = error is not None and 400 <= status < 500 and status != 429
    except OSError as exc:  # refused, reset, timeout (socket.timeout, URLError are OSErrors)
        reason = getattr(exc, "reason", None) or exc  # URLError wraps the socket's error
        status, error, final = 0, f"cannot reach {url}: {reason}"[:MAX_ERROR], False
    attempt = row.attempts + 1
    if error is None:
        note = "already applied (409)" if status == 409 else None
        conn.execute(
            sql_text("outbox/mark_sent"),
            {"outbox_id": row.outbox_id, "now": at, "after_seq": after_seq, "note": note},
        )
        return "sent"
    if final or attempt >= settings.outbox_attempts:
        if not final:
            error = f"gave up after {attempt} attempts: {error}"
        conn.execute(sql_text("outbox/mark_failed"), {"outbox_id": row.outbox_id, "error": error})
        log.warning("outbox %s failed: %s", row.command_id, error)
        return "failed"
    conn.execute(
        sql_text("outbox/mark_retry"),
        {"outbox_id": row.outbox_id, "next_attempt_at": at + backoff(attempt, settings), "error": error},
    )
    return "retried"


def _follow(conn: Connection, action_id: int, at: datetime) -> None:
    """Move the action to where its commands are, audited; undo bookkeeping on failure."""
    from app.actions.core import Action
    from app.actions.registry import family

    action = Action.of(conn.execute(sql_text("actions/lock"), {"action_id": action_id}).one())
    p = conn.execute(sql_text("outbox/action_progress"), {"action_id": action_id}).one()
    if p.failed:
        status, error = "failed", f"{p.failed} of {p.commands} command(s) failed: {p.error}"
    elif p.confirmed == p.commands:
        status, error = "confirmed", None
    elif p.pending == 0:
        status, error = "sent", None
    else:
        return
    if status == action.status or action.status in ("failed", "confirmed", "rejected"):
        return
    conn.execute(sql_text("actions/set_status"), {"action_id": action_id, "status": status, "error": error})
    if status == "failed":
        family(action.kind).on_failed(conn, action.as_dict(), at)
    audit.record(
        conn,
        actor=ACTOR,
        role=ROLE,
        action=f"{action.kind}.{status}",
        entity_kind=action.entity_kind,
        entity_key=action.entity_key,
        reason=error or "",
        before={"status": action.status},
        after={"status": status, **({"error": error} if error else {})},
        detail={"action_id": action_id, "commands": p.commands, "confirmed": p.confirmed},
        at=at,
    )


def confirm_once(engine: Engine, *, now: datetime | None = None) -> int:
    """Confirm the sent commands whose effect is in the store; how many were confirmed."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        rows = conn.execute(sql_text("outbox/confirm"), {"now": at}).all()
        for action_id in sorted({r.action_id for r in rows}):
            _follow(conn, action_id, at)
    return len(rows)
