"""Reroute figures of contracts/METRICS.md, section "Reroutes".

Over orders in the window (as in metrics/sla.py: earliest `retail.order.created` with
`time <= as_of` in `[since, until)`), cancelled orders included, counting their
`retail.order.rerouted` events with `time <= as_of`, whenever in the order's life:

- `reroutes`: the number of those events.
- `rerouted_orders`: orders with at least one.
- `repeated`: orders with `repeated_reroute_count` (policy, default 2) or more.
- `rate` = `rerouted_orders / orders`, where `orders` is the SLA figure (in the window,
  not cancelled at `as_of`); 0.0 when `orders` is 0.

Scope (metrics/scoping.py): as SLA, over the same orders: channel = the created event's
channel, node = the order's CURRENT node at `as_of` (not a reroute's from_node or
to_node: an order rerouted from A to B counts for B), region = that node's region. So the
rate's numerator and denominator are over one set of orders, and the SLA and reroute
tiles of one node add up. The by_from_node breakdown still groups by from_node, over the
orders the scope selects. Source does not apply.

SQL: sql/metrics/reroutes_summary.sql, reroutes_by_reason.sql, reroutes_by_from_node.sql; the
summary is read from the projection order_facts (orders_summary_projected.sql), and both
breakdowns together (`breakdowns()`, in the Fulfilment page's one pass, metrics.fulfilment:
order_facts for the orders of the window, reroute_facts of the rerouted ones only), exact for any as_of
(metrics/projections.py), unless `use_projections=False`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics import fulfilment
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl


def _params(window: Window, policies: Policies, scope: Scope) -> dict[str, Any]:
    return {**window.params(), **scope.params(), "repeated_reroute_count": policies.repeated_reroute_count}


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """{"reroutes", "rerouted_orders", "repeated", "rate"}."""
    if use_projections:  # with the SLA summary, from one scan of order_facts
        return dict(fulfilment.summaries(conn, window, policies, scope=scope)["reroutes"])
    row = conn.execute(sql_text("metrics/reroutes_summary"), _params(window, policies, scope)).one()
    orders = int(row.orders)
    rerouted_orders = int(row.rerouted_orders)
    return {
        "reroutes": int(row.reroutes),
        "rerouted_orders": rerouted_orders,
        "repeated": int(row.repeated),
        "rate": rerouted_orders / orders if orders else 0.0,
    }


def breakdowns(
    conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL
) -> dict[str, pl.DataFrame]:
    """`by_reason()` and `by_from_node()` ("reason", "from_node") from the projections, in
    the Fulfilment page's one pass (metrics.fulfilment)."""
    found = fulfilment.figures(conn, window, policies, scope=scope)
    return {"reason": found["by_reason"], "from_node": found["by_from_node"]}


def by_reason(
    conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL, use_projections: bool = True
) -> pl.DataFrame:
    """One row per reroute reason: reason, reroutes (events), rerouted_orders (distinct orders)."""
    if use_projections:
        return breakdowns(conn, window, policies, scope=scope)["reason"]
    return query_frame(conn, "metrics/reroutes_by_reason", **_params(window, policies, scope))


def by_from_node(
    conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL, use_projections: bool = True
) -> pl.DataFrame:
    """One row per node rerouted away from: from_node, reroutes (events), rerouted_orders."""
    if use_projections:
        return breakdowns(conn, window, policies, scope=scope)["from_node"]
    return query_frame(conn, "metrics/reroutes_by_from_node", **_params(window, policies, scope))
