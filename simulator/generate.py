"""A seeded generator of canonical events with a retail mix of types and sizes.

Used by `bench/ingest.py` and by `ctower demo` to fill an empty store. It writes the
canonical contract directly (the live simulator with native source shapes is separate).
Per 100 events, roughly: 45 order lifecycle, 25 inventory snapshots and adjustments,
20 integration calls, 10 inbound, returns and master data; a few percent of orders are
rerouted, cancelled or late.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

CHANNELS = ("web", "web", "web", "store", "marketplace", "phone")
REGIONS = ("north", "south", "east", "west", "central", "coast")
INTERFACES = (
    ("oms.wms.create_pick", "oms", "wms"),
    ("wms.oms.ship_confirm", "wms", "oms"),
    ("erp.oms.stock_feed", "erp", "oms"),
    ("oms.carrier.book", "oms", "carrier"),
    ("marketplace.oms.order_in", "marketplace", "oms"),
)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


class _Estate:
    def __init__(self, rng: random.Random, stores: int, skus: int) -> None:
        self.rng = rng
        self.stores = [f"STORE-{i:04d}" for i in range(1, stores + 1)]
        self.dcs = ["DC-EAST", "DC-WEST"]
        self.nodes = self.dcs * 10 + self.stores
        self.skus = [f"SKU-{i:05d}" for i in range(1, skus + 1)]
        self.region = {loc: REGIONS[i % len(REGIONS)] for i, loc in enumerate(self.dcs + self.stores)}


def generate_events(
    n: int,
    *,
    seed: int = 7,
    start: datetime | None = None,
    days: int = 30,
    stores: int = 300,
    skus: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Yield `n` canonical events, deterministic for a seed, spread over `days` from `start`."""
    rng = random.Random(seed)
    estate = _Estate(rng, stores, skus)
    start = start or datetime(2026, 10, 1, tzinfo=UTC)
    span = days * 86400
    produced = 0
    serial = 0

    def event(
        source: str, type_: str, t: datetime, data: dict[str, Any], subject: str | None = None
    ) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        out = {
            "specversion": "1.0",
            "id": f"{source.split('/')[0]}-{serial:09d}",
            "source": source,
            "type": f"retail.{type_}",
            "time": _iso(t),
            "data": data,
        }
        if subject:
            out["subject"] = subject
        return out

    for loc in estate.dcs + estate.stores:
        if produced >= n:
            return
        kind = "dc" if loc.startswith("DC") else "store"
        yield event(
            "erp",
            "location.upserted",
            start,
            {
                "location_id": loc,
                "kind": kind,
                "region": estate.region[loc],
                "name": loc.title(),
                "daily_capacity": 5000 if kind == "dc" else 60,
            },
        )
        produced += 1
    while produced < n:
        t = start + timedelta(seconds=rng.random() * span)
        roll = rng.random()
        batch: list[dict[str, Any]]
        if roll < 0.45:
            batch = _order(event, estate, t)
        elif roll < 0.70:
            batch = _inventory(event, estate, t)
        elif roll < 0.90:
            batch = _calls(event, estate, t)
        else:
            batch = _inbound_returns(event, estate, t)
        for item in batch:
            if produced >= n:
                return
            yield item
            produced += 1


def _order(event: Any, estate: _Estate, t: datetime) -> list[dict[str, Any]]:
    rng = estate.rng
    oid = f"ORD-{rng.randrange(10**9):09d}"
    channel = rng.choice(CHANNELS)
    lines = [
        {
            "sku": rng.choice(estate.skus),
            "qty": rng.randint(1, 3),
            "unit_price": round(rng.uniform(3, 120), 2),
        }
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5)))
    ]
    promised = t + timedelta(hours=rng.choice((24, 48, 72)))
    source = "marketplace/acme" if channel == "marketplace" else "oms"
    out = [
        event(
            source,
            "order.created",
            t,
            {
                "order_id": oid,
                "channel": channel,
                "promised_by": _iso(promised),
                "lines": lines,
                "ship_to_region": rng.choice(REGIONS),
            },
            oid,
        )
    ]
    node = rng.choice(estate.nodes)
    t += timedelta(minutes=rng.uniform(1, 30))
    out.append(event("oms", "order.routed", t, {"order_id": oid, "node_id": node}, oid))
    if rng.random() < 0.03:
        out.append(
            event(
                "oms", "order.cancelled", t + timedelta(hours=1), {"order_id": oid, "reason": "customer"}, oid
            )
        )
        return out
    for _ in range(rng.choice((0,) * 17 + (1, 1, 2))):
        new = rng.choice(estate.nodes)
        t += timedelta(minutes=rng.uniform(5, 120))
        out.append(
            event(
                "oms",
                "order.rerouted",
                t,
                {
                    "order_id": oid,
                    "from_node": node,
                    "to_node": new,
                    "reason": rng.choice(("stockout", "capacity", "failed_pick")),
                },
                oid,
            )
        )
        node = new
    wms = f"wms/{node.lower()}" if node.startswith("DC") else f"pos/{node.lower()}"
    for stage, hours in (("picked", 4), ("packed", 1), ("shipped", 3)):
        t += timedelta(hours=rng.expovariate(1 / hours))
        data = {"order_id": oid, "node_id": node}
        if stage == "shipped":
            data |= {
                "shipment_id": f"SHP-{rng.randrange(10**9):09d}",
                "carrier": rng.choice(("dhl", "ups", "postnl")),
            }
        out.append(event(wms, f"order.{stage}", t, data, oid))
    t += timedelta(hours=rng.expovariate(1 / 30))
    out.append(event("oms", "order.delivered", t, {"order_id": oid}, oid))
    return out


def _inventory(event: Any, estate: _Estate, t: datetime) -> list[dict[str, Any]]:
    rng = estate.rng
    loc, sku = rng.choice(estate.dcs + estate.stores), rng.choice(estate.skus)
    base = rng.randint(0, 200)
    out = []
    for system in ("erp", "wms" if loc.startswith("DC") else "pos", "oms"):
        drift = rng.choice((0,) * 8 + (-3, 5))
        out.append(
            event(
                system if system != "pos" else f"pos/{loc.lower()}",
                "inventory.snapshot",
                t,
                {
                    "system": system,
                    "location_id": loc,
                    "sku": sku,
                    "on_hand": base + drift,
                    "reserved": rng.randint(0, 5),
                },
                f"{sku}@{loc}",
            )
        )
    if rng.random() < 0.3:
        out.append(
            event(
                "erp",
                "inventory.adjusted",
                t + timedelta(minutes=20),
                {
                    "system": "erp",
                    "location_id": loc,
                    "sku": sku,
                    "delta": rng.randint(-5, 5) or 1,
                    "reason": rng.choice(("cycle_count", "damage", "shrink", "receipt")),
                },
                f"{sku}@{loc}",
            )
        )
    return out


def _calls(event: Any, estate: _Estate, t: datetime) -> list[dict[str, Any]]:
    rng = estate.rng
    name, src, dst = rng.choice(INTERFACES)
    status = rng.choices(("ok", "error", "timeout"), (95, 3, 2))[0]
    out = [
        event(
            "middleware",
            "integration.call",
            t,
            {
                "interface": name,
                "source_system": src,
                "target_system": dst,
                "status": status,
                "latency_ms": round(rng.lognormvariate(4.5, 0.6), 1),
                "http_status": {"ok": 200, "error": 500, "timeout": 504}[status],
                "correlation_id": f"ORD-{rng.randrange(10**9):09d}",
                "attempt": 1,
            },
        )
    ]
    return out


def _inbound_returns(event: Any, estate: _Estate, t: datetime) -> list[dict[str, Any]]:
    rng = estate.rng
    sku, loc = rng.choice(estate.skus), rng.choice(estate.dcs + estate.stores)
    roll = rng.random()
    if roll < 0.15:
        return [
            event(
                "erp",
                "product.upserted",
                t,
                {
                    "sku": sku,
                    "unit_cost": round(rng.uniform(1, 80), 2),
                    "name": f"Product {sku}",
                    "category": rng.choice(("toys", "home", "garden", "apparel")),
                    "unit_price": round(rng.uniform(3, 150), 2),
                },
            )
        ]
    if roll < 0.6:
        po, ship = f"PO-{rng.randrange(10**8):08d}", f"ASN-{rng.randrange(10**9):09d}"
        expected = t + timedelta(days=rng.randint(1, 5))
        qty = rng.randint(10, 500)
        return [
            event(
                "erp",
                "po.updated",
                t,
                {
                    "po_id": po,
                    "supplier_id": f"SUP-{rng.randint(1, 80):03d}",
                    "sku": sku,
                    "qty": qty,
                    "expected_at": _iso(expected),
                    "status": "confirmed",
                },
            ),
            event(
                "wms/" + loc.lower(),
                "shipment.asn",
                t + timedelta(hours=2),
                {
                    "shipment_id": ship,
                    "to_location": loc,
                    "expected_at": _iso(expected),
                    "lines": [{"sku": sku, "qty": qty}],
                    "po_id": po,
                },
            ),
            event(
                "wms/" + loc.lower(),
                "shipment.received",
                expected + timedelta(hours=rng.uniform(-6, 10)),
                {"shipment_id": ship, "location_id": loc, "lines": [{"sku": sku, "qty": qty}]},
            ),
        ]
    rid = f"RET-{rng.randrange(10**9):09d}"
    qty = rng.randint(1, 2)
    out = [
        event(
            "oms",
            "return.received",
            t,
            {
                "return_id": rid,
                "sku": sku,
                "qty": qty,
                "location_id": loc,
                "reason_code": rng.choice(("damaged", "wrong_size", "changed_mind")),
            },
        )
    ]
    if rng.random() < 0.8:
        out.append(
            event(
                "wms/" + loc.lower(),
                "return.restocked",
                t + timedelta(hours=rng.expovariate(1 / 30)),
                {"return_id": rid, "location_id": loc, "sku": sku, "qty": qty},
            )
        )
    out.append(
        event(
            "oms",
            "return.refunded",
            t + timedelta(days=1),
            {"return_id": rid, "amount": round(rng.uniform(5, 90), 2)},
        )
    )
    return out


def write_jsonl(path: Path, n: int, **options: Any) -> int:
    """Write `n` generated events to `path` as JSON Lines; returns the number of bytes."""
    size = 0
    with path.open("wb") as out:
        buf: list[bytes] = []
        for ev in generate_events(n, **options):
            buf.append(orjson.dumps(ev))
            if len(buf) >= 10_000:
                chunk = b"\n".join(buf) + b"\n"
                out.write(chunk)
                size += len(chunk)
                buf.clear()
        if buf:
            chunk = b"\n".join(buf) + b"\n"
            out.write(chunk)
            size += len(chunk)
    return size
