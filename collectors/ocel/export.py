"""Canonical events -> an OCEL 2.0 JSON log, valid against the standard's JSON schema
(collectors/ocel/schema/), that the `ocel` kind reads back into the same events.

- One OCEL event per canonical event: its type is the canonical type, its id the event's
  id (`source/id` where two sources share an id), its time the business time (UTC).
- Its attributes: `ce_source`, `ce_id` and `ce_subject` (the envelope), then every `data`
  field: a number, boolean or text as itself, a time as `time`; a list, an object or null
  as JSON text, named in the attribute `ce_json`. As the schema asks, every value is
  written as a string; `eventTypes` declares each attribute's type (string, time,
  integer, float, boolean).
- Its relationships, to objects of the types `orders` (order_id), `locations` (node_id,
  from_node, to_node, location_id, from_location, to_location, qualified by the field's
  name), `products` (sku; the skus of `lines`, qualified "line"), `shipments`
  (shipment_id) and `returns` (return_id).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import orjson

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "ocel20-schema-json.json"
OBJECT_FIELDS: dict[str, str] = {
    "order_id": "orders",
    "node_id": "locations",
    "from_node": "locations",
    "to_node": "locations",
    "location_id": "locations",
    "from_location": "locations",
    "to_location": "locations",
    "sku": "products",
    "shipment_id": "shipments",
    "return_id": "returns",
}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class InvalidLog(ValueError):
    """The log does not validate against the OCEL 2.0 JSON schema (a bug, not bad input)."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "time" if _RFC3339.fullmatch(value) else "string"
    return "json"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return str(value)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_ocel(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The OCEL 2.0 JSON log of canonical events ({"source", "id", "type", "time"
    (datetime or text), "subject", "data"}), in the order given."""
    rows = list(events)
    id_count = Counter(r["id"] for r in rows)
    declared: dict[str, dict[str, str]] = {}
    objects: dict[str, str] = {}
    out_events = []
    for row in rows:
        data: dict[str, Any] = row["data"]
        types = declared.setdefault(row["type"], {"ce_source": "string", "ce_id": "string"})
        attributes = [{"name": "ce_source", "value": row["source"]}, {"name": "ce_id", "value": row["id"]}]
        if row.get("subject") is not None:
            types["ce_subject"] = "string"
            attributes.append({"name": "ce_subject", "value": row["subject"]})
        as_json = []
        for name in sorted(data):
            value = data[name]
            kind = _kind(value)
            if kind == "json":
                as_json.append(name)
                text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
                kind = "string"
            else:
                text = _text(value)
            known = types.get(name)
            if known is None:
                types[name] = kind
            elif known != kind:
                types[name] = "float" if {known, kind} == {"integer", "float"} else "string"
            attributes.append({"name": name, "value": text})
        if as_json:
            types["ce_json"] = "string"
            attributes.append({"name": "ce_json", "value": " ".join(as_json)})
        relationships = _relationships(data, objects)
        time = row["time"]
        out_events.append(
            {
                "id": row["id"] if id_count[row["id"]] == 1 else f"{row['source']}/{row['id']}",
                "type": row["type"],
                "time": _utc(time) if isinstance(time, datetime) else str(time),
                "attributes": attributes,
                "relationships": relationships,
            }
        )
    return {
        "objectTypes": [{"name": name, "attributes": []} for name in sorted(set(objects.values()))],
        "eventTypes": [
            {"name": name, "attributes": [{"name": a, "type": t} for a, t in attrs.items()]}
            for name, attrs in sorted(declared.items())
        ],
        "objects": [
            {"id": oid, "type": kind, "attributes": [], "relationships": []} for oid, kind in objects.items()
        ],
        "events": out_events,
    }


def _relationships(data: dict[str, Any], objects: dict[str, str]) -> list[dict[str, str]]:
    links: list[tuple[str, str, str]] = []  # (object id, qualifier, object type)
    for name, kind in OBJECT_FIELDS.items():
        value = data.get(name)
        if isinstance(value, str) and value:
            links.append((value, "order" if name == "order_id" else name, kind))
    for line in data.get("lines") or []:
        if isinstance(line, dict) and isinstance(line.get("sku"), str) and line["sku"]:
            links.append((line["sku"], "line", "products"))
    out, seen = [], set()
    for object_id, qualifier, kind in links:
        objects.setdefault(object_id, kind)
        if (object_id, qualifier) not in seen:
            seen.add((object_id, qualifier))
            out.append({"objectId": object_id, "qualifier": qualifier})
    return out


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(SCHEMA_PATH.read_bytes())
    return loaded


def validate(log: dict[str, Any]) -> None:
    """Raise InvalidLog (one line) unless `log` validates against the OCEL 2.0 JSON schema."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema(), format_checker=jsonschema.FormatChecker())
    error = next(iter(validator.iter_errors(log)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the log"
        raise InvalidLog(f"not a valid OCEL 2.0 JSON log at {where}: {error.message}")
