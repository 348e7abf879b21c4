"""Faults the simulated systems can be told to show, switched at start or at run time.

| kind           | target                            | effect                                              |
|----------------|-----------------------------------|-----------------------------------------------------|
| `down`         | oms, wms, middleware              | the system's endpoints answer 503                   |
| `slow`         | oms, wms, middleware              | `ms` of added latency on every answer               |
| `error_burst`  | middleware, or one interface name | a `share` of its calls FAILED (HTTP 502)            |
| `duplicate`    | any system                        | a `share` of records served twice                   |
| `late`         | any system                        | a `share` of records published `hours` later        |
| `malformed`    | any system                        | a `share` of records broken: a field missing, a bad |
|                |                                   | number or a bad date                                |
| `clock_skew`   | any system                        | the system's timestamps shifted by `minutes`        |
| `partial_file` | pos, marketplace                  | files written in two steps, the marker at the end   |

A fault lasts until it is cleared, or until `until` (simulated time; `for_seconds`
counts from the simulated now).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

KINDS: dict[str, dict[str, float]] = {
    "down": {},
    "slow": {"ms": 1500.0},
    "error_burst": {"share": 0.8},
    "duplicate": {"share": 0.2},
    "late": {"share": 0.3, "hours": 3.0},
    "malformed": {"share": 0.1},
    "clock_skew": {"minutes": 90.0},
    "partial_file": {},
}
SYSTEMS = ("oms", "wms", "erp", "pos", "marketplace", "middleware")
HTTP_SYSTEMS = ("oms", "wms", "middleware")
FILE_SYSTEMS = ("pos", "marketplace")


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str
    until: datetime | None = None
    share: float = 1.0
    hours: float = 0.0
    ms: float = 0.0
    minutes: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["until"] = self.until.isoformat() if self.until else None
        return out


def parse_fault(spec: Mapping[str, Any], now: datetime) -> Fault:
    """A fault from its JSON form; ValueError with a one-line reason when it makes no sense."""
    kind, target = spec.get("fault") or spec.get("kind"), spec.get("target")
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
    if not isinstance(target, str) or not target:
        raise ValueError("a fault needs a target (a system, or for error_burst an interface)")
    if kind in ("down", "slow") and target not in HTTP_SYSTEMS:
        raise ValueError(f"{kind} applies to an API system ({', '.join(HTTP_SYSTEMS)}), not {target!r}")
    if kind == "partial_file" and target not in FILE_SYSTEMS:
        raise ValueError(f"partial_file applies to {' or '.join(FILE_SYSTEMS)}, not {target!r}")
    if kind not in ("error_burst",) and target not in SYSTEMS:
        raise ValueError(f"unknown system {target!r}; one of {', '.join(SYSTEMS)}")
    params = dict(KINDS[kind])
    for name in ("share", "hours", "ms", "minutes"):
        if spec.get(name) is not None:
            try:
                params[name] = float(spec[name])
            except (TypeError, ValueError):
                raise ValueError(f"{name} is not a number: {spec[name]!r}") from None
    if not 0 <= params.get("share", 1.0) <= 1:
        raise ValueError(f"share must be between 0 and 1, got {params['share']}")
    until = _until(spec, now)
    return Fault(kind=kind, target=target, until=until, **params)


def _until(spec: Mapping[str, Any], now: datetime) -> datetime | None:
    if spec.get("for_seconds") is not None:
        try:
            seconds = float(spec["for_seconds"])
        except (TypeError, ValueError):
            raise ValueError(f"for_seconds is not a number: {spec['for_seconds']!r}") from None
        if seconds <= 0:
            raise ValueError("for_seconds must be positive")
        return now + timedelta(seconds=seconds)
    if spec.get("until") is not None:
        try:
            until = datetime.fromisoformat(str(spec["until"]))
        except ValueError:
            raise ValueError(f"until is not an RFC 3339 time: {spec['until']!r}") from None
        if until.tzinfo is None:
            raise ValueError(f"until needs an offset: {spec['until']!r}")
        return until
    return None


def parse_spec(text: str, now: datetime) -> Fault:
    """`KIND:TARGET[:name=value,...]`, as given on the command line."""
    kind, _, rest = text.partition(":")
    target, _, options = rest.partition(":")
    spec: dict[str, Any] = {"fault": kind, "target": target}
    for pair in filter(None, options.split(",")):
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"expected name=value in {text!r}, got {pair!r}")
        spec[name.strip()] = value.strip()
    return parse_fault(spec, now)


class FaultBoard:
    """The faults in force; safe to use from the server's threads and the loop."""

    def __init__(self, faults: Sequence[Fault] = (), *, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, str], Fault] = {}
        self.rng = random.Random(seed)
        for fault in faults:
            self.set(fault)

    def __bool__(self) -> bool:
        """True when any fault is in force (the publisher skips every check otherwise)."""
        return bool(self._faults)

    def set(self, fault: Fault) -> None:
        with self._lock:
            self._faults[(fault.kind, fault.target)] = fault

    def clear(self, kind: str | None = None, target: str | None = None) -> int:
        with self._lock:
            keys = [
                k
                for k in self._faults
                if (kind is None or k[0] == kind) and (target is None or k[1] == target)
            ]
            for k in keys:
                del self._faults[k]
            return len(keys)

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults.values())

    def active(self, kind: str, target: str, at: datetime) -> Fault | None:
        with self._lock:
            fault = self._faults.get((kind, target))
        if fault is None or (fault.until is not None and at >= fault.until):
            return None
        return fault

    def hits(self, kind: str, target: str, at: datetime) -> Fault | None:
        """The fault when it applies to this one record (drawn against its share)."""
        fault = self.active(kind, target, at)
        if fault is None or (fault.share < 1 and self.rng.random() >= fault.share):
            return None
        return fault

    def expire(self, now: datetime) -> None:
        with self._lock:
            for key, fault in list(self._faults.items()):
                if fault.until is not None and now >= fault.until:
                    del self._faults[key]


def with_until(fault: Fault, until: datetime | None) -> Fault:
    return replace(fault, until=until)


# --- breaking a native record ------------------------------------------------------------

BAD_NUMBER = "12,5x"
BAD_DATE = "31.02.2026 25:61"


@dataclass(frozen=True)
class Breakable:
    """Where a system's records can be broken: its id and time fields and its numbers."""

    id_field: str
    time_field: str
    number_fields: tuple[str, ...] = ()


def break_record(record: dict[str, Any], how: Breakable, rng: random.Random) -> dict[str, Any]:
    """A copy of `record` with one thing wrong: a field missing, a bad number or a bad date."""
    broken = dict(record)
    numbers = [f for f in how.number_fields if broken.get(f) not in (None, "")]
    choice = rng.choice(("missing", "date", "number") if numbers else ("missing", "date"))
    if choice == "missing":
        broken.pop(rng.choice((how.id_field, how.time_field)), None)
    elif choice == "date":
        broken[how.time_field] = BAD_DATE
    else:
        broken[rng.choice(numbers)] = BAD_NUMBER
    return broken
