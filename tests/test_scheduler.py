"""The scheduler: one job per source on its schedule, kept in step with the sources table,
and never two runs of one source at once, even with two scheduler processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.settings import load_settings
from collectors.base import Context, SourceConfig
from collectors.config import pause, register
from collectors.jobs import (
    Runtime,
    bring_detectors_forward,
    build_scheduler,
    collect_source,
    detect_exceptions,
    detect_job,
    run_scheduler,
    sync_sources,
)
from tests.conftest import REPO
from tests.kinds_for_tests import serving

KIND = "tests.kinds_for_tests"


def routed(n: int) -> dict[str, str]:
    return {"order": f"ORD-{n:06d}", "node": "STORE-0042", "at": f"2026-11-20T10:{n:02d}:00+00:00"}


def source(url: str, name: str = "oms", every: float = 60.0) -> SourceConfig:
    return SourceConfig(name=name, kind=KIND, schedule_seconds=every, options={"url": url})


def wait_for(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar() or 0)


def started_scheduler(engine: sa.Engine, stop: threading.Event, settings: Any = None) -> threading.Thread:
    """run_scheduler in a thread of its own, on the wall clock, until `stop` is set."""
    thread = threading.Thread(
        target=run_scheduler,
        args=(engine, Context(clock=lambda: datetime.now(UTC)), stop),
        kwargs={"settings": settings},
    )
    thread.start()
    return thread


def test_the_scheduler_collects_each_source_at_start_and_stops_when_asked(engine):
    with serving([routed(1), routed(2), routed(3)]) as feed:
        register(engine, [source(feed.url)])
        stop = threading.Event()
        thread = started_scheduler(engine, stop)
        try:
            stored = wait_for(lambda: count(engine, "SELECT count(*) FROM events WHERE source = 'oms'") == 3)
        finally:
            stop.set()
            thread.join(timeout=60)  # runs in progress finish first
    assert stored and not thread.is_alive()
    assert count(engine, "SELECT count(*) FROM collector_runs WHERE status = 'ok'") >= 1
    assert count(engine, "SELECT count(*) FROM collector_runs WHERE status = 'running'") == 0


def test_a_stop_during_a_collection_that_stores_events_waits_for_it_and_ends(engine, monkeypatch):
    """APScheduler's shutdown holds the job store lock while it waits for running jobs; a
    collection that then asked the scheduler for the detectors waited for ever (CI hung)."""
    import tests.kinds_for_tests as kind

    collecting, release = threading.Event(), threading.Event()

    def hook(step: str, _conn: Any, _page: Any) -> None:
        if step == "done":  # every page stored; the run ends (and asks for the detectors) after
            collecting.set()
            release.wait(20)

    monkeypatch.setattr(kind, "on_hook", hook)
    with serving([routed(1), routed(2), routed(3)]) as feed:
        register(engine, [source(feed.url)])
        stop = threading.Event()
        thread = started_scheduler(engine, stop)
        try:
            assert collecting.wait(20)
            stop.set()
            time.sleep(1.5)  # the loop sees the stop within 0.5 s and waits for the collection
        finally:
            release.set()
            thread.join(timeout=20)
    assert not thread.is_alive()
    assert count(engine, "SELECT count(*) FROM collector_runs WHERE status = 'ok'") == 1
    assert count(engine, "SELECT count(*) FROM events WHERE source = 'oms'") == 3


def _run_until(engine: sa.Engine, started: Any) -> threading.Thread:
    """Run a scheduler in a thread, stop it once `started()` holds, wait up to 10 s for it."""
    stop = threading.Event()
    thread = started_scheduler(engine, stop)
    try:
        assert wait_for(started)
    finally:
        stop.set()
        thread.join(timeout=10)
    return thread


def test_a_stop_ends_a_backlog_run_at_its_next_page_and_keeps_what_was_read(engine):
    with serving([routed(n) for n in range(1, 41)]) as feed:  # 20 pages of 2, 0.3 s each
        feed.delay = 0.3
        register(engine, [source(feed.url)])
        thread = _run_until(engine, lambda: len(feed.requests) >= 2)
        asked = len(feed.requests)
    assert not thread.is_alive()
    assert asked < 20  # stopped well before the backlog's end
    with engine.connect() as conn:
        status, pages, cursor = conn.execute(
            sa.text("SELECT status, pages, cursor_after FROM collector_runs WHERE source = 'oms'")
        ).one()
        stored = conn.execute(sa.text("SELECT count(*) FROM events WHERE source = 'oms'")).scalar()
        saved = conn.execute(sa.text("SELECT cursor FROM source_cursors WHERE source = 'oms'")).scalar()
    assert status == "ok" and pages in (asked, asked + 1) and 2 <= pages < 20
    assert stored == 2 * pages and int(saved) == int(cursor) == stored  # the next run goes on from there


def test_a_stop_does_not_wait_out_a_retry_backoff(engine, monkeypatch):
    monkeypatch.setenv("CTOWER_COLLECTOR_BACKOFF_SECONDS", "120")
    monkeypatch.setenv("CTOWER_COLLECTOR_BACKOFF_MAX_SECONDS", "120")
    load_settings.cache_clear()
    try:
        with serving([routed(1)]) as feed:
            feed.fail_after = 0  # every request: 503, retried after up to 120 s, 240 s, ...
            register(engine, [source(feed.url)])
            thread = _run_until(engine, lambda: len(feed.requests) >= 1)
    finally:
        load_settings.cache_clear()
    assert not thread.is_alive()
    with engine.connect() as conn:
        status, error = conn.execute(
            sa.text("SELECT status, error FROM collector_runs WHERE source = 'oms'")
        ).one()
    assert status == "failed" and error.startswith("stopped before retry 1: ") and "503" in error


def test_a_stop_cancels_a_running_detector_run_instead_of_waiting_for_it(engine, monkeypatch, caplog):
    """The detectors over a big queue take tens of seconds; they recompute what their next run
    computes again, so a stop cancels their statement and does not wait for them."""
    import logging

    import metrics.exception_queue as queue

    sleeping = threading.Event()

    def slow_detectors(on: sa.Engine, *_args: Any, **_kwargs: Any) -> dict[str, int]:
        with on.begin() as conn:
            sleeping.set()
            conn.execute(sa.text("SELECT pg_sleep(60)"))
        return {}

    monkeypatch.setattr(queue, "run_detectors", slow_detectors)
    settings = load_settings().model_copy(update={"scheduler_detect_seconds": 0.2})
    stop = threading.Event()
    caplog.set_level(logging.INFO, logger="ctower.scheduler")
    thread = started_scheduler(engine, stop, settings)
    try:
        assert sleeping.wait(20)
        time.sleep(0.3)  # in pg_sleep now
        asked = time.monotonic()
        stop.set()
        thread.join(timeout=20)
        took = time.monotonic() - asked
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive() and took < 5  # not the 60 s of the statement
    assert "the exception detectors: stopped with the scheduler" in caplog.text
    assert "the exception detectors failed" not in caplog.text


def test_the_detectors_the_outbox_and_the_past_figures_run_on_their_own_intervals(engine):
    """Without a collection: APScheduler takes an explicit next_run_time=None as "paused", and
    these three jobs were once added so, never running unless a collection asked."""
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    settings = load_settings().model_copy(
        update={"scheduler_detect_seconds": 0.5, "outbox_dispatch_seconds": 0.5, "past_figures_seconds": 0.5}
    )
    runtime = Runtime(engine, Context(clock=lambda: datetime.now(UTC)), settings=settings)
    scheduler = build_scheduler(runtime)
    ran: set[str] = set()

    def executed(event: JobExecutionEvent) -> None:
        ran.add(event.job_id)

    scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        sync_sources(runtime)  # no source registered: only the periodic jobs
        assert wait_for(lambda: ran == {"detect-exceptions", "outbox-dispatch", "past-figures"}, 15)
    finally:
        scheduler.shutdown(wait=True)
    assert count(engine, "SELECT count(*) FROM past_figures") >= 1  # this quarter hour's previous week


def test_the_outbox_and_the_detectors_are_not_queued_behind_busy_collections(engine, monkeypatch):
    """With every collection worker busy (one here, held), an approved action is still sent
    on the outbox's interval and the detectors still run: they have workers of their own."""
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    import tests.kinds_for_tests as kind

    collecting, release = threading.Event(), threading.Event()

    def hook(step: str, _conn: Any, _page: Any) -> None:
        if step == "done":
            collecting.set()
            release.wait(20)

    monkeypatch.setattr(kind, "on_hook", hook)
    settings = load_settings().model_copy(
        update={"scheduler_workers": 1, "scheduler_detect_seconds": 0.3, "outbox_dispatch_seconds": 0.3}
    )
    runtime = Runtime(engine, Context(clock=lambda: datetime.now(UTC)), settings=settings)
    scheduler = build_scheduler(runtime)
    ran: list[str] = []

    def executed(event: JobExecutionEvent) -> None:
        ran.append(event.job_id)

    scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    with serving([routed(1)]) as feed:
        register(engine, [source(feed.url)])
        scheduler.start()
        try:
            sync_sources(runtime)
            assert collecting.wait(20)  # the one collection worker is held from here
            assert wait_for(lambda: {"outbox-dispatch", "detect-exceptions"} <= set(ran), 10)
            assert "collect:oms" not in ran  # still held
        finally:
            release.set()
            scheduler.shutdown(wait=True)


def test_the_jobs_follow_the_sources_table_added_paused_and_rescheduled(engine):
    runtime = Runtime(engine, Context(clock=lambda: datetime.now(UTC)))
    scheduler = build_scheduler(runtime)  # not started: the jobs wait, nothing runs

    def jobs() -> dict[str, float]:
        return {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}

    oms = source("http://127.0.0.1:9/feed", "oms", 30)
    register(engine, [oms])
    sync_sources(runtime)
    assert jobs() == {
        "collect:oms": 30,
        "detect-exceptions": 60,
        "outbox-dispatch": 5,
        "past-figures": 300,
    }
    register(engine, [source("http://127.0.0.1:9/feed", "wms", 300)])
    sync_sources(runtime)
    assert jobs()["collect:wms"] == 300
    register(engine, [replace(oms, schedule_seconds=5)])
    pause(engine, "wms")
    sync_sources(runtime)
    assert jobs() == {
        "collect:oms": 5,
        "detect-exceptions": 60,
        "outbox-dispatch": 5,
        "past-figures": 300,
    }
    register(engine, [replace(oms, enabled=False)])
    sync_sources(runtime)
    assert "collect:oms" not in jobs()


def _scheduler_process(database_url: str, config: Path, data_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CTOWER_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(REPO),
        "CTOWER_SCHEDULER_SYNC_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "scheduler", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
    )


def test_two_scheduler_processes_never_collect_one_source_at_once(engine, database_url, tmp_path):
    with serving([routed(n) for n in range(1, 5)], page_size=1) as feed:
        feed.delay = 0.3  # a slow source: each run takes more than its 0.5 s schedule
        config = tmp_path / "sources.toml"
        config.write_text(
            f'[[source]]\nname = "oms"\nkind = "{KIND}"\nschedule = "500ms"\n'
            f'[source.options]\nurl = "{feed.url}"\n'
        )
        first = _scheduler_process(database_url, config, tmp_path / "data")
        second = _scheduler_process(database_url, config, tmp_path / "data")
        try:
            busy = wait_for(
                lambda: (
                    count(engine, "SELECT count(*) FROM collector_runs WHERE status = 'ok'") >= 4
                    and count(engine, "SELECT count(*) FROM collector_runs WHERE status = 'skipped'") >= 1
                ),
                seconds=60,
            )
        finally:
            first.send_signal(signal.SIGTERM)
            second.send_signal(signal.SIGINT)  # Ctrl-C stops as gracefully
            outputs = [process.communicate(timeout=30) for process in (first, second)]
    assert busy, outputs
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert all("stopped" in err for _out, err in outputs)
    with engine.connect() as conn:
        runs = list(
            conn.execute(
                sa.text(
                    "SELECT started_at, finished_at FROM collector_runs"
                    " WHERE source = 'oms' AND status <> 'skipped' ORDER BY started_at"
                )
            )
        )
    assert all(r.finished_at is not None for r in runs)
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at <= later.started_at
    assert count(engine, "SELECT count(*) FROM event_keys WHERE source = 'oms'") == 4


def test_a_collect_job_that_stores_events_runs_the_detectors_and_an_earlier_instant_is_tolerated(engine):
    negative = {
        "specversion": "1.0",
        "id": "pos-count-1",
        "source": "pos/store-0042",
        "type": "retail.inventory.snapshot",
        "time": "2026-11-20T10:00:00+00:00",
        "data": {"system": "pos", "location_id": "STORE-0042", "sku": "SKU-00017", "on_hand": -3},
    }
    later = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with serving([negative]) as feed:
        register(engine, [source(feed.url, "pos")])
        result = collect_source("pos", Runtime(engine, Context(clock=lambda: later)))
    assert result is not None and result.accepted == 1
    with engine.connect() as conn:
        found = list(
            conn.execute(
                sa.text("SELECT type, entity, status FROM exceptions WHERE type = 'negative_inventory'")
            )
        )
    assert [tuple(r) for r in found] == [("negative_inventory", "pos|STORE-0042|SKU-00017", "open")]
    assert detect_exceptions(engine, later - timedelta(hours=1)) is None  # the queue only moves forward
    again = detect_exceptions(engine, later)
    assert again is not None and (again["opened"], again["reopened"], again["resolved"]) == (0, 0, 0)


NEGATIVE = "SELECT entity FROM exceptions WHERE type = 'negative_inventory'"


def test_collections_in_quick_succession_run_the_detectors_once_per_interval(engine):
    def snapshot(n: int) -> dict[str, object]:
        return {
            "specversion": "1.0",
            "id": f"pos-count-{n}",
            "source": "pos/store-0042",
            "type": "retail.inventory.snapshot",
            "time": f"2026-11-20T10:0{n}:00+00:00",
            "data": {"system": "pos", "location_id": "STORE-0042", "sku": f"SKU-0001{n}", "on_hand": -n},
        }

    later = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    runtime = Runtime(engine, Context(clock=lambda: later))
    with serving([snapshot(1)]) as first:
        register(engine, [source(first.url, "pos")])
        collect_source("pos", runtime)  # new events: the detectors run
    with serving([snapshot(1), snapshot(2)]) as second:
        register(engine, [source(second.url, "pos")])
        collect_source("pos", runtime)  # new events again, but within the 60 s detector interval
    with engine.connect() as conn:
        found = set(conn.execute(sa.text(NEGATIVE)).scalars())
    assert found == {"pos|STORE-0042|SKU-00011"}  # SKU-00012 waits for the next detector run
    detect_job(runtime)
    with engine.connect() as conn:
        found = set(conn.execute(sa.text(NEGATIVE)).scalars())
    assert found == {"pos|STORE-0042|SKU-00011", "pos|STORE-0042|SKU-00012"}


def test_in_the_scheduler_a_collection_asks_for_the_detectors_as_their_own_job(engine):
    negative = {
        "specversion": "1.0",
        "id": "pos-count-9",
        "source": "pos/store-0042",
        "type": "retail.inventory.snapshot",
        "time": "2026-11-20T10:00:00+00:00",
        "data": {"system": "pos", "location_id": "STORE-0042", "sku": "SKU-00019", "on_hand": -9},
    }
    later = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    runtime = Runtime(engine, Context(clock=lambda: later))
    scheduler = build_scheduler(runtime)
    scheduler.start(paused=True)  # jobs are registered, none runs until asked
    try:
        with serving([negative]) as feed:
            register(engine, [source(feed.url, "pos")])
            sync_sources(runtime)
            collect_source("pos", runtime)
        with engine.connect() as conn:
            assert conn.execute(sa.text(NEGATIVE)).first() is None  # not run inside the collection
        # the collection only asks; the scheduler's own thread brings the job forward
        assert scheduler.get_job("detect-exceptions").next_run_time > datetime.now(UTC)
        assert bring_detectors_forward(runtime)
        assert not bring_detectors_forward(runtime)  # asked once, brought forward once
        detect = scheduler.get_job("detect-exceptions")
        assert detect.next_run_time <= datetime.now(UTC)  # due now, on a worker of its own
        for job in scheduler.get_jobs():
            if job.id != "detect-exceptions":
                job.pause()
        scheduler.resume()
        deadline = time.monotonic() + 20
        found = None
        while found is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with engine.connect() as conn:
                found = conn.execute(sa.text(NEGATIVE)).scalar()
        assert found == "pos|STORE-0042|SKU-00019"
    finally:
        scheduler.shutdown(wait=True)
