"""Scoped figures: the projections and the events give the same numbers.

The generators of tests/test_metrics_reference.py (random events around a fixed instant,
ties, window edges, arrival order and batch size) plus random location upserts that move
the nodes between two regions over time; for random scopes, every family's summary read
from the projections must equal the one read from the events (`use_projections=False`),
and a scope made of filters that do not apply to a family must leave its figures whole.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from metrics import inbound, integrations, inventory, reroutes, returns, scoping, sla
from metrics.params import ALL, Policies, Scope, Window
from tests.builders import event
from tests.test_metrics_reference import (
    CHANNELS,
    LOCATIONS,
    NODES,
    SETTINGS,
    at,
    batch_sizes,
    call_events,
    inbound_events,
    inventory_events,
    order_events,
    return_events,
    same,
    store,
    windows,
)

REGIONS = ["north", "south"]
FAMILIES = {
    "sla": sla,
    "reroutes": reroutes,
    "inventory": inventory,
    "integrations": integrations,
    "inbound": inbound,
    "returns": returns,
}


@st.composite
def location_events(draw: st.DrawFn) -> list[dict]:
    """Each node upserted zero to two times, each time in either region (a move)."""
    out: list[dict] = []
    for location in sorted(set(NODES) | set(LOCATIONS)):
        for k in range(draw(st.integers(0, 2))):
            data = {"location_id": location, "kind": "store", "region": draw(st.sampled_from(REGIONS))}
            hour = draw(st.sampled_from([-80, -30, -6, 0, 2]))
            out.append(
                event("retail.location.upserted", data, id=f"loc-{location}-{k}", source="erp", time=at(hour))
            )
    return out


scopes = st.builds(
    Scope,
    region=st.one_of(st.none(), st.sampled_from(REGIONS)),
    channel=st.one_of(st.none(), st.sampled_from(CHANNELS)),
    node=st.one_of(st.none(), st.sampled_from(sorted(set(NODES) | set(LOCATIONS)))),
    source=st.one_of(st.none(), st.sampled_from(["oms", "wms", "middleware", "erp"])),
)


@st.composite
def estates(draw: st.DrawFn) -> tuple[list[dict], dict]:
    """Events of every family (calls from two source systems) and each one's arrival lag."""
    calls = draw(call_events())
    system = {e["id"]: draw(st.sampled_from(["oms", "wms"])) for e in calls}  # a resent call: the same
    calls = [{**e, "data": {**e["data"], "source_system": system[e["id"]]}} for e in calls]
    parts = [order_events(), inventory_events(), inbound_events(), return_events()]
    events = draw(location_events()) + calls + [e for part in parts for e in draw(part)]
    lags = {(e["source"], e["id"]): draw(st.sampled_from([0, 0, 15, 16, 60])) for e in events}
    return events, lags


def both(engine: Engine, family: Any, window: Window, scope: Scope) -> tuple[dict, dict]:
    with engine.connect() as conn, conn.begin():
        projected = family.summary(conn, window, Policies(), scope=scope)
        from_events = family.summary(conn, window, Policies(), use_projections=False, scope=scope)
    return projected, from_events


@SETTINGS
@given(batch_size=batch_sizes, estate=estates(), window=windows(), scope=scopes)
def test_every_scoped_summary_is_the_same_from_projections_and_from_events(
    engine, ingest, batch_size, estate, window, scope
):
    events, lags = estate
    store(engine, ingest, events, lags, batch_size)
    for name, family in FAMILIES.items():
        projected, from_events = both(engine, family, window, scope)
        assert same(projected, from_events), (
            f"\n{name} {scope}\nprojections: {projected}\nevents:      {from_events}"
        )
        unscoped, _ = both(engine, family, window, scoping.applied(name, ALL))
        if scoping.applied(name, scope) == ALL:  # only filters that do not apply: the whole figure
            assert same(projected, unscoped), f"\n{name} {scope}: {projected} != {unscoped}"


@SETTINGS
@given(batch_size=batch_sizes, estate=estates(), window=windows(), scope=scopes)
def test_delayed_events_by_source_are_the_same_from_the_rollup_and_from_events(
    engine, ingest, batch_size, estate, window, scope
):
    events, lags = estate
    store(engine, ingest, events, lags, batch_size)
    with engine.connect() as conn:
        projected = integrations.delayed_by_source(conn, window, Policies(), scope=scope)
        from_events = integrations.delayed_by_source(
            conn, window, Policies(), use_projections=False, scope=scope
        )
    assert projected.rows() == from_events.rows()
