"""Raw record -> a valid event with its COPY lines ready, or a readable reason it is not.

Validation is the compiled validator of `app.events.validator` (the models of
`app.events.models`). What is stored is the event as sent, unknown fields kept, with its
timestamps in UTC (EVENTS.md: "Timestamps are stored in UTC"). The content hash is taken
over that canonical form with sorted keys, so key order, white space and the offset a
timestamp is written in do not make two copies of one event differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from app.events.models import EVENT_TYPES, TIMESTAMP_FIELDS
from app.events.validator import EVENT_VALIDATOR
from app.ingest import copytext

# specversion is always "1.0"; the others have columns of their own; the rest go to attrs
CORE_ATTRIBUTES = frozenset({"specversion", "id", "source", "type", "time", "subject", "data"})
MAX_REASON = 500
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not an escaped backslash + "u0000"
_SORTED = orjson.OPT_SORT_KEYS

# extracted columns of `events`: the first of these `data` fields that the type declares
_EXTRACTED = {
    "order_id": ("order_id",),
    "location_id": ("location_id", "node_id", "to_node", "to_location"),
    "sku": ("sku",),
    "interface": ("interface",),
}
_NONE = "\x00"  # never a key of `data` (a NUL anywhere is refused)
EXTRACT: dict[str, tuple[str, ...]] = {
    event_type: tuple(
        next((f for f in candidates if f in model.model_fields), _NONE) for candidates in _EXTRACTED.values()
    )
    for event_type, model in EVENT_TYPES.items()
}

# batch_id comes last in both: see copytext.rows_with_trailing_column
EVENT_COLUMNS = (
    "source", "id", "type", "time", "subject", "data", "attrs", "record_no",
    "order_id", "location_id", "sku", "interface", "batch_id",
)  # fmt: skip
KEY_COLUMNS = ("source", "id", "time", "content_hash", "batch_id")


class Valid(NamedTuple):
    """A valid event, with its COPY lines ready (each lacking the trailing batch_id).

    A tuple, so that batches pickle cheaply between processes.
    """

    record_no: int
    source: str
    id: str
    time: datetime  # UTC
    content_hash: int
    event_line: str  # EVENT_COLUMNS
    key_line: str  # KEY_COLUMNS


@dataclass(slots=True)
class Invalid:
    record_no: int
    reason: str
    source: str | None = None
    event_id: str | None = None


def content_hash(canonical: bytes) -> int:
    return int.from_bytes(blake2b(canonical, digest_size=8).digest(), "big", signed=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def validate(record_no: int, raw: bytes) -> Valid | Invalid:
    """Validate one raw record against the contract."""
    try:
        event = EVENT_VALIDATOR.validate_json(raw)
    except ValidationError as exc:
        return _invalid(record_no, raw, exc)
    event_type: str = event["type"]
    source: str = event["source"]
    event_id: str = event["id"]
    subject: str | None = event.get("subject")
    data: dict[str, Any] = event["data"]
    try:
        for field in TIMESTAMP_FIELDS.get(event_type, ()):
            value = data.get(field)
            if value is not None:
                data[field] = value.astimezone(UTC)
        field = "time"
        utc = event["time"].astimezone(UTC)
    except OverflowError:
        where = field if field == "time" else f"data.{field}"
        reason = f"{where}: outside the years 0001-9999 once converted to UTC"
        return Invalid(record_no, reason, source, event_id)
    # extra attributes exist when there are more keys than the core ones present
    attrs = None
    if len(event) > 6 + ("subject" in event):  # 6 required: specversion id source type time data
        attrs = {k: event[k] for k in event.keys() - CORE_ATTRIBUTES}
    time_json = orjson.dumps(utc)  # b'"2026-11-20T13:03:11+00:00"': one text per instant
    try:
        data_json = orjson.dumps(data, option=_SORTED)  # stored sorted: jsonb keeps no order anyway
        attrs_json = orjson.dumps(attrs, option=_SORTED) if attrs else b"null"
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits in an extra field
        return Invalid(record_no, f"cannot be stored: {exc}", source, event_id)
    if (
        (b"\\u0000" in data_json or b"\\u0000" in attrs_json)
        and (_NUL.search(data_json) or _NUL.search(attrs_json))
        or "\x00" in source
        or "\x00" in event_id
        or (subject is not None and "\x00" in subject)
    ):
        reason = "holds a NUL character (\\u0000), which PostgreSQL cannot store"
        return Invalid(record_no, reason, source, event_id)
    # the canonical content: type, instant, subject, data and attributes ("\x00": no subject)
    head = f"{event_type}\x1e{subject if subject is not None else chr(0)}\x1e".encode()
    hash_ = content_hash(b"\x1e".join((head, time_json, data_json, attrs_json)))
    time_text = time_json[1:-1].decode()
    order_key, location_key, sku_key, interface_key = EXTRACT[event_type]
    get = data.get  # declared fields only: validated, so a str or None
    fields = (
        source, event_id, event_type, time_text, subject, data_json.decode(),
        attrs_json.decode() if attrs else None, str(record_no),
        get(order_key), get(location_key), get(sku_key), get(interface_key),
    )  # fmt: skip
    event_line = copytext.line(fields)
    end_of_id = event_line.index("\t", event_line.index("\t") + 1)  # source and id, escaped
    key_line = f"{event_line[:end_of_id]}\t{time_text}\t{hash_}"
    return Valid(record_no, source, event_id, utc, hash_, event_line, key_line)


def _invalid(record_no: int, raw: bytes, exc: ValidationError) -> Invalid:
    """A readable reason, and the event's source and id when they can be read."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    source = event_id = None
    if first["type"] == "json_invalid":
        return Invalid(record_no, f"not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        source, event_id = _text(parsed.get("source")), _text(parsed.get("id"))
    if first["type"] == "dict_type" and not first["loc"]:
        kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        kind = kinds.get(type(parsed), "a number")
        reason = f"an event must be a JSON object, got {kind}"
    elif first["type"] == "union_tag_not_found":
        reason = "missing field type"
    elif first["type"] == "union_tag_invalid":
        event_type = parsed.get("type") if isinstance(parsed, dict) else None
        reason = f"unknown type {event_type!r} (see contracts/EVENTS.md for the list)"
    else:
        reason = _describe(errors, exc.error_count())
    return Invalid(record_no, reason[:MAX_REASON], source, event_id)


def _describe(errors: list[Any], total: int) -> str:
    parts = []
    for error in errors[:3]:
        loc = ".".join(str(p) for p in error["loc"][1:])  # loc[0] is the event type (the tag)
        message = error["msg"]
        if error["type"] == "missing":
            parts.append(f"missing field {loc}")
        elif error["type"] == "literal_error":
            allowed = message.replace("Input should be", "must be")
            parts.append(f"{loc}: {allowed}, got {error['input']!r}")
        else:
            parts.append(f"{loc}: {message}")
    more = total - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def raw_text(raw: bytes) -> str:
    """The raw record as text PostgreSQL can store (bad UTF-8 and NUL made visible)."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
