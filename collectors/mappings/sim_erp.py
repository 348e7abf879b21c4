"""The simulated ERP's tables (schema `erp`) -> canonical events.

Each table is read by the `sql_table` kind, incrementally on `change_seq`, and one row
becomes one event: `doc_no` is the event id (the document that last changed the row),
the table's time column its business time. `attrs` (jsonb) holds what the columns do
not: `ext` (extra data fields) and, rarely, `origin` / `subjectRef`.

Tables and types: stock_levels (inventory.snapshot), stock_movements
(inventory.adjusted), purchase_orders (po.updated), inbound_deliveries (shipment.asn),
goods_receipts (shipment.received), materials (product.upserted), plants
(location.upserted), documents (anything else: `doc_type` says what).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from collectors.base import Unmappable
from collectors.mappings.fieldmap import (
    EXT,
    INT,
    ISO_UTC,
    NUMBER,
    Code,
    Field,
    Rows,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    parse_time,
    required,
    required_text,
    resolve,
    shape_for_code,
)

SOURCE = "erp"


class JsonRows(Rows):
    """A jsonb column of lines: a list, or its JSON text."""

    def decode(self, value: Any, name: str) -> list[dict[str, Any]]:
        if isinstance(value, str | bytes):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise Unmappable(f"{name} is not JSON: {value!r:.80}") from None
        return super().decode(value, name)


@dataclass(frozen=True)
class Table:
    name: str
    type: str
    time_column: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    constants: Mapping[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*dict.fromkeys((*self.key, *(f.native for f in self.fields))), self.time_column)


MOVEMENT_TYPES = Code(
    {
        "receipt": "101",
        "transfer": "301",
        "damage": "551",
        "shrink": "555",
        "manual": "561",
        "sale": "601",
        "return": "651",
        "cycle_count": "701",
    }
)
PO_STATUS = Code({"open": "NB", "confirmed": "AB", "changed": "AE", "cancelled": "ST", "received": "WE"})
PLANT_TYPES = Code({"store": "ST", "dc": "DC", "3pl": "3P", "dark_store": "DS", "marketplace": "MP"})
ITEMS = JsonRows((Field("sku", "material", required=True), Field("qty", "qty", INT, required=True)))
ERP_SYSTEM = {"system": "erp"}

STOCK_LEVELS = Table(
    "stock_levels",
    "retail.inventory.snapshot",
    "counted_at",
    ("plant", "material"),
    (
        Field("location_id", "plant", required=True),
        Field("sku", "material", required=True),
        Field("on_hand", "unrestricted_qty", INT, required=True),
        Field("reserved", "reserved_qty", INT),
    ),
    ERP_SYSTEM,
)
STOCK_MOVEMENTS = Table(
    "stock_movements",
    "retail.inventory.adjusted",
    "posted_at",
    ("doc_no",),
    (
        Field("location_id", "plant", required=True),
        Field("sku", "material", required=True),
        Field("delta", "qty_change", INT, required=True),
        Field("reason", "movement_type", MOVEMENT_TYPES, required=True),
    ),
    ERP_SYSTEM,
)
PURCHASE_ORDERS = Table(
    "purchase_orders",
    "retail.po.updated",
    "changed_at",
    ("po_number", "material"),
    (
        Field("po_id", "po_number", required=True),
        Field("supplier_id", "vendor", required=True),
        Field("sku", "material", required=True),
        Field("qty", "order_qty", INT, required=True),
        Field("expected_at", "delivery_date", ISO_UTC, required=True),
        Field("status", "status_code", PO_STATUS),
    ),
)
INBOUND_DELIVERIES = Table(
    "inbound_deliveries",
    "retail.shipment.asn",
    "created_at",
    ("doc_no",),
    (
        Field("shipment_id", "delivery_no", required=True),
        Field("to_location", "plant", required=True),
        Field("expected_at", "eta", ISO_UTC, required=True),
        Field("lines", "items", ITEMS),
        Field("po_id", "po_number"),
        Field("transfer_id", "transfer_no"),
    ),
)
GOODS_RECEIPTS = Table(
    "goods_receipts",
    "retail.shipment.received",
    "posted_at",
    ("doc_no",),
    (
        Field("shipment_id", "delivery_no", required=True),
        Field("location_id", "plant", required=True),
        Field("lines", "items", ITEMS),
    ),
)
MATERIALS = Table(
    "materials",
    "retail.product.upserted",
    "changed_at",
    ("material",),
    (
        Field("sku", "material", required=True),
        Field("unit_cost", "std_cost", NUMBER, required=True),
        Field("name", "description"),
        Field("category", "mat_group"),
        Field("unit_price", "list_price", NUMBER),
    ),
)
PLANTS = Table(
    "plants",
    "retail.location.upserted",
    "changed_at",
    ("plant",),
    (
        Field("location_id", "plant", required=True),
        Field("kind", "plant_type", PLANT_TYPES, required=True),
        Field("region", "region", required=True),
        Field("name", "name1"),
        Field("daily_capacity", "capacity_per_day", INT),
    ),
)
DOCUMENTS = Table("documents", "", "posted_at", ("doc_no",), ())

TABLES = (
    STOCK_LEVELS,
    STOCK_MOVEMENTS,
    PURCHASE_ORDERS,
    INBOUND_DELIVERIES,
    GOODS_RECEIPTS,
    MATERIALS,
    PLANTS,
    DOCUMENTS,
)
TABLE_BY_TYPE = {t.type: t for t in TABLES if t.type}


def attributes(row: Mapping[str, Any]) -> dict[str, Any]:
    attrs = row.get("attrs")
    if attrs is None:
        return {}
    if isinstance(attrs, str | bytes):
        try:
            attrs = orjson.loads(attrs)
        except orjson.JSONDecodeError:
            raise Unmappable(f"attrs is not JSON: {attrs!r:.80}") from None
    if not isinstance(attrs, dict):
        raise Unmappable(f"attrs is not an object: {attrs!r:.80}")
    return attrs


def row_to_event(table: Table, row: Any) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise Unmappable(f"the row is not a mapping of columns: {row!r:.80}")
    event_id = required_text(row, "doc_no")
    event_type = table.type or shape_for_code({}, row.get("doc_type"), "doc_type").type
    at = canonical_time(parse_time(required(row, table.time_column), table.time_column))
    attrs = attributes(row)
    native = {**row, EXT: attrs.get(EXT)}
    data = {**table.constants, **decode_fields(table.fields, native, null_is_absent=True)}
    source, subject = resolve(attrs, SOURCE, default_subject(data))
    return envelope(id=event_id, source=source, type=event_type, time=at, data=data, subject=subject)


def _mapper(table: Table) -> Callable[[Any], list[dict[str, Any]]]:
    """The mapping function of one ERP table (a source names it "module:function")."""

    def events(row: Any) -> list[dict[str, Any]]:
        return [row_to_event(table, row)]

    return events


stock_level_events = _mapper(STOCK_LEVELS)
stock_movement_events = _mapper(STOCK_MOVEMENTS)
purchase_order_events = _mapper(PURCHASE_ORDERS)
inbound_delivery_events = _mapper(INBOUND_DELIVERIES)
goods_receipt_events = _mapper(GOODS_RECEIPTS)
material_events = _mapper(MATERIALS)
plant_events = _mapper(PLANTS)
document_events = _mapper(DOCUMENTS)

MAPPINGS = {
    STOCK_LEVELS.name: "stock_level_events",
    STOCK_MOVEMENTS.name: "stock_movement_events",
    PURCHASE_ORDERS.name: "purchase_order_events",
    INBOUND_DELIVERIES.name: "inbound_delivery_events",
    GOODS_RECEIPTS.name: "goods_receipt_events",
    MATERIALS.name: "material_events",
    PLANTS.name: "plant_events",
    DOCUMENTS.name: "document_events",
}
"""Table name -> the function of this module that maps its rows."""
