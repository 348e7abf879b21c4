"""The simulated systems publish native records: feeds in publish order, ERP tables that
fill incrementally, POS and marketplace files with ready markers, and faults on demand."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.base import Unmappable
from collectors.mappings import sim_marketplace, sim_oms, sim_pos, sim_wms
from simulator.faults import Fault
from simulator.service import SimConfig, Simulator
from simulator.storage import sim_sql
from simulator.systems.samples import T0, Sample, samples


class ScriptedWorld:
    """A world that emits a fixed list of hand-made events when its clock passes them."""

    def __init__(self, start: datetime, emissions: list[Sample]) -> None:
        self._now = start
        self.pending = sorted(emissions, key=lambda e: datetime.fromisoformat(e.event["time"]))

    @property
    def now(self) -> datetime:
        return self._now

    def advance(self, until: datetime) -> Iterator[Sample]:
        due = [e for e in self.pending if datetime.fromisoformat(e.event["time"]) < until]
        self.pending = self.pending[len(due) :]
        self._now = until
        return iter(due)

    def apply(self, command: dict[str, Any]) -> list[Sample]:
        raise ValueError("this world takes no commands")


def event(n: int, minutes: float, **data: Any) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "specversion": "1.0",
        "id": f"oms-{n:06d}",
        "source": "oms",
        "type": "retail.order.routed",
        "time": at.isoformat(),
        "subject": f"ORD-{n:06d}",
        "data": {"order_id": f"ORD-{n:06d}", "node_id": "DC-EAST", **data},
    }


def simulator(database_url: str, tmp_path: Path, emissions: list[Sample], *faults: Fault) -> Simulator:
    world = ScriptedWorld(T0, emissions)
    sim = Simulator(
        database_url, tmp_path / "drop", config=SimConfig(faults=faults), world=world, serve=False
    )
    sim.prepare()
    return sim


def feed(engine: Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT body::text FROM sim.{table} ORDER BY seq")).scalars()  # noqa: S608
        return [orjson.loads(r) for r in rows]


def sample(system: str, type_: str) -> Sample:
    return next(s for s in samples() if s.system == system and s.event["type"] == type_)


def test_a_feed_holds_its_records_in_publish_order_not_business_order(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    early_but_late = Sample("oms", event(1, 0), T0 + timedelta(hours=3))
    later_on_time = Sample("oms", event(2, 1), T0 + timedelta(minutes=2))
    sim = simulator(database_url, tmp_path, [early_but_late, later_on_time])

    sim.step(T0 + timedelta(hours=1))
    assert [r["eventId"] for r in feed(engine, "oms_events")] == ["oms-000002"]

    sim.step(T0 + timedelta(hours=4))
    assert [r["eventId"] for r in feed(engine, "oms_events")] == ["oms-000002", "oms-000001"]


def test_every_api_system_publishes_its_own_native_records(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    sim = simulator(database_url, tmp_path, samples())
    sim.step(T0 + timedelta(hours=2))
    oms_items = feed(engine, "oms_events")
    wms_items = feed(engine, "wms_transactions")
    calls = feed(engine, "mw_calls")
    assert {r["eventType"] for r in oms_items} >= {"ORDER_CREATED", "ORDER_REROUTED", "ATP_SNAPSHOT"}
    assert {r["txn_type"] for r in wms_items} >= {
        "PICK_CONFIRM",
        "PACK",
        "SHIP",
        "ADJ",
        "CYCLE_COUNT",
        "RECEIPT",
    }
    assert {r["result"] for r in calls} == {"SUCCESS", "FAILED", "TIMEOUT"}
    assert all(isinstance(r["ts"], int) for r in wms_items)


def test_the_erp_tables_fill_incrementally_and_a_changed_row_moves_up_the_change_sequence(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    erp_samples = [s for s in samples() if s.system == "erp"]
    stock = sample("erp", "retail.inventory.snapshot")
    recount = {
        **stock.event,
        "id": "erp-000099",
        "time": (T0 + timedelta(hours=3)).isoformat(),
        "data": {**stock.event["data"], "on_hand": 4},
    }
    sim = simulator(
        database_url, tmp_path, [*erp_samples, Sample("erp", recount, T0 + timedelta(hours=3, minutes=5))]
    )

    def rows(sql: str, **params: Any) -> list[Any]:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    sim.step(T0 + timedelta(minutes=28))
    first = rows(
        "SELECT 'x', change_seq FROM erp.stock_levels UNION ALL SELECT 'y', change_seq FROM erp.plants"
    )
    assert len(first) == 1  # the stock level; the plant master row comes later
    high = max(seq for _, seq in first)

    sim.step(T0 + timedelta(hours=1))
    assert rows("SELECT count(*) FROM erp.plants")[0][0] == 1
    assert rows("SELECT count(*) FROM erp.materials WHERE change_seq > :high", high=high)[0][0] == 1

    sim.step(T0 + timedelta(hours=4))
    ((on_hand, doc_no, seq),) = rows("SELECT unrestricted_qty, doc_no, change_seq FROM erp.stock_levels")
    assert (on_hand, doc_no) == (4, "erp-000099")
    assert seq > max(r[0] for r in rows("SELECT change_seq FROM erp.materials"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=sim_pos.DELIMITER))


def test_pos_files_appear_every_four_simulated_hours_with_ready_markers(
    database_url: str, tmp_path: Path
) -> None:
    from simulator.estate import Estate, EstateConfig
    from simulator.world import World

    start = datetime(2026, 11, 2, tzinfo=UTC)
    world = World(
        Estate.build(EstateConfig(stores=3, skus=40, web_orders_per_day=200, marketplace_orders_per_day=60)),
        start,
        seed=5,
    )
    sim = Simulator(database_url, tmp_path / "drop", world=world, serve=False)
    sim.step(start + timedelta(hours=9))

    folder = tmp_path / "drop" / "pos"
    files = sorted(folder.glob("*.csv"))
    stores = {f.name.split("_")[0] for f in files}
    stamps = {f.name.split("_")[1] for f in files}
    assert len(stores) == 3
    assert {"20261102T0500.csv", "20261102T0900.csv"} <= stamps  # 04:00 and 08:00 UTC, in Berlin time
    for f in files:
        assert (f.parent / (f.name + ".ok")).exists()
        assert all(len(sim_pos.to_events(r)) == 1 for r in read_csv(f))  # may be empty: a heartbeat

    market = sorted((tmp_path / "drop" / "marketplace").glob("*.jsonl"))
    first = int(market[0].name[-8:-6])
    assert [f.name for f in market] == [f"acme-20261102T{h:02d}.jsonl" for h in range(first, 9)]  # hourly
    for f in market:
        assert (f.parent / (f.name + ".ok")).exists()
        for line in f.read_text().splitlines():
            assert sim_marketplace.to_events(orjson.loads(line))


def test_a_partially_written_file_gets_its_marker_only_when_complete(
    database_url: str, tmp_path: Path
) -> None:
    counts = [
        Sample(
            "pos",
            {
                **sample("pos", "retail.inventory.snapshot").event,
                "id": f"pos-{i:06d}",
                "data": {**sample("pos", "retail.inventory.snapshot").event["data"], "sku": f"SKU-{i:05d}"},
            },
            T0 + timedelta(hours=1),
        )
        for i in range(10)
    ]
    sim = simulator(database_url, tmp_path, counts, Fault("partial_file", "pos"))
    sim.step(T0 + timedelta(hours=4))  # the window (08:00, 12:00] UTC closes

    (path,) = (tmp_path / "drop" / "pos").glob("*.csv")
    marker = path.with_name(path.name + ".ok")
    assert path.name == "store-0042_20261127T1300.csv"
    assert not marker.exists()
    assert 0 < len(read_csv(path)) < 10

    sim.step(T0 + timedelta(hours=5))
    assert marker.exists()
    assert [r["txn_id"] for r in read_csv(path)] == [f"pos-{i:06d}" for i in range(10)]


def test_the_duplicate_fault_serves_records_twice(database_url: str, engine: Engine, tmp_path: Path) -> None:
    sim = simulator(
        database_url,
        tmp_path,
        [Sample("oms", event(i, i), T0 + timedelta(minutes=i + 1)) for i in range(5)],
        Fault("duplicate", "oms", share=1.0),
    )
    sim.step(T0 + timedelta(hours=1))
    ids = [r["eventId"] for r in feed(engine, "oms_events")]
    assert ids == [i for n in range(5) for i in [f"oms-{n:06d}"] * 2]


def test_the_late_fault_publishes_records_hours_later(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    sim = simulator(
        database_url,
        tmp_path,
        [Sample("oms", event(1, 0), T0 + timedelta(minutes=1))],
        Fault("late", "oms", share=1.0, hours=3),
    )
    sim.step(T0 + timedelta(hours=2))
    assert feed(engine, "oms_events") == []
    sim.step(T0 + timedelta(hours=4))
    assert [r["eventId"] for r in feed(engine, "oms_events")] == ["oms-000001"]


def test_the_malformed_fault_breaks_a_share_of_records(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    picks = [
        Sample(
            "wms",
            {**sample("wms", "retail.inventory.adjusted").event, "id": f"wms-{i:06d}"},
            T0 + timedelta(minutes=30),
        )
        for i in range(200)
    ]
    sim = simulator(database_url, tmp_path, picks, Fault("malformed", "wms", share=0.25))
    sim.step(T0 + timedelta(hours=1))
    broken = 0
    for record in feed(engine, "wms_transactions"):
        try:
            sim_wms.to_events(record)
        except Unmappable:
            broken += 1
    assert 25 <= broken <= 80


def test_clock_skew_shifts_a_systems_timestamps(database_url: str, engine: Engine, tmp_path: Path) -> None:
    sim = simulator(
        database_url,
        tmp_path,
        [Sample("oms", event(1, 0), T0 + timedelta(minutes=1))],
        Fault("clock_skew", "oms", minutes=-30),
    )
    sim.step(T0 + timedelta(hours=1))
    (record,) = feed(engine, "oms_events")
    (back,) = sim_oms.to_events(record)
    assert datetime.fromisoformat(back["time"]) == T0 - timedelta(minutes=30)


def test_a_fault_with_an_end_stops_on_the_simulated_clock(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    emissions = [Sample("oms", event(i, 60 * i), T0 + timedelta(hours=i, minutes=1)) for i in range(3)]
    sim = simulator(
        database_url, tmp_path, emissions, Fault("duplicate", "oms", until=T0 + timedelta(hours=1))
    )
    sim.step(T0 + timedelta(hours=3))
    ids = [r["eventId"] for r in feed(engine, "oms_events")]
    assert ids == ["oms-000000", "oms-000000", "oms-000001", "oms-000002"]


@pytest.mark.parametrize("days", [1])
def test_a_backfill_of_the_real_world_reaches_every_system(
    database_url: str, engine: Engine, tmp_path: Path, days: int
) -> None:
    now = datetime(2026, 11, 10, 12, 30, tzinfo=UTC)
    config = SimConfig(
        stores=4, skus=50, seed=11, extra={"web_orders_per_day": 300, "marketplace_orders_per_day": 80}
    )
    sim = Simulator(database_url, tmp_path / "drop", config=config, clock=lambda: now, serve=False)
    published = sim.backfill(days=days)
    assert published > 1000
    assert sim.now == now
    with engine.connect() as conn:
        counts = conn.execute(sim_sql("feed_counts")).one()[:3]
        erp_rows = conn.execute(sa.text("SELECT count(*) FROM erp.stock_levels")).scalar_one()
    assert all(n > 0 for n in counts) and erp_rows > 0
    assert list((tmp_path / "drop" / "pos").glob("*.csv.ok"))
    assert list((tmp_path / "drop" / "marketplace").glob("*.jsonl.ok"))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_live_for(sim: Simulator, clock: FakeClock, wall_steps: list[timedelta]) -> list[datetime]:
    """Run the live loop while the fake wall clock moves by each step; the simulated times seen."""
    import threading

    stop = threading.Event()
    seen: list[datetime] = []
    thread = threading.Thread(
        target=sim.run_live, args=(stop,), kwargs={"on_step": lambda n: seen.append(sim.now)}
    )
    thread.start()
    try:
        for step in wall_steps:
            clock.now += step
            deadline = datetime.now(UTC) + timedelta(seconds=5)
            while (not seen or seen[-1] < min(clock.now, sim.now)) and datetime.now(UTC) < deadline:
                stop.wait(0.01)
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    return seen


def test_live_mode_follows_the_wall_clock_and_never_runs_ahead_of_it(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    emissions = [Sample("oms", event(n, 10 * n), T0 + timedelta(minutes=10 * n + 1)) for n in range(12)]
    config = SimConfig(speed=1.0, tick_seconds=0.01)
    sim = Simulator(
        database_url,
        tmp_path / "drop",
        config=config,
        world=ScriptedWorld(T0, emissions),
        clock=clock,
        serve=False,
    )
    seen = run_live_for(sim, clock, [timedelta(minutes=30), timedelta(minutes=30)])
    assert seen and all(t <= T0 + timedelta(hours=1) for t in seen)
    assert sim.now == T0 + timedelta(hours=1)


def test_live_mode_after_a_long_backfill_catches_up_with_the_wall_clock(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(T0 + timedelta(minutes=40))  # the backfill to T0 took 40 minutes of wall time
    emissions = [Sample("oms", event(n, 10 * n), T0 + timedelta(minutes=10 * n + 1)) for n in range(12)]
    sim = Simulator(
        database_url,
        tmp_path / "drop",
        config=SimConfig(speed=1.0, tick_seconds=0.01),
        world=ScriptedWorld(T0, emissions),
        clock=clock,
        serve=False,
    )
    run_live_for(sim, clock, [timedelta(minutes=5)])
    assert sim.now == T0 + timedelta(minutes=45)  # the wall clock, not T0 + 5 minutes


def test_live_mode_runs_ahead_only_when_asked_for_a_speed_above_one(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(T0)
    config = SimConfig(speed=60.0, tick_seconds=0.01)
    sim = Simulator(
        database_url, tmp_path / "drop", config=config, world=ScriptedWorld(T0, []), clock=clock, serve=False
    )
    run_live_for(sim, clock, [timedelta(minutes=1)])
    assert sim.now == T0 + timedelta(hours=1)  # a wall minute is a simulated hour


def test_a_simulator_live_in_the_background_stops_cleanly(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock(T0)
    config = SimConfig(tick_seconds=0.01)
    emissions = [Sample("oms", event(1, 5), T0 + timedelta(minutes=6))]
    sim = Simulator(
        database_url, tmp_path / "drop", config=config, world=ScriptedWorld(T0, emissions), clock=clock
    )
    sim.start()
    sim.start_live()
    clock.now = T0 + timedelta(minutes=10)
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while sim.now < clock.now and datetime.now(UTC) < deadline:
        time.sleep(0.01)
    sim.stop()
    assert sim.now == T0 + timedelta(minutes=10)
    assert sim.status()["feeds"]["oms"] == 1
