"""A plain-Python reference for the summary figures of contracts/METRICS.md.

Written from the contract text (and the decisions the metrics modules document where the
contract leaves room), never from the SQL. Every function is pure: it takes the events in
arrival order (a list of canonical event dicts, as sent), the instant `as_of`, the window
`[since, until)` and the policies, and returns the same dict as the module's `summary()`.

Decisions where the contract leaves room, as documented by the modules:
- An order's `created_at` and `promised_by` come from its earliest `retail.order.created`
  with `time <= as_of` (ties: first arrival); its delivery is its earliest `delivered`.
- Ties on time (snapshots, product upserts, calls, ASNs, routing): the later arrival wins
  for "latest", the earlier arrival for "first".
- Stale inventory is strict (`as_of - snapshot time > stale_hours`); tolerances are compared
  in exact decimals.
- A shipment's receipt is its first `retail.shipment.received` with `time <= as_of`; the
  latest ASN strictly before it is the one it is judged against. A return's receipt and
  restock are its first `received` and first `restocked` with `time <= as_of`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from metrics.params import Policies

Event = Mapping[str, Any]
HOUR = timedelta(hours=1)


def ts(text: str | datetime) -> datetime:
    """An RFC 3339 text (or a datetime) as an aware UTC datetime."""
    value = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    return value.astimezone(UTC)


def _known(events: Iterable[Event], as_of: datetime) -> list[tuple[int, datetime, Event]]:
    """(arrival index, time, event) of the events with time <= as_of, in arrival order."""
    out = []
    for seq, e in enumerate(events):
        t = ts(e["time"])
        if t <= as_of:
            out.append((seq, t, e))
    return out


def _first(items: list[tuple[int, datetime, Event]]) -> tuple[int, datetime, Event] | None:
    return min(items, key=lambda x: (x[1], x[0])) if items else None


def _latest(items: list[tuple[int, datetime, Event]]) -> tuple[int, datetime, Event] | None:
    return max(items, key=lambda x: (x[1], x[0])) if items else None


def _in(t: datetime, since: datetime, until: datetime) -> bool:
    return since <= t < until


# --- orders ---------------------------------------------------------------------------------
def _orders(events: Iterable[Event], as_of: datetime) -> dict[str, dict[str, list]]:
    """Per order id, per type suffix (created, routed, ...), its known events."""
    orders: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for seq, t, e in _known(events, as_of):
        if e["type"].startswith("retail.order."):
            orders[e["data"]["order_id"]][e["type"].removeprefix("retail.order.")].append((seq, t, e))
    return orders


def _orders_in_window(events, as_of, since, until) -> dict[str, dict[str, Any]]:
    """Order facts of the orders in the window (created_at in [since, until))."""
    out = {}
    for order_id, by_type in _orders(events, as_of).items():
        created = _first(by_type.get("created", []))
        if created is None or not _in(created[1], since, until):
            continue
        delivered = _first(by_type.get("delivered", []))
        out[order_id] = {
            "created_at": created[1],
            "promised_by": ts(created[2]["data"]["promised_by"]),
            "delivered_at": delivered[1] if delivered else None,
            "cancelled": bool(by_type.get("cancelled")),
            "shipped": bool(by_type.get("shipped")),
            "reroutes": len(by_type.get("rerouted", [])),
        }
    return out


def sla(events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies) -> dict:
    facts = _orders_in_window(events, as_of, since, until)
    orders = breached = at_risk = 0
    for f in facts.values():
        if f["cancelled"]:
            continue
        orders += 1
        if f["delivered_at"] is not None:
            is_breached = f["delivered_at"] > f["promised_by"]
        else:
            is_breached = as_of > f["promised_by"]
        breached += is_breached
        if (
            f["delivered_at"] is None
            and not is_breached
            and not f["shipped"]
            and f["promised_by"] - as_of < timedelta(hours=policies.at_risk_hours)
        ):
            at_risk += 1
    return {
        "orders": orders,
        "delivered": sum(f["delivered_at"] is not None for f in facts.values()),
        "cancelled": sum(f["cancelled"] for f in facts.values()),
        "breached": breached,
        "breach_rate": breached / orders if orders else 0.0,
        "at_risk": at_risk,
    }


def reroutes(
    events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies
) -> dict:
    facts = _orders_in_window(events, as_of, since, until)
    orders = sum(not f["cancelled"] for f in facts.values())
    rerouted_orders = sum(f["reroutes"] >= 1 for f in facts.values())
    return {
        "reroutes": sum(f["reroutes"] for f in facts.values()),
        "rerouted_orders": rerouted_orders,
        "repeated": sum(f["reroutes"] >= policies.repeated_reroute_count for f in facts.values()),
        "rate": rerouted_orders / orders if orders else 0.0,
    }


# --- inventory ------------------------------------------------------------------------------
def _dec(x: Any) -> Decimal:
    return Decimal(str(x))


def inventory(
    events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies
) -> dict:
    known = _known(events, as_of)
    snapshots: dict[tuple[str, str, str], list] = defaultdict(list)
    adjustments: dict[tuple[str, str, str], list] = defaultdict(list)
    products: dict[str, list] = defaultdict(list)
    for item in known:
        e = item[2]
        d = e["data"]
        if e["type"] == "retail.inventory.snapshot":
            snapshots[(d["system"], d["location_id"], d["sku"])].append(item)
        elif e["type"] == "retail.inventory.adjusted":
            adjustments[(d["system"], d["location_id"], d["sku"])].append(item)
        elif e["type"] == "retail.product.upserted":
            products[d["sku"]].append(item)

    quantity: dict[tuple[str, str, str], int] = {}
    stale = 0
    for key, snaps in snapshots.items():
        _, snap_time, snap = _latest(snaps)
        qty = snap["data"]["on_hand"]
        qty += sum(a[2]["data"]["delta"] for a in adjustments.get(key, []) if snap_time < a[1] <= as_of)
        quantity[key] = qty
        stale += as_of - snap_time > timedelta(hours=policies.stale_hours)

    unit_cost = {sku: _dec(_latest(items)[2]["data"]["unit_cost"]) for sku, items in products.items()}
    ref = policies.reference_system
    pairs = out = units = 0
    value = Decimal(0)
    for (system, location, sku), qty in quantity.items():
        if system == ref or (ref, location, sku) not in quantity:
            continue
        reference = quantity[(ref, location, sku)]
        diff = qty - reference
        pairs += 1
        tolerance = max(_dec(policies.abs_tolerance_units), _dec(policies.pct_tolerance) * abs(reference))
        if abs(diff) > tolerance:
            out += 1
            units += abs(diff)
            value += abs(diff) * unit_cost.get(sku, Decimal(0))
    return {
        "pairs_compared": pairs,
        "out_of_tolerance": out,
        "variance_units": units,
        "variance_value": float(value),
        "negative_positions": sum(q < 0 for q in quantity.values()),
        "stale_positions": stale,
    }


# --- integrations ---------------------------------------------------------------------------
def integrations(
    events: list[Event],
    as_of: datetime,
    since: datetime,
    until: datetime,
    policies: Policies,
    received_at: Mapping[tuple[str, str], datetime] | None = None,
) -> dict:
    """`received_at`: per (source, id), when it was stored (default: at its business time)."""
    received_at = received_at or {}
    known = _known(events, as_of)
    calls = [x for x in known if x[2]["type"] == "retail.integration.call"]
    in_window = [x for x in calls if _in(x[1], since, until)]
    failures = sum(x[2]["data"]["status"] in ("error", "timeout") for x in in_window)

    deliveries: dict[tuple[str, str], list] = defaultdict(list)
    for x in calls:
        cid = x[2]["data"].get("correlation_id")
        if cid is not None:
            deliveries[(x[2]["data"]["interface"], cid)].append(x)
    failed = 0
    for items in deliveries.values():
        if any(_in(x[1], since, until) for x in items) and _latest(items)[2]["data"]["status"] != "ok":
            failed += 1

    lag = timedelta(minutes=policies.max_event_lag_minutes)
    delayed = 0
    for _, t, e in known:
        if _in(t, since, until) and received_at.get((e["source"], e["id"]), t) - t > lag:
            delayed += 1
    return {
        "calls": len(in_window),
        "failures": failures,
        "failure_rate": failures / len(in_window) if in_window else 0.0,
        "failed_deliveries": failed,
        "delayed_events": delayed,
    }


# --- inbound and returns --------------------------------------------------------------------
def inbound(
    events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies
) -> dict:
    asns: dict[str, list] = defaultdict(list)
    receipts: dict[str, list] = defaultdict(list)
    for x in _known(events, as_of):
        if x[2]["type"] == "retail.shipment.asn":
            asns[x[2]["data"]["shipment_id"]].append(x)
        elif x[2]["type"] == "retail.shipment.received":
            receipts[x[2]["data"]["shipment_id"]].append(x)
    late = 0
    for shipment, items in receipts.items():
        _, received, _ = _first(items)
        if not _in(received, since, until):
            continue
        before = [a for a in asns.get(shipment, []) if a[1] < received]
        if not before:
            late += 1
            continue
        expected = ts(_latest(before)[2]["data"]["expected_at"])
        late += received - expected > timedelta(hours=policies.asn_late_hours)
    return {"asn_late": late}


def returns(
    events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies
) -> dict:
    received: dict[str, list] = defaultdict(list)
    restocked: dict[str, list] = defaultdict(list)
    for x in _known(events, as_of):
        if x[2]["type"] == "retail.return.received":
            received[x[2]["data"]["return_id"]].append(x)
        elif x[2]["type"] == "retail.return.restocked":
            restocked[x[2]["data"]["return_id"]].append(x)
    limit = timedelta(hours=policies.return_to_stock_hours)
    count = done = slow = 0
    for return_id, items in received.items():
        _, at, _ = _first(items)
        if not _in(at, since, until):
            continue
        count += 1
        restock = _first(restocked.get(return_id, []))
        if restock is not None:
            done += 1
            slow += restock[1] - at > limit
        else:
            slow += as_of - at > limit
    return {"returns": count, "restocked": done, "slow_returns": slow}


def returns_lag(
    events: list[Event], as_of: datetime, since: datetime, until: datetime, policies: Policies
) -> dict:
    """Return-to-stock lag in hours, p50 and p90 (linear interpolation), None without any."""
    received: dict[str, list] = defaultdict(list)
    restocked: dict[str, list] = defaultdict(list)
    for x in _known(events, as_of):
        if x[2]["type"] == "retail.return.received":
            received[x[2]["data"]["return_id"]].append(x)
        elif x[2]["type"] == "retail.return.restocked":
            restocked[x[2]["data"]["return_id"]].append(x)
    lags = []
    for return_id, items in received.items():
        _, at, _ = _first(items)
        restock = _first(restocked.get(return_id, []))
        if _in(at, since, until) and restock is not None:
            lags.append((restock[1] - at) / HOUR)
    return {"p50_hours": percentile_cont(lags, 0.5), "p90_hours": percentile_cont(lags, 0.9)}


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
