"""Benchmark: a backfill of the simulated estate, collected by the demo's sources.

On a fresh embedded database:
  1. the simulator makes N days of the default estate (300 stores, 2 DCs, 2,000 SKUs)
     and publishes them in each system's native shape (HTTP feeds, ERP tables, POS and
     marketplace files) -- timed, but not part of the collection;
  2. the demo sources (`simulator.sources.demo_sources`) are collected through the real
     runner (`collectors.runner.run_once`, HTTP over 127.0.0.1, SQL, files), several at a
     time as the scheduler runs them (CTOWER_SCHEDULER_WORKERS threads), round after round
     until a round reads nothing new -- the collection time (per source: the time of its
     runs, which overlap);
  3. in the same run, the database's own speed on the naive path: the native records the
     HTTP feeds and ERP tables hold, copied table to table inside PostgreSQL
     (`INSERT ... SELECT`), which is what moving them costs with no HTTP, no mapping, no
     validation.
Prints events per system, times and rates. Not a test: `python bench/collect.py [--days 14]`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import embedded  # noqa: E402
from app.db.engine import get_engine  # noqa: E402
from app.db.migrate import migrate  # noqa: E402
from app.settings import load_settings  # noqa: E402
from collectors.base import SourceConfig  # noqa: E402
from collectors.config import register  # noqa: E402
from collectors.health import RunResult  # noqa: E402
from collectors.jobs import default_context  # noqa: E402
from collectors.runner import collect_all  # noqa: E402
from simulator.service import SimConfig, Simulator  # noqa: E402
from simulator.sources import demo_sources  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--stores", type=int, default=300)
    parser.add_argument("--skus", type=int, default=2000)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ctower-bench-collect-"))
    url = embedded.start(folder / "pg")
    try:
        engine = get_engine(url)
        migrate(engine)
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        config = SimConfig(stores=args.stores, skus=args.skus)
        sim = Simulator(url, folder / "drop", port=0, config=config, start_at=end - timedelta(days=args.days))
        sim.start()
        started = time.perf_counter()
        published = sim.step(end)
        made = time.perf_counter() - started
        print(f"simulator: {args.days:g} days, {published:,} native records published in {made:.1f} s")

        sources = demo_sources(sim.base_url, folder / "drop")
        register(engine, sources)
        context = default_context(engine)
        per_source: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        workers = load_settings().scheduler_workers

        def timed(source: SourceConfig) -> tuple[RunResult, float]:
            began = time.perf_counter()
            (result,) = collect_all(engine, [source], context)
            return result, time.perf_counter() - began

        pool = ThreadPoolExecutor(workers)  # as the scheduler runs them: CTOWER_SCHEDULER_WORKERS threads
        started = time.perf_counter()
        rounds = 0
        while True:
            rounds += 1
            futures = [pool.submit(timed, source) for source in sources]
            results = []
            for future in futures:
                result, took = future.result()
                results.append(result)
                seconds[result.source] += took
            failed = [r for r in results if r.status == "failed"]
            if failed:
                print("failed runs:", [(r.source, r.error) for r in failed])
            for result in results:
                per_source[result.source] += result.read
            if not any(r.read for r in results):
                break
        collected = time.perf_counter() - started
        pool.shutdown()
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE source <> 'ctower/collector'")
            ).scalar_one()
            quarantined = conn.execute(sa.text("SELECT count(*) FROM quarantine")).scalar_one()
        read = sum(per_source.values())
        print(
            f"collected in {rounds} rounds: {read:,} native records read, {stored:,} events stored, "
            f"{quarantined:,} quarantined, in {collected:.1f} s ({stored / collected:,.0f} events/s)"
        )
        for name, count in sorted(per_source.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {count:>10,} records in runs of {seconds[name]:6.1f} s")

        started = time.perf_counter()
        with engine.begin() as conn:
            tables = (
                conn.execute(
                    sa.text(
                        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                        "WHERE table_schema IN ('sim', 'erp') AND table_type = 'BASE TABLE'"
                    )
                )
                .scalars()
                .all()
            )
            copied = 0
            for table in tables:
                schema, name = table.split(".")
                quoted = f'"{schema}"."{name}"'
                conn.execute(sa.text(f"CREATE TEMP TABLE copy_{schema}_{name} AS SELECT * FROM {quoted}"))  # noqa: S608
                copied += conn.execute(sa.text(f"SELECT count(*) FROM copy_{schema}_{name}")).scalar_one()  # noqa: S608
        raw = time.perf_counter() - started
        print(
            f"raw database: {copied:,} native rows of the feeds and ERP tables copied in {raw:.1f} s "
            f"({copied / raw:,.0f} rows/s); collection / raw copy = {collected / raw:.1f}x the time"
        )
        sim.stop()
        engine.dispose()
    finally:
        embedded.stop(folder / "pg", immediate=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
