"""An order's life: created, routed to a node, picked, packed, shipped, delivered.

OMS routes each order to the first node that, by its own availability view, has every
line in stock and has not taken its day's capacity: the region's DC first for online
orders (then the other DCs, then ship-from-store in the region), the customer's store
first for click & collect. At the node reality can differ: the floor is short (a
stockout reroute, or a substitution, or a backorder when nobody has it), the pick fails
(a few percent), or the node has used up today's capacity. DCs ship at carrier
collections; carriers deliver in daytime, not on Sundays, and miss a few deliveries.
Store-node stages are published by OMS (its store fulfilment app); DC stages by the WMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.calls import Middleware
from simulator.demand import weekday
from simulator.estate import Estate
from simulator.kernel import DAY, HOUR, Kernel
from simulator.stock import Ledger

FAILED_PICK_SHARE = 0.02
SUBSTITUTION_SHARE = 0.25
FAILED_DELIVERY_SHARE = 0.015
ADDRESS_ISSUE_SHARE = 0.004
MAX_BACKORDER_DAYS = 3
DC_COLLECTIONS = (11 * HOUR, 16 * HOUR, 21 * HOUR)
STORE_COLLECTION = 15 * HOUR
CARRIERS = ("dhl", "dpd", "ups", "postnl")
SLOW_CARRIER_DAY_SHARE = 0.3
RETURN_SHARE = {"web": 0.08, "marketplace": 0.06, "store": 0.04, "phone": 0.05}


@dataclass(eq=False)
class Order:
    order_id: str
    channel: str
    created: int
    promised: int
    lines: list[list]  # [sku, qty, unit_price]
    region: str
    home_store: str | None
    express: bool
    node: str | None = None
    version: int = 0
    picked: bool = False
    done: bool = False
    tried: set[str] = field(default_factory=set)
    backorder_since: int | None = None
    shipment_id: str | None = None
    delivery_attempts: int = 0


class Fulfilment:
    def __init__(self, kernel: Kernel, estate: Estate, ledger: Ledger, middleware: Middleware) -> None:
        self.k = kernel
        self.estate = estate
        self.ledger = ledger
        self.mw = middleware
        self.orders: dict[str, Order] = {}
        self.on_delivered: Callable[[Order], None] = lambda order: None
        self.capacity = {loc.location_id: loc.daily_capacity for loc in estate.locations}
        self.region_of = {loc.location_id: loc.region for loc in estate.locations}
        self.dcs = [dc.location_id for dc in estate.dcs]
        self.stores_in: dict[str, list[str]] = {}
        for store in estate.stores:
            self.stores_in.setdefault(store.region, []).append(store.location_id)
        self.by_category: dict[str, list[str]] = {}
        for p in estate.products:
            self.by_category.setdefault(p.category, []).append(p.sku)
        self.category = {p.sku: p.category for p in estate.products}
        self.routed_today: dict[str, int] = {}
        self.picks_today: dict[str, int] = {}
        self.staffing: dict[str, float] = {}
        self.slow_carrier: str | None = None
        self._shipment = 0

    def new_day(self) -> None:
        rng = self.k.rng
        self.routed_today.clear()
        self.picks_today.clear()
        self.staffing = {dc: 0.9 + rng.random() * 0.15 for dc in self.dcs}
        self.slow_carrier = (
            CARRIERS[rng.randrange(len(CARRIERS))] if rng.random() < SLOW_CARRIER_DAY_SHARE else None
        )

    # --- routing -----------------------------------------------------------------------
    def candidates(self, order: Order) -> list[str]:
        home_dc = self.estate.home_dc[order.region]
        dcs = [home_dc] + [dc for dc in self.dcs if dc != home_dc]
        if order.channel == "store" and order.home_store is not None:
            return [order.home_store, *dcs]
        stores = self.stores_in.get(order.region, [])
        rng = self.k.rng
        nearby = [stores[rng.randrange(len(stores))] for _ in range(min(3, len(stores)))]
        return dcs + nearby

    def choose(
        self, order: Order, exclude: str | None = None, *, within_capacity: bool = False
    ) -> str | None:
        """The first candidate with every line available, preferring nodes with capacity left today."""
        available, capacity, routed = self.ledger.available, self.capacity, self.routed_today
        stocked = [
            node
            for node in self.candidates(order)
            if node != exclude
            and node not in order.tried
            and all(available(node, sku) >= qty for sku, qty, _ in order.lines)
        ]
        for node in stocked:
            if routed.get(node, 0) < capacity[node]:
                return node
        return None if within_capacity or not stocked else stocked[0]

    def route(self, order: Order) -> None:
        if order.done:
            return
        node = self.choose(order)
        if node is None:  # nobody has it: wait at the home DC for stock
            node = self.estate.home_dc[order.region]
            self.exception(order, "backorder", None, "no node has every line in stock")
            order.backorder_since = self.k.now
        self.k.emit(
            "oms", "oms", "retail.order.routed", order.order_id, {"order_id": order.order_id, "node_id": node}
        )
        self._assign(order, node)

    def reroute(self, order: Order, to_node: str, reason: str) -> None:
        from_node = order.node or ""
        self.k.emit(
            "oms",
            "oms",
            "retail.order.rerouted",
            order.order_id,
            {"order_id": order.order_id, "from_node": from_node, "to_node": to_node, "reason": reason},
        )
        self._unassign(order)
        self._assign(order, to_node)

    def _assign(self, order: Order, node: str) -> None:
        order.node = node
        order.tried.add(node)
        order.version += 1
        self.routed_today[node] = self.routed_today.get(node, 0) + 1
        for sku, qty, _ in order.lines:
            self.ledger.allocate(node, sku, qty)
        version = order.version
        interface = "oms.wms.create_pick" if node.startswith("DC-") else "oms.store.create_pick"
        self.mw.call(interface, order.order_id, lambda: self._schedule_pick(order, version))

    def _unassign(self, order: Order) -> None:
        if order.node is not None:
            for sku, qty, _ in order.lines:
                self.ledger.release(order.node, sku, qty, consumed=False)

    def _schedule_pick(self, order: Order, version: int) -> None:
        if order.version != version or order.done:
            return
        node = order.node or ""
        rng = self.k.rng
        if node.startswith("DC-"):
            median = 7.8 if order.express else 8.9  # about 40 minutes (express) or 2 hours
            at = self.k.now + int(rng.lognormvariate(median, 0.7))
        else:
            at = self._store_hours(self.k.now + int(rng.lognormvariate(8.3, 0.7)))
        self.k.at(at, self._pick, (order, version))

    def _store_hours(self, ts: int) -> int:
        hour = ts % DAY // HOUR
        if 8 <= hour < 20:
            return ts
        next_open = ts - ts % DAY + 8 * HOUR + (DAY if hour >= 20 else 0)
        return next_open + int(self.k.rng.random() * 2 * HOUR)

    # --- at the node -------------------------------------------------------------------
    def _pick(self, arg: tuple[Order, int]) -> None:
        order, version = arg
        if order.version != version or order.done:
            return
        node = order.node or ""
        rng, ledger = self.k.rng, self.ledger
        limit = self.capacity[node] * self.staffing.get(node, 1.0)
        if self.picks_today.get(node, 0) >= limit:
            other = self.choose(order, exclude=node, within_capacity=True)
            if other is not None:
                self.reroute(order, other, "capacity")
            else:
                self.k.at(self.k.now - self.k.now % DAY + DAY + 6 * HOUR, self._pick, arg)
            return
        if rng.random() < FAILED_PICK_SHARE:
            sku = order.lines[0][0]
            self.exception(order, "failed_pick", node, f"{sku} not found at its pick face")
            ledger.to_count.add((node, sku))
            self._move_on(order, node, "failed_pick", arg)
            return
        phys = ledger.physical[node]
        short = [line for line in order.lines if phys.get(line[0], 0) < line[1]]
        if short:
            for line in short:
                ledger.to_count.add((node, line[0]))
            if len(short) == 1 and order.channel != "marketplace" and rng.random() < SUBSTITUTION_SHARE:
                substitute = self._substitute(node, short[0])
                if substitute is not None:
                    self.exception(order, "substitution", node, f"{short[0][0]} replaced by {substitute}")
                    ledger.release(node, short[0][0], short[0][1], consumed=False)
                    short[0][0] = substitute
                    ledger.allocate(node, substitute, short[0][1])
                    self._picked(order, node)
                    return
            self._move_on(order, node, "stockout", arg)
            return
        self._picked(order, node)

    def _substitute(self, node: str, line: list) -> str | None:
        pool = self.by_category[self.category[line[0]]]
        phys = self.ledger.physical[node]
        rng = self.k.rng
        for _ in range(5):
            sku = pool[rng.randrange(len(pool))]
            if sku != line[0] and phys.get(sku, 0) >= line[1]:
                return str(sku)
        return None

    def _move_on(self, order: Order, node: str, reason: str, arg: tuple[Order, int]) -> None:
        other = self.choose(order, exclude=node)
        if other is not None:
            self.reroute(order, other, reason)
            return
        now = self.k.now
        if order.backorder_since is None:
            order.backorder_since = now
            self.exception(order, "backorder", node, "waiting for stock")
        if now - order.backorder_since > MAX_BACKORDER_DAYS * DAY:
            self.cancel(order, "out_of_stock")
            return
        order.tried = {node}
        self.k.at(now + DAY // 2, self._pick, arg)

    def _picked(self, order: Order, node: str) -> None:
        ledger = self.ledger
        for sku, qty, _ in order.lines:
            ledger.move(node, sku, -qty, "sale")
            ledger.release(node, sku, qty, consumed=True)
        order.picked = True
        self.picks_today[node] = self.picks_today.get(node, 0) + 1
        self._stage(order, "retail.order.picked", node)
        self.k.after(self.k.rng.lognormvariate(7.3, 0.6), self._pack, order)  # median about 25 min

    def _stage(self, order: Order, type_: str, node: str, **extra: str) -> None:
        if node.startswith("DC-"):
            system, source = "wms", self.ledger.source_of[node]
        else:
            system, source = "oms", "oms"
        self.k.emit(
            system, source, type_, order.order_id, {"order_id": order.order_id, "node_id": node, **extra}
        )

    def _pack(self, order: Order) -> None:
        node = order.node or ""
        self._stage(order, "retail.order.packed", node)
        now = self.k.now
        if order.channel == "store" and node == order.home_store:  # ready to collect in store
            self.k.at(self._store_hours(now + int(self.k.rng.lognormvariate(9.3, 0.8))), self._deliver, order)
            return
        ready, midnight = now + 20 * 60, now - now % DAY
        collections = DC_COLLECTIONS if node.startswith("DC-") else (STORE_COLLECTION,)
        slots = [midnight + c for c in collections] + [midnight + DAY + collections[0]]
        self.k.at(next(s for s in slots if s >= ready), self._ship, order)

    def _ship(self, order: Order) -> None:
        node = order.node or ""
        rng = self.k.rng
        self._shipment += 1
        order.shipment_id = f"SHP-{self._shipment:09d}"
        carrier = "ups-express" if order.express else CARRIERS[rng.randrange(len(CARRIERS))]
        self._stage(order, "retail.order.shipped", node, shipment_id=order.shipment_id, carrier=carrier)
        if node.startswith("DC-"):
            self.mw.call("wms.oms.ship_confirm", order.order_id)
        self.mw.call("oms.carrier.book", order.order_id)
        if order.channel == "marketplace":
            self.mw.call("oms.marketplace.ship_notify", order.order_id)
        roll = rng.random()
        one_day, two_days = (0.9, 1.0) if order.express else (0.83, 0.96)
        days = 1 if roll < one_day else (2 if roll < two_days else 3)
        far = (
            node != self.estate.home_dc[order.region]
            if node.startswith("DC-")
            else self.region_of[node] != order.region
        )
        if far and not order.express:
            days += 1 if rng.random() < 0.5 else 0
        if carrier == self.slow_carrier:  # a bad day in that carrier's network
            days += 1
        self.k.at(self._delivery_slot(self.k.now + days * DAY), self._deliver, order)

    def _delivery_slot(self, day: int) -> int:
        midnight = day - day % DAY
        if weekday(midnight) == 6:  # no deliveries on Sundays
            midnight += DAY
        return midnight + 8 * HOUR + int(self.k.rng.random() * 12 * HOUR)

    def _deliver(self, order: Order) -> None:
        if order.shipment_id is not None and order.delivery_attempts == 0:
            order.delivery_attempts += 1  # only a first attempt fails; the next goes through
            roll = self.k.rng.random()
            if roll < FAILED_DELIVERY_SHARE:
                self.exception(order, "failed_delivery", None, "nobody home, card left")
                self.k.at(self._delivery_slot(self.k.now + DAY), self._deliver, order)
                return
            if roll < FAILED_DELIVERY_SHARE + ADDRESS_ISSUE_SHARE:
                self.exception(order, "address_issue", None, "address incomplete, carrier asks the customer")
                self.k.at(self._delivery_slot(self.k.now + 2 * DAY), self._deliver, order)
                return
        self.k.emit("oms", "oms", "retail.order.delivered", order.order_id, {"order_id": order.order_id})
        order.done = True
        del self.orders[order.order_id]
        if self.k.rng.random() < RETURN_SHARE[order.channel]:
            self.on_delivered(order)

    # --- cancellations and exceptions --------------------------------------------------
    def request_cancel(self, order: Order) -> None:
        if not order.done and not order.picked:
            self.cancel(order, "customer_request")

    def cancel(self, order: Order, reason: str) -> None:
        self.k.emit(
            "oms",
            "oms",
            "retail.order.cancelled",
            order.order_id,
            {"order_id": order.order_id, "reason": reason},
        )
        self._unassign(order)
        order.done = True
        order.version += 1
        self.orders.pop(order.order_id, None)

    def exception(self, order: Order, kind: str, node: str | None, detail: str) -> None:
        data = {"order_id": order.order_id, "kind": kind, "detail": detail}
        if node is not None:
            data["node_id"] = node
        if node is not None and node.startswith("DC-"):
            self.k.emit("wms", self.ledger.source_of[node], "retail.order.exception", order.order_id, data)
        else:
            self.k.emit("oms", "oms", "retail.order.exception", order.order_id, data)
