"""Integration health (contracts/METRICS.md, "Integration health").

`summary` gives the totals of the `ctower metrics --json` object; `by_interface` and
`delayed_by_source` the breakdowns. SQL in sql/metrics/integrations_*.sql.

The summary is read from the projections (integrations_summary_projected.sql): calls,
failures and delayed events from hourly rollups plus the window's partial edge hours from
events, exact for any as_of; failed deliveries from delivery_facts when no projected call
is later than as_of, else from call_facts (migration 0018, one narrow row per call, kept at
ingest). `by_interface` (calls, failures and exact latency percentiles) reads call_facts too.
`use_projections=False` reads everything from events.

Scope (metrics/scoping.py): source = the `data.source_system` of the calls (calls,
failures, failed deliveries over that source's calls only; per interface likewise) and the
event `source` of delayed events, read from the per-source rollups of migration 0013
(interface_calls_hourly_by_source, event_lag_hourly_by_source) with the same edge rule;
failed deliveries and per-interface figures of one source from call_facts.source_system.
Region, channel and node do not apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics import projections
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl


def _params(window: Window, policies: Policies, scope: Scope = ALL) -> dict[str, Any]:
    return {
        **window.params(),
        "source": scope.source,
        "max_event_lag_minutes": policies.max_event_lag_minutes,
    }


def _projected_params(conn: Connection, window: Window, policies: Policies, scope: Scope) -> dict[str, Any]:
    hours_from, hours_to = projections.whole_hours(window.since, window.until, window.as_of)
    bucket = projections.lag_bucket(policies.max_event_lag_minutes)
    return {
        **_params(window, policies, scope),
        "hours_from": hours_from,
        "hours_to": hours_to,
        "deliveries_current": projections.horizons(conn).deliveries_at(window.as_of),
        "lag_rollup": bucket is not None,
        "lag_bucket": bucket or 0,
    }


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """calls, failures, failure_rate (0.0 without calls), failed_deliveries, delayed_events."""
    if use_projections:
        params = _projected_params(conn, window, policies, scope)
        row = conn.execute(sql_text("metrics/integrations_summary_projected"), params).one()
    else:
        row = conn.execute(sql_text("metrics/integrations_summary"), _params(window, policies, scope)).one()
    calls, failures = int(row.calls), int(row.failures)
    return {
        "calls": calls,
        "failures": failures,
        "failure_rate": failures / calls if calls else 0.0,
        "failed_deliveries": int(row.failed_deliveries),
        "delayed_events": int(row.delayed_events),
    }


def by_interface(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> pl.DataFrame:
    """Per interface: calls, failures, failure_rate, latency_p50_ms, latency_p95_ms.

    From call_facts (migration 0018, one narrow row per call: exact percentiles for any
    as_of), or from events with `use_projections=False`.
    """
    query = "metrics/integrations_by_interface" + ("_projected" if use_projections else "")
    return query_frame(conn, query, **_params(window, policies, scope))


def delayed_by_source(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> pl.DataFrame:
    """Per source with at least one delayed event: source, delayed_events.

    From event_lag_hourly_by_source and the window's edges when max_event_lag_minutes is a
    lag bucket (integrations_delayed_by_source_projected.sql), else from events.
    """
    if use_projections and projections.lag_bucket(policies.max_event_lag_minutes) is not None:
        hours_from, hours_to = projections.whole_hours(window.since, window.until, window.as_of)
        bucket = projections.lag_bucket(policies.max_event_lag_minutes)
        params = {**_params(window, policies, scope), "hours_from": hours_from, "hours_to": hours_to}
        query = "metrics/integrations_delayed_by_source_projected"
        return query_frame(conn, query, lag_bucket=bucket, **params)
    return query_frame(conn, "metrics/integrations_delayed_by_source", **_params(window, policies, scope))
