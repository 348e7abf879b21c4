"""The simulated systems over real HTTP on 127.0.0.1: paging, faults, commands, and the
demo sources collecting them into the control tower."""

from __future__ import annotations

import argparse
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.commands.simulate import register, run_simulate
from collectors.base import Context
from collectors.mappings import sim_oms
from simulator.faults import Fault
from simulator.service import Simulator
from simulator.sources import demo_sources, sources_toml
from simulator.systems.samples import T0, Sample
from tests.test_sim_systems import ScriptedWorld, event

START = datetime(2026, 11, 2, tzinfo=UTC)


class RecordingWorld:
    """The real world, remembering what it emitted (to compare with what was collected)."""

    def __init__(self, seed: int = 5) -> None:
        from simulator.estate import Estate, EstateConfig
        from simulator.world import World

        config = EstateConfig(
            stores=4, skus=50, web_orders_per_day=400, marketplace_orders_per_day=100, store_orders_per_day=40
        )
        self.world = World(Estate.build(config), START, seed=seed)
        self.estate = self.world.estate
        self.emitted: list[Any] = []

    @property
    def now(self) -> datetime:
        return self.world.now

    def advance(self, until: datetime) -> Iterator[Any]:
        for e in self.world.advance(until):
            self.emitted.append(e)
            yield e

    def apply(self, command: dict[str, Any]) -> list[Any]:
        out = self.world.apply(command)
        self.emitted += out
        return out


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Simulator]:
    world = RecordingWorld()
    sim = Simulator(database_url, tmp_path / "drop", world=world, clock=lambda: START + timedelta(days=1))
    sim.start()
    sim.step(START + timedelta(hours=10))
    yield sim
    sim.stop()


def http(
    method: str, url: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, orjson.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read()), dict(exc.headers)


def get(url: str) -> Any:
    status, body, _ = http("GET", url)
    assert status == 200, body
    return body


def read_cursor_feed(url: str, cursor: str = "", limit: int = 50) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        page = get(f"{url}?cursor={cursor}&limit={limit}")
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM sim.{table}")).scalar_one())  # noqa: S608


def test_the_oms_feed_pages_through_every_record_once_by_cursor(live: Simulator) -> None:
    items, cursor = read_cursor_feed(f"{live.base_url}/oms/api/v2/order-events")
    assert len(items) == count(live.engine, "oms_events") > 100
    assert len({i["eventId"] for i in items}) == len(items)
    again = get(f"{live.base_url}/oms/api/v2/order-events?cursor={cursor}&limit=50")
    assert again == {"items": [], "next_cursor": cursor, "has_more": False}


def test_a_cursor_reader_never_skips_a_record_published_late(database_url: str, tmp_path: Path) -> None:
    late = Sample("oms", event(1, 0), T0 + timedelta(hours=3))
    on_time = [Sample("oms", event(n, n), T0 + timedelta(minutes=n + 1)) for n in range(2, 6)]
    with Simulator(database_url, tmp_path / "drop", world=ScriptedWorld(T0, [late, *on_time])) as sim:
        url = f"{sim.base_url}/oms/api/v2/order-events"
        sim.step(T0 + timedelta(hours=1))
        first, cursor = read_cursor_feed(url, limit=2)
        sim.step(T0 + timedelta(hours=4))
        rest, _ = read_cursor_feed(url, cursor, limit=2)
    assert [i["eventId"] for i in first] == [f"oms-{n:06d}" for n in range(2, 6)]
    assert [i["eventId"] for i in rest] == ["oms-000001"]
    (back,) = sim_oms.to_events(rest[0])
    assert back["time"] == T0.isoformat()


def test_the_wms_feed_pages_by_number_after_an_id(live: Simulator) -> None:
    url = f"{live.base_url}/wms/v1/transactions"
    first = get(f"{url}?since_id=0&page=1&per_page=40")
    total = count(live.engine, "wms_transactions")
    assert first["total"] == total and first["total_pages"] == -(-total // 40)
    seen = list(first["data"])
    for page in range(2, first["total_pages"] + 1):
        seen += get(f"{url}?since_id=0&page={page}&per_page=40")["data"]
    ids = [r["id"] for r in seen]
    assert ids == sorted(ids) and len(set(ids)) == total
    after = get(f"{url}?since_id={ids[-1]}&page=1&per_page=40")
    assert after["data"] == [] and after["total_pages"] == 0
    middle = get(f"{url}?since_id={ids[9]}&per_page=5")
    assert [r["id"] for r in middle["data"]] == ids[10:15]


def test_the_middleware_call_log_pages_by_cursor(live: Simulator) -> None:
    items, _ = read_cursor_feed(f"{live.base_url}/middleware/calls", limit=200)
    assert len(items) == count(live.engine, "mw_calls") > 0
    assert {"ts", "flow", "from", "to", "result", "durationMs", "msgId"} <= set(items[0])


def test_a_bad_paging_parameter_is_refused_with_a_reason(live: Simulator) -> None:
    status, body, _ = http("GET", f"{live.base_url}/oms/api/v2/order-events?limit=5001")
    assert status == 400 and "limit must be between 1 and 5000" in body["error"]
    status, body, _ = http("GET", f"{live.base_url}/wms/v1/transactions?since_id=abc")
    assert status == 400 and "since_id" in body["error"]


def test_a_system_that_is_down_answers_503_until_the_fault_is_cleared(live: Simulator) -> None:
    base = live.base_url
    status, body, _ = http("POST", f"{base}/control/faults", {"fault": "down", "target": "oms"})
    assert status == 200 and body["fault"]["kind"] == "down"
    status, body, headers = http("GET", f"{base}/oms/api/v2/order-events")
    assert status == 503 and "unavailable" in body["error"] and headers["Retry-After"] == "30"
    assert http("GET", f"{base}/wms/v1/transactions")[0] == 200
    assert get(f"{base}/control/faults")["faults"][0]["target"] == "oms"
    status, body, _ = http("DELETE", f"{base}/control/faults?fault=down&target=oms")
    assert body["cleared"] == 1
    assert http("GET", f"{base}/oms/api/v2/order-events")[0] == 200


def test_a_slow_system_answers_after_the_added_latency(live: Simulator) -> None:
    http("POST", f"{live.base_url}/control/faults", {"fault": "slow", "target": "wms", "ms": 300})
    started = time.monotonic()
    assert http("GET", f"{live.base_url}/wms/v1/transactions?per_page=1")[0] == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    http("GET", f"{live.base_url}/middleware/calls?limit=1")
    assert time.monotonic() - started < 0.3


def test_a_fault_that_makes_no_sense_is_refused_with_a_reason(live: Simulator) -> None:
    status, body, _ = http("POST", f"{live.base_url}/control/faults", {"fault": "gremlins", "target": "oms"})
    assert status == 422 and "unknown fault 'gremlins'" in body["error"]
    status, body, _ = http("POST", f"{live.base_url}/control/faults", {"fault": "down", "target": "erp"})
    assert status == 422 and "applies to an API system" in body["error"]


def test_a_command_is_applied_once_and_its_events_come_back_through_the_feed(live: Simulator) -> None:
    world = live.world
    assert isinstance(world, RecordingWorld)
    dc = next(loc.location_id for loc in world.estate.locations if loc.kind == "dc")
    sku = world.estate.products[0].sku
    command = {
        "command_id": "cmd-1",
        "kind": "adjust",
        "system": "wms",
        "location_id": dc,
        "sku": sku,
        "delta": 5,
        "reason": "manual",
    }
    before = count(live.engine, "wms_transactions")

    status, body, _ = http("POST", f"{live.base_url}/wms/v1/commands", command)
    assert (status, body["status"]) == (202, "accepted") and body["events"] >= 1
    live.step(live.now + timedelta(minutes=1))  # the WMS publishes a few seconds later
    feed = get(f"{live.base_url}/wms/v1/transactions?since_id=0&per_page=1000")
    adjusted = [r for r in feed["data"] if r["txn_type"] == "ADJ" and r["reason_code"] == "MAN"]
    assert [(r["wh"], r["item"], r["qty"]) for r in adjusted] == [(dc, sku, 5)]

    status, body, _ = http("POST", f"{live.base_url}/control/commands", command)
    assert status == 409 and body["status"] == "duplicate" and "already applied" in body["reason"]
    assert count(live.engine, "wms_transactions") == before + 1


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (
            {
                "command_id": "c-2",
                "kind": "adjust",
                "system": "wms",
                "location_id": "DC-NOWHERE",
                "sku": "X",
                "delta": 1,
                "reason": "manual",
            },
            "unknown",
        ),
        ({"command_id": "c-3", "kind": "teleport"}, "unknown command kind 'teleport'"),
        ({"kind": "reroute"}, "command_id is missing"),
        ({"command_id": "c-4", "kind": "reroute", "order_id": "ORD-NONE", "to_node": "DC-1"}, "ORD-NONE"),
    ],
)
def test_an_invalid_command_is_refused_with_a_one_line_reason(
    live: Simulator, command: dict[str, Any], reason: str
) -> None:
    status, body, _ = http("POST", f"{live.base_url}/oms/api/v2/commands", command)
    assert status == 422 and body["status"] == "rejected"
    assert reason in body["reason"] and "\n" not in body["reason"]
    if "command_id" in command:  # refused, so not recorded: the same id may come again, fixed
        status, _, _ = http("POST", f"{live.base_url}/oms/api/v2/commands", command)
        assert status == 422


def test_a_body_that_is_not_json_is_a_bad_request(live: Simulator) -> None:
    status, body, _ = http("POST", f"{live.base_url}/oms/api/v2/commands", raw=b"reroute ORD-1 please")
    assert status == 400 and "not JSON" in body["error"]


def parse_cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ctower")
    commands = parser.add_subparsers(dest="command")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url")
    register(commands, common)
    return parser.parse_args(["simulate", *argv])


def test_the_cli_sets_lists_and_clears_faults_on_a_running_simulator(
    live: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    url = live.base_url
    assert run_simulate(parse_cli("fault", "set", "late", "wms", "--hours", "2", "--url", url)) == 0
    assert run_simulate(parse_cli("fault", "list", "--url", url)) == 0
    assert run_simulate(parse_cli("fault", "clear", "--url", url)) == 0
    assert run_simulate(parse_cli("fault", "list", "--url", url)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("set: late on wms (share=0.3, hours=2)")
    assert out[1].startswith("late on wms")
    assert out[2:] == ["cleared 1 fault(s)", "no faults"]


def test_the_demo_sources_collect_every_system_into_the_control_tower(
    live: Simulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from collectors.runner import run_once

    sources = demo_sources(live.base_url, live.drop_dir, None)
    assert {s.system for s in sources} == {"oms", "wms", "middleware", "erp", "pos", "marketplace"}
    assert all(10 <= s.schedule_seconds <= 60 for s in sources)
    parsed = tomllib.loads(sources_toml(sources))
    assert [s["name"] for s in parsed["source"]] == [s.name for s in sources]

    now = live.now
    context = Context(clock=lambda: now, database_url=database_url, data_dir=tmp_path / "collector")
    results = [run_once(engine, s, context) for s in sources]
    assert [(r.source, r.status) for r in results if r.status != "ok"] == []
    assert sum(r.quarantined for r in results) == 0

    with engine.connect() as conn:
        stored = {(r.source, r.id) for r in conn.execute(sa.text("SELECT source, id FROM events"))}
    world = live.world
    assert isinstance(world, RecordingWorld)
    settled = now - timedelta(hours=4)  # every POS window holding these has closed
    expected = {
        (e.event["source"], e.event["id"])
        for e in world.emitted
        if e.publish_at <= settled and e.system != "erp"
    }
    assert expected <= stored
    emitted = {(e.event["source"], e.event["id"]) for e in world.emitted}
    from_sources = {k for k in stored if not k[0].startswith("ctower/")}  # not the pulls' own telemetry
    assert from_sources <= emitted


def test_faults_show_in_collection_as_quarantined_records_and_failed_runs(
    live: Simulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from collectors.runner import run_once

    by_name = {s.name: s for s in demo_sources(live.base_url, live.drop_dir, None)}
    now = live.now
    context = Context(clock=lambda: now, database_url=database_url, data_dir=tmp_path / "collector")
    assert run_once(engine, by_name["oms"], context).status == "ok"

    live.faults.set(Fault("malformed", "oms", share=0.5))
    live.step(live.now + timedelta(hours=2))
    result = run_once(engine, by_name["oms"], context)
    assert result.status == "ok" and result.quarantined > 0 and result.accepted > 0
    with engine.connect() as conn:
        reasons = list(conn.execute(sa.text("SELECT reason FROM quarantine")).scalars())
    assert reasons and all(r.startswith("mapping: ") for r in reasons)

    live.faults.set(Fault("down", "wms"))
    failed = run_once(engine, by_name["wms"], context, sleep=lambda seconds: None)
    assert failed.status == "failed" and "503" in (failed.error or "")


def test_ctower_simulate_serves_until_interrupted_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
    argv = ["simulate", "--port", "0", "--drop-dir", str(tmp_path / "drop"), "--backfill-days", "0.1",
            "--stores", "3", "--skus", "30", "--fault", "slow:oms:ms=1",
            "--sources-file", str(tmp_path / "s.toml")]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("live from"):
                break
        base_url = lines[0].split()[2].rstrip(";")
        assert get(f"{base_url}/control/faults")["faults"][0]["kind"] == "slow"
        assert get(f"{base_url}/oms/api/v2/order-events?limit=1")["items"]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert lines[0].startswith("simulator at http://127.0.0.1:") and str(tmp_path / "drop") in lines[0]
    assert "stopped at simulated" in out
    assert (tmp_path / "s.toml").exists()


class GoesDownAfter:
    """Real HTTP to the simulator; after `pages` answers it switches the simulator's OMS down,
    so the outage starts in the middle of a collector run."""

    def __init__(self, sim: Simulator, pages: int) -> None:
        self.sim, self.pages, self.calls = sim, pages, 0

    def get(self, url: str, params: Any, headers: Any, timeout: float) -> tuple[int, bytes]:
        from collectors import http as real_http

        self.calls += 1
        if self.calls == self.pages + 1:
            self.sim.faults.set(Fault("down", "oms"))
        return real_http.get(url, params, headers, timeout)


def test_an_oms_outage_mid_run_then_recovery_loses_nothing_and_duplicates_nothing(
    live: Simulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from dataclasses import replace

    from collectors.runner import run_once

    oms = next(s for s in demo_sources(live.base_url, live.drop_dir, None) if s.name == "oms")
    oms = replace(oms, options={**oms.options, "page_size": 50})
    published = count(engine, "oms_events")
    assert published > 300  # several pages before and after the outage
    now = live.now
    outage = Context(clock=lambda: now, http=GoesDownAfter(live, pages=3), database_url=database_url)

    failed = run_once(engine, oms, outage, sleep=lambda seconds: None)
    assert failed.status == "failed" and "503" in (failed.error or "")
    assert failed.read == 150 and failed.accepted == 150  # the three pages read before it went down

    live.faults.clear()
    recovered = run_once(engine, oms, Context(clock=lambda: now, database_url=database_url), max_pages=1000)
    assert recovered.status == "ok" and recovered.duplicate == 0  # the cursor had moved with the rows
    assert failed.read + recovered.read == published  # every record read once, across the outage
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM events WHERE source = 'oms'")).scalar_one()
        calls = conn.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE data->>'status' = 'ok'),"
                " count(*) FILTER (WHERE data->>'status' <> 'ok') FROM events"
                " WHERE source = 'ctower/collector' AND data->>'interface' = 'ctower.collect.oms'"
            )
        ).one()
    assert stored == failed.accepted + recovered.accepted == published  # one event a record, once
    assert calls[1] == 4  # the four attempts that met the 503, stored as failed integration calls
