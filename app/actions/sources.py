"""Pause or resume a collector source (admin only; local state + audit).

Applied at once: the scheduler stops (or starts again) collecting it at its next sync.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Family, Invalid
from app.auth.roles import Actor
from app.db.engine import sql_text
from app.settings import load_settings


class Sources(Family):
    kinds = ("source_pause", "source_resume")
    entity_kind = "source"
    permission = "admin"
    local = True

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        row = conn.execute(sql_text("actions/source_state"), {"name": key}).first()
        if row is None:
            raise Invalid(f"no source {key!r}")
        return {"source": key, "paused": bool(row.paused)}

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        pausing = kind == "source_pause"
        if state["paused"] == pausing:
            raise Invalid(f"{key} is {'paused' if pausing else 'running'} already")
        return {}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        if kind == "source_pause":
            return [f"{key} is no longer collected until resumed"]
        return [f"{key} is collected again from its cursor"]

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        now = "paused" if state.get("paused") else "running"
        was = "paused" if seen.get("paused") else "running"
        return f"{key} is now {now}, not {was} as shown"

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
        conn.execute(
            sql_text("collectors/source_set_paused"),
            {
                "name": key,
                "paused": kind == "source_pause",
                "down_after": load_settings().collector_down_after,
            },
        )
        return self.state(conn, key)


FAMILY = Sources()
