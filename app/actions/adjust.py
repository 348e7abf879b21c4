"""Adjust a position's book in one system, with a reason code (EVENTS.md adjusted reasons).

{delta (non-zero whole number), reason_code, system (default: the one that runs the
location: wms at a DC, pos at a store)}. Value: |delta| x unit_cost. Sent to that system;
confirmed by the retail.inventory.adjusted event with that delta and reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Command, Family, Invalid, unit_cost, whole
from app.actions.positions import position_state, split_key

REASONS = ("cycle_count", "damage", "shrink", "receipt", "sale", "return", "transfer", "manual")
SYSTEMS = ("wms", "pos", "erp", "oms")


class Adjust(Family):
    kinds = ("adjust",)
    entity_kind = "position"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return position_state(conn, key)

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        delta = whole(params, "delta", positive=False)
        if delta == 0:
            raise Invalid("delta must not be 0")
        reason = params.get("reason_code") or "manual"
        if reason not in REASONS:
            raise Invalid(f"unknown reason code {reason!r}: one of {', '.join(REASONS)}")
        system = params.get("system") or state["system"]
        if system not in SYSTEMS:
            raise Invalid(f"unknown system {system!r}: one of {', '.join(SYSTEMS)}")
        return {"delta": delta, "reason_code": reason, "system": system}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        system, delta = params["system"], params["delta"]
        before = state["quantities"].get(system, 0)
        return [f"{system} book of {key}: {before} -> {before + delta} ({delta:+d}, {params['reason_code']})"]

    def value(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> Decimal | None:
        cost = unit_cost(conn, split_key(key)[0])
        return None if cost is None else abs(params["delta"]) * cost

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        changed = [
            f"{system} {state['quantities'].get(system)} (was {seen['quantities'].get(system)})"
            for system in sorted(set(seen.get("quantities", {})) | set(state.get("quantities", {})))
            if seen.get("quantities", {}).get(system) != state.get("quantities", {}).get(system)
        ]
        if changed:
            return f"{key} changed since it was shown: now " + ", ".join(changed)
        return super().stale(key, seen, state)

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        sku, location = split_key(key)
        body = {
            "kind": "adjust",
            "system": params["system"],
            "location_id": location,
            "sku": sku,
            "delta": params["delta"],
            "reason": params["reason_code"],
        }
        return [Command(params["system"], body)]


FAMILY = Adjust()
