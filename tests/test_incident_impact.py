"""A hand-built incident shared by the incident tests: an OMS → WMS pick interface failing on
20 November 2026 between 10:00 and 14:00 UTC, the orders it touched, a stock position and a
collector source. Every figure below is worked out by hand (see tests/test_incident_impact.py).

Range [10:00, 14:00) on 2026-11-20; figures as of 2026-11-21 12:00 (AS_OF).

Orders (lines: qty × unit_price):
    O-1  created 09:00, promised 12:00, delivered 13:00        2 × 10.00 + 1 × 25.50  breached (late)
    O-2  created 09:30, promised 11-21 09:00, not delivered    4 × 10.00              breached (past promise)
    O-3  created 10:00, promised 11-22 10:00, delivered 18:00  1 × (no price)         on time
    O-4  created 10:15, promised 11:00, cancelled 10:30        5 × 10.00              cancelled: not counted
  orders 3, breached 2, units 2+1+4+1 = 8, value 45.50 + 40.00 = 85.50, unpriced lines 1,
  breached units 7, breached value 85.50.
How they come in: O-1 and O-4 attached; O-2 by its failed calls on the interface in the
range; O-3 by the attached delivery 'oms.wms.create_pick|O-3' (and its own failed calls).

Interface oms.wms.create_pick (business time):
    09:50 error (X-0, before the range: failing when it starts)
    10:20 ok    -> window 10:00-10:20 (20 min, 0 failed calls in range)
    11:00 error O-2, 11:10 timeout O-3, 11:40 error O-2
    12:30 ok O-2 -> window 11:00-12:30 (90 min, 3 failed calls)
    13:30 error O-3 -> window 13:30-14:00 (30 min, 1, not recovered in the range)
    14:30 ok O-3 (after the range)
  interface down 140 min in 3 windows.
Delivery oms.wms.create_pick|O-3: 11:10 timeout, 13:30 error, 14:30 ok (after) -> one
  window 11:10-14:00 (170 min, 2 failed calls).
Source oms-api (collector runs, by their finish):
    09:55 failed (before: down when the range starts), 10:05 failed, 10:35 ok -> 10:00-10:35 (35 min, 1)
    11:00 skipped (says nothing)
    12:00 failed, 12:10 failed, 12:45 ok -> 12:00-12:45 (45 min, 2)
  source down 80 min in 2 windows.
Together: 6 windows, 3 entities down, 170 + 140 + 80 = 390 min = 23,400 s.

Position SKU-A@DC-EAST: erp counts 100 at 08:00, adjusts -10 at 09:00 -> 90; wms counts 90.
A later erp count (500, on 11-22, after AS_OF) and a later cost (99 on 11-22) must not
count. Units 90 (erp, the reference) × unit cost 4.50 = 405.00.
Value affected: 85.50 + 405.00 = 490.50.

Exceptions active in the range about the entities (4): sla_breach:O-1 (12:05-13:00),
integration_failure:oms.wms.create_pick (11:30-12:30), the delivery
integration_failure:oms.wms.create_pick|O-7 (10:30-11:30, matched by its interface), and
inventory_variance:DC-EAST|SKU-A|wms (09:00-10:30, matched by its sku and location). Not:
sla_at_risk:O-1 (08:00-09:59, over before the range), sla_breach:O-99 (not attached).

Actions in the range (2): maria (manager) acknowledged sla_breach:O-1 at 12:10; omar (admin)
resumed source oms-api at 12:40. Not: maria on order O-1 at 15:00 (after), anyone on O-99.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app import audit
from tests.builders import event, jsonl

DAY = datetime(2026, 11, 20, tzinfo=UTC)
FROM = DAY.replace(hour=10)
TO = DAY.replace(hour=14)
AS_OF = datetime(2026, 11, 21, 12, tzinfo=UTC)
INTERFACE = "oms.wms.create_pick"
DELIVERY = f"{INTERFACE}|O-3"
SOURCE = "oms-api"
POSITION = "SKU-A@DC-EAST"
ENTITIES = [
    ("order", "O-1"),
    ("order", "O-4"),
    ("interface", INTERFACE),
    ("delivery", DELIVERY),
    ("source", SOURCE),
    ("position", POSITION),
]


def at(hour: int, minute: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _order(order: str, created: datetime, promised: datetime, lines: list[dict[str, Any]]) -> dict[str, Any]:
    data = {"order_id": order, "channel": "web", "promised_by": iso(promised), "lines": lines}
    return event("retail.order.created", data, id=f"{order}-created", time=iso(created), subject=order)


def _step(kind: str, order: str, when: datetime, **data: Any) -> dict[str, Any]:
    return event(
        f"retail.order.{kind}",
        {"order_id": order, **data},
        id=f"{order}-{kind}",
        time=iso(when),
        subject=order,
    )


def _call(n: int, when: datetime, status: str, correlation: str) -> dict[str, Any]:
    data = {
        "interface": INTERFACE,
        "source_system": "oms",
        "target_system": "wms",
        "status": status,
        "latency_ms": 120.0,
        "correlation_id": correlation,
    }
    return event(
        "retail.integration.call", data, id=f"call-{n}", source="middleware", time=iso(when), subject=None
    )


def _inventory(n: int, type_: str, when: datetime, **data: Any) -> dict[str, Any]:
    return event(
        f"retail.inventory.{type_}",
        {"location_id": "DC-EAST", "sku": "SKU-A", **data},
        id=f"inv-{n}",
        source="erp",
        time=iso(when),
        subject=POSITION,
    )


def _product(n: int, when: datetime, sku: str, cost: float) -> dict[str, Any]:
    return event(
        "retail.product.upserted",
        {"sku": sku, "unit_cost": cost},
        id=f"prod-{n}",
        source="erp",
        time=iso(when),
        subject=sku,
    )


EVENTS = [
    _product(1, at(6), "SKU-A", 4.5),
    _product(2, at(6), "SKU-B", 10),
    _product(3, at(9, day=22), "SKU-A", 99),  # after AS_OF
    _order(
        "O-1",
        at(9),
        at(12),
        [{"sku": "SKU-A", "qty": 2, "unit_price": 10.0}, {"sku": "SKU-B", "qty": 1, "unit_price": 25.5}],
    ),
    _step("delivered", "O-1", at(13)),
    _order("O-2", at(9, 30), at(9, day=21), [{"sku": "SKU-A", "qty": 4, "unit_price": 10.0}]),
    _order("O-3", at(10), at(10, day=22), [{"sku": "SKU-B", "qty": 1}]),
    _step("delivered", "O-3", at(18)),
    _order("O-4", at(10, 15), at(11), [{"sku": "SKU-A", "qty": 5, "unit_price": 10.0}]),
    _step("cancelled", "O-4", at(10, 30)),
    _call(1, at(9, 50), "error", "X-0"),
    _call(2, at(10, 20), "ok", "O-9"),
    _call(3, at(11), "error", "O-2"),
    _call(4, at(11, 10), "timeout", "O-3"),
    _call(5, at(11, 40), "error", "O-2"),
    _call(6, at(12, 30), "ok", "O-2"),
    _call(7, at(13, 30), "error", "O-3"),
    _call(8, at(14, 30), "ok", "O-3"),
    _inventory(1, "snapshot", at(8), system="erp", on_hand=100),
    _inventory(2, "adjusted", at(9), system="erp", delta=-10, reason="damage"),
    _inventory(3, "snapshot", at(8), system="wms", on_hand=90),
    _inventory(4, "snapshot", at(8, day=22), system="erp", on_hand=500),  # after AS_OF
]

RUNS = [  # (finished_at, status)
    (at(9, 55), "failed"),
    (at(10, 5), "failed"),
    (at(10, 35), "ok"),
    (at(11), "skipped"),
    (at(12), "failed"),
    (at(12, 10), "failed"),
    (at(12, 45), "ok"),
]

EXCEPTIONS = [  # key, type, kind, entity, first_seen, last_seen, detail
    ("sla_breach:O-1", "sla_breach", "order", "O-1", at(12, 5), at(13), {}),
    (
        "integration_failure:oms.wms.create_pick",
        "integration_failure",
        "interface",
        INTERFACE,
        at(11, 30),
        at(12, 30),
        {},
    ),
    (
        "integration_failure:oms.wms.create_pick|O-7",
        "integration_failure",
        "delivery",
        f"{INTERFACE}|O-7",
        at(10, 30),
        at(11, 30),
        {"interface": INTERFACE, "correlation_id": "O-7"},
    ),
    (
        "inventory_variance:DC-EAST|SKU-A|wms",
        "inventory_variance",
        "position",
        "DC-EAST|SKU-A|wms",
        at(9),
        at(10, 30),
        {"location_id": "DC-EAST", "sku": "SKU-A", "system": "wms"},
    ),
    ("sla_at_risk:O-1", "sla_at_risk", "order", "O-1", at(8), at(9, 59), {}),
    ("sla_breach:O-99", "sla_breach", "order", "O-99", at(11), at(12), {}),
]

ACTIONS = [  # at, actor, role, action, kind, key
    (at(12, 10), "maria", "manager", "exception.acknowledge", "exception", "sla_breach:O-1"),
    (at(12, 40), "omar", "admin", "source.resume", "source", SOURCE),
    (at(15), "maria", "manager", "order.hold", "order", "O-1"),
    (at(11), "maria", "manager", "order.hold", "order", "O-99"),
]


def seed(conn: Connection, *, events: bool = True) -> None:
    """The runs, exceptions and audit rows of the case (the events go through `ingest`)."""
    for i, (finished, status) in enumerate(RUNS):
        conn.execute(
            sa.text(
                "INSERT INTO collector_runs (run_id, source, started_at, finished_at, status) "
                "VALUES (gen_random_uuid(), :source, :started, :finished, :status)"
            ),
            {
                "source": SOURCE,
                "started": finished - timedelta(minutes=1),
                "finished": finished,
                "status": status,
            },
        )
        del i
    for key, type_, kind, entity, first, last, detail in EXCEPTIONS:
        conn.execute(
            sa.text(
                "INSERT INTO exceptions (key, type, entity_kind, entity, severity, first_seen, last_seen, "
                "detail) "
                "VALUES (:key, :type, :kind, :entity, 'high', :first, :last, CAST(:detail AS jsonb))"
            ),
            {
                "key": key,
                "type": type_,
                "kind": kind,
                "entity": entity,
                "first": first,
                "last": last,
                "detail": orjson.dumps(detail).decode(),
            },
        )
    for when, actor, role, action, kind, key in ACTIONS:
        audit.record(
            conn,
            actor=actor,
            role=role,
            action=action,
            entity_kind=kind,
            entity_key=key,
            reason="seen in the review",
            before=None,
            after=None,
            at=when,
        )


def payload() -> bytes:
    return jsonl(*EVENTS)


# --- the tests --------------------------------------------------------------------------------

import pytest  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from metrics.incidents import impact  # noqa: E402


@pytest.fixture
def case(engine: Engine, ingest: Any) -> Engine:
    """The case above, stored."""
    counts = ingest(payload())
    assert counts.accepted == len(EVENTS), counts
    with engine.begin() as conn:
        seed(conn)
    return engine


def test_two_of_the_three_live_orders_breached_and_their_lines_add_up(case: Engine) -> None:
    with case.connect() as conn:
        found = impact(conn, ENTITIES, FROM, TO, as_of=AS_OF)
    f = found.figures
    assert (f["orders"], f["breached"], f["cancelled"]) == (3, 2, 1)
    assert (f["units"], f["value"], f["unpriced_lines"]) == (8, 85.5, 1)
    assert (f["breached_units"], f["breached_value"]) == (7, 85.5)
    rows = {r["order_id"]: r for r in found.orders.iter_rows(named=True)}
    assert sorted(rows) == ["O-1", "O-2", "O-3", "O-4"]
    assert [rows[o]["breached"] for o in ("O-1", "O-2", "O-3")] == [True, True, False]
    assert rows["O-2"]["via"] == f"failed call on {INTERFACE}"
    assert rows["O-3"]["via"] == f"delivery {INTERFACE}; failed call on {INTERFACE}"
    assert rows["O-1"]["via"] == "attached"


def test_an_order_not_yet_past_its_promise_is_not_breached_earlier(case: Engine) -> None:
    # as of 11-20 15:00: O-1 delivered late (breached); O-2 promised 11-21 09:00 is not yet
    with case.connect() as conn:
        f = impact(conn, ENTITIES, FROM, TO, as_of=at(15)).figures
    assert (f["orders"], f["breached"], f["breached_value"]) == (3, 1, 45.5)


def test_the_position_counts_the_reference_quantity_at_cost_as_it_was_then(case: Engine) -> None:
    with case.connect() as conn:
        found = impact(conn, ENTITIES, FROM, TO, as_of=AS_OF)
    [row] = found.positions.to_dicts()
    assert (row["reference_quantity"], row["units"], row["unit_cost"], row["value"]) == (90, 90, 4.5, 405.0)
    assert row["quantities"] == "erp 90, wms 90"
    assert found.figures["value_affected"] == 490.5


def test_failure_windows_run_from_the_first_failure_to_the_next_success(case: Engine) -> None:
    with case.connect() as conn:
        found = impact(conn, ENTITIES, FROM, TO, as_of=AS_OF)
    windows = [
        (r["entity_kind"], r["started_at"], r["recovered_at"], r["seconds"] / 60, r["failed_calls"])
        for r in found.windows.iter_rows(named=True)
    ]
    assert windows == [
        ("delivery", at(11, 10), None, 170, 2),
        ("interface", at(10), at(10, 20), 20, 0),
        ("interface", at(11), at(12, 30), 90, 3),
        ("interface", at(13, 30), None, 30, 1),
        ("source", at(10), at(10, 35), 35, 1),
        ("source", at(12), at(12, 45), 45, 2),
    ]
    f = found.figures
    assert (f["failure_windows"], f["interfaces_down"], f["down_seconds"]) == (6, 3, 23_400)
    assert found.down == {
        f"delivery:{DELIVERY}": 10_200,
        f"interface:{INTERFACE}": 8_400,
        f"source:{SOURCE}": 4_800,
    }


def test_a_window_is_cut_at_the_as_of_when_that_comes_before_the_range_end(case: Engine) -> None:
    with case.connect() as conn:
        found = impact(conn, [("interface", INTERFACE)], FROM, TO, as_of=at(12))
    assert [(r["started_at"], r["ended_at"]) for r in found.windows.iter_rows(named=True)] == [
        (at(10), at(10, 20)),
        (at(11), at(12)),
    ]


def test_the_exceptions_and_actions_of_the_entities_in_the_range_are_listed(case: Engine) -> None:
    with case.connect() as conn:
        found = impact(conn, ENTITIES, FROM, TO, as_of=AS_OF)
    assert found.exceptions["key"].to_list() == [
        "inventory_variance:DC-EAST|SKU-A|wms",
        "integration_failure:oms.wms.create_pick|O-7",
        "integration_failure:oms.wms.create_pick",
        "sla_breach:O-1",
    ]
    assert [(r["actor"], r["role"], r["action"]) for r in found.actions.iter_rows(named=True)] == [
        ("maria", "manager", "exception.acknowledge"),
        ("omar", "admin", "source.resume"),
    ]
    assert (found.figures["exceptions"], found.figures["actions"]) == (4, 2)


def test_an_incident_about_nothing_has_no_impact(engine: Engine) -> None:
    with engine.connect() as conn:
        f = impact(conn, [], FROM, TO, as_of=AS_OF).figures
    assert f["orders"] == f["breached"] == f["failure_windows"] == f["exceptions"] == f["actions"] == 0
    assert f["value_affected"] == 0.0
