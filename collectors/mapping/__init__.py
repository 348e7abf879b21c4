"""Map native records to canonical events without writing Python.

`resolve_mapping(spec)` turns a source's `mapping` into a function record -> events:
- a string "package.module:function" imports that function (for sources that need logic);
- a table compiles the declarative map below, once, into closures (a few microseconds a
  record); the spec is checked at load and a bad key fails with one line naming it;
- None raises SourceError("no mapping").

The declarative map (TOML, under `[source.mapping]`):

    source = "olist"                        # default `source` of every event (a template)
    timezone = "America/Sao_Paulo"          # zone of timestamps written without one
    unmatched = "quarantine"                # or "skip": a record no rule matches

    [[source.mapping.events]]               # one table per event a record may produce
    when = { field = "order_status", in = ["delivered"] }   # optional; also not_in, equals,
                                            # present = "col" (non-empty), absent = "col"
    type = "retail.order.delivered"         # a type of contracts/EVENTS.md
    id = "{order_id}-delivered"             # template; "{store_id|lower}": lower, upper, strip
    time = { field = "delivered_at", format = "%Y-%m-%d %H:%M:%S", timezone = "UTC" }
    subject = "{order_id}"                  # optional
    [source.mapping.events.data]
    order_id = "{order_id}"                 # a string is a template, giving text
    qty = { field = "quantity", type = "int" }   # str, int, float, bool, json, timestamp
    system = { const = "pos" }              # or a bare number / boolean: qty = 1
    lines = { from = "lines" }              # a structured value passed through as it is
    status = { field = "st", map = { C = "cancelled", D = "delivered" } }  # unknown: unmappable
    carrier = { field = "carrier", optional = true }  # left out when missing or empty
    region = { field = "region", default = "unknown" }  # used when missing or empty
    lines = { lookup = "items", on = "order_id", fields = { sku = "{product_id}", qty = 1 } }

    [source.mapping.lookups.items]          # a second CSV / JSON Lines file, joined by key
    file = "order_items.csv"                # relative to the source's folder, if it has one
    key = "order_id"                        # its column matched against the record's `on`

Every value is required unless `optional` or `default` is given: a missing or empty field,
a number or date that does not parse, a timestamp without a zone when none is configured,
a value not in its `map`: the record is `Unmappable`, with a reason naming the field and
the value ("retail.order.created: field 'qty' = 'abc' is not an integer"). Timestamps come
out as RFC 3339 with the offset; `format` is a strptime format, "epoch" or "epoch_ms",
or absent for ISO 8601.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors.base import SourceError
from collectors.mapping.rules import CompiledMapping
from collectors.mapping.spec import SpecError, parse_mapping

__all__ = ["CompiledMapping", "SpecError", "compile_mapping", "resolve_mapping"]

Mapper = Callable[[Any], list[dict[str, Any]]]
_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def compile_mapping(spec: dict[str, Any], *, base_dir: Path | None = None) -> CompiledMapping:
    """Compile a declarative map; `base_dir` is where relative lookup files are found."""
    return CompiledMapping(parse_mapping(spec), base_dir)


def resolve_mapping(spec: dict[str, Any] | str | None, *, base_dir: Path | None = None) -> Mapper:
    """The function record -> canonical events for a source's `mapping` (see the module doc)."""
    if spec is None:
        raise SourceError("no mapping")
    if isinstance(spec, str):
        return _import_function(spec)
    if isinstance(spec, dict):
        return compile_mapping(spec, base_dir=base_dir)
    raise SpecError(f"mapping spec: expected a table or 'package.module:function', got {type(spec).__name__}")


def _import_function(target: str) -> Mapper:
    if not _FUNCTION.fullmatch(target):
        raise SpecError(f"mapping: {target!r} is not 'package.module:function'")
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"mapping: cannot import {module_name} ({exc})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise SpecError(f"mapping: {module_name} has no function {name!r}")
    return function
