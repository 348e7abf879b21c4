"""The entities behind a figure (metrics/drilldown.py), on one small hand-built estate.

Window Monday 16 Nov to Monday 23 Nov 2026 (UTC), seen at AS_OF, Wednesday 25 Nov noon.
Locations: STORE-0042 (a store, region north), DC-EAST (a DC, region east).

    order  channel      routing (current node last)              promised      at AS_OF
    O-1    web          STORE-0042                               20 Nov 18:00  delivered 21 Nov: 6 h late
    O-2    web          STORE-0042 -> DC-EAST (stockout)         26 Nov 00:00  open: 12 h left, at risk
    O-3    store        STORE-0042 -> DC-EAST (capacity)         22 Nov 00:00  open: 84 h late, breached
                                   -> STORE-0042 (stockout)
    O-4    marketplace  never routed                             30 Nov 00:00  open: 108 h left
    O-5    web          DC-EAST -> STORE-0042 (carrier)          20 Nov 00:00  cancelled (out of `orders`)
    O-6    web          DC-EAST                                  25 Nov 20:00  shipped: 8 h left, not at risk
    O-7    web          created 10 Nov, before the window        -             not in the window
    O-8    web          DC-EAST                                  20 Nov 00:00  delivered 19 Nov: on time

SLA: orders 6 (O-1,2,3,4,6,8), breached 2 (O-1, O-3), at risk 1 (O-2).
  by channel: web 4 orders / 1 breached (O-1), store 1 / 1 (O-3), marketplace 1 / 0.
  by node: STORE-0042 2 / 2 (O-1, O-3), DC-EAST 3 / 0 (O-2, O-6, O-8), never routed 1 / 0 (O-4).
Reroutes: 4 events of 3 orders (O-2, O-3, O-5; cancelled O-5 counts), repeated 1 (O-3).
  by reason: stockout 2 orders (O-2, O-3), capacity 1 (O-3), carrier 1 (O-5).
  by from node: STORE-0042 2 (O-2, O-3), DC-EAST 2 (O-3, O-5).

Inventory at AS_OF (reference erp; tolerance max(2, 5% of |erp|); stale after 6 h):

    position               erp            other                   diff  tolerance  out?
    SKU-00017@DC-EAST      100            wms 94, +4 at -15 min   -2    5          no  (at AS_OF)
                                                                  -6    5          yes (at AS_OF - 30 min)
    SKU-00017@DC-EAST      100            oms 103                 +3    5          no
    SKU-00099@DC-EAST      10             wms 13                  +3    2          yes
    SKU-00017@STORE-0042   5 (10 h old)   pos -2                  -7    2          yes
    SKU-00099@STORE-0042   -              pos 4 (8 h old)         no pair

  pairs 4; out of tolerance 2 at AS_OF (3 at AS_OF - 30 min); negative 1 (pos at the
  store); stale 2 (erp SKU-00017 and pos SKU-00099 at the store). SKU-00017 is a "toy"
  costing 4.5; SKU-00099 has no product record (category unknown).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Connection, Engine

from metrics import drilldown, inventory, reroutes, sla
from metrics.drilldown import NONE
from metrics.params import ALL, Policies, Scope, Window
from tests.builders import DC, SKU, STORE, event, jsonl

SINCE = datetime(2026, 11, 16, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF, since=SINCE, until=UNTIL)
EARLIER = Window.of(as_of=AS_OF - timedelta(minutes=30), since=SINCE, until=UNTIL)
SKU2 = "SKU-00099"
_ids = itertools.count(1)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def nov(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def created(order: str, at: datetime, promised_by: datetime, channel: str = "web") -> dict[str, Any]:
    data = {"order_id": order, "channel": channel, "promised_by": iso(promised_by),
            "lines": [{"sku": SKU, "qty": 1}]}  # fmt: skip
    return event("retail.order.created", data, id=f"{order}-created", time=iso(at), subject=order)


def happened(type_: str, order: str, at: datetime, **data: Any) -> dict[str, Any]:
    return event(f"retail.order.{type_}", {"order_id": order, **data}, id=f"{order}-{type_}-{next(_ids)}",
                 time=iso(at), subject=order)  # fmt: skip


def rerouted(order: str, at: datetime, from_node: str, to_node: str, reason: str) -> dict[str, Any]:
    return happened("rerouted", order, at, from_node=from_node, to_node=to_node, reason=reason)


def location(location_id: str, kind: str, region: str) -> dict[str, Any]:
    data = {"location_id": location_id, "kind": kind, "region": region}
    return event("retail.location.upserted", data, id=f"loc-{location_id}", source="erp",
                 time=iso(nov(1)), subject=location_id)  # fmt: skip


def stock(type_: str, system: str, location_id: str, sku: str, minutes_before: float, **data: Any) -> dict:
    data = {"system": system, "location_id": location_id, "sku": sku, **data}
    return event(f"retail.inventory.{type_}", data, id=f"inv-{next(_ids)}", source=system,
                 time=iso(AS_OF - timedelta(minutes=minutes_before)), subject=sku)  # fmt: skip


def snapshot(system: str, location_id: str, sku: str, on_hand: int, minutes_before: float = 60) -> dict:
    return stock("snapshot", system, location_id, sku, minutes_before, on_hand=on_hand)


ESTATE = [
    location(STORE, "store", "north"),
    location(DC, "dc", "east"),
    created("O-1", nov(17), nov(20, 18)),
    happened("routed", "O-1", nov(17, 1), node_id=STORE),
    happened("delivered", "O-1", nov(21)),
    created("O-2", nov(18), nov(26)),
    happened("routed", "O-2", nov(18, 1), node_id=STORE),
    rerouted("O-2", nov(18, 2), STORE, DC, "stockout"),
    created("O-3", nov(18), nov(22), channel="store"),
    happened("routed", "O-3", nov(18, 1), node_id=STORE),
    rerouted("O-3", nov(19), STORE, DC, "capacity"),
    rerouted("O-3", nov(20), DC, STORE, "stockout"),
    created("O-4", nov(19), nov(30), channel="marketplace"),
    created("O-5", nov(19), nov(20)),
    happened("routed", "O-5", nov(19, 1), node_id=DC),
    rerouted("O-5", nov(19, 2), DC, STORE, "carrier"),
    happened("cancelled", "O-5", nov(19, 3)),
    created("O-6", nov(20), nov(25, 20)),
    happened("routed", "O-6", nov(20, 1), node_id=DC),
    happened("shipped", "O-6", nov(24), node_id=DC),
    created("O-7", nov(10), nov(12)),
    created("O-8", nov(18), nov(20)),
    happened("routed", "O-8", nov(18, 1), node_id=DC),
    happened("delivered", "O-8", nov(19)),
    event(
        "retail.product.upserted",
        {"sku": SKU, "unit_cost": 4.5, "category": "toys"},
        id="prod-1",
        source="erp",
        time=iso(nov(1)),
        subject=SKU,
    ),  # fmt: skip
    snapshot("erp", DC, SKU, 100),
    snapshot("wms", DC, SKU, 94),
    stock("adjusted", "wms", DC, SKU, 15, delta=4, reason="receipt"),
    snapshot("oms", DC, SKU, 103),
    snapshot("erp", DC, SKU2, 10),
    snapshot("wms", DC, SKU2, 13),
    snapshot("erp", STORE, SKU, 5, minutes_before=600),
    snapshot("pos", STORE, SKU, -2),
    snapshot("pos", STORE, SKU2, 4, minutes_before=480),
]


@pytest.fixture
def conn(engine: Engine, ingest: Callable[..., Any]) -> Iterator[Connection]:
    counts = ingest(jsonl(*ESTATE))
    assert counts.accepted == len(ESTATE), counts
    with engine.connect() as c:
        yield c


def orders(listed: tuple[int, Any]) -> tuple[int, list[str]]:
    total, frame = listed
    return total, frame["order_id"].to_list()


def positions(listed: tuple[int, Any], *columns: str) -> tuple[int, list[tuple[Any, ...]]]:
    total, frame = listed
    return total, frame.select(columns or ("position", "system")).rows()


P = Policies()


# --- SLA -------------------------------------------------------------------------------


def test_the_breached_orders_are_listed_latest_past_their_promise_first(conn: Connection) -> None:
    total, frame = drilldown.sla_orders(conn, WINDOW, P, figure="breached")

    assert total == 2
    assert frame.select("order_id", "channel", "node", "status", "late_hours").rows() == [
        ("O-3", "store", STORE, "routed", 84.0),  # 22 Nov 00:00 to 25 Nov 12:00
        ("O-1", "web", STORE, "delivered", 6.0),  # 20 Nov 18:00 to 21 Nov 00:00
    ]


def test_a_picked_channel_lists_only_that_channels_breached_orders(conn: Connection) -> None:
    assert orders(drilldown.sla_orders(conn, WINDOW, P, figure="breached", channel="web")) == (1, ["O-1"])
    assert orders(drilldown.sla_orders(conn, WINDOW, P, figure="breached", channel="store")) == (1, ["O-3"])
    assert orders(drilldown.sla_orders(conn, WINDOW, P, figure="breached", channel="marketplace")) == (0, [])


def test_the_at_risk_list_is_the_open_unshipped_order_due_within_a_day(conn: Connection) -> None:
    total, frame = drilldown.sla_orders(conn, WINDOW, P, figure="at_risk")

    # O-2 is due in 12 h; O-6 in 8 h but shipped; O-4 in 108 h
    assert total == 1
    assert frame.select("order_id", "late_hours").rows() == [("O-2", -12.0)]


def test_a_channels_own_at_risk_hours_narrow_its_list(conn: Connection) -> None:
    web_six_hours = Policies(scoped={"at_risk_hours": {"web": 6.0}})

    # O-2 (web) is due in 12 h: not within the web channel's 6 h
    assert orders(drilldown.sla_orders(conn, WINDOW, web_six_hours, figure="at_risk")) == (0, [])


def test_the_never_routed_node_bar_lists_the_order_without_a_node(conn: Connection) -> None:
    assert orders(drilldown.sla_orders(conn, WINDOW, P, figure="orders", node=NONE)) == (1, ["O-4"])
    total, listed = orders(drilldown.sla_orders(conn, WINDOW, P, figure="orders", node=DC))
    assert (total, sorted(listed)) == (3, ["O-2", "O-6", "O-8"])


def test_the_limit_caps_the_rows_but_not_the_count(conn: Connection) -> None:
    assert orders(drilldown.sla_orders(conn, WINDOW, P, figure="orders", limit=2)) == (6, ["O-3", "O-1"])


def test_the_scope_narrows_by_channel_node_and_the_nodes_region(conn: Connection) -> None:
    def breached(scope: Scope) -> tuple[int, list[str]]:
        return orders(drilldown.sla_orders(conn, WINDOW, P, scope=scope, figure="breached"))

    assert breached(Scope(channel="web")) == (1, ["O-1"])
    assert breached(Scope(node=STORE)) == (2, ["O-3", "O-1"])
    assert breached(Scope(node=DC)) == (0, [])
    assert breached(Scope(region="north")) == (2, ["O-3", "O-1"])  # both at STORE-0042
    assert breached(Scope(region="east")) == (0, [])
    # the scope and the picked bar both narrow: web orders of the store channel are none
    web_scope = Scope(channel="web")
    assert orders(drilldown.sla_orders(conn, WINDOW, P, scope=web_scope, channel="store")) == (0, [])


def test_a_bad_figure_or_limit_is_refused_in_one_line(conn: Connection) -> None:
    with pytest.raises(ValueError, match="figure must be one of orders, breached, at_risk, not 'late'"):
        drilldown.sla_orders(conn, WINDOW, P, figure="late")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be at least 1"):
        drilldown.rerouted_orders(conn, WINDOW, P, limit=0)


# --- Reroutes --------------------------------------------------------------------------


def test_rerouted_orders_count_the_cancelled_one_and_show_each_path(conn: Connection) -> None:
    total, frame = drilldown.rerouted_orders(conn, WINDOW, P, figure="rerouted")

    assert total == 3
    assert frame.select("order_id", "status", "reroutes", "reroute_path").rows() == [
        ("O-3", "routed", 2, f"{STORE} → {DC} (capacity), {DC} → {STORE} (stockout)"),
        ("O-2", "routed", 1, f"{STORE} → {DC} (stockout)"),
        ("O-5", "cancelled", 1, f"{DC} → {STORE} (carrier)"),
    ]


def test_a_picked_reason_or_from_node_lists_the_orders_with_such_a_reroute(conn: Connection) -> None:
    def listed(**pick: str) -> tuple[int, list[str]]:
        return orders(drilldown.rerouted_orders(conn, WINDOW, P, **pick))  # type: ignore[arg-type]

    assert listed(reason="stockout") == (2, ["O-3", "O-2"])
    assert listed(reason="capacity") == (1, ["O-3"])
    assert listed(reason="carrier") == (1, ["O-5"])
    assert listed(from_node=STORE) == (2, ["O-3", "O-2"])
    assert listed(from_node=DC) == (2, ["O-3", "O-5"])
    assert listed(figure="repeated") == (1, ["O-3"])


# --- Inventory -------------------------------------------------------------------------


def test_the_pairs_out_of_tolerance_are_listed_largest_difference_first(conn: Connection) -> None:
    total, frame = drilldown.inventory_pairs(conn, WINDOW, P)

    assert total == 2
    assert frame.select("position", "system", "reference_quantity", "quantity", "diff", "value").rows() == [
        (f"{SKU}@{STORE}", "pos", 5, -2, -7, 31.5),  # 7 units at 4.5
        (f"{SKU2}@{DC}", "wms", 10, 13, 3, 0.0),  # no product record: cost 0
    ]


def test_before_an_adjustment_the_list_is_read_from_the_events_at_that_instant(conn: Connection) -> None:
    # 30 min before AS_OF the wms count at the DC is 94 without the +4 of 15 min before
    assert positions(drilldown.inventory_pairs(conn, EARLIER, P), "position", "system", "diff") == (
        3,
        [(f"{SKU}@{STORE}", "pos", -7), (f"{SKU}@{DC}", "wms", -6), (f"{SKU2}@{DC}", "wms", 3)],
    )


def test_with_another_reference_system_the_pairs_are_joined_from_the_positions(conn: Connection) -> None:
    # inventory_pairs is built for erp; against wms the list joins the positions, and the
    # pairs are each other system's position beside wms's at the DC (erp, oms at DC-EAST)
    wms = Policies(reference_system="wms")
    total, frame = drilldown.inventory_pairs(conn, WINDOW, wms, figure="pairs")

    assert total == inventory.summary(conn, WINDOW, wms)["pairs_compared"]
    assert total > 0
    assert set(frame["system"].to_list()) <= {"erp", "oms", "pos"}
    assert set(frame["location_id"].to_list()) == {DC}


def test_a_picked_location_system_or_unknown_category_narrows_the_pairs(conn: Connection) -> None:
    def listed(**pick: str) -> tuple[int, list[tuple[Any, ...]]]:
        return positions(drilldown.inventory_pairs(conn, WINDOW, P, **pick))  # type: ignore[arg-type]

    assert listed(location=DC) == (1, [(f"{SKU2}@{DC}", "wms")])
    assert listed(system="pos") == (1, [(f"{SKU}@{STORE}", "pos")])
    assert listed(category=NONE) == (1, [(f"{SKU2}@{DC}", "wms")])
    assert listed(figure="pairs", category="toys") == (
        3,
        [(f"{SKU}@{STORE}", "pos"), (f"{SKU}@{DC}", "oms"), (f"{SKU}@{DC}", "wms")],
    )


def test_negative_and_stale_positions_are_listed_with_the_reference_quantity(conn: Connection) -> None:
    negative = drilldown.inventory_positions(conn, WINDOW, P, figure="negative")
    stale = drilldown.inventory_positions(conn, WINDOW, P, figure="stale")

    assert positions(negative, "position", "system", "quantity", "reference_quantity") == (
        1,
        [(f"{SKU}@{STORE}", "pos", -2, 5)],
    )
    assert positions(stale, "position", "system", "age_hours", "reference_quantity") == (
        2,
        [(f"{SKU}@{STORE}", "erp", 10.0, 5), (f"{SKU2}@{STORE}", "pos", 8.0, None)],  # oldest first
    )


def test_a_stores_own_stale_hours_and_the_scope_narrow_the_positions(conn: Connection) -> None:
    stores_twelve_hours = Policies(scoped={"stale_hours": {"store": 12.0}})

    assert drilldown.inventory_positions(conn, WINDOW, stores_twelve_hours, figure="stale")[0] == 0
    assert drilldown.inventory_positions(conn, WINDOW, P, scope=Scope(node=DC), figure="stale")[0] == 0
    assert drilldown.inventory_positions(conn, WINDOW, P, scope=Scope(region="north"), figure="stale")[0] == 2
    assert drilldown.inventory_pairs(conn, WINDOW, P, scope=Scope(region="east"))[0] == 1


# --- every list counts what its figure counts ---------------------------------------------


# the whole estate, each kind of filter, and a region no location is in
SCOPES = [ALL, Scope(channel="web"), Scope(node=STORE), Scope(region="east"), Scope(region="nowhere")]


@pytest.mark.parametrize("window", [WINDOW, EARLIER], ids=["as_of", "half_an_hour_before"])
def test_every_orders_list_counts_exactly_its_figure_in_every_scope(conn: Connection, window: Window) -> None:
    for scope in SCOPES:
        orders_lists_count_their_figures(conn, window, scope)


def orders_lists_count_their_figures(conn: Connection, window: Window, scope: Scope) -> None:
    def count(fn: Callable[..., tuple[int, Any]], **pick: Any) -> int:
        return fn(conn, window, P, scope=scope, **pick)[0]

    figures = sla.summary(conn, window, P, scope=scope)
    for figure in ("orders", "breached", "at_risk"):
        assert count(drilldown.sla_orders, figure=figure) == figures[figure]
    by_channel = sla.by_channel(conn, window, P, scope=scope)
    assert sum(by_channel["breached"]) == figures["breached"]
    for row in by_channel.iter_rows(named=True):
        assert count(drilldown.sla_orders, figure="breached", channel=row["channel"]) == row["breached"]
        assert count(drilldown.sla_orders, figure="orders", channel=row["channel"]) == row["orders"]
    by_node = sla.by_node(conn, window, P, scope=scope)
    assert sum(by_node["breached"]) == figures["breached"]
    for row in by_node.iter_rows(named=True):
        node = NONE if row["node"] is None else row["node"]
        assert count(drilldown.sla_orders, figure="breached", node=node) == row["breached"]
        assert count(drilldown.sla_orders, figure="orders", node=node) == row["orders"]

    moved = reroutes.summary(conn, window, P, scope=scope)
    assert count(drilldown.rerouted_orders, figure="rerouted") == moved["rerouted_orders"]
    assert count(drilldown.rerouted_orders, figure="repeated") == moved["repeated"]
    for row in reroutes.by_reason(conn, window, P, scope=scope).iter_rows(named=True):
        assert count(drilldown.rerouted_orders, reason=row["reason"]) == row["rerouted_orders"]
    for row in reroutes.by_from_node(conn, window, P, scope=scope).iter_rows(named=True):
        assert count(drilldown.rerouted_orders, from_node=row["from_node"]) == row["rerouted_orders"]


def test_the_whole_estates_figures_are_the_ones_worked_out_by_hand(conn: Connection) -> None:
    for window in (WINDOW, EARLIER):
        figures = sla.summary(conn, window, P)
        assert (figures["orders"], figures["breached"], figures["at_risk"]) == (6, 2, 1)
        moved = reroutes.summary(conn, window, P)
        assert (moved["rerouted_orders"], moved["repeated"]) == (3, 1)
    for window, out in ((WINDOW, 2), (EARLIER, 3)):
        stock_figures = inventory.summary(conn, window, P)
        assert (stock_figures["pairs_compared"], stock_figures["out_of_tolerance"]) == (4, out)
        assert (stock_figures["negative_positions"], stock_figures["stale_positions"]) == (1, 2)


@pytest.mark.parametrize("window", [WINDOW, EARLIER], ids=["as_of", "half_an_hour_before"])
def test_every_positions_list_counts_exactly_its_figure_in_every_scope(
    conn: Connection, window: Window
) -> None:
    for scope in SCOPES:
        positions_lists_count_their_figures(conn, window, scope)


def positions_lists_count_their_figures(conn: Connection, window: Window, scope: Scope) -> None:
    def count(fn: Callable[..., tuple[int, Any]], **pick: Any) -> int:
        return fn(conn, window, P, scope=scope, **pick)[0]

    figures = inventory.summary(conn, window, P, scope=scope)
    assert count(drilldown.inventory_pairs, figure="pairs") == figures["pairs_compared"]
    assert count(drilldown.inventory_pairs, figure="out_of_tolerance") == figures["out_of_tolerance"]
    assert count(drilldown.inventory_positions, figure="negative") == figures["negative_positions"]
    assert count(drilldown.inventory_positions, figure="stale") == figures["stale_positions"]
    keys = (("location", "location_id"), ("system", "system"), ("category", "category"))
    for dimension, column_of_key in keys:
        rows = inventory.breakdown(conn, window, P, dimension, scope=scope).to_dicts()  # type: ignore[arg-type]
        assert sum(r["out_of_tolerance"] for r in rows) == figures["out_of_tolerance"]
        for row in rows:
            key = NONE if row[column_of_key] is None else row[column_of_key]
            for figure, column in (("out_of_tolerance", "out_of_tolerance"), ("pairs", "pairs_compared")):
                assert count(drilldown.inventory_pairs, figure=figure, **{dimension: key}) == row[column]
