"""SLA (delivery promise) figures of contracts/METRICS.md, section "SLA".

An order is in the window when its `created_at` (its earliest `retail.order.created`
with `time <= as_of`) is in `[since, until)`; only events with `time <= as_of` count.

- `orders`: orders in the window not cancelled at `as_of`.
- `delivered`, `cancelled`: orders in the window with a `retail.order.delivered`
  (resp. `retail.order.cancelled`) event by `as_of`. Both count every order in the
  window, so an order delivered and then cancelled counts in both.
- `breached`: of `orders`, delivered after `promised_by` (the earliest delivered
  event is the delivery), or not delivered and `as_of > promised_by`.
- `at_risk`: of `orders`, not delivered, not breached, not shipped, and
  `promised_by - as_of < at_risk_hours` (strict), where at_risk_hours is the order's
  channel's own value when one is set (`Policies.scoped`), else the deployment's.

Scope (metrics/scoping.py): channel = the created event's channel, node = the order's
current node at `as_of` (None never matches a node filter), region = that node's region
at `as_of`; source does not apply.

SQL: sql/metrics/sla_summary.sql, sla_by_channel.sql, sla_by_node.sql; each is read from
the projection order_facts instead (orders_summary_projected.sql for the summary, the
Fulfilment page's one pass, metrics.fulfilment, for the breakdowns), exact for any as_of
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
    return {**window.params(), **scope.params(), "at_risk_hours": policies.at_risk_hours}


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """{"orders", "delivered", "cancelled", "breached", "breach_rate", "at_risk"}."""
    if use_projections:  # with the reroutes summary, from one scan of order_facts
        return dict(fulfilment.summaries(conn, window, policies, scope=scope)["sla"])
    params = {**_params(window, policies, scope), **policies.scoped_params("at_risk_hours")}
    row = conn.execute(sql_text("metrics/sla_summary"), params).one()
    orders = int(row.orders)
    breached = int(row.breached)
    return {
        "orders": orders,
        "delivered": int(row.delivered),
        "cancelled": int(row.cancelled),
        "breached": breached,
        "breach_rate": breached / orders if orders else 0.0,
        "at_risk": int(row.at_risk),
    }


def by_channel(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> pl.DataFrame:
    """One row per channel of the created event: channel, orders, breached, breach_rate."""
    if use_projections:  # the Fulfilment page's one pass (metrics.fulfilment)
        frame: pl.DataFrame = fulfilment.figures(conn, window, policies, scope=scope)["by_channel"]
        return frame
    return query_frame(conn, "metrics/sla_by_channel", **_params(window, policies, scope))


def by_node(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> pl.DataFrame:
    """One row per current node: node (null: never routed by `as_of`), orders, breached, breach_rate.

    The current node is the node of the order's latest `routed` or `rerouted` event with
    `time <= as_of` (ties broken by arrival order).
    """
    if use_projections:  # the Fulfilment page's one pass (metrics.fulfilment)
        frame: pl.DataFrame = fulfilment.figures(conn, window, policies, scope=scope)["by_node"]
        return frame
    return query_frame(conn, "metrics/sla_by_node", **_params(window, policies, scope))
