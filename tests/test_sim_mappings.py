"""The simulator's native shapes map back to the canonical events the world emitted."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.events.validator import EVENT_VALIDATOR
from collectors.base import Unmappable
from collectors.mappings import sim_erp, sim_marketplace, sim_middleware, sim_oms, sim_pos, sim_wms
from collectors.sql_table import row_value
from simulator.faults import Breakable, FaultBoard, break_record
from simulator.systems import erp, marketplace, middleware, oms, pos, wms
from simulator.systems.samples import samples
from simulator.systems.system import Published

MAPPINGS = {
    "oms": sim_oms.to_events,
    "wms": sim_wms.to_events,
    "middleware": sim_middleware.to_events,
    "pos": sim_pos.to_events,
    "marketplace": sim_marketplace.to_events,
}


def over_the_wire(system: str, event: dict[str, Any]) -> Any:
    """The native record as a collector receives it: through JSON, or a CSV file's row."""
    if system == "oms":
        return orjson.loads(orjson.dumps(oms.encode(event)))
    if system == "wms":
        return orjson.loads(orjson.dumps({"id": 1, **wms.encode(event)}))
    if system == "middleware":
        return orjson.loads(orjson.dumps(middleware.encode(event)))
    if system == "marketplace":
        return orjson.loads(orjson.dumps(marketplace.encode(event).record))
    if system == "pos":
        return csv_row(pos.encode(event).row)
    raise AssertionError(system)


def csv_row(row: dict[str, Any]) -> dict[str, str]:
    text = pos.HEADER + pos.csv_line(row)
    return next(csv.DictReader(io.StringIO(text), delimiter=sim_pos.DELIMITER))


def canonical(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the contract reads it (timestamps as instants, whatever their offset)."""
    return EVENT_VALIDATOR.validate_json(orjson.dumps(event))


def mapped(system: str, event: dict[str, Any]) -> dict[str, Any]:
    events = MAPPINGS[system](over_the_wire(system, event))
    assert len(events) == 1
    return events[0]


NON_ERP = [s for s in samples() if s.system != "erp"]


@pytest.mark.parametrize("sample", NON_ERP, ids=[f"{s.system}-{s.event['type']}" for s in NON_ERP])
def test_each_native_shape_maps_back_to_the_event_it_came_from(sample: Any) -> None:
    back = mapped(sample.system, sample.event)
    assert canonical(back) == canonical(sample.event)


def test_erp_rows_read_from_the_database_map_back_to_their_events(engine: Engine) -> None:
    from simulator.storage import ensure_schema

    ensure_schema(engine)
    system = erp.system()
    wanted = [s for s in samples() if s.system == "erp"]
    with engine.begin() as conn:
        system.write(conn, [Published(s.publish_at, system.encode(s.event, s.publish_at)) for s in wanted])
    back = []
    with engine.connect() as conn:
        for table in sim_erp.TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM erp.{table.name} ORDER BY change_seq")).mappings()  # noqa: S608
            mapping = getattr(sim_erp, sim_erp.MAPPINGS[table.name])
            for row in rows:
                back += mapping({k: row_value(v) for k, v in row.items()})
    by_id = {e["id"]: e for e in back}
    assert sorted(by_id) == sorted(s.event["id"] for s in wanted)
    for s in wanted:
        assert canonical(by_id[s.event["id"]]) == canonical(s.event)


def test_a_day_of_the_simulated_world_maps_back_event_for_event() -> None:
    from simulator.estate import Estate, EstateConfig
    from simulator.world import World

    config = EstateConfig(
        stores=6, skus=60, web_orders_per_day=400, marketplace_orders_per_day=100, store_orders_per_day=50
    )
    world = World(Estate.build(config), datetime(2026, 11, 2, tzinfo=UTC), seed=3)
    emitted = list(world.advance(datetime(2026, 11, 3, 2, tzinfo=UTC)))
    systems = {e.system for e in emitted}
    assert {"oms", "wms", "middleware", "pos", "marketplace", "erp"} <= systems
    for e in emitted:
        if e.system == "erp":
            row = erp.encode(e.event)
            values = {
                k: orjson.loads(v) if k in ("items", "attrs") and v else v for k, v in row.values.items()
            }
            table = sim_erp.TABLE_BY_TYPE.get(e.event["type"], sim_erp.DOCUMENTS)
            back = sim_erp.row_to_event(table, values)
        else:
            back = mapped(e.system, e.event)
        assert canonical(back) == canonical(e.event), (e.system, e.event["type"])


def _sample(system: str, type_: str) -> dict[str, Any]:
    return next(s.event for s in samples() if s.system == system and s.event["type"] == type_)


def test_each_system_speaks_its_own_field_names_codes_and_time_formats() -> None:
    reroute = oms.encode(_sample("oms", "retail.order.rerouted"))
    assert reroute["eventType"] == "ORDER_REROUTED"
    assert reroute["payload"] == {"fromNode": "STORE-0042", "toNode": "DC-EAST", "reasonCode": "OOS"}
    assert reroute["occurredAt"] == "2026-11-27T08:02:00Z"

    adjusted = wms.encode(_sample("wms", "retail.inventory.adjusted"))
    assert adjusted["txn_type"] == "ADJ" and adjusted["reason_code"] == "DMG"
    assert adjusted["ts"] == int(datetime(2026, 11, 27, 8, 15, tzinfo=UTC).timestamp() * 1000)
    assert adjusted["wh"] == "DC-EAST" and adjusted["item"] == "SKU-00017" and adjusted["qty"] == -3

    failed = middleware.encode(
        _sample("middleware", "retail.integration.call")
        | {"data": {**_sample("middleware", "retail.integration.call")["data"], "status": "error"}}
    )
    assert failed["result"] == "FAILED" and failed["flow"] == "OMS>WMS/oms.wms.create_pick"
    assert failed["retry"] == 0 and failed["ts"] == "2026-11-27 08:22:00.000000"

    count = pos.encode(_sample("pos", "retail.inventory.snapshot"))
    assert count.key == "store-0042"
    assert count.row["kind"] == "COUNT" and count.row["local_time"] == "27.11.2026 09:33:00"  # Berlin time

    new = marketplace.encode(_sample("marketplace", "retail.order.created")).record
    assert new["status"] == "NEW" and new["sla_hours"] == 57.4  # ordered 27th 08:36, promised 29th 18:00
    assert new["items"][0] == {"seller_sku": "SKU-00017", "qty": 2, "price": 19.9}

    row = erp.encode(_sample("erp", "retail.po.updated"))
    assert row.table == "purchase_orders" and row.values["status_code"] == "AB"


def test_an_event_whose_subject_breaks_the_convention_still_round_trips() -> None:
    event = {**_sample("oms", "retail.order.routed"), "subject": "customer-77"}
    assert oms.encode(event)["subjectRef"] == "customer-77"
    assert canonical(mapped("oms", event)) == canonical(event)
    without = {k: v for k, v in _sample("wms", "retail.order.packed").items() if k != "subject"}
    assert canonical(mapped("wms", without)) == canonical(without)


BREAKABLE: dict[str, Breakable] = {
    "oms": oms.BREAKABLE,
    "wms": wms.BREAKABLE,
    "middleware": middleware.BREAKABLE,
    "pos": pos.BREAKABLE,
    "marketplace": Breakable("update_id", "created", ("sla_hours",)),
}
BREAKING = [
    ("oms", "retail.order.created"),
    ("wms", "retail.inventory.adjusted"),
    ("middleware", "retail.integration.call"),
    ("pos", "retail.inventory.adjusted"),
    ("marketplace", "retail.order.created"),
]


@pytest.mark.parametrize(("system", "type_"), BREAKING)
def test_a_broken_native_record_is_unmappable_with_a_readable_reason(system: str, type_: str) -> None:
    event = _sample(system, type_)
    rng = random.Random(1)
    reasons = set()
    for _ in range(40):
        native = over_the_wire(system, event)
        if system == "pos":
            broken = csv_row(break_record(pos.encode(event).row, BREAKABLE[system], rng))
        else:
            broken = break_record(native, BREAKABLE[system], rng)
        with pytest.raises(Unmappable) as caught:
            MAPPINGS[system](broken)
        reasons.add(str(caught.value))
    assert any("missing field" in r for r in reasons)
    assert any("date" in r or "time" in r for r in reasons)
    if BREAKABLE[system].number_fields:
        assert any("number" in r for r in reasons)
    assert all(len(r.splitlines()) == 1 and len(r) < 200 for r in reasons)


def test_an_erp_row_with_an_empty_required_column_is_unmappable() -> None:
    event = _sample("erp", "retail.inventory.snapshot")
    row = erp.system().break_record(erp.encode(event), random.Random(2))
    table = sim_erp.TABLE_BY_TYPE[event["type"]]
    with pytest.raises(Unmappable, match="missing field"):
        sim_erp.row_to_event(table, row.values)


@pytest.mark.parametrize(
    ("system", "change", "reason"),
    [
        ("oms", {"eventType": "ORDER_TELEPORTED"}, "unknown code"),
        ("oms", {"eventType": "teleported"}, "eventType has an unknown code"),
        ("wms", {"txn_type": None}, "txn_type is missing"),
        ("middleware", {"result": "MAYBE"}, "result has an unknown code"),
        ("middleware", {"durationMs": -5}, "durationMs is negative"),
        ("marketplace", {"items": "two socks"}, "items is not a list"),
    ],
)
def test_a_native_record_with_a_wrong_code_or_form_says_what_is_wrong(
    system: str, change: dict[str, Any], reason: str
) -> None:
    types = {
        "oms": "retail.order.rerouted",
        "wms": "retail.order.picked",
        "middleware": "retail.integration.call",
        "marketplace": "retail.order.created",
    }
    native = {**over_the_wire(system, _sample(system, types[system])), **change}
    with pytest.raises(Unmappable, match=reason):
        MAPPINGS[system](native)


def test_a_middleware_call_that_fails_under_an_error_burst_maps_to_an_error() -> None:
    faults = FaultBoard()
    from simulator.faults import Fault

    faults.set(Fault("error_burst", "oms.wms.create_pick"))
    event = _sample("middleware", "retail.integration.call")
    record = middleware.system(faults).encode(event, datetime(2026, 11, 27, tzinfo=UTC) + timedelta(hours=9))
    (back,) = sim_middleware.to_events(record)
    assert back["data"]["status"] == "error" and back["data"]["http_status"] == 502
