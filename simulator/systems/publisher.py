"""Holds what the world emitted until its system publishes it, then hands it over in order.

Emissions wait in a heap keyed by `publish_at`; `publish(conn, until)` pops every one due
by `until` in publish order (ties in emission order) and gives each system its native
records in that order, so a reader's cursor over a feed never passes a record that
appears later. The record-level faults act here: `late` (publish_at pushed back),
`clock_skew` (the event's time shifted before encoding), `malformed` and `duplicate`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from collectors.mappings.fieldmap import canonical_time, parse_time
from simulator.faults import FaultBoard
from simulator.systems.system import Emission, Published, System


class Publisher:
    def __init__(self, systems: Mapping[str, System], faults: FaultBoard) -> None:
        self.systems, self.faults = dict(systems), faults
        self._heap: list[tuple[datetime, int, str, dict[str, Any]]] = []
        self._order = itertools.count()
        self.counts: Counter[str] = Counter()  # published records per system, and "unknown"

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, emissions: Iterable[Emission]) -> int:
        n = 0
        heap, order, faults = self._heap, self._order, self.faults
        for e in emissions:
            at = e.publish_at
            if faults:
                late = faults.hits("late", e.system, at)
                if late:
                    at = at + timedelta(hours=late.hours)
            heapq.heappush(heap, (at, next(order), e.system, e.event))
            n += 1
        return n

    def next_due(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def publish(self, conn: Connection, until: datetime) -> int:
        """Write every record due by `until` in publish order; then let the systems tick."""
        batches: dict[str, list[Published]] = defaultdict(list)
        n = 0
        faults, heap, pop = self.faults, self._heap, heapq.heappop
        while heap and heap[0][0] <= until:
            at, _, name, event = pop(heap)
            system = self.systems.get(name)
            if system is None:
                self.counts["unknown"] += 1
                continue
            if not faults:
                batches[name].append(Published(at, system.encode(event, at)))
                n += 1
                continue
            skew = faults.active("clock_skew", name, at)
            if skew:
                shifted = parse_time(event["time"], "time") + timedelta(minutes=skew.minutes)
                event = {**event, "time": canonical_time(shifted)}
            record = system.encode(event, at)
            if faults.hits("malformed", name, at):
                record = system.break_record(record, faults.rng)
            batches[name].append(Published(at, record))
            if faults.hits("duplicate", name, at):
                batches[name].append(Published(at, record))
            n += 1
        for name, items in batches.items():
            self.systems[name].write(conn, items)
            self.counts[name] += len(items)
        for system in self.systems.values():
            system.tick(until)
        return n
