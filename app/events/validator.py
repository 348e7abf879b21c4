"""One compiled validator for raw canonical events, derived from the models.

`app.events.models` is the source of truth. Here each model is mirrored as a TypedDict
with the same annotations (strictness, bounds, literals, extra fields allowed), and the
envelopes form one union discriminated on `type`, so pydantic-core parses and validates
raw JSON bytes in one pass and returns plain dicts: about twice as fast as building model
instances, which matters at ingest rates of 100k events a second.
`tests/test_event_validator.py` checks that the two agree.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, NotRequired, Required, Union

from pydantic import AwareDatetime, ConfigDict, Field, Strict, TypeAdapter
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

from app.events.models import EVENT_TYPES, Data, Envelope, Timestamp

_mirrors: dict[type, type] = {}


def _mirror_annotation(annotation: Any) -> Any:
    if annotation == Timestamp:
        # from JSON, strict mode takes a datetime only from a string: the same rule as the
        # models' Python check, without a Python call per timestamp
        return Annotated[AwareDatetime, Strict()]
    if isinstance(annotation, type) and issubclass(annotation, Data):
        return _mirror(annotation)
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *metadata = typing.get_args(annotation)
        return Annotated[(_mirror_annotation(base), *metadata)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_mirror_annotation(a) for a in typing.get_args(annotation))]  # noqa: UP007
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list[_mirror_annotation(item)]  # type: ignore[misc]
    return annotation


def _field(info: FieldInfo) -> Any:
    annotation = _mirror_annotation(info.rebuild_annotation())
    return Required[annotation] if info.is_required() else NotRequired[annotation]


def _mirror(model: type[Data]) -> type:
    if model not in _mirrors:
        fields = {name: _field(info) for name, info in model.model_fields.items()}
        mirror = TypedDict(f"{model.__name__}Dict", fields)  # type: ignore[misc]
        mirror.__pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[attr-defined]
        _mirrors[model] = mirror
    return _mirrors[model]


def _envelope(event_type: str, data_model: type[Data]) -> type:
    fields = {name: _field(info) for name, info in Envelope.model_fields.items()}
    fields["type"] = Required[Literal[event_type]]
    fields["data"] = Required[_mirror(data_model)]
    name = "Envelope_" + event_type.replace(".", "_")
    envelope = TypedDict(name, fields)  # type: ignore[misc]
    envelope.__pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[attr-defined]
    return envelope


CanonicalEvent: Any = Annotated[
    Union[tuple(_envelope(t, m) for t, m in EVENT_TYPES.items())],  # noqa: UP007
    Field(discriminator="type"),
]

EVENT_VALIDATOR: TypeAdapter[dict[str, Any]] = TypeAdapter(CanonicalEvent)
"""`EVENT_VALIDATOR.validate_json(raw_bytes)` -> the event as a dict, or ValidationError."""
