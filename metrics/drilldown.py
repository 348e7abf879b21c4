"""The entities behind a figure: the orders and positions a number counts (drill-down).

Each function lists the entities one figure of contracts/METRICS.md counts, narrowed to
the bar a user picked in one of its breakdowns, and returns `(total, frame)`: `total` is
the exact number of them (the figure itself, counted in SQL) and `frame` the first `limit`
of them. The same definitions as the figures, read from the same projections:

    sla_orders(figure="orders"|"breached"|"at_risk", channel=, node=)
        metrics.sla.summary's orders / breached / at_risk; with `channel` (`node`) the
        row of sla.by_channel (sla.by_node): its `orders` or `breached`.
    rerouted_orders(figure="rerouted"|"repeated", reason=, from_node=)
        metrics.reroutes.summary's rerouted_orders / repeated; with `reason` (`from_node`)
        the row of reroutes.by_reason (by_from_node): its `rerouted_orders`.
    inventory_pairs(figure="pairs"|"out_of_tolerance", location=, system=, category=)
        metrics.inventory.summary's pairs_compared / out_of_tolerance; with a key, the row
        of inventory.by_location / by_system / by_category.
    inventory_positions(figure="negative"|"stale", location=, system=)
        metrics.inventory.summary's negative_positions / stale_positions.

A picked key of `NONE` ("") is a breakdown's null key: orders never routed by `as_of`
(sla.by_node's null node), skus of unknown category (by_category's null category).

The `scope` (metrics.params.Scope, the shared filters) narrows too: channel (orders' created
channel), node (an order's current node; a position's location) and region (the region of
that node: data.region of its latest retail.location.upserted at or before `as_of`). The
source filter narrows nothing here yet, nor does channel narrow positions.

SQL: sql/drilldown/*.sql.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.engine import Connection

from app.db.engine import query_frame
from metrics import projections
from metrics.params import ALL, Policies, Scope, Window

if TYPE_CHECKING:
    import polars as pl

DEFAULT_LIMIT = 500
NONE = ""  # a picked breakdown key that stands for its null key (never routed, no category)

SlaList = Literal["orders", "breached", "at_risk"]
RerouteList = Literal["rerouted", "repeated"]
PairList = Literal["pairs", "out_of_tolerance"]
PositionList = Literal["negative", "stale"]

Listed = tuple[int, "pl.DataFrame"]


def _check(name: str, value: str, allowed: tuple[str, ...], limit: int) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")


def _listed(conn: Connection, query: str, params: dict[str, Any]) -> Listed:
    frame = query_frame(conn, f"drilldown/{query}", **params)
    total = int(frame["total"][0]) if frame.height else 0
    return total, frame.drop("total")


def sla_orders(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    scope: Scope = ALL,
    figure: SlaList = "breached",
    channel: str | None = None,
    node: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listed:
    """Orders of the window behind an SLA figure, latest past their promise first.

    Columns: order_id, channel, node, created_at, promised_by, delivered_at, status
    (delivered, shipped, routed or created), late_hours (hours past promised_by at
    delivery, or at as_of when not delivered; negative: time left), reroutes.
    """
    _check("figure", figure, ("orders", "breached", "at_risk"), limit)
    params = {
        **window.params(),
        **scope.params(),
        "at_risk_hours": policies.at_risk_hours,
        **policies.scoped_params("at_risk_hours"),
        "list": figure,
        "pick_channel": channel,
        "pick_node": node,
        "limit": limit,
    }
    return _listed(conn, "sla_orders", params)


def rerouted_orders(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    scope: Scope = ALL,
    figure: RerouteList = "rerouted",
    reason: str | None = None,
    from_node: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listed:
    """Orders of the window (cancelled ones too) rerouted at least once (or repeatedly),
    with a reroute of `reason` / from `from_node` when given; most reroutes first.

    Columns: order_id, channel, node, created_at, promised_by, delivered_at, status
    (cancelled, delivered, shipped, routed or created), late_hours, reroutes, reroute_path
    ("FROM → TO (reason), ..." oldest first).
    """
    _check("figure", figure, ("rerouted", "repeated"), limit)
    params = {
        **window.params(),
        **scope.params(),
        "repeated_reroute_count": policies.repeated_reroute_count,
        "list": figure,
        "pick_reason": reason,
        "pick_from_node": from_node,
        "limit": limit,
    }
    return _listed(conn, "rerouted_orders", params)


def _inventory_params(conn: Connection, window: Window, policies: Policies, scope: Scope) -> dict[str, Any]:
    found = projections.horizons(conn)
    projected = found.inventory_at(window.as_of)
    return {
        "as_of": window.as_of,
        "region": scope.region,
        "node": scope.node,
        "reference_system": policies.reference_system,
        # position_facts is the picture at as_of, else the positions are read from events
        "projected": projected,
        # ... and inventory_pairs holds its pairs for this reference system (migration 0019)
        "paired": projected and found.pairs_for(policies.reference_system),
    }


def inventory_pairs(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    scope: Scope = ALL,
    figure: PairList = "out_of_tolerance",
    location: str | None = None,
    system: str | None = None,
    category: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listed:
    """Pairs (location, sku, other system) compared with the reference system, largest
    difference first.

    Columns: position (SKU@LOCATION), location_id, sku, category, system (the other
    system), reference_quantity, quantity, diff (quantity - reference), out_of_tolerance,
    value (|diff| x unit_cost), reference_counted_at, counted_at (the snapshot times).
    """
    _check("figure", figure, ("pairs", "out_of_tolerance"), limit)
    params = {
        **_inventory_params(conn, window, policies, scope),
        "abs_tolerance_units": policies.abs_tolerance_units,
        "pct_tolerance": policies.pct_tolerance,
        "list": figure,
        "pick_location": location,
        "pick_system": system,
        "pick_category": category,
        "limit": limit,
    }
    return _listed(conn, "inventory_pairs", params)


def inventory_positions(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    scope: Scope = ALL,
    figure: PositionList = "negative",
    location: str | None = None,
    system: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Listed:
    """Positions (system, location, sku) below zero, or whose latest count is stale; the
    most negative (resp. the oldest count) first.

    Columns: position (SKU@LOCATION), location_id, sku, system, quantity,
    reference_quantity (the reference system's at the same place, null when it holds
    none), counted_at (the latest snapshot), age_hours (of that snapshot at as_of).
    """
    _check("figure", figure, ("negative", "stale"), limit)
    params = {
        **_inventory_params(conn, window, policies, scope),
        "stale_hours": policies.stale_hours,
        **policies.scoped_params("stale_hours"),
        "list": figure,
        "pick_location": location,
        "pick_system": system,
        "limit": limit,
    }
    return _listed(conn, "inventory_positions", params)
