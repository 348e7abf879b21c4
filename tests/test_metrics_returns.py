"""Returns: received, restocked, slow (contracts/METRICS.md, "Inbound and returns").

Every test states its window explicitly; return_to_stock_hours is the default 48 unless told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from metrics import returns
from metrics.params import Policies, Window
from tests import builders

# the window [Nov 20, Nov 27) seen at Nov 27 12:00
AS_OF = datetime(2026, 11, 27, 12, tzinfo=UTC)
WEEK = Window.of(
    as_of=AS_OF, since=datetime(2026, 11, 20, tzinfo=UTC), until=datetime(2026, 11, 27, tzinfo=UTC)
)


def received(return_id: str, time: str) -> dict[str, Any]:
    data = {"return_id": return_id, "sku": builders.SKU, "qty": 1, "location_id": builders.STORE}
    return builders.event(
        "retail.return.received", data, id=f"{return_id}-in", source="pos", time=time, subject=None
    )


def restocked(return_id: str, time: str, id: str | None = None) -> dict[str, Any]:
    data = {"return_id": return_id, "sku": builders.SKU, "qty": 1, "location_id": builders.STORE}
    event_id = id or f"{return_id}-restock"
    return builders.event("retail.return.restocked", data, id=event_id, source="wms", time=time, subject=None)


def figures(engine: Engine, window: Window, policies: Policies | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return returns.summary(conn, window, policies or Policies())


def test_no_returns_gives_zeros(engine):
    assert figures(engine, WEEK) == {"returns": 0, "restocked": 0, "slow_returns": 0}


def test_a_return_restocked_exactly_at_48_hours_is_not_slow_and_a_second_more_is(engine, ingest):
    # R1 restocked 48 h after receipt -> not slow; R2 48 h 1 s after -> slow.
    ingest(
        builders.jsonl(
            received("R1", "2026-11-21T10:00:00Z"),
            restocked("R1", "2026-11-23T10:00:00Z"),
            received("R2", "2026-11-21T10:00:00Z"),
            restocked("R2", "2026-11-23T10:00:01Z"),
        )
    )
    assert figures(engine, WEEK) == {"returns": 2, "restocked": 2, "slow_returns": 1}
    # with a 72-hour policy neither is slow
    assert figures(engine, WEEK, Policies(return_to_stock_hours=72))["slow_returns"] == 0


def test_an_open_return_older_than_48_hours_at_as_of_is_slow_and_a_younger_one_is_not(engine, ingest):
    # as_of Nov 27 12:00. R1 received Nov 25 11:59:59 -> open 48 h 1 s -> slow.
    # R2 received Nov 25 12:00:00 -> open exactly 48 h -> not slow. R3 received Nov 26 -> not slow.
    ingest(
        builders.jsonl(
            received("R1", "2026-11-25T11:59:59Z"),
            received("R2", "2026-11-25T12:00:00Z"),
            received("R3", "2026-11-26T09:00:00Z"),
        )
    )
    assert figures(engine, WEEK) == {"returns": 3, "restocked": 0, "slow_returns": 1}


def test_a_restock_after_as_of_does_not_count_so_the_return_is_still_open(engine, ingest):
    # R1 received Nov 21 10:00, restocked Nov 21 12:00 but seen at Nov 21 11:00:
    # not restocked, open 1 h -> not slow.
    # R2 received Nov 18, restocked Nov 22 (after as_of): seen at Nov 21 11:00 it is open for
    # 3 days 11 h -> slow.
    ingest(
        builders.jsonl(
            received("R1", "2026-11-21T10:00:00Z"),
            restocked("R1", "2026-11-21T12:00:00Z"),
            received("R2", "2026-11-18T00:00:00Z"),
            restocked("R2", "2026-11-22T00:00:00Z"),
        )
    )
    seen_early = Window.of(
        as_of=datetime(2026, 11, 21, 11, tzinfo=UTC),
        since=datetime(2026, 11, 15, tzinfo=UTC),
        until=datetime(2026, 11, 21, 11, tzinfo=UTC),
    )
    assert figures(engine, seen_early) == {"returns": 2, "restocked": 0, "slow_returns": 1}
    # seen at Nov 27 12:00 over the same window: both restocked; R1 after 2 h (not slow),
    # R2 after 4 days (slow)
    seen_late = Window.of(as_of=AS_OF, since=datetime(2026, 11, 15, tzinfo=UTC), until=seen_early.until)
    assert figures(engine, seen_late) == {"returns": 2, "restocked": 2, "slow_returns": 1}


def test_only_returns_received_in_the_half_open_window_count(engine, ingest):
    # at since (in), one second before until (in), at until (out), before since (out);
    # all restocked an hour later (so none is slow).
    ingest(
        builders.jsonl(
            received("R1", "2026-11-20T00:00:00Z"),
            restocked("R1", "2026-11-20T01:00:00Z"),
            received("R2", "2026-11-26T23:59:59Z"),
            restocked("R2", "2026-11-27T00:59:59Z"),
            received("R3", "2026-11-27T00:00:00Z"),
            restocked("R3", "2026-11-27T01:00:00Z"),
            received("R4", "2026-11-19T23:59:59Z"),
            restocked("R4", "2026-11-20T00:59:59Z"),
        )
    )
    assert figures(engine, WEEK) == {"returns": 2, "restocked": 2, "slow_returns": 0}


def test_a_return_restocked_twice_counts_once_by_its_first_restock(engine, ingest):
    # R1 received Nov 21 10:00, restocked at 12:00 (2 h) and again on Nov 25 (a second
    # partial restock): one return, restocked, not slow.
    ingest(
        builders.jsonl(
            received("R1", "2026-11-21T10:00:00Z"),
            restocked("R1", "2026-11-21T12:00:00Z", id="R1-restock-1"),
            restocked("R1", "2026-11-25T12:00:00Z", id="R1-restock-2"),
        )
    )
    assert figures(engine, WEEK) == {"returns": 1, "restocked": 1, "slow_returns": 0}


def test_the_return_to_stock_lag_percentiles_are_interpolated_in_hours(engine, ingest):
    # lags 10 h, 20 h, 30 h, 40 h; R5 open (left out).
    # p50 = 25 h; p90 = 10 + 0.9 * 3 * 10 = 37 h.
    ingest(
        builders.jsonl(
            received("R1", "2026-11-21T00:00:00Z"),
            restocked("R1", "2026-11-21T10:00:00Z"),
            received("R2", "2026-11-21T00:00:00Z"),
            restocked("R2", "2026-11-21T20:00:00Z"),
            received("R3", "2026-11-21T00:00:00Z"),
            restocked("R3", "2026-11-22T06:00:00Z"),
            received("R4", "2026-11-21T00:00:00Z"),
            restocked("R4", "2026-11-22T16:00:00Z"),
            received("R5", "2026-11-21T00:00:00Z"),
        )
    )
    with engine.connect() as conn:
        lag = returns.lag_hours(conn, WEEK, Policies())
    assert lag["p50_hours"] == pytest.approx(25)
    assert lag["p90_hours"] == pytest.approx(37)


def test_the_lag_is_none_when_nothing_was_restocked(engine, ingest):
    ingest(builders.jsonl(received("R1", "2026-11-21T00:00:00Z")))
    with engine.connect() as conn:
        assert returns.lag_hours(conn, WEEK, Policies()) == {"p50_hours": None, "p90_hours": None}
