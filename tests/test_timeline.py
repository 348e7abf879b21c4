"""The cross-system timeline of one entity (metrics/timeline.py), worked by hand.

One web order, ORD-T1, told by four systems (times UTC, 20 November 2026 unless said):

    #  time         source        event                                   arrived (received_at)
    1  08:00        oms           created, promised by 21st 08:00, 2 lines  08:01
    2  08:10        oms           routed to STORE-0042                      08:11
    3  08:40        oms           rerouted STORE-0042 -> DC-EAST (stockout) 08:41
    4  08:41        middleware    oms.wms.create_pick error 500 (ORD-T1)    08:42
    5  08:45        middleware    oms.wms.create_pick ok, attempt 2         08:46
    6  10:00        wms/dc-east   picked at DC-EAST                         13:00  <- late
    7  12:00        wms/dc-east   shipped, shipment SHP-1 (dhl)             12:01
    8  21st 10:00   oms           delivered (2 h after the promise)         21st 10:10
    9  23rd 09:00   oms           return RET-1 of ORD-T1 at DC-EAST         23rd 09:01

Event 6 is late twice: it arrived 3 h after it happened (over the 15 minutes of
max_event_lag_minutes) and after event 7, which happened later. Event 8 arrived 10 minutes
after it happened: not late. Also stored, not ORD-T1's: an ASN of SHP-1 (a transfer TR-9,
11:30), ORD-OTHER (created 09:00, its call on the same interface at 09:30), stock counts of
SKU-00017 at DC-EAST (erp 10 at 06:00, wms 9 at 07:00, erp -2 at 09:00).

The sla_breach detector runs as of 21st 09:00 (1 h past the promise, not delivered: high);
a manager resolves it on the 22nd at 10:00, and the audit log has that and a manual note on
the order (20th 08:35).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.audit import record
from metrics.exception_queue import resolve, run_detectors
from metrics.params import Policies, Window
from metrics.timeline import Timeline, UnknownKind, summarise, system_of, timeline
from tests.builders import DC, STORE, event, jsonl

ORDER = "ORD-T1"
SKU_A, SKU_B = "SKU-00017", "SKU-00099"
CALL = "oms.wms.create_pick"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def ev(type_: str, id: str, when: datetime, data: dict[str, Any], source: str = "oms") -> dict[str, Any]:
    return event(f"retail.{type_}", data, id=id, source=source, time=iso(when), subject=None)


def call(id: str, when: datetime, status: str, correlation: str, attempt: int = 1) -> dict[str, Any]:
    data = {
        "interface": CALL,
        "source_system": "oms",
        "target_system": "wms",
        "status": status,
        "latency_ms": 120.0,
        "http_status": 200 if status == "ok" else 500,
        "correlation_id": correlation,
        "attempt": attempt,
    }
    return ev("integration.call", id, when, data, source="middleware")


EVENTS = [
    ev(
        "order.created",
        "t1-created",
        at(20, 8),
        {
            "order_id": ORDER,
            "channel": "web",
            "promised_by": iso(at(21, 8)),
            "lines": [{"sku": SKU_A, "qty": 2}, {"sku": SKU_B, "qty": 1}],
        },
    ),
    ev("order.routed", "t1-routed", at(20, 8, 10), {"order_id": ORDER, "node_id": STORE}),
    ev(
        "order.rerouted",
        "t1-rerouted",
        at(20, 8, 40),
        {"order_id": ORDER, "from_node": STORE, "to_node": DC, "reason": "stockout"},
    ),
    call("call-1", at(20, 8, 41), "error", ORDER),
    call("call-2", at(20, 8, 45), "ok", ORDER, attempt=2),
    ev("order.picked", "t1-picked", at(20, 10), {"order_id": ORDER, "node_id": DC}, source="wms/dc-east"),
    ev(
        "order.shipped",
        "t1-shipped",
        at(20, 12),
        {"order_id": ORDER, "node_id": DC, "shipment_id": "SHP-1", "carrier": "dhl"},
        source="wms/dc-east",
    ),
    ev("order.delivered", "t1-delivered", at(21, 10), {"order_id": ORDER}),
    ev(
        "return.received",
        "ret-1",
        at(23, 9),
        {"return_id": "RET-1", "order_id": ORDER, "sku": SKU_A, "qty": 1, "location_id": DC},
    ),
    # not ORD-T1's own events
    ev(
        "shipment.asn",
        "asn-shp-1",
        at(20, 11, 30),
        {"shipment_id": "SHP-1", "to_location": STORE, "expected_at": iso(at(20, 18)), "transfer_id": "TR-9"},
        source="wms/dc-east",
    ),
    ev(
        "order.created",
        "other-created",
        at(20, 9),
        {"order_id": "ORD-OTHER", "channel": "store", "promised_by": iso(at(22, 9)),
         "lines": [{"sku": SKU_B, "qty": 1}]},
    ),
    call("call-3", at(20, 9, 30), "ok", "ORD-OTHER"),
    ev("inventory.snapshot", "snap-erp", at(20, 6),
       {"system": "erp", "location_id": DC, "sku": SKU_A, "on_hand": 10}, "erp"),
    ev("inventory.snapshot", "snap-wms", at(20, 7),
       {"system": "wms", "location_id": DC, "sku": SKU_A, "on_hand": 9}, "wms/dc-east"),
    ev(
        "inventory.adjusted",
        "adj-erp",
        at(20, 9),
        {"system": "erp", "location_id": DC, "sku": SKU_A, "delta": -2, "reason": "damage"},
        "erp",
    ),
]  # fmt: skip
AS_OF = at(24, 0)


@pytest.fixture
def told(engine: Engine, ingest: Any) -> Engine:
    return tell(engine, ingest)


def tell(engine: Engine, ingest: Any) -> Engine:
    """The story above in the store, with its arrival times, exception and audit rows."""
    counts = ingest(jsonl(*EVENTS))
    assert counts.accepted == len(EVENTS)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET received_at = time + interval '1 minute'"))
        conn.execute(sa.text("UPDATE events SET received_at = :t WHERE id = 't1-picked'"), {"t": at(20, 13)})
        conn.execute(
            sa.text("UPDATE events SET received_at = time + interval '10 minutes' WHERE id = 't1-delivered'")
        )
    run_detectors(engine, Window.of(as_of=at(21, 9)), Policies(), types=("sla_breach",))
    with engine.begin() as conn:
        resolve(conn, f"sla_breach:{ORDER}", by="mia", note="customer compensated", at=at(22, 10))
        record(
            conn,
            actor="mia",
            role="manager",
            action="exception.resolve",
            entity_kind="exception",
            entity_key=f"sla_breach:{ORDER}",
            reason="customer compensated",
            before={"status": "open"},
            after={"status": "resolved"},
            at=at(22, 10),
        )
        record(
            conn,
            actor="ops-lead",
            role="manager",
            action="order.note",
            entity_kind="order",
            entity_key=ORDER,
            reason="asked DC-EAST to take it",
            before=None,
            after=None,
            at=at(20, 8, 35),
        )
    return engine


def read(engine: Engine, kind: str, key: str, **options: Any) -> Timeline:
    with engine.connect() as conn:
        return timeline(conn, kind, key, **options)


def test_an_orders_timeline_holds_every_system_s_events_in_business_time_order(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    assert [(e.time, e.system, e.type) for e in t.events] == [
        (at(20, 8), "oms", "order.created"),
        (at(20, 8, 10), "oms", "order.routed"),
        (at(20, 8, 40), "oms", "order.rerouted"),
        (at(20, 8, 41), "middleware", "integration.call"),
        (at(20, 8, 45), "middleware", "integration.call"),
        (at(20, 10), "wms", "order.picked"),
        (at(20, 12), "wms", "order.shipped"),
        (at(21, 10), "oms", "order.delivered"),
        (at(23, 9), "oms", "return.received"),
    ]
    assert not t.capped
    assert t.events[3].source == "middleware" and t.events[5].source == "wms/dc-east"


def test_each_event_carries_the_gap_since_the_one_before(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    minutes = [None if e.gap is None else e.gap / timedelta(minutes=1) for e in t.events]
    assert minutes == [None, 10, 30, 1, 4, 75, 120, 22 * 60, 47 * 60]


def test_an_event_that_arrived_hours_late_and_after_a_later_one_is_marked_late_for_both_reasons(
    told: Engine,
) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    late = [(e.type, e.late_reason) for e in t.events if e.late]
    assert late == [("order.picked", "lag, out of order")]
    picked = t.events[5]
    assert picked.lag == timedelta(hours=3)
    delivered = t.events[7]
    assert delivered.lag == timedelta(minutes=10) and not delivered.late  # under 15 minutes


def test_a_longer_lag_policy_keeps_only_the_out_of_order_mark(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF, policies=Policies(max_event_lag_minutes=240))
    assert [(e.type, e.late_reason) for e in t.events if e.late] == [("order.picked", "out of order")]


def test_summaries_read_as_one_line_each(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    assert [e.summary for e in t.events] == [
        "web order, 2 lines (2 × SKU-00017, 1 × SKU-00099), promised by 2026-11-21 08:00 UTC",
        "routed to STORE-0042",
        "rerouted STORE-0042 → DC-EAST (stockout)",
        "oms.wms.create_pick oms → wms: error 500, 120 ms",
        "oms.wms.create_pick oms → wms: ok 200, 120 ms, attempt 2",
        "picked at DC-EAST",
        "shipped from DC-EAST with dhl, shipment SHP-1",
        "delivered",
        "return RET-1 of ORD-T1: 1 × SKU-00017 at DC-EAST",
    ]


def test_the_order_links_its_shipment_return_interface_transfer_and_positions(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    assert [(r.kind, r.key) for r in t.related] == [
        ("interface", CALL),
        ("shipment", "SHP-1"),
        ("return", "RET-1"),
        ("position", f"{SKU_A}@{STORE}"),
        ("position", f"{SKU_B}@{STORE}"),
        ("position", f"{SKU_A}@{DC}"),
        ("position", f"{SKU_B}@{DC}"),
        ("transfer", "TR-9"),
    ]


def test_the_orders_key_facts_say_it_was_delivered_late_from_the_dc(told: Engine) -> None:
    facts = read(told, "order", ORDER, as_of=AS_OF).facts
    assert facts["channel"] == "web"
    assert facts["promised_by"] == at(21, 8)
    assert facts["current_node"] == DC
    assert facts["status"] == "delivered"
    assert facts["breached"] is True
    assert facts["reroutes"] == 1


def test_the_exception_raised_and_resolved_and_the_manual_actions_are_points_on_the_timeline(
    told: Engine,
) -> None:
    t = read(told, "order", ORDER, as_of=AS_OF)
    assert [(m.time, m.label, m.by, m.note) for m in t.exceptions] == [
        (at(21, 9), "sla_breach raised (high)", "auto", "detected"),
        (at(22, 10), "sla_breach resolved", "mia", "customer compensated"),
    ]
    assert t.audited
    assert [(m.time, m.label, m.ref_kind, m.note) for m in t.actions] == [
        (at(20, 8, 35), "order.note by ops-lead (manager)", "order", "asked DC-EAST to take it"),
        (at(22, 10), "exception.resolve by mia (manager)", "exception", "customer compensated"),
    ]


def test_as_of_an_earlier_instant_the_timeline_shows_only_what_had_happened(told: Engine) -> None:
    t = read(told, "order", ORDER, as_of=at(20, 11))
    assert [e.type for e in t.events][-1] == "order.picked"
    assert len(t.events) == 6
    assert [r.kind for r in t.related] == ["interface", "position", "position", "position", "position"]
    assert t.exceptions == () and [m.label for m in t.actions] == ["order.note by ops-lead (manager)"]
    assert t.facts["status"] == "picked" and t.facts["breached"] is False


def test_a_shipment_timeline_joins_its_asn_and_the_orders_shipped_event(told: Engine) -> None:
    t = read(told, "shipment", "SHP-1", as_of=AS_OF)
    assert [(e.time, e.type) for e in t.events] == [
        (at(20, 11, 30), "shipment.asn"),
        (at(20, 12), "order.shipped"),
    ]
    assert [(r.kind, r.key) for r in t.related] == [("transfer", "TR-9"), ("order", ORDER)]


def test_a_return_timeline_links_back_to_its_order_and_position(told: Engine) -> None:
    t = read(told, "return", "RET-1", as_of=AS_OF)
    assert [e.type for e in t.events] == ["return.received"]
    assert {(r.kind, r.key) for r in t.related} == {("order", ORDER), ("position", f"{SKU_A}@{DC}")}


def test_a_position_timeline_has_every_systems_counts_and_their_quantities(told: Engine) -> None:
    t = read(told, "position", f"{SKU_A}@{DC}", as_of=AS_OF)
    assert [(e.system, e.type) for e in t.events] == [
        ("erp", "inventory.snapshot"),
        ("wms", "inventory.snapshot"),
        ("erp", "inventory.adjusted"),
        ("oms", "return.received"),
    ]
    quantities = {s: q["quantity"] for s, q in t.facts["quantities"].items()}
    assert quantities == {"erp": 8, "wms": 9}  # erp 10 - 2


def test_an_interface_timeline_is_bounded_by_the_window_and_capped_newest_last(told: Engine) -> None:
    window = Window.of(as_of=at(21, 0), since=at(20, 0), until=at(21, 0))
    t = read(told, "interface", CALL, window=window, limit=2)
    assert [(e.time, e.data["correlation_id"]) for e in t.events] == [
        (at(20, 8, 45), ORDER),
        (at(20, 9, 30), "ORD-OTHER"),
    ]
    assert t.capped and t.limit == 2
    assert [(r.kind, r.key) for r in t.related] == [("order", "ORD-OTHER"), ("order", ORDER)]
    assert t.facts["calls"] == 2 and t.facts["failures"] == 0
    later = Window.of(as_of=at(24, 0), since=at(21, 0), until=at(24, 0))
    assert read(told, "interface", CALL, window=later).events == ()


def test_a_source_timeline_holds_its_events_of_the_window_newest_last(told: Engine) -> None:
    window = Window.of(as_of=at(21, 0), since=at(20, 0), until=at(21, 0))
    t = read(told, "source", "wms/dc-east", window=window)
    assert [(e.time, e.type) for e in t.events] == [
        (at(20, 7), "inventory.snapshot"),
        (at(20, 10), "order.picked"),
        (at(20, 11, 30), "shipment.asn"),
        (at(20, 12), "order.shipped"),
    ]
    assert not t.capped
    capped = read(told, "source", "wms/dc-east", window=window, limit=3)
    assert [e.type for e in capped.events] == [
        "order.picked",
        "shipment.asn",
        "order.shipped",
    ] and capped.capped


def test_an_unknown_order_gives_an_empty_timeline(told: Engine) -> None:
    t = read(told, "order", "ORD-NOPE", as_of=AS_OF)
    assert t.empty and t.related == () and t.facts["status"] == "unknown"


def test_an_unknown_kind_or_a_position_without_at_sign_is_refused_with_one_line(told: Engine) -> None:
    with pytest.raises(UnknownKind, match="unknown entity kind 'parcel': one of order, shipment"):
        read(told, "parcel", "P-1")
    with pytest.raises(UnknownKind, match="a position is SKU@LOCATION"):
        read(told, "position", "SKU-00017")


def test_the_system_is_the_source_name_up_to_its_first_slash() -> None:
    assert [
        system_of(s) for s in ("oms", "wms/dc-east", "pos/store-0042", "marketplace/acme", "ctower/collector")
    ] == [
        "oms",
        "wms",
        "pos",
        "marketplace",
        "ctower",
    ]
    assert (
        summarise("inventory.adjusted", {"system": "erp", "delta": 3, "reason": "receipt"})
        == "erp adjusted +3 (receipt)"
    )
