"""`when` conditions compiled once into predicates: record -> bool.

`field` with `in`, `not_in` or `equals` compares the field's text (a JSON number 12 is
"12", true is "true"); a missing field is unmappable (the spec names a column the record
lacks). `present` holds when every named field is there and not empty, `absent` when every
named field is missing or empty. Every condition given must hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.base import Unmappable
from collectors.mapping.convert import text
from collectors.mapping.spec import Condition
from collectors.mapping.values import MISSING, Record, is_empty, reader

Predicate = Callable[[Record], bool]


def _names(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def compile_condition(condition: Condition) -> Predicate:
    tests: list[Predicate] = []
    if condition.field is not None:
        name = condition.field
        read = reader(name)

        def value_text(record: Record) -> str:
            value = read(record)
            if value is MISSING:
                raise Unmappable(f"field '{name}' is missing")
            return "" if value is None else text(value)

        if condition.in_ is not None:
            allowed = frozenset(text(v) for v in condition.in_)
            tests.append(lambda record: value_text(record) in allowed)
        if condition.not_in is not None:
            refused = frozenset(text(v) for v in condition.not_in)
            tests.append(lambda record: value_text(record) not in refused)
        if condition.equals is not None:
            wanted = text(condition.equals)
            tests.append(lambda record: value_text(record) == wanted)
    present = [reader(n) for n in _names(condition.present)]
    if present:
        tests.append(lambda record: all(not _absent(read(record)) for read in present))
    absent = [reader(n) for n in _names(condition.absent)]
    if absent:
        tests.append(lambda record: all(_absent(read(record)) for read in absent))
    if len(tests) == 1:
        return tests[0]
    return lambda record: all(test(record) for test in tests)


def _absent(value: Any) -> bool:
    return value is MISSING or is_empty(value)
