"""The run log (`collector_runs`) and each source's health (`source_health`).

A run is written 'running' when it starts and finished with its counts, status and error.
A successful run makes its source 'up' and resets its failures; each failed run adds one,
and after `collector_down_after` in a row (setting, default 3) the source is 'down', said
once in the log. A paused source shows 'paused' whatever its runs did.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from app.db.engine import sql_text
from collectors.base import Cursor

log = logging.getLogger("ctower.collectors")


@dataclass
class RunResult:
    """What one run of one source did (one row of `collector_runs`)."""

    source: str
    run_id: uuid.UUID
    started_at: datetime
    status: str = "running"  # running, ok, failed, skipped; 'paused' when not run at all
    finished_at: datetime | None = None
    pages: int = 0
    read: int = 0  # native records read
    accepted: int = 0  # canonical events stored (the telemetry events not counted)
    duplicate: int = 0
    quarantined: int = 0
    attempts: int = 0  # fetch attempts, retries included
    telemetry: int = 0  # retail.integration.call events about the pull stored
    error: str | None = None
    cursor_before: Cursor = None
    cursor_after: Cursor = None
    last_event_time: datetime | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped", "paused")

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("last_event_time")
        out["run_id"] = str(self.run_id)
        for key in ("started_at", "finished_at"):
            value = out[key]
            out[key] = value.isoformat().replace("+00:00", "Z") if value else None
        return out


def _json(value: Cursor) -> str:
    return orjson.dumps(value, default=str).decode()


def mark_interrupted(conn: Connection, source: str) -> int:
    """Close the runs left 'running' by a process that ended mid-run (call holding the lock)."""
    return conn.execute(sql_text("collectors/runs_interrupted"), {"source": source}).rowcount


def start_run(engine: Engine, result: RunResult) -> None:
    with engine.begin() as conn:
        mark_interrupted(conn, result.source)
        conn.execute(
            sql_text("collectors/run_start"),
            {
                "run_id": result.run_id,
                "source": result.source,
                "started_at": result.started_at,
                "cursor_before": _json(result.cursor_before),
            },
        )


def finish_run(engine: Engine, result: RunResult) -> None:
    with engine.begin() as conn:
        conn.execute(
            sql_text("collectors/run_finish"),
            {
                "run_id": result.run_id,
                "finished_at": result.finished_at,
                "status": result.status,
                "pages": result.pages,
                "read": result.read,
                "accepted": result.accepted,
                "duplicate": result.duplicate,
                "quarantined": result.quarantined,
                "attempts": result.attempts,
                "error": result.error,
                "cursor_after": _json(result.cursor_after),
            },
        )


def record_skipped(engine: Engine, result: RunResult, reason: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sql_text("collectors/run_skipped"),
            {"run_id": result.run_id, "source": result.source, "at": result.started_at, "reason": reason},
        )


def record_health(engine: Engine, result: RunResult, *, paused: bool, down_after: int) -> str:
    """Update the source's health after a finished run; returns its status."""
    at = result.finished_at or result.started_at
    with engine.begin() as conn:
        if result.status == "ok":
            conn.execute(
                sql_text("collectors/health_success"),
                {
                    "source": result.source,
                    "at": at,
                    "paused": paused,
                    "last_event_time": result.last_event_time,
                },
            )
            return "paused" if paused else "up"
        row = conn.execute(
            sql_text("collectors/health_failure"),
            {
                "source": result.source,
                "at": at,
                "paused": paused,
                "down_after": down_after,
                "error": result.error,
            },
        ).one()
    if row.status == "down" and row.consecutive_failures == down_after:
        log.error(
            "source %s is down: %d failed runs in a row, the last: %s",
            result.source,
            row.consecutive_failures,
            result.error,
        )
    return str(row.status)


@dataclass(frozen=True)
class SourceStatus:
    """One line of `ctower sources`."""

    name: str
    kind: str | None
    schedule_seconds: float | None
    enabled: bool
    paused: bool
    status: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_event_time: datetime | None
    lag: timedelta | None


def statuses(engine: Engine, as_of: datetime) -> list[SourceStatus]:
    """Every source with its health; `lag` is `as_of` minus the newest business time read."""
    with engine.connect() as conn:
        rows = conn.execute(sql_text("collectors/sources_status"), {"as_of": as_of})
        return [SourceStatus(**row._asdict()) for row in rows]
