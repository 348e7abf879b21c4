"""Figures as of a past instant, kept in the database once computed (migration 0021).

Every figure as of T is computed from the events with `time <= T` (contracts/METRICS.md),
so once computed it stays right until a batch stores a late event, one at or before T.
`summary()` gives `metrics.summary.compute`'s object for a window, from `past_figures`
when it was kept and no later batch has an event at or before its `as_of`, else computes it
in the same snapshot and keeps it. Nothing is approximated: a kept figure is returned only
when computing it again would give the same object.

The Overview's previous window (the trend of each tile) is the main user: it is as of a
quarter hour seven days back, the same for every viewer and every app process, and its
inventory picture is the dearest figure of the page to compute. The scheduler's
`past-figures` job (`warm`) computes the next quarter hours' previous windows before
anyone asks, and forgets figures not computed for a day (`prune`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from app.db.engine import sql_text
from metrics.params import ALL, Policies, Scope, Window
from metrics.policies import load as load_policies
from metrics.summary import compute_in

QUARTER = timedelta(minutes=15)
KEEP_FOR = timedelta(days=1)


def key(window: Window, policies: Policies, scope: Scope) -> str:
    """What a kept figure is of: the window, the scope and every policy value."""
    what = {"window": window.as_json(), "scope": scope.params(), "policies": asdict(policies)}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def summary(engine: Engine, window: Window, *, scope: Scope = ALL) -> dict[str, Any]:
    """`metrics.summary.compute(engine, window, scope=scope)` (the stored policies), kept."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            policies = load_policies(conn)
            kept_as = key(window, policies, scope)
            kept = conn.execute(sql_text("past/read"), {"key": kept_as}).scalar_one_or_none()
            if kept is not None:
                return dict(kept)
            horizon = conn.execute(sql_text("past/horizon")).scalar_one()
            figures = compute_in(conn, window, policies, scope=scope)
    figures_json = orjson.dumps(figures).decode()
    kept_row = {"key": kept_as, "as_of": window.as_of, "horizon": horizon, "figures": figures_json}
    with engine.begin() as conn:  # its own short transaction: the snapshot above only read
        conn.execute(sql_text("past/keep"), kept_row)
    return figures


def previous(window: Window) -> Window:
    """The window of the same length just before, seen from the same distance after its end.

    Its as_of is moved back by the same length, so both windows are compared like for like
    (orders of the previous window had no more time to be delivered than this one's).
    """
    length = window.until - window.since
    return Window(window.as_of - length, window.since - length, window.since)


def floored(window: Window, grain: timedelta = QUARTER) -> Window:
    """`window` moved back to the last whole `grain` of its as_of (UTC), length and distance
    kept: the live Overview's previous window, the same for a quarter hour."""
    epoch = datetime.fromtimestamp(0, window.as_of.tzinfo)
    step = (window.as_of - epoch) % grain
    return Window(window.as_of - step, window.since - step, window.until - step)


def live_previous(now: datetime, length: timedelta) -> Window:
    """The previous window the live Overview compares with at `now` (a window of `length`
    ending at `now`)."""
    return floored(previous(Window(now, now - length, now)))


def warm(engine: Engine, now: datetime, lengths: tuple[timedelta, ...], *, quarters: int = 2) -> int:
    """Compute (or find kept) the live Overview's previous windows, whole estate, for the
    quarter hour of `now` and the next `quarters - 1`; the number computed or found."""
    done = 0
    for length in lengths:
        for n in range(quarters):
            summary(engine, live_previous(now + n * QUARTER, length))
            done += 1
    return done


def prune(engine: Engine, now: datetime) -> int:
    """Forget the figures not computed for KEEP_FOR; the number forgotten."""
    with engine.begin() as conn:
        return conn.execute(sql_text("past/prune"), {"before": now - KEEP_FOR}).rowcount
