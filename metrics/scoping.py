"""What the shared filters region, channel, node and source mean for each metric family.

Every family's functions take `scope: metrics.params.Scope = ALL` and give the figures of
the part of the estate the scope names; both paths (projections and `use_projections=False`,
events) narrow the same way, and the SQL tests each filter as `(CAST(:x AS text) IS NULL
OR ...)`, so an unset filter costs nothing. A location's region at an instant is the
`region` of its latest `retail.location.upserted` at or before `as_of` (ties: the later
arrival); a location never upserted by then is in no region.

    sla           channel: the created event's channel; node: the order's current node at
                  as_of (its latest routed/rerouted); region: that node's region.
    reroutes      as sla, over the same orders: node is the CURRENT node (not a reroute's
                  from/to node), so rate = rerouted_orders / orders stays over one set.
    inventory     node: the position's location; region: that location's region.
    integrations  source: the calls' data.source_system (calls, failures, failed
                  deliveries, per interface); the event's source for delayed events.
    inbound       node: where the shipment was first received (its to_location);
                  region: that location's region.
    returns       node: where the return was first received; region: its region.

Any other filter does not apply to the family (APPLIES): its figures are the whole
estate's, and the pages say so next to them (`not_applied`), never silently.
"""

from __future__ import annotations

from metrics.params import Scope

APPLIES: dict[str, tuple[str, ...]] = {
    "sla": ("region", "channel", "node"),
    "reroutes": ("region", "channel", "node"),
    "inventory": ("region", "node"),
    "integrations": ("source",),
    "inbound": ("region", "node"),
    "returns": ("region", "node"),
}


def not_applied(family: str, scope: Scope) -> list[str]:
    """The filters set in `scope` that do not narrow `family` (in region, channel, node,
    source order)."""
    applies = APPLIES[family]
    return [name for name, value in scope.params().items() if value and name not in applies]


def applied(family: str, scope: Scope) -> Scope:
    """`scope` with only the filters that apply to `family` (for cache keys: a figure that a
    filter does not narrow is the same with or without it)."""
    applies = APPLIES[family]
    return Scope(**{name: value if name in applies else None for name, value in scope.params().items()})
