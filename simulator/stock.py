"""Stock per (location, SKU): what is physically there, and what each system believes.

- The node system (WMS at a DC, POS at a store) books every movement it sees at once and
  publishes an `inventory.adjusted` per movement; WMS also snapshots every position daily,
  POS snapshots the positions it changed every 4 hours.
- ERP learns movements in batches (DC movements every hour, store sales every 4 hours,
  through middleware calls that can fail) and snapshots the positions it changed each hour.
- OMS takes a daily stock feed from ERP and keeps available-to-promise from it minus its
  own allocations and holds; it snapshots the positions that feed changed.
- Shrink is physical only, seen at cycle counts; a store misses a few transfer receipts
  (POS too low, even negative, until a count); receipts without ASN reach ERP days late.
So the systems disagree in ways an operator can explain.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from simulator.calls import Middleware
from simulator.estate import Estate
from simulator.kernel import Kernel, iso


def node_source(location_id: str) -> str:
    """The CloudEvents source of the system that runs a location (WMS at a DC, POS at a store)."""
    return ("wms/" if location_id.startswith("DC-") else "pos/") + location_id.lower()


class Ledger:
    DC_COUNTS_PER_DAY_SHARE = 0.03
    STORE_COUNTS_PER_DAY = 6

    def __init__(self, kernel: Kernel, estate: Estate, middleware: Middleware) -> None:
        self.k = kernel
        self.estate = estate
        self.mw = middleware
        start = estate.starting_stock
        self.physical: dict[str, dict[str, int]] = {loc: dict(s) for loc, s in start.items()}
        self.book: dict[str, dict[str, int]] = {loc: dict(s) for loc, s in start.items()}
        self.erp: dict[str, dict[str, int]] = {loc: dict(s) for loc, s in start.items()}
        self.atp: dict[str, dict[str, int]] = {loc: dict(s) for loc, s in start.items()}
        self.allocated: dict[str, dict[str, int]] = {loc: defaultdict(int) for loc in start}
        self.holds: dict[tuple[str, str], int] = {}
        self.pending_erp: dict[str, dict[str, int]] = {loc: defaultdict(int) for loc in start}
        self.erp_changed: set[tuple[str, str]] = set()
        self.oms_changed: set[tuple[str, str]] = set()
        self.pos_changed: dict[str, set[str]] = {s.location_id: set() for s in estate.stores}
        self.to_count: set[tuple[str, str]] = set()
        self.system_of = {loc: ("wms" if loc.startswith("DC-") else "pos") for loc in start}
        self.source_of = {loc: node_source(loc) for loc in start}
        self._batch = 0

    # --- movements ---------------------------------------------------------------------
    def move(
        self, loc: str, sku: str, delta: int, reason: str, *, seen: bool = True, to_erp: bool = True
    ) -> None:
        """Physical stock moves; the node system books it unless `seen` is false."""
        phys = self.physical[loc]
        phys[sku] = phys.get(sku, 0) + delta
        if seen:
            self.book_move(loc, sku, delta, reason, to_erp=to_erp)

    def book_move(self, loc: str, sku: str, delta: int, reason: str, *, to_erp: bool = True) -> None:
        book = self.book[loc]
        book[sku] = book.get(sku, 0) + delta
        system = self.system_of[loc]
        self.k.emit(
            system,
            self.source_of[loc],
            "retail.inventory.adjusted",
            f"{sku}@{loc}",
            {"system": system, "location_id": loc, "sku": sku, "delta": delta, "reason": reason},
        )
        if to_erp:
            self.pending_erp[loc][sku] += delta
        if system == "pos":
            self.pos_changed[loc].add(sku)

    def erp_move(self, loc: str, sku: str, delta: int) -> None:
        erp = self.erp[loc]
        erp[sku] = erp.get(sku, 0) + delta
        self.erp_changed.add((loc, sku))
        self.oms_changed.add((loc, sku))

    def post_to_erp(self, loc: str) -> None:
        pending = self.pending_erp[loc]
        for sku, delta in pending.items():
            if delta:
                self.erp_move(loc, sku, delta)
        pending.clear()

    def available(self, loc: str, sku: str) -> int:
        return self.atp[loc].get(sku, 0)

    def allocate(self, loc: str, sku: str, qty: int) -> None:
        self.atp[loc][sku] = self.atp[loc].get(sku, 0) - qty
        self.allocated[loc][sku] += qty

    def release(self, loc: str, sku: str, qty: int, *, consumed: bool) -> None:
        """An allocation ends: picked (`consumed`, ATP stays down) or cancelled/rerouted."""
        self.allocated[loc][sku] -= qty
        if not consumed:
            self.atp[loc][sku] = self.atp[loc].get(sku, 0) + qty

    # --- cadences ----------------------------------------------------------------------
    def dc_movements_to_erp(self) -> None:
        """Hourly: each DC's WMS sends its movements to ERP."""
        for dc in self.estate.dcs:
            loc = dc.location_id
            self._batch += 1
            self.mw.call("wms.erp.movements", f"MOV-{loc}-{self._batch:07d}", partial(self.post_to_erp, loc))

    def store_sales_to_erp(self) -> None:
        """Every 4 hours: each store's POS uploads its sales and receipts to ERP."""
        for store in self.estate.stores:
            loc = store.location_id
            if self.pending_erp[loc]:
                self._batch += 1
                self.mw.call(
                    "pos.erp.sales_upload",
                    f"SLS-{loc}-{self._batch:07d}",
                    partial(self.post_to_erp, loc),
                )

    def erp_snapshot(self) -> None:
        """On the hour: ERP exports the positions that changed in the hour."""
        emit, erp = self.k.emit, self.erp
        for loc, sku in sorted(self.erp_changed):
            emit(
                "erp",
                "erp",
                "retail.inventory.snapshot",
                f"{sku}@{loc}",
                {"system": "erp", "location_id": loc, "sku": sku, "on_hand": erp[loc][sku]},
            )
        self.erp_changed.clear()

    def pos_snapshot(self) -> None:
        """Every 4 hours: each store's POS reports the positions it changed."""
        emit = self.k.emit
        for loc, skus in self.pos_changed.items():
            if skus:
                book, source = self.book[loc], self.source_of[loc]
                for sku in sorted(skus):
                    emit(
                        "pos",
                        source,
                        "retail.inventory.snapshot",
                        f"{sku}@{loc}",
                        {"system": "pos", "location_id": loc, "sku": sku, "on_hand": book[sku]},
                    )
                skus.clear()

    def wms_snapshot(self) -> None:
        """Daily: each DC's WMS reports every position, with what open orders reserve."""
        emit = self.k.emit
        for dc in self.estate.dcs:
            loc = dc.location_id
            book, allocated, source = self.book[loc], self.allocated[loc], self.source_of[loc]
            for sku, on_hand in book.items():
                emit(
                    "wms",
                    source,
                    "retail.inventory.snapshot",
                    f"{sku}@{loc}",
                    {
                        "system": "wms",
                        "location_id": loc,
                        "sku": sku,
                        "on_hand": on_hand,
                        "reserved": max(0, allocated.get(sku, 0)),
                    },
                )

    def oms_feed(self) -> None:
        """Daily: ERP feeds stock to OMS; OMS recomputes availability and reports it."""
        day = iso(self.k.now)[:10]
        self.mw.call("erp.oms.stock_feed", f"FEED-{day}", self._apply_feed)

    def _apply_feed(self) -> None:
        emit = self.k.emit
        for loc, sku in sorted(self.oms_changed):
            on_hand = self.erp[loc][sku]
            reserved = max(0, self.allocated[loc].get(sku, 0)) + self.holds.get((loc, sku), 0)
            self.atp[loc][sku] = on_hand - reserved
            emit(
                "oms",
                "oms",
                "retail.inventory.snapshot",
                f"{sku}@{loc}",
                {"system": "oms", "location_id": loc, "sku": sku, "on_hand": on_hand, "reserved": reserved},
            )
        self.oms_changed.clear()

    def baseline(self) -> None:
        """At the start every system reports every position it holds, a location at a time."""
        for loc in self.book:
            self.k.at(self.k.now, self._baseline_of, loc)

    def _baseline_of(self, loc: str) -> None:
        emit = self.k.emit
        system, source = self.system_of[loc], self.source_of[loc]
        for sku, qty in self.book[loc].items():
            subject = f"{sku}@{loc}"
            emit(
                "erp",
                "erp",
                "retail.inventory.snapshot",
                subject,
                {"system": "erp", "location_id": loc, "sku": sku, "on_hand": qty},
            )
            emit(
                system,
                source,
                "retail.inventory.snapshot",
                subject,
                {"system": system, "location_id": loc, "sku": sku, "on_hand": qty},
            )
            emit(
                "oms",
                "oms",
                "retail.inventory.snapshot",
                subject,
                {"system": "oms", "location_id": loc, "sku": sku, "on_hand": qty, "reserved": 0},
            )

    # --- losses and counts -------------------------------------------------------------
    def shrink_and_damage(self) -> None:
        """Daily: theft and loss nobody books (shrink); breakages the node books (damage)."""
        rng = self.k.rng
        for loc, phys in self.physical.items():
            is_dc = loc not in self.estate.ranges
            pool = list(phys) if is_dc else self.estate.ranges[loc]
            for _ in range(6 if is_dc else (1 if rng.random() < 0.6 else 0)):
                sku = pool[rng.randrange(len(pool))]
                if phys[sku] > 0:
                    phys[sku] -= 1
            for _ in range(3 if is_dc else (1 if rng.random() < 0.25 else 0)):
                sku = pool[rng.randrange(len(pool))]
                if phys[sku] > 0:
                    self.move(loc, sku, -1, "damage")

    def cycle_counts(self) -> None:
        """Daily: each node counts some positions (and any flagged by a failed pick)."""
        rng = self.k.rng
        for loc in self.physical:
            skus = self.estate.ranges.get(loc)
            if skus is None:
                pool = list(self.physical[loc])
                n = max(1, int(len(pool) * self.DC_COUNTS_PER_DAY_SHARE))
            else:
                pool, n = list(skus), self.STORE_COUNTS_PER_DAY
            for _ in range(min(n, len(pool))):
                self.count(loc, pool[rng.randrange(len(pool))])
        for loc, sku in sorted(self.to_count):
            self.count(loc, sku)
        self.to_count.clear()

    def count(self, loc: str, sku: str) -> None:
        delta = self.physical[loc].get(sku, 0) - self.book[loc].get(sku, 0)
        if delta:
            self.book_move(loc, sku, delta, "cycle_count")

    def hold(self, loc: str, sku: str, qty: int) -> dict[str, Any]:
        self.holds[(loc, sku)] = self.holds.get((loc, sku), 0) + qty
        self.atp[loc][sku] = self.atp[loc].get(sku, 0) - qty
        return self.oms_position(loc, sku)

    def release_hold(self, loc: str, sku: str, qty: int | None) -> dict[str, Any]:
        held = self.holds.get((loc, sku), 0)
        qty = held if qty is None else min(qty, held)
        if held - qty:
            self.holds[(loc, sku)] = held - qty
        else:
            self.holds.pop((loc, sku), None)
        self.atp[loc][sku] = self.atp[loc].get(sku, 0) + qty
        return self.oms_position(loc, sku)

    def oms_position(self, loc: str, sku: str) -> dict[str, Any]:
        """OMS's view of a position: on hand (ATP plus what is reserved) and reserved."""
        reserved = max(0, self.allocated[loc].get(sku, 0)) + self.holds.get((loc, sku), 0)
        return {
            "system": "oms",
            "location_id": loc,
            "sku": sku,
            "on_hand": self.atp[loc].get(sku, 0) + reserved,
            "reserved": reserved,
        }
