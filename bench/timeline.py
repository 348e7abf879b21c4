"""Benchmark: the timeline of one entity (metrics/timeline.py) against the raw database.

Loads N generated events (simulator.generate, the retail mix over 30 days, as
bench/metrics.py does; not timed) into a fresh database, adds two integration calls
carrying the order id for each sampled order (the generator's calls carry random ids),
then for --samples random orders, shipments, positions and sources (and the interfaces)
times, in the same run:
  - ours:  `timeline()` as the page calls it (events, related entities, exceptions, audit);
  - floor: the one indexed select of the entity's own events (order_id, (location_id, sku),
           or shipment_id through the 0012 index; an interface's or source's newest 2,001
           of the 7-day window): the least any timeline must read;
  - naive: the plain SQL selects of the same rows without our lookups: the entity's events
           plus, for an order, its calls by data->>'correlation_id' and its shipment's
           events by data->>'shipment_id'; all of an interface's or source's events of the
           window (what one writes first; full scans).
Prints the median and the slowest of each (seconds; best of --repeat per entity for ours
and floor, one run for naive) and the ratios naive / ours and ours / floor.

With --ingest-cost N it instead measures what the 0012 indexes cost ingest: N generated
events ingested by `ctower ingest` into fresh databases with and without them, alternately,
--rounds times each; prints events/s of each and the cost.

    python bench/timeline.py [--events 1000000] [--samples 20] [--repeat 3]
    python bench/timeline.py --keep DIR [--kinds order,shipment,position]   (a kept store, e.g. 10M)
    python bench/timeline.py --ingest-cost 200000 [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import embedded  # noqa: E402
from app.db.engine import get_engine  # noqa: E402
from app.db.migrate import migrate  # noqa: E402
from app.ingest.store import RunInfo, ingest_records  # noqa: E402
from metrics.params import Window  # noqa: E402
from metrics.timeline import timeline  # noqa: E402
from simulator.generate import generate_events, write_jsonl  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # after the last event (START + 30 days)
WINDOW = Window.of(AS_OF)  # interfaces and sources: the 7 days before it
INDEXES_0012 = ("events_shipment_ref", "events_return_ref")

FLOOR = {
    "order": "SELECT * FROM events WHERE order_id = :k AND time <= :as_of ORDER BY time, seq",
    "shipment": """SELECT * FROM events WHERE data->>'shipment_id' = :k AND time <= :as_of
                     AND type IN ('retail.order.shipped', 'retail.shipment.asn', 'retail.shipment.received')
                   ORDER BY time, seq""",
    "position": """SELECT * FROM events WHERE location_id = :loc AND sku = :sku AND time <= :as_of
                   ORDER BY time, seq""",
    "interface": """SELECT * FROM events WHERE interface = :k AND time >= :since AND time < :until
                    ORDER BY time DESC, seq DESC LIMIT 2001""",
    "source": """SELECT * FROM events WHERE source = :k AND time >= :since AND time < :until
                 ORDER BY time DESC, seq DESC LIMIT 2001""",
}
NAIVE = {
    "order": """SELECT * FROM events WHERE time <= :as_of AND (data->>'order_id' = :k
                    OR (type = 'retail.integration.call' AND data->>'correlation_id' = :k))
                ORDER BY time, seq;
                SELECT * FROM events WHERE time <= :as_of AND data->>'shipment_id' IN
                    (SELECT data->>'shipment_id' FROM events WHERE order_id = :k
                      AND type = 'retail.order.shipped')
                ORDER BY time, seq""",
    "shipment": "SELECT * FROM events WHERE data->>'shipment_id' = :k AND time <= :as_of ORDER BY time, seq",
    "position": """SELECT * FROM events WHERE data->>'location_id' = :loc AND data->>'sku' = :sku
                     AND time <= :as_of ORDER BY time, seq""",
    "interface": """SELECT * FROM events WHERE data->>'interface' = :k AND time >= :since AND time < :until
                    ORDER BY time, seq""",
    "source": """SELECT * FROM events WHERE source = :k AND time >= :since AND time < :until
                 ORDER BY time, seq""",
}
SAMPLES = {
    "order": "SELECT order_id FROM order_facts WHERE shipped_at IS NOT NULL ORDER BY random() LIMIT :n",
    "shipment": """SELECT data->>'shipment_id' FROM events TABLESAMPLE SYSTEM (5)
                    WHERE type IN ('retail.order.shipped', 'retail.shipment.asn')
                    ORDER BY random() LIMIT :n""",
    "position": "SELECT sku || '@' || location_id FROM position_facts ORDER BY random() LIMIT :n",
    "interface": "SELECT DISTINCT interface FROM interface_calls_hourly LIMIT :n",
    "source": "SELECT source FROM source_activity ORDER BY random() LIMIT :n",
}


def best_of(repeat: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def _params(kind: str, key: str) -> dict[str, Any]:
    if kind == "position":
        sku, _, loc = key.rpartition("@")
        return {"sku": sku, "loc": loc, "as_of": AS_OF}
    return {"k": key, "as_of": AS_OF, "since": WINDOW.since, "until": WINDOW.until}


def _raw(conn: sa.Connection, sql: str, params: dict[str, Any]) -> None:
    for statement in sql.split(";"):
        used = {k: v for k, v in params.items() if f":{k}" in statement}
        conn.execute(sa.text(statement), used).all()


def correlated_calls(orders: list[str]) -> list[bytes]:
    """Two calls per order carrying its id, a failure then a success, 40 minutes apart."""
    out = []
    for n, order in enumerate(orders):
        when = START + timedelta(days=10, minutes=n)
        for attempt, status in ((1, "error"), (2, "ok")):
            event = {
                "specversion": "1.0",
                "id": f"bench-call-{n}-{attempt}",
                "source": "middleware",
                "type": "retail.integration.call",
                "time": (when + timedelta(minutes=40 * (attempt - 1))).isoformat(),
                "data": {
                    "interface": "oms.wms.create_pick",
                    "source_system": "oms",
                    "target_system": "wms",
                    "status": status,
                    "latency_ms": 90.0,
                    "correlation_id": order,
                    "attempt": attempt,
                },
            }
            out.append(orjson.dumps(event))
    return out


def lookups(engine: sa.Engine, samples: int, repeat: int, kinds: list[str]) -> None:
    print(f"{'kind':<9} {'n':>3} {'events':>7} {'ours med':>9} {'ours max':>9} {'floor med':>10} "
          f"{'naive med':>10} {'naive/ours':>11} {'ours/floor':>11}")  # fmt: skip
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT setseed(0.11)"))
        keys = {
            kind: list(conn.execute(sa.text(SAMPLES[kind]), {"n": samples}).scalars()) for kind in SAMPLES
        }
    records = ((n, line) for n, line in enumerate(correlated_calls(keys["order"]), 1))
    ingest_records(engine, records, RunInfo(origin="bench/timeline.py calls"))
    with engine.connect() as conn:
        for kind, chosen in keys.items():
            if kind not in kinds:
                continue
            ours: list[float] = []
            floor: list[float] = []
            naive: list[float] = []
            sizes: list[int] = []
            for key in chosen:
                params = _params(kind, key)
                sizes.append(len(timeline(conn, kind, key, window=WINDOW).events))
                ours.append(best_of(repeat, partial(timeline, conn, kind, key, window=WINDOW)))
                floor.append(best_of(repeat, partial(_raw, conn, FLOOR[kind], params)))
                naive.append(best_of(1, partial(_raw, conn, NAIVE[kind], params)))
            o, f, n = statistics.median(ours), statistics.median(floor), statistics.median(naive)
            print(f"{kind:<9} {len(chosen):>3} {statistics.mean(sizes):>7.1f} {o:>9.4f} {max(ours):>9.4f} "
                  f"{f:>10.4f} {n:>10.3f} {n / o:>10.0f}x {o / f:>10.1f}x", flush=True)  # fmt: skip


def build(events: int, url: str) -> sa.Engine:
    engine = get_engine(url)
    migrate(engine)
    started = time.perf_counter()
    records = ((n, orjson.dumps(e)) for n, e in enumerate(generate_events(events, start=START), 1))
    counts = ingest_records(engine, records, RunInfo(origin="bench/timeline.py"))
    print(f"loaded {counts.accepted:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return engine


def _fresh(server: str, name: str) -> str:
    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)


def ingest_seconds(path: Path, url: str, with_indexes: bool) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "migrate"], env=env, check=True, capture_output=True
    )
    if not with_indexes:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            for name in INDEXES_0012:
                conn.execute(f"DROP INDEX {name}")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app.cli", "ingest", "--json", str(path)], env=env, check=True,
                   capture_output=True, cwd=REPO)  # fmt: skip
    return time.perf_counter() - started


def ingest_cost(server: str, events: int, rounds: int, workdir: Path) -> None:
    path = workdir / f"events-{events}.jsonl"
    write_jsonl(path, events)
    runs: dict[bool, list[float]] = {True: [], False: []}
    for r in range(rounds):
        for with_indexes in (r % 2 == 0, r % 2 != 0):  # alternate which goes first
            url = _fresh(server, f"bench_timeline_ingest_{int(with_indexes)}_{r}")
            runs[with_indexes].append(ingest_seconds(path, url, with_indexes))
            print(f"round {r + 1}: {'with' if with_indexes else 'without'} the 0012 indexes "
                  f"{runs[with_indexes][-1]:.1f} s", flush=True)  # fmt: skip
    with_s, without_s = min(runs[True]), min(runs[False])
    print(f"{events:,} events, best of {rounds}: without {events / without_s:,.0f} ev/s, "
          f"with {events / with_s:,.0f} ev/s: the indexes cost {with_s / without_s - 1:+.1%} "
          f"({(with_s - without_s) / events * 1e6:+.2f} us an event)")  # fmt: skip


def on_kept_store(args: argparse.Namespace) -> int:
    """Time the lookups on a store kept by an earlier run (built here when it is empty)."""
    url = embedded.start(args.keep)
    try:
        engine = get_engine(url)
        migrate(engine)
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
        if stored:
            print(f"machine: {os.cpu_count()} cores; reusing {args.keep}: {stored:,} events", flush=True)
        else:
            engine.dispose()
            engine = build(args.events, url)
        lookups(engine, args.samples, args.repeat, args.kinds.split(","))
        engine.dispose()
    finally:
        embedded.stop(args.keep)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--ingest-cost", type=int, default=0, metavar="N", help="measure the 0012 indexes' cost"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kinds", default=",".join(SAMPLES), help="comma-separated kinds to time")
    parser.add_argument(
        "--keep", type=Path, help="use (and keep) the store in this folder, e.g. bench/pages.py's 10M one"
    )
    args = parser.parse_args()

    if args.keep:
        return on_kept_store(args)
    data_dir = Path(tempfile.mkdtemp(prefix="ctower-bench-timeline-"))
    try:
        server = embedded.start(data_dir)
        print(f"machine: {os.cpu_count()} cores", flush=True)
        if args.ingest_cost:
            ingest_cost(server, args.ingest_cost, args.rounds, data_dir)
        else:
            engine = build(args.events, _fresh(server, "bench_timeline"))
            lookups(engine, args.samples, args.repeat, args.kinds.split(","))
            engine.dispose()
    finally:
        embedded.stop(data_dir, immediate=True)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
