"""The simulated OMS's order-event feed -> canonical events.

Native item (GET /oms/api/v2/order-events):
    {"eventId": "...", "orderNo": "ORD-000123", "eventType": "ORDER_REROUTED",
     "occurredAt": "2026-11-20T13:03:11Z",
     "payload": {"fromNode": "STORE-0042", "toNode": "DC-EAST", "reasonCode": "OOS"}}
"""

from __future__ import annotations

from typing import Any

from collectors.base import Unmappable
from collectors.mappings.fieldmap import (
    INT,
    ISO_UTC,
    NUMBER,
    Code,
    Field,
    Rows,
    Shape,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    parse_time,
    required,
    required_text,
    resolve,
    shape_for_code,
    shape_tables,
)

SOURCE = "oms"

CHANNELS = Code({"web": "WEB", "store": "STORE", "marketplace": "MKTPL", "phone": "CALLCTR"})
REROUTE_REASONS = Code(
    {
        "stockout": "OOS",
        "capacity": "CAP",
        "carrier": "CARRIER",
        "cost": "COST",
        "failed_pick": "PICK_FAIL",
        "manual": "MANUAL",
        "other": "OTHER",
    }
)
EXCEPTION_KINDS = Code(
    {
        "backorder": "BACKORDER",
        "substitution": "SUBST",
        "failed_pick": "PICK_FAIL",
        "failed_delivery": "DELIVERY_FAIL",
        "address_issue": "ADDRESS",
        "other": "OTHER",
    }
)
INVENTORY_SYSTEMS = Code({"oms": "OMS", "erp": "ERP", "wms": "WMS", "pos": "POS", "marketplace": "MKTPL"})
LINES = Rows(
    (
        Field("sku", "itemId", required=True),
        Field("qty", "quantity", INT, required=True),
        Field("unit_price", "unitPrice", NUMBER),
    )
)
NODE = Field("node_id", "fulfilmentNode", required=True)
ORDER = "order_id"

SHAPES = (
    Shape(
        "retail.order.created",
        "ORDER_CREATED",
        (
            Field("channel", "salesChannel", CHANNELS, required=True),
            Field("promised_by", "promiseDate", ISO_UTC, required=True),
            Field("lines", "orderLines", LINES, required=True),
            Field("ship_to_region", "shipToRegion"),
        ),
    ),
    Shape("retail.order.routed", "ORDER_ROUTED", (NODE,)),
    Shape(
        "retail.order.rerouted",
        "ORDER_REROUTED",
        (
            Field("from_node", "fromNode", required=True),
            Field("to_node", "toNode", required=True),
            Field("reason", "reasonCode", REROUTE_REASONS, required=True),
        ),
    ),
    Shape("retail.order.picked", "PICK_CONFIRMED", (NODE,)),
    Shape("retail.order.packed", "ORDER_PACKED", (NODE,)),
    Shape(
        "retail.order.shipped",
        "ORDER_SHIPPED",
        (NODE, Field("shipment_id", "shipmentNo"), Field("carrier", "carrierCode")),
    ),
    Shape("retail.order.delivered", "ORDER_DELIVERED"),
    Shape("retail.order.cancelled", "ORDER_CANCELLED", (Field("reason", "cancelReason"),)),
    Shape(
        "retail.order.exception",
        "ORDER_EXCEPTION",
        (
            Field("kind", "exceptionCode", EXCEPTION_KINDS, required=True),
            Field("node_id", "fulfilmentNode"),
            Field("detail", "note"),
        ),
    ),
    Shape(
        "retail.inventory.snapshot",
        "ATP_SNAPSHOT",
        (
            Field("system", "stockSystem", INVENTORY_SYSTEMS, required=True),
            Field("location_id", "nodeId", required=True),
            Field("sku", "itemId", required=True),
            Field("on_hand", "onHand", INT, required=True),
            Field("reserved", "allocated", INT),
        ),
    ),
)
BY_TYPE, BY_CODE = shape_tables(SHAPES)


def to_events(record: Any) -> list[dict[str, Any]]:
    """One OMS order event -> one canonical event."""
    event_id = required_text(record, "eventId")
    shape = shape_for_code(BY_CODE, record.get("eventType"), "eventType")
    at = canonical_time(parse_time(required(record, "occurredAt"), "occurredAt"))
    payload = record.get("payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise Unmappable(f"payload is not an object: {payload!r:.80}")
    data = decode_fields(shape.fields, payload)
    order_no = record.get("orderNo")
    if order_no is not None:
        if not isinstance(order_no, str) or not order_no:
            raise Unmappable(f"orderNo is not text: {order_no!r}")
        data = {ORDER: order_no, **data}
    elif shape.type.startswith("retail.order."):
        raise Unmappable("missing field 'orderNo'")
    source, subject = resolve(record, SOURCE, default_subject(data))
    return [envelope(id=event_id, source=source, type=shape.type, time=at, data=data, subject=subject)]
