"""The timeline of one entity across systems (issue 5, the entity detail page; issue 7).

`timeline(conn, kind, key)` gives every event of one order, shipment, position
(`SKU@LOCATION`), return, interface or source, from every system, in business-time order
(`time`, then arrival `seq`), with a one-line summary of each, the gap since the one before,
and whether it arrived late; the entities related to it (as (kind, key) the page can link);
the exceptions raised and cleared for it; and the manual actions of the audit log. Events
with `time <= as_of` only, so a replay shows what was known then.

Late (two reasons, either marks it):
- `lag`: it arrived (received_at) more than the policy `max_event_lag_minutes` after it
  happened (time): the rule of `delayed_events` in contracts/METRICS.md;
- `out of order`: it arrived after an event of this timeline that happened later (a later
  time with an earlier received_at): the timeline was once told out of order.

Which events belong to an entity:
- order: events whose data.order_id is it (lifecycle, and returns that name it), and the
  integration calls whose correlation_id is it (found through delivery_facts);
- shipment: the order.shipped, shipment.asn and shipment.received naming it;
- return: its received, restocked and refunded events;
- position: events at the location for the sku (every system's counts and adjustments,
  returns, transfers), and each system's quantity at as_of in `facts`;
- interface, source (high volume): those of the window [since, until) only.
Every kind keeps the newest `limit` events (newest last) and says when it capped them.

Related entities: order <-> shipment (order.shipped's shipment_id) <-> return
(return.received's order_id) <-> interfaces of the calls carrying the order id <-> PO or
transfer (the ASN's po_id / transfer_id); the positions of the order's lines at each node it
was routed to. Queries in sql/timeline/*.sql; indexes in sql/migrations/0012.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.db.engine import sql_text
from metrics.params import Policies, Window

KINDS = ("order", "shipment", "position", "return", "interface", "source")
DEFAULT_LIMIT = 2000
SYSTEMS = ("erp", "wms", "pos", "oms", "marketplace")  # inventory systems (contracts/EVENTS.md)
MAX_RELATED_ORDERS = 20  # of an interface's calls
_NODE_FIELDS = ("node_id", "from_node", "to_node")
_STAGES = ("created", "routed", "picked", "packed", "shipped", "delivered")


class UnknownKind(ValueError):
    """The kind is not one of KINDS, or the key does not fit it."""


@dataclass(frozen=True)
class Event:
    seq: int
    time: datetime
    received_at: datetime
    source: str
    system: str
    type: str  # without the "retail." prefix, e.g. "order.rerouted"
    summary: str
    data: dict[str, Any]
    gap: timedelta | None  # since the previous event of the timeline (None for the first)
    lag: timedelta  # received_at - time
    late: bool
    late_reason: str | None  # "lag", "out of order" or "lag, out of order"


@dataclass(frozen=True)
class Mark:
    """An exception's status change or a manual action: a point on the timeline."""

    time: datetime
    kind: str  # "exception" or "action"
    label: str  # one line, e.g. "sla_breach raised (high)"
    ref_kind: str  # the entity it is recorded against, e.g. "order" or "delivery"
    ref_key: str
    by: str
    note: str | None = None
    exception_key: str | None = None  # the exception's key (type:entity), for exception marks


@dataclass(frozen=True)
class Related:
    kind: str  # one of KINDS, or "po" / "transfer" (no page of their own)
    key: str
    relation: str  # why, e.g. "shipped as"


@dataclass(frozen=True)
class Timeline:
    kind: str
    key: str
    as_of: datetime
    window: Window | None  # the window that bounded it (interface, source), else None
    events: tuple[Event, ...]
    related: tuple[Related, ...] = ()
    exceptions: tuple[Mark, ...] = ()
    actions: tuple[Mark, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)
    capped: bool = False  # more than `limit` events: only the newest are here
    limit: int = DEFAULT_LIMIT
    audited: bool = True  # False: the audit log does not exist in this database

    @property
    def empty(self) -> bool:
        return not self.events and not self.exceptions and not self.actions


def system_of(source: str) -> str:
    """The system a source belongs to: its name up to the first '/' (wms/dc-east -> wms)."""
    return source.split("/", 1)[0].strip().lower() or source


def split_position(key: str) -> tuple[str, str]:
    """(sku, location) of a position key `SKU@LOCATION`."""
    sku, at, location = key.rpartition("@")
    if not at or not sku or not location:
        raise UnknownKind(f"a position is SKU@LOCATION, e.g. SKU-00017@STORE-0042, not {key!r}")
    return sku, location


def timeline(
    conn: Connection,
    kind: str,
    key: str,
    *,
    as_of: datetime | None = None,
    window: Window | None = None,
    limit: int = DEFAULT_LIMIT,
    policies: Policies | None = None,
) -> Timeline:
    """The timeline of one entity as of `as_of` (default the window's, else now).

    `window` bounds interface and source timelines (default: the 7 days before as_of).
    Raises UnknownKind for a kind not in KINDS or a malformed position key.
    """
    if kind not in KINDS:
        raise UnknownKind(f"unknown entity kind {kind!r}: one of {', '.join(KINDS)}")
    key = key.strip()
    if not key:
        raise UnknownKind(f"which {kind}? the key is empty")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    policies = policies or Policies()
    as_of = (as_of or (window.as_of if window else datetime.now(UTC))).astimezone(UTC)
    params: dict[str, Any] = {"key": key, "as_of": as_of, "limit": limit + 1}
    bounded: Window | None = None
    facts: dict[str, Any] = {}
    related: list[Related] = []

    if kind == "order":
        rows = _rows(conn, "timeline/order_events", params) + _rows(conn, "timeline/order_calls", params)
    elif kind == "shipment":
        rows = _rows(conn, "timeline/shipment_events", params)
    elif kind == "return":
        rows = _rows(conn, "timeline/return_events", params)
    elif kind == "position":
        sku, location = split_position(key)
        where = {"sku": sku, "location_id": location, "as_of": as_of}
        rows = _rows(conn, "timeline/position_events", {**where, "limit": limit + 1})
        facts["quantities"] = {
            r.system: {"quantity": int(r.quantity), "counted_at": r.counted_at}
            for r in conn.execute(sql_text("timeline/position_quantities"), where)
        }
    elif kind == "interface":
        bounded = window or Window.of(as_of)
        rows = _rows(conn, "timeline/interface_events", {**params, **_span(bounded, as_of)})
    else:  # source
        bounded = window or Window.of(as_of)
        rows = _source_rows(conn, key, bounded, as_of, limit + 1)
        activity = conn.execute(sql_text("timeline/source_activity"), {"key": key}).first()
        if activity is not None:
            facts.update(activity._asdict())

    rows.sort(key=lambda r: (r.time, r.seq))
    capped = len(rows) > limit
    events = _events(rows[-limit:], policies)
    related = _related(conn, kind, key, events, as_of)
    facts.update(_facts(kind, events, as_of))
    exceptions = _exceptions(conn, kind, key, related, as_of)
    actions, audited = _actions(conn, kind, key, exceptions, as_of)
    return Timeline(
        kind=kind,
        key=key,
        as_of=as_of,
        window=bounded,
        events=events,
        related=tuple(related),
        exceptions=exceptions,
        actions=actions,
        facts=facts,
        capped=capped,
        limit=limit,
        audited=audited,
    )


# --- reading ---------------------------------------------------------------------------------


def _rows(conn: Connection, query: str, params: dict[str, Any]) -> list[sa.Row[Any]]:
    return list(conn.execute(sql_text(query), params))


def _span(window: Window, as_of: datetime) -> dict[str, Any]:
    return {"since": window.since, "until": window.until, "as_of": as_of}


def _source_rows(
    conn: Connection, key: str, window: Window, as_of: datetime, limit: int
) -> list[sa.Row[Any]]:
    """The newest `limit` events of a source in the window: one read of the window's events
    (no index on source: see the SQL)."""
    params = {"key": key, "since": window.since, "until": window.until, "as_of": as_of, "limit": limit}
    return _rows(conn, "timeline/source_events", params)


# --- events ----------------------------------------------------------------------------------


def _events(rows: Sequence[sa.Row[Any]], policies: Policies) -> tuple[Event, ...]:
    max_lag = timedelta(minutes=policies.max_event_lag_minutes)
    # out of order: some event that happened later (strictly) arrived earlier
    out_of_order = [False] * len(rows)
    earliest_later_arrival: datetime | None = None
    i = len(rows) - 1
    while i >= 0:  # walk groups of equal time backwards
        j = i
        while j > 0 and rows[j - 1].time == rows[i].time:
            j -= 1
        for k in range(j, i + 1):
            out_of_order[k] = (
                earliest_later_arrival is not None and rows[k].received_at > earliest_later_arrival
            )
        group_first = min(r.received_at for r in rows[j : i + 1])
        if earliest_later_arrival is None or group_first < earliest_later_arrival:
            earliest_later_arrival = group_first
        i = j - 1
    out: list[Event] = []
    previous: datetime | None = None
    for row, disordered in zip(rows, out_of_order, strict=True):
        data = orjson.loads(row.data)
        lag = row.received_at - row.time
        reasons = [r for r, on in (("lag", lag > max_lag), ("out of order", disordered)) if on]
        type_ = row.type.removeprefix("retail.")
        out.append(
            Event(
                seq=int(row.seq),
                time=row.time,
                received_at=row.received_at,
                source=row.source,
                system=system_of(row.source),
                type=type_,
                summary=summarise(type_, data),
                data=data,
                gap=None if previous is None else row.time - previous,
                lag=lag,
                late=bool(reasons),
                late_reason=", ".join(reasons) or None,
            )
        )
        previous = row.time
    return tuple(out)


def _when(value: Any) -> str:
    if not isinstance(value, str):
        return str(value)
    try:
        return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


def _lines(lines: Any) -> str:
    if not isinstance(lines, list) or not lines:
        return ""
    parts = [
        f"{line.get('qty', '?')} × {line.get('sku', '?')}" for line in lines[:3] if isinstance(line, dict)
    ]
    more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
    return ", ".join(parts) + more


def summarise(type_: str, d: dict[str, Any]) -> str:
    """One line a person reads, for an event's type and data (type without 'retail.')."""
    g = d.get
    why = f" ({g('reason')})" if g("reason") else ""
    match type_:
        case "order.created":
            n = len(g("lines") or [])
            return (
                f"{g('channel')} order, {n} line{'s' if n != 1 else ''} ({_lines(g('lines'))}), "
                f"promised by {_when(g('promised_by'))}"
            )
        case "order.routed":
            return f"routed to {g('node_id')}"
        case "order.rerouted":
            return f"rerouted {g('from_node')} → {g('to_node')}{why}"
        case "order.picked" | "order.packed":
            return f"{type_.split('.')[1]} at {g('node_id')}"
        case "order.shipped":
            via = f" with {g('carrier')}" if g("carrier") else ""
            shipment = f", shipment {g('shipment_id')}" if g("shipment_id") else ""
            return f"shipped from {g('node_id')}{via}{shipment}"
        case "order.delivered":
            return "delivered"
        case "order.cancelled":
            return f"cancelled{why}"
        case "order.exception":
            at = f" at {g('node_id')}" if g("node_id") else ""
            detail = f": {g('detail')}" if g("detail") else ""
            return f"exception {g('kind')}{at}{detail}"
        case "inventory.snapshot":
            return f"{g('system')} count: {g('on_hand')} on hand, {g('reserved') or 0} reserved"
        case "inventory.adjusted":
            delta = g("delta")
            sign = "+" if isinstance(delta, int) and delta > 0 else ""
            return f"{g('system')} adjusted {sign}{delta}{why}"
        case "po.updated":
            status = f" ({g('status')})" if g("status") else ""
            return (
                f"PO {g('po_id')} from {g('supplier_id')}: {g('qty')} × {g('sku')}, "
                f"expected {_when(g('expected_at'))}{status}"
            )
        case "transfer.requested":
            return (
                f"transfer {g('transfer_id')}: {g('qty')} × {g('sku')} "
                f"{g('from_location')} → {g('to_location')}{why}"
            )
        case "shipment.asn":
            origin = (
                g("po_id")
                and f" for PO {g('po_id')}"
                or g("transfer_id")
                and f" for transfer {g('transfer_id')}"
            )
            lines = f": {_lines(g('lines'))}" if g("lines") else ""
            return (
                f"ASN {g('shipment_id')} to {g('to_location')}, expected {_when(g('expected_at'))}"
                f"{origin}{lines}"
            )
        case "shipment.received":
            lines = f": {_lines(g('lines'))}" if g("lines") else ""
            return f"{g('shipment_id')} received at {g('location_id')}{lines}"
        case "return.received":
            code = f" ({g('reason_code')})" if g("reason_code") else ""
            order = f" of {g('order_id')}" if g("order_id") else ""
            return f"return {g('return_id')}{order}: {g('qty')} × {g('sku')} at {g('location_id')}{code}"
        case "return.restocked":
            return f"return {g('return_id')} restocked: {g('qty')} × {g('sku')} at {g('location_id')}"
        case "return.refunded":
            amount = f" {g('amount')}" if g("amount") is not None else ""
            return f"return {g('return_id')} refunded{amount}"
        case "integration.call":
            code = " ".join(str(x) for x in (g("http_status"), g("error_code")) if x is not None)
            attempt = f", attempt {g('attempt')}" if g("attempt") and g("attempt") != 1 else ""
            latency = g("latency_ms")
            ms = f", {latency:.0f} ms" if isinstance(latency, int | float) else ""
            return (
                f"{g('interface')} {g('source_system')} → {g('target_system')}: "
                f"{g('status')}{' ' + code if code else ''}{ms}{attempt}"
            )
        case "location.upserted":
            return f"{g('kind')} {g('location_id')} in {g('region')}"
        case "product.upserted":
            return f"product {g('sku')}, unit cost {g('unit_cost')}"
    text = orjson.dumps(d, option=orjson.OPT_SORT_KEYS).decode()
    return text if len(text) <= 120 else text[:119] + "…"


# --- related entities, facts ------------------------------------------------------------------


def _add(out: list[Related], kind: str, key: Any, relation: str) -> None:
    if isinstance(key, str) and key and not any(r.kind == kind and r.key == key for r in out):
        out.append(Related(kind, key, relation))


def _related(
    conn: Connection, kind: str, key: str, events: Iterable[Event], as_of: datetime
) -> list[Related]:
    out: list[Related] = []
    events = list(events)
    skus: list[str] = []
    nodes: list[str] = []
    shipments: list[str] = []
    orders: list[str] = []
    for e in events:
        d = e.data
        if e.type == "order.shipped":
            _add(out, "shipment", d.get("shipment_id"), "shipped as")
            shipments.append(d.get("shipment_id") or "")
        if e.type == "return.received":
            _add(out, "return", d.get("return_id"), "returned as")
        if e.type == "integration.call":
            _add(out, "interface", d.get("interface"), "called through")
            if kind == "interface":
                orders.append(d.get("correlation_id") or "")
        if e.type == "shipment.asn":
            _add(out, "po", d.get("po_id"), "ASN for purchase order")
            _add(out, "transfer", d.get("transfer_id"), "ASN for transfer")
        if kind != "order" and e.data.get("order_id"):
            _add(out, "order", d.get("order_id"), "of order")
        if e.type == "order.created":
            skus.extend(str(ln.get("sku")) for ln in d.get("lines") or [] if isinstance(ln, dict))
        if e.type.startswith("order.") and kind == "order":
            nodes.extend(d[f] for f in _NODE_FIELDS if isinstance(d.get(f), str))
        if kind in ("shipment", "return") and d.get("sku") and (d.get("location_id") or d.get("to_location")):
            _add(out, "position", f"{d['sku']}@{d.get('location_id') or d.get('to_location')}", "stock at")
        if kind == "shipment" and e.type.startswith("shipment."):
            where = d.get("location_id") or d.get("to_location")
            for line in d.get("lines") or []:
                if isinstance(line, dict) and where:
                    _add(out, "position", f"{line.get('sku')}@{where}", "stock at")
    for node in dict.fromkeys(nodes):
        for sku in dict.fromkeys(skus):
            _add(out, "position", f"{sku}@{node}", "a line at a node it was routed to")
    if kind == "order":  # the order's shipments' ASNs name their PO or transfer
        for shipment in dict.fromkeys(s for s in shipments if s):
            rows = _rows(conn, "timeline/shipment_events", {"key": shipment, "as_of": as_of, "limit": 50})
            for r in rows:
                d = orjson.loads(r.data)
                _add(out, "po", d.get("po_id"), f"ASN of {shipment} for purchase order")
                _add(out, "transfer", d.get("transfer_id"), f"ASN of {shipment} for transfer")
    if orders:  # an interface's calls: the correlation ids that are known orders
        ids = list(dict.fromkeys(o for o in reversed(orders) if o))[: MAX_RELATED_ORDERS * 5]
        known = conn.execute(sql_text("timeline/known_orders"), {"ids": ids}).scalars().all()
        for order in [o for o in ids if o in set(known)][:MAX_RELATED_ORDERS]:
            _add(out, "order", order, "correlation id of a call")
    return [r for r in out if (r.kind, r.key) != (kind, key)]  # not itself


def _facts(kind: str, events: Sequence[Event], as_of: datetime) -> dict[str, Any]:
    """The key facts of the header, read from the timeline's own events."""
    facts: dict[str, Any] = {"events": len(events)}
    if events:
        facts["first"], facts["last"] = events[0].time, events[-1].time
        facts["systems"] = sorted({e.system for e in events})
    if kind == "order":
        created = next((e for e in events if e.type == "order.created"), None)
        reached = {e.type.split(".")[1]: e.time for e in reversed(events) if e.type.startswith("order.")}
        node = next(
            (e.data.get("node_id") or e.data.get("to_node") for e in reversed(events)
             if e.type in ("order.routed", "order.rerouted")),
            None,
        )  # fmt: skip
        promised = None
        if created is not None:
            facts["channel"] = created.data.get("channel")
            promised = datetime.fromisoformat(created.data["promised_by"]).astimezone(UTC)
            facts["promised_by"] = promised
        facts["current_node"] = node
        status = "cancelled" if "cancelled" in reached else next(
            (s for s in reversed(_STAGES) if s in reached), "unknown"
        )  # fmt: skip
        facts["status"] = status
        facts["reroutes"] = sum(1 for e in events if e.type == "order.rerouted")
        delivered = reached.get("delivered")
        if promised is not None and status != "cancelled":
            facts["breached"] = delivered > promised if delivered is not None else as_of > promised
        else:
            facts["breached"] = None
    elif kind == "interface":
        calls = [e for e in events if e.type == "integration.call"]
        failures = sum(1 for e in calls if e.data.get("status") in ("error", "timeout"))
        facts.update(
            calls=len(calls), failures=failures, failure_rate=failures / len(calls) if calls else 0.0
        )
    elif kind in ("shipment", "return"):
        for e in events:
            facts[e.type.split(".")[1]] = e.time
    return facts


# --- exceptions and manual actions -----------------------------------------------------------


def _exception_entities(kind: str, key: str, related: Sequence[Related]) -> list[tuple[str, str]]:
    if kind == "position":
        sku, location = split_position(key)
        pairs = [("position", f"{location}|{sku}|{s}") for s in SYSTEMS]  # inventory_variance
        return pairs + [("position", f"{s}|{location}|{sku}") for s in SYSTEMS]  # negative, stale
    pairs = [(kind, key)]
    if kind == "order":  # failed deliveries of the calls carrying the order id
        pairs += [("delivery", f"{r.key}|{key}") for r in related if r.kind == "interface"]
    return pairs


def _exceptions(
    conn: Connection, kind: str, key: str, related: Sequence[Related], as_of: datetime
) -> tuple[Mark, ...]:
    pairs = _exception_entities(kind, key, related)
    rows = conn.execute(
        sql_text("timeline/exceptions"),
        {"kinds": [k for k, _ in pairs], "entities": [e for _, e in pairs], "as_of": as_of},
    )
    marks = []
    for r in rows:
        if r.from_status is None:
            verb = "raised"
        elif r.to_status == "open":
            verb = "reopened"
        else:
            verb = r.to_status
        marks.append(
            Mark(
                time=r.at,
                kind="exception",
                label=f"{r.type} {verb} ({r.severity})" if verb == "raised" else f"{r.type} {verb}",
                ref_kind=r.entity_kind,
                ref_key=r.entity,
                by=r.by,
                note=r.note,
                exception_key=r.key,
            )
        )
    return tuple(marks)


def _actions(
    conn: Connection, kind: str, key: str, exceptions: Sequence[Mark], as_of: datetime
) -> tuple[tuple[Mark, ...], bool]:
    """The audit log's rows about the entity or its exceptions; (rows, whether the log exists)."""
    if conn.execute(sa.text("SELECT to_regclass('audit_log') IS NOT NULL")).scalar_one() is not True:
        return (), False
    keys = dict.fromkeys(m.exception_key for m in exceptions if m.exception_key)
    pairs = [(kind, key)] + [("exception", k) for k in keys]
    rows = conn.execute(
        sql_text("timeline/audit"),
        {"kinds": [k for k, _ in pairs], "keys": [e for _, e in pairs], "as_of": as_of},
    )
    marks = tuple(
        Mark(
            time=r.at,
            kind="action",
            label=f"{r.action} by {r.actor} ({r.role})",
            ref_kind=r.entity_kind,
            ref_key=r.entity_key,
            by=r.actor,
            note=r.reason or None,
        )
        for r in rows
    )
    return marks, True
