"""The whole `ctower metrics --json` object, family by family."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from metrics import inbound, integrations, inventory, reroutes, returns, sla
from metrics.params import Policies, Window
from metrics.policies import load as load_policies

FAMILIES = {
    "sla": sla.summary,
    "reroutes": reroutes.summary,
    "inventory": inventory.summary,
    "integrations": integrations.summary,
    "inbound": inbound.summary,
    "returns": returns.summary,
}


def compute(engine: Engine, window: Window, policies: Policies | None = None) -> dict[str, Any]:
    """Every family's figures for one window, read in one repeatable-read snapshot.

    Without `policies`, the stored ones (metrics.policies.load) are read in that snapshot.
    """
    out: dict[str, Any] = window.as_json()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if policies is None:
                policies = load_policies(conn)
            for name, family in FAMILIES.items():
                out[name] = family(conn, window, policies)
    return out
