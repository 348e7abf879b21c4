"""The exception workflow: acknowledge, assign, snooze, resolve (local state + audit).

Applied at once in the request's transaction (no outbox, no approval): `exception_ack`
(open -> acknowledged), `exception_assign` {assignee}, `exception_snooze` {until: a time
after now, or none to wake it}, `exception_resolve` (open or acknowledged -> resolved; the
detectors reopen it when the condition is seen again). Status changes go through
metrics.exception_queue, so they are in the exception's own history too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from app.actions.base import Family, Invalid, short_time
from app.auth.roles import Actor
from app.db.engine import sql_text
from metrics import exception_queue

KINDS = ("exception_ack", "exception_assign", "exception_snooze", "exception_resolve")


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise Invalid(f"not a time: {value!r} (use ISO 8601 with an offset)") from None
    if moment.tzinfo is None:
        raise Invalid(f"a time needs an offset: {value!r}")
    return moment


class Exceptions(Family):
    kinds = KINDS
    entity_kind = "exception"
    local = True

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        row = conn.execute(sql_text("actions/exception_state"), {"key": key}).first()
        if row is None:
            raise Invalid(f"no exception {key!r}")
        return {
            "key": key,
            "status": row.status,
            "assignee": row.assignee,
            "snoozed_until": row.snoozed_until.isoformat() if row.snoozed_until else None,
            "resolved_by": row.resolved_by,
        }

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        status = state["status"]
        if kind == "exception_ack":
            if status != "open":
                raise Invalid(f"{key} is {status}: only an open exception can be acknowledged")
            return {}
        if kind == "exception_resolve":
            if status == "resolved":
                raise Invalid(f"{key} is resolved already")
            return {}
        if status == "resolved":
            raise Invalid(f"{key} is resolved: nothing to {kind.removeprefix('exception_')}")
        if kind == "exception_assign":
            assignee = str(params.get("assignee") or "").strip()
            if not assignee:
                raise Invalid("assign to whom? (assignee is blank)")
            return {"assignee": assignee}
        until = _time(params.get("until"))
        return {"until": until.isoformat() if until else None}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        if kind == "exception_ack":
            return [f"{key}: open -> acknowledged"]
        if kind == "exception_resolve":
            return [f"{key}: {state['status']} -> resolved"]
        if kind == "exception_assign":
            return [f"{key}: assigned to {params['assignee']} (was {state['assignee'] or 'nobody'})"]
        until = params["until"]
        return [f"{key}: snoozed until {short_time(until)}" if until else f"{key}: snooze cleared"]

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        if seen.get("status") != state.get("status"):
            by = f" (by {state['resolved_by']})" if state.get("resolved_by") else ""
            return f"{key} is now {state.get('status')}{by}, not {seen.get('status')} as shown"
        if seen.get("assignee") != state.get("assignee"):
            return f"{key} is now assigned to {state.get('assignee')}, not {seen.get('assignee')} as shown"
        return super().stale(key, seen, state)

    def apply(
        self,
        conn: Connection,
        actor: Actor,
        kind: str,
        key: str,
        params: dict[str, Any],
        state: dict[str, Any],
        at: datetime,
        reason: str,
    ) -> dict[str, Any]:
        note = reason
        if kind == "exception_ack":
            exception_queue.acknowledge(conn, key, actor.username, note, at)
        elif kind == "exception_resolve":
            exception_queue.resolve(conn, key, actor.username, note, at)
        elif kind == "exception_assign":
            conn.execute(
                sql_text("actions/exception_set_assignee"), {"key": key, "assignee": params["assignee"]}
            )
        else:
            conn.execute(sql_text("actions/exception_set_snooze"), {"key": key, "until": params["until"]})
        return self.state(conn, key)


FAMILY = Exceptions()


def workflow(engine: Engine, key: str) -> dict[str, Any]:
    """The exception's workflow state now: status, assignee, snoozed_until, resolved_by."""
    with engine.connect() as conn:
        return FAMILY.state(conn, key)
