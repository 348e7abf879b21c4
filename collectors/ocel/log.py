"""Read an OCEL 2.0 log, JSON or XML, gzipped or not, into one plain shape.

Both formats of the standard (https://ocel-standard.org/specification/formats/) come out
the same: values typed by the declared attribute types (the JSON schema writes every value
as a string, the order-management export writes numbers; XML has only text), times in UTC
as `...Z`, relationships in file order. `read_log(path)` raises `OcelError` (one line) on a
file that is neither.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

Relationship = tuple[str, str]  # (object id, qualifier)
EPOCH = "1970-01-01T00:00:00Z"  # the standard's time of an attribute set from the start


class OcelError(ValueError):
    """The file is not an OCEL 2.0 log this reader understands; the message says why."""


@dataclass
class OcelEvent:
    id: str
    type: str
    time: str  # RFC 3339, UTC, "Z"
    attributes: dict[str, Any]
    relationships: list[Relationship]


@dataclass
class OcelObject:
    id: str
    type: str
    attributes: list[tuple[str, Any, str]]  # (name, value, time): a value and when it was set
    relationships: list[Relationship]

    def attribute(self, name: str) -> Any:
        """The value of `name` set first (its value at the object's start), else None."""
        values = sorted((t, v) for n, v, t in self.attributes if n == name)
        return values[0][1] if values else None


@dataclass
class OcelLog:
    event_types: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {attribute: type}
    object_types: dict[str, dict[str, str]] = field(default_factory=dict)
    events: list[OcelEvent] = field(default_factory=list)
    objects: dict[str, OcelObject] = field(default_factory=dict)


def utc_text(value: str) -> str:
    """An ISO 8601 time as RFC 3339 in UTC ("2023-04-03T10:08:18Z"); no zone means UTC."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    text = parsed.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def typed(value: Any, kind: str | None) -> Any:
    """A value as its declared OCEL type (string, time, integer, float, boolean)."""
    if value is None:
        return None
    if kind == "integer":
        return int(value) if not isinstance(value, str) else int(float(value))
    if kind == "float":
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if kind == "time":
        return str(value)  # as written: a time an export wrote comes back the same
    if kind == "string" or isinstance(value, str):
        return value if isinstance(value, str) else str(value)
    return value  # undeclared: as the file has it


def read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def read_log(path: Path) -> OcelLog:
    """The log in `path` (.json / .jsonocel / .xml / .xmlocel, optionally .gz; else by content)."""
    try:
        content = read_bytes(path)
    except OSError as exc:
        raise OcelError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except gzip.BadGzipFile as exc:
        raise OcelError(f"{path.name}: not a gzip file ({exc})") from None
    head = content.lstrip()[:1]
    if head == b"<":
        return parse_xml(content, path.name)
    if head == b"{":
        return parse_json(content, path.name)
    raise OcelError(f"{path.name}: neither OCEL 2.0 JSON nor XML")


def _types(entries: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {
        e["name"]: {a["name"]: a.get("type", "string") for a in e.get("attributes") or []} for e in entries
    }


def parse_json(content: bytes, name: str = "log") -> OcelLog:
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise OcelError(f"{name}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not {"events", "objects"} <= doc.keys():
        raise OcelError(f"{name}: not an OCEL 2.0 JSON log (no 'events' and 'objects' arrays)")
    log = OcelLog(_types(doc.get("eventTypes") or []), _types(doc.get("objectTypes") or []))
    for o in doc["objects"]:
        declared = log.object_types.get(o["type"], {})
        log.objects[o["id"]] = OcelObject(
            o["id"],
            o["type"],
            [
                (a["name"], typed(a["value"], declared.get(a["name"])), utc_text(a.get("time") or EPOCH))
                for a in o.get("attributes") or []
            ],
            [(r["objectId"], r.get("qualifier") or "") for r in o.get("relationships") or []],
        )
    for e in doc["events"]:
        declared = log.event_types.get(e["type"], {})
        log.events.append(
            OcelEvent(
                e["id"],
                e["type"],
                utc_text(e["time"]),
                {a["name"]: typed(a["value"], declared.get(a["name"])) for a in e.get("attributes") or []},
                [(r["objectId"], r.get("qualifier") or "") for r in e.get("relationships") or []],
            )
        )
    return log


def _xml_types(parent: ET.Element | None, tag: str) -> dict[str, dict[str, str]]:
    if parent is None:
        return {}
    return {
        t.get("name", ""): {a.get("name", ""): a.get("type", "string") for a in t.iter("attribute")}
        for t in parent.findall(tag)
    }


def _relationships(element: ET.Element) -> list[Relationship]:
    holder = element.find("objects")
    if holder is None:
        return []
    return [(r.get("object-id", ""), r.get("qualifier") or "") for r in holder.findall("relationship")]


def parse_xml(content: bytes, name: str = "log") -> OcelLog:
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise OcelError(f"{name}: not XML ({exc})") from None
    if root.tag != "log" or root.find("events") is None:
        raise OcelError(f"{name}: not an OCEL 2.0 XML log (no <log> with <events>)")
    log = OcelLog(
        _xml_types(root.find("event-types"), "event-type"),
        _xml_types(root.find("object-types"), "object-type"),
    )
    for o in root.find("objects") or []:
        kind = o.get("type", "")
        declared = log.object_types.get(kind, {})
        attrs = o.find("attributes")
        log.objects[o.get("id", "")] = OcelObject(
            o.get("id", ""),
            kind,
            [
                (
                    a.get("name", ""),
                    typed(a.text or "", declared.get(a.get("name", ""))),
                    utc_text(a.get("time") or EPOCH),
                )
                for a in (attrs if attrs is not None else [])
            ],
            _relationships(o),
        )
    for e in root.find("events") or []:
        kind = e.get("type", "")
        declared = log.event_types.get(kind, {})
        attrs = e.find("attributes")
        log.events.append(
            OcelEvent(
                e.get("id", ""),
                kind,
                utc_text(e.get("time", "")),
                {
                    a.get("name", ""): typed(a.text or "", declared.get(a.get("name", "")))
                    for a in (attrs if attrs is not None else [])
                },
                _relationships(e),
            )
        )
    return log
