"""The simulated WMS's transaction feed -> canonical events.

Native record (GET /wms/v1/transactions):
    {"id": 1042, "txn_ref": "wms-000001", "txn_type": "PICK_CONFIRM", "wh": "DC-EAST",
     "order_ref": "ORD-000123", "ts": 1795600991000}
`id` is the feed's own row number (the cursor); `txn_ref` the transaction's identity,
the same when a record is served twice; `ts` epoch milliseconds; the source is the
warehouse (`wms/dc-east`).
"""

from __future__ import annotations

from typing import Any

from collectors.mappings.fieldmap import (
    EPOCH_MS,
    INT,
    Code,
    Field,
    Rows,
    Shape,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    from_epoch_millis,
    required,
    required_text,
    resolve,
    shape_for_code,
    shape_tables,
)

SYSTEMS = Code({"wms": "WMS", "erp": "ERP", "oms": "OMS", "pos": "POS", "marketplace": "MKT"})
ADJUST_REASONS = Code(
    {
        "cycle_count": "CC",
        "damage": "DMG",
        "shrink": "SHR",
        "receipt": "RCV",
        "sale": "SAL",
        "return": "RET",
        "transfer": "TRF",
        "manual": "MAN",
    }
)
WH = "wh"
ORDER = Field("order_id", "order_ref", required=True)
LINES = Rows((Field("sku", "item", required=True), Field("qty", "qty", INT, required=True)))

SHAPES = (
    Shape("retail.order.picked", "PICK_CONFIRM", (ORDER, Field("node_id", WH, required=True))),
    Shape("retail.order.packed", "PACK", (ORDER, Field("node_id", WH, required=True))),
    Shape(
        "retail.order.shipped",
        "SHIP",
        (
            ORDER,
            Field("node_id", WH, required=True),
            Field("shipment_id", "load_id"),
            Field("carrier", "carrier_scac"),
        ),
    ),
    Shape(
        "retail.inventory.snapshot",
        "CYCLE_COUNT",
        (
            Field("system", "sys", SYSTEMS, required=True),
            Field("location_id", WH, required=True),
            Field("sku", "item", required=True),
            Field("on_hand", "qty", INT, required=True),
            Field("reserved", "alloc_qty", INT),
        ),
    ),
    Shape(
        "retail.inventory.adjusted",
        "ADJ",
        (
            Field("system", "sys", SYSTEMS, required=True),
            Field("location_id", WH, required=True),
            Field("sku", "item", required=True),
            Field("delta", "qty", INT, required=True),
            Field("reason", "reason_code", ADJUST_REASONS, required=True),
        ),
    ),
    Shape(
        "retail.shipment.asn",
        "ASN",
        (
            Field("shipment_id", "asn_no", required=True),
            Field("to_location", WH, required=True),
            Field("expected_at", "eta", EPOCH_MS, required=True),
            Field("lines", "lines", LINES),
            Field("po_id", "po_ref"),
            Field("transfer_id", "transfer_ref"),
        ),
    ),
    Shape(
        "retail.shipment.received",
        "RECEIPT",
        (
            Field("shipment_id", "asn_no", required=True),
            Field("location_id", WH, required=True),
            Field("lines", "lines", LINES),
        ),
    ),
    Shape(
        "retail.return.received",
        "RETURN_RECEIPT",
        (
            Field("return_id", "rma_no", required=True),
            Field("sku", "item", required=True),
            Field("qty", "qty", INT, required=True),
            Field("location_id", WH, required=True),
            Field("order_id", "order_ref"),
            Field("reason_code", "rma_reason"),
        ),
    ),
    Shape(
        "retail.return.restocked",
        "RETURN_PUTAWAY",
        (
            Field("return_id", "rma_no", required=True),
            Field("location_id", WH, required=True),
            Field("sku", "item", required=True),
            Field("qty", "qty", INT, required=True),
        ),
    ),
    Shape(
        "retail.transfer.requested",
        "TRANSFER_ORDER",
        (
            Field("transfer_id", "to_no", required=True),
            Field("from_location", WH, required=True),
            Field("to_location", "dest_wh", required=True),
            Field("sku", "item", required=True),
            Field("qty", "qty", INT, required=True),
            Field("reason", "note"),
        ),
    ),
)
BY_TYPE, BY_CODE = shape_tables(SHAPES)
META = ("id", "txn_ref", "txn_type", "ts", "origin", "subjectRef")


def source_of(wh: Any) -> str:
    return f"wms/{wh.lower()}" if isinstance(wh, str) and wh else "wms"


def to_events(record: Any) -> list[dict[str, Any]]:
    """One WMS transaction -> one canonical event."""
    event_id = required_text(record, "txn_ref")
    shape = shape_for_code(BY_CODE, record.get("txn_type"), "txn_type")
    at = canonical_time(from_epoch_millis(required(record, "ts"), "ts"))
    data = decode_fields(shape.fields, {k: v for k, v in record.items() if k not in META})
    source, subject = resolve(record, source_of(record.get(WH)), default_subject(data))
    return [envelope(id=event_id, source=source, type=shape.type, time=at, data=data, subject=subject)]
