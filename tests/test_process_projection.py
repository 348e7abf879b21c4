"""The process projection (order_process, sql/migrations/0017_process_projection.sql) kept
by ingest: the same rows whatever order and batches the events arrive in, exact for an
earlier as_of, and the region scope through the location projection. The log is the
hand-built one of tests/test_process_log.py (see its table).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from metrics import process
from metrics.params import Scope, Window
from tests.builders import DC, STORE, event, jsonl
from tests.test_process_log import EVENTS, HAPPY, REROUTED, T0, WINDOW, iso

ROWS = """
SELECT order_id, created_at, created_seq IS NOT NULL AS has_created, source, steps, step_at, waits, edges,
       nodes, last_step_at, first_time, last_time
  FROM order_process ORDER BY order_id
"""
RECOMPUTED = """
SELECT r.order_id, r.created_at, r.created_seq IS NOT NULL, r.source, r.steps, r.step_at, r.waits, r.edges,
       r.nodes, r.last_step_at, r.first_time, r.last_time
  FROM (SELECT DISTINCT order_id FROM events WHERE order_id IS NOT NULL) AS o
 CROSS JOIN LATERAL order_process_runs(o.order_id) AS r
 ORDER BY r.order_id
"""


def stored(query: Any, prefix: str = "") -> list[tuple[Any, ...]]:
    """The rows of the orders whose id starts with prefix, the prefix taken off."""
    return [(r[0].removeprefix(prefix), *r[1:]) for r in query(ROWS) if r[0].startswith(prefix)]


def renamed(one: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The same event for the order prefix + its order_id."""
    order = prefix + one["data"]["order_id"]
    return {**one, "id": prefix + one["id"], "subject": order, "data": {**one["data"], "order_id": order}}


def test_the_projection_is_the_same_whatever_order_and_batches_the_events_arrive_in(
    engine: Engine, ingest: Any, query: Any
) -> None:
    ingest(jsonl(*EVENTS))  # one batch
    at_once = stored(query)
    assert len(at_once) == 6  # O-A .. O-E and O-OLD
    # one event a batch, in business-time order (runs appended: A's second pick merged)
    # and newest first (every event older than the stored ones: recomputed)
    for prefix, arrival in (("F-", sorted(EVENTS, key=lambda e: e["time"])), ("R-", reversed(EVENTS))):
        for one in arrival:
            ingest(jsonl(renamed(one, prefix)))
        assert stored(query, prefix) == at_once
    # and every row equals a recomputation from the order's stored events
    assert [tuple(r) for r in query(RECOMPUTED)] == [tuple(r) for r in query(ROWS)]


def test_a_late_exception_inside_a_run_of_picks_splits_it_and_moves_the_waits(
    engine: Engine, ingest: Any
) -> None:
    ingest(jsonl(*EVENTS))
    late = event(
        "retail.order.exception",
        {"order_id": "O-A", "kind": "failed_pick"},
        id="O-A-late-exception",
        time=iso(T0 + timedelta(hours=3, minutes=30)),  # between A's picks at 3 h and 4 h
        subject="O-A",
    )
    assert ingest(jsonl(late)).accepted == 1
    with engine.connect() as conn:
        variants = process.variants(conn, WINDOW)
        _nodes, edges = process.dfg(conn, WINDOW)
    a = "created → routed → picked → exception → picked → packed → shipped → delivered"
    assert (a, 1) in [(v, n) for v, n in variants.select("variant", "orders").rows()]
    waits = {
        (f, t): (n, p50)
        for f, t, n, p50 in edges.select("from_step", "to_step", "transitions", "p50_wait_hours").rows()
    }
    assert waits[("picked", "exception")] == (1, 0.5)  # pick at 3 h, exception at 3.5 h
    assert waits[("exception", "picked")] == (1, 0.5)  # the pick at 4 h
    # picked -> packed: A 1 h (from its pick at 4 h), B 2 h, C 1 h -> p50 1 (unchanged)
    assert waits[("picked", "packed")] == (3, 1.0)
    assert waits[("routed", "picked")] == (2, 2.0)  # A 2 h, B 2 h


def test_an_earlier_as_of_cuts_each_order_at_its_last_step_by_then(engine: Engine, ingest: Any) -> None:
    ingest(jsonl(*EVENTS))
    six_hours = Window.of(T0 + timedelta(hours=6), WINDOW.since, WINDOW.until)
    with engine.connect() as conn:
        summary, variants, _nodes, edges = process.process_overview(conn, six_hours)
    # at T0 + 6 h: A packed (5 h), B picked (created 1 h, picked 5 h), C rerouted (at 5 h),
    # D cancelled (5 h), E routed (5 h): five variants of one order each
    assert sorted(variants.select("variant", "p50_hours").rows()) == [
        ("created → routed", 1.0),
        ("created → routed → cancelled", 2.0),
        ("created → routed → picked", 4.0),
        ("created → routed → picked → packed", 5.0),
        ("created → routed → rerouted", 3.0),
    ]
    assert summary == {"orders": 5, "complete": 0, "cancelled": 1, "in_progress": 3, "deviating": 1}
    picked_packed = edges.filter((edges["from_step"] == "picked") & (edges["to_step"] == "packed"))
    assert picked_packed.select("transitions", "p50_wait_hours").rows() == [(1, 1.0)]  # A, from its 2nd pick


def test_a_step_exactly_at_as_of_counts_and_one_second_earlier_it_does_not(
    engine: Engine, ingest: Any
) -> None:
    ingest(jsonl(*EVENTS))
    five = T0 + timedelta(hours=5)  # A packs, B picks, C is rerouted, D cancelled, E routed
    with engine.connect() as conn:
        at_five = process.variants(conn, Window.of(five, WINDOW.since, WINDOW.until))
        before = process.variants(conn, Window.of(five - timedelta(seconds=1), WINDOW.since, WINDOW.until))
    assert sorted(at_five.select("variant", "orders", "p50_hours").rows()) == [
        ("created → routed", 1, 1.0),  # E
        ("created → routed → cancelled", 1, 2.0),  # D
        ("created → routed → picked", 1, 4.0),  # B
        ("created → routed → picked → packed", 1, 5.0),  # A
        ("created → routed → rerouted", 1, 3.0),  # C
    ]
    # a second earlier: E only created; B, C, D routed (2, 1, 1 h); A picked from 3 h
    assert sorted(before.select("variant", "orders", "p50_hours").rows()) == [
        ("created", 1, 0.0),
        ("created → routed", 3, 1.0),
        ("created → routed → picked", 1, 3.0),
    ]


@pytest.mark.parametrize(("region", "orders"), [("east", 3), ("north", 2), ("west", 0)])
def test_the_region_is_that_of_the_orders_current_node(
    engine: Engine, ingest: Any, region: str, orders: int
) -> None:
    locations = [
        event("retail.location.upserted", {"location_id": STORE, "kind": "store", "region": "east"},
              id="loc-store", time=iso(T0 - timedelta(days=30))),
        event("retail.location.upserted", {"location_id": DC, "kind": "dc", "region": "north"},
              id="loc-dc", time=iso(T0 - timedelta(days=30))),
    ]  # fmt: skip
    ingest(jsonl(*locations, *EVENTS))
    with engine.connect() as conn:
        summary = process.conformance(conn, WINDOW, Scope(region=region))
        north = process.variants(conn, WINDOW, Scope(region="north"))
    # current nodes: A, D, E at the store (east); B routed to the DC, C rerouted there (north)
    assert summary["orders"] == orders
    assert sorted(north.select("variant", "orders").rows()) == [(HAPPY, 1), (REROUTED, 1)]
