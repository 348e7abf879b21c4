"""Inbound (contracts/METRICS.md, "Inbound and returns"). SQL in sql/metrics/inbound_*.sql.

A shipment's receipt is its first `retail.shipment.received`; when several ASNs of the
shipment precede it, the latest one (a revision) is the one the receipt is judged against.
Read from the projections shipment_facts and shipment_asns (inbound_summary_projected.sql),
exact for any as_of, unless `use_projections=False`.

Scope (metrics/scoping.py): node = the location of the shipment's first receipt (its
to_location; projection shipment_nodes, migration 0013), region = that location's region
at `as_of`; channel and source do not apply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from app.db.engine import sql_text
from metrics.params import ALL, Policies, Scope, Window


def summary(
    conn: Connection,
    window: Window,
    policies: Policies,
    *,
    use_projections: bool = True,
    scope: Scope = ALL,
) -> dict[str, Any]:
    """asn_late: shipments received in the window without an ASN before, or late against it."""
    params = {
        **window.params(),
        "region": scope.region,
        "node": scope.node,
        "asn_late_hours": policies.asn_late_hours,
    }
    query = "metrics/inbound_summary_projected" if use_projections else "metrics/inbound_summary"
    row = conn.execute(sql_text(query), params).one()
    return {"asn_late": int(row.asn_late)}
