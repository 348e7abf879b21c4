"""The store POS: a `;`-separated CSV per store every 4 hours, in local store time.

`<drop>/pos/store-0042_20261127T0900.csv` holds the records published in the 4 hours up
to 09:00 local time (08:00 UTC), followed by `store-0042_20261127T0900.csv.ok`.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from collectors.mappings.fieldmap import (
    EXT,
    default_subject,
    encode_fields,
    generic_code,
    overrides,
    parse_time,
)
from collectors.mappings.sim_pos import (
    BY_TYPE,
    COLUMNS,
    DELIMITER,
    GENERIC,
    POS_SYSTEM,
    STORE_TIMEZONE,
    TIME_FORMAT,
    source_of,
)
from simulator.faults import Breakable, FaultBoard, break_record
from simulator.systems.files import FileDrop
from simulator.systems.system import Published

WINDOW = timedelta(hours=4)
BREAKABLE = Breakable(id_field="txn_id", time_field="local_time", number_fields=("qty", "reserved"))


class Line(NamedTuple):
    key: str  # the file's store part, e.g. "store-0042"
    row: dict[str, Any]


def file_name(key: str, end: datetime) -> str:
    return f"{key}_{end.astimezone(STORE_TIMEZONE):%Y%m%dT%H%M}.csv"


def store_key(event: dict[str, Any]) -> str:
    source = str(event.get("source") or "")
    if source.startswith("pos/") and len(source) > 4:
        return source[4:].replace("/", "-")
    location = event["data"].get("location_id")
    return location.lower() if isinstance(location, str) else "pos"


def encode(event: dict[str, Any], at: datetime | None = None) -> Line:
    """A canonical event as a row of a store's POS file."""
    data = event["data"]
    row: dict[str, Any] = dict.fromkeys(COLUMNS, "")
    row["txn_id"] = event["id"]
    row["local_time"] = parse_time(event["time"], "time").astimezone(STORE_TIMEZONE).strftime(TIME_FORMAT)
    shape = BY_TYPE.get(event["type"])
    ext: dict[str, Any] = {}
    if shape is None:
        row["kind"] = GENERIC
        row["reason"] = generic_code(event["type"])
        row["store"] = data.get("location_id") or ""
        ext = dict(data)
    else:
        row["kind"] = shape.code
        plain = {}
        for key, value in data.items():
            if value is None or (key in POS_SYSTEM and POS_SYSTEM[key] == value):
                if value is None:
                    ext[key] = None
                continue
            plain[key] = value
        native = encode_fields(shape.fields, plain)
        ext.update(native.pop(EXT, {}))
        row.update({k: "" if v is None else str(v) for k, v in native.items()})
    attrs: dict[str, Any] = {EXT: ext} if ext else {}
    attrs.update(overrides(event, source_of(row["store"] or None), default_subject(data)))
    row["attrs"] = orjson.dumps(attrs).decode() if attrs else ""
    return Line(store_key(event), row)


_NEEDS_QUOTES = frozenset(DELIMITER + '"\r\n')


def csv_line(row: dict[str, Any]) -> str:
    """One row as a line of the file (quoted the way the csv module does, when needed)."""
    values = [str(row.get(c, "")) for c in COLUMNS]
    if not any(_NEEDS_QUOTES.intersection(v) for v in values):
        return DELIMITER.join(values) + "\n"
    out = io.StringIO()
    csv.DictWriter(out, COLUMNS, delimiter=DELIMITER, lineterminator="\n", restval="").writerow(row)
    return out.getvalue()


HEADER = DELIMITER.join(COLUMNS) + "\n"


class Pos:
    name = "pos"

    def __init__(self, drop_dir: Path, faults: FaultBoard) -> None:
        self.files = FileDrop("pos", drop_dir / "pos", WINDOW, file_name, faults, header=HEADER)

    def encode(self, event: dict[str, Any], at: datetime) -> Line:
        return encode(event)

    def break_record(self, record: Line, rng: random.Random) -> Line:
        return Line(record.key, break_record(record.row, BREAKABLE, rng))

    def write(self, conn: Connection, items: list[Published]) -> None:
        self.files.append([(item.record.key, item.at, csv_line(item.record.row)) for item in items])

    def tick(self, until: datetime) -> None:
        self.files.tick(until)


def system(drop_dir: Path, faults: FaultBoard) -> Pos:
    return Pos(drop_dir, faults)
