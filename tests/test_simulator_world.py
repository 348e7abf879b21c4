"""The simulated estate and its business: what the world emits, when, and how commands act.

Most tests read two weeks of a small estate (5 stores, 50 SKUs, 900 orders a day) run
once for the module; the command tests drive their own world.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from app.events.validator import EVENT_VALIDATOR
from simulator.estate import Estate, EstateConfig
from simulator.world import Emitted, World

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAYS = 14
SMALL = EstateConfig(
    stores=5,
    skus=50,
    suppliers=4,
    web_orders_per_day=600,
    marketplace_orders_per_day=200,
    store_orders_per_day=100,
)
LIFECYCLE = ("created", "routed", "picked", "packed", "shipped", "delivered")


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def run(world: World, until: datetime, step: timedelta | None = None) -> list[Emitted]:
    out: list[Emitted] = []
    if step is None:
        out.extend(world.advance(until))
        return out
    t = world.now
    while t < until:
        t = min(until, t + step)
        out.extend(world.advance(t))
    return out


@pytest.fixture(scope="module")
def fortnight() -> tuple[World, list[Emitted]]:
    world = World(Estate.build(SMALL), START)
    return world, run(world, START + timedelta(days=DAYS))


@pytest.fixture(scope="module")
def events(fortnight: tuple[World, list[Emitted]]) -> list[dict[str, Any]]:
    return [e.event for e in fortnight[1]]


@pytest.fixture(scope="module")
def orders(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["type"].startswith("retail.order."):
            by_order[event["data"]["order_id"]].append(event)
    return by_order


def of_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == f"retail.{name}"]


# --- determinism and the contract --------------------------------------------------------
def test_the_same_seed_gives_the_same_events_whatever_the_step_sizes() -> None:
    until = START + timedelta(days=2)
    in_one_step = run(World(Estate.build(SMALL), START), until)
    hour_by_hour = run(World(Estate.build(SMALL), START), until, timedelta(hours=1))
    assert len(in_one_step) > 10_000
    assert in_one_step == hour_by_hour


DIGEST = """
import hashlib, orjson
from datetime import UTC, datetime, timedelta
from simulator.estate import Estate, EstateConfig
from simulator.world import World
estate = Estate.build(EstateConfig(stores=3, skus=30, web_orders_per_day=300))
world = World(estate, datetime(2026, 11, 2, tzinfo=UTC))
digest = hashlib.sha256()
for e in world.advance(datetime(2026, 11, 3, tzinfo=UTC)):
    digest.update(orjson.dumps([e.system, e.event, e.publish_at.isoformat()]))
print(digest.hexdigest())
"""


def test_the_same_seed_gives_the_same_events_in_another_process() -> None:
    def digest(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", DIGEST], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert digest("1") == digest("2") != ""


def test_the_world_does_not_go_back_in_time() -> None:
    world = World(Estate.build(SMALL), START)
    run(world, START + timedelta(hours=2))
    assert world.now == START + timedelta(hours=2)
    with pytest.raises(ValueError, match="cannot go back in time"):
        world.advance(START + timedelta(hours=1))


def test_the_default_estate_has_300_stores_2_dcs_and_ranges_of_300_to_600_skus() -> None:
    estate = Estate.build(EstateConfig())
    kinds = Counter(loc.kind for loc in estate.locations)
    assert kinds == {"store": 300, "dc": 2, "marketplace": 1}
    assert len({loc.region for loc in estate.stores}) == 6
    assert len(estate.products) == 2000 and len(estate.suppliers) == 40
    sizes = [len(skus) for skus in estate.ranges.values()]
    assert min(sizes) >= 300 and max(sizes) <= 700  # 300 to 600 drawn, plus the best sellers everywhere
    assert all(
        estate.starting_stock[dc.location_id].keys() == {p.sku for p in estate.products} for dc in estate.dcs
    )
    assert all(p.unit_price > p.unit_cost > 0 for p in estate.products)


def test_another_seed_gives_another_day() -> None:
    until = START + timedelta(days=1)
    one = run(World(Estate.build(SMALL), START), until)
    other = run(World(Estate.build(SMALL), START, seed=8), until)
    assert [e.event for e in one] != [e.event for e in other]


def test_every_emitted_event_is_valid_against_the_contract(events: list[dict[str, Any]]) -> None:
    for event in events:
        EVENT_VALIDATOR.validate_json(orjson.dumps(event))


def test_event_ids_are_unique_per_source(events: list[dict[str, Any]]) -> None:
    keys = Counter((e["source"], e["id"]) for e in events)
    assert keys.most_common(1)[0][1] == 1


def test_master_data_comes_first_for_every_location_and_sku(events: list[dict[str, Any]]) -> None:
    estate = Estate.build(SMALL)
    n_locations, n_skus = len(estate.locations), len(estate.products)
    assert n_locations == 5 + 2 + 1  # stores, DCs, the marketplace
    head = events[: n_locations + n_skus]
    assert [e["type"] for e in head] == ["retail.location.upserted"] * n_locations + [
        "retail.product.upserted"
    ] * n_skus
    assert {e["data"]["location_id"] for e in head[:n_locations]} == {
        "STORE-0001",
        "STORE-0002",
        "STORE-0003",
        "STORE-0004",
        "STORE-0005",
        "DC-NORTH",
        "DC-SOUTH",
        "MKT-ACME",
    }
    assert all(e["source"] == "erp" and e["time"] == "2026-11-02T00:00:00+00:00" for e in head)


def test_events_come_out_in_business_time_order(fortnight: tuple[World, list[Emitted]]) -> None:
    times = [parse(e.event["time"]) for e in fortnight[1]]
    assert times == sorted(times)
    assert times[-1] < START + timedelta(days=DAYS)


# --- publishing cadences -----------------------------------------------------------------
def test_no_system_publishes_a_fact_before_it_happens(fortnight: tuple[World, list[Emitted]]) -> None:
    assert all(e.publish_at >= parse(e.event["time"]) for e in fortnight[1])


def test_each_system_publishes_on_its_own_cadence(fortnight: tuple[World, list[Emitted]]) -> None:
    lag: dict[str, list[float]] = defaultdict(list)
    for e in fortnight[1]:
        at = e.publish_at
        if e.system == "pos":
            assert (at.hour % 4, at.minute, at.second) == (0, 0, 0)  # 4-hourly batches
        elif e.system == "erp":
            assert (at.minute, at.second) == (0, 0)  # on the hour
        elif e.system == "marketplace":
            assert at.minute % 15 == 0 and at.second == 0
        lag[e.system].append((at - parse(e.event["time"])).total_seconds())
    assert set(lag["middleware"]) == {0.0}
    for system in ("oms", "wms"):
        within_seconds = sum(1 for s in lag[system] if s <= 10) / len(lag[system])
        assert 0.99 < within_seconds < 1  # near real time, a few held back for hours
        assert max(lag[system]) > 3600
    assert max(lag["pos"]) > 4 * 3600  # some store batches miss their slot


# --- orders ------------------------------------------------------------------------------
def test_orders_per_channel_come_in_near_the_configured_daily_rates(events: list[dict[str, Any]]) -> None:
    per_day = Counter(e["data"]["channel"] for e in of_type(events, "order.created"))
    assert (per_day["web"] + per_day["phone"]) / DAYS == pytest.approx(600, rel=0.06)
    assert per_day["phone"] / DAYS == pytest.approx(24, rel=0.25)
    assert per_day["marketplace"] / DAYS == pytest.approx(200, rel=0.06)
    assert per_day["store"] / DAYS == pytest.approx(100, rel=0.08)


def test_the_evening_is_busier_than_the_night_and_monday_than_saturday(events: list[dict[str, Any]]) -> None:
    created = [parse(e["time"]) for e in of_type(events, "order.created")]
    by_hour = Counter(t.hour for t in created)
    assert by_hour[20] > 5 * by_hour[3]
    by_weekday = Counter(t.weekday() for t in created)
    assert by_weekday[0] > 1.1 * by_weekday[5]


def test_marketplace_orders_come_from_the_marketplace_and_the_rest_from_oms(
    events: list[dict[str, Any]],
) -> None:
    for e in of_type(events, "order.created"):
        assert e["source"] == ("marketplace/acme" if e["data"]["channel"] == "marketplace" else "oms")


def test_each_orders_events_follow_its_lifecycle_in_time(orders: dict[str, list[dict[str, Any]]]) -> None:
    delivered = 0
    for history in orders.values():
        stages = [e["type"].removeprefix("retail.order.") for e in history]
        times = [parse(e["time"]) for e in history]
        assert times == sorted(times)
        assert stages[0] == "created"
        main = [(s, t) for s, t in zip(stages, times, strict=True) if s in LIFECYCLE]
        assert [s for s, _ in main] == list(LIFECYCLE[: len(main)]) or [s for s, _ in main] == [
            "created",
            "routed",
            "picked",
            "packed",
            "delivered",  # click & collect in the customer's store
        ]
        assert all(a[1] < b[1] for a, b in itertools.pairwise(main))
        delivered += stages[-1] == "delivered"
    assert delivered > 0.6 * len(orders)


def test_between_5_and_12_percent_of_delivered_orders_are_late(
    orders: dict[str, list[dict[str, Any]]],
) -> None:
    cutoff = START + timedelta(days=DAYS - 5)  # orders with time to be delivered
    delivered = late = 0
    for history in orders.values():
        created = history[0]
        if parse(created["time"]) < cutoff and history[-1]["type"] == "retail.order.delivered":
            delivered += 1
            late += parse(history[-1]["time"]) > parse(created["data"]["promised_by"])
    assert delivered > 5000
    assert 0.05 <= late / delivered <= 0.12


def test_a_few_percent_of_orders_are_cancelled_rerouted_or_in_trouble(
    events: list[dict[str, Any]], orders: dict[str, list[dict[str, Any]]]
) -> None:
    n = len(orders)
    cancelled = of_type(events, "order.cancelled")
    assert 0.01 <= len(cancelled) / n <= 0.03
    reroutes = of_type(events, "order.rerouted")
    assert 0.01 <= len({e["data"]["order_id"] for e in reroutes}) / n <= 0.15
    assert {e["data"]["reason"] for e in reroutes} >= {"stockout", "capacity", "failed_pick"}
    kinds = Counter(e["data"]["kind"] for e in of_type(events, "order.exception"))
    assert set(kinds) >= {"backorder", "substitution", "failed_pick", "failed_delivery", "address_issue"}


def test_a_reroute_moves_the_order_from_its_current_node(orders: dict[str, list[dict[str, Any]]]) -> None:
    for history in orders.values():
        node = None
        for e in history:
            data = e["data"]
            if e["type"] == "retail.order.routed":
                node = data["node_id"]
            elif e["type"] == "retail.order.rerouted":
                assert data["from_node"] == node != data["to_node"]
                node = data["to_node"]
            elif e["type"] in ("retail.order.picked", "retail.order.shipped"):
                assert data["node_id"] == node


def test_finished_orders_are_dropped_from_the_worlds_state(fortnight: tuple[World, list[Emitted]]) -> None:
    world = fortnight[0]
    assert world.open_orders() < 4 * 900  # a few days' orders in flight, not two weeks'


# --- stock -------------------------------------------------------------------------------
def test_each_sale_is_booked_by_the_system_that_runs_the_location(events: list[dict[str, Any]]) -> None:
    sales = [e for e in of_type(events, "inventory.adjusted") if e["data"]["reason"] == "sale"]
    assert sales
    for e in sales:
        loc = e["data"]["location_id"]
        assert e["data"]["delta"] < 0
        assert e["source"] == ("wms/" if loc.startswith("DC-") else "pos/") + loc.lower()


def test_pos_books_each_store_sale_at_once_and_erp_learns_them_from_the_four_hourly_upload(
    events: list[dict[str, Any]],
) -> None:
    till_hours = Counter(
        parse(e["time"]).hour
        for e in of_type(events, "inventory.adjusted")
        if e["data"]["reason"] == "sale" and e["source"].startswith("pos/")
    )
    assert set(till_hours) >= set(range(9, 20))  # booked when they happen, through opening hours
    erp_store_hours = Counter(
        parse(e["time"]).hour % 4
        for e in of_type(events, "inventory.snapshot")
        if e["data"]["system"] == "erp" and e["data"]["location_id"].startswith("STORE-")
    )
    total = sum(erp_store_hours.values())
    # uploads run at 00:05, 04:05, ...; ERP exports what changed on the next hour (01:00, 05:00, ...)
    assert erp_store_hours[1] / total > 0.9  # the rest: transfers ERP receives from the ASN


def positions(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """Each system's quantity per position at the end: its latest snapshot plus later adjustments."""
    qty: dict[tuple[str, str, str], int] = {}
    for e in events:
        d = e["data"]
        key = (d.get("system", ""), d.get("location_id", ""), d.get("sku", ""))
        if e["type"] == "retail.inventory.snapshot":
            qty[key] = d["on_hand"]
        elif e["type"] == "retail.inventory.adjusted" and key in qty:
            qty[key] += d["delta"]
    return qty


def test_the_systems_mostly_agree_on_stock_and_disagree_where_a_feed_lags(
    events: list[dict[str, Any]],
) -> None:
    qty = positions(events)
    compared: Counter[str] = Counter()
    apart: Counter[str] = Counter()
    for (system, loc, sku), on_hand in qty.items():
        reference = qty.get(("erp", loc, sku))
        if system != "erp" and reference is not None:
            compared[system] += 1
            apart[system] += abs(on_hand - reference) > max(2, 0.05 * abs(reference))
    ranged = sum(len(skus) for skus in Estate.build(SMALL).ranges.values())
    assert compared["wms"] == 2 * 50 and compared["pos"] == ranged
    assert apart["wms"] / compared["wms"] < 0.1  # ERP is at most an hour behind the WMS
    assert apart["oms"] > apart["wms"]  # OMS takes ERP's stock once a day
    assert sum(apart.values()) > 0


def test_wms_and_pos_snapshots_agree_with_the_movements_they_published(events: list[dict[str, Any]]) -> None:
    running: dict[tuple[str, str, str], int] = {}
    checked = 0
    for e in events:
        d = e["data"]
        if e["type"] not in ("retail.inventory.snapshot", "retail.inventory.adjusted") or d["system"] not in (
            "wms",
            "pos",
        ):
            continue
        key = (d["system"], d["location_id"], d["sku"])
        if e["type"] == "retail.inventory.adjusted":
            running[key] = running.get(key, 0) + d["delta"]
        else:
            if key in running:
                assert d["on_hand"] == running[key]
                checked += 1
            running[key] = d["on_hand"]
    assert checked > 1000


def test_oms_takes_its_stock_from_erps_daily_feed(events: list[dict[str, Any]]) -> None:
    snapshots = of_type(events, "inventory.snapshot")
    erp: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for e in snapshots:
        if e["data"]["system"] == "erp":
            erp[(e["data"]["location_id"], e["data"]["sku"])].append((e["time"], e["data"]["on_hand"]))
    fed = 0
    for e in snapshots:
        d = e["data"]
        if d["system"] == "oms" and e["time"][11:15] == "03:0":  # the feed runs at 03:00
            erp_then = [qty for t, qty in erp[(d["location_id"], d["sku"])] if t <= e["time"]][-1]
            assert d["on_hand"] == erp_then
            fed += 1
    assert fed > 100


def test_cycle_counts_correct_the_books_down_for_shrink_and_up_for_missed_receipts(
    events: list[dict[str, Any]],
) -> None:
    counts = [
        e["data"] for e in of_type(events, "inventory.adjusted") if e["data"]["reason"] == "cycle_count"
    ]
    assert len(counts) > 20
    assert any(c["delta"] < 0 for c in counts) and any(c["delta"] > 0 for c in counts)
    assert {c["location_id"][:3] for c in counts} == {"DC-", "STO"}


# --- inbound and returns -----------------------------------------------------------------
def test_purchase_orders_are_confirmed_and_received_and_a_few_shipped_short(
    events: list[dict[str, Any]],
) -> None:
    statuses: dict[str, list[str]] = defaultdict(list)
    for e in of_type(events, "po.updated"):
        statuses[e["data"]["po_id"]].append(e["data"]["status"])
    assert len(statuses) > 10
    for history in statuses.values():
        assert history[0] == "open"
        assert history[1:2] in ([], ["confirmed"], ["changed"], ["cancelled"])
    assert any(h[-1] == "received" for h in statuses.values())
    ordered = {e["data"]["po_id"]: e["data"]["qty"] for e in of_type(events, "po.updated")}
    announced = [
        (e["data"].get("po_id"), e["data"]["lines"][0]["qty"]) for e in of_type(events, "shipment.asn")
    ]
    shipped_short = [po for po, qty in announced if po in ordered and qty < ordered[po]]
    assert 0 < len(shipped_short) < 0.15 * len(ordered)


def test_some_receipts_are_late_against_their_asn_and_some_have_none(events: list[dict[str, Any]]) -> None:
    asns = {e["data"]["shipment_id"]: e for e in of_type(events, "shipment.asn")}
    receipts = of_type(events, "shipment.received")
    late = without_asn = 0
    for r in receipts:
        asn = asns.get(r["data"]["shipment_id"])
        if asn is None:
            without_asn += 1
        elif parse(r["time"]) - parse(asn["data"]["expected_at"]) > timedelta(hours=4):
            late += 1
    assert 0.03 < late / len(receipts) < 0.3
    assert 0 < without_asn / len(receipts) < 0.1


def test_each_shipment_is_announced_once_and_received_where_it_was_announced(
    events: list[dict[str, Any]],
) -> None:
    asns = Counter(e["data"]["shipment_id"] for e in of_type(events, "shipment.asn"))
    assert asns.most_common(1)[0][1] == 1
    to = {e["data"]["shipment_id"]: e["data"]["to_location"] for e in of_type(events, "shipment.asn")}
    receipts = of_type(events, "shipment.received")
    assert Counter(e["data"]["shipment_id"] for e in receipts).most_common(1)[0][1] == 1
    assert all(
        to.get(e["data"]["shipment_id"], e["data"]["location_id"]) == e["data"]["location_id"]
        for e in receipts
    )


def test_transfers_go_from_a_dc_to_a_store(events: list[dict[str, Any]]) -> None:
    transfers = of_type(events, "transfer.requested")
    assert transfers
    assert all(t["data"]["from_location"].startswith("DC-") for t in transfers)
    assert all(t["data"]["to_location"].startswith("STORE-") for t in transfers)


def test_a_few_percent_of_delivered_orders_come_back_and_most_are_restocked(
    events: list[dict[str, Any]],
) -> None:
    early = START + timedelta(days=3)  # their returns (2 to 14 days later) mostly fall in the fortnight
    delivered = {
        e["data"]["order_id"] for e in of_type(events, "order.delivered") if parse(e["time"]) < early
    }
    returns = of_type(events, "return.received")
    came_back = {e["data"]["order_id"] for e in returns} & delivered
    assert 0.03 < len(came_back) / len(delivered) < 0.09
    cutoff = START + timedelta(days=DAYS - 4)
    settled = [e["data"]["return_id"] for e in returns if parse(e["time"]) < cutoff]
    restocked = {e["data"]["return_id"] for e in of_type(events, "return.restocked")}
    assert 0.85 < len(restocked.intersection(settled)) / len(settled) < 1
    refunded = {e["data"]["return_id"] for e in of_type(events, "return.refunded")}
    assert refunded <= {e["data"]["return_id"] for e in returns}


# --- integration calls -------------------------------------------------------------------
def test_a_failed_call_is_retried_with_the_next_attempt(events: list[dict[str, Any]]) -> None:
    calls = of_type(events, "integration.call")
    last: dict[tuple[str, str], dict[str, Any]] = {}
    retries = 0
    for c in calls:
        d = c["data"]
        key = (d["interface"], d["correlation_id"])
        if d["attempt"] > 1:
            retries += 1
            assert last[key]["attempt"] == d["attempt"] - 1 and last[key]["status"] != "ok"
        last[key] = d
    failures = sum(1 for c in calls if c["data"]["status"] != "ok")
    assert 0.005 < failures / len(calls) < 0.05
    assert retries >= failures * 0.8


def test_each_order_step_between_systems_is_a_call_carrying_the_order_id(
    events: list[dict[str, Any]],
) -> None:
    order_ids = {e["data"]["order_id"] for e in of_type(events, "order.created")}
    by_interface: dict[str, set[str]] = defaultdict(set)
    for c in of_type(events, "integration.call"):
        by_interface[c["data"]["interface"]].add(c["data"]["correlation_id"])
    for interface in (
        "oms.wms.create_pick",
        "wms.oms.ship_confirm",
        "oms.carrier.book",
        "marketplace.oms.order_in",
    ):
        assert by_interface[interface] and by_interface[interface] <= order_ids
    assert by_interface["pos.erp.sales_upload"] and by_interface["erp.oms.stock_feed"]


def test_an_interface_has_an_hour_long_error_burst_now_and_then(events: list[dict[str, Any]]) -> None:
    per_hour: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    for c in of_type(events, "integration.call"):
        key = (c["data"]["interface"], c["time"][:13])
        per_hour[key] += 1
        failed[key] += c["data"]["status"] != "ok"
    bursts = {key for key, n in per_hour.items() if n >= 10 and failed[key] / n > 0.25}
    assert 1 <= len(bursts) <= DAYS


# --- commands ----------------------------------------------------------------------------
@pytest.fixture
def world() -> World:
    world = World(Estate.build(SMALL), START)
    run(world, START + timedelta(hours=12))
    return world


def routed_not_picked(world: World) -> Any:
    return next(o for o in world.fulfilment.orders.values() if o.node is not None and not o.picked)


def test_a_manual_reroute_is_published_by_oms_and_the_same_command_twice_applies_once(world: World) -> None:
    order = routed_not_picked(world)
    to_node = "DC-SOUTH" if order.node != "DC-SOUTH" else "DC-NORTH"
    command = {"command_id": "cmd-1", "kind": "reroute", "order_id": order.order_id, "to_node": to_node}
    emitted = world.apply(command)
    reroute = emitted[0]
    assert reroute.system == "oms" and reroute.event["source"] == "oms"
    assert reroute.event["type"] == "retail.order.rerouted"
    assert reroute.event["data"] == {
        "order_id": order.order_id,
        "from_node": order_node_before(emitted),
        "to_node": to_node,
        "reason": "manual",
    }
    assert reroute.event["time"] == "2026-11-02T12:00:00+00:00"
    for e in emitted:
        EVENT_VALIDATOR.validate_json(orjson.dumps(e.event))
    assert world.apply(command) == []
    later = [e.event for e in run(world, START + timedelta(days=3))]
    picked = [
        e for e in later if e["type"] == "retail.order.picked" and e["data"]["order_id"] == order.order_id
    ]
    assert [e["data"]["node_id"] for e in picked] in ([to_node], [])


def order_node_before(emitted: list[Emitted]) -> str:
    return str(emitted[0].event["data"]["from_node"])


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ({"kind": "reroute", "order_id": "ORD-99999999", "to_node": "DC-NORTH"}, "ORD-99999999 is unknown"),
        ({"kind": "reroute", "order_id": "ROUTED", "to_node": "DC-MOON"}, "unknown node 'DC-MOON'"),
        ({"kind": "reroute", "order_id": "SHIPPED", "to_node": "DC-NORTH"}, "already shipped"),
        ({"kind": "teleport"}, "unknown command kind 'teleport'"),
        (
            {"kind": "adjust", "system": "pos", "location_id": "DC-NORTH", "sku": "SKU-00001", "delta": 3},
            "DC-NORTH is not run by pos",
        ),
        (
            {"kind": "hold", "location_id": "DC-NORTH", "sku": "SKU-99999", "qty": 3},
            "unknown sku 'SKU-99999'",
        ),
        (
            {"kind": "retry", "interface": "oms.wms.create_pick", "correlation_id": "ORD-1"},
            "no failed delivery",
        ),
    ],
)
def test_an_invalid_command_raises_with_a_clear_reason(
    world: World, command: dict[str, Any], reason: str
) -> None:
    orders = world.fulfilment.orders.values()
    if command.get("order_id") == "ROUTED":
        command["order_id"] = routed_not_picked(world).order_id
    if command.get("order_id") == "SHIPPED":
        command["order_id"] = next(o.order_id for o in orders if o.shipment_id is not None)
    with pytest.raises(ValueError, match=reason):
        world.apply({"command_id": "bad", **command})
    assert "\n" not in reason


def test_a_hold_lowers_what_oms_promises_until_it_is_released(world: World) -> None:
    key = {"location_id": "DC-NORTH", "sku": "SKU-00001"}
    available = world.ledger.available("DC-NORTH", "SKU-00001")
    (held,) = world.apply({"command_id": "h1", "kind": "hold", "qty": 5, **key})
    assert held.system == "oms" and held.event["type"] == "retail.inventory.snapshot"
    assert held.event["data"]["reserved"] >= 5
    assert world.ledger.available("DC-NORTH", "SKU-00001") == available - 5
    (released,) = world.apply({"command_id": "h2", "kind": "release_hold", **key})
    assert released.event["data"]["reserved"] == held.event["data"]["reserved"] - 5
    assert world.ledger.available("DC-NORTH", "SKU-00001") == available


def test_a_manual_adjustment_is_published_by_the_system_that_made_it(world: World) -> None:
    (wms,) = world.apply(
        {
            "command_id": "a1",
            "kind": "adjust",
            "system": "wms",
            "location_id": "DC-NORTH",
            "sku": "SKU-00007",
            "delta": -4,
            "reason": "manual",
        }
    )
    assert (wms.system, wms.event["source"]) == ("wms", "wms/dc-north")
    assert wms.event["data"] == {
        "system": "wms",
        "location_id": "DC-NORTH",
        "sku": "SKU-00007",
        "delta": -4,
        "reason": "manual",
    }
    (pos,) = world.apply(
        {
            "command_id": "a2",
            "kind": "adjust",
            "system": "pos",
            "location_id": "STORE-0002",
            "sku": "SKU-00007",
            "delta": 2,
        }
    )
    assert (pos.system, pos.event["source"], pos.event["data"]["reason"]) == (
        "pos",
        "pos/store-0002",
        "manual",
    )


def test_a_retry_delivers_a_failed_call_with_the_next_attempt() -> None:
    world = World(Estate.build(SMALL), START)
    failed = None
    while failed is None and world.now < START + timedelta(days=DAYS):
        run(world, world.now + timedelta(hours=6))
        failed = next(iter(world.middleware.failed.values()), None)
    assert failed is not None
    command = {
        "command_id": "r1",
        "kind": "retry",
        "interface": failed.interface,
        "correlation_id": failed.correlation_id,
    }
    (call,) = [e for e in world.apply(command) if e.event["type"] == "retail.integration.call"]
    assert call.system == "middleware"
    assert call.event["data"]["status"] == "ok"
    assert call.event["data"]["attempt"] == failed.attempt + 1
    assert call.event["data"]["correlation_id"] == failed.correlation_id
    assert world.apply(command) == []
