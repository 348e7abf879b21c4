"""Integration health (contracts/METRICS.md, "Integration health"), on hand-built calls.

Every test states its window explicitly. Events are ingested (received_at = now()), then
their received_at is set to their business time, so only the delay tests see any delay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from metrics import integrations
from metrics.params import Policies, Window
from tests import builders

PICK = "oms.wms.create_pick"
SHIP = "wms.carrier.book"
# the window [Nov 20, Nov 27) seen at Nov 27 12:00
AS_OF = datetime(2026, 11, 27, 12, tzinfo=UTC)
SINCE = datetime(2026, 11, 20, tzinfo=UTC)
UNTIL = datetime(2026, 11, 27, tzinfo=UTC)
WEEK = Window.of(as_of=AS_OF, since=SINCE, until=UNTIL)


def call(
    id: str,
    time: str,
    status: str = "ok",
    *,
    correlation_id: str | None = None,
    interface: str = PICK,
    latency_ms: float = 100,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "interface": interface,
        "source_system": "oms",
        "target_system": "wms",
        "status": status,
        "latency_ms": latency_ms,
    }
    if correlation_id is not None:
        data["correlation_id"] = correlation_id
    return builders.event("retail.integration.call", data, id=id, source="mw", time=time, subject=None)


def arrived_on_time(engine: Engine) -> None:
    """Pretend every stored event arrived exactly at its business time."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET received_at = time"))


def arrived_late(engine: Engine, id: str, by: timedelta) -> None:
    """Pretend event `id` arrived `by` after its business time."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE events SET received_at = time + :by WHERE id = :id"), {"id": id, "by": by}
        )


def figures(engine: Engine, window: Window, policies: Policies | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return integrations.summary(conn, window, policies or Policies())


@pytest.fixture
def stored(engine, ingest):  # type: ignore[no-untyped-def]
    """Ingest events as if each arrived at its business time."""

    def run(*events: dict[str, Any]) -> None:
        ingest(builders.jsonl(*events))
        arrived_on_time(engine)

    return run


def test_the_summary_has_exactly_the_keys_of_the_json_object(engine, stored):
    stored(call("c1", "2026-11-21T10:00:00Z"))
    assert set(figures(engine, WEEK)) == {
        "calls",
        "failures",
        "failure_rate",
        "failed_deliveries",
        "delayed_events",
    }


def test_failure_rate_is_zero_when_there_are_no_calls(engine):
    result = figures(engine, WEEK)
    assert result == {
        "calls": 0,
        "failures": 0,
        "failure_rate": 0.0,
        "failed_deliveries": 0,
        "delayed_events": 0,
    }
    assert isinstance(result["failure_rate"], float)


def test_a_retry_that_later_succeeds_is_not_a_failed_delivery_but_both_calls_count(engine, stored):
    # ORD-1 on create_pick: a timeout at 10:00, then the retry at 10:05 succeeds.
    # calls = 2, failures = 1 (the timeout), rate 1/2; latest call of (PICK, ORD-1) is ok -> 0.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "timeout", correlation_id="ORD-1"),
        call("c2", "2026-11-21T10:05:00Z", "ok", correlation_id="ORD-1"),
    )
    assert figures(engine, WEEK) == {
        "calls": 2,
        "failures": 1,
        "failure_rate": 0.5,
        "failed_deliveries": 0,
        "delayed_events": 0,
    }


def test_a_delivery_whose_latest_call_failed_is_one_failed_delivery_per_interface(engine, stored):
    # (PICK, ORD-1): ok then error -> latest is error -> failed.
    # (SHIP, ORD-1): error twice -> failed; a different interface is a different pair.
    # (PICK, ORD-2): error then ok -> not failed.
    # calls = 6, failures = 4 (the errors), failed_deliveries = 2.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "ok", correlation_id="ORD-1"),
        call("c2", "2026-11-21T11:00:00Z", "error", correlation_id="ORD-1"),
        call("c3", "2026-11-21T10:00:00Z", "error", correlation_id="ORD-1", interface=SHIP),
        call("c4", "2026-11-21T10:01:00Z", "error", correlation_id="ORD-1", interface=SHIP),
        call("c5", "2026-11-22T10:00:00Z", "error", correlation_id="ORD-2"),
        call("c6", "2026-11-22T10:01:00Z", "ok", correlation_id="ORD-2"),
    )
    result = figures(engine, WEEK)
    assert (result["calls"], result["failures"], result["failed_deliveries"]) == (6, 4, 2)
    assert result["failure_rate"] == pytest.approx(4 / 6)


def test_a_call_after_as_of_is_ignored_so_the_latest_call_at_as_of_decides(engine, stored):
    # An error at 10:00 and its successful retry at 12:00.
    # Seen at 11:00 (window [Nov 21 00:00, 11:00)): the retry has not happened yet, so
    # calls = 1, failures = 1 and the delivery is failed.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "error", correlation_id="ORD-1"),
        call("c2", "2026-11-21T12:00:00Z", "ok", correlation_id="ORD-1"),
    )
    at_eleven = Window.of(
        as_of=datetime(2026, 11, 21, 11, tzinfo=UTC),
        since=datetime(2026, 11, 21, tzinfo=UTC),
        until=datetime(2026, 11, 21, 11, tzinfo=UTC),
    )
    assert figures(engine, at_eleven)["calls"] == 1
    assert figures(engine, at_eleven)["failed_deliveries"] == 1
    # Same window seen at 12:00: the retry is outside the window (not a call of it) but it is
    # the latest call at as_of, so the delivery is no longer failed.
    at_noon = Window.of(
        as_of=datetime(2026, 11, 21, 12, tzinfo=UTC),
        since=datetime(2026, 11, 21, tzinfo=UTC),
        until=datetime(2026, 11, 21, 11, tzinfo=UTC),
    )
    result = figures(engine, at_noon)
    assert (result["calls"], result["failures"], result["failed_deliveries"]) == (1, 1, 0)


def test_a_window_reaching_past_as_of_counts_only_calls_up_to_as_of(engine, stored):
    # Window [Nov 21, Nov 22) seen at Nov 21 12:00: the 13:00 call is not known yet.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "error", correlation_id="ORD-1"),
        call("c2", "2026-11-21T13:00:00Z", "error", correlation_id="ORD-2"),
    )
    window = Window.of(
        as_of=datetime(2026, 11, 21, 12, tzinfo=UTC),
        since=datetime(2026, 11, 21, tzinfo=UTC),
        until=datetime(2026, 11, 22, tzinfo=UTC),
    )
    result = figures(engine, window)
    assert (result["calls"], result["failures"], result["failed_deliveries"]) == (1, 1, 1)


def test_calls_with_the_same_time_are_ordered_by_arrival(engine, stored):
    # Both calls of (PICK, ORD-1) carry 10:00; the ok one is ingested later (higher seq),
    # so it is the latest: not failed. The reverse pair ORD-2 (ok first, error later) is.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "error", correlation_id="ORD-1"),
        call("c2", "2026-11-21T10:00:00Z", "ok", correlation_id="ORD-1"),
        call("c3", "2026-11-21T10:00:00Z", "ok", correlation_id="ORD-2"),
        call("c4", "2026-11-21T10:00:00Z", "error", correlation_id="ORD-2"),
    )
    assert figures(engine, WEEK)["failed_deliveries"] == 1


def test_calls_without_a_correlation_id_never_form_failed_deliveries(engine, stored):
    # Three failing calls with no correlation id (absent, or empty): counted as calls and
    # failures, but no (interface, correlation_id) pair exists -> failed_deliveries = 0.
    stored(
        call("c1", "2026-11-21T10:00:00Z", "error"),
        call("c2", "2026-11-21T10:05:00Z", "timeout"),
        call("c3", "2026-11-21T10:10:00Z", "error", correlation_id=""),
    )
    assert figures(engine, WEEK) == {
        "calls": 3,
        "failures": 3,
        "failure_rate": 1.0,
        "failed_deliveries": 0,
        "delayed_events": 0,
    }


def test_the_window_includes_since_and_excludes_until(engine, stored):
    # Errors at since (in), one second before until (in), and at until (out).
    # calls = 2, failures = 2; the pair ORD-3 has its only call at until, outside the
    # window, so it is no failed delivery of this window even though its latest call failed.
    stored(
        call("c1", "2026-11-20T00:00:00Z", "error", correlation_id="ORD-1"),
        call("c2", "2026-11-26T23:59:59Z", "error", correlation_id="ORD-2"),
        call("c3", "2026-11-27T00:00:00Z", "error", correlation_id="ORD-3"),
        call("c4", "2026-11-19T23:59:59Z", "error", correlation_id="ORD-4"),
    )
    assert figures(engine, WEEK) == {
        "calls": 2,
        "failures": 2,
        "failure_rate": 1.0,
        "failed_deliveries": 2,
        "delayed_events": 0,
    }


def test_an_event_received_exactly_at_the_lag_is_not_delayed_but_one_second_more_is(engine, ingest):
    order_created = builders.event("retail.order.created", id="o1", source="oms", time="2026-11-21T10:00:00Z")
    ingest(
        builders.jsonl(
            call("on-time", "2026-11-21T10:00:00Z"),
            call("at-lag", "2026-11-21T10:00:00Z"),
            call("over-lag", "2026-11-21T10:00:00Z"),
            order_created,
            call("before-window", "2026-11-19T10:00:00Z"),
        )
    )
    # received_at - time: on-time 0, at-lag exactly 15 min (not delayed: must exceed),
    # over-lag 15 min 1 s (delayed), o1 (any type counts) a day (delayed),
    # before-window a day but outside the window (not counted). delayed_events = 2.
    arrived_on_time(engine)
    arrived_late(engine, "at-lag", timedelta(minutes=15))
    arrived_late(engine, "over-lag", timedelta(minutes=15, seconds=1))
    arrived_late(engine, "o1", timedelta(days=1))
    arrived_late(engine, "before-window", timedelta(days=1))
    assert figures(engine, WEEK)["delayed_events"] == 2
    # with a 30-minute policy only o1 is delayed
    assert figures(engine, WEEK, Policies(max_event_lag_minutes=30))["delayed_events"] == 1
    with engine.connect() as conn:
        per_source = integrations.delayed_by_source(conn, WEEK, Policies())
    # mw: over-lag; oms: o1
    assert per_source.rows() == [("mw", 1), ("oms", 1)]


def test_the_per_interface_breakdown_has_rates_and_interpolated_latency(engine, stored):
    # PICK: latencies 100, 200, 300, 400 with one error -> p50 = 250,
    #   p95 = 100 + 0.95 * 3 * 100 = 385 (linear interpolation), rate 1/4.
    # SHIP: one timeout at 50 ms -> p50 = p95 = 50, rate 1.
    stored(
        call("c1", "2026-11-21T10:00:00Z", latency_ms=100),
        call("c2", "2026-11-21T10:01:00Z", latency_ms=200),
        call("c3", "2026-11-21T10:02:00Z", "error", latency_ms=300),
        call("c4", "2026-11-21T10:03:00Z", latency_ms=400),
        call("c5", "2026-11-21T10:04:00Z", "timeout", interface=SHIP, latency_ms=50),
    )
    with engine.connect() as conn:
        frame = integrations.by_interface(conn, WEEK, Policies())
    rows = {r["interface"]: r for r in frame.to_dicts()}
    assert list(rows) == [PICK, SHIP]
    assert (rows[PICK]["calls"], rows[PICK]["failures"]) == (4, 1)
    assert rows[PICK]["failure_rate"] == pytest.approx(0.25)
    assert rows[PICK]["latency_p50_ms"] == pytest.approx(250)
    assert rows[PICK]["latency_p95_ms"] == pytest.approx(385)
    assert (rows[SHIP]["calls"], rows[SHIP]["failures"], rows[SHIP]["failure_rate"]) == (1, 1, 1.0)
    assert rows[SHIP]["latency_p50_ms"] == rows[SHIP]["latency_p95_ms"] == pytest.approx(50)
