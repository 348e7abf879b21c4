"""Commands from the control tower's outbox, applied to the world at its current time.

- `reroute` {order_id, to_node}: OMS moves an order not yet picked (reason `manual`).
- `hold` / `release_hold` {location_id, sku, qty}: OMS holds stock back from promising.
- `adjust` {system, location_id, sku, delta, reason}: a system corrects its book.
- `retry` {interface, correlation_id}: the middleware delivers a failed call again.
- `transfer` {transfer_id, decision: approve|reject}: ERP ships a planned store transfer now,
  or drops it; the middleware logs the decision as a call of `ctower.erp.transfer_decision`
  (correlation_id = the transfer), which is how the control tower sees it arrived.

A command is applied once per `command_id`; an invalid one raises ValueError with a reason.
"""

from __future__ import annotations

from typing import Any

from simulator.calls import Middleware
from simulator.estate import Estate
from simulator.fulfilment import Fulfilment
from simulator.inbound import Inbound
from simulator.kernel import Emitted, Kernel
from simulator.stock import Ledger

TRANSFER_DECISION = "ctower.erp.transfer_decision"
ADJUST_REASONS = ("cycle_count", "damage", "shrink", "receipt", "sale", "return", "transfer", "manual")


class Commands:
    def __init__(
        self,
        kernel: Kernel,
        estate: Estate,
        ledger: Ledger,
        fulfilment: Fulfilment,
        middleware: Middleware,
        inbound: Inbound | None = None,
    ) -> None:
        self.k = kernel
        self.estate = estate
        self.ledger = ledger
        self.fulfilment = fulfilment
        self.mw = middleware
        self.inbound = inbound
        self.applied: set[str] = set()
        self.skus = {p.sku for p in estate.products}

    def apply(self, command: dict[str, Any]) -> list[Emitted]:
        command_id = command.get("command_id")
        if not isinstance(command_id, str) or not command_id:
            raise ValueError("command has no command_id")
        if command_id in self.applied:
            return []
        handler = {
            "reroute": self._reroute,
            "hold": self._hold,
            "release_hold": self._release_hold,
            "adjust": self._adjust,
            "retry": self._retry,
            "transfer": self._transfer,
        }.get(command.get("kind", ""))
        if handler is None:
            raise ValueError(f"unknown command kind {command.get('kind')!r}")
        out = self.k.out
        before = len(out)
        handler(command)
        self.applied.add(command_id)
        emitted = out[before:]
        del out[before:]
        return emitted

    def _reroute(self, c: dict[str, Any]) -> None:
        order_id, to_node = _text(c, "order_id"), _text(c, "to_node")
        order = self.fulfilment.orders.get(order_id)
        if order is None:
            raise ValueError(f"order {order_id} is unknown or already finished")
        if order.shipment_id is not None:
            raise ValueError(f"order {order_id} is already shipped")
        if order.picked:
            raise ValueError(f"order {order_id} is already picked at {order.node}")
        if order.node is None:
            raise ValueError(f"order {order_id} is not routed yet")
        self._stock_location(to_node)
        if to_node == order.node:
            raise ValueError(f"order {order_id} is already at {to_node}")
        self.fulfilment.reroute(order, to_node, "manual")

    def _hold(self, c: dict[str, Any]) -> None:
        loc, sku, qty = self._stock_location(_text(c, "location_id")), self._sku(c), _quantity(c, "qty")
        self._oms_snapshot(self.ledger.hold(loc, sku, qty))

    def _release_hold(self, c: dict[str, Any]) -> None:
        loc, sku = self._stock_location(_text(c, "location_id")), self._sku(c)
        if (loc, sku) not in self.ledger.holds:
            raise ValueError(f"no hold on {sku} at {loc}")
        qty = _quantity(c, "qty") if c.get("qty") is not None else None
        self._oms_snapshot(self.ledger.release_hold(loc, sku, qty))

    def _oms_snapshot(self, data: dict[str, Any]) -> None:
        self.k.emit("oms", "oms", "retail.inventory.snapshot", f"{data['sku']}@{data['location_id']}", data)

    def _adjust(self, c: dict[str, Any]) -> None:
        system, loc, sku = _text(c, "system"), self._stock_location(_text(c, "location_id")), self._sku(c)
        delta, reason = c.get("delta"), c.get("reason", "manual")
        if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
            raise ValueError("delta must be a non-zero integer")
        if reason not in ADJUST_REASONS:
            raise ValueError(f"unknown adjustment reason {reason!r}")
        ledger = self.ledger
        if system in ("wms", "pos"):
            if ledger.system_of[loc] != system:
                raise ValueError(f"{loc} is not run by {system}")
            ledger.book_move(loc, sku, delta, reason)
        elif system == "erp":
            ledger.erp_move(loc, sku, delta)
            self.k.emit(
                "erp",
                "erp",
                "retail.inventory.adjusted",
                f"{sku}@{loc}",
                {"system": "erp", "location_id": loc, "sku": sku, "delta": delta, "reason": reason},
            )
        elif system == "oms":
            ledger.atp[loc][sku] = ledger.atp[loc].get(sku, 0) + delta
            self.k.emit(
                "oms",
                "oms",
                "retail.inventory.adjusted",
                f"{sku}@{loc}",
                {"system": "oms", "location_id": loc, "sku": sku, "delta": delta, "reason": reason},
            )
        else:
            raise ValueError(f"unknown system {system!r}: expected wms, pos, erp or oms")

    def _retry(self, c: dict[str, Any]) -> None:
        interface, correlation_id = _text(c, "interface"), _text(c, "correlation_id")
        if (interface, correlation_id) not in self.mw.failed:
            raise ValueError(f"no failed delivery on {interface} for {correlation_id}")
        self.mw.resubmit(interface, correlation_id)

    def _transfer(self, c: dict[str, Any]) -> None:
        transfer_id, decision = _text(c, "transfer_id"), c.get("decision")
        if decision not in ("approve", "reject"):
            raise ValueError(f"decision must be approve or reject, not {decision!r}")
        if self.inbound is None:
            raise ValueError("this world has no ERP transfers")
        self.inbound.decide_transfer(transfer_id, decision == "approve")
        self.k.emit(
            "middleware",
            "middleware",
            "retail.integration.call",
            transfer_id,
            {
                "interface": TRANSFER_DECISION,
                "source_system": "ctower",
                "target_system": "erp",
                "status": "ok",
                "latency_ms": 0.0,
                "http_status": 200,
                "correlation_id": transfer_id,
                "attempt": 1,
                "decision": decision,
            },
        )

    def _stock_location(self, location_id: str) -> str:
        if location_id not in self.ledger.physical:
            raise ValueError(f"unknown node {location_id!r}: not a DC or store")
        return location_id

    def _sku(self, c: dict[str, Any]) -> str:
        sku = _text(c, "sku")
        if sku not in self.skus:
            raise ValueError(f"unknown sku {sku!r}")
        return sku


def _text(c: dict[str, Any], key: str) -> str:
    value = c.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"command needs {key}")
    return value


def _quantity(c: dict[str, Any], key: str) -> int:
    value = c.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{key} must be a positive integer")
    return value
