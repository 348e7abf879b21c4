"""The simulation kernel: one clock, one random stream, one agenda, one way to emit.

Time inside the simulator is whole seconds since the Unix epoch (UTC). Every happening is
an agenda item `(time, serial, handler, arg)`; handlers run at their time and emit events
stamped with it, so the output is in business-time order. Each system publishes what it
knows on its own cadence (`publish_at`); a few batches and events come out hours late.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

HOUR = 3600
DAY = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_TYPE_CODES = {
    "retail.location.upserted": "loc",
    "retail.product.upserted": "prd",
    "retail.order.created": "oc",
    "retail.order.routed": "or",
    "retail.order.rerouted": "orr",
    "retail.order.picked": "opk",
    "retail.order.packed": "opa",
    "retail.order.shipped": "osh",
    "retail.order.delivered": "odl",
    "retail.order.cancelled": "ocx",
    "retail.order.exception": "oex",
    "retail.inventory.snapshot": "snp",
    "retail.inventory.adjusted": "adj",
    "retail.po.updated": "po",
    "retail.transfer.requested": "trf",
    "retail.shipment.asn": "asn",
    "retail.shipment.received": "rcv",
    "retail.return.received": "rtn",
    "retail.return.restocked": "rst",
    "retail.return.refunded": "rfd",
    "retail.integration.call": "call",
}


class Emitted(NamedTuple):
    system: str
    event: dict[str, Any]
    publish_at: datetime


def to_datetime(ts: int) -> datetime:
    return _EPOCH + timedelta(seconds=ts)


def to_ts(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return int((moment - _EPOCH).total_seconds())


def ceil_to(ts: int, step: int) -> int:
    return -(-ts // step) * step


_day_prefix: dict[int, str] = {}


def iso(ts: int) -> str:
    """RFC 3339 in UTC, whole seconds."""
    day, sec = divmod(ts, DAY)
    prefix = _day_prefix.get(day)
    if prefix is None:
        prefix = _day_prefix[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
    hour, rest = divmod(sec, HOUR)
    minute, second = divmod(rest, 60)
    return f"{prefix}T{hour:02d}:{minute:02d}:{second:02d}+00:00"


Handler = Callable[[Any], None]


class Kernel:
    """Agenda, clock, random stream and the buffer of emitted events."""

    LATE_EVENT_SHARE = 0.002  # OMS/WMS events held back hours (a stuck outbound queue)
    LATE_ERP_HOUR_SHARE = 0.04  # ERP export jobs that run hours late
    LATE_POS_BATCH_SHARE = 0.03  # store batches that miss their slot and go with the next one

    def __init__(self, seed: int, start: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = start
        self.out: list[Emitted] = []
        self._agenda: list[tuple[int, int, Handler, Any]] = []
        self._serial = 0
        self._event_serial = 0
        self._iso_ts = -1
        self._iso = ""
        self._late_batches: dict[tuple[int, str], int] = {}
        self._dt_cache: dict[int, datetime] = {}

    # --- agenda ------------------------------------------------------------------------
    def at(self, ts: int, handler: Handler, arg: Any = None) -> None:
        self._serial += 1
        heapq.heappush(self._agenda, (max(ts, self.now), self._serial, handler, arg))

    def after(self, seconds: float, handler: Handler, arg: Any = None) -> None:
        self.at(self.now + max(1, int(seconds)), handler, arg)

    def every(self, first: int, period: int, handler: Callable[[], None]) -> None:
        """Run `handler` at `first` and every `period` seconds after."""

        def tick(_: Any) -> None:
            handler()
            self.at(self.now + period, tick)

        self.at(first, tick)

    def run_until(self, until: int) -> Any:
        """Run every agenda item before `until`, yielding what each one emits."""
        agenda, out, pop = self._agenda, self.out, heapq.heappop
        while agenda and agenda[0][0] < until:
            ts, _, handler, arg = pop(agenda)
            self.now = ts
            handler(arg)
            if out:
                yield from out
                out.clear()
        self.now = until

    # --- emitting ----------------------------------------------------------------------
    def emit(self, system: str, source: str, type_: str, subject: str | None, data: dict[str, Any]) -> None:
        ts = self.now
        if ts != self._iso_ts:
            self._iso_ts, self._iso = ts, iso(ts)
        self._event_serial += 1
        event = {
            "specversion": "1.0",
            "id": f"{_TYPE_CODES[type_]}-{self._event_serial:09d}",
            "source": source,
            "type": type_,
            "time": self._iso,
            "data": data,
        }
        if subject is not None:
            event["subject"] = subject
        self.out.append(Emitted(system, event, self._publish_at(system, source, ts)))

    def _publish_at(self, system: str, source: str, ts: int) -> datetime:
        if system == "middleware":
            return self._datetime(ts)
        if system == "oms" or system == "wms":
            rng = self.rng
            at = ts + 1 + int(rng.random() * (9 if system == "wms" else 4))
            if rng.random() < self.LATE_EVENT_SHARE:
                at += HOUR + int(rng.random() * 5 * HOUR)
            return to_datetime(at)
        if system == "erp":
            slot = ceil_to(ts, HOUR)
            return self._datetime(
                slot + self._late(slot, "erp", self.LATE_ERP_HOUR_SHARE, 2 * HOUR, 5 * HOUR)
            )
        if system == "pos":
            slot = ceil_to(ts, 4 * HOUR)
            return self._datetime(
                slot + self._late(slot, source, self.LATE_POS_BATCH_SHARE, 4 * HOUR, 4 * HOUR)
            )
        return self._datetime(ceil_to(ts, 900))  # marketplace feed every 15 minutes

    def _late(self, slot: int, key: str, share: float, low: int, high: int) -> int:
        """Whole hours the batch of `key` due at `slot` goes out late (mostly 0), decided once a batch."""
        late = self._late_batches.get((slot, key))
        if late is None:
            if len(self._late_batches) > 50_000:
                self._late_batches.clear()
            pick = random.Random(f"{self.seed}-{key}-{slot}")
            late = low + HOUR * int(pick.random() * (high - low) / HOUR) if pick.random() < share else 0
            self._late_batches[(slot, key)] = late
        return late

    def _datetime(self, ts: int) -> datetime:
        moment = self._dt_cache.get(ts)
        if moment is None:
            if len(self._dt_cache) > 10_000:
                self._dt_cache.clear()
            moment = self._dt_cache[ts] = to_datetime(ts)
        return moment
