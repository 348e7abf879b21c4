"""The collector runner: one run of one source, against a real HTTP feed and a real store."""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from collectors.base import Context, SourceConfig
from collectors.config import pause, register, resume
from collectors.runner import Retry, collect_all, run_once, source_lock
from tests.kinds_for_tests import FeedServer, serving

KIND = "tests.kinds_for_tests"
NO_WAIT = Retry(attempts=3, base=0.5, factor=2.0, cap=30.0)


class Clock:
    """A fake clock: 2026-11-20 12:00 UTC, one second later at each reading."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Highest(random.Random):
    """Full jitter at its upper bound, so the backoff's growth shows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def routed(n: int) -> dict[str, str]:
    return {"order": f"ORD-{n:06d}", "node": "STORE-0042", "at": f"2026-11-20T10:{n:02d}:00+00:00"}


def source(server: FeedServer | str, name: str = "oms") -> SourceConfig:
    url = server if isinstance(server, str) else server.url
    return SourceConfig(name=name, kind=KIND, options={"url": url}, system="oms")


def run(engine: sa.Engine, src: SourceConfig, sleeps: list[float] | None = None, **kw: Any) -> Any:
    waits = sleeps if sleeps is not None else []
    return run_once(engine, src, Context(clock=Clock()), sleep=waits.append, retry=NO_WAIT, **kw)


def scalar(engine: sa.Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def stored_orders(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT order_id FROM events WHERE source = 'oms' ORDER BY 1")).scalars()
        )


def cursor(engine: sa.Engine, name: str = "oms") -> Any:
    return scalar(engine, "SELECT cursor FROM source_cursors WHERE source = :s", s=name)


def telemetry(engine: sa.Engine, name: str = "oms") -> list[tuple[str, Any, Any, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT data->>'status', (data->>'http_status')::int, (data->>'attempt')::int,"
                " data->>'error_code' FROM events"
                " WHERE type = 'retail.integration.call' AND interface = :i ORDER BY time"
            ),
            {"i": f"ctower.collect.{name}"},
        )
        return [tuple(r) for r in rows]


def test_a_run_stores_the_events_and_moves_the_cursor(engine):
    with serving([routed(n) for n in range(1, 6)], page_size=2) as feed:
        result = run(engine, source(feed))
    assert (result.status, result.pages, result.read, result.accepted) == ("ok", 3, 5, 5)
    assert stored_orders(engine) == [f"ORD-{n:06d}" for n in range(1, 6)]
    assert cursor(engine) == 5
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM collector_runs")).one()
        health = conn.execute(sa.text("SELECT * FROM source_health")).one()
    assert (row.status, row.pages, row.read, row.accepted) == ("ok", 3, 5, 5)
    assert (row.cursor_before, row.cursor_after) == (None, 5)
    assert (health.status, health.consecutive_failures) == ("up", 0)
    assert health.last_event_time == datetime(2026, 11, 20, 10, 5, tzinfo=UTC)


def test_running_twice_stores_nothing_twice(engine):
    with serving([routed(n) for n in range(1, 6)]) as feed:
        first = run(engine, source(feed))
        second = run(engine, source(feed))
        with engine.begin() as conn:  # forget the cursor: everything is read again
            conn.execute(sa.text("DELETE FROM source_cursors"))
        third = run(engine, source(feed))
    assert (first.accepted, second.read, second.accepted) == (5, 0, 0)
    assert (third.read, third.accepted, third.duplicate) == (5, 0, 5)
    assert len(stored_orders(engine)) == 5


def test_an_outage_mid_run_then_recovery_loses_nothing_and_duplicates_nothing(engine):
    with serving([routed(n) for n in range(1, 8)], page_size=2) as feed:
        feed.fail_after = 4  # pages 1 and 2 answer, then 503 for good
        sleeps: list[float] = []
        failed = run(engine, source(feed), sleeps)
        assert failed.status == "failed" and "gave up after 3 attempts" in (failed.error or "")
        assert "HTTP 503" in (failed.error or "")
        assert stored_orders(engine) == [f"ORD-{n:06d}" for n in range(1, 5)]
        assert cursor(engine) == 4  # never ahead of the stored rows
        assert len(sleeps) == 2
        feed.fail_after = None
        recovered = run(engine, source(feed))
    assert (recovered.status, recovered.read, recovered.accepted, recovered.cursor_before) == ("ok", 3, 3, 4)
    assert stored_orders(engine) == [f"ORD-{n:06d}" for n in range(1, 8)]
    assert cursor(engine) == 7


def test_a_feed_that_goes_away_after_two_pages_is_read_on_from_its_cursor_when_it_is_back(engine):
    feed = FeedServer([routed(n) for n in range(1, 8)], page_size=2).start()
    port = int(feed.url.split(":")[2].split("/")[0])
    src = source(feed)

    class StopAfterTwoPages(random.Random):
        pass

    try:
        # the server stops while the run is between pages: the third page is refused
        original = feed.answer

        def answer_then_stop(after: int) -> tuple[int, Any]:
            status, body = original(after)
            if after == 2:
                threading.Thread(target=feed.stop).start()
            return status, body

        feed.answer = answer_then_stop  # type: ignore[method-assign]
        failed = run(engine, src)
        assert failed.status == "failed" and failed.pages == 2
        assert cursor(engine) == 4
        feed = FeedServer(feed.records, page_size=2).start(port=port)
        recovered = run(engine, src)
    finally:
        feed.stop()
    assert (recovered.status, recovered.accepted) == ("ok", 3)
    assert stored_orders(engine) == [f"ORD-{n:06d}" for n in range(1, 8)]
    assert scalar(engine, "SELECT count(*) FROM event_keys WHERE source = 'oms'") == 7


def test_transient_errors_are_retried_with_a_growing_backoff(engine):
    sleeps: list[float] = []
    with serving([routed(1)]) as feed:
        feed.fail_next = [503, 503, 429]
        result = run_once(
            engine,
            source(feed),
            Context(clock=Clock()),
            sleep=sleeps.append,
            rng=Highest(),
            retry=Retry(attempts=4, base=0.5, factor=2.0, cap=1.5),
        )
    assert (result.status, result.attempts, result.accepted) == ("ok", 4, 1)
    assert sleeps == [0.5, 1.0, 1.5]  # 0.5, 1.0, then 2.0 capped at 1.5


def test_full_jitter_waits_somewhere_below_the_exponential_bound():
    retry = Retry(attempts=5, base=1.0, factor=3.0, cap=100.0)
    rng = random.Random(7)
    for retry_no, bound in ((1, 1.0), (2, 3.0), (3, 9.0), (4, 27.0)):
        waits = [retry.delay(retry_no, rng) for _ in range(200)]
        assert all(0 <= w <= bound for w in waits)
        assert max(waits) > bound * 0.8


def test_a_source_that_keeps_failing_is_marked_down_and_the_others_still_run(engine, caplog):
    with serving([routed(1), routed(2)]) as feed:
        dead = FeedServer().start()
        dead_url = dead.url
        dead.stop()  # nothing listens there any more: connection refused
        sources = [source(dead_url, "broken"), source(feed)]
        caplog.set_level(logging.ERROR, logger="ctower.collectors")
        rounds = [
            collect_all(engine, sources, Context(clock=Clock()), sleep=lambda s: None, retry=NO_WAIT)
            for _ in range(4)
        ]
    assert [[r.status for r in results] for results in rounds] == [["failed", "ok"]] * 4
    with engine.connect() as conn:
        health = {r.source: r for r in conn.execute(sa.text("SELECT * FROM source_health"))}
    assert (health["broken"].status, health["broken"].consecutive_failures) == ("down", 4)
    assert "gave up after 3 attempts" in health["broken"].last_error
    assert (health["oms"].status, health["oms"].consecutive_failures) == ("up", 0)
    assert len(stored_orders(engine)) == 2
    down_lines = [r.getMessage() for r in caplog.records if "is down" in r.getMessage()]
    assert len(down_lines) == 1 and down_lines[0].startswith("source broken is down: 3 failed runs in a row")


def test_a_source_that_recovers_is_up_again_with_no_failures(engine):
    with serving([routed(1)]) as feed:
        feed.fail_next = [503] * 6  # two runs of three attempts
        run(engine, source(feed))
        run(engine, source(feed))
        assert scalar(engine, "SELECT consecutive_failures FROM source_health") == 2
        assert scalar(engine, "SELECT status FROM source_health") == "never"
        run(engine, source(feed))
    assert scalar(engine, "SELECT status || ' ' || consecutive_failures FROM source_health") == "up 0"


def test_unmappable_records_are_quarantined_with_mapping_reasons_and_the_counts_balance(engine):
    records: list[Any] = [routed(1), {"order": "ORD-BAD"}, routed(2), "not a record", routed(3)]
    with serving(records, page_size=5) as feed:
        result = run(engine, source(feed))
    assert (result.read, result.accepted, result.duplicate, result.quarantined) == (5, 3, 0, 2)
    assert result.read == result.accepted + result.duplicate + result.quarantined
    with engine.connect() as conn:
        rows = list(conn.execute(sa.text("SELECT source, reason, raw FROM quarantine ORDER BY record_no")))
        batches = conn.execute(
            sa.text(
                "SELECT sum(received), sum(accepted), sum(quarantined) FROM ingest_batches WHERE run_id = :r"
            ),
            {"r": result.run_id},
        ).one()
    assert [r.reason for r in rows] == ["mapping: a routed order needs order, node and at"] * 2
    assert [r.source for r in rows] == ["oms", "oms"]
    assert [r.raw for r in rows] == ['{"order":"ORD-BAD"}', "not a record"]
    assert tuple(batches) == (6, 4, 2)  # and the one telemetry event of the single fetch


def test_every_fetch_attempt_is_stored_as_an_integration_call(engine):
    with serving([routed(1), routed(2), routed(3)], page_size=2) as feed:
        feed.fail_next = [503]
        result = run(engine, source(feed))
    assert result.status == "ok" and result.telemetry == 3
    assert telemetry(engine) == [("error", 503, 1, "http_503"), ("ok", 200, 2, None), ("ok", 200, 1, None)]
    with engine.connect() as conn:
        call = conn.execute(
            sa.text("SELECT source, data FROM events WHERE type = 'retail.integration.call' LIMIT 1")
        ).one()
    assert call.source == "ctower/collector"
    assert (call.data["source_system"], call.data["target_system"]) == ("oms", "ctower")
    assert call.data["latency_ms"] >= 0


def test_the_attempts_of_a_failed_run_are_stored_too(engine):
    with serving([routed(1)]) as feed:
        feed.fail_next = [503, 503, 404]  # a 404 is not worth retrying
        result = run(engine, source(feed))
    assert result.status == "failed" and "HTTP 404" in (result.error or "")
    assert result.attempts == 3
    assert telemetry(engine) == [
        ("error", 503, 1, "http_503"),
        ("error", 503, 2, "http_503"),
        ("error", None, 3, "source_error"),  # SourceError carries no status (collectors/base.py)
    ]
    assert stored_orders(engine) == []


def test_two_runs_of_one_source_at_once_never_overlap_one_is_skipped(engine):
    with serving([routed(n) for n in range(1, 5)], page_size=1) as feed:
        feed.delay = 0.3
        results: list[Any] = []
        first = threading.Thread(target=lambda: results.append(run(engine, source(feed))))
        first.start()
        deadline = time.monotonic() + 10
        while not feed.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        second = run(engine, source(feed))
        first.join()
    assert second.status == "skipped"
    assert results[0].status == "ok" and results[0].accepted == 4
    with engine.connect() as conn:
        statuses = sorted(conn.execute(sa.text("SELECT status FROM collector_runs")).scalars())
    assert statuses == ["ok", "skipped"]
    assert len(stored_orders(engine)) == 4


def test_a_source_whose_lock_is_held_elsewhere_is_skipped_and_nothing_is_read(engine):
    with serving([routed(1)]) as feed, source_lock(engine, "oms") as taken:
        assert taken
        result = run(engine, source(feed))
        assert feed.requests == []
    assert result.status == "skipped"
    assert scalar(engine, "SELECT error FROM collector_runs") == "another run of this source holds its lock"


def test_a_paused_source_is_not_run_until_it_is_resumed(engine):
    with serving([routed(1)]) as feed:
        register(engine, [source(feed)])
        assert pause(engine, "oms")
        paused = run(engine, source(feed))
        assert paused.status == "paused" and feed.requests == []
        assert scalar(engine, "SELECT status FROM source_health") == "paused"
        assert resume(engine, "oms")
        assert scalar(engine, "SELECT status FROM source_health") == "never"
        resumed = run(engine, source(feed))
    assert resumed.status == "ok" and resumed.accepted == 1
    assert scalar(engine, "SELECT status FROM source_health") == "up"


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted_by_the_next(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO collector_runs (run_id, source, started_at, status)"
                " VALUES (gen_random_uuid(), 'oms', now(), 'running')"
            )
        )
    with serving([routed(1)]) as feed:
        run(engine, source(feed))
    with engine.connect() as conn:
        rows = list(conn.execute(sa.text("SELECT status, error FROM collector_runs ORDER BY started_at")))
    assert [r.status for r in rows] == ["failed", "ok"] or [r.status for r in rows] == ["ok", "failed"]
    assert any((r.error or "").startswith("interrupted") for r in rows)


def test_settle_runs_in_the_transaction_that_moves_the_cursor_and_done_after_it_commits(engine, monkeypatch):
    import tests.kinds_for_tests as kind

    seen: list[tuple[str, Any, Any, Any]] = []

    def hook(name: str, conn: Any, page: Any) -> None:
        inside = conn.execute(sa.text("SELECT cursor FROM source_cursors")).scalar() if conn else None
        seen.append((name, page.next_cursor, inside, cursor(engine)))  # cursor(): another connection

    monkeypatch.setattr(kind, "on_hook", hook)
    with serving([routed(1), routed(2), routed(3)], page_size=2) as feed:
        run(engine, source(feed), group_records=1)  # each page in a transaction of its own
    assert seen == [
        ("settle", 2, 2, None),  # saved in this transaction, not visible outside yet
        ("done", 2, None, 2),  # committed
        ("settle", 3, 3, 2),
        ("done", 3, None, 3),
    ]


def test_small_pages_are_stored_together_in_one_transaction_with_the_last_cursor(engine, monkeypatch):
    import tests.kinds_for_tests as kind

    seen: list[tuple[str, Any, Any, Any]] = []

    def hook(name: str, conn: Any, page: Any) -> None:
        inside = conn.execute(sa.text("SELECT cursor FROM source_cursors")).scalar() if conn else None
        seen.append((name, page.next_cursor, inside, cursor(engine)))

    monkeypatch.setattr(kind, "on_hook", hook)
    with serving([routed(1), routed(2), routed(3)], page_size=2) as feed:
        result = run(engine, source(feed), group_records=10)
    # both pages (2 + 1 records) in one transaction: each page settled inside it, with the
    # last page's cursor; nothing visible outside until the commit; then done for each page
    assert seen == [
        ("settle", 2, 3, None),
        ("settle", 3, 3, None),
        ("done", 2, None, 3),
        ("done", 3, None, 3),
    ]
    assert (result.pages, result.accepted) == (2, 3)
    assert scalar(engine, "SELECT count(*) FROM ingest_batches WHERE run_id = :r", r=result.run_id) == 1


def test_a_run_out_of_time_stops_after_its_page_and_the_next_run_goes_on_from_the_cursor(engine):
    with serving([routed(1), routed(2), routed(3), routed(4), routed(5)], page_size=2) as feed:
        first = run(engine, source(feed), max_seconds=0)  # no time for a second page
        assert (first.status, first.pages, first.accepted, cursor(engine)) == ("ok", 1, 2, 2)
        rest = run(engine, source(feed))
    assert (rest.pages, rest.accepted, rest.duplicate) == (2, 3, 0)
    assert scalar(engine, "SELECT count(*) FROM events WHERE source = 'oms'") == 5
