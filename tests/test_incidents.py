"""Incident records (app/incidents/records.py): opened from an exception or a selection of
entities, changed only by a manager or admin, every change audited in its transaction,
notes append-only, a closed incident frozen but for notes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.auth.accounts import cli_actor
from app.auth.roles import Actor, Forbidden
from app.incidents import records
from app.incidents.records import Entity, IncidentError
from tests.test_incident_impact import AS_OF, FROM, INTERFACE, POSITION, TO, at, payload, seed

MARIA = Actor("maria", "manager")
VERA = Actor("vera", "viewer")


@pytest.fixture
def queue(engine: Engine) -> Engine:
    """The exceptions, runs and audit rows of the hand-built case (no events needed here)."""
    with engine.begin() as conn:
        seed(conn)
    return engine


def audit_rows(engine: Engine, incident_id: int) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT actor, role, action FROM audit_log WHERE entity_kind = 'incident' "
                "AND entity_key = :key ORDER BY audit_id"
            ),
            {"key": str(incident_id)},
        )
        return [(r.actor, r.role, r.action) for r in rows]


def test_an_incident_opened_from_an_exception_holds_its_entity_and_its_seen_span_widened(
    queue: Engine,
) -> None:
    with queue.begin() as conn:
        incident_id = records.open_from_exception(conn, MARIA, "sla_breach:O-1", margin=timedelta(minutes=30))
    with queue.connect() as conn:
        incident = records.get(conn, incident_id)
    # seen 12:05 to 13:00, widened by 30 minutes each side
    assert (incident.range_from, incident.range_to) == (at(11, 35), at(13, 30))
    assert incident.entities == (Entity("order", "O-1"),)
    assert (incident.title, incident.status, incident.opened_by) == (
        "sla_breach on order O-1",
        "open",
        "maria",
    )
    assert incident.exception_key == "sla_breach:O-1"
    assert audit_rows(queue, incident_id) == [("maria", "manager", "incident.open")]


def test_an_incident_from_an_order_s_exception_covers_the_order_s_life(engine: Engine, ingest) -> None:
    ingest(payload())  # O-1 created 09:00, delivered 13:00
    with engine.begin() as conn:
        seed(conn)
        incident_id = records.open_from_exception(conn, MARIA, "sla_breach:O-1", margin=timedelta(minutes=30))
        incident = records.get(conn, incident_id)
    # seen 12:05 to 13:00, but the order lived from 09:00: 08:30 to 13:30
    assert (incident.range_from, incident.range_to) == (at(8, 30), at(13, 30))


def test_a_position_exception_opens_an_incident_about_sku_at_location(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_from_exception(conn, MARIA, "inventory_variance:DC-EAST|SKU-A|wms")
        incident = records.get(conn, incident_id)
    assert incident.entities == (Entity("position", POSITION),)
    assert (incident.range_from, incident.range_to) == (at(8), at(11, 30))  # 09:00-10:30 ± 1 h


def test_an_unknown_exception_is_refused_in_one_line(queue: Engine) -> None:
    with pytest.raises(IncidentError, match="no exception 'sla_breach:NOPE'"), queue.begin() as conn:
        records.open_from_exception(conn, MARIA, "sla_breach:NOPE")


def test_entities_are_attached_once_and_detached_and_the_range_set_each_audited(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_incident(
            conn,
            MARIA,
            title="Pick interface down",
            range_from=FROM,
            range_to=TO,
            entities=[Entity("interface", INTERFACE)],
        )
        added = records.attach(
            conn,
            MARIA,
            incident_id,
            [Entity("order", "O-1"), Entity("order", "O-2"), Entity("interface", INTERFACE)],
        )
        removed = records.detach(conn, MARIA, incident_id, [Entity("order", "O-2"), Entity("order", "O-77")])
        records.set_range(conn, MARIA, incident_id, at(9), at(15))
        records.set_range(conn, MARIA, incident_id, at(9), at(15))  # the same again: nothing to record
        incident = records.get(conn, incident_id)
    assert (added, removed) == (2, 1)
    assert incident.entities == (Entity("order", "O-1"), Entity("interface", INTERFACE))
    assert (incident.range_from, incident.range_to) == (at(9), at(15))
    assert [a for _, _, a in audit_rows(queue, incident_id)] == [
        "incident.open",
        "incident.attach",
        "incident.detach",
        "incident.set_range",
    ]


def test_a_viewer_or_nobody_may_not_open_or_change_an_incident_and_nothing_is_written(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_incident(conn, MARIA, title="x", range_from=FROM, range_to=TO)
    for who in (VERA, None):
        with pytest.raises(Forbidden), queue.begin() as conn:
            records.open_from_exception(conn, who, "sla_breach:O-1")
        with pytest.raises(Forbidden), queue.begin() as conn:
            records.add_note(conn, who, incident_id, "I was here")
        with pytest.raises(Forbidden), queue.begin() as conn:
            records.close(conn, who, incident_id)
    with queue.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM incidents")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM incident_notes")).scalar_one() == 0
    assert audit_rows(queue, incident_id) == [("maria", "manager", "incident.open")]


def test_notes_are_kept_in_order_and_can_be_neither_edited_nor_deleted(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_incident(conn, MARIA, title="x", range_from=FROM, range_to=TO)
        records.add_note(conn, MARIA, incident_id, "WMS pick API returns 503", at=at(12))
        records.add_note(conn, Actor("omar", "admin"), incident_id, "  failover done  ", at=at(13))
    with queue.connect() as conn:
        notes = records.get(conn, incident_id).notes
    assert [(n["author"], n["text"], n["at"]) for n in notes] == [
        ("maria", "WMS pick API returns 503", at(12)),
        ("omar", "failover done", at(13)),
    ]
    for statement in ("UPDATE incident_notes SET text = 'nothing happened'", "DELETE FROM incident_notes"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), queue.begin() as conn:
            conn.execute(sa.text(statement))
    with queue.connect() as conn:
        assert len(records.get(conn, incident_id).notes) == 2


def test_a_closed_incident_takes_notes_but_no_other_change(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_incident(conn, MARIA, title="x", range_from=FROM, range_to=TO)
        records.close(conn, MARIA, incident_id, summary="Pick API failover fixed it", at=AS_OF)
        records.add_note(conn, MARIA, incident_id, "postmortem on Monday")
        incident = records.get(conn, incident_id)
    assert (incident.status, incident.closed_by, incident.closed_at) == ("closed", "maria", AS_OF)
    assert incident.summary == "Pick API failover fixed it"
    changes: list[Any] = [
        lambda c: records.attach(c, MARIA, incident_id, [Entity("order", "O-1")]),
        lambda c: records.set_range(c, MARIA, incident_id, at(1), at(2)),
        lambda c: records.close(c, MARIA, incident_id),
    ]
    for change in changes:
        with pytest.raises(IncidentError, match=f"incident {incident_id} is closed"), queue.begin() as conn:
            change(conn)
    assert [a for _, _, a in audit_rows(queue, incident_id)] == [
        "incident.open",
        "incident.close",
        "incident.note",
    ]


def test_bad_input_is_refused_with_one_clear_line(queue: Engine) -> None:
    cases: list[tuple[Any, str]] = [
        (lambda c: records.open_incident(c, MARIA, title=" ", range_from=FROM, range_to=TO), "needs a title"),
        (
            lambda c: records.open_incident(c, MARIA, title="x", range_from=TO, range_to=FROM),
            "must go forward",
        ),
        (lambda c: records.add_note(c, MARIA, 999, "hello"), "no incident 999"),
    ]
    for change, message in cases:
        with pytest.raises(IncidentError, match=message), queue.begin() as conn:
            change(conn)
    with pytest.raises(IncidentError, match="unknown entity kind 'customer'"):
        Entity.parse("customer:C-1")
    with pytest.raises(IncidentError, match="a position is SKU@LOCATION"):
        Entity.parse("position:SKU-A")
    assert Entity.parse("delivery:oms.wms.create_pick|O-3") == Entity("delivery", "oms.wms.create_pick|O-3")


def test_the_command_line_acts_as_its_operating_system_user(queue: Engine) -> None:
    with queue.begin() as conn:
        incident_id = records.open_from_exception(conn, cli_actor(), "sla_breach:O-1")
    [(actor, role, action)] = audit_rows(queue, incident_id)
    assert (role, action) == ("cli", "incident.open") and "@" in actor
