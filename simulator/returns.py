"""Returns: a few percent of delivered orders come back, days later, to a store or a DC.

A store puts a return back on the shelf within hours; a DC's returns desk takes about a
day, some take several (slow returns), and a few returned items are never restocked
(written off). The refund is issued by OMS, independent of the restock.
"""

from __future__ import annotations

from simulator.estate import Estate
from simulator.fulfilment import Order
from simulator.kernel import DAY, HOUR, Kernel
from simulator.stock import Ledger

REASONS = ("changed_mind", "wrong_size", "damaged", "not_as_described", "late")
TO_STORE_SHARE = 0.35
WRITE_OFF_SHARE = 0.03


class Returns:
    def __init__(self, kernel: Kernel, estate: Estate, ledger: Ledger) -> None:
        self.k = kernel
        self.estate = estate
        self.ledger = ledger
        self.stores_in: dict[str, list[str]] = {}
        for store in estate.stores:
            self.stores_in.setdefault(store.region, []).append(store.location_id)
        self._serial = 0

    def expect(self, order: Order) -> None:
        rng = self.k.rng
        sku, qty, price = order.lines[rng.randrange(len(order.lines))]
        loc = self.estate.home_dc[order.region]
        if order.home_store is not None and sku in self.ledger.physical[order.home_store]:
            loc = order.home_store
        elif rng.random() < TO_STORE_SHARE and self.stores_in.get(order.region):
            stores = self.stores_in[order.region]
            store = stores[rng.randrange(len(stores))]
            if sku in self.ledger.physical[store]:
                loc = store
        self.k.after((2 + rng.random() * 12) * DAY, self._received, (order.order_id, sku, qty, price, loc))

    def _received(self, arg: tuple[str, str, int, float, str]) -> None:
        order_id, sku, qty, price, loc = arg
        rng = self.k.rng
        self._serial += 1
        return_id = f"RET-{self._serial:08d}"
        system, source = self.ledger.system_of[loc], self.ledger.source_of[loc]
        self.k.emit(
            system,
            source,
            "retail.return.received",
            return_id,
            {
                "return_id": return_id,
                "sku": sku,
                "qty": qty,
                "location_id": loc,
                "order_id": order_id,
                "reason_code": REASONS[rng.randrange(len(REASONS))],
            },
        )
        if rng.random() >= WRITE_OFF_SHARE:
            median = 5 * HOUR if system == "pos" else 18 * HOUR
            self.k.after(median * rng.lognormvariate(0, 0.8), self._restocked, (return_id, sku, qty, loc))
        self.k.after((1 + rng.random() * 71) * HOUR, self._refunded, (return_id, round(price * qty, 2)))

    def _restocked(self, arg: tuple[str, str, int, str]) -> None:
        return_id, sku, qty, loc = arg
        system, source = self.ledger.system_of[loc], self.ledger.source_of[loc]
        self.k.emit(
            system,
            source,
            "retail.return.restocked",
            return_id,
            {"return_id": return_id, "location_id": loc, "sku": sku, "qty": qty},
        )
        self.ledger.move(loc, sku, qty, "return")

    def _refunded(self, arg: tuple[str, float]) -> None:
        return_id, amount = arg
        self.k.emit(
            "oms", "oms", "retail.return.refunded", return_id, {"return_id": return_id, "amount": amount}
        )
