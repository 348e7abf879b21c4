"""Every summary figure of contracts/METRICS.md against a plain-Python reference.

Hypothesis generates small random event sets around a fixed instant (whole-hour offsets,
so window edges, `as_of` and policy thresholds are hit exactly and often), random windows
and policies; each family's `summary()` must equal tests/reference_metrics.py exactly
(floats within 1e-9). One database is reused across the examples of a test (truncated
between examples, as in tests/test_ingest_rules.py).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from metrics import inbound, integrations, inventory, reroutes, returns, sla
from metrics.params import Policies, Window
from tests import reference_metrics as ref
from tests.builders import event, jsonl
from tests.conftest import truncate_store

BASE = datetime(2026, 11, 20, 12, tzinfo=UTC)
ZONES = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]
NODES = ["STORE-0042", "DC-EAST", "DC-WEST"]
REASONS = ["stockout", "capacity", "carrier", "manual"]
CHANNELS = ["web", "store", "marketplace"]
SOURCES = ["oms", "wms/dc-east", "erp"]  # an order's or a position's events come from several

# CTOWER_REFERENCE_EXAMPLES=500 for a deeper search than the suite's quick one
SETTINGS = settings(
    max_examples=int(os.environ.get("CTOWER_REFERENCE_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Hours from BASE. Half the draws come from a few shared instants, so that events tie with
# each other, sit exactly on the window edges and on as_of, and thresholds (6, 4, 24, 12,
# 48 hours...) are met exactly.
NOTABLE = [-54, -48, -30, -24, -12, -6, -4, -2, 0, 2, 6]
hours = st.one_of(st.sampled_from(NOTABLE), st.integers(-60, 8))


def instants(draw: st.DrawFn) -> st.SearchStrategy[int]:
    """Event times of one example: mostly a few instants of its own (ties), else any hour."""
    pool = draw(st.lists(hours, min_size=1, max_size=3))
    return st.one_of(st.sampled_from(pool), hours)


# promises due exactly at_risk_hours (1, 6 or 24) after the as_of the windows favour (BASE)
PROMISES = [1, 6, 24, -5, 0, 4, 8, 18, 22, 26]
gaps = st.one_of(st.sampled_from([0, 2, 4, 6, 12, 24]), st.integers(0, 20))  # between steps
batch_sizes = st.sampled_from([1000, 1000, 3, 1])  # ingest batch size (arrival order)


def at(h: int, zone: int = 0) -> str:
    """BASE + h hours, written in one of ZONES (the instant is the same)."""
    return (BASE + timedelta(hours=h)).astimezone(ZONES[zone]).isoformat()


@st.composite
def windows(draw: st.DrawFn) -> Window:
    as_of = BASE + timedelta(
        hours=draw(st.one_of(st.just(0), st.sampled_from([-6, -2, 2]), st.integers(-8, 8)))
    )
    since = draw(st.one_of(st.sampled_from([h for h in NOTABLE if h <= 0]), st.integers(-60, 0)))
    until = draw(
        st.one_of(st.sampled_from([h for h in NOTABLE if h > since]), st.integers(since + 1, since + 60))
    )
    since, until = BASE + timedelta(hours=since), BASE + timedelta(hours=until)
    return Window.of(as_of=as_of, since=since, until=until)


class Ids:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n)}"


def _shuffle(draw: st.DrawFn, events: list[dict]) -> list[dict]:
    """Arrival order differs from business time (ties on time are broken by arrival), and
    a record may be sent twice (a duplicate: stored once)."""
    if not events:
        return events
    events = list(draw(st.permutations(events)))
    for _ in range(draw(st.integers(0, 2))):
        events.insert(draw(st.integers(0, len(events))), dict(draw(st.sampled_from(events))))
    return events


# --- generators -----------------------------------------------------------------------------
@st.composite
def order_events(draw: st.DrawFn) -> list[dict]:
    ids = Ids()
    when = instants(draw)
    out: list[dict] = []
    for n in range(draw(st.integers(0, 6))):
        order = f"ORD-{n}"
        zone = draw(st.integers(0, 2))

        def ev(kind: str, h: int, data: dict | None = None, order: str = order, zone: int = zone) -> None:
            out.append(
                event(
                    f"retail.order.{kind}",
                    {"order_id": order, **(data or {})},
                    id=ids(f"{kind}"),
                    source="oms" if kind in ("created", "cancelled") else draw(st.sampled_from(SOURCES)),
                    time=at(h, zone),
                    subject=order,
                )
            )

        created = draw(when)
        for extra in range(draw(st.integers(1, 3)) if draw(st.booleans()) else 1):
            # duplicate created events: same order, another id, maybe another time and promise
            made = created + (draw(st.integers(-4, 4)) if extra else 0)
            promised = draw(st.one_of(gaps.map(made.__add__), st.sampled_from(PROMISES)))
            ev(
                "created",
                made,
                {
                    "channel": draw(st.sampled_from(CHANNELS)),
                    "promised_by": at(promised, draw(st.integers(0, 2))),
                    "lines": [{"sku": "SKU-1", "qty": 1}],
                },
            )
        t = created
        node = draw(st.sampled_from(NODES))
        if draw(st.integers(0, 3)):
            t += draw(gaps)
            ev("routed", t, {"node_id": node})
            for _ in range(draw(st.integers(0, 3))):
                t += draw(st.integers(0, 8))
                to = draw(st.sampled_from(NODES))
                ev(
                    "rerouted",
                    t,
                    {"from_node": node, "to_node": to, "reason": draw(st.sampled_from(REASONS))},
                )
                node = to
            for step in ("picked", "shipped", "delivered"):
                if not draw(st.integers(0, 3)):
                    continue  # steps may be missing from the feed
                t += draw(st.integers(0, 12))
                ev(step, t, None if step == "delivered" else {"node_id": node})
        if draw(st.integers(0, 3)) == 0:
            ev("cancelled", created + draw(gaps))
    return _shuffle(draw, out)


SYSTEMS = ["erp", "wms", "oms"]
LOCATIONS = ["DC-EAST", "STORE-0042"]
SKUS = ["SKU-A", "SKU-B"]
COSTS = [0.1, 1.5, 4.25, 19.99]


@st.composite
def inventory_events(draw: st.DrawFn) -> list[dict]:
    ids = Ids()
    when = instants(draw)
    out: list[dict] = []
    position = st.tuples(st.sampled_from(SYSTEMS), st.sampled_from(LOCATIONS), st.sampled_from(SKUS))
    for system, location, sku in draw(st.lists(position, max_size=10)):
        data = {"system": system, "location_id": location, "sku": sku, "on_hand": draw(st.integers(-3, 40))}
        if draw(st.booleans()):
            data["reserved"] = draw(st.integers(0, 5))
        out.append(
            event(
                "retail.inventory.snapshot",
                data,
                id=ids("snap"),
                source=draw(st.sampled_from(SOURCES)),
                time=at(draw(when)),
                subject=sku,
            )
        )
    for system, location, sku in draw(st.lists(position, max_size=8)):
        data = {
            "system": system,
            "location_id": location,
            "sku": sku,
            "delta": draw(st.integers(-6, 6)),
            "reason": "manual",
        }
        out.append(
            event(
                "retail.inventory.adjusted",
                data,
                id=ids("adj"),
                source=draw(st.sampled_from(SOURCES)),
                time=at(draw(when)),
                subject=sku,
            )
        )
    # products with and without a unit cost known at as_of (SKU-B may never get one)
    for sku in draw(st.lists(st.sampled_from(SKUS), max_size=3)):
        data = {"sku": sku, "unit_cost": draw(st.sampled_from(COSTS)), "category": "cat-" + sku[-1]}
        out.append(event("retail.product.upserted", data, id=ids("prod"), source="erp", time=at(draw(when))))
    return _shuffle(draw, out)


@st.composite
def call_events(draw: st.DrawFn) -> list[dict]:
    ids = Ids()
    when = instants(draw)
    out: list[dict] = []
    for _ in range(draw(st.integers(0, 12))):
        data: dict[str, Any] = {
            "interface": draw(st.sampled_from(["oms.wms.create_pick", "erp.oms.stock"])),
            "source_system": "oms",
            "target_system": "wms",
            "status": draw(st.sampled_from(["ok", "ok", "error", "timeout"])),
            "latency_ms": draw(st.sampled_from([5, 88.5, 300, 1200])),
        }
        correlation = draw(st.sampled_from([None, "C1", "C2", "C3"]))
        if correlation is not None:
            data["correlation_id"] = correlation
        out.append(
            event("retail.integration.call", data, id=ids("call"), source="middleware", time=at(draw(when)))
        )
    return _shuffle(draw, out)


@st.composite
def inbound_events(draw: st.DrawFn) -> list[dict]:
    ids = Ids()
    when = instants(draw)
    out: list[dict] = []
    for n in range(draw(st.integers(0, 5))):
        shipment = f"SHP-{n}"
        for _ in range(draw(st.integers(0, 2))):
            sent = draw(when)
            data = {"shipment_id": shipment, "to_location": "DC-EAST", "expected_at": at(sent + draw(gaps))}
            out.append(event("retail.shipment.asn", data, id=ids("asn"), source="erp", time=at(sent)))
        for _ in range(draw(st.integers(0, 2))):
            data = {"shipment_id": shipment, "location_id": "DC-EAST"}
            out.append(
                event("retail.shipment.received", data, id=ids("rcv"), source="wms", time=at(draw(when)))
            )
    return _shuffle(draw, out)


@st.composite
def return_events(draw: st.DrawFn) -> list[dict]:
    ids = Ids()
    when = instants(draw)
    out: list[dict] = []
    for n in range(draw(st.integers(0, 6))):
        return_id = f"RET-{n}"
        line = {"return_id": return_id, "location_id": "DC-EAST", "sku": "SKU-A", "qty": 1}
        received = draw(when)
        for k in range(draw(st.integers(1, 2))):
            t = received + (draw(st.integers(-3, 3)) if k else 0)
            out.append(event("retail.return.received", line, id=ids("ret"), source="wms", time=at(t)))
        for _ in range(draw(st.integers(0, 2))):
            t = received + draw(st.one_of(st.sampled_from([0, 12, 24, 48]), st.integers(-2, 72)))
            out.append(event("retail.return.restocked", line, id=ids("stk"), source="wms", time=at(t)))
    return _shuffle(draw, out)


# --- running both sides ---------------------------------------------------------------------
def arrival_order(events: list[dict], batch_size: int) -> list[dict]:
    """The events the store keeps of one file, in the order it gives them (its `seq`): the
    file's order, a repeated record being a duplicate stored once (the batch size does not
    matter: app/ingest/store.py writes each batch's events in file order)."""
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for e in events:
        key = (e["source"], e["id"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def store(
    engine: Engine,
    ingest: Callable[..., Any],
    events: list[dict],
    lag_minutes: dict | None = None,
    batch_size: int = 1000,
) -> list[dict]:
    """A fresh store holding exactly `events`, each received `lag_minutes` after its time.

    Returns the events in arrival order, the order the reference breaks ties on time with.
    """
    truncate_store(engine)
    if not events:
        return events
    counts = ingest(jsonl(*events), batch_size=batch_size)
    stored = arrival_order(events, batch_size)
    assert (counts.accepted, counts.duplicate) == (len(stored), len(events) - len(stored)), counts
    lag_minutes = lag_minutes or {}
    rows = [
        {"source": e["source"], "id": e["id"], "m": lag_minutes.get((e["source"], e["id"]), 0)}
        for e in events
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE events SET received_at = time + make_interval(mins => :m)"
                " WHERE source = :source AND id = :id"
            ),
            rows,
        )
    return stored


def compute(engine: Engine, family: Any, window: Window, policies: Policies, fn: str = "summary") -> dict:
    with engine.connect() as conn, conn.begin():
        return getattr(family, fn)(conn, window, policies)


def expect(engine, family, reference, events, window, policies, fn="summary", **kw) -> None:  # type: ignore[no-untyped-def]
    got = compute(engine, family, window, policies, fn)
    want = reference(events, window.as_of, window.since, window.until, policies, **kw)
    assert same(got, want), (
        f"\nSQL:       {got}\nreference: {want}\nwindow:    {window}\npolicies:  {policies}"
    )


def same(got: dict, want: dict) -> bool:
    if set(got) != set(want):
        return False
    for key, value in want.items():
        other = got[key]
        if isinstance(value, float) or isinstance(other, float):
            if value is None or other is None or not math.isclose(other, value, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif other != value or type(other) is not type(value):
            return False
    return True


# --- the properties -------------------------------------------------------------------------
@SETTINGS
@given(
    batch_size=batch_sizes,
    events=order_events(),
    window=windows(),
    at_risk_hours=st.sampled_from([24, 6, 1]),
)
def test_sla_summary_matches_the_reference(engine, ingest, batch_size, events, window, at_risk_hours):
    events = store(engine, ingest, events, batch_size=batch_size)
    expect(engine, sla, ref.sla, events, window, Policies(at_risk_hours=at_risk_hours))


@SETTINGS
@given(batch_size=batch_sizes, events=order_events(), window=windows(), repeated=st.sampled_from([1, 2, 3]))
def test_reroutes_summary_matches_the_reference(engine, ingest, batch_size, events, window, repeated):
    events = store(engine, ingest, events, batch_size=batch_size)
    expect(engine, reroutes, ref.reroutes, events, window, Policies(repeated_reroute_count=repeated))


@SETTINGS
@given(
    batch_size=batch_sizes,
    events=inventory_events(),
    window=windows(),
    abs_tolerance=st.sampled_from([0, 1, 2, 3]),
    pct_tolerance=st.sampled_from([0, 0.05, 0.1, 0.25]),
    stale_hours=st.sampled_from([6, 2, 12]),
    reference_system=st.sampled_from(["erp", "erp", "wms"]),
)
def test_inventory_summary_matches_the_reference(
    engine, ingest, batch_size, events, window, abs_tolerance, pct_tolerance, stale_hours, reference_system
):
    events = store(engine, ingest, events, batch_size=batch_size)
    policies = Policies(
        abs_tolerance_units=abs_tolerance,
        pct_tolerance=pct_tolerance,
        stale_hours=stale_hours,
        reference_system=reference_system,
    )
    expect(engine, inventory, ref.inventory, events, window, policies)


@st.composite
def integration_case(draw: st.DrawFn) -> tuple[list[dict], dict]:
    """Calls plus some other events (delayed_events counts every stored event), with lags."""
    events = draw(call_events()) + draw(return_events()) + draw(order_events())
    lags = {(e["source"], e["id"]): draw(st.sampled_from([0, 0, 14, 15, 16, 60, 24 * 60])) for e in events}
    return events, lags


@SETTINGS
@given(batch_size=batch_sizes, case=integration_case(), window=windows(), max_lag=st.sampled_from([15, 60]))
def test_integrations_summary_matches_the_reference(engine, ingest, batch_size, case, window, max_lag):
    events, lags = case
    events = store(engine, ingest, events, lags, batch_size)
    received_at = {
        key: ref.ts(e["time"]) + timedelta(minutes=lags[key])
        for e in events
        for key in [(e["source"], e["id"])]
    }
    policies = Policies(max_event_lag_minutes=max_lag)
    expect(engine, integrations, ref.integrations, events, window, policies, received_at=received_at)


@SETTINGS
@given(
    batch_size=batch_sizes, events=inbound_events(), window=windows(), late_hours=st.sampled_from([4, 0, 10])
)
def test_inbound_summary_matches_the_reference(engine, ingest, batch_size, events, window, late_hours):
    events = store(engine, ingest, events, batch_size=batch_size)
    expect(engine, inbound, ref.inbound, events, window, Policies(asn_late_hours=late_hours))


@SETTINGS
@given(batch_size=batch_sizes, events=return_events(), window=windows(), limit=st.sampled_from([48, 12, 24]))
def test_returns_summary_and_lag_match_the_reference(engine, ingest, batch_size, events, window, limit):
    events = store(engine, ingest, events, batch_size=batch_size)
    policies = Policies(return_to_stock_hours=limit)
    expect(engine, returns, ref.returns, events, window, policies)
    expect(engine, returns, ref.returns_lag, events, window, policies, fn="lag_hours")
