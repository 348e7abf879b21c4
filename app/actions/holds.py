"""Place or release an inventory hold on a position (OMS holds the stock back from promising).

`hold` {qty}: at most the ATP; ATP (quantity - active holds) drops by qty at once, when the
command goes to the outbox (undone if OMS refuses it). `release_hold` {}: releases every
active hold of the position. Value: units x unit_cost. Confirmed by the OMS snapshot of
the position that comes back after it was sent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Command, Family, Invalid, unit_cost, whole
from app.actions.positions import position_state, split_key
from app.db.engine import sql_text


class Holds(Family):
    kinds = ("hold", "release_hold")
    entity_kind = "position"

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return position_state(conn, key)

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        if kind == "release_hold":
            if state["held"] <= 0:
                raise Invalid(f"no active hold on {key}")
            return {"qty": state["held"]}
        qty = whole(params, "qty")
        if qty > state["atp"]:
            raise Invalid(f"cannot hold {qty} of {key}: only {state['atp']} available to promise")
        return {"qty": qty}

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        qty = params["qty"]
        if kind == "hold":
            return [f"hold {qty} of {key}: ATP {state['atp']} -> {state['atp'] - qty}"]
        return [f"release {qty} held of {key}: ATP {state['atp']} -> {state['atp'] + qty}"]

    def value(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> Decimal | None:
        cost = unit_cost(conn, split_key(key)[0])
        return None if cost is None else params["qty"] * cost

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        if seen.get("held") != state.get("held"):
            return f"{key} now has {state.get('held')} held, not {seen.get('held')} as shown"
        return (
            f"{key} is now {state.get('quantity')} in {state.get('system')} (ATP {state.get('atp')}), "
            f"not {seen.get('quantity')} (ATP {seen.get('atp')}) as shown"
        )

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        sku, location = split_key(key)
        body: dict[str, Any] = {"kind": kind, "location_id": location, "sku": sku}
        if kind == "hold":
            body["qty"] = params["qty"]
        return [Command("oms", body)]

    def on_approved(self, conn: Connection, action: dict[str, Any], at: datetime) -> None:
        sku, location = split_key(action["entity_key"])
        if action["kind"] == "hold":
            conn.execute(
                sql_text("actions/hold_place"),
                {
                    "location_id": location,
                    "sku": sku,
                    "qty": action["params"]["qty"],
                    "action_id": action["action_id"],
                    "placed_by": action["requested_by"],
                    "placed_at": at,
                },
            )
        else:
            conn.execute(
                sql_text("actions/hold_release"),
                {
                    "location_id": location,
                    "sku": sku,
                    "at": at,
                    "by": action["requested_by"],
                    "release_action_id": action["action_id"],
                    "action_id": None,
                },
            )

    def on_failed(self, conn: Connection, action: dict[str, Any], at: datetime) -> None:
        sku, location = split_key(action["entity_key"])
        if action["kind"] == "hold":
            conn.execute(
                sql_text("actions/hold_release"),
                {
                    "location_id": location,
                    "sku": sku,
                    "at": at,
                    "by": "outbox (command failed)",
                    "release_action_id": None,
                    "action_id": action["action_id"],
                },
            )
        else:
            conn.execute(sql_text("actions/hold_unrelease"), {"release_action_id": action["action_id"]})


FAMILY = Holds()
