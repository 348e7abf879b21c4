"""Customers buying: orders on the web, by phone, on the marketplace, for collection in a
store, and sales at store tills (stock movements only, booked by the store's POS).

An order is created in OMS (marketplace orders on the marketplace, which OMS pulls through
the middleware), routed a few minutes later, and now and then cancelled by the customer
before it is picked.
"""

from __future__ import annotations

from simulator.calls import Middleware
from simulator.demand import (
    EXPRESS_SHARE,
    ONLINE_BY_HOUR,
    PHONE_SHARE_OF_WEB,
    STORE_BY_HOUR,
    Arrivals,
    Basket,
    promise,
)
from simulator.estate import WALK_IN_LINES_PER_STORE_DAY, Estate
from simulator.fulfilment import Fulfilment, Order
from simulator.kernel import Kernel, iso
from simulator.stock import Ledger

CANCEL_SHARE = 0.03


class Customers:
    def __init__(
        self, kernel: Kernel, estate: Estate, fulfilment: Fulfilment, ledger: Ledger, middleware: Middleware
    ) -> None:
        self.k = kernel
        self.estate = estate
        self.fulfilment = fulfilment
        self.ledger = ledger
        self.mw = middleware
        self.basket = Basket(estate)
        self.stores = [s.location_id for s in estate.stores]
        self.region_of = {loc.location_id: loc.region for loc in estate.locations}
        weights: dict[str, int] = {}
        for store in estate.stores:
            weights[store.region] = weights.get(store.region, 0) + 1
        self.regions = [r for r in estate.regions for _ in range(weights.get(r, 0) or 1)]
        self._serial = 0
        c = estate.config
        web = c.web_orders_per_day
        self.processes = [
            Arrivals(kernel, web * (1 - PHONE_SHARE_OF_WEB), ONLINE_BY_HOUR, lambda: self.order("web")),
            Arrivals(kernel, web * PHONE_SHARE_OF_WEB, ONLINE_BY_HOUR, lambda: self.order("phone")),
            Arrivals(kernel, c.marketplace_orders_per_day, ONLINE_BY_HOUR, lambda: self.order("marketplace")),
        ]
        if self.stores:
            self.processes += [
                Arrivals(kernel, c.store_orders_per_day, STORE_BY_HOUR, lambda: self.order("store")),
                Arrivals(kernel, c.stores * WALK_IN_LINES_PER_STORE_DAY, STORE_BY_HOUR, self.till_sale),
            ]

    def order(self, channel: str) -> None:
        k, rng = self.k, self.k.rng
        now = k.now
        self._serial += 1
        order_id = f"ORD-{self._serial:08d}"
        home_store = None
        if channel == "store":
            home_store = self.stores[rng.randrange(len(self.stores))]
            region = self.region_of[home_store]
        else:
            region = self.regions[rng.randrange(len(self.regions))]
        express = channel == "web" and rng.random() < EXPRESS_SHARE
        lines = self.basket.lines(rng.random(), rng.random, home_store)
        in_store = home_store is not None and all(
            self.ledger.available(home_store, sku) >= qty for sku, qty, _ in lines
        )
        promised = promise(channel, now, express, in_store=in_store)
        order = Order(order_id, channel, now, promised, lines, region, home_store, express)
        self.fulfilment.orders[order_id] = order
        data = {
            "order_id": order_id,
            "channel": channel,
            "promised_by": iso(order.promised),
            "lines": [{"sku": sku, "qty": qty, "unit_price": price} for sku, qty, price in lines],
            "ship_to_region": region,
        }
        if channel == "marketplace":
            k.emit("marketplace", "marketplace/acme", "retail.order.created", order_id, data)
            k.after(60 + rng.random() * 600, self._pull, order)
        else:
            k.emit("oms", "oms", "retail.order.created", order_id, data)
            k.after(60 + rng.random() * 540, self.fulfilment.route, order)
        if rng.random() < CANCEL_SHARE:
            k.after(rng.expovariate(1 / 7200), self.fulfilment.request_cancel, order)

    def _pull(self, order: Order) -> None:
        """OMS takes a marketplace order in through the middleware, then routes it."""
        self.mw.call(
            "marketplace.oms.order_in",
            order.order_id,
            lambda: self.k.after(60 + self.k.rng.random() * 240, self.fulfilment.route, order),
        )

    def till_sale(self) -> None:
        rng = self.k.rng
        store = self.stores[rng.randrange(len(self.stores))]
        sku = self.basket.sku(rng.random(), store)
        qty = 1 if rng.random() < 0.85 else 2
        if self.ledger.physical[store].get(sku, 0) >= qty:  # else the shelf is empty: a lost sale
            self.ledger.move(store, sku, -qty, "sale")
