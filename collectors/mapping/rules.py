"""A whole mapping compiled once: record -> the canonical events it produces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from collectors.base import Unmappable
from collectors.mapping.conditions import compile_condition
from collectors.mapping.lookups import LookupTable
from collectors.mapping.spec import EventRule, MappingSpec, SpecError
from collectors.mapping.values import OMIT, Getter, Record, Scope, compile_value

Rule = Callable[[Record], "dict[str, Any] | None"]


def compile_rule(rule: EventRule, path: str, spec: MappingSpec, scope: Scope) -> Rule:
    source_spec = rule.source if rule.source is not None else spec.source
    if source_spec is None:
        raise SpecError(f"mapping spec: {path}.source is required (here or as mapping.source)")
    applies = compile_condition(rule.when) if rule.when is not None else None
    event_type = rule.type
    source = compile_value(source_spec, f"{path}.source", scope)
    event_id = compile_value(rule.id, f"{path}.id", scope)
    time = compile_value(rule.time, f"{path}.time", scope, force="timestamp")
    subject = compile_value(rule.subject, f"{path}.subject", scope) if rule.subject is not None else None
    data: list[tuple[str, Getter]] = [
        (key, compile_value(value, f"{path}.data.{key}", scope)) for key, value in rule.data.items()
    ]

    may_omit = any(
        isinstance(spec, dict) and spec.get("optional") for spec in (source_spec, rule.id, rule.time)
    )

    def build(record: Record) -> dict[str, Any] | None:
        if applies is not None and not applies(record):
            return None
        values = {}
        for key, getter in data:
            value = getter(record)
            if value is not OMIT:
                values[key] = value
        event = {
            "specversion": "1.0",
            "id": event_id(record),
            "source": source(record),
            "type": event_type,
            "time": time(record),
            "data": values,
        }
        if subject is not None:
            value = subject(record)
            if value is not OMIT:
                event["subject"] = value
        if may_omit and OMIT in (event["id"], event["source"], event["time"]):
            raise Unmappable("its id, source or time is empty")
        return event

    return build


class CompiledMapping:
    """A callable record -> list of canonical event dicts; `refresh()` rereads changed lookups."""

    def __init__(self, spec: MappingSpec, base_dir: Path | None = None) -> None:
        self.spec = spec
        self.lookups = {name: LookupTable(name, lookup, base_dir) for name, lookup in spec.lookups.items()}
        scope = Scope(timezone=spec.timezone, lookups=self.lookups)
        if spec.timezone:
            from collectors.mapping.convert import zone

            zone(spec.timezone)  # an unknown zone fails now, not at the first record
        self._rules = [
            (rule.type, compile_rule(rule, f"events[{i}]", spec, scope)) for i, rule in enumerate(spec.events)
        ]
        self._quarantine_unmatched = spec.unmatched == "quarantine"

    def refresh(self) -> None:
        for table in self.lookups.values():
            table.refresh()

    def __call__(self, record: Any) -> list[dict[str, Any]]:
        if not isinstance(record, Mapping):
            raise Unmappable(f"record is a {type(record).__name__}, not an object")
        events = []
        for event_type, rule in self._rules:
            try:
                event = rule(record)
            except Unmappable as exc:
                raise Unmappable(f"{event_type}: {exc}") from None
            if event is not None:
                events.append(event)
        if not events and self._quarantine_unmatched:
            raise Unmappable('no event rule matches this record (unmatched = "skip" drops such records)')
        return events
