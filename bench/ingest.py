"""Benchmark: `ctower ingest` end to end against a raw COPY of the same rows.

For each size N (default 1,000,000 and 5,000,000):
  1. generate N canonical events (simulator.generate: the retail mix) to a JSON Lines file;
  2. time `ctower ingest FILE` in a subprocess on a fresh database (parse, validate,
     dedupe, partitioned store with its indexes, quarantine, counts), and read its
     peak RSS from the kernel (wait4);
  3. time the same `ctower ingest` again on another fresh database whose projection upkeep
     (apply_projections, sql/migrations/0007_projections.sql) is made a no-op: the cost of
     keeping the projections current is the difference;
  4. in the same run, parse the same file into the rows ingest writes (NOT timed) and
     time a raw psycopg COPY (`write_row`) of them into a bare table of the same shape
     (same columns, no key, no index, no partitions): the database's own speed.
Prints events/s of each, the ratios, and the peak RSS. Not a test: run `make bench`.

    python bench/ingest.py [--events 1000000,5000000] [--database-url URL] [--no-projections-pass]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psycopg
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import embedded  # noqa: E402
from app.ingest.validate import EVENT_COLUMNS, Valid, validate  # noqa: E402
from simulator.generate import write_jsonl  # noqa: E402

BARE = """
CREATE TABLE bench_bare (
    source text, id text, type text, time timestamptz, subject text, data jsonb, attrs jsonb,
    record_no bigint, order_id text, location_id text, sku text, interface text, batch_id bigint
)
"""


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _vm_hwm(pid: int) -> int:
    """The process's peak resident set so far, in bytes (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# the projection upkeep made a no-op, to time ingest without it
NO_PROJECTIONS = (
    "CREATE OR REPLACE FUNCTION apply_projections(p_first bigint, p_last bigint) RETURNS void"
    " LANGUAGE plpgsql AS 'BEGIN NULL; END'"
)


def time_ingest(path: Path, url: str, projections: bool = True) -> tuple[float, int, dict[str, int]]:
    """Seconds, peak RSS in bytes and the counts of `ctower ingest --json PATH`."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "app.cli", "db", "migrate"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    if not projections:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(NO_PROJECTIONS)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", "--json", str(path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    out, err = b"", b""

    def drain() -> None:
        nonlocal out, err
        out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]

    reader = threading.Thread(target=drain)
    reader.start()
    # Peak RSS from VmHWM, polled: it belongs to the process's own address space. (wait4's
    # ru_maxrss would not do: Linux carries it over fork and exec, so the child would
    # report this benchmark's own peak, which holds millions of parsed rows.)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _vm_hwm(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"ctower ingest failed: {err.decode().strip()}")
    return elapsed, peak, orjson.loads(out)


def parsed_rows(path: Path) -> list[tuple[object, ...]]:
    """The rows ingest writes to `events`, parsed beforehand (not timed)."""
    rows = []
    with path.open("rb") as stream:
        for number, line in enumerate(stream, 1):
            result = validate(number, line.strip())
            assert isinstance(result, Valid)
            fields = result.event_line.split("\t")
            rows.append(tuple(None if f == "\\N" else f for f in fields) + (1,))
    return rows


def time_raw_copy(rows: list[tuple[object, ...]], url: str) -> float:
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute(BARE)
        conn.commit()
        columns = ", ".join(EVENT_COLUMNS)
        started = time.perf_counter()
        for start in range(0, len(rows), 10_000):  # the same transaction size as ingest
            with conn.transaction(), conn.cursor().copy(f"COPY bench_bare ({columns}) FROM STDIN") as copy:
                for row in rows[start : start + 10_000]:
                    copy.write_row(row)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", default="1000000,5000000", help="comma-separated sizes")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: a temporary embedded one)")
    parser.add_argument("--workdir", type=Path, help="where the generated files go (default: a temp dir)")
    parser.add_argument("--no-projections-pass", dest="compare", action="store_false",
                        help="skip the second ingest without projection upkeep")  # fmt: skip
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.events.split(",")]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ctower-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = None
    if args.database_url:
        server = args.database_url
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="ctower-bench-pg-"))
        server = embedded.start(data_dir)
    print(f"machine: {os.cpu_count()} cores; files in {workdir}")
    print(f"{'events':>10} {'file MB':>8} {'ingest s':>9} {'ingest ev/s':>12} {'no-proj ev/s':>13} "
          f"{'proj/no':>8} {'raw COPY ev/s':>14} {'ratio':>6} {'peak RSS MB':>12}")  # fmt: skip
    results = []
    try:
        for n in sizes:
            path = workdir / f"events-{n}.jsonl"
            if not path.exists():
                write_jsonl(path, n)
            url = _fresh_database(server, f"bench_ingest_{n}")
            seconds, peak, counts = time_ingest(path, url)
            assert counts["accepted"] == n, counts
            bare_rate = float("nan")
            if args.compare:
                bare_url = _fresh_database(server, f"bench_ingest_{n}_no_projections")
                bare_seconds, _peak, bare_counts = time_ingest(path, bare_url, projections=False)
                assert bare_counts["accepted"] == n, bare_counts
                bare_rate = n / bare_seconds
            rows = parsed_rows(path)
            raw_seconds = time_raw_copy(rows, url)
            del rows
            ingest_rate, raw_rate = n / seconds, n / raw_seconds
            results.append((n, peak))
            size_mb = path.stat().st_size / 1e6
            print(f"{n:>10,} {size_mb:>8.0f} {seconds:>9.1f} {ingest_rate:>12,.0f} {bare_rate:>13,.0f} "
                  f"{ingest_rate / bare_rate:>8.0%} {raw_rate:>14,.0f} {ingest_rate / raw_rate:>6.0%} "
                  f"{peak / 1e6:>12.0f}", flush=True)  # fmt: skip
        if len(results) > 1:
            (n0, p0), (n1, p1) = results[0], results[-1]
            print(f"peak RSS at {n1:,} events is {p1 / p0:.2f}x the peak at {n0:,} (constant memory: ~1.0)")
    finally:
        if data_dir is not None:
            embedded.stop(data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
