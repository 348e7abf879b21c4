"""The simulated middleware's call log -> `retail.integration.call` events.

Native item (GET /middleware/calls):
    {"msgId": "mw-000042", "ts": "2026-11-27 08:00:01.250", "flow": "OMS>WMS/create_pick",
     "from": "OMS", "to": "WMS", "result": "FAILED", "durationMs": 1520, "httpCode": 502,
     "errorCode": "UPSTREAM", "businessKey": "ORD-000123", "retry": 0}
`ts` is UTC without an offset (the log's convention); `retry` counts retries (0 = first try).
A record of another kind carries `kind` (the native code) and `body`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from collectors.base import Unmappable
from collectors.mappings.fieldmap import (
    EXT,
    Code,
    Shape,
    canonical_time,
    decode_fields,
    default_subject,
    envelope,
    number,
    required,
    required_text,
    resolve,
    shape_for_code,
    whole_number,
)

SOURCE = "middleware"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # UTC, microseconds
RESULTS = Code({"ok": "SUCCESS", "error": "FAILED", "timeout": "TIMEOUT"})
CALL = "retail.integration.call"


def flow_name(interface: str, source_system: str, target_system: str) -> str:
    """`oms.wms.create_pick` from oms to wms -> `OMS>WMS/oms.wms.create_pick`."""
    return f"{source_system.upper()}>{target_system.upper()}/{interface}"


def interface_of(flow: Any) -> str:
    if not isinstance(flow, str) or "/" not in flow:
        raise Unmappable(f"flow is not of the form FROM>TO/name: {flow!r}")
    return flow.split("/", 1)[1]


def format_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def parse_ts(value: Any, name: str = "ts") -> datetime:
    if not isinstance(value, str):
        raise Unmappable(f"{name} is not a date and time: {value!r}")
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise Unmappable(f"{name} is not a time of the form YYYY-MM-DD HH:MM:SS.ffffff: {value!r}") from None


def to_events(record: Any) -> list[dict[str, Any]]:
    """One middleware log line -> one canonical event."""
    event_id = required_text(record, "msgId")
    at = canonical_time(parse_ts(required(record, "ts")))
    if "kind" in record:
        shape = shape_for_code({}, record.get("kind"), "kind")
        body = record.get("body") or {}
        if not isinstance(body, dict):
            raise Unmappable(f"body is not an object: {body!r:.80}")
        data: dict[str, Any] = decode_fields(shape.fields, {EXT: body})
    else:
        shape = Shape(CALL, "CALL")
        data = {
            "interface": interface_of(required(record, "flow")),
            "source_system": required_text(record, "from").lower(),
            "target_system": required_text(record, "to").lower(),
            "status": RESULTS.decode(required(record, "result"), "result"),
            "latency_ms": number(required(record, "durationMs"), "durationMs"),
        }
        if data["latency_ms"] < 0:
            raise Unmappable(f"durationMs is negative: {record['durationMs']!r}")
        optional = (
            ("http_status", "httpCode"),
            ("error_code", "errorCode"),
            ("correlation_id", "businessKey"),
        )
        for canonical, native in optional:
            if native in record:
                data[canonical] = record[native]
        if "http_status" in data and data["http_status"] is not None:
            data["http_status"] = whole_number(data["http_status"], "httpCode")
        if "retry" in record:
            data["attempt"] = None if record["retry"] is None else whole_number(record["retry"], "retry") + 1
        data.update(decode_fields((), {k: v for k, v in record.items() if k == EXT}))
    source, subject = resolve(record, SOURCE, default_subject(data))
    return [envelope(id=event_id, source=source, type=shape.type, time=at, data=data, subject=subject)]
