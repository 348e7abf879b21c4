"""A position (`SKU@LOCATION`) as the hold and adjust actions show it, and its ATP."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from app.actions.base import Invalid
from app.db.engine import sql_text

OPERATIONAL = ("wms", "pos")


def split_key(key: str) -> tuple[str, str]:
    """'SKU-1@DC-EAST' -> ('SKU-1', 'DC-EAST')."""
    sku, at, location = key.partition("@")
    if not at or not sku or not location:
        raise Invalid(f"a position is SKU@LOCATION, got {key!r}")
    return sku, location


def position_state(conn: Connection, key: str) -> dict[str, Any]:
    """Each system's quantity, the active holds and ATP (the operational quantity less holds)."""
    sku, location = split_key(key)
    params = {"location_id": location, "sku": sku}
    rows = conn.execute(sql_text("actions/position_state"), params).all()
    if not rows:
        raise Invalid(f"no position {key!r}: no snapshot of {sku} at {location} in the store")
    systems = {r.system: int(r.quantity) for r in rows}
    ordered = sorted(rows, key=lambda r: (r.system in OPERATIONAL, r.last_event_at), reverse=True)
    held = sum(int(h.qty) for h in conn.execute(sql_text("actions/holds_active"), params))
    quantity = int(ordered[0].quantity)
    return {
        "position": key,
        "quantities": systems,
        "system": ordered[0].system,
        "quantity": quantity,
        "held": held,
        "atp": quantity - held,
        "last_event_at": max(r.last_event_at for r in rows).isoformat(),
    }


def atp(conn: Connection, location_id: str | None = None, sku: str | None = None) -> list[dict[str, Any]]:
    """ATP = quantity - active holds, for one position or (no arguments) every held one."""
    rows = conn.execute(sql_text("actions/position_atp"), {"location_id": location_id, "sku": sku})
    return [dict(r._mapping) for r in rows]
