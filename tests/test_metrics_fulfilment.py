"""The Fulfilment & SLA page's one-pass figures (metrics.fulfilment) on a hand-built week.

The random estates of tests/test_breakdown_paths.py check the pass against the events
path; this week checks each figure against numbers worked out by hand from
contracts/METRICS.md ("Order SLA", "Order reroutes"), including the rules a random estate
rarely hits: a shipped order is never at risk, a cancelled one is not an order, each
breakdown's rows come largest first.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy.engine import Engine

from metrics import fulfilment
from metrics.params import Policies
from tests.builders import event, jsonl
from tests.test_metrics_sla import AS_OF, WINDOW, created, happened, iso


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=AS_OF.tzinfo)


def routed(order: str, node: str, when: datetime) -> dict:
    return happened("routed", order, when, node_id=node)


def rerouted(order: str, n: int, from_node: str, to_node: str, reason: str, when: datetime) -> dict:
    data = {"order_id": order, "from_node": from_node, "to_node": to_node, "reason": reason}
    return event("retail.order.rerouted", data, id=f"{order}-rerouted-{n}", time=iso(when), subject=order)


WEEK = [
    # A: web, delivered before its promise: on time
    created("A", at(16, 10), at(18), "web"),
    routed("A", "DC-1", at(16, 11)),
    happened("delivered", "A", at(17)),
    # B: web, delivered after its promise: breached
    created("B", at(17), at(19), "web"),
    routed("B", "DC-1", at(17, 1)),
    happened("delivered", "B", at(20)),
    # C: store, promised 12 h after as_of, not shipped: at risk (12 h < 24 h)
    created("C", at(18), at(26), "store"),
    routed("C", "DC-2", at(18, 1)),
    # D: store, the same promise but shipped: not at risk
    created("D", at(18, 2), at(26), "store"),
    routed("D", "DC-2", at(18, 3)),
    happened("shipped", "D", at(24), node_id="DC-2"),
    # E: web, cancelled: not an order of the SLA, nor of the rate's denominator
    created("E", at(19), at(30), "web"),
    happened("cancelled", "E", at(19, 5)),
    # F: web, rerouted twice (DC-1 -> DC-2 -> DC-3), undelivered past its promise: breached
    created("F", at(20), at(21), "web"),
    routed("F", "DC-1", at(20, 1)),
    rerouted("F", 1, "DC-1", "DC-2", "stockout", at(20, 12)),
    rerouted("F", 2, "DC-2", "DC-3", "capacity", at(21)),
    # G: created before the window: in no figure
    created("G", at(15), at(16), "web"),
    routed("G", "DC-3", at(15, 1)),
]


def test_the_fulfilment_figures_of_a_hand_built_week(engine: Engine, ingest) -> None:
    counts = ingest(jsonl(*WEEK))
    assert counts.accepted == len(WEEK), counts
    with engine.connect() as conn, conn.begin():
        found = fulfilment.figures(conn, WINDOW, Policies())

    # orders A B C D F (E cancelled, G before the window); delivered A B; breached B F
    assert found["sla"] == {
        "orders": 5,
        "delivered": 2,
        "cancelled": 1,
        "breached": 2,
        "breach_rate": 0.4,
        "at_risk": 1,
    }
    # web: A B F (2 breached); store: C D (none); largest first
    assert found["by_channel"].rows() == [("web", 3, 2, 2 / 3), ("store", 2, 0, 0.0)]
    # current nodes: A B at DC-1, C D at DC-2, F at DC-3 after its second reroute
    assert found["by_node"].rows() == [("DC-1", 2, 1, 0.5), ("DC-2", 2, 0, 0.0), ("DC-3", 1, 1, 1.0)]
    # F's two reroutes: one rerouted order of five, repeated (>= 2)
    assert found["reroutes"] == {"reroutes": 2, "rerouted_orders": 1, "repeated": 1, "rate": 0.2}
    assert found["by_reason"].rows() == [("capacity", 1, 1), ("stockout", 1, 1)]
    assert found["by_from_node"].rows() == [("DC-1", 1, 1), ("DC-2", 1, 1)]
    assert found["by_channel"].columns == ["channel", "orders", "breached", "breach_rate"]
    assert found["by_reason"].schema == pl.Schema(
        {"reason": pl.String, "reroutes": pl.Int64, "rerouted_orders": pl.Int64}
    )


def test_an_empty_window_has_zero_figures_and_empty_breakdowns(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        found = fulfilment.figures(conn, WINDOW, Policies())
    assert found["sla"]["orders"] == 0 and found["sla"]["breach_rate"] == 0.0
    assert found["reroutes"] == {"reroutes": 0, "rerouted_orders": 0, "repeated": 0, "rate": 0.0}
    assert all(found[k].height == 0 for k in ("by_channel", "by_node", "by_reason", "by_from_node"))
