"""Stock coming in: purchase orders to suppliers for the DCs, transfers from DCs to stores.

ERP plans both from its own (lagging) view of stock. A supplier confirms a PO, sends an
ASN a day or so before delivery (a few never do), and delivers around the expected time,
some hours late. A receipt without an ASN cannot be matched to its PO in ERP, so ERP books
it days later. DCs ship transfers in the morning for next-day store delivery; a store
misses scanning a few of them, so POS never books those units (ERP receives them from
the ASN two days later). A few POs are cancelled by the supplier or shipped short.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.calls import Middleware
from simulator.estate import Estate, store_max
from simulator.kernel import DAY, HOUR, Kernel, iso
from simulator.stock import Ledger

ASN_MISSING_SHARE = 0.05
TRANSFER_ASN_MISSING_SHARE = 0.02
PO_CHANGED_SHARE = 0.08
PO_CANCELLED_SHARE = 0.02
SHORT_SHIPPED_SHARE = 0.06
STORE_MIN = 2
TRANSFER_LATE_SHARE = 0.08
MISSED_SCAN_SHARE = 0.03


@dataclass
class Delivery:
    shipment_id: str
    location: str
    sku: str
    qty: int
    expected: int
    has_asn: bool
    po_id: str | None = None
    supplier_id: str | None = None
    source_location: str | None = None
    shipped: int = 0
    """Units the supplier actually sends when it ships short (0: all of `qty`)."""

    @property
    def units(self) -> int:
        return self.shipped or self.qty


class Inbound:
    def __init__(self, kernel: Kernel, estate: Estate, ledger: Ledger, middleware: Middleware) -> None:
        self.k = kernel
        self.estate = estate
        self.ledger = ledger
        self.mw = middleware
        self.on_order: dict[tuple[str, str], int] = {}
        self.in_transit: dict[tuple[str, str], int] = {}
        self.daily_demand = {p.sku: estate.dc_daily_demand(p.sku) for p in estate.products}
        self.suppliers = {s.supplier_id: s for s in estate.suppliers}
        self.store_max = {
            p.sku: store_max(estate.popularity[p.sku], len(estate.products)) for p in estate.products
        }
        self._po = 0
        self._shipment = 0
        self._transfer = 0
        self.planned: dict[str, Delivery] = {}  # transfer_id -> its delivery, until dispatched

    # --- purchase orders ---------------------------------------------------------------
    def plan_purchases(self) -> None:
        """Daily: ERP orders from suppliers what each DC will run short of."""
        for dc in self.estate.dcs:
            loc = dc.location_id
            erp = self.ledger.erp[loc]
            for sku, rate in self.daily_demand.items():
                supplier = self.suppliers[self.estate.supplier_of[sku]]
                on_order = self.on_order.get((loc, sku), 0)
                if erp.get(sku, 0) + on_order < rate * (supplier.lead_time_days + 4):
                    qty = max(6, -(-int(rate * 14) // 6) * 6)
                    self._open_po(loc, sku, qty, supplier.supplier_id, supplier.lead_time_days)

    def _open_po(self, loc: str, sku: str, qty: int, supplier_id: str, lead_days: int) -> None:
        rng, now = self.k.rng, self.k.now
        self._po += 1
        po_id = f"PO-{self._po:07d}"
        expected = now - now % DAY + lead_days * DAY + (7 + rng.randrange(9)) * HOUR
        self.on_order[(loc, sku)] = self.on_order.get((loc, sku), 0) + qty
        delivery = Delivery(
            "", loc, sku, qty, expected, rng.random() >= ASN_MISSING_SHARE, po_id, supplier_id
        )
        self._po_event(delivery, "open")
        self.mw.call("erp.supplier.po_send", po_id)
        self.k.after((2 + rng.random() * 8) * HOUR, self._confirm_po, delivery)

    def _po_event(self, d: Delivery, status: str) -> None:
        assert d.po_id is not None and d.supplier_id is not None
        self.k.emit(
            "erp",
            "erp",
            "retail.po.updated",
            d.po_id,
            {
                "po_id": d.po_id,
                "supplier_id": d.supplier_id,
                "sku": d.sku,
                "qty": d.qty,
                "expected_at": iso(d.expected),
                "status": status,
            },
        )

    def _confirm_po(self, d: Delivery) -> None:
        rng = self.k.rng
        roll = rng.random()
        if roll < PO_CANCELLED_SHARE:  # the supplier cannot deliver: ERP orders again tomorrow
            self._po_event(d, "cancelled")
            self.on_order[(d.location, d.sku)] -= d.qty
            return
        if roll < PO_CANCELLED_SHARE + PO_CHANGED_SHARE:
            d.expected += (1 + rng.randrange(2)) * DAY
            self._po_event(d, "changed")
        else:
            self._po_event(d, "confirmed")
        if rng.random() < SHORT_SHIPPED_SHARE:
            d.shipped = max(1, int(d.qty * (0.6 + rng.random() * 0.3)))
        self._shipment += 1
        d.shipment_id = f"INB-{self._shipment:08d}"  # inbound from a supplier
        if d.has_asn:
            self.k.at(d.expected - int((12 + rng.random() * 24) * HOUR), self._asn, d)
        supplier = self.suppliers[d.supplier_id or ""]
        roll = rng.random()
        if roll < supplier.late_share:
            offset = (5 + rng.random() * 25) * HOUR
        elif roll < supplier.late_share + 0.08:
            offset = -(1 + rng.random() * 5) * HOUR
        else:
            offset = (rng.random() * 5 - 2) * HOUR
        self.k.at(d.expected + int(offset), self._receive_po, d)

    def _asn(self, d: Delivery) -> None:
        data: dict[str, object] = {
            "shipment_id": d.shipment_id,
            "to_location": d.location,
            "expected_at": iso(d.expected),
            "lines": [{"sku": d.sku, "qty": d.units}],
        }
        if d.po_id is not None:
            data["po_id"] = d.po_id
        else:
            data["transfer_id"] = d.shipment_id.replace("SHT", "TRF")
        source_loc = d.source_location or d.location
        self.k.emit("wms", self.ledger.source_of[source_loc], "retail.shipment.asn", d.shipment_id, data)

    def _receive_po(self, d: Delivery) -> None:
        loc = d.location
        self.k.emit(
            "wms",
            self.ledger.source_of[loc],
            "retail.shipment.received",
            d.shipment_id,
            {"shipment_id": d.shipment_id, "location_id": loc, "lines": [{"sku": d.sku, "qty": d.units}]},
        )
        self.on_order[(loc, d.sku)] -= d.qty
        if d.has_asn:
            self.ledger.move(loc, d.sku, d.units, "receipt")
            self._po_event(d, "received")
        else:  # nothing to match the receipt against: ERP books it when someone matches it by hand
            self.ledger.move(loc, d.sku, d.units, "receipt", to_erp=False)
            self.k.after((24 + self.k.rng.random() * 48) * HOUR, self._late_match, d)

    def _late_match(self, d: Delivery) -> None:
        self.ledger.erp_move(d.location, d.sku, d.units)
        self._po_event(d, "received")

    # --- transfers ---------------------------------------------------------------------
    def plan_transfers(self) -> None:
        """Daily: ERP sends stores what they run short of, from their region's DC."""
        rng = self.k.rng
        for store in self.estate.stores:
            loc, dc = store.location_id, self.estate.home_dc[store.region]
            erp = self.ledger.erp[loc]
            for sku in self.estate.ranges[loc]:
                position = erp.get(sku, 0) + self.in_transit.get((loc, sku), 0)
                if position <= STORE_MIN:
                    qty = self.store_max[sku] - position
                    self._transfer += 1
                    transfer_id = f"TRF-{self._transfer:08d}"
                    self.k.emit(
                        "erp",
                        "erp",
                        "retail.transfer.requested",
                        transfer_id,
                        {
                            "transfer_id": transfer_id,
                            "from_location": dc,
                            "to_location": loc,
                            "sku": sku,
                            "qty": qty,
                            "reason": "replenishment",
                        },
                    )
                    self.in_transit[(loc, sku)] = self.in_transit.get((loc, sku), 0) + qty
                    delivery = Delivery(
                        transfer_id.replace("TRF", "SHT"),
                        loc,
                        sku,
                        qty,
                        0,
                        True,
                        source_location=dc,  # its shipment
                    )
                    self.planned[transfer_id] = delivery
                    self.k.after((3 + rng.random() * 5) * HOUR, self._dispatch, delivery)

    def decide_transfer(self, transfer_id: str, approve: bool) -> None:
        """A manager's decision on a planned transfer: approved, it ships now; rejected, never."""
        d = self.planned.get(transfer_id)
        if d is None:
            raise ValueError(f"transfer {transfer_id} is unknown or already shipped")
        if approve:
            self._dispatch(d)
        else:
            del self.planned[transfer_id]
            self._arrived(d)  # no longer on its way: ERP plans it again if still short

    def _dispatch(self, d: Delivery) -> None:
        if self.planned.pop(d.shipment_id.replace("SHT", "TRF"), None) is None:
            return  # decided by hand already (shipped, or rejected)
        rng, now = self.k.rng, self.k.now
        dc = d.source_location or ""
        shipped = min(d.qty, self.ledger.physical[dc].get(d.sku, 0))
        self._arrived(d)  # what was requested is no longer on its way; what ships is
        if shipped <= 0:  # the DC has none: ERP plans it again tomorrow
            return
        d.qty = shipped
        self.in_transit[(d.location, d.sku)] = self.in_transit.get((d.location, d.sku), 0) + shipped
        self.ledger.move(dc, d.sku, -shipped, "transfer")
        d.expected = now - now % DAY + DAY + (7 + rng.randrange(4)) * HOUR
        if rng.random() >= TRANSFER_ASN_MISSING_SHARE:
            self._asn(d)
        late = rng.random() < TRANSFER_LATE_SHARE
        offset = (5 + rng.random() * 15) * HOUR if late else (rng.random() * 2 - 1) * HOUR
        self.k.at(d.expected + int(offset), self._receive_transfer, d)

    def _arrived(self, d: Delivery) -> None:
        key = (d.location, d.sku)
        left = self.in_transit.get(key, 0) - d.qty
        if left > 0:
            self.in_transit[key] = left
        else:
            self.in_transit.pop(key, None)

    def _receive_transfer(self, d: Delivery) -> None:
        self._arrived(d)
        loc = d.location
        self.k.emit(
            "pos",
            self.ledger.source_of[loc],
            "retail.shipment.received",
            d.shipment_id,
            {"shipment_id": d.shipment_id, "location_id": loc, "lines": [{"sku": d.sku, "qty": d.qty}]},
        )
        if self.k.rng.random() < MISSED_SCAN_SHARE:
            self.ledger.move(loc, d.sku, d.qty, "transfer", seen=False)
            self.k.after(2 * DAY, self._auto_receipt, d)
        else:
            self.ledger.move(loc, d.sku, d.qty, "transfer")

    def _auto_receipt(self, d: Delivery) -> None:
        self.ledger.erp_move(d.location, d.sku, d.qty)
