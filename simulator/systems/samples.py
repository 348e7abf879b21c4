"""Hand-made canonical events, one for every native shape of every system (and a few
that only fit a system's generic record), for tests and for reading what each shape
looks like. Each is published a minute after it happened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Sample(NamedTuple):
    system: str
    event: dict[str, Any]
    publish_at: datetime


def _event(
    n: int,
    source: str,
    type_: str,
    data: dict[str, Any],
    subject: str | None,
    minutes: int,
    offset: str = "Z",
) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    time = at.isoformat().replace("+00:00", "Z")
    if offset != "Z":  # the same instant written with another offset
        sign = 1 if offset[0] == "+" else -1
        hours = int(offset[1:3])
        local = at + sign * timedelta(hours=hours)
        time = local.replace(tzinfo=None).isoformat() + offset
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"{source.split('/')[0]}-{n:06d}",
        "source": source,
        "type": type_,
    }
    event["time"] = time
    if subject is not None:
        event["subject"] = subject
    event["data"] = data
    return event


def _order(n: int, type_: str, data: dict[str, Any], minutes: int, source: str = "oms") -> dict[str, Any]:
    return _event(n, source, type_, {"order_id": "ORD-000123", **data}, "ORD-000123", minutes)


LINES = [{"sku": "SKU-00017", "qty": 2, "unit_price": 19.9}, {"sku": "SKU-00042", "qty": 1}]
PROMISED = "2026-11-29T18:00:00+00:00"


def samples() -> list[Sample]:
    s: list[tuple[str, dict[str, Any]]] = [
        (
            "oms",
            _order(
                1,
                "retail.order.created",
                {"channel": "web", "promised_by": PROMISED, "lines": LINES, "ship_to_region": "north"},
                0,
            ),
        ),
        ("oms", _order(2, "retail.order.routed", {"node_id": "STORE-0042"}, 1)),
        (
            "oms",
            _order(
                3,
                "retail.order.rerouted",
                {"from_node": "STORE-0042", "to_node": "DC-EAST", "reason": "stockout"},
                2,
            ),
        ),
        ("oms", _order(4, "retail.order.picked", {"node_id": "DC-EAST"}, 3)),
        ("oms", _order(5, "retail.order.packed", {"node_id": "DC-EAST"}, 4)),
        (
            "oms",
            _order(
                6, "retail.order.shipped", {"node_id": "DC-EAST", "shipment_id": "SHP-1", "carrier": "DHL"}, 5
            ),
        ),
        ("oms", _order(7, "retail.order.delivered", {}, 6)),
        ("oms", _order(8, "retail.order.cancelled", {"reason": None}, 7)),
        (
            "oms",
            _order(
                9,
                "retail.order.exception",
                {"kind": "backorder", "node_id": "DC-EAST", "detail": "no stock", "priority": 2},
                8,
            ),
        ),
        (
            "oms",
            _event(
                10,
                "oms",
                "retail.inventory.snapshot",
                {"system": "oms", "location_id": "DC-EAST", "sku": "SKU-00017", "on_hand": 40, "reserved": 3},
                "SKU-00017@DC-EAST",
                9,
                "+01:00",
            ),
        ),
        (
            "oms",
            _event(11, "oms", "retail.return.refunded", {"return_id": "RET-1", "amount": 19.9}, "RET-1", 10),
        ),
        ("wms", _order(20, "retail.order.picked", {"node_id": "DC-EAST"}, 11, "wms/dc-east")),
        ("wms", _order(21, "retail.order.packed", {"node_id": "DC-EAST"}, 12, "wms/dc-east")),
        (
            "wms",
            _order(22, "retail.order.shipped", {"node_id": "DC-EAST", "carrier": "UPS"}, 13, "wms/dc-east"),
        ),
        (
            "wms",
            _event(
                23,
                "wms/dc-east",
                "retail.inventory.snapshot",
                {"system": "wms", "location_id": "DC-EAST", "sku": "SKU-00017", "on_hand": -2},
                "SKU-00017@DC-EAST",
                14,
            ),
        ),
        (
            "wms",
            _event(
                24,
                "wms/dc-east",
                "retail.inventory.adjusted",
                {
                    "system": "wms",
                    "location_id": "DC-EAST",
                    "sku": "SKU-00017",
                    "delta": -3,
                    "reason": "damage",
                },
                "SKU-00017@DC-EAST",
                15,
            ),
        ),
        (
            "wms",
            _event(
                25,
                "wms/dc-east",
                "retail.shipment.asn",
                {
                    "shipment_id": "ASN-1",
                    "to_location": "DC-EAST",
                    "expected_at": "2026-11-28T06:00:00+01:00",
                    "lines": [{"sku": "SKU-00017", "qty": 24}],
                    "po_id": "PO-1",
                },
                "ASN-1",
                16,
            ),
        ),
        (
            "wms",
            _event(
                26,
                "wms/dc-east",
                "retail.shipment.received",
                {
                    "shipment_id": "ASN-1",
                    "location_id": "DC-EAST",
                    "lines": [{"sku": "SKU-00017", "qty": 24}],
                },
                "ASN-1",
                17,
            ),
        ),
        (
            "wms",
            _event(
                27,
                "wms/dc-east",
                "retail.return.received",
                {
                    "return_id": "RET-1",
                    "sku": "SKU-00017",
                    "qty": 1,
                    "location_id": "DC-EAST",
                    "order_id": "ORD-000123",
                    "reason_code": "too small",
                },
                "RET-1",
                18,
            ),
        ),
        (
            "wms",
            _event(
                28,
                "wms/dc-east",
                "retail.return.restocked",
                {"return_id": "RET-1", "location_id": "DC-EAST", "sku": "SKU-00017", "qty": 1},
                "RET-1",
                19,
            ),
        ),
        (
            "wms",
            _event(
                29,
                "wms/dc-east",
                "retail.transfer.requested",
                {
                    "transfer_id": "TR-1",
                    "from_location": "DC-EAST",
                    "to_location": "STORE-0042",
                    "sku": "SKU-00017",
                    "qty": 6,
                },
                "TR-1",
                20,
            ),
        ),
        (
            "wms",
            _order(
                30, "retail.order.exception", {"kind": "failed_pick", "node_id": "DC-EAST"}, 21, "wms/dc-east"
            ),
        ),
        (
            "middleware",
            _event(
                40,
                "middleware",
                "retail.integration.call",
                {
                    "interface": "oms.wms.create_pick",
                    "source_system": "oms",
                    "target_system": "wms",
                    "status": "ok",
                    "latency_ms": 120,
                    "http_status": 200,
                    "correlation_id": "ORD-000123",
                    "attempt": 1,
                },
                "ORD-000123",
                22,
            ),
        ),
        (
            "middleware",
            _event(
                41,
                "middleware",
                "retail.integration.call",
                {
                    "interface": "erp.oms.stock_feed",
                    "source_system": "erp",
                    "target_system": "oms",
                    "status": "timeout",
                    "latency_ms": 30000.5,
                    "error_code": "TIMEOUT",
                },
                None,
                23,
            ),
        ),
        (
            "middleware",
            _event(
                42,
                "middleware",
                "retail.integration.call",
                {
                    "interface": "oms.wms.create_pick",
                    "source_system": "oms",
                    "target_system": "wms",
                    "status": "error",
                    "latency_ms": 80,
                    "http_status": 503,
                    "correlation_id": "ORD-000124",
                    "attempt": 3,
                },
                "ORD-000124",
                24,
            ),
        ),
        (
            "erp",
            _event(
                50,
                "erp",
                "retail.inventory.snapshot",
                {
                    "system": "erp",
                    "location_id": "STORE-0042",
                    "sku": "SKU-00017",
                    "on_hand": 7,
                    "reserved": 0,
                },
                "SKU-00017@STORE-0042",
                25,
            ),
        ),
        (
            "erp",
            _event(
                51,
                "erp",
                "retail.inventory.adjusted",
                {
                    "system": "erp",
                    "location_id": "STORE-0042",
                    "sku": "SKU-00017",
                    "delta": -1,
                    "reason": "sale",
                },
                "SKU-00017@STORE-0042",
                26,
            ),
        ),
        (
            "erp",
            _event(
                52,
                "erp",
                "retail.po.updated",
                {
                    "po_id": "PO-1",
                    "supplier_id": "SUP-03",
                    "sku": "SKU-00017",
                    "qty": 24,
                    "expected_at": "2026-11-28T06:00:00Z",
                    "status": "confirmed",
                },
                "PO-1",
                27,
            ),
        ),
        (
            "erp",
            _event(
                53,
                "erp",
                "retail.shipment.asn",
                {
                    "shipment_id": "ASN-1",
                    "to_location": "DC-EAST",
                    "expected_at": "2026-11-28T06:00:00Z",
                    "lines": [{"sku": "SKU-00017", "qty": 24}],
                    "po_id": "PO-1",
                },
                "ASN-1",
                28,
            ),
        ),
        (
            "erp",
            _event(
                54,
                "erp",
                "retail.shipment.received",
                {
                    "shipment_id": "ASN-1",
                    "location_id": "DC-EAST",
                    "lines": [{"sku": "SKU-00017", "qty": 24}],
                },
                "ASN-1",
                29,
            ),
        ),
        (
            "erp",
            _event(
                55,
                "erp",
                "retail.product.upserted",
                {
                    "sku": "SKU-00017",
                    "unit_cost": 8.25,
                    "name": "Wool socks",
                    "category": "apparel",
                    "unit_price": 19.9,
                },
                "SKU-00017",
                30,
            ),
        ),
        (
            "erp",
            _event(
                56,
                "erp",
                "retail.location.upserted",
                {
                    "location_id": "STORE-0042",
                    "kind": "store",
                    "region": "north",
                    "name": "Store 42",
                    "daily_capacity": 150,
                },
                "STORE-0042",
                31,
            ),
        ),
        (
            "erp",
            _event(
                57,
                "erp",
                "retail.transfer.requested",
                {
                    "transfer_id": "TR-1",
                    "from_location": "DC-EAST",
                    "to_location": "STORE-0042",
                    "sku": "SKU-00017",
                    "qty": 6,
                    "reason": "replenish",
                },
                "TR-1",
                32,
            ),
        ),
        (
            "pos",
            _event(
                60,
                "pos/store-0042",
                "retail.inventory.snapshot",
                {
                    "system": "pos",
                    "location_id": "STORE-0042",
                    "sku": "SKU-00017",
                    "on_hand": 5,
                    "reserved": 1,
                },
                "SKU-00017@STORE-0042",
                33,
            ),
        ),
        (
            "pos",
            _event(
                61,
                "pos/store-0042",
                "retail.inventory.adjusted",
                {
                    "system": "pos",
                    "location_id": "STORE-0042",
                    "sku": "SKU-00017",
                    "delta": -1,
                    "reason": "sale",
                },
                "SKU-00017@STORE-0042",
                34,
            ),
        ),
        (
            "pos",
            _event(
                62,
                "pos/store-0042",
                "retail.return.received",
                {"return_id": "RET-2", "sku": "SKU-00017", "qty": 1, "location_id": "STORE-0042"},
                "RET-2",
                35,
            ),
        ),
        (
            "marketplace",
            _order(
                70,
                "retail.order.created",
                {"channel": "marketplace", "promised_by": PROMISED, "lines": LINES},
                36,
                "marketplace/acme",
            ),
        ),
        ("marketplace", _order(71, "retail.order.cancelled", {"reason": "buyer"}, 37, "marketplace/acme")),
        (
            "marketplace",
            _order(
                72,
                "retail.order.shipped",
                {"node_id": "DC-EAST", "shipment_id": "SHP-2"},
                38,
                "marketplace/acme",
            ),
        ),
        ("marketplace", _order(73, "retail.order.delivered", {}, 39, "marketplace/acme")),
        (
            "marketplace",
            _event(
                74,
                "marketplace/acme",
                "retail.inventory.snapshot",
                {"system": "marketplace", "location_id": "MP-ACME", "sku": "SKU-00017", "on_hand": 3},
                None,
                40,
            ),
        ),
    ]
    return [Sample(system, e, datetime.fromisoformat(e["time"]) + timedelta(minutes=1)) for system, e in s]
