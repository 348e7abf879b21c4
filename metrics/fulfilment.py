"""The Fulfilment & SLA page's figures in one pass (sql/metrics/fulfilment_figures_projected.sql).

The same figures as `sla.summary`, `sla.by_channel`, `sla.by_node`, `reroutes.summary` and
`reroutes.breakdowns` (contracts/METRICS.md "Order SLA" and "Order reroutes", with their
rules), read from the projection order_facts in ONE scan of the window's orders instead of
four. `summaries` gives the two summaries alone, from a plain scan (the projected path of
`sla.summary` and `reroutes.summary`). tests/test_breakdown_paths.py and
tests/test_scope_paths.py check them against the events path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl

_SLA_COLUMNS = ("orders", "breached")
_REROUTE_COLUMNS = ("reroutes", "rerouted_orders")


def figures(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> dict[str, Any]:
    """{"sla": sla.summary's dict, "by_channel", "by_node": sla.by_channel/by_node's frames,
    "reroutes": reroutes.summary's dict, "by_reason", "by_from_node": reroutes.breakdowns'
    frames}."""
    import polars as pl

    frame = query_frame(conn, "metrics/fulfilment_figures_projected", **_params(window, policies, scope))
    return {
        **_summaries(frame.filter(pl.col("dimension") == "all").row(0, named=True)),
        "by_channel": _sla_rows(frame, "channel"),
        "by_node": _sla_rows(frame, "node"),
        "by_reason": _reroute_rows(frame, "reason"),
        "by_from_node": _reroute_rows(frame, "from_node"),
    }


def summaries(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> dict[str, Any]:
    """{"sla": sla.summary's dict, "reroutes": reroutes.summary's dict} from one scan
    (sql/metrics/orders_summary_projected.sql: `ctower metrics`, the Overview, and the
    projected path of sla.summary and reroutes.summary)."""
    row = conn.execute(sql_text("metrics/orders_summary_projected"), _params(window, policies, scope)).one()
    return _summaries(row._asdict())


def _params(window: Window, policies: Policies, scope: Scope) -> dict[str, Any]:
    return {
        **window.params(),
        **scope.params(),
        "at_risk_hours": policies.at_risk_hours,
        **policies.scoped_params("at_risk_hours"),
        "repeated_reroute_count": policies.repeated_reroute_count,
    }


def _summaries(whole: dict[str, Any]) -> dict[str, Any]:
    """The two summaries' dicts from the figures of one row."""
    orders, breached, rerouted = int(whole["orders"]), int(whole["breached"]), int(whole["rerouted_orders"])
    return {
        "sla": {
            "orders": orders,
            "delivered": int(whole["delivered"]),
            "cancelled": int(whole["cancelled"]),
            "breached": breached,
            "breach_rate": breached / orders if orders else 0.0,
            "at_risk": int(whole["at_risk"]),
        },
        "reroutes": {
            "reroutes": int(whole["reroutes"]),
            "rerouted_orders": rerouted,
            "repeated": int(whole["repeated"]),
            "rate": rerouted / orders if orders else 0.0,
        },
    }


def _sla_rows(frame: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """channel or node, orders, breached, breach_rate: sla.by_channel / sla.by_node's shape."""
    import polars as pl

    return (
        frame.filter(pl.col("dimension") == dimension)
        .select(
            pl.col("key").cast(pl.Utf8).alias(dimension), *(pl.col(c).cast(pl.Int64) for c in _SLA_COLUMNS)
        )
        .with_columns((pl.col("breached") / pl.col("orders")).alias("breach_rate"))
    )


def _reroute_rows(frame: pl.DataFrame, dimension: str) -> pl.DataFrame:
    """reason or from_node, reroutes, rerouted_orders: reroutes.breakdowns' shape."""
    import polars as pl

    return frame.filter(pl.col("dimension") == dimension).select(
        pl.col("key").cast(pl.Utf8).alias(dimension), *(pl.col(c).cast(pl.Int64) for c in _REROUTE_COLUMNS)
    )
