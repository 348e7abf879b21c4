"""Benchmark: variants and the directly-follows graph of 30 days of orders.

On a fresh embedded database:
  1. the event generator (simulator/generate.py, the default estate: 300 stores, 2 DCs,
     2,000 SKUs) makes N events over 30 days; its order events (and locations) are
     ingested through the one write path (app.ingest.store, projections kept) -- timed, not
     part of the figure. The default N gives the simulator's default volume, 18,000 orders
     a day (simulator/estate.py: web 12,000 + marketplace 4,000 + store 2,000), so about
     540,000 orders in 30 days; --orders-per-day makes it smaller;
  2. metrics.process.process_map (the variants and the directly-follows graph's nodes and
     edges) for the 30-day window, as the Process page asks for them, from the process
     projection (order_process, migration 0017) (3 runs, the first and the best); the
     first render of the Process page (metrics.process.process_page: the conformance, the
     variants, the graph's nodes, in one pass), and what each other tab reads when it is
     opened (the graph's edges, the bottlenecks by node, the first deviating orders), 3 runs;
  3. in the same run, the raw database doing the same aggregation in one plain SQL statement
     on `events` alone (sql/process/bench_raw.sql), 3 runs; its figures must equal ours
     (variants: orders, share, p50/p90 hours; edges: transitions, orders, p50/p90 waits).
Prints orders, events, the times and the ratio. Not a test: `python bench/process.py`.
With --keep FOLDER the database is kept and reused (a database kept before migration 0017
gets the projection built from its events by the migration: timed and printed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import embedded  # noqa: E402
from app.db.engine import get_engine, sql_text  # noqa: E402
from app.db.migrate import migrate  # noqa: E402
from app.ingest.reader import read_records  # noqa: E402
from app.ingest.store import RunInfo, ingest_records  # noqa: E402
from metrics import process  # noqa: E402
from metrics.params import Window  # noqa: E402
from simulator.generate import generate_events  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
CREATED_SHARE = 0.111  # of the generator's events, retail.order.created (measured: 22,254 of 200,000)
KEEP = ("retail.order.", "retail.location.upserted")


def best(runs: list[float]) -> str:
    return f"first {runs[0]:.2f} s, best {min(runs):.2f} s"


def load(engine: sa.Engine, folder: Path, n: int) -> None:
    """Generate n events over DAYS days and ingest their order events (and locations)."""
    started = time.perf_counter()
    path = folder / "orders.jsonl"
    kept = 0
    with path.open("wb") as out:
        for event in generate_events(n, days=DAYS, start=START):
            if event["type"].startswith(KEEP):
                out.write(orjson.dumps(event) + b"\n")
                kept += 1
    generated = time.perf_counter() - started
    started = time.perf_counter()
    with path.open("rb") as handle:
        counts = ingest_records(engine, read_records(handle), RunInfo(origin=str(path)), batch_size=50_000)
    ingested = time.perf_counter() - started
    path.unlink()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    print(f"generated {n:,} events in {generated:.0f} s, kept {kept:,} order events; "
          f"ingested {counts.accepted:,} in {ingested:.0f} s")  # fmt: skip


def check(rows: Sequence[sa.Row[Any]], variants: pl.DataFrame, edges: pl.DataFrame) -> None:
    """The raw statement's figures equal ours (floats to 1e-6)."""

    def same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
        return all(
            abs(x - y) < 1e-6 if isinstance(x, float) and isinstance(y, float) else x == y
            for x, y in zip(a, b, strict=True)
        )

    raw_variants = sorted(
        (r.label, r.n, r.share_or_orders, r.p50, r.p90) for r in rows if r.kind == "variant"
    )
    ours_variants = sorted(variants.select("variant", "orders", "share", "p50_hours", "p90_hours").rows())
    raw_edges = sorted((r.label, r.n, r.share_or_orders, r.p50, r.p90) for r in rows if r.kind == "edge")
    ours_edges = sorted(
        (f"{a} → {b}", n, o, p50, p90)
        for a, b, n, o, p50, p90 in edges.select(
            "from_step", "to_step", "transitions", "orders", "p50_wait_hours", "p90_wait_hours"
        ).rows()
    )
    assert len(raw_variants) == int(variants["variants"][0]) == len(ours_variants), "variants differ"
    assert all(same(a, b) for a, b in zip(raw_variants, ours_variants, strict=True)), "variant figures differ"
    assert len(raw_edges) == len(ours_edges), "edges differ"
    assert all(same(a, b) for a, b in zip(raw_edges, ours_edges, strict=True)), "edge figures differ"
    print("figures: equal to the raw statement's (variants and edges)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-day", type=int, default=18_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder (reused when it exists)")
    args = parser.parse_args()
    n = int(args.orders_per_day * DAYS / CREATED_SHARE)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="ctower-bench-process-"))
    reuse = args.keep is not None and (folder / "pg").exists()
    url = embedded.start(folder / "pg")
    try:
        engine = get_engine(url)
        started = time.perf_counter()
        migrate(engine)
        if reuse:
            spent = time.perf_counter() - started
            print(f"migrations (a new projection is built from the stored events): {spent:.1f} s")
        if not reuse:
            load(engine, folder, n)
        window = Window.of(START + timedelta(days=DAYS + 1), START, START + timedelta(days=DAYS))
        ours: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with engine.connect() as conn:
                variants, nodes, edges = process.process_map(conn, window)
            ours.append(time.perf_counter() - started)
        page: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with engine.connect() as conn:
                process.process_page(conn, window)
            page.append(time.perf_counter() - started)
        with engine.connect() as conn:
            edge_orders = process.process_page(conn, window).edge_orders
        tab_reads: dict[str, Callable[[sa.Connection], object]] = {  # as pages/process.py reads them
            "edges": lambda conn: process.edges(conn, window, orders=edge_orders),
            "bottlenecks": lambda conn: process.bottlenecks(conn, window, by="node"),
            "deviating_orders": lambda conn: process.deviating_orders(conn, window),
        }
        tabs: dict[str, list[float]] = {name: [] for name in tab_reads}
        for _ in range(args.runs):
            for name, read in tab_reads.items():
                started = time.perf_counter()
                with engine.connect() as conn:
                    read(conn)
                tabs[name].append(time.perf_counter() - started)
        raw: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(sql_text("process/work_mem"))  # the same memory for both
                rows = conn.execute(sql_text("process/bench_raw"), window.params()).all()
            raw.append(time.perf_counter() - started)
        check(rows, variants, edges)
        count = int(variants["variants"][0])
        print(f"window {window.since:%Y-%m-%d} .. {window.until:%Y-%m-%d}: {count:,} variants, "
              f"{nodes.height} steps, {edges.height} edges")  # fmt: skip
        print(f"variants + directly-follows graph (metrics.process): {best(ours)}")
        print(f"the Process page's first render (process_page):     {best(page)}")
        for name, runs in tabs.items():
            print(f"  its tab, when opened: {name + ':':<25}{best(runs)}")
        print(f"raw database, one plain statement on events:        {best(raw)}")
        print(f"ratio (ours / raw, best): {min(ours) / min(raw):.2f}")
    finally:
        embedded.stop(folder / "pg")
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
