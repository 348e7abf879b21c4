"""The page facts of migration 0018, kept at ingest: call_facts (one narrow row per
integration call) and event_type_counts, give the figures their definitions give
(contracts/METRICS.md, "Integration health"), whatever order the calls arrive in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given

from app.db.engine import query_frame
from metrics import integrations
from metrics.params import Policies, Scope, Window
from tests import builders
from tests import test_metrics_reference as reference

PICK = "oms.wms.create_pick"
SHIP = "wms.carrier.book"
# the window [Nov 20, Nov 27) seen at Nov 25 00:00: calls after that are not known yet
AS_OF = datetime(2026, 11, 25, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC)
WEEK = Window.of(as_of=AS_OF, since=SINCE, until=UNTIL)


def call(
    id: str,
    time: str,
    status: str = "ok",
    *,
    latency_ms: float = 100,
    interface: str = PICK,
    source_system: str = "oms",
    correlation_id: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"interface": interface, "source_system": source_system, "target_system": "wms",
                            "status": status, "latency_ms": latency_ms}  # fmt: skip
    if correlation_id is not None:
        data["correlation_id"] = correlation_id
    return builders.event("retail.integration.call", data, id=id, source="mw", time=time, subject=None)


@pytest.fixture
def calls(ingest):
    """Five PICK calls and one SHIP call, in two batches, the later calls first."""
    ingest(builders.jsonl(
        call("c4", "2026-11-24T10:00:00Z", latency_ms=400),
        call("c5", "2026-11-26T10:00:00Z", "error", latency_ms=9000),  # after as_of: not counted
        call("c6", "2026-11-22T10:00:00Z", "timeout", interface=SHIP, latency_ms=50, source_system="wms"),
    ))  # fmt: skip
    ingest(builders.jsonl(
        call("c1", "2026-11-21T10:00:00Z", latency_ms=100),
        call("c2", "2026-11-21T11:00:00Z", latency_ms=200),
        call("c3", "2026-11-19T23:59:59Z", latency_ms=5000),  # before the window
        call("c7", "2026-11-23T10:00:00Z", "error", latency_ms=300),
    ))  # fmt: skip


def by_interface(engine, **kwargs: Any) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        frame = integrations.by_interface(conn, WEEK, Policies(), **kwargs)
    return {row["interface"]: row for row in frame.iter_rows(named=True)}


def test_per_interface_latency_percentiles_from_the_call_facts_are_exact_and_equal_those_from_events(
    engine, calls
):
    ours, events = by_interface(engine), by_interface(engine, use_projections=False)
    # PICK in the window up to as_of: 100, 200, 300, 400 -> p50 250, p95 = 300 + 0.85 * 100 = 385
    assert ours[PICK]["calls"] == 4 and ours[PICK]["failures"] == 1
    assert ours[PICK]["latency_p50_ms"] == pytest.approx(250)
    assert ours[PICK]["latency_p95_ms"] == pytest.approx(385)
    assert ours[SHIP]["calls"] == 1 and ours[SHIP]["failure_rate"] == 1.0
    assert ours == events


def test_per_interface_figures_of_one_source_keep_that_source_s_calls(engine, calls):
    ours = by_interface(engine, scope=Scope(source="wms"))
    assert list(ours) == [SHIP]
    assert ours[SHIP]["latency_p50_ms"] == pytest.approx(50)
    assert ours == by_interface(engine, scope=Scope(source="wms"), use_projections=False)


def test_a_delivery_that_failed_at_a_past_as_of_but_succeeded_later_is_failed_then(engine, ingest):
    ingest(builders.jsonl(
        call("d1", "2026-11-22T10:00:00Z", "error", correlation_id="ORD-1"),
        call("d2", "2026-11-26T10:00:00Z", "ok", correlation_id="ORD-1"),  # the retry, after as_of
        call("d3", "2026-11-23T10:00:00Z", "timeout", correlation_id="ORD-2"),
        call("d4", "2026-11-24T10:00:00Z", "ok", correlation_id="ORD-2"),  # recovered before as_of
        call("d5", "2026-11-24T11:00:00Z", "error", correlation_id=""),  # no id: no delivery
    ))  # fmt: skip
    with engine.connect() as conn:
        failed = query_frame(conn, "ui/integrations_failed_deliveries", **WEEK.params(), limit=50)
        summary = integrations.summary(conn, WEEK, Policies())
        reference = integrations.summary(conn, WEEK, Policies(), use_projections=False)
        now = Window.of(as_of=datetime(2026, 11, 27, tzinfo=UTC), since=WEEK.since, until=WEEK.until)
        failed_now = query_frame(conn, "ui/integrations_failed_deliveries", **now.params(), limit=50)
    assert failed.select("correlation_id", "last_status").rows() == [("ORD-1", "error")]
    assert summary["failed_deliveries"] == reference["failed_deliveries"] == 1
    assert failed_now.is_empty()  # by Nov 27 the retry of ORD-1 succeeded


def test_the_intake_counts_per_type_count_each_stored_event_once(engine, ingest, an_order):
    first = call("e1", "2026-11-21T10:00:00Z")
    ingest(builders.jsonl(first, call("e2", "2026-11-21T11:00:00Z"), an_order))
    ingest(builders.jsonl(first, call("e3", "2026-11-21T12:00:00Z")))  # e1 again: a duplicate
    with engine.connect() as conn:
        per_type = dict(query_frame(conn, "ui/intake_events_by_type").rows())
        totals = query_frame(conn, "ui/intake_totals").row(0, named=True)
    assert per_type == {"retail.integration.call": 3, an_order["type"]: 1}
    assert totals["events"] == 4


@reference.SETTINGS
@given(batch_size=reference.batch_sizes, events=reference.call_events(), window=reference.windows())
def test_per_interface_figures_and_failed_deliveries_are_those_of_events_on_random_calls(
    engine, ingest, batch_size, events, window
):
    reference.store(engine, ingest, events, {}, batch_size)
    with engine.connect() as conn:
        ours = integrations.by_interface(conn, window, Policies())
        events_path = integrations.by_interface(conn, window, Policies(), use_projections=False)
        listed = query_frame(conn, "ui/integrations_failed_deliveries", **window.params(), limit=1000)
        rows = conn.execute(
            sa.text(
                "SELECT interface, correlation_id, last_status, last_call_at FROM failed_deliveries("
                "CAST(:as_of AS timestamptz), CAST(:since AS timestamptz), CAST(:until AS timestamptz))"
            ),
            window.params(),
        ).all()
    assert ours.to_dicts() == events_path.to_dicts()
    assert sorted(listed.rows()) == sorted(tuple(r) for r in rows)
