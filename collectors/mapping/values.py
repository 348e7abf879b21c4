"""Value specs compiled once into getters: record -> value (or OMIT for an empty optional).

A value spec is one of
- a string: a template, "{order_id}-delivered", "pos/{store_id|lower}" (filters: lower,
  upper, strip; "{{" and "}}" for literal braces);
- a bare TOML number, boolean or array: a constant;
- a table with exactly one of `field`, `from`, `const`, `template`, `lookup`, and the
  modifiers `type`, `format`, `timezone`, `map`, `default`, `optional` (see the package doc).

A field name with dots ("customer.id") reads a nested value when the record has no key
of that exact name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.base import Unmappable
from collectors.mapping.convert import CONVERTERS, Converter, text, timestamp
from collectors.mapping.lookups import LookupTable
from collectors.mapping.spec import SpecError, ValueSpec, parse_value

Record = Mapping[str, Any]
Getter = Callable[[Record], Any]


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()  # an optional value that is empty: the key is left out
MISSING: Any = object()
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
FILTERS: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper, "strip": str.strip}


@dataclass(frozen=True)
class Scope:
    """What value specs compile against: the default zone and the mapping's lookups."""

    timezone: str | None = None
    lookups: dict[str, LookupTable] = field(default_factory=dict)


def reader(name: str) -> Getter:
    """record -> the value of field `name`, or MISSING."""
    if "." not in name:
        return lambda record: record.get(name, MISSING)
    parts = name.split(".")

    def read_path(record: Record) -> Any:
        value = record.get(name, MISSING)
        if value is MISSING:
            value = record
            for part in parts:
                if not isinstance(value, Mapping) or part not in value:
                    return MISSING
                value = value[part]
        return value

    return read_path


def is_empty(value: Any) -> bool:
    return value is None or (value.__class__ is str and (not value or value.isspace()))


def _fallback(spec: ValueSpec | None) -> Callable[[str, str], Any]:
    """What an absent value becomes: the default, OMIT when optional, else unmappable."""
    if spec is not None and "default" in spec.model_fields_set:
        default = spec.default
        return lambda label, why: default
    if spec is not None and spec.optional:
        return lambda label, why: OMIT

    def fail(label: str, why: str) -> Any:
        raise Unmappable(f"{label} is {why}")

    return fail


def template(source: str, path: str, absent: Callable[[str, str], Any]) -> Getter:
    """A template string compiled to a getter of text."""
    pieces: list[str | tuple[str, Getter, list[Callable[[str], str]]]] = []
    at = 0
    for match in _PLACEHOLDER.finditer(source):
        pieces.append(source[at : match.start()])
        at = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append(token[0])
        elif match.group(1) is None or not match.group(1).strip():
            raise SpecError(f"mapping spec: {path}: template {source!r} has an unmatched or empty brace")
        else:
            name, *filter_names = (part.strip() for part in match.group(1).split("|"))
            unknown = [f for f in filter_names if f not in FILTERS]
            if unknown:
                raise SpecError(
                    f"mapping spec: {path}: unknown filter {unknown[0]!r} in {source!r} "
                    f"(use {', '.join(FILTERS)})"
                )
            pieces.append((name, reader(name), [FILTERS[f] for f in filter_names]))
    pieces.append(source[at:])
    parts = [p for p in pieces if p != ""]

    def field_text(record: Record, name: str, read: Getter, filters: list[Callable[[str], str]]) -> Any:
        value = read(record)
        if value is MISSING:
            return absent(f"field '{name}'", "missing")
        if is_empty(value):
            return absent(f"field '{name}'", "empty")
        if isinstance(value, dict | list):
            raise Unmappable(f"field '{name}' = {value!r} is not a single value (use from = ...)")
        value = text(value)
        for apply in filters:
            value = apply(value)
        return value

    if not parts:
        return lambda record: ""
    if len(parts) == 1 and isinstance(parts[0], str):
        constant = parts[0]
        return lambda record: constant
    if len(parts) == 1 and isinstance(parts[0], tuple):
        name, read, filters = parts[0]
        if not filters and "." not in name:

            def plain(record: Record) -> Any:
                value = record.get(name, MISSING)
                if value.__class__ is str and value and not value.isspace():
                    return value
                return field_text(record, name, read, filters)

            return plain
        if not filters:

            def single(record: Record) -> Any:
                value = read(record)
                if value.__class__ is str and value and not value.isspace():
                    return value
                return field_text(record, name, read, filters)

            return single
        return lambda record: field_text(record, name, read, filters)

    # (literal, None, ...) or ("", (name, read, filters)): one shape, so the loop does not branch
    steps = [(p, None) if isinstance(p, str) else ("", p) for p in parts]

    def joined(record: Record) -> Any:
        out = ""
        for literal, placeholder in steps:
            if placeholder is None:
                out += literal
                continue
            value = placeholder[1](record)
            if value.__class__ is not str or not value or value.isspace() or placeholder[2]:
                value = field_text(record, *placeholder)
                if value.__class__ is not str:
                    return value  # OMIT: an optional template with an empty field is left out whole
            out += value
        return out

    return joined


def compile_value(raw: Any, path: str, scope: Scope, *, force: str | None = None) -> Getter:
    """Compile the value spec at `path` ("events[0].data.qty"). `force` fixes the type."""
    if isinstance(raw, str):
        getter = template(raw, path, _fallback(None))
        if force == "timestamp":
            parse = timestamp(None, scope.timezone)
            single = re.fullmatch(r"\{([^{}|]+)\}", raw)
            label = f"field '{single.group(1).strip()}'" if single else f"template {raw!r}"
            return lambda record: parse(getter(record), label)
        return getter
    if not isinstance(raw, dict):
        if force is not None:
            raise SpecError(f"mapping spec: {path}: give a template string or a table with 'field'")
        return lambda record: raw  # a bare number, boolean or array: a constant
    spec = parse_value(raw, path)
    if force is not None and spec.type not in (None, force):
        raise SpecError(f"mapping spec: {path}: must be of type {force!r}, not {spec.type!r}")
    if spec.const is not None or "const" in spec.model_fields_set:
        constant = spec.const
        return lambda record: constant
    if spec.lookup is not None:
        return _lookup(spec, path, scope)
    kind = spec.type or force or ("timestamp" if spec.format or spec.timezone else None)
    convert = _converter(kind, spec, scope)
    absent = _fallback(spec)
    if spec.template is not None:
        label = f"template {spec.template!r}"
        read = template(spec.template, path, absent)
    else:
        name = spec.field if spec.field is not None else spec.from_
        assert name is not None
        label = f"field '{name}'"
        read = reader(name)
        if spec.from_ is not None:
            return _passed_through(read, label, absent)
    choices = spec.map

    def get(record: Record) -> Any:
        value = read(record)
        if value is MISSING:
            return absent(label, "missing")
        if value is OMIT:
            return OMIT
        if value is None or (value.__class__ is str and (not value or value.isspace())):
            return absent(label, "empty")
        if choices is not None:
            key = value if value.__class__ is str else text(value)
            if key not in choices:
                known = ", ".join(repr(k) for k in list(choices)[:10])
                raise Unmappable(f"{label} = {value!r} is not one of {known}")
            value = choices[key]
        return convert(value, label) if convert is not None else value

    return get


def _converter(kind: str | None, spec: ValueSpec, scope: Scope) -> Converter | None:
    if kind == "timestamp":
        return timestamp(spec.format, spec.timezone or scope.timezone)
    return CONVERTERS[kind] if kind else None


def _passed_through(read: Getter, label: str, absent: Callable[[str, str], Any]) -> Getter:
    def get(record: Record) -> Any:
        value = read(record)
        if value is MISSING:
            return absent(label, "missing")
        if value is None:
            return absent(label, "empty")
        return value

    return get


def _lookup(spec: ValueSpec, path: str, scope: Scope) -> Getter:
    assert spec.lookup is not None and spec.fields is not None
    table = scope.lookups.get(spec.lookup)
    if table is None:
        raise SpecError(
            f"mapping spec: {path}: unknown lookup {spec.lookup!r} (define [mapping.lookups.{spec.lookup}])"
        )
    name = spec.lookup
    key_field = spec.on or table.key
    read_key = reader(key_field)
    absent = _fallback(spec)
    items = [(key, compile_value(value, f"{path}.fields.{key}", scope)) for key, value in spec.fields.items()]

    def get(record: Record) -> Any:
        key = read_key(record)
        if key is MISSING:
            return absent(f"field '{key_field}'", "missing")
        if is_empty(key):
            return absent(f"field '{key_field}'", "empty")
        rows = table.rows(text(key))
        if not rows:
            if spec.optional or "default" in spec.model_fields_set:
                return absent("", "")
            raise Unmappable(f"lookup '{name}' has no rows for {key_field} = {key!r}")
        out = []
        for row in rows:
            item = {}
            try:
                for field_name, getter in items:
                    value = getter(row)
                    if value is not OMIT:
                        item[field_name] = value
            except Unmappable as exc:
                raise Unmappable(f"lookup '{name}' ({key_field} = {key!r}): {exc}") from None
            out.append(item)
        return out

    return get
