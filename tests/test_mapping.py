"""Declarative mappings: a native record in, the canonical events of EVENTS.md out."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.ingest.validate import Valid, validate
from collectors.base import SourceError, Unmappable
from collectors.mapping import SpecError, resolve_mapping


def order_rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "type": "retail.order.delivered",
        "source": "pos/{store_id|lower}",
        "id": "{order_id}-delivered",
        "time": {"field": "delivered_at", "format": "%Y-%m-%d %H:%M:%S", "timezone": "America/Sao_Paulo"},
        "subject": "{order_id}",
        "data": {"order_id": "{order_id}"},
    }
    rule.update(overrides)
    return rule


def one_event(spec: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    events = resolve_mapping(spec)(record)
    assert len(events) == 1
    return events[0]


def reason(spec: dict[str, Any], record: dict[str, Any]) -> str:
    with pytest.raises(Unmappable) as caught:
        resolve_mapping(spec)(record)
    return str(caught.value)


ROW = {"order_id": "ORD-1", "store_id": "STORE-0042", "delivered_at": "2026-11-20 14:03:11", "qty": "3"}


def test_a_row_becomes_a_canonical_event_with_its_local_time_given_an_offset() -> None:
    event = one_event({"events": [order_rule()]}, ROW)

    assert event == {
        "specversion": "1.0",
        "id": "ORD-1-delivered",
        "source": "pos/store-0042",
        "type": "retail.order.delivered",
        "time": "2026-11-20T14:03:11-03:00",  # Sao Paulo has no summer time since 2019
        "subject": "ORD-1",
        "data": {"order_id": "ORD-1"},
    }
    assert isinstance(validate(1, orjson.dumps(event)), Valid)


def test_summer_time_gives_the_offset_of_that_date() -> None:
    rule = order_rule()
    assert one_event({"events": [rule]}, {**ROW, "delivered_at": "2017-10-18 00:00:00"})["time"] == (
        "2017-10-18T00:00:00-02:00"
    )
    assert one_event({"events": [rule]}, {**ROW, "delivered_at": "2017-10-14 23:00:00"})["time"] == (
        "2017-10-14T23:00:00-03:00"
    )


def test_one_record_produces_an_event_for_each_rule_whose_condition_holds() -> None:
    spec = {
        "source": "oms",
        "timezone": "UTC",
        "events": [
            order_rule(source=None, type="retail.order.shipped", id="{order_id}-shipped",
                       when={"present": "shipped_at"}, time="{shipped_at}",
                       data={"order_id": "{order_id}", "node_id": "{store_id}"}),
            order_rule(source=None, when={"field": "status", "in": ["delivered", "closed"]}),
            order_rule(source=None, type="retail.order.cancelled", id="{order_id}-cancelled",
                       when={"field": "status", "equals": "cancelled"}, time="{shipped_at}"),
        ],
    }  # fmt: skip
    mapper = resolve_mapping(spec)

    shipped_and_delivered = mapper({**ROW, "status": "delivered", "shipped_at": "2026-11-19T08:00:00Z"})
    only_shipped = mapper({**ROW, "status": "open", "shipped_at": "2026-11-19T08:00:00Z"})

    assert [e["type"] for e in shipped_and_delivered] == ["retail.order.shipped", "retail.order.delivered"]
    assert [e["source"] for e in shipped_and_delivered] == ["oms", "oms"]
    assert shipped_and_delivered[0]["time"] == "2026-11-19T08:00:00+00:00"
    assert [e["type"] for e in only_shipped] == ["retail.order.shipped"]


def test_typed_fields_are_converted_and_constants_and_structures_pass_through() -> None:
    rule = order_rule(
        type="retail.inventory.snapshot",
        data={
            "system": {"const": "pos"},
            "location_id": "{store_id}",
            "sku": "{sku|upper}",
            "on_hand": {"field": "qty", "type": "int"},
            "cost": {"field": "cost", "type": "float"},
            "counted": {"field": "counted", "type": "bool"},
            "counted_at": {"field": "delivered_at", "type": "timestamp", "timezone": "UTC"},
            "tags": {"from": "tags"},
            "extra": {"field": "extra", "type": "json"},
            "reserved": 0,
        },
    )
    record = {**ROW, "sku": "sku-7", "qty": " 12 ", "cost": "4.25", "counted": "yes",
              "tags": ["a", "b"], "extra": '{"shelf": 3}'}  # fmt: skip

    data = one_event({"events": [rule]}, record)["data"]

    assert data == {
        "system": "pos",
        "location_id": "STORE-0042",
        "sku": "SKU-7",
        "on_hand": 12,
        "cost": 4.25,
        "counted": True,
        "counted_at": "2026-11-20T14:03:11+00:00",
        "tags": ["a", "b"],
        "extra": {"shelf": 3},
        "reserved": 0,
    }


def test_an_optional_field_is_left_out_when_empty_and_a_default_stands_in() -> None:
    rule = order_rule(data={
        "order_id": "{order_id}",
        "carrier": {"field": "carrier", "optional": True},
        "note": {"template": "by {carrier}", "optional": True},
        "region": {"field": "region", "default": "unknown"},
    })  # fmt: skip

    empty = one_event({"events": [rule]}, {**ROW, "carrier": "  "})["data"]
    filled = one_event({"events": [rule]}, {**ROW, "carrier": "DHL", "region": "north"})["data"]

    assert empty == {"order_id": "ORD-1", "region": "unknown"}
    assert filled == {"order_id": "ORD-1", "carrier": "DHL", "note": "by DHL", "region": "north"}


def test_a_values_map_translates_codes_and_an_unknown_code_is_unmappable() -> None:
    rule = order_rule(
        type="retail.order.cancelled",
        data={"order_id": "{order_id}", "reason": {"field": "st", "map": {"C": "customer", "F": "fraud"}}},
    )

    assert one_event({"events": [rule]}, {**ROW, "st": "F"})["data"]["reason"] == "fraud"
    assert reason({"events": [rule]}, {**ROW, "st": "X"}) == (
        "retail.order.cancelled: field 'st' = 'X' is not one of 'C', 'F'"
    )


@pytest.mark.parametrize(
    ("data", "record", "expected"),
    [
        ({"qty": {"field": "qty", "type": "int"}}, {"qty": "abc"}, "field 'qty' = 'abc' is not an integer"),
        ({"qty": {"field": "count", "type": "int"}}, {}, "field 'count' is missing"),
        ({"qty": {"field": "qty", "type": "int"}}, {"qty": ""}, "field 'qty' is empty"),
        ({"price": {"field": "p", "type": "float"}}, {"p": "1,5"}, "field 'p' = '1,5' is not a number"),
        (
            {"ok": {"field": "ok", "type": "bool"}},
            {"ok": "maybe"},
            "field 'ok' = 'maybe' is not true or false",
        ),
        ({"n": "{note}"}, {}, "field 'note' is missing"),
    ],
)
def test_a_value_that_cannot_be_read_is_unmappable_naming_the_field_and_the_value(
    data: dict[str, Any], record: dict[str, Any], expected: str
) -> None:
    rule = order_rule(data={"order_id": "{order_id}", **data})

    assert reason({"events": [rule]}, {**ROW, **record}).startswith(f"retail.order.delivered: {expected}")


def test_an_unparsable_date_is_unmappable_naming_the_format() -> None:
    assert reason({"events": [order_rule()]}, {**ROW, "delivered_at": "20/11/2026"}) == (
        "retail.order.delivered: field 'delivered_at' = '20/11/2026' is not a timestamp in format "
        "'%Y-%m-%d %H:%M:%S'"
    )


def test_a_time_without_a_zone_is_unmappable_when_the_mapping_sets_none() -> None:
    rule = order_rule(time="{delivered_at}")

    assert "field 'delivered_at' = '2026-11-20 14:03:11' has no time zone" in reason({"events": [rule]}, ROW)
    with_offset = {**ROW, "delivered_at": "2026-11-20T14:03:11+01:00"}
    assert one_event({"events": [rule]}, with_offset)["time"] == "2026-11-20T14:03:11+01:00"


def test_epoch_times_are_read_in_seconds_or_milliseconds() -> None:
    rule = order_rule(time={"field": "at", "format": "epoch_ms"})

    assert one_event({"events": [rule]}, {**ROW, "at": 1_700_000_000_500})["time"] == (
        "2023-11-14T22:13:20.500000+00:00"
    )


def test_a_record_no_rule_matches_is_unmappable_unless_told_to_skip() -> None:
    rule = order_rule(when={"field": "status", "in": ["delivered"]})

    assert "no event rule matches this record" in reason({"events": [rule]}, {**ROW, "status": "open"})
    assert resolve_mapping({"events": [rule], "unmatched": "skip"})({**ROW, "status": "open"}) == []


def test_nested_fields_of_a_json_record_are_read_by_dotted_name() -> None:
    rule = order_rule(data={"order_id": "{order.id}", "qty": {"field": "order.lines", "type": "int"}})
    record = {**ROW, "order": {"id": "ORD-9", "lines": 2}}

    assert one_event({"events": [rule]}, record)["data"] == {"order_id": "ORD-9", "qty": 2}


def test_a_lookup_joins_the_rows_of_a_second_file_and_rereads_it_when_it_changes(tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("order_id,sku,price\nORD-1,SKU-A,9.50\nORD-2,SKU-B,1\nORD-1,SKU-C,2\n")
    rule = order_rule(type="retail.order.created", data={
        "order_id": "{order_id}",
        "channel": "web",
        "promised_by": {"field": "delivered_at", "format": "%Y-%m-%d %H:%M:%S"},
        "lines": {"lookup": "items", "fields": {"sku": "{sku}", "qty": 1,
                                                "unit_price": {"field": "price", "type": "float"}}},
    })  # fmt: skip
    spec = {
        "events": [rule],
        "timezone": "UTC",
        "lookups": {"items": {"file": "items.csv", "key": "order_id"}},
    }
    mapper = resolve_mapping(spec, base_dir=tmp_path)

    event = mapper(ROW)
    assert event[0]["data"]["lines"] == [
        {"sku": "SKU-A", "qty": 1, "unit_price": 9.5},
        {"sku": "SKU-C", "qty": 1, "unit_price": 2.0},
    ]
    assert isinstance(validate(1, orjson.dumps(event[0])), Valid)
    with pytest.raises(Unmappable, match="lookup 'items' has no rows for order_id = 'ORD-3'"):
        mapper({**ROW, "order_id": "ORD-3"})

    items.write_text("order_id,sku,price\nORD-3,SKU-D,5\n")
    os.utime(items, ns=(time.time_ns(), time.time_ns() + 10**9))
    mapper.refresh()  # type: ignore[attr-defined]
    assert mapper({**ROW, "order_id": "ORD-3"})[0]["data"]["lines"] == [
        {"sku": "SKU-D", "qty": 1, "unit_price": 5.0}
    ]


def test_a_missing_lookup_file_stops_the_run_instead_of_quarantining_every_record(tmp_path: Path) -> None:
    rule = order_rule(
        data={"order_id": "{order_id}", "lines": {"lookup": "items", "fields": {"sku": "{sku}"}}}
    )
    mapper = resolve_mapping(
        {"events": [rule], "lookups": {"items": {"file": "absent.csv", "key": "order_id"}}}, base_dir=tmp_path
    )

    with pytest.raises(SourceError, match="lookup 'items': cannot read .*absent.csv"):
        mapper(ROW)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"events": [order_rule(data={"qty": {"field": "qty", "tpye": "int"}})]},
         "mapping spec: unknown key 'tpye' at events[0].data.qty"),
        ({"events": [order_rule(type="retail.order.teleported")]},
         "mapping spec: events[0].type: unknown event type 'retail.order.teleported'"),
        ({"events": [order_rule(when={"field": "status"})]},
         "mapping spec: events[0].when: 'field' needs one of 'in', 'not_in' or 'equals'"),
        ({"events": [order_rule(id=None)]}, "mapping spec: events[0].id"),
        ({"events": [order_rule(source=None)]}, "mapping spec: events[0].source is required"),
        ({"events": [order_rule(subject="{order_id|title}")]},
         "mapping spec: events[0].subject: unknown filter 'title'"),
        ({"events": [order_rule(data={"n": {"field": "a", "const": 1}})]},
         "mapping spec: events[0].data.n: give exactly one of field, from, const, template, lookup"),
        ({"events": [order_rule(data={"n": {"lookup": "nowhere", "fields": {}}})]},
         "mapping spec: events[0].data.n: unknown lookup 'nowhere'"),
        ({"events": [order_rule()], "timezone": "Mars/Olympus"},
         "mapping spec: unknown time zone 'Mars/Olympus'"),
        ({"events": []}, "mapping spec: events"),
        ({"evnets": []}, "mapping spec: unknown key 'evnets'"),
    ],
)  # fmt: skip
def test_a_bad_spec_fails_at_load_with_one_line_naming_the_bad_key(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_mapping(spec)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, SourceError)


def reverse_order(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": record["order_id"][::-1]}]


def test_a_function_mapping_is_imported_by_its_dotted_name() -> None:
    mapper = resolve_mapping("tests.test_mapping:reverse_order")

    assert mapper(ROW) == [{"id": "1-DRO"}]
    with pytest.raises(SourceError, match="has no function 'nothing'"):
        resolve_mapping("tests.test_mapping:nothing")
    with pytest.raises(SourceError, match="cannot import"):
        resolve_mapping("tests.not_a_module:f")


def test_no_mapping_at_all_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="no mapping"):
        resolve_mapping(None)
