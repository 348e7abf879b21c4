"""Integration health (contracts/METRICS.md, "Integration health").

`summary` gives the totals of the `ctower metrics --json` object; `by_interface` and
`delayed_by_source` the breakdowns. SQL in sql/metrics/integrations_*.sql.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics.params import Policies, Window

if TYPE_CHECKING:
    import polars as pl


def _params(window: Window, policies: Policies) -> dict[str, Any]:
    return {**window.params(), "max_event_lag_minutes": policies.max_event_lag_minutes}


def summary(conn: Connection, window: Window, policies: Policies) -> dict[str, Any]:
    """calls, failures, failure_rate (0.0 without calls), failed_deliveries, delayed_events."""
    row = conn.execute(sql_text("metrics/integrations_summary"), _params(window, policies)).one()
    calls, failures = int(row.calls), int(row.failures)
    return {
        "calls": calls,
        "failures": failures,
        "failure_rate": failures / calls if calls else 0.0,
        "failed_deliveries": int(row.failed_deliveries),
        "delayed_events": int(row.delayed_events),
    }


def by_interface(conn: Connection, window: Window, policies: Policies) -> pl.DataFrame:
    """Per interface: calls, failures, failure_rate, latency_p50_ms, latency_p95_ms."""
    return query_frame(conn, "metrics/integrations_by_interface", **_params(window, policies))


def delayed_by_source(conn: Connection, window: Window, policies: Policies) -> pl.DataFrame:
    """Per source with at least one delayed event: source, delayed_events."""
    return query_frame(conn, "metrics/integrations_delayed_by_source", **_params(window, policies))
