"""Exception detectors (contracts/METRICS.md, "Exceptions"): one function per type.

Each detector is a pure function of (conn, window, policies) returning the detections true
at `window.as_of`, one per entity, from `sql/detectors/<type>.sql`. The SQL lists the
entities behind the matching metric figure (through the same building blocks as
`sql/metrics/`: the SQL functions of migration 0004), so
e.g. `sla_breach` finds exactly the orders counted in the SLA figure `breached`.
metrics/exception_queue.py turns detections into the queue.

Entities (the key is `type:entity`):
- sla_breach, sla_at_risk, repeated_reroute: the order id (orders in the window);
  sla_at_risk judges each order by its channel's `at_risk_hours` where one is set.
- inventory_variance: 'location|sku|system' of a pair out of tolerance (system: the
  non-reference one); negative_inventory, stale_inventory: 'system|location|sku'.
- integration_failure: the interface, when in the hour before as_of (`[as_of - 1h,
  as_of]`) it had at least `interface_min_calls` calls and a failure rate strictly over
  `interface_failure_rate` (each the interface's own value where one is set, else the
  deployment's); and 'interface|correlation_id' for each failed delivery of the
  window (the pairs counted in `failed_deliveries`).
- delayed_events: the source (its count of delayed events in the window in `detail`).
- stale_source: the source, silent for more than `source_stale_minutes` before as_of
  (from the events' received_at <= as_of, so a replay of the past is right).
- asn_late: the shipment id; slow_return: the return id.

Severity rules (simple on purpose; in `detail` the figures that decided it):
- sla_breach: critical when not delivered and more than 24 h past the promise; high when
  not delivered; medium when delivered late (the breach stays counted, nothing to rescue).
- sla_at_risk: high when under 4 h are left before the promise, else medium.
- repeated_reroute: high at twice `repeated_reroute_count` reroutes or more, else medium.
- inventory_variance: high when |diff| is 10 units or more and over 10 % of |reference|,
  else medium. negative_inventory: high. stale_inventory: medium when the snapshot is
  more than 4 x the position's `stale_hours` (its node kind's, else the deployment's) old,
  else low.
- integration_failure: an interface is critical at a failure rate of 50 % or more, else
  high; a failed delivery is medium.
- delayed_events: medium at 100 delayed events or more, else low.
- stale_source: high.
- asn_late: medium when there was no ASN before the receipt, else low.
- slow_return: medium while still not restocked, else low.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from app.db.engine import sql_text
from metrics.params import Policies, Window

SEVERITIES = ("low", "medium", "high", "critical")  # ascending
SNAPSHOT_SYSTEMS = frozenset(("erp", "wms", "pos", "oms", "marketplace"))  # contracts/EVENTS.md


def position_of(entity: str) -> str | None:
    """The position (`SKU@LOCATION`) a position exception is about. The detectors name it
    `LOCATION|SKU|SYSTEMS` (inventory_variance) or `SYSTEM|LOCATION|SKU` (negative, stale);
    None for anything else."""
    parts = entity.split("|")
    if len(parts) != 3:
        return None
    location, sku = (parts[1], parts[2]) if parts[0] in SNAPSHOT_SYSTEMS else (parts[0], parts[1])
    return f"{sku}@{location}"


@dataclass(frozen=True)
class Detection:
    """One condition true at as_of: its stable key is `type:entity`."""

    type: str
    entity_kind: str
    entity: str
    severity: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.type}:{self.entity}"


def _json_value(value: Any) -> Any:
    """A value of a result row as JSON: instants in RFC 3339 (Z), durations in hours."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 4)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _hours(value: Any) -> float:
    return float(value.total_seconds() / 3600) if isinstance(value, timedelta) else 0.0


def _run(
    conn: Connection,
    type_: str,
    params: dict[str, Any],
    severity: Callable[[Mapping[str, Any]], str],
    entity_kind: str | Callable[[Mapping[str, Any]], str],
) -> list[Detection]:
    found = []
    for mapping in conn.execute(sql_text(f"detectors/{type_}"), params).mappings():
        row: dict[str, Any] = dict(mapping)
        detail = {k: _json_value(v) for k, v in row.items() if k not in ("entity", "entity_kind")}
        kind = entity_kind(row) if callable(entity_kind) else entity_kind
        found.append(Detection(type_, kind, str(row["entity"]), severity(row), detail))
    return found


def sla_breach(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The orders of the window counted in the SLA figure `breached`."""

    def severity(row: Mapping[str, Any]) -> str:
        if row["delivered_at"] is not None:
            return "medium"
        return "critical" if _hours(row["late_by"]) > 24 else "high"

    return _run(conn, "sla_breach", window.params(), severity, "order")


def sla_at_risk(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The orders of the window counted in the SLA figure `at_risk`."""
    params = {
        **window.params(),
        "at_risk_hours": policies.at_risk_hours,
        **policies.scoped_params("at_risk_hours"),
    }
    return _run(
        conn,
        "sla_at_risk",
        params,
        lambda row: "high" if _hours(row["time_left"]) < 4 else "medium",
        "order",
    )


def repeated_reroute(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The orders of the window counted in the reroutes figure `repeated`."""
    count = policies.repeated_reroute_count
    params = {**window.params(), "repeated_reroute_count": count}
    return _run(
        conn,
        "repeated_reroute",
        params,
        lambda row: "high" if row["reroutes"] >= 2 * count else "medium",
        "order",
    )


def _inventory_params(window: Window, policies: Policies) -> dict[str, Any]:
    return {
        "as_of": window.as_of,
        "reference_system": policies.reference_system,
        "abs_tolerance_units": policies.abs_tolerance_units,
        "pct_tolerance": policies.pct_tolerance,
        "stale_hours": policies.stale_hours,
    }


def inventory_variance(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The pairs counted in `out_of_tolerance`, entity 'location|sku|system'."""

    def severity(row: Mapping[str, Any]) -> str:
        diff = abs(row["diff"])
        return "high" if diff >= 10 and diff > Decimal("0.1") * abs(row["reference_quantity"]) else "medium"

    return _run(conn, "inventory_variance", _inventory_params(window, policies), severity, "position")


def negative_inventory(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The positions counted in `negative_positions`, entity 'system|location|sku'."""
    return _run(
        conn, "negative_inventory", _inventory_params(window, policies), lambda row: "high", "position"
    )


def stale_inventory(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The positions counted in `stale_positions`, entity 'system|location|sku'.

    Each position is judged by its own stale_hours (its node kind's, else the deployment's,
    in the row and the detail), and so is its severity.
    """
    params = {**_inventory_params(window, policies), **policies.scoped_params("stale_hours")}
    return _run(
        conn,
        "stale_inventory",
        params,
        lambda row: "medium" if _hours(row["age"]) > 4 * float(row["stale_hours"]) else "low",
        "position",
    )


def integration_failure(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """Interfaces failing in the last hour, and the window's failed deliveries."""
    params = {
        **window.params(),
        "interface_failure_rate": policies.interface_failure_rate,
        "interface_min_calls": policies.interface_min_calls,
        **policies.scoped_params("interface_failure_rate", "interface_min_calls"),
    }

    def severity(row: Mapping[str, Any]) -> str:
        if row["entity_kind"] == "delivery":
            return "medium"
        return "critical" if row["failure_rate"] >= 0.5 else "high"

    return _run(conn, "integration_failure", params, severity, lambda row: str(row["entity_kind"]))


def delayed_events(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """Sources with delayed events in the window (the count in detail)."""
    params = {**window.params(), "max_event_lag_minutes": policies.max_event_lag_minutes}
    return _run(
        conn,
        "delayed_events",
        params,
        lambda row: "medium" if row["delayed_events"] >= 100 else "low",
        "source",
    )


def stale_source(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """Sources silent for more than `source_stale_minutes` before as_of."""
    params = {"as_of": window.as_of, "source_stale_minutes": policies.source_stale_minutes}
    return _run(conn, "stale_source", params, lambda row: "high", "source")


def asn_late(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The shipments counted in inbound `asn_late`."""
    params = {**window.params(), "asn_late_hours": policies.asn_late_hours}
    return _run(conn, "asn_late", params, lambda row: "low" if row["had_asn"] else "medium", "shipment")


def slow_return(conn: Connection, window: Window, policies: Policies) -> list[Detection]:
    """The returns counted in returns `slow_returns`."""
    params = {**window.params(), "return_to_stock_hours": policies.return_to_stock_hours}
    return _run(
        conn,
        "slow_return",
        params,
        lambda row: "low" if row["restocked_at"] is not None else "medium",
        "return",
    )


Detector = Callable[[Connection, Window, Policies], list[Detection]]

# every type of contracts/METRICS.md "Exceptions", in the contract's order
DETECTORS: dict[str, Detector] = {
    "sla_breach": sla_breach,
    "sla_at_risk": sla_at_risk,
    "repeated_reroute": repeated_reroute,
    "inventory_variance": inventory_variance,
    "negative_inventory": negative_inventory,
    "stale_inventory": stale_inventory,
    "integration_failure": integration_failure,
    "delayed_events": delayed_events,
    "stale_source": stale_source,
    "asn_late": asn_late,
    "slow_return": slow_return,
}


def detect(
    conn: Connection, window: Window, policies: Policies, types: tuple[str, ...] | None = None
) -> list[Detection]:
    """The detections of the given types (default: all), in the order of DETECTORS."""
    chosen = tuple(DETECTORS) if types is None else types
    unknown = sorted(set(chosen) - set(DETECTORS))
    if unknown:
        raise ValueError(f"unknown exception types {unknown}; known: {sorted(DETECTORS)}")
    return [d for name in chosen for d in DETECTORS[name](conn, window, policies)]
