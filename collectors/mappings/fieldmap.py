"""Declarative field maps between a canonical event's `data` and a native record.

A `Shape` lists, for one canonical type, which native field holds each canonical field
and how its value is written there (`Codec`). The same table turns canonical data into
the native payload (the simulator uses it to play the source system) and back (the
collectors' mappings), so the two directions cannot drift apart.

Rules both ways:
- a canonical field present (even as null) is present natively, and the other way round;
- canonical fields the shape does not know travel verbatim in the native `ext` object;
- decoding a required field that is missing, empty or of the wrong form raises
  `Unmappable` naming the native field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.events.models import EVENT_TYPES
from collectors.base import Unmappable

EXT = "ext"


class Codec(Protocol):
    def encode(self, value: Any) -> Any: ...

    def decode(self, value: Any, name: str) -> Any: ...


class _Text:
    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any, name: str) -> Any:
        if not isinstance(value, str):
            raise Unmappable(f"{name} is not text: {value!r}")
        return value


class _Int:
    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any, name: str) -> int:
        return whole_number(value, name)


class _Number:
    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any, name: str) -> int | float:
        return number(value, name)


class _IsoUtc:
    """RFC 3339 in UTC with a `Z` (what most JSON APIs write)."""

    def encode(self, value: Any) -> Any:
        return iso_z(parse_time(value, "time"))

    def decode(self, value: Any, name: str) -> str:
        return canonical_time(parse_time(value, name))


class _EpochMillis:
    def encode(self, value: Any) -> Any:
        return epoch_millis(parse_time(value, "time"))

    def decode(self, value: Any, name: str) -> str:
        return canonical_time(from_epoch_millis(value, name))


@dataclass(frozen=True)
class Code:
    """A closed code list: canonical value -> native code."""

    table: Mapping[str, str]

    def encode(self, value: Any) -> Any:
        return self.table.get(value, value)

    def decode(self, value: Any, name: str) -> str:
        for canonical, native in self.table.items():
            if native == value:
                return canonical
        raise Unmappable(f"{name} has an unknown code: {value!r}")


@dataclass(frozen=True)
class Rows:
    """A list of small objects, each mapped with its own fields (order lines...)."""

    fields: Sequence[Field]

    def encode(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [encode_fields(self.fields, item) if isinstance(item, dict) else item for item in value]

    def decode(self, value: Any, name: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise Unmappable(f"{name} is not a list: {value!r}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise Unmappable(f"{name}[{i}] is not an object: {item!r}")
            out.append(decode_fields(self.fields, item, f"{name}[{i}]."))
        return out


TEXT: Codec = _Text()
INT: Codec = _Int()
NUMBER: Codec = _Number()
ISO_UTC: Codec = _IsoUtc()
EPOCH_MS: Codec = _EpochMillis()


@dataclass(frozen=True)
class Field:
    canonical: str
    native: str
    codec: Codec = TEXT
    required: bool = False


@dataclass(frozen=True)
class Shape:
    """One canonical type as a system records it: its native code and its fields."""

    type: str
    code: str
    fields: Sequence[Field] = field(default_factory=tuple)


def encode_fields(fields: Sequence[Field], data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = set()
    for f in fields:
        known.add(f.canonical)
        if f.canonical in data:
            value = data[f.canonical]
            out[f.native] = None if value is None else f.codec.encode(value)
    extra = {k: v for k, v in data.items() if k not in known}
    if extra:
        out[EXT] = extra
    return out


def decode_fields(
    fields: Sequence[Field], native: Mapping[str, Any], prefix: str = "", *, null_is_absent: bool = False
) -> dict[str, Any]:
    """The canonical data of a native record; `null_is_absent` for tables and CSV files,
    where every column is always there."""
    out: dict[str, Any] = {}
    for f in fields:
        name = prefix + f.native
        if f.native not in native or native[f.native] is None or native[f.native] == "":
            if f.required:
                raise Unmappable(f"missing field {name!r}")
            if f.native in native and not null_is_absent:
                out[f.canonical] = None
            continue
        out[f.canonical] = f.codec.decode(native[f.native], name)
    extra = native.get(EXT)
    if extra is not None:
        if not isinstance(extra, dict):
            raise Unmappable(f"{prefix}{EXT} is not an object: {extra!r}")
        out.update(extra)
    return out


def shape_tables(shapes: Sequence[Shape]) -> tuple[dict[str, Shape], dict[str, Shape]]:
    """(by canonical type, by native code)."""
    return {s.type: s for s in shapes}, {s.code: s for s in shapes}


def generic_code(event_type: str) -> str:
    """A native code for a type the system has no shape for: `retail.return.received` -> RETURN_RECEIVED."""
    return event_type.removeprefix("retail.").replace(".", "_").upper()


def generic_type(code: str) -> str:
    return "retail." + code.lower().replace("_", ".")


def shape_for_type(by_type: Mapping[str, Shape], event_type: str) -> Shape:
    return by_type.get(event_type) or Shape(event_type, generic_code(event_type))


def shape_for_code(by_code: Mapping[str, Shape], code: Any, name: str) -> Shape:
    if not isinstance(code, str) or not code:
        raise Unmappable(f"{name} is missing or not text: {code!r}")
    if code in by_code:
        return by_code[code]
    if generic_type(code) not in EVENT_TYPES:
        raise Unmappable(f"{name} has an unknown code: {code!r}")
    return Shape(generic_type(code), code)


# --- values ------------------------------------------------------------------------------


def whole_number(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise Unmappable(f"{name} is not a whole number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    raise Unmappable(f"{name} is not a whole number: {value!r}")


def number(value: Any, name: str) -> int | float:
    if isinstance(value, bool):
        raise Unmappable(f"{name} is not a number: {value!r}")
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise Unmappable(f"{name} is not a number: {value!r}") from None
        if not parsed.is_finite():
            raise Unmappable(f"{name} is not a number: {value!r}")
        return (
            int(parsed) if parsed == parsed.to_integral_value() and "." not in str(parsed) else float(parsed)
        )
    raise Unmappable(f"{name} is not a number: {value!r}")


def parse_time(value: Any, name: str) -> datetime:
    """An aware datetime from a datetime or an RFC 3339 string with an offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise Unmappable(f"{name} has no time zone: {value!r}")
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Unmappable(f"{name} is not a date and time: {value!r}") from None
        if parsed.tzinfo is None:
            raise Unmappable(f"{name} has no offset: {value!r}")
        return parsed
    raise Unmappable(f"{name} is not a date and time: {value!r}")


def parse_local_time(value: Any, name: str, zone: ZoneInfo, fmt: str) -> datetime:
    if not isinstance(value, str):
        raise Unmappable(f"{name} is not a date and time: {value!r}")
    try:
        return datetime.strptime(value.strip(), fmt).replace(tzinfo=zone)
    except ValueError:
        raise Unmappable(f"{name} is not a date and time in the form {fmt}: {value!r}") from None


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def canonical_time(value: datetime) -> str:
    """How the mappings write every canonical timestamp: RFC 3339 in UTC."""
    return value.astimezone(UTC).isoformat()


def epoch_millis(value: datetime) -> int:
    return int(round(value.timestamp() * 1000))


def from_epoch_millis(value: Any, name: str) -> datetime:
    try:
        millis = whole_number(value, name)
    except Unmappable:
        raise Unmappable(f"{name} is not a time in epoch milliseconds: {value!r}") from None
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise Unmappable(f"{name} is not a time in epoch milliseconds: {value!r}") from None


# --- envelope ----------------------------------------------------------------------------

SUBJECT_KEYS = ("order_id", "po_id", "shipment_id", "return_id", "transfer_id")


def default_subject(data: Mapping[str, Any]) -> str | None:
    """The subject the mappings give an event when the native record does not say."""
    for key in SUBJECT_KEYS:
        if isinstance(data.get(key), str):
            return str(data[key])
    sku, location = data.get("sku"), data.get("location_id")
    if isinstance(sku, str) and isinstance(location, str):
        return f"{sku}@{location}"
    for key in ("sku", "location_id", "correlation_id"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None


def envelope(
    *, id: str, source: str, type: str, time: str, data: dict[str, Any], subject: str | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "time": time,
    }
    if subject is not None:
        event["subject"] = subject
    event["data"] = data
    return event


def required(record: Mapping[str, Any], key: str) -> Any:
    if not isinstance(record, Mapping):
        raise Unmappable(f"the record is not an object: {record!r:.80}")
    value = record.get(key)
    if value is None or value == "":
        raise Unmappable(f"missing field {key!r}")
    return value


def required_text(record: Mapping[str, Any], key: str) -> str:
    value = required(record, key)
    if not isinstance(value, str):
        raise Unmappable(f"{key} is not text: {value!r}")
    return value


# --- when the conventions above do not give the event's source or subject ---------------
# A native record then says so itself: `origin` (the emitting system as the source calls
# it) and `subjectRef` (null: the event has no subject).

ORIGIN, SUBJECT_REF = "origin", "subjectRef"


def overrides(event: Mapping[str, Any], source: str, subject: str | None) -> dict[str, Any]:
    """What a native record must add so that the mapping gives back `event`'s source and subject."""
    out: dict[str, Any] = {}
    if event.get("source") != source:
        out[ORIGIN] = event.get("source")
    if event.get("subject") != subject:
        out[SUBJECT_REF] = event.get("subject")
    return out


def resolve(native: Mapping[str, Any], source: str, subject: str | None) -> tuple[str, str | None]:
    """The source and subject of a native record: its own overrides, else the conventions."""
    if ORIGIN in native:
        source = native[ORIGIN]
        if not isinstance(source, str) or not source:
            raise Unmappable(f"{ORIGIN} is not text: {source!r}")
    if SUBJECT_REF in native:
        subject = native[SUBJECT_REF]
        if subject is not None and not isinstance(subject, str):
            raise Unmappable(f"{SUBJECT_REF} is not text: {subject!r}")
    return source, subject
