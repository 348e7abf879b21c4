"""Typed conversions of native values: int, float, bool, str, json, timestamp.

Each converter takes the value and a `label` (how the reason names it: "field 'qty'") and
returns the converted value or raises `Unmappable` with a reason naming the label and the
value. Timestamps come out as RFC 3339 strings with an offset, as the contract wants.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from collectors.base import Unmappable
from collectors.mapping.spec import SpecError

Converter = Callable[[Any, str], Any]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
# strptime formats that datetime.fromisoformat reads too, about 40 times faster
_ISO_LIKE = re.compile(r"%Y-%m-%d(?:[ T]%H:%M(?::%S(?:\.%f)?)?)?(?:%z)?")


def text(value: Any) -> str:
    """A native value as text, the way it would be written in a CSV file."""
    if value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_str(value: Any, label: str) -> str:
    if isinstance(value, dict | list):
        raise Unmappable(f"{label} = {value!r} is not a single value")
    return text(value)


def to_int(value: Any, label: str) -> int:
    if value.__class__ is int:
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if number.is_integer():
                return int(number)
    elif isinstance(value, float) and value.is_integer():
        return int(value)
    raise Unmappable(f"{label} = {value!r} is not an integer")


def to_float(value: Any, label: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise Unmappable(f"{label} = {value!r} is not a number") from None
    else:
        raise Unmappable(f"{label} = {value!r} is not a number")
    if not math.isfinite(number):
        raise Unmappable(f"{label} = {value!r} is not a finite number")
    return number


def to_bool(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise Unmappable(f"{label} = {value!r} is not true or false (true/false, yes/no, 1/0)")


def to_json(value: Any, label: str) -> Any:
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise Unmappable(f"{label} = {value!r} is not valid JSON") from None


@cache
def zone(name: str) -> tzinfo:
    """A time zone by IANA name ("America/Sao_Paulo") or "UTC"; SpecError if unknown."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(f"mapping spec: unknown time zone {name!r}") from None


def timestamp(fmt: str | None, zone_name: str | None) -> Converter:
    """A converter to RFC 3339 text. `fmt`: a strptime format, "epoch" or "epoch_ms", or
    None for ISO 8601. A time written without a zone is read in `zone_name`; with no zone
    configured it is unmappable (the contract wants an offset, and guessing one is wrong)."""
    tz = zone(zone_name) if zone_name else None
    if fmt in ("epoch", "epoch_ms"):
        scale = 1000.0 if fmt == "epoch_ms" else 1.0

        def from_epoch(value: Any, label: str) -> str:
            seconds = to_float(value, label) / scale
            try:
                return datetime.fromtimestamp(seconds, UTC).isoformat()
            except (OverflowError, OSError, ValueError):
                raise Unmappable(f"{label} = {value!r} is not a time in {fmt}") from None

        return from_epoch

    offsets: dict[tuple[int, int, int, int], str] = {}

    def offset(moment: datetime) -> str:
        """The zone's offset at that moment, as "+HH:MM". Looking it up in a ZoneInfo and
        formatting an aware time cost about 2 us, so the offset is remembered per hour of
        local time, for the hours that have a single offset from start to end."""
        hour = (moment.year, moment.month, moment.day, moment.hour)
        suffix = offsets.get(hour)
        if suffix is None:
            start = moment.replace(minute=0, second=0, microsecond=0, tzinfo=tz)
            suffix = start.isoformat()[19:]
            if start.replace(minute=59, second=59).isoformat()[19:] != suffix:
                return moment.replace(tzinfo=tz).isoformat()[len(moment.isoformat()) :]  # it shifts within
            if len(offsets) > 100_000:
                offsets.clear()
            offsets[hour] = suffix
        return suffix

    iso_first = fmt is None or _ISO_LIKE.fullmatch(fmt) is not None
    expected = f"format {fmt!r}" if fmt else "ISO 8601"

    def parse(value: Any, label: str) -> str:
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            if iso_first:
                try:
                    moment = datetime.fromisoformat(value.strip())
                except ValueError:
                    if fmt is None:
                        raise Unmappable(f"{label} = {value!r} is not a timestamp in {expected}") from None
            if moment is None:
                try:
                    moment = datetime.strptime(value.strip(), fmt or "")
                except ValueError:
                    raise Unmappable(f"{label} = {value!r} is not a timestamp in {expected}") from None
        if moment is None:
            raise Unmappable(f"{label} = {value!r} is not a timestamp in {expected}")
        if moment.tzinfo is None:
            if tz is None:
                raise Unmappable(
                    f"{label} = {value!r} has no time zone and the mapping sets none (add timezone = ...)"
                )
            return moment.isoformat() + offset(moment)
        return moment.isoformat()

    return parse


CONVERTERS: dict[str, Converter] = {
    "str": to_str,
    "int": to_int,
    "float": to_float,
    "bool": to_bool,
    "json": to_json,
}
