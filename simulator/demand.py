"""When customers buy: arrival curves per channel, what an order holds, what it is promised.

Online orders follow a daily curve (quiet nights, an evening peak) and a weekly one
(Sunday evening and Monday busiest, Saturday quietest); store orders (click & collect)
and till sales come in opening hours. Arrivals are a Poisson process with that varying
rate, drawn by thinning, so they are the same whatever steps the world is advanced in.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable

from simulator.estate import Estate
from simulator.kernel import DAY, HOUR, Kernel

ONLINE_BY_HOUR = (0.3, 0.2, 0.15, 0.12, 0.12, 0.2, 0.45, 0.8, 1.0, 1.1, 1.15, 1.2,
                  1.3, 1.25, 1.2, 1.15, 1.2, 1.35, 1.6, 1.9, 2.1, 1.9, 1.3, 0.7)  # fmt: skip
STORE_BY_HOUR = (0, 0, 0, 0, 0, 0, 0, 0, 0.6, 0.9, 1.1, 1.3,
                 1.5, 1.4, 1.2, 1.2, 1.3, 1.5, 1.6, 1.3, 0.9, 0, 0, 0)  # fmt: skip
BY_WEEKDAY = (1.12, 1.04, 1.0, 0.98, 0.93, 0.88, 1.05)  # Monday first
PHONE_SHARE_OF_WEB = 0.04
EXPRESS_SHARE = 0.2


class Arrivals:
    """A Poisson process of `per_day` arrivals a day, shaped by hour of day and weekday."""

    def __init__(
        self, kernel: Kernel, per_day: float, by_hour: tuple[float, ...], on_arrival: Callable[[], None]
    ):
        self.k = kernel
        total = sum(by_hour)
        self.per_second = [per_day * h / total / HOUR for h in by_hour]
        self.peak = max(self.per_second) * max(BY_WEEKDAY)
        self.on_arrival = on_arrival
        self.next_at = float(kernel.now)
        if self.peak > 0:
            self._schedule()

    def _schedule(self) -> None:
        self.next_at += self.k.rng.expovariate(self.peak)
        self.k.at(int(self.next_at) + 1, self._arrive)

    def _arrive(self, _: object) -> None:
        ts = int(self.next_at)
        rate = self.per_second[ts % DAY // HOUR] * BY_WEEKDAY[weekday(ts)]
        if self.k.rng.random() * self.peak < rate:
            self.on_arrival()
        self._schedule()


class Basket:
    """Draws SKUs by popularity, from the whole catalogue or from one store's range."""

    def __init__(self, estate: Estate) -> None:
        self.skus = tuple(p.sku for p in estate.products)
        self.cumulative = list(itertools.accumulate(estate.popularity[s] for s in self.skus))
        self.price = {p.sku: p.unit_price for p in estate.products}
        self.store_skus = estate.ranges
        self.store_cumulative = {
            store: list(itertools.accumulate(estate.popularity[s] for s in skus))
            for store, skus in estate.ranges.items()
        }

    def sku(self, roll: float, store: str | None = None) -> str:
        if store is None:
            cumulative, skus = self.cumulative, self.skus
        else:
            cumulative, skus = self.store_cumulative[store], self.store_skus[store]
        return skus[min(len(skus) - 1, bisect.bisect(cumulative, roll * cumulative[-1]))]

    def lines(
        self, roll_lines: float, rng_random: Callable[[], float], store: str | None = None
    ) -> list[list]:
        n = 1 if roll_lines < 0.6 else (2 if roll_lines < 0.85 else 3)
        chosen: dict[str, int] = {}
        for _ in range(n):
            sku = self.sku(rng_random(), store)
            q = rng_random()
            chosen[sku] = chosen.get(sku, 0) + (1 if q < 0.75 else (2 if q < 0.95 else 3))
        return [[sku, qty, self.price[sku]] for sku, qty in chosen.items()]


def promise(channel: str, created: int, express: bool, *, in_store: bool = True) -> int:
    """Promised delivery (or collection) time: a number of days after the order, by cut-off.

    Web: two days (ordered by 20:00), express: the next day (by 14:00), marketplace: two days
    (by 16:00), delivered by 22:00; carriers do not deliver on Sundays, so nothing is promised
    for a Sunday. Click & collect: ready the next day at 20:00 when the store has the goods
    (`in_store`), else in three days, for them to come from a DC.
    """
    midnight = created - created % DAY
    hour = (created - midnight) // HOUR
    if channel == "store":
        return midnight + ((1 if hour < 14 else 2) if in_store else 3) * DAY + 20 * HOUR
    if channel == "marketplace":
        days = 2 if hour < 16 else 3
    elif express:
        days = 1 if hour < 14 else 2
    else:
        days = 2 if hour < 20 else 3
    day = midnight + days * DAY
    if weekday(day) == 6:
        day += DAY
    return day + 22 * HOUR


def weekday(ts: int) -> int:
    """Monday 0 .. Sunday 6."""
    return (ts // DAY + 3) % 7  # 1970-01-01 was a Thursday
