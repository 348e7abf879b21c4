"""The OMS: an order-event feed, cursor-paged (GET /oms/api/v2/order-events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.mappings.fieldmap import (
    default_subject,
    encode_fields,
    iso_z,
    overrides,
    parse_time,
    shape_for_type,
)
from collectors.mappings.sim_oms import BY_TYPE, ORDER, SOURCE
from simulator.faults import Breakable
from simulator.systems.feed import Feed

TABLE = "oms_events"
BREAKABLE = Breakable(id_field="eventId", time_field="occurredAt")


def encode(event: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """A canonical event as the OMS's feed item."""
    shape = shape_for_type(BY_TYPE, event["type"])
    data = dict(event["data"])
    record: dict[str, Any] = {"eventId": event["id"]}
    if isinstance(data.get(ORDER), str):
        record["orderNo"] = data.pop(ORDER)
    record["eventType"] = shape.code
    record["occurredAt"] = iso_z(parse_time(event["time"], "time"))
    record["payload"] = encode_fields(shape.fields, data)
    record.update(overrides(event, SOURCE, default_subject(event["data"])))
    return record


def system() -> Feed:
    return Feed("oms", TABLE, encode, BREAKABLE)
