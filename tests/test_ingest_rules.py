"""The ingest rules of contracts/EVENTS.md, one test (or one table of cases) per rule.

Every expected number below is worked out from the contract and the records written in
the test, never taken from a run of the code.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import DC, ORDER, STORE, WHEN, WHEN_UTC, event, json_array, jsonl, line
from tests.conftest import truncate_store


def counts_of(counts: Any) -> tuple[int, int, int, int, int]:
    return (counts.received, counts.accepted, counts.duplicate, counts.conflict, counts.quarantined)


def balanced(counts: Any) -> bool:
    return counts.received == counts.accepted + counts.duplicate + counts.quarantined


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- valid and new: stored ------------------------------------------------------------------
def test_a_valid_new_event_is_stored_with_its_envelope_and_data(ingest, query, an_order):
    counts = ingest(jsonl(an_order))

    assert counts_of(counts) == (1, 1, 0, 0, 0)
    [row] = query(
        "SELECT source, id, type, time, subject, data, attrs, record_no, order_id, location_id, sku"
        " FROM events"
    )
    assert (row.source, row.id, row.type) == ("oms", "oms-000123-r1", "retail.order.rerouted")
    assert row.time == utc(WHEN_UTC)
    assert row.subject == ORDER
    assert row.data == {"order_id": ORDER, "from_node": STORE, "to_node": DC, "reason": "stockout"}
    assert row.attrs is None
    assert row.record_no == 1
    # the keys the hot queries filter on: the order, and the node it now sits at
    assert (row.order_id, row.location_id, row.sku) == (ORDER, DC, None)
    assert query("SELECT count(*) AS n FROM quarantine")[0].n == 0


def test_every_timestamp_is_stored_in_utc(ingest, query):
    created = event(
        "retail.order.created",
        {
            "order_id": ORDER,
            "channel": "web",
            "promised_by": "2026-11-22T09:00:00-05:00",
            "lines": [{"sku": "SKU-00017", "qty": 1}],
        },
        id="oms-000123-c",
        time="2026-11-20T08:03:11-05:00",
    )
    ingest(jsonl(created))

    [row] = query("SELECT time, data FROM events")
    assert row.time == datetime(2026, 11, 20, 13, 3, 11, tzinfo=UTC)
    promised = datetime.fromisoformat(row.data["promised_by"])
    assert promised.utcoffset().total_seconds() == 0
    assert promised == datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def test_text_with_tabs_newlines_backslashes_and_accents_is_stored_exactly_as_sent(ingest, query):
    tricky = event(
        "retail.order.exception",
        {
            "order_id": ORDER,
            "kind": "address_issue",
            "detail": 'Rue de l\'Église 3\tbus 2\nC:\\depot\\"B"\r\n🚚 \\u0000 is text here',
        },
        id="oms-\t\\n-é-1",
        source="pos/store-0042\\north",
        subject="ORD\\000123\n",
    )
    counts = ingest(jsonl(tricky))

    assert counts_of(counts) == (1, 1, 0, 0, 0)
    [row] = query("SELECT source, id, subject, data FROM events")
    assert (row.source, row.id, row.subject) == (tricky["source"], tricky["id"], tricky["subject"])
    assert row.data == tricky["data"]


# --- same key, same content: duplicate, stored once -----------------------------------------
def test_a_duplicate_event_is_counted_not_stored_twice(ingest, query, an_order):
    counts = ingest(jsonl(an_order, an_order))

    assert counts_of(counts) == (2, 1, 1, 0, 0)
    assert query("SELECT count(*) AS n FROM events")[0].n == 1
    assert query("SELECT count(*) AS n FROM quarantine")[0].n == 0


def test_a_duplicate_in_a_later_batch_is_counted_not_stored_twice(ingest, query, an_order):
    first = ingest(jsonl(an_order))
    again = ingest(jsonl(an_order))

    assert counts_of(first) == (1, 1, 0, 0, 0)
    assert counts_of(again) == (1, 0, 1, 0, 0)
    assert query("SELECT count(*) AS n FROM events")[0].n == 1


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _created(promised_by: str) -> dict[str, Any]:
    return event(
        "retail.order.created",
        {
            "order_id": ORDER,
            "channel": "web",
            "promised_by": promised_by,
            "lines": [{"sku": "SKU-00017", "qty": 2, "unit_price": 19.99}],
        },
        id="oms-000123-c",
    )


def _po(expected_at: str) -> dict[str, Any]:
    return event(
        "retail.po.updated",
        {"po_id": "PO-1", "supplier_id": "SUP-1", "sku": "SKU-00017", "qty": 40, "expected_at": expected_at},
        id="erp-po-1",
        source="erp",
        subject=None,
    )


SAME_CONTENT_WRITTEN_DIFFERENTLY = {
    "key order": (line(event()), line(_reordered(event()))),
    "white space": (
        line(event()),
        b"  " + json.dumps(event(), indent=None, separators=(" , ", " :  ")).encode() + b" \t",
    ),
    "time offset +01:00 vs Z": (line(event(time=WHEN)), line(event(time=WHEN_UTC))),
    "time offset +01:00 vs -05:00": (
        line(event(time=WHEN)),
        line(event(time="2026-11-20T08:03:11-05:00")),
    ),
    "time with zero fraction": (line(event()), line(event(time="2026-11-20T13:03:11.000000+00:00"))),
    "promised_by offset +01:00 vs Z": (
        line(_created("2026-11-22T14:03:11+01:00")),
        line(_created("2026-11-22T13:03:11Z")),
    ),
    "expected_at offset +01:00 vs +00:00": (
        line(_po("2026-11-25T08:00:00+01:00")),
        line(_po("2026-11-25T07:00:00+00:00")),
    ),
}


@pytest.mark.parametrize("batch_size", [1, 100], ids=["separate batches", "one batch"])
@pytest.mark.parametrize(
    "first, second",
    list(SAME_CONTENT_WRITTEN_DIFFERENTLY.values()),
    ids=list(SAME_CONTENT_WRITTEN_DIFFERENTLY),
)
def test_the_same_event_written_differently_is_a_duplicate(ingest, query, first, second, batch_size):
    counts = ingest(first + b"\n" + second + b"\n", batch_size=batch_size)

    assert counts_of(counts) == (2, 1, 1, 0, 0)
    assert query("SELECT count(*) AS n FROM events")[0].n == 1
    assert query("SELECT count(*) AS n FROM quarantine")[0].n == 0


# --- same key, different content: the first stays, the other is a conflict -------------------
DIFFERENT_CONTENT = {
    "data value": event(data={"order_id": ORDER, "from_node": STORE, "to_node": DC, "reason": "capacity"}),
    "another instant": event(time="2026-11-20T14:03:12+01:00"),
    "subject": event(subject="ORD-999999"),
    "an extra data field": event(
        data={"order_id": ORDER, "from_node": STORE, "to_node": DC, "reason": "stockout", "note": "x"}
    ),
    "an extra envelope attribute": event(
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ),
}


@pytest.mark.parametrize("other", list(DIFFERENT_CONTENT.values()), ids=list(DIFFERENT_CONTENT))
def test_a_conflict_in_a_later_batch_leaves_the_stored_event_and_is_quarantined(
    ingest, query, an_order, other
):
    first = ingest(jsonl(an_order), origin="monday.jsonl")
    second = ingest(jsonl(other), origin="tuesday.jsonl", source_label="oms-feed")

    assert counts_of(first) == (1, 1, 0, 0, 0)
    assert counts_of(second) == (1, 0, 0, 1, 1)
    [stored] = query("SELECT time, subject, data, attrs FROM events")
    assert stored.time == utc(WHEN)
    assert (stored.subject, stored.attrs) == (ORDER, None)
    assert stored.data == an_order["data"]
    [bad] = query("SELECT origin, source, record_no, reason_code, reason, event_id, raw FROM quarantine")
    assert (bad.origin, bad.source, bad.record_no) == ("tuesday.jsonl", "oms", 1)
    assert (bad.reason_code, bad.event_id) == ("conflict", "oms-000123-r1")
    assert bad.raw == line(other).decode()
    assert "conflict" in bad.reason


def test_a_conflict_later_in_the_same_file_leaves_the_earlier_event(ingest, query, an_order):
    rerouted_for_capacity = DIFFERENT_CONTENT["data value"]
    counts = ingest(jsonl(an_order, rerouted_for_capacity))

    assert counts_of(counts) == (2, 1, 0, 1, 1)
    assert query("SELECT data->>'reason' AS reason FROM events")[0].reason == "stockout"
    [bad] = query("SELECT record_no, reason_code, raw FROM quarantine")
    assert (bad.record_no, bad.reason_code) == (2, "conflict")
    assert bad.raw == line(rerouted_for_capacity).decode()


def test_whichever_version_comes_first_in_the_file_is_the_one_kept(ingest, query, an_order):
    rerouted_for_capacity = DIFFERENT_CONTENT["data value"]
    counts = ingest(jsonl(rerouted_for_capacity, an_order))

    assert counts_of(counts) == (2, 1, 0, 1, 1)
    assert query("SELECT data->>'reason' AS reason FROM events")[0].reason == "capacity"
    assert query("SELECT record_no FROM quarantine")[0].record_no == 2


def test_a_repeat_of_the_conflicting_version_is_a_conflict_again_not_a_duplicate(ingest, an_order):
    other = DIFFERENT_CONTENT["data value"]
    counts = ingest(jsonl(an_order, other, other, an_order), batch_size=2)

    # record 1 stored; 2 and 3 differ from what is stored; 4 is the stored content again
    assert counts_of(counts) == (4, 1, 1, 2, 2)


def test_the_same_id_from_two_sources_is_two_events(ingest, query, an_order):
    from_store = event(source="pos/store-0042")
    counts = ingest(jsonl(an_order, from_store))

    assert counts_of(counts) == (2, 2, 0, 0, 0)
    assert query("SELECT count(*) AS n FROM events")[0].n == 2


# --- invalid: quarantined with raw text, record number and a readable reason ----------------
def _with_data(type_: str = "retail.order.rerouted", **changes: Any) -> dict[str, Any]:
    base = event(type_)
    base["data"] = {**base["data"], **changes}
    return base


def _without(field: str, type_: str = "retail.order.rerouted") -> dict[str, Any]:
    base = event(type_)
    if field.startswith("data."):
        del base["data"][field.removeprefix("data.")]
    else:
        del base[field]
    return base


def _with_line_qty(qty: Any) -> dict[str, Any]:
    created = _created("2026-11-22T14:03:11+01:00")
    created["data"]["lines"] = [{"sku": "SKU-00017", "qty": qty}]
    return created


INVALID = {
    # case: (record, words the reason must contain)
    "not JSON": ('{"specversion": "1.0", "id": "oms-1",', ["JSON"]),
    "not JSON at all": ("hello, world", ["JSON"]),
    "a JSON string, not an object": ('"retail.order.rerouted"', ["object"]),
    "a JSON number, not an object": ("42", ["object"]),
    "unknown type": (event("retail.order.teleported", {"order_id": ORDER}), ["retail.order.teleported"]),
    "type missing": (_without("type"), ["type"]),
    "specversion missing": (_without("specversion"), ["specversion"]),
    "specversion 2.0": ({**event(), "specversion": "2.0"}, ["specversion"]),
    "id missing": (_without("id"), ["id"]),
    "id a number": ({**event(), "id": 123}, ["id"]),
    "source missing": (_without("source"), ["source"]),
    "time missing": (_without("time"), ["time"]),
    "data missing": (_without("data"), ["data"]),
    "data not an object": ({**event(), "data": "ORD-000123"}, ["data"]),
    "required data field missing": (_without("data.to_node"), ["to_node"]),
    "order lines missing": (_without("data.lines", "retail.order.created"), ["lines"]),
    "qty as text": (_with_data("retail.return.received", qty="5"), ["qty"]),
    "qty a fraction": (_with_data("retail.return.received", qty=2.5), ["qty"]),
    "qty a boolean": (_with_data("retail.return.received", qty=True), ["qty"]),
    "qty zero": (_with_data("retail.return.received", qty=0), ["qty"]),
    "qty negative": (_with_data("retail.transfer.requested", qty=-1), ["qty"]),
    "order line qty as text": (_with_line_qty("5"), ["qty"]),
    "order line qty zero": (_with_line_qty(0), ["qty"]),
    "on_hand as text": (_with_data("retail.inventory.snapshot", on_hand="12"), ["on_hand"]),
    "delta a fraction": (_with_data("retail.inventory.adjusted", delta=1.5), ["delta"]),
    "unit_cost as text": (_with_data("retail.product.upserted", unit_cost="4.50"), ["unit_cost"]),
    "latency_ms as text": (_with_data("retail.integration.call", latency_ms="88"), ["latency_ms"]),
    "channel fax": (_with_data("retail.order.created", channel="fax"), ["channel", "fax"]),
    "reroute reason not in its list": (_with_data(reason="because"), ["reason", "because"]),
    "location kind not in its list": (_with_data("retail.location.upserted", kind="warehouse"), ["kind"]),
    "snapshot system not in its list": (_with_data("retail.inventory.snapshot", system="excel"), ["system"]),
    "call status not in its list": (_with_data("retail.integration.call", status="maybe"), ["status"]),
    "time without offset": (event(time="2026-11-20T14:03:11"), ["time"]),
    "time a date only": (event(time="2026-11-20"), ["time"]),
    "time as a number": (event(time=1763643791), ["time"]),
    "time not a date": (event(time="next tuesday"), ["time"]),
    "promised_by without offset": (
        _with_data("retail.order.created", promised_by="2026-11-22T14:03:11"),
        ["promised_by"],
    ),
    "promised_by as a number": (_with_data("retail.order.created", promised_by=1763816591), ["promised_by"]),
    "expected_at without offset": (
        _with_data("retail.shipment.asn", expected_at="2026-11-24T10:00:00"),
        ["expected_at"],
    ),
}


@pytest.mark.parametrize("record, words", list(INVALID.values()), ids=list(INVALID))
def test_an_invalid_record_is_quarantined_with_its_raw_text_number_and_reason(ingest, query, record, words):
    before, after = event(id="oms-before"), event(id="oms-after")
    counts = ingest(jsonl(before, record, after), source_label="oms-feed")

    assert counts_of(counts) == (3, 2, 0, 0, 1)
    assert [r.id for r in query("SELECT id FROM events ORDER BY id")] == ["oms-after", "oms-before"]
    [bad] = query("SELECT record_no, reason_code, reason, raw, source, origin FROM quarantine")
    assert (bad.record_no, bad.reason_code, bad.origin) == (2, "invalid", "test.jsonl")
    assert bad.raw == line(record).decode()
    assert bad.source in ("oms", "oms-feed")
    assert "\n" not in bad.reason and 0 < len(bad.reason) <= 600
    for word in words:  # the reason names what is wrong, as a word of its own
        assert re.search(rf"\b{re.escape(word)}\b", bad.reason), (word, bad.reason)


def test_an_invalid_event_keeps_its_source_and_id_when_they_can_be_read(ingest, query):
    ingest(jsonl(_with_data(reason="because")), source_label="oms-feed")

    [bad] = query("SELECT source, event_id FROM quarantine")
    assert (bad.source, bad.event_id) == ("oms", "oms-000123-r1")


def test_a_record_that_is_not_json_is_filed_under_the_feeds_label(ingest, query):
    ingest(jsonl("<xml>not an event</xml>"), source_label="pos/store-0042")

    [bad] = query("SELECT source, event_id, raw FROM quarantine")
    assert (bad.source, bad.event_id, bad.raw) == ("pos/store-0042", None, "<xml>not an event</xml>")


def test_an_invalid_record_does_not_claim_its_key(ingest, query, an_order):
    broken = _with_data(reason="because")  # same (source, id) as an_order, but invalid
    counts = ingest(jsonl(broken, an_order))

    assert counts_of(counts) == (2, 1, 0, 0, 1)
    assert query("SELECT data->>'reason' AS reason FROM events")[0].reason == "stockout"


def test_bytes_that_are_not_utf8_are_quarantined_with_the_rest_of_their_text(ingest, query, an_order):
    broken = line(event(id="oms-latin1", data={**an_order["data"], "reason": "other"}))
    broken = broken.replace(b'"other"', b'"stockout \xe9t\xe9"')  # latin-1, not UTF-8
    counts = ingest(jsonl(an_order) + broken + b"\n")

    assert counts_of(counts) == (2, 1, 0, 0, 1)
    [bad] = query("SELECT record_no, reason_code, raw FROM quarantine")
    assert (bad.record_no, bad.reason_code) == (2, "invalid")
    assert '"id":"oms-latin1"' in bad.raw and "stockout " in bad.raw


def test_an_event_holding_a_nul_character_is_quarantined_and_the_rest_stored(ingest, query, an_order):
    with_nul = _with_data("retail.order.exception", detail="before\u0000after")
    with_nul["id"] = "oms-nul"
    counts = ingest(jsonl(with_nul, an_order))

    # PostgreSQL cannot store U+0000 in text or jsonb: the record is quarantined, not lost
    assert counts_of(counts) == (2, 1, 0, 0, 1)
    [bad] = query("SELECT record_no, reason_code, event_id FROM quarantine")
    assert (bad.record_no, bad.reason_code, bad.event_id) == (1, "invalid", "oms-nul")


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"],
    ids=["before year 1 in UTC", "after year 9999 in UTC"],
)
def test_a_timestamp_at_the_edge_of_the_calendar_does_not_stop_the_ingest(ingest, query, an_order, when):
    edge = event(id="oms-edge", time=when)
    counts = ingest(jsonl(edge, an_order))

    # valid RFC 3339, but outside what UTC years 1-9999 can hold: stored or quarantined,
    # never a crash that loses the rest of the file
    assert counts.received == 2 and balanced(counts)
    assert query("SELECT count(*) AS n FROM events WHERE id = 'oms-000123-r1'")[0].n == 1
    assert counts.accepted + counts.quarantined == 2


def test_a_promised_by_at_the_edge_of_the_calendar_does_not_stop_the_ingest(ingest, query, an_order):
    edge = _created("0001-01-01T00:00:00+01:00")
    counts = ingest(jsonl(edge, an_order))

    assert counts.received == 2 and balanced(counts)
    assert counts.accepted + counts.quarantined == 2
    assert query("SELECT count(*) AS n FROM events WHERE id = 'oms-000123-r1'")[0].n == 1


# --- blank lines, extra fields, late arrivals ----------------------------------------------
def test_blank_lines_are_skipped_and_not_counted(ingest, query, an_order):
    payload = b"\n  \n" + line(an_order) + b"\r\n\t\n\n" + line(event(id="oms-2")) + b"\n   "
    counts = ingest(payload)

    assert counts_of(counts) == (2, 2, 0, 0, 0)
    # record numbers are the lines a person finds in an editor: 3 and 6
    rows = query("SELECT id, record_no FROM events ORDER BY record_no")
    assert [(r.id, r.record_no) for r in rows] == [("oms-000123-r1", 3), ("oms-2", 6)]


def test_a_file_of_blank_lines_receives_nothing(ingest, query):
    counts = ingest(b"\n\n   \n\t\r\n")

    assert counts_of(counts) == (0, 0, 0, 0, 0)
    assert query("SELECT count(*) AS n FROM events")[0].n == 0
    assert query("SELECT count(*) AS n FROM quarantine")[0].n == 0


def test_unknown_fields_in_data_are_kept(ingest, query):
    created = _created("2026-11-22T14:03:11+01:00")
    created["data"]["gift_message"] = "Happy birthday"
    created["data"]["loyalty"] = {"tier": "gold", "points": 1200}
    created["data"]["lines"][0]["engraving"] = "A.B."
    ingest(jsonl(created))

    [row] = query("SELECT data FROM events")
    assert row.data["gift_message"] == "Happy birthday"
    assert row.data["loyalty"] == {"tier": "gold", "points": 1200}
    assert row.data["lines"] == [{"sku": "SKU-00017", "qty": 2, "unit_price": 19.99, "engraving": "A.B."}]


def test_unknown_envelope_attributes_are_kept_as_attrs(ingest, query):
    extras = {
        "datacontenttype": "application/json",
        "dataschema": "https://example.com/schemas/rerouted.json",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "partnerref": {"batch": 7, "tags": ["a", "b"]},
    }
    ingest(jsonl(event(**extras)))

    [row] = query("SELECT subject, attrs FROM events")
    assert row.attrs == extras
    assert row.subject == ORDER


def test_negative_stock_and_a_negative_adjustment_are_valid(ingest):
    snapshot = _with_data("retail.inventory.snapshot", on_hand=-3)
    snapshot["id"] = "pos-1"
    adjusted = _with_data("retail.inventory.adjusted", delta=-5)
    adjusted["id"] = "erp-1"
    assert counts_of(ingest(jsonl(snapshot, adjusted))) == (2, 2, 0, 0, 0)


def test_events_arriving_out_of_order_are_stored_with_their_business_time(ingest, query):
    delivered = event("retail.order.delivered", id="oms-3", time="2026-11-22T10:00:00+01:00")
    shipped = event(
        "retail.order.shipped", id="wms-2", source="wms/dc-east", time="2026-11-21T18:00:00+01:00"
    )
    rerouted = event(id="oms-1", time="2026-11-20T14:03:11+01:00")
    ingest(jsonl(delivered))
    ingest(jsonl(shipped, rerouted))

    by_time = query("SELECT id, time FROM events ORDER BY time")
    assert [r.id for r in by_time] == ["oms-1", "wms-2", "oms-3"]
    assert [r.time for r in by_time] == [
        utc("2026-11-20T13:03:11Z"),
        utc("2026-11-21T17:00:00Z"),
        utc("2026-11-22T09:00:00Z"),
    ]
    # the latest business time seen from the OMS is the delivery, not the later arrival
    [oms] = query("SELECT last_event_time FROM source_activity WHERE source = 'oms'")
    assert oms.last_event_time == utc("2026-11-22T09:00:00Z")


# --- counts: always balanced, reported and recorded ----------------------------------------
def test_the_counts_balance_and_are_recorded_for_every_batch(ingest, query, an_order):
    other = DIFFERENT_CONTENT["data value"]
    second = event(id="oms-2")
    third = event(id="oms-3")
    payload = jsonl(an_order, an_order, second, "not json", other, third, "", second)
    # 7 records (the blank line is not one): stored oms-000123-r1, oms-2, oms-3;
    # duplicates: record 2 and record 8; invalid: record 4; conflict: record 5
    counts = ingest(payload, batch_size=3)

    assert counts_of(counts) == (7, 3, 2, 1, 2)
    assert balanced(counts)
    batches = query(
        "SELECT first_record, last_record, received, accepted, duplicate, conflict, quarantined "
        "FROM ingest_batches ORDER BY batch_id"
    )
    assert len(batches) == math.ceil(7 / 3)
    assert [(b.first_record, b.last_record) for b in batches] == [(1, 3), (4, 6), (8, 8)]
    for b in batches:
        assert b.received == b.accepted + b.duplicate + b.quarantined
    totals = [
        sum(getattr(b, f) for b in batches)
        for f in ("received", "accepted", "duplicate", "conflict", "quarantined")
    ]
    assert tuple(totals) == counts_of(counts)


def test_each_source_records_what_it_sent_and_what_was_new(ingest, query, an_order):
    other = DIFFERENT_CONTENT["data value"]
    from_store = event(id="pos-1", source="pos/store-0042")
    ingest(jsonl(an_order, an_order, other, from_store, "not json"))

    rows = query("SELECT source, received, accepted FROM source_activity ORDER BY source")
    # valid events received per source (duplicates and conflicts included), and new ones
    assert [(r.source, r.received, r.accepted) for r in rows] == [("oms", 3, 1), ("pos/store-0042", 1, 1)]


def test_a_source_that_sends_only_repeats_is_counted_and_keeps_its_latest_event_time(ingest, query, an_order):
    # the second batch holds a duplicate from oms and nothing new: oms has received 2 and
    # accepted 1, and its latest business time is still the example's 13:03:11 UTC
    ingest(jsonl(an_order, event(id="wms-1", source="wms/dc-east")))
    ingest(jsonl(an_order))

    rows = query("SELECT source, received, accepted, last_event_time FROM source_activity ORDER BY source")
    assert [(r.source, r.received, r.accepted, r.last_event_time) for r in rows] == [
        ("oms", 2, 1, utc(WHEN_UTC)),
        ("wms/dc-east", 1, 1, utc(WHEN_UTC)),
    ]


# --- re-ingesting changes nothing -----------------------------------------------------------
def test_ingesting_the_same_file_again_stores_nothing_new(ingest, query, an_order):
    other = DIFFERENT_CONTENT["data value"]
    payload = jsonl(
        an_order, event(id="oms-2"), "not json", other, event(id="oms-3", time="1999-12-31T23:00:00Z")
    )
    first = ingest(payload, batch_size=2)
    snapshot = query("SELECT source, id, data, record_no FROM events ORDER BY id")
    quarantined = query("SELECT quarantine_id FROM quarantine ORDER BY quarantine_id")

    again = ingest(payload, batch_size=2)

    assert counts_of(first) == (5, 3, 0, 1, 2)
    # every valid record is the stored content again, the others are quarantined again
    assert counts_of(again) == (5, 0, 3, 1, 2)
    assert query("SELECT source, id, data, record_no FROM events ORDER BY id") == snapshot
    assert query("SELECT quarantine_id FROM quarantine ORDER BY quarantine_id") == quarantined


# --- JSON arrays ----------------------------------------------------------------------------
def test_a_json_array_stores_the_same_rows_as_json_lines(engine, ingest, query):
    events = [
        event(),
        _created("2026-11-22T14:03:11+01:00"),
        event("retail.inventory.snapshot", id="pos-1", source="pos/store-0042"),
        event(id="oms-2", datacontenttype="application/json"),
    ]
    snapshot_sql = (
        "SELECT source, id, type, time, subject, data, attrs, record_no FROM events ORDER BY source, id"
    )
    as_lines = ingest(jsonl(*events))
    rows_from_lines = query(snapshot_sql)
    truncate_store(engine)

    as_array = ingest(json_array(*events))

    assert counts_of(as_lines) == counts_of(as_array) == (4, 4, 0, 0, 0)
    assert query(snapshot_sql) == rows_from_lines


def test_a_malformed_element_of_an_array_is_quarantined_and_the_rest_stored(ingest, query, an_order):
    payload = json_array(an_order, '{"id": "oms-2", oops}', event(id="oms-3"))
    counts = ingest(payload)

    assert counts_of(counts) == (3, 2, 0, 0, 1)
    assert sorted(r.id for r in query("SELECT id FROM events")) == ["oms-000123-r1", "oms-3"]
    [bad] = query("SELECT record_no, reason_code, raw FROM quarantine")
    assert (bad.record_no, bad.reason_code, bad.raw) == (2, "invalid", '{"id": "oms-2", oops}')


def test_a_truncated_array_quarantines_its_tail(ingest, query, an_order):
    payload = (
        b"["
        + line(an_order)
        + b",\n"
        + line(event(id="oms-2"))
        + b',\n{"specversion": "1.0", "id": "oms-3", "da'
    )
    counts = ingest(payload)

    assert counts_of(counts) == (3, 2, 0, 0, 1)
    [bad] = query("SELECT record_no, reason_code, raw FROM quarantine")
    assert (bad.record_no, bad.reason_code) == (3, "invalid")
    assert bad.raw == '{"specversion": "1.0", "id": "oms-3", "da'


# --- partitions by UTC month of business time -----------------------------------------------
PARTITIONS_SQL = (
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'events'::regclass"
)


def test_events_far_in_the_past_and_future_get_their_month_partitions(ingest, query):
    counts = ingest(
        jsonl(
            event(id="oms-1999", time="1999-03-15T12:00:00+00:00"),
            event(id="oms-2087", time="2087-07-04T09:30:00-04:00"),
        )
    )

    assert counts_of(counts) == (2, 2, 0, 0, 0)
    assert {"events_1999m03", "events_2087m07"} <= {r.name for r in query(PARTITIONS_SQL)}
    placed = query("SELECT id, tableoid::regclass::text AS part FROM events ORDER BY id")
    assert [(r.id, r.part) for r in placed] == [
        ("oms-1999", "events_1999m03"),
        ("oms-2087", "events_2087m07"),
    ]


def test_an_event_lands_in_the_partition_of_its_utc_month(ingest, query):
    # 23:30 at -02:00 on 30 November is 01:30 UTC on 1 December; 00:30 at +01:00 on
    # 1 December is 23:30 UTC on 30 November
    ingest(
        jsonl(
            event(id="oms-late-nov", time="2026-11-30T23:30:00-02:00"),
            event(id="oms-early-dec", time="2024-12-01T00:30:00+01:00"),
        )
    )

    placed = query("SELECT id, tableoid::regclass::text AS part FROM events ORDER BY id")
    assert [(r.id, r.part) for r in placed] == [
        ("oms-early-dec", "events_2024m11"),
        ("oms-late-nov", "events_2026m12"),
    ]
    assert "events_2026m11" not in {r.name for r in query(PARTITIONS_SQL)}


# --- property: the store follows a plain-Python model of the rules --------------------------
KEYS = [("oms", "e1"), ("pos/store-0042", "e1"), ("oms", "e2")]
BAD_RECORDS = [
    "not json {",
    json.dumps({**event(id="e1"), "time": "2026-11-20T14:03:11"}),  # same key as a valid one
    json.dumps(event("retail.order.teleported", {"order_id": ORDER}, id="e2")),
    json.dumps(_with_data("retail.return.received", qty="5")),
]


def _valid_record(key: tuple[str, str], variant: int, written: int) -> str:
    source, id_ = key
    data = {"order_id": ORDER, "reason": f"variant-{variant}"}
    if written == 0:
        return json.dumps(event("retail.order.cancelled", data, id=id_, source=source, time=WHEN))
    # the same content with reordered keys, spaces and another offset
    other = event("retail.order.cancelled", data, id=id_, source=source, time=WHEN_UTC)
    return json.dumps(_reordered(other), separators=(" , ", " : "))


record_specs = st.one_of(
    st.tuples(st.just("valid"), st.integers(0, len(KEYS) - 1), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("invalid"), st.integers(0, len(BAD_RECORDS) - 1), st.just(0), st.just(0)),
    st.tuples(st.just("blank"), st.just(0), st.just(0), st.just(0)),
)


def _model(records: list[tuple[int, tuple[str, int, int, int]]], stored: dict[tuple[str, str], int]):
    """The rules of EVENTS.md in plain Python: counts and quarantine rows (record, code)."""
    received = accepted = duplicate = conflict = invalid = 0
    quarantine = []
    for record_no, (kind, which, variant, _written) in records:
        received += 1
        if kind == "invalid":
            invalid += 1
            quarantine.append((record_no, "invalid"))
            continue
        key = KEYS[which]
        if key not in stored:
            stored[key] = variant
            accepted += 1
        elif stored[key] == variant:
            duplicate += 1
        else:
            conflict += 1
            quarantine.append((record_no, "conflict"))
    return (received, accepted, duplicate, conflict, invalid + conflict), quarantine


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(record_specs, max_size=30), batch_size=st.integers(1, 8))
def test_any_mix_of_records_follows_the_rules_and_always_balances(engine, ingest, query, specs, batch_size):
    truncate_store(engine)
    lines, records = [], []
    for spec in specs:
        kind, which, variant, written = spec
        if kind == "blank":
            lines.append("")
            continue
        lines.append(
            BAD_RECORDS[which] if kind == "invalid" else _valid_record(KEYS[which], variant, written)
        )
        records.append((len(lines), spec))
    payload = "\n".join(lines).encode() + b"\n"

    stored: dict[tuple[str, str], int] = {}
    expected, expected_quarantine = _model(records, stored)
    counts = ingest(payload, batch_size=batch_size)

    assert counts_of(counts) == expected
    assert balanced(counts)
    events = {
        (r.source, r.id): r.reason for r in query("SELECT source, id, data->>'reason' AS reason FROM events")
    }
    assert events == {key: f"variant-{variant}" for key, variant in stored.items()}
    quarantine = query("SELECT record_no, reason_code FROM quarantine ORDER BY record_no")
    assert [(r.record_no, r.reason_code) for r in quarantine] == expected_quarantine
    batches = query("SELECT received, accepted, duplicate, quarantined FROM ingest_batches")
    assert len(batches) == math.ceil(len(records) / batch_size)
    assert all(b.received == b.accepted + b.duplicate + b.quarantined for b in batches)

    # the same input again: nothing new stored or quarantined, counts as the model says
    expected_again, _ = _model(records, stored)
    again = ingest(payload, batch_size=batch_size)

    assert counts_of(again) == expected_again
    assert expected_again[1] == 0
    assert {
        (r.source, r.id): r.reason for r in query("SELECT source, id, data->>'reason' AS reason FROM events")
    } == events
    assert query("SELECT count(*) AS n FROM quarantine")[0].n == len(expected_quarantine)


def test_arrival_order_within_a_batch_is_the_order_of_the_file(ingest, query):
    """Ties on equal business time are broken by arrival (seq): the later line must win,
    whatever the ids, so seq follows the file even inside one batch."""
    later_id_first = [
        event("retail.order.delivered", {"order_id": f"ORD-{n}"}, id=name, time=WHEN)
        for n, name in enumerate(["zz-first-line", "aa-second-line", "mm-third-line"])
    ]
    counts = ingest(jsonl(*later_id_first), batch_size=1000)
    assert counts.accepted == 3
    rows = query("SELECT id FROM events ORDER BY seq")
    assert [r.id for r in rows] == ["zz-first-line", "aa-second-line", "mm-third-line"]


def test_two_ingests_meeting_a_new_month_at_once_both_get_its_partition(engine):
    # the first creates the partition and holds its transaction open; the second, which
    # found no partition, waits for the creator's lock and must then take it as made
    import threading

    month = sa.text("SELECT ensure_event_partition(TIMESTAMPTZ '2031-05-09 10:00:00+00')")
    outcome: list[object] = []
    with engine.connect() as first:
        first.begin()
        first.execute(month)

        def second() -> None:
            try:
                with engine.begin() as conn:
                    outcome.append(conn.execute(month).scalar_one())
            except Exception as exc:  # the bug: "relation events_2031m05 already exists"
                outcome.append(exc)

        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(timeout=1.0)  # it is blocked on the creator's lock
        first.commit()
    waiter.join(timeout=30)
    assert outcome == ["events_2031m05"]


def test_an_ingest_leaves_the_process_gc_and_thread_switching_as_it_found_them(ingest, an_order):
    # ingest tunes both for its run (store._RunTuning); a collector process runs on after it
    import gc
    import sys

    before = (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count())
    counts = ingest(jsonl(an_order, event(id="oms-2")), batch_size=1)

    assert counts_of(counts) == (2, 2, 0, 0, 0)
    assert (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count()) == before
