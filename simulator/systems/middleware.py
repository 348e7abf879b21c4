"""The middleware: its call log, cursor-paged (GET /middleware/calls).

The `error_burst` fault turns a share of the calls of one interface (or of all, target
`middleware`) into failures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.mappings.fieldmap import EXT, default_subject, generic_code, overrides, parse_time
from collectors.mappings.sim_middleware import CALL, RESULTS, SOURCE, flow_name, format_ts
from simulator.faults import Breakable, FaultBoard
from simulator.systems.feed import Feed

TABLE = "mw_calls"
BREAKABLE = Breakable(id_field="msgId", time_field="ts", number_fields=("durationMs", "httpCode", "retry"))
CALL_FIELDS = {
    "interface",
    "source_system",
    "target_system",
    "status",
    "latency_ms",
    "http_status",
    "error_code",
    "correlation_id",
    "attempt",
}
OPTIONAL = (("http_status", "httpCode"), ("error_code", "errorCode"), ("correlation_id", "businessKey"))


def encode(event: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """A canonical event as a middleware log line."""
    data = event["data"]
    record: dict[str, Any] = {"msgId": event["id"], "ts": format_ts(parse_time(event["time"], "time"))}
    if event["type"] != CALL:
        record["kind"] = generic_code(event["type"])
        record["body"] = data
    else:
        record["flow"] = flow_name(data["interface"], data["source_system"], data["target_system"])
        record["from"] = data["source_system"].upper()
        record["to"] = data["target_system"].upper()
        record["result"] = RESULTS.encode(data["status"])
        record["durationMs"] = data["latency_ms"]
        for canonical, native in OPTIONAL:
            if canonical in data:
                record[native] = data[canonical]
        if "attempt" in data:
            record["retry"] = None if data["attempt"] is None else data["attempt"] - 1
        extra = {k: v for k, v in data.items() if k not in CALL_FIELDS}
        if extra:
            record[EXT] = extra
    record.update(overrides(event, SOURCE, default_subject(data)))
    return record


class Middleware(Feed):
    def __init__(self, faults: FaultBoard) -> None:
        super().__init__("middleware", TABLE, encode, BREAKABLE)
        self.faults = faults

    def encode(self, event: dict[str, Any], at: datetime) -> dict[str, Any]:
        record = encode(event)
        if "flow" in record:
            interface = event["data"]["interface"]
            burst = self.faults.hits("error_burst", interface, at) or self.faults.hits(
                "error_burst", "middleware", at
            )
            if burst:
                record.update(result="FAILED", httpCode=502, errorCode="BURST")
        return record


def system(faults: FaultBoard) -> Middleware:
    return Middleware(faults)
