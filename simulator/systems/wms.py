"""The WMS: a transaction feed, page-numbered after an id (GET /wms/v1/transactions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.mappings.fieldmap import (
    default_subject,
    encode_fields,
    epoch_millis,
    overrides,
    parse_time,
    shape_for_type,
)
from collectors.mappings.sim_wms import BY_TYPE, WH, source_of
from simulator.faults import Breakable
from simulator.systems.feed import Feed

TABLE = "wms_transactions"
BREAKABLE = Breakable(id_field="txn_ref", time_field="ts", number_fields=("qty", "alloc_qty"))


def encode(event: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """A canonical event as a WMS transaction (the feed adds its row `id` when serving)."""
    shape = shape_for_type(BY_TYPE, event["type"])
    record: dict[str, Any] = {
        "txn_ref": event["id"],
        "txn_type": shape.code,
        "ts": epoch_millis(parse_time(event["time"], "time")),
    }
    record.update(encode_fields(shape.fields, event["data"]))
    record.update(overrides(event, source_of(record.get(WH)), default_subject(event["data"])))
    return record


def system() -> Feed:
    return Feed("wms", TABLE, encode, BREAKABLE)
