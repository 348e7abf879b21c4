"""The declarative mapping spec, validated once at load (pydantic), with one clear error line.

A mapping is a TOML table (`[source.mapping]`); see `collectors/mapping/__init__.py` for the
whole format. Value specs (the right-hand sides under `data`, and `id`, `source`, `time`,
`subject`) are either a string (a template) or a table checked by `ValueSpec`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.events.models import EVENT_TYPES
from collectors.base import SourceError

Scalar = str | int | float | bool
ValueType = Literal["str", "int", "float", "bool", "timestamp", "json"]
VALUE_SOURCES = ("field", "from", "const", "template", "lookup")


class SpecError(SourceError):
    """A mapping spec that cannot be compiled; the message names the bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Condition(_Strict):
    """`when`: every condition given must hold for the event to be produced."""

    field: str | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    equals: Scalar | None = None
    present: str | list[str] | None = None
    absent: str | list[str] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Condition:
        tests = [self.in_ is not None, self.not_in is not None, self.equals is not None]
        if self.field is not None and not any(tests):
            raise ValueError("'field' needs one of 'in', 'not_in' or 'equals'")
        if self.field is None and any(tests):
            raise ValueError("'in', 'not_in' and 'equals' need a 'field'")
        if self.field is None and self.present is None and self.absent is None:
            raise ValueError("give 'field' with 'in'/'not_in'/'equals', or 'present', or 'absent'")
        return self


class ValueSpec(_Strict):
    """The table form of a value: exactly one of field / from / const / template / lookup."""

    field: str | None = None
    from_: str | None = Field(default=None, alias="from")
    const: Any = None
    template: str | None = None
    lookup: str | None = None
    on: str | None = None  # lookup: the record field holding the key (default: the lookup's key)
    fields: dict[str, Any] | None = None  # lookup: value specs evaluated on each matching row
    type: ValueType | None = None
    format: str | None = None
    timezone: str | None = None
    map: dict[str, Any] | None = None
    default: Any = None
    optional: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> ValueSpec:
        given = [name for name in VALUE_SOURCES if _given(self, name)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(VALUE_SOURCES)} (found {given or 'none'})")
        if self.from_ is not None and (self.type or self.map or self.format):
            raise ValueError("'from' passes a value through as it is: no 'type', 'map' or 'format'")
        if self.lookup is None and (self.on is not None or self.fields is not None):
            raise ValueError("'on' and 'fields' belong to a 'lookup'")
        if self.lookup is not None and self.fields is None:
            raise ValueError("a 'lookup' needs 'fields' (the value of each matching row)")
        if (self.format or self.timezone) and self.type not in (None, "timestamp"):
            raise ValueError("'format' and 'timezone' are for type = \"timestamp\" (implied when absent)")
        return self


def _given(spec: ValueSpec, name: str) -> bool:
    attribute = "from_" if name == "from" else name
    return attribute in spec.model_fields_set and (name == "const" or getattr(spec, attribute) is not None)


class Lookup(_Strict):
    """A second file (CSV or JSON Lines) indexed by one of its columns, read once and on change."""

    file: str
    key: str
    format: Literal["csv", "jsonl"] | None = None
    delimiter: str = ","
    encoding: str = "utf-8"


class EventRule(_Strict):
    """One canonical event a native record may produce."""

    when: Condition | None = None
    type: str
    source: str | dict[str, Any] | None = None
    id: str | dict[str, Any]
    time: str | dict[str, Any]
    subject: str | dict[str, Any] | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r} (see contracts/EVENTS.md)")
        return value


class MappingSpec(_Strict):
    events: list[EventRule] = Field(min_length=1)
    source: str | None = None  # default `source` template of every event
    timezone: str | None = None  # default zone of timestamps written without one
    unmatched: Literal["quarantine", "skip"] = "quarantine"
    lookups: dict[str, Lookup] = Field(default_factory=dict)


def where(loc: tuple[str | int, ...]) -> str:
    """A pydantic location as a readable path: events[0].data.qty"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "mapping"


def _union_branch(part: str | int) -> bool:
    """pydantic names the member of a union that failed ("str", "dict[str,any]"): not a key."""
    return isinstance(part, str) and (part in ("str", "dict[str,any]") or part.startswith("function-"))


def first_error(exc: ValidationError, prefix: str = "") -> SpecError:
    """One line naming the bad key of a spec that failed validation."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo explains most
    loc = tuple(part for part in error["loc"] if not _union_branch(part))
    path = ".".join(p for p in (prefix, where(loc) if loc else "") if p) or "mapping"
    if error["type"] == "extra_forbidden":
        return SpecError(f"mapping spec: unknown key '{loc[-1]}' at {path}")
    if len(loc) < len(error["loc"]) and error["type"] != "value_error":
        return SpecError(f"mapping spec: {path}: give a template string or a table")
    if error["type"] == "missing":
        return SpecError(f"mapping spec: {path} is required")
    message = str(error["msg"]).removeprefix("Value error, ")
    return SpecError(f"mapping spec: {path}: {message}")


def parse_mapping(spec: dict[str, Any]) -> MappingSpec:
    try:
        return MappingSpec.model_validate(spec)
    except ValidationError as exc:
        raise first_error(exc) from None


def parse_value(raw: dict[str, Any], path: str) -> ValueSpec:
    try:
        return ValueSpec.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc, path) from None
