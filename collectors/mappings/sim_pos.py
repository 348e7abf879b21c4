"""The simulated store POS's CSV drops -> canonical events.

Files `<drop>/pos/store-0042_20261127T0900.csv` (`;` delimited, local store time, a
`.ok` marker once complete), one row a record, as the `file_drop` kind hands them
(column -> text):

    txn_id;store;sku;kind;qty;reserved;reason;local_time;attrs
    pos-0042-000001;STORE-0042;SKU-00017;COUNT;12;0;;27.11.2026 09:00:00;
    pos-0042-000002;STORE-0042;SKU-00017;MOVE;-1;;SALE;27.11.2026 09:14:03;

COUNT is a stock count (inventory.snapshot), MOVE a stock movement (inventory.adjusted);
EVT any other record (`reason` holds its code, `attrs` its data as JSON).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import orjson

from collectors.base import Unmappable
from collectors.mappings.fieldmap import (
    EXT,
    INT,
    Code,
    Field,
    Shape,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    parse_local_time,
    required,
    required_text,
    resolve,
    shape_for_code,
)

STORE_TIMEZONE = ZoneInfo("Europe/Berlin")
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
COLUMNS = ("txn_id", "store", "sku", "kind", "qty", "reserved", "reason", "local_time", "attrs")
DELIMITER = ";"
GENERIC = "EVT"
POS_SYSTEM = {"system": "pos"}

MOVE_REASONS = Code(
    {
        "sale": "SALE",
        "return": "RETURN",
        "damage": "DAMAGE",
        "shrink": "SHRINK",
        "receipt": "RECEIPT",
        "transfer": "TRANSFER",
        "cycle_count": "COUNT",
        "manual": "MANUAL",
    }
)
SHAPES = {
    "COUNT": Shape(
        "retail.inventory.snapshot",
        "COUNT",
        (
            Field("location_id", "store", required=True),
            Field("sku", "sku", required=True),
            Field("on_hand", "qty", INT, required=True),
            Field("reserved", "reserved", INT),
        ),
    ),
    "MOVE": Shape(
        "retail.inventory.adjusted",
        "MOVE",
        (
            Field("location_id", "store", required=True),
            Field("sku", "sku", required=True),
            Field("delta", "qty", INT, required=True),
            Field("reason", "reason", MOVE_REASONS, required=True),
        ),
    ),
}
BY_TYPE = {s.type: s for s in SHAPES.values()}


def source_of(store: Any) -> str:
    return f"pos/{store.lower()}" if isinstance(store, str) and store else "pos"


def attributes(text: Any) -> dict[str, Any]:
    if text is None or text == "":
        return {}
    try:
        attrs = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise Unmappable(f"attrs is not JSON: {text!r:.80}") from None
    if not isinstance(attrs, dict):
        raise Unmappable(f"attrs is not a JSON object: {text!r:.80}")
    return attrs


def to_events(row: Any) -> list[dict[str, Any]]:
    """One CSV row -> one canonical event."""
    event_id = required_text(row, "txn_id")
    kind = required_text(row, "kind")
    attrs = attributes(row.get("attrs"))
    local = parse_local_time(required(row, "local_time"), "local_time", STORE_TIMEZONE, TIME_FORMAT)
    if kind == GENERIC:
        shape = shape_for_code({}, row.get("reason"), "reason")
        data = decode_fields((), {EXT: attrs.get(EXT) or {}})
    elif kind in SHAPES:
        shape = SHAPES[kind]
        native = {**row, EXT: attrs.get(EXT)}
        data = {**POS_SYSTEM, **decode_fields(shape.fields, native, null_is_absent=True)}
    else:
        raise Unmappable(f"kind has an unknown code: {kind!r}")
    source, subject = resolve(attrs, source_of(row.get("store")), default_subject(data))
    return [
        envelope(
            id=event_id,
            source=source,
            type=shape.type,
            time=canonical_time(local),
            data=data,
            subject=subject,
        )
    ]
