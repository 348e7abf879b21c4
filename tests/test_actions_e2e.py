"""Manual actions end to end against the real simulator over HTTP on 127.0.0.1:
request -> approval by a second manager -> outbox -> dispatcher -> the simulator applies
it -> the collectors bring the effect back -> the action is confirmed, all audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.actions import core
from app.actions.reroute import FAMILY as REROUTE
from app.auth.roles import Actor
from app.outbox.dispatcher import dispatch_once
from app.settings import load_settings
from collectors.base import Context
from collectors.runner import run_once
from simulator.estate import Estate, EstateConfig
from simulator.service import Simulator
from simulator.sources import demo_sources
from simulator.world import World

START = datetime(2026, 11, 2, tzinfo=UTC)
ALICE, BOB, CAROL = Actor("alice", "manager"), Actor("bob", "manager"), Actor("carol", "manager")


@pytest.fixture
def sim(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    monkeypatch.setenv("CTOWER_APPROVAL_THRESHOLD", "0")  # every priced action needs approval
    monkeypatch.setenv("CTOWER_OUTBOX_BACKOFF_SECONDS", "10")
    load_settings.cache_clear()
    config = EstateConfig(
        stores=4, skus=40, web_orders_per_day=400, marketplace_orders_per_day=50, store_orders_per_day=20
    )
    world = World(Estate.build(config), START, seed=5)
    simulator = Simulator(
        database_url, tmp_path / "drop", world=world, clock=lambda: START + timedelta(days=1)
    )
    simulator.start()
    simulator.step(START + timedelta(hours=10))
    yield simulator
    simulator.stop()
    load_settings.cache_clear()


def collect(sim: Simulator, engine: Engine, tmp_path: Path, names: tuple[str, ...] | None = None) -> None:
    now = sim.now
    context = Context(
        clock=lambda: now,
        database_url=str(engine.url.render_as_string(hide_password=False)),
        data_dir=tmp_path / "collector",
    )
    for source in demo_sources(sim.base_url, sim.drop_dir, None):
        if names is None or source.name in names:
            assert run_once(engine, source, context, sleep=lambda s: None).status == "ok"


def routed_order(sim: Simulator, engine: Engine) -> tuple[str, str]:
    """An order routed and not picked, in the simulator and in the store alike: (id, node)."""
    world = sim.world
    assert isinstance(world, World)
    with engine.connect() as conn:
        stored: dict[str, str] = dict(
            conn.execute(
                sa.text("SELECT order_id, node FROM order_facts WHERE node IS NOT NULL AND picked_at IS NULL")
            ).all()
        )
    for order in world.fulfilment.orders.values():
        in_sync = order.node is not None and not order.picked and stored.get(order.order_id) == order.node
        if in_sync and can_reroute(engine, order.order_id):
            return order.order_id, str(order.node)
    raise AssertionError("no routed order to reroute")


def can_reroute(engine: Engine, order_id: str) -> bool:
    with engine.connect() as conn:
        return any(c["ok"] for c in REROUTE.candidates(conn, order_id))


def best_node(engine: Engine, order_id: str) -> str:
    with engine.connect() as conn:
        return str(next(c for c in REROUTE.candidates(conn, order_id) if c["ok"])["location_id"])


def audit_trail(engine: Engine, key: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, action FROM audit_log WHERE entity_key = :key ORDER BY audit_id"),
            {"key": key},
        )
        return [(r.actor, r.action) for r in rows]


def test_a_reroute_approved_by_a_second_manager_reaches_the_oms_and_comes_back_confirmed(
    sim: Simulator, engine: Engine, tmp_path: Path
) -> None:
    collect(sim, engine, tmp_path)
    order_id, node = routed_order(sim, engine)
    target = best_node(engine, order_id)
    shown = core.preview(engine, "reroute", order_id, {"to_node": target})
    assert shown.changes == [f"{order_id} moves from {node} to {target} (reason: manual)"]
    assert shown.needs_approval and shown.value is not None and shown.value > 0

    action = core.request(
        engine,
        ALICE,
        "reroute",
        order_id,
        {"to_node": target},
        reason="DC has the stock",
        idempotency_key="k1",
        seen=shown.state,
    )
    assert action.status == "pending"
    assert dispatch_once(engine, base_url=sim.base_url)["sent"] == 0  # nothing goes out unapproved

    approved = core.approve(engine, BOB, action.action_id)
    assert (approved.status, approved.decided_by) == ("approved", "bob")
    assert dispatch_once(engine, base_url=sim.base_url) == {
        "sent": 1,
        "retried": 0,
        "failed": 0,
        "confirmed": 0,
    }
    assert core.get(engine, action.action_id).status == "sent"
    assert sim.world.fulfilment.orders[order_id].node == target  # type: ignore[attr-defined]

    sim.step(sim.now + timedelta(minutes=1))  # OMS publishes a few seconds later
    collect(sim, engine, tmp_path, ("oms",))
    assert dispatch_once(engine, base_url=sim.base_url)["confirmed"] == 1
    assert core.get(engine, action.action_id).status == "confirmed"
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT node FROM order_facts WHERE order_id = :o"), {"o": order_id}
            ).scalar_one()
            == target
        )
    assert audit_trail(engine, order_id) == [
        ("alice", "reroute.requested"),
        ("bob", "reroute.approved"),
        ("ctower/outbox", "reroute.sent"),
        ("ctower/outbox", "reroute.confirmed"),
    ]


def http(method: str, url: str, body: dict[str, Any] | None = None) -> int:
    import urllib.error
    import urllib.request

    import orjson

    data = orjson.dumps(body) if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def outbox_row(engine: Engine) -> tuple[str, int, str | None]:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, attempts, last_error FROM outbox")).one()
        return row.status, row.attempts, row.last_error


def test_the_dispatcher_resends_while_the_oms_is_down_and_succeeds_once_it_is_back(
    sim: Simulator, engine: Engine, tmp_path: Path
) -> None:
    collect(sim, engine, tmp_path)
    order_id, _ = routed_order(sim, engine)
    target = best_node(engine, order_id)
    action = core.request(
        engine, ALICE, "reroute", order_id, {"to_node": target}, reason="stock", idempotency_key="d1"
    )
    core.approve(engine, BOB, action.action_id)
    assert http("POST", f"{sim.base_url}/control/faults", {"fault": "down", "target": "oms"}) == 200

    t0 = datetime.now(UTC) + timedelta(minutes=1)
    assert dispatch_once(engine, now=t0, base_url=sim.base_url)["retried"] == 1
    status, attempts, error = outbox_row(engine)
    assert (status, attempts) == ("pending", 1) and error == "HTTP 503: oms is unavailable (simulated outage)"
    # backoff 10 s after the first failure: not resent at 9 s
    assert dispatch_once(engine, now=t0 + timedelta(seconds=9), base_url=sim.base_url)["retried"] == 0
    assert http("DELETE", f"{sim.base_url}/control/faults?fault=down&target=oms") == 200
    assert dispatch_once(engine, now=t0 + timedelta(seconds=10), base_url=sim.base_url)["sent"] == 1
    assert outbox_row(engine)[:2] == ("sent", 2)
    assert sim.world.fulfilment.orders[order_id].node == target  # type: ignore[attr-defined]


def test_retry_all_resends_exactly_the_failed_deliveries_it_previewed_and_confirms_them(
    sim: Simulator, engine: Engine, tmp_path: Path
) -> None:
    world = sim.world
    assert isinstance(world, World)
    now_ts = world.kernel.now
    world.middleware.burst = ("oms.wms.create_pick", now_ts, now_ts + 3 * 3600)  # 45% of picks fail
    sim.step(sim.now + timedelta(hours=3, minutes=15))
    collect(sim, engine, tmp_path, ("oms", "middleware"))
    params = {"error_code": None, "until": (sim.now - timedelta(minutes=10)).isoformat()}
    shown = core.preview(engine, "retry_all", "oms.wms.create_pick", params)
    previewed = [(d["interface"], d["correlation_id"]) for d in shown.state["deliveries"]]
    assert len(previewed) >= 2  # failed three times in a row: the middleware gave up on them
    assert {(i, c) for i, c in previewed} <= set(world.middleware.failed)
    assert shown.changes == [f"resend {i} for {c}" for i, c in previewed]

    action = core.request(
        engine,
        ALICE,
        "retry_all",
        "oms.wms.create_pick",
        params,
        reason="burst over",
        idempotency_key="r1",
        seen=shown.state,
    )
    assert action.status == "approved"  # not priced: no approval
    assert dispatch_once(engine, base_url=sim.base_url)["sent"] == len(previewed)
    with engine.connect() as conn:
        resent = (
            conn.execute(sa.text("SELECT body FROM sim.commands ORDER BY sim_time, command_id"))
            .scalars()
            .all()
        )
    assert sorted((b["interface"], b["correlation_id"]) for b in resent) == sorted(previewed)

    sim.step(sim.now + timedelta(minutes=1))
    collect(sim, engine, tmp_path, ("middleware",))
    assert dispatch_once(engine, base_url=sim.base_url)["confirmed"] == len(previewed)
    assert core.get(engine, action.action_id).status == "confirmed"
    with engine.connect() as conn:
        statuses = (
            conn.execute(
                sa.text("SELECT DISTINCT last_status FROM delivery_facts WHERE correlation_id = ANY(:ids)"),
                {"ids": [c for _, c in previewed]},
            )
            .scalars()
            .all()
        )
    assert statuses == ["ok"]


def test_a_hold_goes_to_the_oms_and_is_confirmed_by_its_next_snapshot(
    sim: Simulator, engine: Engine, tmp_path: Path
) -> None:
    collect(sim, engine, tmp_path)
    with engine.connect() as conn:
        location, sku = conn.execute(
            sa.text(
                "SELECT location_id, sku FROM position_facts WHERE system = 'wms' AND quantity >= 10 "
                "ORDER BY location_id, sku LIMIT 1"
            )
        ).one()
    key = f"{sku}@{location}"
    shown = core.preview(engine, "hold", key, {"qty": 3})
    action = core.request(
        engine, ALICE, "hold", key, {"qty": 3}, reason="recall check", idempotency_key="h1", seen=shown.state
    )
    core.approve(engine, BOB, action.action_id)
    assert core.preview(engine, "hold", key, {"qty": 1}).state["atp"] == shown.state["atp"] - 3
    held_before = sim.world.ledger.holds.get((location, sku), 0)  # type: ignore[attr-defined]
    assert dispatch_once(engine, base_url=sim.base_url)["sent"] == 1
    assert sim.world.ledger.holds[(location, sku)] == held_before + 3  # type: ignore[attr-defined]
    sim.step(sim.now + timedelta(minutes=1))
    collect(sim, engine, tmp_path, ("oms",))
    assert dispatch_once(engine, base_url=sim.base_url)["confirmed"] == 1
    assert core.get(engine, action.action_id).status == "confirmed"


def test_an_approved_transfer_ships_at_once_and_is_confirmed_by_the_middleware_log(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    monkeypatch.setenv("CTOWER_APPROVAL_THRESHOLD", "1000000")
    load_settings.cache_clear()
    config = EstateConfig(
        stores=4, skus=40, web_orders_per_day=50, marketplace_orders_per_day=5, store_orders_per_day=20
    )
    world = World(Estate.build(config), START, seed=5)
    with Simulator(
        database_url, tmp_path / "drop", world=world, clock=lambda: START + timedelta(days=1)
    ) as sim:
        sim.step(START + timedelta(days=2, hours=3))  # planned at 02:00, shipped 3 to 8 hours later
        collect(sim, engine, tmp_path)
        planned = sorted(world.inbound.planned)
        assert planned
        transfer_id = planned[0]
        shown = core.preview(engine, "transfer", transfer_id, {"decision": "approve"})
        action = core.request(
            engine,
            ALICE,
            "transfer",
            transfer_id,
            {"decision": "approve"},
            reason="store runs out today",
            idempotency_key="t1",
            seen=shown.state,
        )
        assert dispatch_once(engine, base_url=sim.base_url)["sent"] == 1
        assert transfer_id not in world.inbound.planned  # shipped now, not in hours
        sim.step(sim.now + timedelta(minutes=1))
        collect(sim, engine, tmp_path, ("middleware",))
        assert dispatch_once(engine, base_url=sim.base_url)["confirmed"] == 1
        assert core.get(engine, action.action_id).status == "confirmed"
