"""Reroute figures (contracts/METRICS.md, "Reroutes") on small hand-built event sets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from metrics import reroutes, sla
from metrics.params import Policies, Window
from tests.builders import event, jsonl

SQL = Path(__file__).resolve().parents[1] / "sql" / "metrics"

# The window is Monday 16 Nov to Monday 23 Nov (UTC); figures taken Wednesday 25 Nov noon.
SINCE = datetime(2026, 11, 16, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF, since=SINCE, until=UNTIL)
CREATED_AT = datetime(2026, 11, 18, 9, tzinfo=UTC)
PROMISE = datetime(2026, 12, 1, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def created(order: str, at: datetime = CREATED_AT, channel: str = "web") -> dict:
    data = {
        "order_id": order,
        "channel": channel,
        "promised_by": iso(PROMISE),
        "lines": [{"sku": "SKU-00017", "qty": 1}],
    }
    return event("retail.order.created", data, id=f"{order}-created", time=iso(at), subject=order)


def routed(order: str, node: str, at: datetime) -> dict:
    data = {"order_id": order, "node_id": node}
    return event("retail.order.routed", data, id=f"{order}-routed", time=iso(at), subject=order)


def rerouted(
    order: str,
    n: int,
    at: datetime,
    from_node: str = "STORE-0042",
    to_node: str = "DC-EAST",
    reason: str = "stockout",
) -> dict:
    data = {"order_id": order, "from_node": from_node, "to_node": to_node, "reason": reason}
    return event("retail.order.rerouted", data, id=f"{order}-rerouted-{n}", time=iso(at), subject=order)


def cancelled(order: str, at: datetime) -> dict:
    return event(
        "retail.order.cancelled", {"order_id": order}, id=f"{order}-cancelled", time=iso(at), subject=order
    )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture
def load(ingest: Callable[..., Any]) -> Callable[..., None]:
    def run(*events: dict) -> None:
        counts = ingest(jsonl(*events))
        assert counts.accepted == len(events), counts

    return run


@pytest.fixture
def figures(engine: Engine, load: Callable[..., None]) -> Callable[..., dict]:
    """Ingest the events, then compute the reroutes summary."""

    def run(*events: dict, window: Window = WINDOW, policies: Policies | None = None) -> dict:
        if events:
            load(*events)
        with engine.connect() as conn, conn.begin():
            return reroutes.summary(conn, window, policies or Policies())

    return run


def test_no_orders_give_zero_reroutes_and_a_zero_rate(figures: Callable[..., dict]) -> None:
    assert figures() == {"reroutes": 0, "rerouted_orders": 0, "repeated": 0, "rate": 0.0}


def test_orders_with_zero_one_two_and_three_reroutes(figures: Callable[..., dict]) -> None:
    events = [created(o) for o in ("O-0", "O-1", "O-2", "O-3")]
    for order, n in (("O-1", 1), ("O-2", 2), ("O-3", 3)):
        events += [rerouted(order, i, CREATED_AT + hours(i)) for i in range(1, n + 1)]
    out = figures(*events, policies=Policies(repeated_reroute_count=2))
    # reroutes 0+1+2+3 = 6; rerouted orders O-1, O-2, O-3 = 3 of 4 orders -> 0.75;
    # repeated (2 or more): O-2, O-3 = 2
    assert out == {"reroutes": 6, "rerouted_orders": 3, "repeated": 2, "rate": 0.75}


def test_repeated_follows_the_repeated_reroute_count_policy(figures: Callable[..., dict]) -> None:
    events = [
        created("O-2"),
        rerouted("O-2", 1, CREATED_AT + hours(1)),
        rerouted("O-2", 2, CREATED_AT + hours(2)),
    ]
    # two reroutes: repeated at a threshold of 2, not at 3
    assert figures(*events, policies=Policies(repeated_reroute_count=3))["repeated"] == 0
    assert figures(policies=Policies(repeated_reroute_count=2))["repeated"] == 1


def test_a_reroute_after_as_of_is_not_counted(figures: Callable[..., dict]) -> None:
    out = figures(
        created("O-1"),
        rerouted("O-1", 1, AS_OF),  # exactly at as_of: counted (time <= as_of)
        rerouted("O-1", 2, AS_OF + timedelta(seconds=1)),  # a second later: not yet
    )
    assert out == {"reroutes": 1, "rerouted_orders": 1, "repeated": 0, "rate": 1.0}


def test_reroutes_count_whenever_they_happened_even_after_the_window(figures: Callable[..., dict]) -> None:
    out = figures(
        created("O-1"),
        rerouted("O-1", 1, UNTIL + hours(5)),  # after until, before as_of: still counted
        created("O-outside", SINCE - hours(1)),  # created before the window: its reroute is not
        rerouted("O-outside", 1, SINCE + hours(1)),
    )
    assert out == {"reroutes": 1, "rerouted_orders": 1, "repeated": 0, "rate": 1.0}


def test_the_rate_divides_by_the_sla_orders_which_leave_cancelled_orders_out(
    engine: Engine, figures: Callable[..., dict]
) -> None:
    out = figures(
        created("O-a"),
        rerouted("O-a", 1, CREATED_AT + hours(1)),
        created("O-b"),
        created("O-c"),
        created("O-d"),
        # cancelled after a reroute: its reroute is counted (an order in the window),
        # but it is not one of the SLA orders
        created("O-cancelled"),
        rerouted("O-cancelled", 1, CREATED_AT + hours(1)),
        cancelled("O-cancelled", CREATED_AT + hours(2)),
    )
    # reroutes: O-a, O-cancelled = 2 (2 orders); SLA orders: O-a..O-d = 4 -> rate 2 / 4
    assert out == {"reroutes": 2, "rerouted_orders": 2, "repeated": 0, "rate": 0.5}
    with engine.connect() as conn, conn.begin():
        assert sla.summary(conn, WINDOW, Policies())["orders"] == 4


def test_only_cancelled_orders_give_a_zero_rate(figures: Callable[..., dict]) -> None:
    out = figures(
        created("O-1"),
        rerouted("O-1", 1, CREATED_AT + hours(1)),
        cancelled("O-1", CREATED_AT + hours(2)),
    )
    # one reroute of one order in the window, but no SLA orders: rate 0.0, not a division error
    assert out == {"reroutes": 1, "rerouted_orders": 1, "repeated": 0, "rate": 0.0}


def test_reroutes_arriving_before_their_order_are_counted_all_the_same(figures: Callable[..., dict]) -> None:
    out = figures(
        rerouted("O-1", 1, CREATED_AT + hours(1)),  # ingested first
        rerouted("O-1", 2, CREATED_AT + hours(2)),
        created("O-1"),
    )
    assert out == {"reroutes": 2, "rerouted_orders": 1, "repeated": 1, "rate": 1.0}


def test_reroutes_break_down_by_reason_and_from_node(engine: Engine, load: Callable[..., None]) -> None:
    load(
        created("O-1"),
        rerouted("O-1", 1, CREATED_AT + hours(1), from_node="STORE-0042", reason="stockout"),
        rerouted("O-1", 2, CREATED_AT + hours(2), from_node="DC-EAST", to_node="DC-WEST", reason="capacity"),
        created("O-2"),
        rerouted("O-2", 1, CREATED_AT + hours(1), from_node="STORE-0042", reason="stockout"),
        rerouted("O-2", 2, AS_OF + hours(1), from_node="DC-EAST", reason="carrier"),  # after as_of
    )
    with engine.connect() as conn, conn.begin():
        by_reason = reroutes.by_reason(conn, WINDOW, Policies()).rows()
        by_from = reroutes.by_from_node(conn, WINDOW, Policies()).rows()
    # stockout: O-1 #1 and O-2 #1 (2 events, 2 orders); capacity: O-1 #2; carrier: after as_of
    assert by_reason == [("stockout", 2, 2), ("capacity", 1, 1)]
    assert by_from == [("STORE-0042", 2, 2), ("DC-EAST", 1, 1)]


def test_sla_breaks_down_by_channel_and_current_node(engine: Engine, load: Callable[..., None]) -> None:
    late = AS_OF - hours(1)
    late_data = {
        "order_id": "O-web-late",
        "channel": "web",
        "promised_by": iso(late),
        "lines": [{"sku": "S", "qty": 1}],
    }
    load(
        # web, routed to the store then rerouted to the DC: current node DC-EAST; past its promise
        event("retail.order.created", late_data, id="O-web-late-created", time=iso(CREATED_AT)),
        routed("O-web-late", "STORE-0042", CREATED_AT + hours(1)),
        rerouted("O-web-late", 1, CREATED_AT + hours(2), to_node="DC-EAST"),
        # web, routed to the store; a reroute only after as_of does not move it yet
        created("O-web", channel="web"),
        routed("O-web", "STORE-0042", CREATED_AT + hours(1)),
        rerouted("O-web", 1, AS_OF + hours(1), to_node="DC-EAST"),
        # store channel, never routed: node NULL
        created("O-store", channel="store"),
        # marketplace, cancelled: in neither breakdown
        created("O-market", channel="marketplace"),
        cancelled("O-market", CREATED_AT + hours(1)),
    )
    with engine.connect() as conn, conn.begin():
        by_channel = sla.by_channel(conn, WINDOW, Policies()).rows()
        by_node = sla.by_node(conn, WINDOW, Policies()).rows()
    # web: 2 orders, 1 breached (O-web-late) -> 0.5; store: 1 order, 0 breached
    assert by_channel == [("web", 2, 1, 0.5), ("store", 1, 0, 0.0)]
    # DC-EAST: O-web-late (breached); STORE-0042: O-web; never routed: O-store
    assert sorted(by_node, key=str) == sorted(
        [("DC-EAST", 1, 1, 1.0), ("STORE-0042", 1, 0, 0.0), (None, 1, 0, 0.0)], key=str
    )


def test_every_sla_and_reroutes_query_takes_its_orders_from_the_one_definition() -> None:
    """'Orders in the window' is defined once (migration 0004), not copied into each query."""
    paths = sorted([*SQL.glob("sla_*.sql"), *SQL.glob("reroutes_*.sql")])
    assert len(paths) >= 6
    for path in paths:
        text = path.read_text(encoding="utf-8")
        shared = ("orders_in_window(", "order_sla_facts(", "order_reroute_counts(")
        assert any(name in text for name in shared), path.name
        assert "'retail.order.created'" not in text, f"{path.name} reads created events itself"


def test_the_current_node_at_one_instant_is_the_one_that_arrived_last(
    engine: Engine, load: Callable[..., None]
) -> None:
    at = CREATED_AT + hours(1)
    # routed and rerouted at the same business time: the later arrival (seq) decides
    load(created("O-1"), routed("O-1", "STORE-0042", at))
    load(rerouted("O-1", 1, at, to_node="DC-EAST"))
    with engine.connect() as conn, conn.begin():
        assert sla.by_node(conn, WINDOW, Policies()).rows() == [("DC-EAST", 1, 0, 0.0)]
