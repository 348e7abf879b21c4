"""An ingest killed half-way and run again ends exactly where one clean run ends."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from simulator.generate import write_jsonl
from tests.builders import event, jsonl
from tests.conftest import new_database

REPO = Path(__file__).resolve().parents[1]
GENERATED = 60_000
BATCH = 2_000
EVERY = 5_000  # a bad line, a conflicting copy and an exact copy after every 5,000 events

EVENTS_FINGERPRINT = """
SELECT count(*) AS n,
       md5(coalesce(string_agg(row(source, id, type, time, subject, data, attrs)::text, E'\\n'
                               ORDER BY source, id), '')) AS md5
FROM events
"""
QUARANTINE_FINGERPRINT = """
SELECT count(*) AS n,
       md5(coalesce(string_agg(row(reason_code, record_no, raw)::text, E'\\n'
                               ORDER BY record_no, reason_code), '')) AS md5
FROM quarantine
"""


def fingerprint(url: str) -> tuple[tuple[int, str], tuple[int, str]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        events = tuple(conn.execute(sa.text(EVENTS_FINGERPRINT)).one())
        quarantine = tuple(conn.execute(sa.text(QUARANTINE_FINGERPRINT)).one())
    engine.dispose()
    return events, quarantine  # type: ignore[return-value]


def scalar(url: str, sql: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        value = conn.execute(sa.text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def cli(url: str, tmp_path: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `ctower ARGS` against the database at `url`."""
    env = {**os.environ, "DATABASE_URL": url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
    return [sys.executable, "-m", "app.cli", *args], env


@pytest.fixture
def feed(tmp_path: Path) -> tuple[Path, int, int]:
    """60,000 generated events with bad lines, conflicts and copies mixed in.

    Returns the file, the number of quarantine rows one clean run makes and the number
    of distinct valid events.
    """
    generated = tmp_path / "generated.jsonl"
    write_jsonl(generated, GENERATED)
    lines = generated.read_bytes().splitlines()
    out, quarantined = [], 0
    for i, raw in enumerate(lines, start=1):
        out.append(raw)
        if i % EVERY == 0:
            earlier = json.loads(lines[i - EVERY // 2])
            changed = {**earlier, "subject": "CHANGED"}
            out += [b"{not json", json.dumps(changed).encode(), lines[i - 3]]
            quarantined += 2  # the bad line and the conflicting copy; the exact copy is a duplicate
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n")
    # every generated event has its own (source, id): the generator numbers them serially
    return path, quarantined, GENERATED


def test_an_ingest_killed_mid_way_and_run_again_matches_one_clean_run(
    database_url, pg_server, feed, tmp_path
):
    path, quarantined, distinct = feed
    command, env = cli(database_url, tmp_path, "ingest", str(path), "--batch-size", str(BATCH), "--json")
    total_batches = -(-(GENERATED + 3 * (GENERATED // EVERY)) // BATCH)

    killed = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    committed = 0
    try:
        while committed < 3 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.01)
            committed = scalar(database_url, "SELECT count(*) FROM ingest_batches")
        assert killed.poll() is None, "the ingest finished before it could be killed; the test proves nothing"
        assert committed >= 3
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL

    # what the killed run committed is whole: every batch's events, nothing of the open one
    batches = scalar(database_url, "SELECT count(*) FROM ingest_batches")
    assert 3 <= batches < total_batches
    stored = scalar(database_url, "SELECT count(*) FROM events")
    assert stored == scalar(database_url, "SELECT coalesce(sum(accepted), 0) FROM ingest_batches")
    assert stored == scalar(database_url, "SELECT count(*) FROM event_keys")

    resumed = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr

    clean_url = new_database(pg_server)
    clean_command, clean_env = cli(
        clean_url, tmp_path, "ingest", str(path), "--batch-size", str(BATCH), "--json"
    )
    clean = subprocess.run(
        clean_command, env=clean_env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert clean.returncode == 0, clean.stderr

    counts = json.loads(clean.stdout)
    assert counts["accepted"] == distinct
    assert counts["quarantined"] == quarantined
    assert fingerprint(database_url) == fingerprint(clean_url)
    (events_n, _), (quarantine_n, _) = fingerprint(database_url)
    assert (events_n, quarantine_n) == (distinct, quarantined)


def test_an_ingest_that_fails_part_way_keeps_whole_batches_and_a_rerun_completes_it(engine, query):
    records = list(read_records(io.BytesIO(jsonl(*(event(id=f"oms-{i:03d}") for i in range(1, 36))))))

    def failing_after_25():  # type: ignore[no-untyped-def]
        yield from records[:25]
        raise ConnectionResetError("the feed went away")

    with pytest.raises(ConnectionResetError):
        ingest_records(engine, failing_after_25(), RunInfo(origin="feed"), batch_size=10)

    kept = query("SELECT count(*) AS n FROM events")[0].n
    assert kept in (0, 10, 20)  # whole batches only, never part of one
    counts = ingest_records(engine, iter(records), RunInfo(origin="feed"), batch_size=10)

    assert (counts.received, counts.accepted, counts.duplicate) == (35, 35 - kept, kept)
    assert query("SELECT count(*) AS n FROM events")[0].n == 35
