"""The whole `ctower metrics --json` object, family by family."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine

from metrics import fulfilment, inbound, integrations, inventory, reroutes, returns, sla
from metrics.params import ALL, Policies, Scope, Window
from metrics.policies import load as load_policies

# each family's summary; sla and reroutes are read together (metrics.fulfilment.summaries)
FAMILIES = {
    "sla": sla.summary,
    "reroutes": reroutes.summary,
    "inventory": inventory.summary,
    "integrations": integrations.summary,
    "inbound": inbound.summary,
    "returns": returns.summary,
}


def compute(
    engine: Engine, window: Window, policies: Policies | None = None, *, scope: Scope = ALL
) -> dict[str, Any]:
    """Every family's figures for one window, read in one repeatable-read snapshot.

    Without `policies`, the stored ones (metrics.policies.load) are read in that snapshot.
    `scope` narrows each family as metrics/scoping.py says (a filter that does not apply to
    a family leaves its figures whole); the object keeps its contract shape.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return compute_in(conn, window, policies or load_policies(conn), scope=scope)


def compute_in(conn: Connection, window: Window, policies: Policies, *, scope: Scope = ALL) -> dict[str, Any]:
    """`compute` on an open connection, in its transaction (metrics/past.py reads and keeps
    the figures in the same snapshot)."""
    out: dict[str, Any] = window.as_json()
    orders = fulfilment.summaries(conn, window, policies, scope=scope)  # sla, reroutes: one pass
    for name, family in FAMILIES.items():
        out[name] = orders[name] if name in orders else family(conn, window, policies, scope=scope)
    return out
