"""Named characters and an event builder shared by the tests.

The characters come from the example in contracts/EVENTS.md: order ORD-000123, rerouted
by the OMS from store STORE-0042 to the DC-EAST distribution centre because of a stockout.
"""

from __future__ import annotations

import json
from typing import Any

STORE = "STORE-0042"
DC = "DC-EAST"
ORDER = "ORD-000123"
SKU = "SKU-00017"
# 14:03:11 at +01:00 is 13:03:11 UTC
WHEN = "2026-11-20T14:03:11+01:00"
WHEN_UTC = "2026-11-20T13:03:11Z"

# one valid `data` per type of EVENTS.md, with exactly its required fields
REQUIRED_DATA: dict[str, dict[str, Any]] = {
    "retail.location.upserted": {"location_id": STORE, "kind": "store", "region": "east"},
    "retail.product.upserted": {"sku": SKU, "unit_cost": 4.5},
    "retail.order.created": {
        "order_id": ORDER,
        "channel": "web",
        "promised_by": "2026-11-22T14:03:11+01:00",
        "lines": [{"sku": SKU, "qty": 2}],
    },
    "retail.order.routed": {"order_id": ORDER, "node_id": STORE},
    "retail.order.rerouted": {
        "order_id": ORDER,
        "from_node": STORE,
        "to_node": DC,
        "reason": "stockout",
    },
    "retail.order.picked": {"order_id": ORDER, "node_id": DC},
    "retail.order.packed": {"order_id": ORDER, "node_id": DC},
    "retail.order.shipped": {"order_id": ORDER, "node_id": DC},
    "retail.order.delivered": {"order_id": ORDER},
    "retail.order.cancelled": {"order_id": ORDER},
    "retail.order.exception": {"order_id": ORDER, "kind": "backorder"},
    "retail.inventory.snapshot": {"system": "pos", "location_id": STORE, "sku": SKU, "on_hand": 12},
    "retail.inventory.adjusted": {
        "system": "erp",
        "location_id": STORE,
        "sku": SKU,
        "delta": -2,
        "reason": "damage",
    },
    "retail.po.updated": {
        "po_id": "PO-00000001",
        "supplier_id": "SUP-001",
        "sku": SKU,
        "qty": 40,
        "expected_at": "2026-11-25T08:00:00+01:00",
    },
    "retail.transfer.requested": {
        "transfer_id": "TR-0001",
        "from_location": DC,
        "to_location": STORE,
        "sku": SKU,
        "qty": 6,
    },
    "retail.shipment.asn": {
        "shipment_id": "ASN-0001",
        "to_location": STORE,
        "expected_at": "2026-11-24T10:00:00+01:00",
    },
    "retail.shipment.received": {"shipment_id": "ASN-0001", "location_id": STORE},
    "retail.return.received": {"return_id": "RET-0001", "sku": SKU, "qty": 1, "location_id": STORE},
    "retail.return.restocked": {"return_id": "RET-0001", "location_id": STORE, "sku": SKU, "qty": 1},
    "retail.return.refunded": {"return_id": "RET-0001"},
    "retail.integration.call": {
        "interface": "oms.wms.create_pick",
        "source_system": "oms",
        "target_system": "wms",
        "status": "ok",
        "latency_ms": 88.5,
    },
}


def event(
    type_: str = "retail.order.rerouted",
    data: dict[str, Any] | None = None,
    *,
    id: str = "oms-000123-r1",
    source: str = "oms",
    time: Any = WHEN,
    subject: str | None = ORDER,
    **attributes: Any,
) -> dict[str, Any]:
    """A valid canonical event (the example of EVENTS.md unless told otherwise)."""
    out: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type_,
        "time": time,
    }
    if subject is not None:
        out["subject"] = subject
    out["data"] = dict(REQUIRED_DATA[type_]) if data is None else data
    out.update(attributes)
    return out


def line(item: dict[str, Any] | bytes | str) -> bytes:
    """One record as bytes: a dict is written as compact JSON, text and bytes as they are."""
    if isinstance(item, dict):
        return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
    if isinstance(item, str):
        return item.encode()
    return item


def jsonl(*items: dict[str, Any] | bytes | str) -> bytes:
    """JSON Lines: one record a line, each line ended by a newline."""
    return b"".join(line(item) + b"\n" for item in items)


def json_array(*items: dict[str, Any] | bytes | str) -> bytes:
    """A JSON array of the records, one element a line."""
    return b"[\n" + b",\n".join(line(item) for item in items) + b"\n]\n"
