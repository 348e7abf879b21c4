"""The simulated marketplace's JSON Lines drops -> canonical events.

Files `<drop>/marketplace/acme-20261127T08.jsonl` (hourly, UTC, a `.ok` marker once
complete), one order update a line:

    {"update_id": "mp-acme-000001", "marketplace": "acme", "status": "NEW",
     "mp_order_ref": "MP-000123", "created": "2026-11-27T08:12:00+00:00", "sla_hours": 48,
     "items": [{"seller_sku": "SKU-00017", "qty": 1, "price": 19.9}], "ship_region": "north"}

Statuses NEW, CANCELLED, SHIPPED and DELIVERED are order events; any other status is
the native code of another record kind, with its data in `ext`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from collectors.base import Unmappable
from collectors.mappings.fieldmap import (
    INT,
    NUMBER,
    Field,
    Rows,
    Shape,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    number,
    parse_time,
    required,
    required_text,
    resolve,
    shape_for_code,
    shape_tables,
)

ORDER = Field("order_id", "mp_order_ref", required=True)
ITEMS = Rows(
    (
        Field("sku", "seller_sku", required=True),
        Field("qty", "qty", INT, required=True),
        Field("unit_price", "price", NUMBER),
    )
)
NEW = "NEW"
MARKETPLACE_CHANNEL = {"channel": "marketplace"}
SHAPES = (
    Shape(
        "retail.order.created",
        NEW,
        (ORDER, Field("lines", "items", ITEMS, required=True), Field("ship_to_region", "ship_region")),
    ),
    Shape("retail.order.cancelled", "CANCELLED", (ORDER, Field("reason", "cancel_reason"))),
    Shape(
        "retail.order.shipped",
        "SHIPPED",
        (
            ORDER,
            Field("node_id", "fulfilled_by", required=True),
            Field("shipment_id", "tracking_no"),
            Field("carrier", "carrier"),
        ),
    ),
    Shape("retail.order.delivered", "DELIVERED", (ORDER,)),
)
BY_TYPE, BY_CODE = shape_tables(SHAPES)


def time_field(code: str) -> str:
    return "created" if code == NEW else "updated"


def source_of(marketplace: Any) -> str:
    return f"marketplace/{marketplace}" if isinstance(marketplace, str) and marketplace else "marketplace"


def to_events(record: Any) -> list[dict[str, Any]]:
    """One marketplace order update -> one canonical event."""
    event_id = required_text(record, "update_id")
    shape = shape_for_code(BY_CODE, record.get("status"), "status")
    name = time_field(shape.code)
    at = parse_time(required(record, name), name)
    data = decode_fields(shape.fields, record)
    if shape.code == NEW:
        hours = number(required(record, "sla_hours"), "sla_hours")
        if hours < 0:
            raise Unmappable(f"sla_hours is negative: {hours!r}")
        promised = at + timedelta(seconds=round(hours * 3600))
        data = {**MARKETPLACE_CHANNEL, **data, "promised_by": canonical_time(promised)}
        data.update(record.get("ext") or {})
    source, subject = resolve(record, source_of(record.get("marketplace")), default_subject(data))
    event_type = shape.type
    return [
        envelope(
            id=event_id, source=source, type=event_type, time=canonical_time(at), data=data, subject=subject
        )
    ]
