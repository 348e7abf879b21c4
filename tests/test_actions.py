"""Governed manual actions on a small store built from canonical events: roles, reasons,
the approval threshold and four eyes, idempotency, stale state, two managers at once,
holds and ATP, the exception workflow, pausing sources, and the CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.actions import core
from app.actions.base import ActionError, Busy, Invalid, Stale
from app.actions.positions import atp
from app.actions.reroute import FAMILY as REROUTE
from app.auth.roles import Actor, Forbidden
from app.outbox.dispatcher import dispatch_once
from app.settings import load_settings
from tests.builders import DC, ORDER, SKU, STORE, event, jsonl

ALICE, BOB = Actor("alice", "manager"), Actor("bob", "manager")
VERA, ADA = Actor("vera", "viewer"), Actor("ada", "admin")
WEST = "DC-WEST"
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def world_events() -> list[dict[str, Any]]:
    """Store 0042 and DC-EAST in the east, DC-WEST in the west; SKU-00017 costs 4.50;
    ORD-000123 (2 x SKU-00017 at 30.00, to the east) routed to the store; DC-EAST has 50,
    the store 1 and DC-WEST none."""
    n = iter(range(1, 100))

    def e(type_: str, data: dict[str, Any], time: str = "2026-11-20T12:00:00Z") -> dict[str, Any]:
        return event(type_, data, id=f"e-{next(n)}", source="test", time=time, subject=None)

    return [
        e(
            "retail.location.upserted",
            {"location_id": STORE, "kind": "store", "region": "east", "daily_capacity": 60},
        ),
        e(
            "retail.location.upserted",
            {"location_id": DC, "kind": "dc", "region": "east", "daily_capacity": 5000},
        ),
        e(
            "retail.location.upserted",
            {"location_id": WEST, "kind": "dc", "region": "west", "daily_capacity": 5000},
        ),
        e("retail.product.upserted", {"sku": SKU, "unit_cost": 4.5}),
        e(
            "retail.order.created",
            {
                "order_id": ORDER,
                "channel": "web",
                "promised_by": "2026-11-22T12:00:00Z",
                "lines": [{"sku": SKU, "qty": 2, "unit_price": 30.0}],
                "ship_to_region": "east",
            },
        ),
        e("retail.order.routed", {"order_id": ORDER, "node_id": STORE}, "2026-11-20T12:01:00Z"),
        e("retail.inventory.snapshot", {"system": "wms", "location_id": DC, "sku": SKU, "on_hand": 50}),
        e("retail.inventory.snapshot", {"system": "pos", "location_id": STORE, "sku": SKU, "on_hand": 1}),
        e("retail.inventory.snapshot", {"system": "wms", "location_id": WEST, "sku": SKU, "on_hand": 0}),
    ]


@pytest.fixture
def estate(ingest: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTOWER_APPROVAL_THRESHOLD", "1000")
    load_settings.cache_clear()
    counts = ingest(jsonl(*world_events()))
    assert counts.accepted == 9


@pytest.fixture
def threshold_50(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTOWER_APPROVAL_THRESHOLD", "50")
    load_settings.cache_clear()


def reroute(engine: Engine, actor: Actor | None, key: str = "k1", to: str = DC, **kw: Any) -> core.Action:
    seen = kw.pop("seen", None)
    if seen is None:
        seen = core.preview(engine, "reroute", ORDER, {"to_node": to}).state
    return core.request(
        engine,
        actor,
        "reroute",
        ORDER,
        {"to_node": to},
        reason="store is out",
        idempotency_key=key,
        seen=seen,
        **kw,
    )


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT action_id, CAST(command AS text) AS c, status FROM outbox ORDER BY 1")
        )
        return [{"action_id": r.action_id, "command": orjson.loads(r.c), "status": r.status} for r in rows]


def audit_rows(engine: Engine) -> list[tuple[str, str, str, Any, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, action, entity_key, before, after FROM audit_log ORDER BY audit_id")
        )
        return [tuple(r) for r in rows]


# --- governance ----------------------------------------------------------------------------
@pytest.mark.usefixtures("estate")
@pytest.mark.parametrize(
    ("kind", "key", "params"),
    [
        ("reroute", ORDER, {"to_node": DC}),
        ("hold", f"{SKU}@{DC}", {"qty": 1}),
        ("adjust", f"{SKU}@{DC}", {"delta": -1, "reason_code": "damage"}),
        ("transfer", "TR-0001", {"decision": "approve"}),
        ("retry_all", "*", {}),
        ("exception_ack", "sla_breach:ORD-000123", {}),
    ],
)
def test_a_viewer_is_refused_every_action_with_one_line(
    engine: Engine, kind: str, key: str, params: dict
) -> None:
    with pytest.raises(Forbidden) as refused:
        core.request(engine, VERA, kind, key, params, reason="because", idempotency_key="v1")
    assert str(refused.value) == "vera (viewer) may not 'act': it needs a manager or admin"
    with pytest.raises(Forbidden, match="sign in first"):
        core.request(engine, None, kind, key, params, reason="because", idempotency_key="v2")
    assert outbox(engine) == [] and audit_rows(engine) == []


@pytest.mark.usefixtures("estate")
def test_an_action_without_a_reason_is_refused(engine: Engine) -> None:
    with pytest.raises(Invalid, match="a reason is required"):
        core.request(engine, ALICE, "reroute", ORDER, {"to_node": DC}, reason="   ", idempotency_key="k")


@pytest.mark.usefixtures("estate")
def test_an_order_worth_less_than_the_threshold_goes_straight_to_the_outbox(engine: Engine) -> None:
    shown = core.preview(engine, "reroute", ORDER, {"to_node": DC})
    assert shown.value == 60 and not shown.needs_approval  # 2 x 30.00 <= 1000
    action = reroute(engine, ALICE)
    assert action.status == "approved"
    assert outbox(engine) == [
        {
            "action_id": action.action_id,
            "command": {
                "command_id": f"ctower-{action.action_id}-1",
                "kind": "reroute",
                "order_id": ORDER,
                "to_node": DC,
            },
            "status": "pending",
        }
    ]
    (row,) = audit_rows(engine)
    assert row[:3] == ("alice", "reroute.requested", ORDER)
    assert row[3]["node"] == STORE and row[4] == {"status": "approved"}


@pytest.mark.usefixtures("estate", "threshold_50")
def test_an_order_worth_more_than_the_threshold_waits_for_a_second_manager_never_the_requester(
    engine: Engine,
) -> None:
    action = reroute(engine, ALICE)
    assert (action.status, action.value, action.needs_approval) == ("pending", 60, True)
    assert outbox(engine) == []
    with pytest.raises(Forbidden, match="alice requested #1: another manager must approve it"):
        core.approve(engine, ALICE, action.action_id)
    with pytest.raises(Forbidden, match="vera \\(viewer\\) may not 'approve'"):
        core.approve(engine, VERA, action.action_id)
    approved = core.approve(engine, BOB, action.action_id, reason="ok")
    assert (approved.status, approved.decided_by) == ("approved", "bob")
    assert [r["command"]["to_node"] for r in outbox(engine)] == [DC]
    with pytest.raises(Invalid, match="action #1 is approved by bob, not pending"):
        core.approve(engine, Actor("carol", "manager"), action.action_id)
    assert [r[:2] for r in audit_rows(engine)] == [
        ("alice", "reroute.requested"),
        ("bob", "reroute.approved"),
    ]


@pytest.mark.usefixtures("estate", "threshold_50")
def test_a_rejected_action_sends_nothing_and_frees_the_order(engine: Engine) -> None:
    action = reroute(engine, ALICE)
    with pytest.raises(Invalid, match="a reason is required to reject"):
        core.reject(engine, BOB, action.action_id, reason="")
    rejected = core.reject(engine, BOB, action.action_id, reason="the store restocks tonight")
    assert (rejected.status, rejected.decision_reason) == ("rejected", "the store restocks tonight")
    assert outbox(engine) == []
    assert reroute(engine, ALICE, key="k2").status == "pending"  # the order can be acted on again


@pytest.mark.usefixtures("estate")
def test_the_same_idempotency_key_twice_makes_one_action_and_sends_one_command(engine: Engine) -> None:
    first = reroute(engine, ALICE, key="double-click")
    second = reroute(engine, ALICE, key="double-click")
    assert second == first
    assert len(outbox(engine)) == 1 and len(audit_rows(engine)) == 1


@pytest.mark.usefixtures("estate")
def test_a_reroute_on_an_order_that_moved_since_it_was_shown_is_refused_saying_where_it_is_now(
    engine: Engine, ingest: Callable[..., Any]
) -> None:
    shown = core.preview(engine, "reroute", ORDER, {"to_node": DC}).state
    moved = event(
        id="oms-r1",
        time="2026-11-20T14:03:00Z",
        data={"order_id": ORDER, "from_node": STORE, "to_node": WEST, "reason": "capacity"},
    )
    assert ingest(jsonl(moved)).accepted == 1
    with pytest.raises(Stale) as refused:
        reroute(engine, ALICE, seen=shown)
    assert str(refused.value) == f"{ORDER} is now at {WEST} (rerouted 2026-11-20 14:03), not {STORE} as shown"
    assert outbox(engine) == [] and audit_rows(engine) == []


@pytest.mark.usefixtures("estate")
def test_two_managers_rerouting_one_order_at_once_one_wins_and_the_other_is_told(engine: Engine) -> None:
    shown = core.preview(engine, "reroute", ORDER, {"to_node": DC}).state
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def act(actor: Actor) -> None:
        start.wait()
        try:
            results[actor.username] = reroute(engine, actor, key=f"key-{actor.username}", seen=shown)
        except ActionError as exc:
            results[actor.username] = exc

    threads = [threading.Thread(target=act, args=(a,)) for a in (ALICE, BOB)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results.values() if isinstance(r, core.Action)]
    told = [r for r in results.values() if isinstance(r, ActionError)]
    assert len(won) == 1 and len(told) == 1
    assert isinstance(told[0], Busy)
    assert str(told[0]) == (
        f"{ORDER} already has action #{won[0].action_id} (reroute, approved) "
        f"requested by {won[0].requested_by}: wait for it to finish"
    )
    assert len(outbox(engine)) == 1


@pytest.mark.usefixtures("estate")
def test_a_reroute_is_refused_to_a_node_without_stock_or_unknown_and_candidates_rank_the_good_one_first(
    engine: Engine,
) -> None:
    with pytest.raises(Invalid) as short:
        core.preview(engine, "reroute", ORDER, {"to_node": WEST})
    assert str(short.value) == (
        f"cannot reroute {ORDER} to {WEST}: {WEST} is short of 2 unit(s) (1 of 1 line(s) not in stock)"
    )
    with pytest.raises(Invalid, match="unknown node 'DC-MOON'"):
        core.preview(engine, "reroute", ORDER, {"to_node": "DC-MOON"})
    with pytest.raises(Invalid, match=f"{ORDER} is already at {STORE}"):
        core.preview(engine, "reroute", ORDER, {"to_node": STORE})
    with engine.connect() as conn:
        ranked = REROUTE.candidates(conn, ORDER)
    assert [(c["location_id"], c["ok"], c["same_region"], c["units_short"]) for c in ranked] == [
        (DC, True, True, 0),
        (WEST, False, False, 2),
    ]


# --- holds, adjustments, transfers, retries ------------------------------------------------
@pytest.mark.usefixtures("estate")
def test_a_hold_lowers_atp_at_once_and_a_command_that_cannot_be_sent_gives_it_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    position = f"{SKU}@{DC}"
    shown = core.preview(engine, "hold", position, {"qty": 5})
    assert shown.changes == [f"hold 5 of {position}: ATP 50 -> 45"] and shown.value == 22.5  # 5 x 4.50
    action = core.request(
        engine,
        ALICE,
        "hold",
        position,
        {"qty": 5},
        reason="quality check",
        idempotency_key="h1",
        seen=shown.state,
        now=NOW,
    )
    with engine.connect() as conn:
        assert [(r["quantity"], r["held"], r["atp"]) for r in atp(conn, DC, SKU)] == [(50, 5, 45)]
    with pytest.raises(Invalid, match="cannot hold 46 of SKU-00017@DC-EAST: only 45 available to promise"):
        core.preview(engine, "hold", position, {"qty": 46})

    monkeypatch.setenv("CTOWER_OUTBOX_ATTEMPTS", "2")
    load_settings.cache_clear()
    closed = "http://127.0.0.1:9"  # nothing listens: connection refused
    assert dispatch_once(engine, now=NOW, base_url=closed)["retried"] == 1
    assert dispatch_once(engine, now=NOW, base_url=closed)["retried"] == 0  # not due yet (backoff 5 s)
    assert dispatch_once(engine, now=NOW.replace(second=5), base_url=closed)["failed"] == 1
    failed = core.get(engine, action.action_id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.startswith("1 of 1 command(s) failed: gave up after 2 attempts: ")
    with engine.connect() as conn:
        assert [(r["quantity"], r["held"], r["atp"]) for r in atp(conn, DC, SKU)] == [(50, 0, 50)]
    assert [r[1] for r in audit_rows(engine)] == ["hold.requested", "hold.failed"]


@pytest.mark.usefixtures("estate")
def test_an_adjustment_needs_a_known_reason_code_and_goes_to_the_system_that_runs_the_location(
    engine: Engine,
) -> None:
    position = f"{SKU}@{DC}"
    with pytest.raises(Invalid, match="unknown reason code 'oops'"):
        core.preview(engine, "adjust", position, {"delta": -3, "reason_code": "oops"})
    shown = core.preview(engine, "adjust", position, {"delta": -3, "reason_code": "damage"})
    assert shown.changes == [f"wms book of {position}: 50 -> 47 (-3, damage)"] and shown.value == 13.5
    core.request(
        engine,
        ALICE,
        "adjust",
        position,
        {"delta": -3, "reason_code": "damage"},
        reason="pallet dropped",
        idempotency_key="a1",
        seen=shown.state,
    )
    (row,) = outbox(engine)
    assert row["command"] == {
        "command_id": "ctower-1-1",
        "kind": "adjust",
        "system": "wms",
        "location_id": DC,
        "sku": SKU,
        "delta": -3,
        "reason": "damage",
    }


@pytest.mark.usefixtures("estate")
def test_a_transfer_recommendation_can_be_approved_once(engine: Engine, ingest: Callable[..., Any]) -> None:
    assert (
        ingest(jsonl(event("retail.transfer.requested", id="t1", source="erp", subject="TR-0001"))).accepted
        == 1
    )
    shown = core.preview(engine, "transfer", "TR-0001", {"decision": "approve"})
    assert shown.changes == [f"TR-0001 ships now: 6 x {SKU} from {DC} to {STORE}"] and shown.value == 27
    core.request(
        engine,
        ALICE,
        "transfer",
        "TR-0001",
        {"decision": "approve"},
        reason="store is empty",
        idempotency_key="t1",
        seen=shown.state,
    )
    assert outbox(engine)[0]["command"]["kind"] == "transfer"
    with pytest.raises(Invalid, match=r"TR-0001 was decided already \(approve by alice\)"):
        core.request(
            engine, BOB, "transfer", "TR-0001", {"decision": "reject"}, reason="no", idempotency_key="t2"
        )


# --- local actions -------------------------------------------------------------------------
EXC = "sla_breach:ORD-000123"


@pytest.fixture
def an_exception(engine: Engine) -> str:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO exceptions (key, type, entity_kind, entity, severity, first_seen, last_seen) "
                "VALUES (:key, 'sla_breach', 'order', :order, 'high', :at, :at)"
            ),
            {"key": EXC, "order": ORDER, "at": NOW},
        )
    return EXC


def exception_row(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text("SELECT status, assignee, snoozed_until, resolved_by FROM exceptions WHERE key = :k"),
                {"k": EXC},
            ).one()
        )


def test_the_exception_workflow_acknowledges_assigns_snoozes_and_resolves_each_audited(
    engine: Engine, an_exception: str
) -> None:
    def do(kind: str, params: dict[str, Any], key: str) -> core.Action:
        shown = core.preview(engine, kind, EXC, params)
        return core.request(
            engine, ALICE, kind, EXC, params, reason="on it", idempotency_key=key, seen=shown.state, now=NOW
        )

    assert do("exception_ack", {}, "x1").status == "confirmed"
    assert exception_row(engine) == ("acknowledged", None, None, None)
    do("exception_assign", {"assignee": "bob"}, "x2")
    do("exception_snooze", {"until": "2026-11-21T09:00:00+00:00"}, "x3")
    assert exception_row(engine) == ("acknowledged", "bob", datetime(2026, 11, 21, 9, tzinfo=UTC), None)
    do("exception_resolve", {}, "x4")
    assert exception_row(engine)[0::3] == ("resolved", "alice")
    trail = audit_rows(engine)
    assert [(r[1], r[3]["status"], r[4]["status"]) for r in trail] == [
        ("exception_ack.applied", "open", "acknowledged"),
        ("exception_assign.applied", "acknowledged", "acknowledged"),
        ("exception_snooze.applied", "acknowledged", "acknowledged"),
        ("exception_resolve.applied", "acknowledged", "resolved"),
    ]
    assert (trail[1][3]["assignee"], trail[1][4]["assignee"]) == (None, "bob")
    with engine.connect() as conn:
        history = conn.execute(
            sa.text("SELECT to_status, by, note FROM exception_events WHERE by = 'alice'")
        ).all()
    assert [tuple(h) for h in history] == [("acknowledged", "alice", "on it"), ("resolved", "alice", "on it")]


def test_acknowledging_an_exception_someone_else_just_resolved_is_refused(
    engine: Engine, an_exception: str
) -> None:
    shown = core.preview(engine, "exception_ack", EXC).state
    core.request(engine, BOB, "exception_resolve", EXC, reason="fixed", idempotency_key="b1")
    with pytest.raises(Stale, match=f"{EXC} is now resolved \\(by bob\\), not open as shown"):
        core.request(engine, ALICE, "exception_ack", EXC, reason="on it", idempotency_key="a1", seen=shown)


def test_pausing_and_resuming_a_source_needs_an_admin(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sources (name, kind, schedule_seconds) VALUES ('oms', 'http_api', 10)")
        )
    with pytest.raises(Forbidden, match="alice \\(manager\\) may not 'admin': it needs an admin"):
        core.request(engine, ALICE, "source_pause", "oms", reason="outage", idempotency_key="p0")
    assert core.request(
        engine, ADA, "source_pause", "oms", reason="vendor outage", idempotency_key="p1"
    ).status == ("confirmed")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT paused FROM sources WHERE name = 'oms'")).scalar_one() is True
    with pytest.raises(Invalid, match="oms is paused already"):
        core.request(engine, ADA, "source_pause", "oms", reason="again", idempotency_key="p2")
    core.request(engine, ADA, "source_resume", "oms", reason="vendor back", idempotency_key="p3")
    assert [(r[1], r[3], r[4]) for r in audit_rows(engine)] == [
        ("source_pause.applied", {"source": "oms", "paused": False}, {"source": "oms", "paused": True}),
        ("source_resume.applied", {"source": "oms", "paused": True}, {"source": "oms", "paused": False}),
    ]


# --- the CLI -------------------------------------------------------------------------------
PASSWORD = "correct horse battery"


@pytest.fixture
def users(engine: Engine) -> None:
    from app.auth.accounts import Auditor, add_user

    with engine.begin() as conn:
        for name, role in (("vera", "viewer"), ("alice", "manager"), ("bob", "manager")):
            add_user(conn, name, role, PASSWORD, by=Auditor("test", "cli"))


@pytest.mark.usefixtures("estate", "users")
def test_the_cli_refuses_a_viewer_in_one_line_and_runs_request_approve_list_for_managers(
    ctower: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"CTOWER_PASSWORD": PASSWORD, "CTOWER_APPROVAL_THRESHOLD": "50"}
    args = ("actions", "request", "reroute", ORDER, "--param", f"to_node={DC}", "--reason", "store is out")
    refused = ctower(*args, "--as", "vera", env=env)
    assert refused.returncode == 1
    assert refused.stderr == "ctower: refused: vera (viewer) may not 'act': it needs a manager or admin\n"

    made = ctower(*args, "--as", "alice", "--key", "cli-1", "--json", env=env)
    assert made.returncode == 0, made.stderr
    action = orjson.loads(made.stdout)
    assert (action["status"], action["value"], action["requested_by"]) == ("pending", "60.0", "alice")
    again = ctower(*args, "--as", "alice", "--key", "cli-1", "--json", env=env)
    assert orjson.loads(again.stdout)["action_id"] == action["action_id"]

    own = ctower("actions", "approve", str(action["action_id"]), "--as", "alice", env=env)
    assert (
        own.returncode == 1 and own.stderr.count("\n") == 1 and "another manager must approve" in own.stderr
    )
    wrong = ctower(
        "actions", "approve", str(action["action_id"]), "--as", "bob", env={"CTOWER_PASSWORD": "nope"}
    )
    assert wrong.returncode == 1 and wrong.stderr == "ctower: refused: wrong user name or password\n"
    assert ctower("actions", "approve", str(action["action_id"]), "--as", "bob", env=env).returncode == 0
    dispatched = ctower(
        "actions", "dispatch", "--once", "--url", "http://127.0.0.1:9"
    )  # nothing listens there
    assert dispatched.stdout == "sent 0, retried 1, failed 0, confirmed 0\n"

    listed = orjson.loads(ctower("actions", "list", "--json").stdout)
    assert [(a["action_id"], a["status"], a["commands"], a["decided_by"]) for a in listed] == [
        (action["action_id"], "approved", 1, "bob")
    ]
    shown = ctower("actions", "show", str(action["action_id"]))
    assert shown.stdout.splitlines()[-1] == (
        f"  ctower-{action['action_id']}-1 -> oms /oms/api/v2/commands: pending, 1 attempt(s), "
        "last error: cannot reach http://127.0.0.1:9/oms/api/v2/commands: [Errno 111] Connection refused"
    )
    candidates = ctower("actions", "candidates", ORDER)
    assert candidates.stdout.splitlines()[0].startswith(f"{DC:<12} dc     east     same region")
