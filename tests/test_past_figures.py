"""Past figures are kept once computed and stay right (metrics.past, migration 0021).

A window's figures as of a past instant come from the events at or before it only, so a
kept copy is served until a batch stores a late event (one at or before its as_of); then
they are computed again. The week is tests/test_metrics_sla.py's: window 16-23 Nov, as of
25 Nov 12:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from metrics import past
from metrics.params import Window
from metrics.policies import set_policy
from metrics.summary import compute
from tests.builders import jsonl
from tests.test_metrics_sla import AS_OF, WINDOW, created, happened


def kept(engine: Engine) -> list[tuple[datetime, int]]:
    """(as_of, horizon) of every kept figure."""
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.text("SELECT as_of, horizon FROM past_figures ORDER BY as_of"))
        ]


def on_time(order: str, day: int) -> list[dict]:
    at = datetime(2026, 11, day, 9, tzinfo=UTC)
    return [created(order, at, at + timedelta(days=2)), happened("delivered", order, at + timedelta(days=1))]


def test_a_past_window_is_computed_once_then_served_until_a_late_event_changes_it(engine: Engine, ingest):
    ingest(jsonl(*on_time("A", 17)))

    first = past.summary(engine, WINDOW)
    assert first == compute(engine, WINDOW)
    assert first["sla"]["orders"] == 1
    [(as_of, horizon)] = kept(engine)
    assert as_of == AS_OF

    # an order created after as_of: not in this picture, so the kept figures are served
    ingest(jsonl(*on_time("Z", 26)))
    assert past.summary(engine, WINDOW) == first
    assert kept(engine) == [(AS_OF, horizon)]

    # a late event: an order created on 18 Nov, in the window, stored now
    ingest(jsonl(*on_time("B", 18)))
    again = past.summary(engine, WINDOW)
    assert again["sla"]["orders"] == 2
    assert again == compute(engine, WINDOW)
    [(_, later)] = kept(engine)
    assert later > horizon


def test_an_event_exactly_at_as_of_counts_as_late(engine: Engine, ingest):
    made = datetime(2026, 11, 20, 9, tzinfo=UTC)
    ingest(jsonl(*on_time("A", 17), created("C", made, made + timedelta(days=1))))
    assert past.summary(engine, WINDOW)["sla"]["delivered"] == 1

    # C delivered exactly at as_of, stored alone: in the picture as of AS_OF (time <= as_of)
    ingest(jsonl(happened("delivered", "C", AS_OF)))
    figures = past.summary(engine, WINDOW)

    assert (figures["sla"]["delivered"], figures["sla"]["breached"]) == (2, 1)
    assert figures == compute(engine, WINDOW)


def test_other_policies_are_other_figures(engine: Engine, ingest):
    # C: promised 12 h after as_of, not shipped: at risk with 24 h, not with 6 h
    made = datetime(2026, 11, 20, tzinfo=UTC)
    ingest(jsonl(created("C", made, AS_OF + timedelta(hours=12))))
    assert past.summary(engine, WINDOW)["sla"]["at_risk"] == 1

    with engine.begin() as conn:
        set_policy(conn, "at_risk_hours", 6, reason="quiet week", actor="manager")

    assert past.summary(engine, WINDOW)["sla"]["at_risk"] == 0
    assert len(kept(engine)) == 2

    # an override for C's channel only (web): another figure again
    with engine.begin() as conn:
        web = {"scope": "channel", "scope_value": "web"}
        set_policy(conn, "at_risk_hours", 24, reason="peak", actor="manager", **web)

    assert past.summary(engine, WINDOW)["sla"]["at_risk"] == 1
    assert len(kept(engine)) == 3


def test_warming_makes_this_and_the_next_quarter_hours_previous_windows_ready(engine: Engine, ingest):
    ingest(jsonl(*on_time("A", 17)))
    now = datetime(2026, 11, 24, 9, 7, 30, tzinfo=UTC)

    assert past.warm(engine, now, (timedelta(days=7),)) == 2

    # the live Overview at 09:07:30 compares with the 7 days before 09:00 a week earlier;
    # a quarter hour later, with the 7 days before 09:15
    assert [as_of for as_of, _ in kept(engine)] == [
        datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 17, 9, 15, tzinfo=UTC),
    ]
    assert past.live_previous(now, timedelta(days=7)) == past.floored(
        past.previous(Window(now, now - timedelta(days=7), now))
    )


def test_figures_not_computed_for_a_day_are_forgotten(engine: Engine, ingest):
    ingest(jsonl(*on_time("A", 17)))
    past.summary(engine, WINDOW)
    now = datetime.now(UTC)

    assert past.prune(engine, now) == 0
    assert past.prune(engine, now + timedelta(days=1, minutes=1)) == 1
    assert kept(engine) == []


def test_a_batch_of_duplicates_notes_no_horizon(engine: Engine, ingest):
    events = on_time("A", 17)
    ingest(jsonl(*events))
    ingest(jsonl(*events))  # the same events again: nothing stored

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT earliest FROM batch_horizons")).scalars().all()
    assert rows == [datetime(2026, 11, 17, 9, tzinfo=UTC)]
