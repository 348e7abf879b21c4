"""The impact of an incident: pure functions of its entities, its range and an instant.

An incident is about a set of entities (kind, key) and a range of business time
[range_from, range_to); its impact is worked out as of an instant `as_of` (default now:
the orders breached since are counted), from what was known then. Queries in
sql/incidents/*.sql, reading the projections of migration 0007 where they answer exactly.

Definitions (README "Incident reviews"):
- **orders of the incident**: the attached orders; the correlation ids of the attached
  deliveries; the correlation ids of calls of the attached interfaces that failed (status
  error or timeout) in the range. Of those, the ids that are orders created at or before
  as_of. `orders` counts those not cancelled at as_of (as SLA `orders` does).
- **breached** (contracts/METRICS.md, SLA): of `orders`, delivered after promised_by, or not
  delivered and as_of past promised_by.
- **units, value** of orders: sum of the lines' qty and qty × unit_price (lines of the
  order's created event; a line without unit_price adds no value and is counted in
  `unpriced_lines`); over `orders`, and over the breached ones (`breached_units`,
  `breached_value`).
- **positions** (SKU@LOCATION): units = the reference system's quantity there at as_of
  (policy reference_system, default erp; a negative quantity counts 0; no reference
  position: 0 and listed), value = units × the sku's unit_cost at as_of (0 when unknown).
- **failure windows** of an attached interface (all its calls), delivery (its interface's
  calls carrying its correlation id) or source (its collector runs): a maximal run of
  failures (failed calls; failed runs) with no success between them, within
  [range_from, min(range_to, as_of)); it starts at the first failure and ends at the next
  success, or at that end when none follows (`recovered_at` empty). A failure going on
  when the range starts (the latest call or run before it failed) opens a window at
  range_from. `down_seconds` sums the windows; `interfaces_down` counts the entities with at
  least one window. Calls use business time; collector runs the wall clock of their finish.
- **exceptions**: those about the entities (a position also by the detector's sku and
  location; an interface also by its deliveries) with first_seen < range_to and
  last_seen >= range_from.
- **actions**: audit_log rows about the entities or those exceptions with range_from <= at
  < range_to: what was done, by whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy.engine import Connection

from app.db.engine import query_frame
from metrics.params import Policies

FAILING = ("interface", "delivery", "source")


@dataclass(frozen=True)
class Impact:
    """The figures (`figures`, plain values) and the rows they come from."""

    as_of: datetime
    range_from: datetime
    range_to: datetime
    figures: dict[str, Any]
    orders: pl.DataFrame
    positions: pl.DataFrame
    windows: pl.DataFrame
    exceptions: pl.DataFrame
    actions: pl.DataFrame
    down: dict[str, float] = field(default_factory=dict)  # "kind:key" -> seconds down


def _keys(entities: Sequence[tuple[str, str]], kind: str) -> list[str]:
    return sorted({key for k, key in entities if k == kind})


def _split(keys: Sequence[str], sep: str, *, right: bool = False) -> tuple[list[str], list[str]]:
    pairs = [k.rpartition(sep) if right else k.partition(sep) for k in keys]
    return [p[0] for p in pairs], [p[2] for p in pairs]


def order_rows(
    conn: Connection,
    entities: Sequence[tuple[str, str]],
    range_from: datetime,
    range_to: datetime,
    as_of: datetime,
) -> pl.DataFrame:
    """One row per order of the incident (see the module doc), cancelled ones included."""
    interfaces, ids = _split(_keys(entities, "delivery"), "|")
    return query_frame(
        conn,
        "incidents/orders",
        orders=_keys(entities, "order"),
        delivery_interfaces=interfaces,
        delivery_ids=ids,
        interfaces=_keys(entities, "interface"),
        range_from=range_from,
        range_to=range_to,
        as_of=as_of,
    )


def position_rows(
    conn: Connection, entities: Sequence[tuple[str, str]], as_of: datetime, policies: Policies
) -> pl.DataFrame:
    """One row per attached position: the reference quantity, the units and value it counts
    for, and every system's quantity (a column per system)."""
    keys = _keys(entities, "position")
    skus, locations = _split(keys, "@", right=True)
    systems = query_frame(conn, "incidents/positions", locations=locations, skus=skus, as_of=as_of)
    rows = []
    for key, sku, location in zip(keys, skus, locations, strict=True):
        held = systems.filter((pl.col("sku") == sku) & (pl.col("location_id") == location))
        quantities = dict(zip(held["system"].to_list(), held["quantity"].to_list(), strict=True))
        cost = Decimal(held["unit_cost"][0]) if held.height else Decimal(0)
        reference = quantities.get(policies.reference_system)
        units = max(int(reference), 0) if reference is not None else 0
        rows.append(
            {
                "position": key,
                "reference_quantity": None if reference is None else int(reference),
                "units": units,
                "unit_cost": float(cost),
                "value": float(units * cost),
                "quantities": ", ".join(f"{s} {q}" for s, q in sorted(quantities.items())),
            }
        )
    schema = {
        "position": pl.String,
        "reference_quantity": pl.Int64,
        "units": pl.Int64,
        "unit_cost": pl.Float64,
        "value": pl.Float64,
        "quantities": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def failure_windows(
    conn: Connection,
    entities: Sequence[tuple[str, str]],
    range_from: datetime,
    range_to: datetime,
    as_of: datetime,
) -> pl.DataFrame:
    """The failure windows of the attached interfaces, deliveries and sources (module doc)."""
    range_end = min(range_to, as_of)
    targets = [(k, key) for k, key in sorted(set(entities)) if k in ("interface", "delivery")]
    interfaces = [key if k == "interface" else key.partition("|")[0] for k, key in targets]
    correlation = [None if k == "interface" else key.partition("|")[2] for k, key in targets]
    calls = query_frame(
        conn,
        "incidents/call_windows",
        kinds=[k for k, _ in targets],
        keys=[key for _, key in targets],
        interfaces=interfaces,
        correlation_ids=correlation,
        range_from=range_from,
        range_end=range_end,
    )
    runs = query_frame(
        conn,
        "incidents/run_windows",
        sources=_keys(entities, "source"),
        range_from=range_from,
        range_end=range_end,
    )
    frames = [f for f in (calls, runs) if f.height]
    if not frames:
        return calls.head(0) if calls.width else runs.head(0)
    return pl.concat(frames, how="vertical_relaxed").sort("entity_kind", "entity_key", "started_at")


def exception_rows(
    conn: Connection, entities: Sequence[tuple[str, str]], range_from: datetime, range_to: datetime
) -> pl.DataFrame:
    pairs = sorted(set(entities))
    return query_frame(
        conn,
        "incidents/exceptions",
        kinds=[k for k, _ in pairs],
        keys=[key for _, key in pairs],
        range_from=range_from,
        range_to=range_to,
    )


def action_rows(
    conn: Connection,
    entities: Sequence[tuple[str, str]],
    exception_keys: Sequence[str],
    range_from: datetime,
    range_to: datetime,
) -> pl.DataFrame:
    pairs = sorted(set(entities))
    return query_frame(
        conn,
        "incidents/actions",
        kinds=[k for k, _ in pairs],
        keys=[key for _, key in pairs],
        exception_keys=sorted(set(exception_keys)),
        range_from=range_from,
        range_to=range_to,
    )


def _sum(frame: pl.DataFrame, column: str) -> Any:
    return frame[column].sum() if frame.height else 0


def impact(
    conn: Connection,
    entities: Sequence[tuple[str, str]],
    range_from: datetime,
    range_to: datetime,
    *,
    as_of: datetime | None = None,
    policies: Policies | None = None,
) -> Impact:
    """Every impact figure of an incident (module doc), with the rows behind them."""
    policies = policies or Policies()
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    entities = [(k, key) for k, key in entities]
    orders = order_rows(conn, entities, range_from, range_to, as_of)
    live = orders.filter(~pl.col("cancelled")) if orders.height else orders
    breached = live.filter(pl.col("breached")) if live.height else live
    positions = position_rows(conn, entities, as_of, policies)
    windows = failure_windows(conn, entities, range_from, range_to, as_of)
    exceptions = exception_rows(conn, entities, range_from, range_to)
    actions = action_rows(
        conn, entities, exceptions["key"].to_list() if exceptions.height else [], range_from, range_to
    )
    down: dict[str, float] = {}
    for row in windows.iter_rows(named=True):
        name = f"{row['entity_kind']}:{row['entity_key']}"
        down[name] = down.get(name, 0.0) + float(row["seconds"])
    order_value = Decimal(str(_sum(live, "value") or 0))
    position_value = sum((Decimal(str(v)) for v in positions["value"].to_list()), Decimal(0))
    figures = {
        "orders": live.height,
        "breached": breached.height,
        "cancelled": orders.height - live.height,
        "units": int(_sum(live, "units") or 0),
        "value": float(order_value),
        "breached_units": int(_sum(breached, "units") or 0),
        "breached_value": float(Decimal(str(_sum(breached, "value") or 0))),
        "unpriced_lines": int(_sum(live, "unpriced_lines") or 0),
        "positions": positions.height,
        "position_units": int(_sum(positions, "units") or 0),
        "position_value": float(position_value),
        "value_affected": float(order_value + position_value),
        "failure_windows": windows.height,
        "interfaces_down": len(down),
        "down_seconds": float(sum(down.values())),
        "exceptions": exceptions.height,
        "actions": actions.height,
    }
    return Impact(
        as_of=as_of,
        range_from=range_from,
        range_to=range_to,
        figures=figures,
        orders=orders,
        positions=positions,
        windows=windows,
        exceptions=exceptions,
        actions=actions,
        down=down,
    )
