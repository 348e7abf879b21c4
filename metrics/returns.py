"""Returns (contracts/METRICS.md, "Inbound and returns"). SQL in sql/metrics/returns_*.sql.

A return's receipt and restock are its first `retail.return.received` and first
`retail.return.restocked` with time <= as_of. Read from the projection return_facts
(returns_*_projected.sql), exact for any as_of, unless `use_projections=False`.

Scope (metrics/scoping.py): node = the location of the return's first receipt (projection
return_nodes, migration 0013), region = that location's region at `as_of`; channel and
source do not apply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from app.db.engine import sql_text
from metrics.params import ALL, Policies, Scope, Window


def _params(window: Window, policies: Policies, scope: Scope = ALL) -> dict[str, Any]:
    return {
        **window.params(),
        "region": scope.region,
        "node": scope.node,
        "return_to_stock_hours": policies.return_to_stock_hours,
    }


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """returns, restocked, slow_returns of the returns received in the window."""
    query = "metrics/returns_summary_projected" if use_projections else "metrics/returns_summary"
    row = conn.execute(sql_text(query), _params(window, policies, scope)).one()
    return {
        "returns": int(row.returns),
        "restocked": int(row.restocked),
        "slow_returns": int(row.slow_returns),
    }


def lag_hours(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, float | None]:
    """Return-to-stock lag in hours, p50 and p90, over restocked returns of the window.

    Both are None when no return of the window is restocked by as_of.
    """
    query = "metrics/returns_lag_projected" if use_projections else "metrics/returns_lag"
    params = {**window.params(), "region": scope.region, "node": scope.node}
    row = conn.execute(sql_text(query), params).one()
    return {
        "p50_hours": None if row.p50_hours is None else float(row.p50_hours),
        "p90_hours": None if row.p90_hours is None else float(row.p90_hours),
    }
