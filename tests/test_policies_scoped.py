"""Scoped policies take effect: at_risk_hours per channel, stale_hours per node kind,
interface_failure_rate and interface_min_calls per interface (metrics/policies.py).

Every figure is taken at AS_OF, noon UTC on Friday 20 November 2026, over the default
window (the 7 days before). Each override is stored with `set_policy` and read back with
`metrics.policies.load`, as `ctower metrics` and `ctower exceptions` do.

Worked by hand:
- Orders created 19 November 12:00Z, promised 21 November 18:00Z: due in 30 h at AS_OF.
  At risk when 30 < at_risk_hours: not under the default 24, yes under 48.
- Snapshots 8 h old at AS_OF. Stale when 8 > stale_hours: yes under 6, not under 12.
- 20 calls in the last hour, 2 of them errors: a failure rate of 2 / 20 = 0.10. The
  interface fires when 0.10 > its interface_failure_rate (strict) and 20 >= its
  interface_min_calls.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from metrics import detectors, inventory, sla
from metrics.params import Policies, Window
from metrics.policies import PolicyError, load, reset_policy, set_policy
from metrics.summary import compute
from tests.builders import DC, SKU, STORE, event, jsonl

AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF)
MANAGER = "manager@store-0042"
PICK = "oms.wms.create_pick"
BOOK = "oms.carrier.book"
DARK = "DS-0007"  # a location never upserted: its kind is unknown
_ids = itertools.count(1)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def change(engine: Engine, name: str, value: Any, scope: str = "deployment", scope_value: str = "") -> None:
    with engine.begin() as conn:
        set_policy(conn, name, value, scope=scope, scope_value=scope_value, reason="test", actor=MANAGER)


def policies(engine: Engine) -> Policies:
    with engine.connect() as conn:
        return load(conn)


def detected(engine: Engine, detector: detectors.Detector) -> dict[str, str]:
    """entity -> severity, with the stored policies."""
    with engine.connect() as conn:
        found = detector(conn, WINDOW, load(conn))
    return {d.entity: d.severity for d in found}


def figure(engine: Engine, family: Any, name: str) -> int:
    with engine.connect() as conn:
        return int(family.summary(conn, WINDOW, load(conn))[name])


# --- the estate ----------------------------------------------------------------------------


def order_due_in_30_hours(order: str, channel: str) -> dict[str, Any]:
    data = {
        "order_id": order,
        "channel": channel,
        "promised_by": iso(AS_OF + timedelta(hours=30)),
        "lines": [{"sku": SKU, "qty": 1}],
    }
    return event(
        "retail.order.created", data, id=f"{order}-c", time=iso(AS_OF - timedelta(hours=24)), subject=order
    )


def location(location_id: str, kind: str, when: datetime) -> dict[str, Any]:
    data = {"location_id": location_id, "kind": kind, "region": "east"}
    return event(
        "retail.location.upserted", data, id=f"loc-{next(_ids)}", source="erp", time=iso(when), subject=None
    )


def snapshot(system: str, location_id: str, hours_old: float) -> dict[str, Any]:
    data = {"system": system, "location_id": location_id, "sku": SKU, "on_hand": 5}
    when = AS_OF - timedelta(hours=hours_old)
    return event(
        "retail.inventory.snapshot", data, id=f"snap-{next(_ids)}", source=system, time=iso(when), subject=SKU
    )


def calls(interface: str, total: int, failures: int) -> list[dict[str, Any]]:
    """`total` calls of `interface` in the last hour before AS_OF, the first `failures` errors."""
    out = []
    for i in range(total):
        data = {
            "interface": interface,
            "source_system": "oms",
            "target_system": "wms",
            "status": "error" if i < failures else "ok",
            "latency_ms": 50,
        }
        when = AS_OF - timedelta(minutes=50) + timedelta(minutes=i)
        out.append(
            event(
                "retail.integration.call",
                data,
                id=f"call-{next(_ids)}",
                source="mw",
                time=iso(when),
                subject=None,
            )
        )
    return out


@pytest.fixture
def stored(ingest: Callable[..., Any]) -> Callable[..., None]:
    def run(*events: dict[str, Any]) -> None:
        counts = ingest(jsonl(*events))
        assert counts.accepted == len(events), counts

    return run


@pytest.fixture
def two_orders(stored: Callable[..., None]) -> None:
    stored(order_due_in_30_hours("ORD-MKT", "marketplace"), order_due_in_30_hours("ORD-WEB", "web"))


@pytest.fixture
def positions(stored: Callable[..., None]) -> None:
    """wms at the DC, pos at the store and the dark store: each snapshot 8 h old.

    The store was upserted as a store before AS_OF, and as a dc after it (not yet known at
    AS_OF); the dark store DS-0007 was never upserted.
    """
    stored(
        location(DC, "dc", AS_OF - timedelta(days=30)),
        location(STORE, "dc", AS_OF - timedelta(days=30)),
        location(STORE, "store", AS_OF - timedelta(days=2)),  # the latest at AS_OF
        location(STORE, "dc", AS_OF + timedelta(hours=1)),  # after AS_OF: not seen
        snapshot("wms", DC, 8),
        snapshot("pos", STORE, 8),
        snapshot("pos", DARK, 8),
    )


# --- loading -------------------------------------------------------------------------------


def test_load_fills_the_scoped_overrides_and_the_sql_parameters(engine: Engine) -> None:
    assert policies(engine).scoped == {}
    change(engine, "at_risk_hours", 48, "channel", "marketplace")
    change(engine, "at_risk_hours", "12", "channel", "web")
    change(engine, "stale_hours", 6, "node_kind", "dc")
    change(engine, "interface_min_calls", "25", "interface", BOOK)
    change(engine, "at_risk_hours", 36)

    loaded = policies(engine)
    assert loaded.at_risk_hours == 36.0  # the deployment value is untouched by the scoped ones
    assert loaded.scoped == {
        "at_risk_hours": {"marketplace": 48.0, "web": 12.0},
        "stale_hours": {"dc": 6.0},
        "interface_min_calls": {BOOK: 25},
    }
    assert loaded.value_for("at_risk_hours", "marketplace") == 48.0
    assert loaded.value_for("at_risk_hours", "phone") == 36.0
    assert loaded.value_for("stale_hours", None) == 6.0
    assert loaded.scoped_params() == {
        "at_risk_hours_by_channel": '{"marketplace": 48.0, "web": 12.0}',
        "interface_failure_rate_by_interface": "{}",
        "interface_min_calls_by_interface": '{"oms.carrier.book": 25}',
        "stale_hours_by_node_kind": '{"dc": 6.0}',
    }
    assert "scoped" not in loaded.params()  # one SQL parameter per policy, as before

    with engine.begin() as conn:
        reset_policy(conn, "at_risk_hours", scope="channel", scope_value="web", reason="test", actor=MANAGER)
    assert policies(engine).scoped["at_risk_hours"] == {"marketplace": 48.0}


def test_a_scoped_row_written_by_hand_with_a_scope_not_allowed_fails_loudly(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO policies VALUES ('asn_late_hours', 'channel', 'web', '8', 'x', 'y')")
        )
    with pytest.raises(PolicyError, match=r"bad row in the policies table \(channel 'web'\): asn_late_hours"):
        policies(engine)


def test_only_the_scopable_policies_can_be_scoped_in_code() -> None:
    with pytest.raises(ValueError, match="asn_late_hours"):
        Policies(scoped={"asn_late_hours": {"web": 8.0}})


# --- at_risk_hours per channel -------------------------------------------------------------


@pytest.mark.usefixtures("two_orders")
def test_at_risk_hours_of_48_for_the_marketplace_puts_only_its_order_due_in_30_hours_at_risk(
    engine: Engine,
) -> None:
    # the default 24 h for every channel: 30 h left is not at risk
    assert figure(engine, sla, "at_risk") == 0
    assert detected(engine, detectors.sla_at_risk) == {}

    change(engine, "at_risk_hours", 48, "channel", "marketplace")

    # marketplace: 30 < 48, at risk; web: 30 < 24 is false (the deployment value)
    assert figure(engine, sla, "at_risk") == 1
    assert detected(engine, detectors.sla_at_risk) == {"ORD-MKT": "medium"}  # 30 h left: not under 4
    with engine.connect() as conn:
        (found,) = detectors.sla_at_risk(conn, WINDOW, load(conn))
    assert (found.detail["channel"], found.detail["at_risk_hours"]) == ("marketplace", 48.0)
    assert compute(engine, WINDOW)["sla"]["at_risk"] == 1  # compute() loads the stored policies


@pytest.mark.usefixtures("two_orders")
def test_a_channel_value_also_applies_below_the_deployment_value(engine: Engine) -> None:
    change(engine, "at_risk_hours", 48)  # every channel: both orders at risk (30 < 48)
    assert figure(engine, sla, "at_risk") == 2
    change(engine, "at_risk_hours", 12, "channel", "web")  # web: 30 < 12 is false
    assert figure(engine, sla, "at_risk") == 1
    assert set(detected(engine, detectors.sla_at_risk)) == {"ORD-MKT"}


# --- stale_hours per node kind -------------------------------------------------------------


@pytest.mark.usefixtures("positions")
def test_stale_hours_per_node_kind_judges_each_position_by_its_locations_kind(engine: Engine) -> None:
    # the default 6 h everywhere: all three snapshots, 8 h old, are stale
    assert figure(engine, inventory, "stale_positions") == 3

    change(engine, "stale_hours", 6, "node_kind", "dc")
    change(engine, "stale_hours", 12, "node_kind", "store")

    # DC (dc, 6 h): 8 > 6 stale; STORE (a store at AS_OF, 12 h): 8 > 12 is false;
    # DS-0007 (kind unknown, the deployment 6 h): 8 > 6 stale
    assert figure(engine, inventory, "stale_positions") == 2
    assert detected(engine, detectors.stale_inventory) == {
        f"wms|{DC}|{SKU}": "low",
        f"pos|{DARK}|{SKU}": "low",
    }


@pytest.mark.usefixtures("positions")
def test_a_dc_position_8_hours_old_is_stale_and_a_store_one_is_not(engine: Engine) -> None:
    change(engine, "stale_hours", 12)  # the deployment: nothing is stale (8 > 12 is false)
    assert figure(engine, inventory, "stale_positions") == 0
    change(engine, "stale_hours", 6, "node_kind", "dc")
    assert figure(engine, inventory, "stale_positions") == 1
    with engine.connect() as conn:
        (found,) = detectors.stale_inventory(conn, WINDOW, load(conn))
    assert found.entity == f"wms|{DC}|{SKU}"
    assert (found.detail["node_kind"], found.detail["stale_hours"]) == ("dc", 6.0)


def test_the_severity_of_a_stale_position_uses_its_own_stale_hours(
    engine: Engine, stored: Callable[..., None]
) -> None:
    stored(location(STORE, "store", AS_OF - timedelta(days=2)), snapshot("pos", STORE, 30))
    # the default 6 h: 30 > 4 x 6 = 24, medium
    assert detected(engine, detectors.stale_inventory) == {f"pos|{STORE}|{SKU}": "medium"}
    change(engine, "stale_hours", 12, "node_kind", "store")
    # the store's 12 h: stale (30 > 12), and 30 > 4 x 12 = 48 is false: low
    assert detected(engine, detectors.stale_inventory) == {f"pos|{STORE}|{SKU}": "low"}


# --- interface_failure_rate and interface_min_calls per interface --------------------------


@pytest.fixture
def failing_interfaces(stored: Callable[..., None]) -> None:
    """PICK and BOOK: 20 calls each in the last hour, 2 errors (a failure rate of 0.10)."""
    stored(*calls(PICK, 20, 2), *calls(BOOK, 20, 2))


def interfaces(engine: Engine) -> dict[str, str]:
    return {
        entity: severity
        for entity, severity in detected(engine, detectors.integration_failure).items()
        if "|" not in entity  # interfaces, not failed deliveries
    }


@pytest.mark.usefixtures("failing_interfaces")
def test_an_interface_at_10_percent_fires_only_when_its_own_rate_is_below_0_10(engine: Engine) -> None:
    # the default 0.05 for both: 0.10 > 0.05, both fire (high: under 50 %)
    assert interfaces(engine) == {PICK: "high", BOOK: "high"}

    change(engine, "interface_failure_rate", 0.15)  # the deployment: 0.10 > 0.15 is false
    assert interfaces(engine) == {}

    change(engine, "interface_failure_rate", 0.09, "interface", PICK)  # 0.10 > 0.09
    assert interfaces(engine) == {PICK: "high"}

    change(engine, "interface_failure_rate", 0.10, "interface", PICK)  # strict: 0.10 > 0.10 is false
    assert interfaces(engine) == {}


@pytest.mark.usefixtures("failing_interfaces")
def test_interface_min_calls_per_interface(engine: Engine) -> None:
    change(engine, "interface_min_calls", 25, "interface", BOOK)  # BOOK: 20 >= 25 is false
    assert interfaces(engine) == {PICK: "high"}
    change(engine, "interface_min_calls", 30)  # the deployment: PICK 20 >= 30 is false too
    assert interfaces(engine) == {}
    change(engine, "interface_min_calls", 20, "interface", PICK)  # PICK: 20 >= 20
    assert interfaces(engine) == {PICK: "high"}


# --- the command ---------------------------------------------------------------------------


def test_ctower_metrics_prints_the_scoped_policies_it_used(
    engine: Engine, ctower: Callable[..., Any]
) -> None:
    change(engine, "at_risk_hours", 48, "channel", "marketplace")
    change(engine, "stale_hours", 12, "node_kind", "store")
    done = ctower("metrics", "--as-of", iso(AS_OF), "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)["policies"]
    assert printed["at_risk_hours"] == 24  # the deployment values keep their keys
    assert printed["scoped"] == {
        "at_risk_hours": {"marketplace": 48.0},
        "interface_failure_rate": {},
        "interface_min_calls": {},
        "stale_hours": {"store": 12.0},
    }
