"""Reroute an order to another node (OMS applies it; the rerouted event, reason manual, confirms).

Checks: the order is routed and not yet picked, shipped, delivered or cancelled; the target
is a known, active node other than its current one (not a marketplace); it has the stock
for every line by the latest positions less active holds; it has capacity (orders routed
there and still open below its daily_capacity). `candidates` ranks the nodes: those that
pass first, then fewest units short, the order's ship-to region first, lowest load.
Value: the order's value, sum of qty x unit_price of its created event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from app.actions.base import Command, Family, Invalid, short_time
from app.db.engine import sql_text


@dataclass(frozen=True)
class Node:
    location_id: str
    kind: str | None
    region: str | None
    active: bool
    daily_capacity: int | None
    routed: int
    lines_in_stock: int
    lines: int
    units_short: int
    same_region: bool

    @property
    def load(self) -> float | None:
        return None if not self.daily_capacity else self.routed / self.daily_capacity

    def problems(self) -> list[str]:
        out = []
        if not self.active:
            out.append(f"{self.location_id} is not active")
        if self.kind == "marketplace":
            out.append(f"{self.location_id} is a marketplace, not a node that ships")
        if self.lines_in_stock < self.lines:
            out.append(
                f"{self.location_id} is short of {self.units_short} unit(s) "
                f"({self.lines - self.lines_in_stock} of {self.lines} line(s) not in stock)"
            )
        if self.daily_capacity is not None and self.routed >= self.daily_capacity:
            out.append(
                f"{self.location_id} is at capacity ({self.routed} open orders, "
                f"daily capacity {self.daily_capacity})"
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "location_id": self.location_id,
            "kind": self.kind,
            "region": self.region,
            "same_region": self.same_region,
            "in_stock": self.lines_in_stock == self.lines,
            "units_short": self.units_short,
            "routed": self.routed,
            "daily_capacity": self.daily_capacity,
            "ok": not self.problems(),
            "why_not": "; ".join(self.problems()),
        }


def _stage(row: Any) -> str:
    for column, stage in (
        ("cancelled_at", "cancelled"),
        ("delivered_at", "delivered"),
        ("shipped_at", "shipped"),
        ("packed_at", "packed"),
        ("picked_at", "picked"),
    ):
        if getattr(row, column) is not None:
            return stage
    return "routed" if row.node is not None else "created"


def _lines(state: dict[str, Any]) -> list[tuple[str, int, float | None]]:
    return [(str(x["sku"]), int(x["qty"]), x.get("unit_price")) for x in state.get("lines") or []]


class Reroute(Family):
    kinds = ("reroute",)
    entity_kind = "order"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        row = conn.execute(sql_text("actions/order_state"), {"order_id": key}).first()
        if row is None:
            raise Invalid(f"no order {key!r} in the store")
        return {
            "order_id": key,
            "node": row.node,
            "node_at": row.node_at.isoformat() if row.node_at else None,
            "rerouted": row.last_reroute_at is not None and row.last_reroute_at == row.node_at,
            "stage": _stage(row),
            "ship_to_region": row.ship_to_region,
            "lines": orjson.loads(row.lines) if row.lines else [],
        }

    def nodes(self, conn: Connection, state: dict[str, Any], location_id: str | None = None) -> list[Node]:
        lines = _lines(state)
        params = {
            "skus": [s for s, _, _ in lines],
            "qtys": [q for _, q, _ in lines],
            "location_id": location_id,
        }
        rows = conn.execute(sql_text("actions/reroute_nodes"), params).all()
        region = state.get("ship_to_region")
        return [
            Node(
                r.location_id,
                r.kind,
                r.region,
                bool(r.active),
                None if r.daily_capacity is None else int(r.daily_capacity),
                int(r.routed),
                int(r.lines_in_stock),
                int(r.lines),
                int(r.units_short),
                region is not None and r.region == region,
            )
            for r in rows
        ]

    def candidates(self, conn: Connection, order_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """Nodes for the order, best first: passing all checks, fewest units short, same
        region as its ship-to region, lowest load."""
        state = self.state(conn, order_id)
        nodes = [
            n for n in self.nodes(conn, state) if n.location_id != state["node"] and n.kind != "marketplace"
        ]
        nodes.sort(
            key=lambda n: (
                bool(n.problems()),
                n.units_short,
                not n.same_region,
                n.load if n.load is not None else 0.0,
                n.location_id,
            )
        )
        return [n.as_dict() for n in nodes[:limit]]

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        to_node = str(params.get("to_node") or "").strip()
        if not to_node:
            raise Invalid("a reroute needs the target node (to_node)")
        if state["stage"] != "routed":
            raise Invalid(f"{key} is {state['stage']}: only a routed order not yet picked can be rerouted")
        if to_node == state["node"]:
            raise Invalid(f"{key} is already at {to_node}")
        found = self.nodes(conn, state, to_node)
        if not found:
            raise Invalid(f"unknown node {to_node!r}: no retail.location.upserted for it")
        problems = found[0].problems()
        if problems:
            raise Invalid(f"cannot reroute {key} to {to_node}: " + "; ".join(problems))
        return {"to_node": to_node}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        return [f"{key} moves from {state['node']} to {params['to_node']} (reason: manual)"]

    def value(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> Decimal | None:
        total = Decimal(0)
        for _, qty, price in _lines(state):
            total += qty * Decimal(str(price or 0))
        return total

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        if seen.get("node") != state.get("node"):
            how = "rerouted" if state.get("rerouted") else "routed"
            return (
                f"{key} is now at {state.get('node')} ({how} {short_time(state.get('node_at'))}), "
                f"not {seen.get('node')} as shown"
            )
        if seen.get("stage") != state.get("stage"):
            return f"{key} is now {state.get('stage')}, not {seen.get('stage')} as shown"
        return super().stale(key, seen, state)

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        return [Command("oms", {"kind": "reroute", "order_id": key, "to_node": params["to_node"]})]


FAMILY = Reroute()
