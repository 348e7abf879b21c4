"""Inbound: late or missing ASNs (contracts/METRICS.md, "Inbound and returns").

Every test states its window explicitly; asn_late_hours is the default 4 unless told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from metrics import inbound
from metrics.params import Policies, Window
from tests import builders

# the window [Nov 20, Nov 27) seen at Nov 27 12:00
WEEK = Window.of(
    as_of=datetime(2026, 11, 27, 12, tzinfo=UTC),
    since=datetime(2026, 11, 20, tzinfo=UTC),
    until=datetime(2026, 11, 27, tzinfo=UTC),
)


def asn(id: str, shipment_id: str, time: str, expected_at: str) -> dict[str, Any]:
    data = {"shipment_id": shipment_id, "to_location": builders.STORE, "expected_at": expected_at}
    return builders.event("retail.shipment.asn", data, id=id, source="erp", time=time, subject=None)


def received(id: str, shipment_id: str, time: str) -> dict[str, Any]:
    data = {"shipment_id": shipment_id, "location_id": builders.STORE}
    return builders.event("retail.shipment.received", data, id=id, source="wms", time=time, subject=None)


def figures(engine: Engine, window: Window, policies: Policies | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return inbound.summary(conn, window, policies or Policies())


def test_nothing_received_means_no_late_asn(engine):
    assert figures(engine, WEEK) == {"asn_late": 0}


def test_a_receipt_without_any_asn_is_late(engine, ingest):
    ingest(builders.jsonl(received("r1", "SH-1", "2026-11-21T10:00:00Z")))
    assert figures(engine, WEEK) == {"asn_late": 1}


def test_an_asn_sent_after_the_receipt_does_not_count_so_the_receipt_is_late(engine, ingest):
    # SH-1: the ASN comes an hour after the goods were received -> no ASN before -> late.
    # SH-2: the ASN carries exactly the receipt's time -> not strictly before -> late.
    ingest(
        builders.jsonl(
            received("r1", "SH-1", "2026-11-21T10:00:00Z"),
            asn("a1", "SH-1", "2026-11-21T11:00:00Z", expected_at="2026-11-21T10:00:00Z"),
            received("r2", "SH-2", "2026-11-21T10:00:00Z"),
            asn("a2", "SH-2", "2026-11-21T10:00:00Z", expected_at="2026-11-21T10:00:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 2}


def test_a_receipt_exactly_asn_late_hours_after_expected_is_on_time_and_a_second_more_is_late(engine, ingest):
    # Both ASNs expect 08:00. SH-1 received at 12:00:00 = 08:00 + 4 h exactly -> on time.
    # SH-2 received at 12:00:01 -> more than 4 h after -> late. SH-3 received early -> on time.
    ingest(
        builders.jsonl(
            asn("a1", "SH-1", "2026-11-20T09:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            asn("a2", "SH-2", "2026-11-20T09:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            asn("a3", "SH-3", "2026-11-20T09:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            received("r1", "SH-1", "2026-11-21T12:00:00Z"),
            received("r2", "SH-2", "2026-11-21T12:00:01Z"),
            received("r3", "SH-3", "2026-11-21T06:00:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 1}
    # with an 8-hour policy SH-2 is on time as well
    assert figures(engine, WEEK, Policies(asn_late_hours=8)) == {"asn_late": 0}


def test_expected_at_written_with_an_offset_is_compared_as_an_instant(engine, ingest):
    # expected 10:00+02:00 = 08:00 UTC; received 12:30 UTC = 4.5 h later -> late.
    ingest(
        builders.jsonl(
            asn("a1", "SH-1", "2026-11-20T09:00:00Z", expected_at="2026-11-21T10:00:00+02:00"),
            received("r1", "SH-1", "2026-11-21T12:30:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 1}


def test_the_latest_asn_before_the_receipt_is_the_one_that_counts(engine, ingest):
    # SH-1: first ASN expects 08:00, the revision (sent later) expects 14:00; received 15:00.
    # Against the revision it is 1 h after -> on time (against the first it would be late).
    # SH-2: the reverse: the revision moves it earlier to 08:00; received 15:00 -> 7 h -> late.
    ingest(
        builders.jsonl(
            asn("a1", "SH-1", "2026-11-20T09:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            asn("a2", "SH-1", "2026-11-21T07:00:00Z", expected_at="2026-11-21T14:00:00Z"),
            received("r1", "SH-1", "2026-11-21T15:00:00Z"),
            asn("b1", "SH-2", "2026-11-20T09:00:00Z", expected_at="2026-11-21T14:00:00Z"),
            asn("b2", "SH-2", "2026-11-21T07:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            received("r2", "SH-2", "2026-11-21T15:00:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 1}


def test_only_receipts_in_the_half_open_window_and_known_at_as_of_count(engine, ingest):
    # No ASN for any of these, so each counted receipt is late.
    # at since (in), one second before until (in), at until (out), before since (out).
    ingest(
        builders.jsonl(
            received("r1", "SH-1", "2026-11-20T00:00:00Z"),
            received("r2", "SH-2", "2026-11-26T23:59:59Z"),
            received("r3", "SH-3", "2026-11-27T00:00:00Z"),
            received("r4", "SH-4", "2026-11-19T23:59:59Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 2}
    # window [Nov 26, Nov 28) seen at Nov 27 00:00: SH-2 and SH-3 (at as_of) count
    later = Window.of(
        as_of=datetime(2026, 11, 27, tzinfo=UTC),
        since=datetime(2026, 11, 26, tzinfo=UTC),
        until=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert figures(engine, later) == {"asn_late": 2}


def test_a_shipment_received_twice_counts_once_by_its_first_receipt(engine, ingest):
    # SH-1 expected 08:00: first receipt 09:00 (on time), a second partial receipt at 20:00
    # does not make it late. SH-2 (no ASN) received twice is one late shipment, not two.
    ingest(
        builders.jsonl(
            asn("a1", "SH-1", "2026-11-20T09:00:00Z", expected_at="2026-11-21T08:00:00Z"),
            received("r1", "SH-1", "2026-11-21T09:00:00Z"),
            received("r2", "SH-1", "2026-11-21T20:00:00Z"),
            received("r3", "SH-2", "2026-11-21T09:00:00Z"),
            received("r4", "SH-2", "2026-11-21T10:00:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"asn_late": 1}
