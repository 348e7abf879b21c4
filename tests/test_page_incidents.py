"""The Incidents page (pages/incidents.py) under AppTest: empty, seeded with the hand-built
case of tests/test_incident_impact.py (figures worked out there), the creation form
prefilled from an exception, and who may change what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.auth import accounts, sessions
from app.auth.roles import Actor
from app.incidents import records
from app.incidents.records import Entity
from tests.test_incident_impact import ENTITIES, EVENTS, FROM, TO, payload, seed
from tests.test_incident_impact import at as on_the_day

REPO = Path(__file__).resolve().parents[1]
ENTRY = str(REPO / "app" / "streamlit_app.py")
PAGE = str(REPO / "pages" / "incidents.py")
PASSWORD = "correct horse battery staple"
SIGN_IN = "Sign in as a manager or admin to open or change incidents."


@pytest.fixture
def open_page(streamlit_script: Any) -> Any:
    """The app switched to the Incidents page with a query string, figures as of AS_OF,
    signed in as `user` (a manager or viewer made here) when given."""

    def run(url: str, engine: Engine | None = None, user: str | None = None, **query: str) -> AppTest:
        at = streamlit_script(ENTRY, url, as_of="2026-11-21T12:00:00Z")  # AS_OF: read on the first run
        at.run()
        if user is not None and engine is not None:
            with engine.begin() as conn:
                accounts.add_user(conn, user, user, PASSWORD, by=accounts.cli_actor())
            at.session_state["auth_token"] = sessions.login(engine, user, PASSWORD).token
        at.query_params.update(query)
        return at.switch_page(PAGE).run()

    return run


@pytest.fixture
def case(engine: Engine, ingest: Any) -> int:
    assert ingest(payload()).accepted == len(EVENTS)
    with engine.begin() as conn:
        seed(conn)
        incident_id = records.open_incident(
            conn,
            Actor("maria", "manager"),
            title="Pick interface down",
            range_from=FROM,
            range_to=TO,
            entities=[Entity(k, key) for k, key in ENTITIES],
        )
        records.add_note(
            conn, Actor("maria", "manager"), incident_id, "WMS pick API returns 503", at=on_the_day(12)
        )
    return incident_id


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_an_empty_database_shows_the_page_with_no_incidents_yet(open_page: Any, database_url: str) -> None:
    at = open_page(database_url)
    assert not at.exception
    assert at.title[0].value == "Incidents"
    assert any(i.value.startswith("No incidents yet.") for i in at.info)


def test_one_incident_shows_its_impact_notes_and_export_buttons(
    open_page: Any, database_url: str, case: int
) -> None:
    at = open_page(database_url, inc_id=str(case))
    assert not at.exception
    assert at.subheader[0].value == f"Incident {case} · Pick interface down"
    shown = tiles(at)
    assert (shown["Orders affected"], shown["Orders breached"], shown["Order value"]) == ("3", "2", "85.50")
    assert (shown["Value affected (orders + positions)"], shown["Time down"]) == ("490.50", "6 h 30 min")
    assert (shown["Exceptions"], shown["Actions taken"], shown["Interfaces / sources down"]) == (
        "4",
        "2",
        "3",
    )
    assert any("WMS pick API returns 503" in m.value for m in at.markdown)
    assert SIGN_IN in [c.value for c in at.caption]  # anonymous: read-only


def test_the_creation_form_is_prefilled_from_an_exception_and_a_viewer_cannot_submit_it(
    open_page: Any, engine: Engine, database_url: str, case: int
) -> None:
    at = open_page(database_url, engine, "viewer", inc_from_exception="sla_breach:O-1")
    assert not at.exception
    assert at.text_input(key="inc_new_title").value == "sla_breach on order O-1"
    assert at.text_area(key="inc_new_entities").value == "order:O-1"
    # seen 12:05-13:00, and O-1 lived 09:00-13:00: its life, widened by an hour each side
    assert (at.time_input(key="inc_new_from_time").value, at.time_input(key="inc_new_to_time").value) == (
        on_the_day(8).time(),
        on_the_day(14).time(),
    )
    assert at.button(key="inc_new_open").disabled


def test_a_manager_opens_the_prefilled_incident_and_it_is_shown(
    open_page: Any, engine: Engine, database_url: str, case: int
) -> None:
    at = open_page(database_url, engine, "manager", inc_from_exception="sla_breach:O-1")
    at.button(key="inc_new_open").click().run()
    assert not at.exception
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT incident_id, opened_by, exception_key FROM incidents "
                "ORDER BY incident_id DESC LIMIT 1"
            )
        ).one()
    assert (row.opened_by, row.exception_key) == ("manager", "sla_breach:O-1")
    assert at.subheader[0].value == f"Incident {row.incident_id} · sla_breach on order O-1"


def test_a_manager_adds_a_note_and_it_is_listed(
    open_page: Any, engine: Engine, database_url: str, case: int
) -> None:
    at = open_page(database_url, engine, "manager", inc_id=str(case))
    at.text_area(key="inc_note_text").input("Failover to DC-WEST done")
    at.button(key="inc_note_add").click().run()
    assert not at.exception
    with engine.connect() as conn:
        notes = [n["text"] for n in records.get(conn, case).notes]
    assert notes == ["WMS pick API returns 503", "Failover to DC-WEST done"]


def test_a_manager_attaches_an_entity_and_closes_the_incident_from_the_page(
    open_page: Any, engine: Engine, database_url: str, case: int
) -> None:
    at = open_page(database_url, engine, "manager", inc_id=str(case))
    at.text_input(key="inc_attach_entity").input("order:O-2")
    at.button(key="inc_attach").click().run()
    at.text_area(key="inc_close_summary").input("Failover fixed it")
    at.button(key="inc_close").click().run()
    assert not at.exception
    with engine.connect() as conn:
        incident = records.get(conn, case)
        actions = conn.execute(
            sa.text("SELECT action FROM audit_log WHERE entity_kind = 'incident' ORDER BY audit_id")
        ).scalars()
        assert list(actions) == ["incident.open", "incident.note", "incident.attach", "incident.close"]
    assert Entity("order", "O-2") in incident.entities
    assert (incident.status, incident.closed_by, incident.summary) == (
        "closed",
        "manager",
        "Failover fixed it",
    )
