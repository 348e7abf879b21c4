"""The shared filters inside the metrics (metrics/scoping.py), worked out by hand.

One small estate, as of BASE (2026-11-20 12:00Z), window the 72 hours before it:

    STORE-N  a store, region north      DC-S  a DC, region south
    (STORE-N moves to region south at BASE + 1 h: after the as-of, so not yet)

    order  channel  created  promised  route                          by as_of              SLA
    W1     web      -30 h    -6 h      DC-S                           delivered -3 h        breached
    W2     web      -10 h    +10 h     STORE-N, rerouted to DC-S -5 h open, not shipped     at risk
    S1     store    -20 h    +48 h     STORE-N                        open                  fine
    S2     store    -12 h    -1 h      STORE-N                        open                  breached

Both paths (projections and events) must give every figure below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from metrics import inbound, integrations, inventory, reroutes, returns, scoping, sla, summary
from metrics.params import ALL, Policies, Scope, Window
from tests.builders import event, jsonl

BASE = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=BASE, since=BASE - timedelta(hours=72), until=BASE)
POLICIES = Policies()
NORTH, SOUTH = Scope(region="north"), Scope(region="south")


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"e-{self.n}"


def estate() -> list[dict[str, Any]]:
    nid = Ids()
    out: list[dict[str, Any]] = []

    def ev(type_: str, data: dict[str, Any], hours: float, source: str = "oms") -> None:
        out.append(event(type_, data, id=nid(), source=source, time=at(hours), subject=None))

    ev(
        "retail.location.upserted",
        {"location_id": "STORE-N", "kind": "store", "region": "north"},
        -100,
        "erp",
    )
    ev("retail.location.upserted", {"location_id": "DC-S", "kind": "dc", "region": "south"}, -100, "erp")
    ev("retail.location.upserted", {"location_id": "STORE-N", "kind": "store", "region": "south"}, 1, "erp")

    def order(order_id: str, channel: str, created: float, promised: float) -> None:
        lines = [{"sku": "SKU-A", "qty": 1}]
        data = {"order_id": order_id, "channel": channel, "promised_by": at(promised), "lines": lines}
        ev("retail.order.created", data, created)

    order("W1", "web", -30, -6)
    ev("retail.order.routed", {"order_id": "W1", "node_id": "DC-S"}, -29)
    ev("retail.order.delivered", {"order_id": "W1"}, -3)
    order("W2", "web", -10, 10)
    ev("retail.order.routed", {"order_id": "W2", "node_id": "STORE-N"}, -9)
    reroute = {"order_id": "W2", "from_node": "STORE-N", "to_node": "DC-S", "reason": "stockout"}
    ev("retail.order.rerouted", reroute, -5)
    order("S1", "store", -20, 48)
    ev("retail.order.routed", {"order_id": "S1", "node_id": "STORE-N"}, -19)
    order("S2", "store", -12, -1)
    ev("retail.order.routed", {"order_id": "S2", "node_id": "STORE-N"}, -11)

    # inventory at -1 h: DC-S erp 10 / wms 4 (6 apart: out of tolerance), STORE-N erp 5 /
    # pos 5 (equal), and STORE-N pos SKU-B at -1 (negative, no erp position: no pair)
    for system, location, sku, on_hand in (
        ("erp", "DC-S", "SKU-A", 10),
        ("wms", "DC-S", "SKU-A", 4),
        ("erp", "STORE-N", "SKU-A", 5),
        ("pos", "STORE-N", "SKU-A", 5),
        ("pos", "STORE-N", "SKU-B", -1),
    ):
        data = {"system": system, "location_id": location, "sku": sku, "on_hand": on_hand}
        ev("retail.inventory.snapshot", data, -1, system)

    # integration calls (event source middleware): oms 3 calls, 1 error (its delivery C1
    # failed); wms 1 call, a timeout (delivery C2 failed)
    for source_system, status, correlation in (
        ("oms", "ok", None),
        ("oms", "ok", None),
        ("oms", "error", "C1"),
        ("wms", "timeout", "C2"),
    ):
        data = {
            "interface": f"{source_system}.erp.push",
            "source_system": source_system,
            "target_system": "erp",
            "status": status,
            "latency_ms": 50,
        }
        if correlation:
            data["correlation_id"] = correlation
        ev("retail.integration.call", data, -2, "middleware")

    # inbound: SH1 received at DC-S with no ASN (late); SH2 at STORE-N 1 h after its ASN's
    # expected time (on time: within asn_late_hours 4)
    ev("retail.shipment.received", {"shipment_id": "SH1", "location_id": "DC-S"}, -2, "wms")
    asn = {"shipment_id": "SH2", "to_location": "STORE-N", "expected_at": at(-4)}
    ev("retail.shipment.asn", asn, -20, "erp")
    ev("retail.shipment.received", {"shipment_id": "SH2", "location_id": "STORE-N"}, -3, "wms")

    # returns: R1 at STORE-N 60 h ago, never restocked (slow: over 48 h); R2 at DC-S, restocked in 5 h
    r1 = {"return_id": "R1", "sku": "SKU-A", "qty": 1, "location_id": "STORE-N"}
    ev("retail.return.received", r1, -60, "pos")
    r2 = {"return_id": "R2", "sku": "SKU-A", "qty": 1, "location_id": "DC-S"}
    ev("retail.return.received", r2, -10, "wms")
    ev("retail.return.restocked", r2, -5, "wms")
    return out


@pytest.fixture
def stored(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    counts = ingest(jsonl(*estate()), batch_size=7)  # several batches: the projections fold each
    assert counts.accepted == len(estate())
    with engine.begin() as conn:  # every event arrived on time, but SH1's receipt an hour late
        conn.execute(sa.text("UPDATE events SET received_at = time"))
        conn.execute(
            sa.text(
                "UPDATE events SET received_at = time + interval '1 hour'"
                " WHERE data ->> 'shipment_id' = 'SH1'"
            )
        )
    return engine


PATHS = pytest.mark.parametrize("use_projections", [True, False], ids=["projections", "events"])


def figures(
    engine: Engine, family: Any, scope: Scope, use_projections: bool, window: Window = WINDOW
) -> dict:
    with engine.connect() as conn, conn.begin():
        return family.summary(conn, window, POLICIES, use_projections=use_projections, scope=scope)


def sla_counts(figures: dict) -> tuple[int, int, int, int]:
    return figures["orders"], figures["breached"], figures["at_risk"], figures["delivered"]


@PATHS
def test_sla_counts_each_order_once_for_its_channel_and_its_current_nodes_region(stored, use_projections):
    # (orders, breached, at_risk, delivered)
    assert sla_counts(figures(stored, sla, ALL, use_projections)) == (4, 2, 1, 1)
    assert sla_counts(figures(stored, sla, Scope(channel="web"), use_projections)) == (2, 1, 1, 1)
    assert sla_counts(figures(stored, sla, Scope(channel="store"), use_projections)) == (2, 1, 0, 0)
    # W2 was rerouted from STORE-N to DC-S: it now belongs to DC-S, in the south
    assert sla_counts(figures(stored, sla, SOUTH, use_projections)) == (2, 1, 1, 1)
    assert sla_counts(figures(stored, sla, NORTH, use_projections)) == (2, 1, 0, 0)
    assert sla_counts(figures(stored, sla, Scope(node="DC-S"), use_projections)) == (2, 1, 1, 1)
    assert sla_counts(figures(stored, sla, Scope(region="north", channel="web"), use_projections)) == (
        0,
        0,
        0,
        0,
    )
    assert figures(stored, sla, Scope(region="nowhere"), use_projections)["orders"] == 0


@PATHS
def test_a_region_is_the_one_its_location_had_at_the_as_of(stored, use_projections):
    later = Window.of(as_of=BASE + timedelta(hours=2), since=WINDOW.since, until=BASE)
    # at BASE + 2 h STORE-N has moved to the south: every order is in the south now
    assert sla_counts(figures(stored, sla, Scope(region="south"), use_projections, later))[0] == 4
    assert sla_counts(figures(stored, sla, Scope(region="north"), use_projections, later))[0] == 0


@PATHS
def test_a_reroute_counts_for_the_orders_current_node_not_the_node_it_left(stored, use_projections):
    assert figures(stored, reroutes, ALL, use_projections) == {
        "reroutes": 1,
        "rerouted_orders": 1,
        "repeated": 0,
        "rate": 0.25,
    }
    assert figures(stored, reroutes, SOUTH, use_projections)["rate"] == 0.5  # W2 of W1, W2
    assert figures(stored, reroutes, NORTH, use_projections)["reroutes"] == 0
    assert figures(stored, reroutes, Scope(channel="store"), use_projections)["reroutes"] == 0


@PATHS
def test_inventory_narrows_to_the_positions_at_the_node_or_in_the_region(stored, use_projections):
    whole = figures(stored, inventory, ALL, use_projections)
    assert (whole["pairs_compared"], whole["out_of_tolerance"], whole["variance_units"]) == (2, 1, 6)
    assert whole["negative_positions"] == 1
    dc = figures(stored, inventory, Scope(node="DC-S"), use_projections)
    assert (dc["pairs_compared"], dc["out_of_tolerance"], dc["variance_units"], dc["negative_positions"]) == (
        1,
        1,
        6,
        0,
    )
    north = figures(stored, inventory, NORTH, use_projections)
    assert (north["pairs_compared"], north["out_of_tolerance"], north["negative_positions"]) == (1, 0, 1)
    # channel does not apply to inventory: the figures stay whole
    assert figures(stored, inventory, Scope(channel="web"), use_projections) == whole


@PATHS
def test_integrations_narrow_to_the_calls_of_the_source_system_and_its_late_events(stored, use_projections):
    def counts(scope: Scope) -> tuple[int, int, int, int]:
        f = figures(stored, integrations, scope, use_projections)
        return f["calls"], f["failures"], f["failed_deliveries"], f["delayed_events"]

    assert counts(ALL) == (4, 2, 2, 1)
    assert counts(Scope(source="oms")) == (3, 1, 1, 0)
    assert counts(Scope(source="wms")) == (1, 1, 1, 1)  # SH1's receipt came from wms, an hour late
    assert counts(Scope(source="middleware")) == (0, 0, 0, 0)
    assert counts(SOUTH) == counts(ALL)  # region does not apply to integrations


@PATHS
def test_inbound_and_returns_narrow_to_where_they_were_received(stored, use_projections):
    assert figures(stored, inbound, ALL, use_projections) == {"asn_late": 1}
    assert figures(stored, inbound, Scope(node="DC-S"), use_projections) == {"asn_late": 1}
    assert figures(stored, inbound, NORTH, use_projections) == {"asn_late": 0}
    assert figures(stored, returns, ALL, use_projections) == {"returns": 2, "restocked": 1, "slow_returns": 1}
    assert figures(stored, returns, NORTH, use_projections) == {
        "returns": 1,
        "restocked": 0,
        "slow_returns": 1,
    }
    assert figures(stored, returns, Scope(node="DC-S"), use_projections) == {
        "returns": 1,
        "restocked": 1,
        "slow_returns": 0,
    }
    with stored.connect() as conn:
        lag = returns.lag_hours(
            conn, WINDOW, POLICIES, use_projections=use_projections, scope=Scope(node="DC-S")
        )
        assert lag == {"p50_hours": 5.0, "p90_hours": 5.0}
        lag = returns.lag_hours(conn, WINDOW, POLICIES, use_projections=use_projections, scope=NORTH)
        assert lag == {"p50_hours": None, "p90_hours": None}


def test_the_breakdowns_narrow_as_the_summaries_do(stored):
    with stored.connect() as conn:
        by_channel = sla.by_channel(conn, WINDOW, POLICIES, scope=SOUTH).rows()
        assert by_channel == [("web", 2, 1, 0.5)]
        by_node = sla.by_node(conn, WINDOW, POLICIES, use_projections=False, scope=NORTH).rows()
        assert by_node == [("STORE-N", 2, 1, 0.5)]
        assert reroutes.by_from_node(conn, WINDOW, POLICIES, scope=SOUTH).rows() == [("STORE-N", 1, 1)]
        assert reroutes.by_reason(conn, WINDOW, POLICIES, scope=NORTH).rows() == []
        assert inventory.by_location(conn, WINDOW, POLICIES, scope=NORTH)["location_id"].to_list() == [
            "STORE-N"
        ]
        interfaces = integrations.by_interface(conn, WINDOW, POLICIES, scope=Scope(source="wms"))
        assert interfaces["interface"].to_list() == ["wms.erp.push"]
        late = integrations.delayed_by_source(conn, WINDOW, POLICIES, scope=Scope(source="oms"))
        assert late.height == 0


def test_the_whole_metrics_object_keeps_its_shape_when_scoped(stored):
    whole = summary.compute(stored, WINDOW, POLICIES)
    south = summary.compute(stored, WINDOW, POLICIES, scope=SOUTH)
    assert set(south) == set(whole)
    assert {k: set(v) for k, v in south.items() if isinstance(v, dict)} == {
        k: set(v) for k, v in whole.items() if isinstance(v, dict)
    }
    assert south["sla"]["orders"] == 2
    assert south["integrations"] == whole["integrations"]  # region does not apply


def test_the_filters_that_do_not_apply_to_a_family_are_named():
    scope = Scope(region="north", channel="web", source="oms")
    assert scoping.not_applied("sla", scope) == ["source"]
    assert scoping.not_applied("inventory", scope) == ["channel", "source"]
    assert scoping.not_applied("integrations", scope) == ["region", "channel"]
    assert scoping.applied("integrations", scope) == Scope(source="oms")
    assert scoping.not_applied("returns", ALL) == []


def test_ctower_metrics_narrows_by_the_filters_given_and_keeps_its_json_shape(stored, ctower):
    window = [
        "--as-of",
        "2026-11-20T12:00:00Z",
        "--since",
        "2026-11-17T12:00:00Z",
        "--until",
        "2026-11-20T12:00:00Z",
    ]
    whole = ctower("metrics", *window, "--json")
    north_web = ctower(
        "metrics", *window, "--region", "north", "--channel", "store", "--source", "wms", "--json"
    )

    assert whole.returncode == 0 and north_web.returncode == 0, north_web.stderr
    whole_json, scoped_json = json.loads(whole.stdout), json.loads(north_web.stdout)
    assert set(scoped_json) == set(whole_json)
    assert whole_json["sla"]["orders"] == 4
    assert scoped_json["sla"] | {"breach_rate": 0} == {
        "orders": 2,  # S1 and S2: store orders at STORE-N, in the north
        "delivered": 0,
        "cancelled": 0,
        "breached": 1,
        "breach_rate": 0,
        "at_risk": 0,
    }
    assert scoped_json["integrations"]["calls"] == 1  # the wms call
    assert scoped_json["inventory"]["pairs_compared"] == 1  # STORE-N's pair
