"""Raw record -> a row ready to stage, or a readable reason it cannot be stored.

Validation is the pydantic models of `app.events`; what is stored is the event as sent
(unknown fields kept) with its timestamps rewritten in UTC, as EVENTS.md says. The content
hash is taken over that canonical form with sorted keys, so key order, white space and
the offset a timestamp is written in do not make two copies of an event differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

import orjson
from pydantic import ValidationError

from app.events.models import EVENT_TYPES, TIMESTAMP_FIELDS, envelope_model

CORE_ATTRIBUTES = frozenset({"specversion", "id", "source", "type", "time", "subject", "data"})
MAX_REASON = 500
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not an escaped backslash + "u0000"


@dataclass(slots=True)
class Valid:
    record_no: int
    source: str
    id: str
    type: str
    time: datetime
    subject: str | None
    data: str  # JSON text
    attrs: str | None  # JSON text of the other envelope attributes
    content_hash: int


@dataclass(slots=True)
class Invalid:
    record_no: int
    reason: str
    source: str | None = None
    event_id: str | None = None


def content_hash(canonical: bytes) -> int:
    return int.from_bytes(blake2b(canonical, digest_size=8).digest(), "big", signed=True)


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in error["loc"])
        message = error["msg"]
        if error["type"] == "missing":
            parts.append(f"missing field {loc}")
        elif error["type"] == "literal_error":
            parts.append(f"{loc}: {message.replace('Input should be', 'must be')}, got {error['input']!r}")
        else:
            parts.append(f"{loc}: {message}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def validate(record_no: int, raw: bytes) -> Valid | Invalid:
    """Validate one raw record against the contract."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Invalid(record_no, f"not valid JSON: {exc}")
    if not isinstance(event, dict):
        kind = type(event).__name__.replace("dict", "object").replace("list", "array")
        return Invalid(record_no, f"an event must be a JSON object, got {kind}")
    source, event_id = _text(event.get("source")), _text(event.get("id"))
    event_type = event.get("type")
    if event_type not in EVENT_TYPES:
        if event_type is None:
            reason = "missing field type"
        else:
            reason = f"unknown type {event_type!r} (see contracts/EVENTS.md for the list)"
        return Invalid(record_no, reason, source, event_id)
    try:
        model = envelope_model(event_type).model_validate(event)
    except ValidationError as exc:
        return Invalid(record_no, _describe(exc)[:MAX_REASON], source, event_id)

    data = event["data"]
    for field in TIMESTAMP_FIELDS.get(event_type, ()):
        value = getattr(model.data, field, None)
        if value is not None:
            data[field] = _utc_text(value)
    time_text = _utc_text(model.time)
    attrs = {k: v for k, v in event.items() if k not in CORE_ATTRIBUTES}
    attrs.pop("specversion", None)
    canonical = orjson.dumps(
        [event_type, time_text, model.subject, data, attrs], option=orjson.OPT_SORT_KEYS
    )
    if _NUL.search(canonical) or "\x00" in model.source or "\x00" in model.id:
        return Invalid(record_no, "holds a NUL character (\\u0000), which cannot be stored", source, event_id)
    data_text = orjson.dumps(data).decode()
    return Valid(
        record_no=record_no,
        source=model.source,
        id=model.id,
        type=event_type,
        time=model.time.astimezone(UTC),
        subject=model.subject,
        data=data_text,
        attrs=orjson.dumps(attrs).decode() if attrs else None,
        content_hash=content_hash(canonical),
    )


def raw_text(raw: bytes) -> str:
    """The raw record as text PostgreSQL can store (bad UTF-8 and NUL made visible)."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
