"""Process intelligence (metrics/process.py) on the small hand-built log of
tests.test_process_log.py; every figure below is worked out by hand from its table.

Percentiles are linear (percentile_cont): p90 of [a, b] is a + 0.9 (b - a); of three sorted
values x0 <= x1 <= x2 it is x1 + 0.8 (x2 - x1); of five, x3 + 0.6 (x4 - x3).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from metrics import process
from metrics.params import Scope
from tests.builders import DC, STORE, jsonl
from tests.test_process_log import CANCELLED, EVENTS, HAPPY, OPEN, REROUTED, WINDOW


@pytest.fixture
def seeded(engine: Engine, ingest: Any) -> Engine:
    counts = ingest(jsonl(*EVENTS))
    assert counts.accepted == len(EVENTS)
    return engine


def rows(frame: Any, *columns: str) -> list[tuple[Any, ...]]:
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in frame.select(columns).rows()
    ]


def test_variants_count_orders_share_and_durations_from_created_to_the_last_step(seeded: Engine) -> None:
    with seeded.connect() as conn:
        frame = process.variants(conn, WINDOW)
    # A 32 h and B 22 h: p50 27, p90 22 + 0.9 * 10 = 31
    assert rows(frame, "variant", "orders", "share", "p50_hours", "p90_hours") == [
        (HAPPY, 2, 0.4, 27.0, 31.0),
        (OPEN, 1, 0.2, 1.0, 1.0),
        (CANCELLED, 1, 0.2, 2.0, 2.0),
        (REROUTED, 1, 0.2, 15.0, 15.0),
    ]
    assert frame["variants"].to_list() == [4, 4, 4, 4]


def test_the_directly_follows_graph_counts_transitions_and_waits_a_repeated_pick_counting_once(
    seeded: Engine,
) -> None:
    with seeded.connect() as conn:
        nodes, edges = process.dfg(conn, WINDOW)
    assert sorted(
        rows(edges, "from_step", "to_step", "transitions", "orders", "p50_wait_hours", "p90_wait_hours")
    ) == [
        ("created", "routed", 5, 5, 1.0, 1.6),  # waits 1, 2, 1, 1, 1
        ("packed", "shipped", 3, 3, 3.0, 3.8),  # 3, 4, 1
        ("picked", "packed", 3, 3, 1.0, 1.8),  # A from its second pick: 1; B 2; C 1
        ("rerouted", "picked", 1, 1, 4.0, 4.0),
        ("routed", "cancelled", 1, 1, 1.0, 1.0),
        ("routed", "picked", 2, 2, 2.0, 2.0),
        ("routed", "rerouted", 1, 1, 2.0, 2.0),
        ("shipped", "delivered", 3, 3, 12.0, 21.6),  # 24, 12, 6
    ]
    assert sorted(rows(nodes, "step", "visits", "orders", "starts", "ends")) == [
        ("cancelled", 1, 1, 0, 1),
        ("created", 5, 5, 5, 0),
        ("delivered", 3, 3, 0, 3),
        ("packed", 3, 3, 0, 0),
        ("picked", 3, 3, 0, 0),
        ("rerouted", 1, 1, 0, 0),
        ("routed", 5, 5, 0, 1),
        ("shipped", 3, 3, 0, 0),
    ]


def test_the_longest_wait_is_shipped_to_delivered_by_channel_and_by_node(seeded: Engine) -> None:
    with seeded.connect() as conn:
        by_channel = process.bottlenecks(conn, WINDOW, by="channel", limit=2)
        by_node = process.bottlenecks(conn, WINDOW, by="node", limit=2)
    # web: A 24 h, B 12 h -> p90 12 + 0.9 * 12 = 22.8; store: C 6 h
    assert rows(by_channel, "value", "from_step", "to_step", "transitions", "p90_wait_hours") == [
        ("web", "shipped", "delivered", 2, 22.8),
        ("store", "shipped", "delivered", 1, 6.0),
    ]
    # delivered has no node: the order's current node (A at the store; B and C at the DC)
    assert rows(by_node, "value", "from_step", "to_step", "transitions", "p90_wait_hours") == [
        (STORE, "shipped", "delivered", 1, 24.0),
        (DC, "shipped", "delivered", 2, 11.4),
    ]


def test_the_bottlenecks_find_each_orders_facts_even_when_their_created_at_disagree(seeded: Engine) -> None:
    # order_facts rows are looked up by the window's created_at first; A's is moved out of it
    with seeded.begin() as conn:
        conn.execute(
            text("UPDATE order_facts SET created_at = created_at - interval '30 days' WHERE order_id = 'O-A'")
        )
    with seeded.connect() as conn:
        by_channel = process.bottlenecks(conn, WINDOW, by="channel", limit=1)
        by_node = process.bottlenecks(conn, WINDOW, by="node", limit=1)
    assert rows(by_channel, "value", "transitions", "p90_wait_hours") == [("web", 2, 22.8)]  # A 24 h, B 12 h
    assert rows(by_node, "value", "transitions", "p90_wait_hours") == [(STORE, 1, 24.0)]  # A at the store


def test_a_rerouted_order_deviates_while_a_cancelled_and_an_open_order_conform(seeded: Engine) -> None:
    with seeded.connect() as conn:
        summary = process.conformance(conn, WINDOW)
        deviating, total = process.deviations(conn, WINDOW)
    assert summary == {"orders": 5, "complete": 2, "cancelled": 1, "in_progress": 1, "deviating": 1}
    assert total == 1
    assert rows(deviating, "order_id", "variant", "deviation") == [
        ("O-C", REROUTED, "rerouted after routed, expected picked")
    ]


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (HAPPY, None),
        (CANCELLED, None),
        (OPEN, None),
        ("created → cancelled", None),
        ("created → picked", "picked after created, expected routed"),
        (HAPPY + " → exception", "exception after delivered, expected nothing (delivered is the end)"),
        ("created → cancelled → routed", "cancelled after created, expected routed"),
        ("routed → created", "routed after the start, expected created"),
    ],
)
def test_the_first_deviation_names_the_step_that_left_the_expected_sequence(
    variant: str, expected: str | None
) -> None:
    assert process.first_deviation(variant) == expected
    assert process.conforms(variant) is (expected is None)


def test_a_variant_and_an_edge_give_their_orders_capped_with_the_exact_count(seeded: Engine) -> None:
    with seeded.connect() as conn:
        happy, happy_total = process.variant_orders(conn, WINDOW, HAPPY)
        edge, edge_total = process.edge_orders(conn, WINDOW, "shipped", "delivered", limit=2)
    assert (rows(happy, "order_id", "hours"), happy_total) == ([("O-A", 32.0), ("O-B", 22.0)], 2)
    assert (rows(edge, "order_id", "wait_hours"), edge_total) == ([("O-A", 24.0), ("O-B", 12.0)], 3)


def test_the_scope_narrows_the_orders_by_channel_and_by_current_node(seeded: Engine) -> None:
    with seeded.connect() as conn:
        store = process.variants(conn, WINDOW, Scope(channel="store"))
        at_dc = process.variants(conn, WINDOW, Scope(node=DC))
        by_source = process.conformance(conn, WINDOW, Scope(source="elsewhere"))
    assert rows(store, "variant", "orders", "share") == [(REROUTED, 1, 1.0)]
    # B was routed to the DC, C rerouted there; the others are at the store
    assert rows(at_dc, "variant", "orders") == [(HAPPY, 1), (REROUTED, 1)]
    assert by_source["orders"] == 0


def test_an_empty_window_gives_no_rows(engine: Engine) -> None:
    with engine.connect() as conn:
        assert process.variants(conn, WINDOW).is_empty()
        nodes, edges = process.dfg(conn, WINDOW)
        assert nodes.is_empty() and edges.is_empty()
        assert process.conformance(conn, WINDOW)["orders"] == 0
        assert process.deviations(conn, WINDOW)[1] == 0


def test_the_overview_gives_the_conformance_and_the_map_of_one_pass(seeded: Engine) -> None:
    with seeded.connect() as conn:
        summary, variants, nodes, edges = process.process_overview(conn, WINDOW)
        alone = process.conformance(conn, WINDOW)
    assert summary == alone == {"orders": 5, "complete": 2, "cancelled": 1, "in_progress": 1, "deviating": 1}
    assert (variants.height, nodes.height, edges.height) == (4, 8, 8)
