"""Retry failed integration deliveries: one (`retry`, entity `delivery` 'interface|id'), or
all that match a filter (`retry_all`, entity `interface`: the interface or '*').

A failed delivery is an (interface, correlation_id) whose latest call is error or timeout
(delivery_facts). The preview lists exactly the deliveries that will be resent, and the
request carries that list: a filter that matches other deliveries by the time it is sent
is refused as stale. The middleware resends each; a later ok call confirms it. Not priced.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Command, Family, Invalid
from app.db.engine import sql_text

MAX_DELIVERIES = 500
FILTERS = ("interface", "error_code", "since", "until")


def failed_deliveries(
    conn: Connection,
    *,
    interface: str | None = None,
    correlation_id: str | None = None,
    error_code: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    limit: int = MAX_DELIVERIES,
) -> list[dict[str, Any]]:
    params = {
        "interface": interface or None,
        "correlation_id": correlation_id or None,
        "error_code": error_code or None,
        "since": since or None,
        "until": until or None,
        "limit": limit,
    }
    rows = conn.execute(sql_text("actions/failed_deliveries"), params)
    return [
        {
            "interface": r.interface,
            "correlation_id": r.correlation_id,
            "status": r.last_status,
            "error_code": r.error_code,
            "last_call_at": r.last_call_at.isoformat(),
            "calls": r.calls,
        }
        for r in rows
    ]


def _pairs(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["interface"], d["correlation_id"]) for d in state.get("deliveries", [])]


class RetryOne(Family):
    kinds = ("retry",)
    entity_kind = "delivery"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        interface, bar, correlation_id = key.partition("|")
        if not bar or not interface or not correlation_id:
            raise Invalid(f"a delivery is INTERFACE|CORRELATION_ID, got {key!r}")
        found = failed_deliveries(conn, interface=interface, correlation_id=correlation_id, limit=1)
        return {"delivery": key, "deliveries": found}

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        if not state["deliveries"]:
            raise Invalid(f"{key} is not a failed delivery (its latest call is ok, or it is unknown)")
        return {}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        return [f"resend {i} for {c}" for i, c in _pairs(state)]

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        if seen.get("deliveries") and not state.get("deliveries"):
            return f"{key} is no longer failed: its latest call is ok"
        return f"{key} has had another call since it was shown"

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        return [
            Command("middleware", {"kind": "retry", "interface": i, "correlation_id": c})
            for i, c in _pairs(state)
        ]


class RetryAll(RetryOne):
    kinds = ("retry_all",)
    entity_kind = "interface"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        chosen = {k: (params or {}).get(k) or None for k in FILTERS}
        if key != "*":
            chosen["interface"] = key
        found = failed_deliveries(
            conn,
            interface=chosen["interface"],
            error_code=chosen["error_code"],
            since=chosen["since"],
            until=chosen["until"],
        )
        return {"filter": chosen, "deliveries": found}

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        if not state["deliveries"]:
            raise Invalid("no failed delivery matches the filter")
        return dict(state["filter"])

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        before, now = set(map(tuple, _pairs(seen))), set(map(tuple, _pairs(state)))
        parts = [f"the filter now matches {len(now)} failed deliveries, not {len(before)} as shown"]
        if now - before:
            parts.append("new: " + ", ".join(f"{i}|{c}" for i, c in sorted(now - before)[:5]))
        if before - now:
            parts.append("no longer failed: " + ", ".join(f"{i}|{c}" for i, c in sorted(before - now)[:5]))
        return "; ".join(parts)


ONE = RetryOne()
ALL = RetryAll()
