"""The Approvals page and the action buttons of the Exceptions and Integrations pages
(AppTest, real database; the signed-in person is a real session token)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.actions import core
from app.actions.registry import BY_KIND
from app.auth import sessions
from app.auth.accounts import Auditor, add_user
from app.auth.roles import Actor
from app.settings import load_settings
from app.ui.actions import TITLES
from tests.builders import ORDER, event, jsonl
from tests.test_actions import world_events

ROOT = Path(__file__).resolve().parents[1]
APPROVALS, EXCEPTIONS, INTEGRATIONS = (
    str(ROOT / "pages" / f"{p}.py") for p in ("approvals", "exceptions", "integrations")
)
PASSWORD = "correct horse battery"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def people(engine: Engine) -> None:
    with engine.begin() as conn:
        for name, role in (("alice", "manager"), ("bob", "manager"), ("vera", "viewer")):
            add_user(conn, name, role, PASSWORD, by=Auditor("test", "cli"))


def signed_in(at: AppTest, engine: Engine, name: str) -> AppTest:
    at.session_state["auth_token"] = sessions.login(engine, name, PASSWORD).token
    return at


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            orjson.loads(c)
            for c in conn.execute(sa.text("SELECT CAST(command AS text) FROM outbox")).scalars()
        ]


@pytest.fixture
def pending_reroute(
    engine: Engine, ingest: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> core.Action:
    """alice asks to move ORD-000123 (worth 60.00) to DC-EAST; the threshold is 50."""
    monkeypatch.setenv("CTOWER_APPROVAL_THRESHOLD", "50")
    load_settings.cache_clear()
    ingest(jsonl(*world_events()))
    return core.request(
        engine,
        Actor("alice", "manager"),
        "reroute",
        ORDER,
        {"to_node": "DC-EAST"},
        reason="the store is out",
        idempotency_key="k1",
    )


def test_the_approvals_page_says_when_nothing_waits(streamlit_script: Any, database_url: str) -> None:
    at = streamlit_script(APPROVALS, database_url).run()
    assert not at.exception and not at.error
    assert "Nothing waits for approval." in [c.value for c in at.caption]
    assert [i.value for i in at.info] == [
        "Sign in as a manager or admin to approve or reject.",
        "No data yet for this window.",
    ]


@pytest.mark.usefixtures("people")
def test_a_second_manager_approves_on_the_page_and_the_command_goes_to_the_outbox(
    streamlit_script: Any, database_url: str, engine: Engine, pending_reroute: core.Action
) -> None:
    at = signed_in(streamlit_script(APPROVALS, database_url), engine, "bob").run()
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("**#")] == [
        "**#1 reroute** `ORD-000123` to_node=DC-EAST"
    ]
    assert [m.value for m in at.metric] == ["60.00"]
    at.button(key="apv_approve_1").click().run()
    assert [s.value for s in at.success] == ["#1 approved by bob."]
    assert outbox(engine) == [
        {"command_id": "ctower-1-1", "kind": "reroute", "order_id": ORDER, "to_node": "DC-EAST"}
    ]
    recent = at.dataframe[0].value
    assert recent[["id", "status", "decided_by", "commands"]].to_dict("records") == [
        {"id": 1, "status": "approved", "decided_by": "bob", "commands": "0/1 confirmed"}
    ]


@pytest.mark.usefixtures("people")
def test_the_requester_sees_no_approve_button_on_their_own_request_and_a_viewer_none_at_all(
    streamlit_script: Any, database_url: str, engine: Engine, pending_reroute: core.Action
) -> None:
    at = signed_in(streamlit_script(APPROVALS, database_url), engine, "alice").run()
    assert "Your own request: another manager must approve or reject it." in [c.value for c in at.caption]
    assert not [b for b in at.button if (b.key or "").startswith("apv_approve_")]
    at = signed_in(streamlit_script(APPROVALS, database_url), engine, "vera").run()
    assert [i.value for i in at.info] == ["vera (viewer) may look, not approve: it needs a manager or admin."]
    assert not [b for b in at.button if (b.key or "").startswith("apv_approve_")]


EXC = "sla_breach:ORD-000123"


def raise_exception(engine: Engine, type_: str, entity_kind: str, entity: str, severity: str) -> None:
    """An open exception `type_:entity`, first and last seen an hour ago."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO exceptions (key, type, entity_kind, entity, severity, first_seen, last_seen) "
                "VALUES (:type || ':' || :entity, :type, :entity_kind, :entity, :severity, :at, :at)"
            ),
            {"type": type_, "entity_kind": entity_kind, "entity": entity, "severity": severity,
             "at": NOW - timedelta(hours=1)},
        )  # fmt: skip


@pytest.mark.usefixtures("people")
def test_acknowledging_the_selected_exception_from_its_dialog_records_who_and_why(
    streamlit_script: Any, database_url: str, engine: Engine
) -> None:
    raise_exception(engine, "sla_breach", "order", ORDER, "high")  # EXC
    at = signed_in(streamlit_script(EXCEPTIONS, database_url), engine, "alice").run()
    at.session_state["exc_queue"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert "Assigned to nobody" in [c.value for c in at.caption]
    at.button(key="act_exc_exception_ack_button").click().run()
    assert not at.exception
    assert "sla_breach:ORD-000123" in [s.value for s in at.subheader]  # the title: "Acknowledge exception"
    assert f"- {EXC}: open -> acknowledged" in [m.value for m in at.markdown]
    at.text_area(key="act_reason").input("customer called").run()
    at.button(key="act_confirm").click().run()
    assert [s.value for s in at.success] == ["Action #1. Done."]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM exceptions")).scalar_one() == "acknowledged"
        audit = conn.execute(
            sa.text("SELECT actor, action, reason FROM audit_log WHERE action LIKE 'exc%'")
        ).one()
    assert tuple(audit) == ("alice", "exception_ack.applied", "customer called")


@pytest.mark.usefixtures("people")
def test_a_viewer_opening_an_action_dialog_is_told_who_may_and_cannot_confirm(
    streamlit_script: Any, database_url: str, engine: Engine
) -> None:
    raise_exception(engine, "sla_breach", "order", ORDER, "high")  # EXC
    at = signed_in(streamlit_script(EXCEPTIONS, database_url), engine, "vera").run()
    at.session_state["exc_queue"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.button(key="act_exc_exception_resolve_button").click().run()
    assert [w.value for w in at.warning] == ["vera (viewer) may not do this: it needs a manager or admin."]
    assert at.button(key="act_confirm").disabled


@pytest.mark.usefixtures("people")
def test_retrying_a_failed_delivery_from_the_integrations_page_queues_exactly_that_delivery(
    streamlit_script: Any, database_url: str, engine: Engine, ingest: Callable[..., Any]
) -> None:
    call = {
        "interface": "oms.wms.create_pick",
        "source_system": "oms",
        "target_system": "wms",
        "status": "error",
        "latency_ms": 900.0,
        "error_code": "UPSTREAM_ERROR",
        "correlation_id": "ORD-7",
        "attempt": 3,
    }
    at_time = (NOW - timedelta(hours=2)).isoformat()
    ingest(
        jsonl(
            event("retail.integration.call", call, id="c1", source="middleware", time=at_time, subject=None)
        )
    )
    at = signed_in(streamlit_script(INTEGRATIONS, database_url), engine, "alice").run()
    assert not at.exception
    at.session_state["int_failed"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.button(key="int_retry_one").click().run()
    assert "- resend oms.wms.create_pick for ORD-7" in [m.value for m in at.markdown]
    at.text_area(key="act_reason").input("WMS is back").run()
    at.button(key="act_confirm").click().run()
    assert [s.value for s in at.success] == [
        "Action #1. Requested and approved: the command goes out with the next dispatch."
    ]
    assert outbox(engine) == [
        {
            "command_id": "ctower-1-1",
            "kind": "retry",
            "interface": "oms.wms.create_pick",
            "correlation_id": "ORD-7",
        }
    ]


@pytest.mark.usefixtures("people")
def test_a_position_exception_offers_hold_on_the_position_the_detector_named(
    streamlit_script: Any, database_url: str, engine: Engine
) -> None:
    # inventory_variance names a position LOCATION|SKU|SYSTEM; the hold acts on SKU@LOCATION
    raise_exception(engine, "inventory_variance", "position", "DC-EAST|SKU-00017|wms", "medium")
    at = signed_in(streamlit_script(EXCEPTIONS, database_url), engine, "alice").run()
    at.session_state["exc_queue"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    at.button(key="act_exc_entity_hold_button").click().run()
    assert not at.exception
    assert "SKU-00017@DC-EAST" in [s.value for s in at.subheader]  # the title: "Place a hold"
    assert not [e.value for e in at.error if "SKU@LOCATION" in e.value]


def test_every_action_kind_has_a_titled_dialog() -> None:
    assert set(TITLES) == set(BY_KIND)
