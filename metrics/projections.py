"""Which figures the projections answer, and for which window and as_of (issue 4).

The projections (sql/migrations/0007_projections.sql) are kept current by ingest: each
batch's new events are folded in by `apply_projections` inside the batch's transaction,
with order-independent rules, so they always equal a recomputation from the stored events.
A figure is read from them only when that gives exactly the number the events give;
otherwise from the events (the SQL of migration 0004 and sql/metrics/*.sql).

Exact for ANY as_of and window (the rows keep the timestamps the figure filters on):
- SLA and reroute summaries: `order_facts` keeps the earliest created / shipped /
  delivered / cancelled times and every reroute time; the earliest event of a type at or
  before as_of is the earliest of all when that one is <= as_of.
- Returns (summary, lag) and inbound: `return_facts`, `shipment_facts` + `shipment_asns`.
- Integration calls and failures: `interface_calls_hourly` for the whole UTC hours of the
  window that end by as_of, events for the partial hours at its edges (`whole_hours`).
- Delayed events: `event_lag_hourly` likewise, when `max_event_lag_minutes` is a whole
  number of minutes from 0 to 1440 (the lag buckets); events otherwise.

Exact only when no projected event is later than as_of ("latest" pictures: their
`horizons`, an indexed max): as_of = now, or any as_of after the latest event.
- Inventory: `position_facts`, `inventory_pairs` and `product_facts`. For an earlier
  as_of, the rows not changed since as_of are still exact and the others are recomputed
  from the stock counts (sql/metrics/inventory_summary_replayed.sql). `inventory_pairs`
  (migration 0019) is built for one reference system (`pairs_for`); for another one the
  pairs are joined from position_facts.
- Failed deliveries: `delivery_facts`; otherwise events (failed_deliveries()).

So `ctower metrics` for now answers entirely from projections; replaying the past reads
events only for what changed after as_of (inventory) and for failed deliveries.
Breakdowns other than SLA by channel and by node still read events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection

from app.db.engine import sql_text

HOUR = timedelta(hours=1)
LAG_BUCKETS = 1440  # event_lag_hourly holds lags by whole minute up to this many minutes


@dataclass(frozen=True)
class Horizons:
    """The latest business time folded into each "latest picture" projection (None: empty)."""

    positions: datetime | None
    products: datetime | None
    deliveries: datetime | None
    pairs_reference: str | None = None

    def pairs_for(self, reference_system: str) -> bool:
        """inventory_pairs holds the pairs of `reference_system` (it is built for one)."""
        return self.pairs_reference == reference_system

    def inventory_at(self, as_of: datetime) -> bool:
        """position_facts and product_facts are the inventory picture at `as_of`."""
        return _not_after(self.positions, as_of) and _not_after(self.products, as_of)

    def deliveries_at(self, as_of: datetime) -> bool:
        """delivery_facts holds each (interface, correlation_id)'s latest call at `as_of`."""
        return _not_after(self.deliveries, as_of)


def _not_after(horizon: datetime | None, as_of: datetime) -> bool:
    return horizon is None or horizon <= as_of


def horizons(conn: Connection) -> Horizons:
    row = conn.execute(sql_text("projections/horizons")).one()
    return Horizons(row.positions, row.products, row.deliveries, row.pairs_reference)


def _floor_hour(t: datetime) -> datetime:
    """The UTC hour `t` is in (the rollups' date_bin('1 hour', time, '2000-01-01Z'))."""
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def whole_hours(since: datetime, until: datetime, as_of: datetime) -> tuple[datetime, datetime]:
    """The whole UTC hours [from, to) of the window `[since, until)` that end by `as_of`.

    from = since rounded up to the hour, to = min(until, as_of) rounded down; an event in
    [from, to) is in the window and not after as_of. When from >= to there is none, and
    the edges ([since, from) and [max(from, to), ...)) cover the whole window.
    """
    start = _floor_hour(since)
    if start < since:
        start += HOUR
    return start, _floor_hour(min(until, as_of))


def lag_bucket(max_event_lag_minutes: float) -> int | None:
    """The event_lag_hourly bucket from which lags exceed the policy, when it is one."""
    minutes = float(max_event_lag_minutes)
    if minutes.is_integer() and 0 <= minutes <= LAG_BUCKETS:
        return int(minutes)
    return None
