"""Approve or reject a transfer recommendation (a retail.transfer.requested from ERP).

{decision: approve|reject}. ERP ships an approved transfer now and drops a rejected one;
the middleware logs the decision as a call of `ctower.erp.transfer_decision` for the
transfer, which confirms it. Value: qty x unit_cost of the SKU.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Command, Family, Invalid, unit_cost
from app.db.engine import sql_text

DECISION_INTERFACE = "ctower.erp.transfer_decision"


class Transfer(Family):
    kinds = ("transfer",)
    entity_kind = "transfer"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        row = conn.execute(sql_text("actions/transfer_state"), {"transfer_id": key}).first()
        if row is None:
            raise Invalid(f"no transfer {key!r}: no retail.transfer.requested for it")
        decided = conn.execute(sql_text("actions/transfer_decision"), {"transfer_id": key}).first()
        return {
            "transfer_id": key,
            "from_location": row.from_location,
            "to_location": row.to_location,
            "sku": row.sku,
            "qty": row.qty,
            "shipped": bool(row.shipped),
            "decision": None if decided is None else f"{decided.decision} by {decided.requested_by}",
        }

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        decision = params.get("decision")
        if decision not in ("approve", "reject"):
            raise Invalid(f"decision must be approve or reject, not {decision!r}")
        if state["shipped"]:
            raise Invalid(f"{key} has shipped already")
        if state["decision"]:
            raise Invalid(f"{key} was decided already ({state['decision']})")
        return {"decision": decision}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        what = f"{state['qty']} x {state['sku']} from {state['from_location']} to {state['to_location']}"
        if params["decision"] == "approve":
            return [f"{key} ships now: {what}"]
        return [f"{key} is dropped: {what} is not sent"]

    def value(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> Decimal | None:
        cost = unit_cost(conn, state["sku"])
        return None if cost is None or state["qty"] is None else state["qty"] * cost

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        if state.get("shipped") and not seen.get("shipped"):
            return f"{key} has shipped since it was shown"
        if state.get("decision") != seen.get("decision"):
            return f"{key} was decided since it was shown ({state.get('decision')})"
        return super().stale(key, seen, state)

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        return [Command("erp", {"kind": "transfer", "transfer_id": key, "decision": params["decision"]})]


FAMILY = Transfer()
