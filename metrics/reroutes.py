"""Reroute figures of contracts/METRICS.md, section "Reroutes".

Over orders in the window (as in metrics/sla.py: earliest `retail.order.created` with
`time <= as_of` in `[since, until)`), cancelled orders included, counting their
`retail.order.rerouted` events with `time <= as_of`, whenever in the order's life:

- `reroutes`: the number of those events.
- `rerouted_orders`: orders with at least one.
- `repeated`: orders with `repeated_reroute_count` (policy, default 2) or more.
- `rate` = `rerouted_orders / orders`, where `orders` is the SLA figure (in the window,
  not cancelled at `as_of`); 0.0 when `orders` is 0.

SQL: sql/metrics/reroutes_summary.sql, reroutes_by_reason.sql, reroutes_by_from_node.sql; the
summary is read from the projection order_facts (reroutes_summary_projected.sql), exact for
any as_of (metrics/projections.py), unless `use_projections=False`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics.params import Policies, Window

if TYPE_CHECKING:
    import polars as pl


def _params(window: Window, policies: Policies) -> dict[str, Any]:
    return {**window.params(), "repeated_reroute_count": policies.repeated_reroute_count}


def summary(
    conn: Connection, window: Window, policies: Policies, *, use_projections: bool = True
) -> dict[str, Any]:
    """{"reroutes", "rerouted_orders", "repeated", "rate"}."""
    query = "metrics/reroutes_summary_projected" if use_projections else "metrics/reroutes_summary"
    row = conn.execute(sql_text(query), _params(window, policies)).one()
    orders = int(row.orders)
    rerouted_orders = int(row.rerouted_orders)
    return {
        "reroutes": int(row.reroutes),
        "rerouted_orders": rerouted_orders,
        "repeated": int(row.repeated),
        "rate": rerouted_orders / orders if orders else 0.0,
    }


def by_reason(conn: Connection, window: Window, policies: Policies) -> pl.DataFrame:
    """One row per reroute reason: reason, reroutes (events), rerouted_orders (distinct orders)."""
    return query_frame(conn, "metrics/reroutes_by_reason", **_params(window, policies))


def by_from_node(conn: Connection, window: Window, policies: Policies) -> pl.DataFrame:
    """One row per node rerouted away from: from_node, reroutes (events), rerouted_orders."""
    return query_frame(conn, "metrics/reroutes_by_from_node", **_params(window, policies))
