"""The marketplace: JSON Lines of order updates, one file per marketplace and UTC hour.

`<drop>/marketplace/acme-20261127T08.jsonl` holds the updates published from 08:00 to
09:00 UTC, followed by `acme-20261127T08.jsonl.ok`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from collectors.mappings.fieldmap import (
    default_subject,
    encode_fields,
    overrides,
    parse_time,
    shape_for_type,
)
from collectors.mappings.sim_marketplace import BY_TYPE, MARKETPLACE_CHANNEL, NEW, source_of, time_field
from simulator.faults import Breakable, FaultBoard, break_record
from simulator.systems.files import FileDrop
from simulator.systems.system import Published

WINDOW = timedelta(hours=1)


class Line(NamedTuple):
    key: str  # the marketplace, e.g. "acme"
    record: dict[str, Any]


def file_name(key: str, end: datetime) -> str:
    return f"{key}-{end - WINDOW:%Y%m%dT%H}.jsonl"


def marketplace_of(event: dict[str, Any]) -> str:
    source = str(event.get("source") or "")
    return source.split("/", 1)[1].replace("/", "-") if source.startswith("marketplace/") else "marketplace"


def encode(event: dict[str, Any], at: datetime | None = None) -> Line:
    """A canonical event as a line of the marketplace's order-update file."""
    shape = shape_for_type(BY_TYPE, event["type"])
    when = parse_time(event["time"], "time")
    data = dict(event["data"])
    name = marketplace_of(event)
    record: dict[str, Any] = {"update_id": event["id"], "marketplace": name, "status": shape.code}
    record[time_field(shape.code)] = when.isoformat()
    if shape.code == NEW:
        promised = parse_time(data.pop("promised_by"), "promised_by")
        record["sla_hours"] = round((promised - when).total_seconds() / 3600, 6)
        if data.get("channel") == MARKETPLACE_CHANNEL["channel"]:
            del data["channel"]
    record.update(encode_fields(shape.fields, data))
    record.update(overrides(event, source_of(name), default_subject(event["data"])))
    return Line(name, record)


class Marketplace:
    name = "marketplace"

    def __init__(self, drop_dir: Path, faults: FaultBoard) -> None:
        self.files = FileDrop("marketplace", drop_dir / "marketplace", WINDOW, file_name, faults)

    def encode(self, event: dict[str, Any], at: datetime) -> Line:
        return encode(event)

    def break_record(self, record: Line, rng: random.Random) -> Line:
        how = Breakable("update_id", time_field(record.record.get("status", "")), ("sla_hours",))
        return Line(record.key, break_record(record.record, how, rng))

    def write(self, conn: Connection, items: list[Published]) -> None:
        self.files.append(
            [(item.record.key, item.at, orjson.dumps(item.record.record).decode() + "\n") for item in items]
        )

    def tick(self, until: datetime) -> None:
        self.files.tick(until)


def system(drop_dir: Path, faults: FaultBoard) -> Marketplace:
    return Marketplace(drop_dir, faults)
