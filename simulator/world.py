"""The retail business unfolding in simulated time, as canonical events tagged with the
system that knows each fact and when that system publishes it.

    world = World(Estate.build(EstateConfig()), datetime(2026, 11, 2, tzinfo=UTC))
    for emitted in world.advance(world.now + timedelta(hours=1)):
        ...  # emitted.system, emitted.event (EVENTS.md), emitted.publish_at

`advance` yields lazily: the world moves as the iterator is consumed, so consume it
fully before the next call. Output is the same for a seed whatever the step sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from simulator.calls import Middleware
from simulator.commands import Commands
from simulator.customers import Customers
from simulator.estate import Estate
from simulator.fulfilment import Fulfilment
from simulator.inbound import Inbound
from simulator.kernel import DAY, HOUR, Emitted, Kernel, to_datetime, to_ts
from simulator.returns import Returns
from simulator.stock import Ledger

__all__ = ["Emitted", "World"]


class World:
    def __init__(self, estate: Estate, start: datetime, *, seed: int | None = None) -> None:
        start_ts = to_ts(start)
        self.estate = estate
        self.kernel = k = Kernel(estate.config.seed if seed is None else seed, start_ts)
        self.middleware = Middleware(k)
        self.ledger = Ledger(k, estate, self.middleware)
        self.fulfilment = Fulfilment(k, estate, self.ledger, self.middleware)
        self.inbound = Inbound(k, estate, self.ledger, self.middleware)
        self.returns = Returns(k, estate, self.ledger)
        self.fulfilment.on_delivered = self.returns.expect
        self.commands = Commands(k, estate, self.ledger, self.fulfilment, self.middleware, self.inbound)
        k.at(start_ts, self._open)
        self.fulfilment.new_day()
        self.customers = Customers(k, estate, self.fulfilment, self.ledger, self.middleware)
        self._daily(0, self._midnight)
        self._daily(2 * HOUR, self.inbound.plan_transfers)
        self._daily(3 * HOUR, self.ledger.oms_feed)
        self._daily(5 * HOUR, self.inbound.plan_purchases)
        self._daily(12 * HOUR, self.ledger.shrink_and_damage)
        self._daily(21 * HOUR + 30 * 60, self.ledger.cycle_counts)
        self._daily(23 * HOUR + 30 * 60, self.ledger.wms_snapshot)
        self._repeat(0, HOUR, self.ledger.erp_snapshot)
        self._repeat(40 * 60, HOUR, self.ledger.dc_movements_to_erp)
        self._repeat(0, 4 * HOUR, self.ledger.pos_snapshot)
        self._repeat(5 * 60, 4 * HOUR, self.ledger.store_sales_to_erp)

    @property
    def now(self) -> datetime:
        return to_datetime(self.kernel.now)

    def advance(self, until: datetime) -> Iterator[Emitted]:
        """Simulate from `now` to `until`, yielding what happens in business-time order."""
        until_ts = to_ts(until)
        if until_ts < self.kernel.now:
            raise ValueError(f"cannot go back in time: {until.isoformat()} is before {self.now.isoformat()}")
        return self.kernel.run_until(until_ts)

    def apply(self, command: dict[str, Any]) -> list[Emitted]:
        """Apply one command from the control tower's outbox now; see `simulator.commands`."""
        return self.commands.apply(command)

    def open_orders(self) -> int:
        return len(self.fulfilment.orders)

    # --- wiring ------------------------------------------------------------------------
    def _open(self, _: object) -> None:
        """Master data first, then every system's opening stock position."""
        k = self.kernel
        for loc in self.estate.locations:
            k.emit(
                "erp",
                "erp",
                "retail.location.upserted",
                loc.location_id,
                {
                    "location_id": loc.location_id,
                    "kind": loc.kind,
                    "region": loc.region,
                    "name": loc.name,
                    "daily_capacity": loc.daily_capacity,
                },
            )
        for p in self.estate.products:
            k.emit(
                "erp",
                "erp",
                "retail.product.upserted",
                p.sku,
                {
                    "sku": p.sku,
                    "unit_cost": p.unit_cost,
                    "name": p.name,
                    "category": p.category,
                    "unit_price": p.unit_price,
                },
            )
        self.ledger.baseline()

    def _midnight(self) -> None:
        self.fulfilment.new_day()
        self.middleware.nightly()

    def _repeat(self, offset: int, period: int, job: Callable[[], None]) -> None:
        start = self.kernel.now
        first = start - start % DAY + offset
        while first <= start:
            first += period
        self.kernel.every(first, period, job)

    def _daily(self, offset: int, job: Callable[[], None]) -> None:
        self._repeat(offset, DAY, job)
