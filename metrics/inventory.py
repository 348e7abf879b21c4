"""Inventory variance (contracts/METRICS.md, "Inventory variance").

A picture at `as_of`: the window does not apply. A position is (system, location_id, sku)
with the quantity of its latest snapshot at or before `as_of` plus the same system's later
adjustments up to `as_of`; the reference system's positions are compared with every other
system's at the same location and sku. The SQL is in `sql/metrics/inventory_*.sql`.

Scope (metrics/scoping.py): node = the position's location, region = that location's
region at `as_of` (a pair is at one location, so both of its positions are in or out);
channel and source do not apply.

Decisions where METRICS.md leaves room (also written in the SQL):
- Ties on time (two snapshots, or two product upserts, at the same instant): the later
  arrival (`seq`) wins. An adjustment at exactly the snapshot's time is not added (the
  contract's `snapshot time < time`).
- Stale is strict: `as_of - snapshot time > stale_hours`; a snapshot exactly `stale_hours`
  old is not stale. A position's stale_hours is its node kind's own value when one is set
  (`Policies.scoped`; the kind of its location's latest `retail.location.upserted` at or
  before `as_of`), else the deployment's (also when the location's kind is unknown).
- Tolerances are compared in exact decimals (so 5% of 100 is exactly 5).
- Breakdowns group pairs only (negative and stale positions are summary figures); by
  system means the pair's other system; an sku with no known category has category null.

The summary is read from the projections position_facts, inventory_pairs and product_facts
(inventory_summary_projected.sql) when they are the picture at `as_of`: no projected
snapshot, adjustment or product upsert later than `as_of` (metrics/projections.py). For
an earlier `as_of` (replay), the rows unchanged since `as_of` still are, and the others are
recomputed from the stock counts (inventory_summary_replayed.sql). inventory_pairs (the
pairs kept at ingest, sql/migrations/0019_inventory_pairs.sql) is built for one reference
system: for another `reference_system` policy the pairs are joined from position_facts
(`paired` false). With `use_projections=False`, everything is read from the events
(inventory_summary.sql).

`figures()` gives the summary and the three breakdowns from ONE query over the pairs (the
Inventory page): from the projections at the latest picture (inventory_figures_projected.sql),
and for an earlier `as_of` from the projected rows still true then plus the changed ones
recomputed from the stock counts (inventory_figures_replayed.sql). `breakdown()` reads it too;
with `use_projections=False` it reads the events (inventory_breakdown.sql).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.engine import Connection

from app.db.engine import query_frame, sql_text
from metrics import projections
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl

SUMMARY_KEYS = (
    "pairs_compared",
    "out_of_tolerance",
    "variance_units",
    "variance_value",
    "negative_positions",
    "stale_positions",
)
Dimension = Literal["location", "system", "category"]
_KEY_COLUMN: dict[str, str] = {"location": "location_id", "system": "system", "category": "category"}


def _params(window: Window, policies: Policies, scope: Scope = ALL) -> dict[str, Any]:
    return {
        "as_of": window.as_of,
        "region": scope.region,
        "node": scope.node,
        "reference_system": policies.reference_system,
        "abs_tolerance_units": policies.abs_tolerance_units,
        "pct_tolerance": policies.pct_tolerance,
        "stale_hours": policies.stale_hours,
    }


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """The six summary figures of the `inventory` key of `ctower metrics --json`."""
    params = {**_params(window, policies, scope), **policies.scoped_params("stale_hours")}
    if not use_projections:
        query = "metrics/inventory_summary"
    else:
        found = projections.horizons(conn)
        params["paired"] = found.pairs_for(policies.reference_system)
        if found.inventory_at(window.as_of):
            query = "metrics/inventory_summary_projected"
        else:
            query = "metrics/inventory_summary_replayed"
        conn.execute(sql_text("metrics/work_mem"))  # the pairs and positions hashed in memory
    row = conn.execute(sql_text(query), params).mappings().one()
    out: dict[str, Any] = {key: int(row[key]) for key in SUMMARY_KEYS if key != "variance_value"}
    out["variance_value"] = float(row["variance_value"])
    return {key: out[key] for key in SUMMARY_KEYS}


def _typed(frame: pl.DataFrame, dimension: str) -> pl.DataFrame:
    import polars as pl

    return (
        frame.select("key", "pairs_compared", "out_of_tolerance", "variance_units", "variance_value")
        .cast(
            {
                "key": pl.Utf8,
                "pairs_compared": pl.Int64,
                "out_of_tolerance": pl.Int64,
                "variance_units": pl.Int64,
                "variance_value": pl.Float64,
            }
        )
        .rename({"key": _KEY_COLUMN[dimension]})
    )


def figures(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> dict[str, Any]:
    """The summary (`summary()`'s dict) and the breakdowns ("location", "system",
    "category": `breakdown()`'s frames), computed together in one query; "replayed" is True
    when the projections are not the picture at `as_of` (positions changed since were
    recomputed from the stock counts: the slower, exact path)."""
    import polars as pl

    params = {**_params(window, policies, scope), **policies.scoped_params("stale_hours")}
    found = projections.horizons(conn)
    params["paired"] = found.pairs_for(policies.reference_system)
    latest = found.inventory_at(window.as_of)
    conn.execute(sql_text("metrics/work_mem"))  # the pairs sorted and hashed in memory
    frame = query_frame(conn, f"metrics/inventory_figures_{'projected' if latest else 'replayed'}", **params)
    whole = frame.filter(pl.col("dimension") == "all").row(0, named=True)
    summary: dict[str, Any] = {key: int(whole[key]) for key in SUMMARY_KEYS if key != "variance_value"}
    summary["variance_value"] = float(whole["variance_value"])
    out: dict[str, Any] = {"summary": {key: summary[key] for key in SUMMARY_KEYS}, "replayed": not latest}
    for dimension in _KEY_COLUMN:
        out[dimension] = _typed(frame.filter(pl.col("dimension") == dimension), dimension)
    return out


def breakdown(
    conn: Connection,
    window: Window,
    policies: Policies,
    dimension: Dimension,
    *,
    scope: Scope = ALL,
    use_projections: bool = True,
) -> pl.DataFrame:
    """Pair figures per location, per (other) system or per sku category, one row per key."""
    if dimension not in _KEY_COLUMN:
        raise ValueError(f"dimension must be one of {sorted(_KEY_COLUMN)}, not {dimension!r}")
    if use_projections:
        frame: pl.DataFrame = figures(conn, window, policies, scope=scope)[dimension]
        return frame
    frame = query_frame(
        conn, "metrics/inventory_breakdown", dimension=dimension, **_params(window, policies, scope)
    )
    return _typed(frame, dimension)


def by_location(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> pl.DataFrame:
    """Columns location_id, pairs_compared, out_of_tolerance, variance_units, variance_value."""
    return breakdown(conn, window, policies, "location", scope=scope)


def by_system(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> pl.DataFrame:
    """Columns system (the non-reference system of each pair) and the pair figures."""
    return breakdown(conn, window, policies, "system", scope=scope)


def by_category(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> pl.DataFrame:
    """Columns category (null when the sku's category is unknown) and the pair figures."""
    return breakdown(conn, window, policies, "category", scope=scope)
