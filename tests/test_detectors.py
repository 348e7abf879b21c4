"""Exception detectors and the queue (contracts/METRICS.md, "Exceptions"), worked by hand.

Every test takes its figures at AS_OF, noon UTC on Wednesday 25 November 2026, over the
default window (the 7 days before: from 18 November noon). Events are ingested, then made
to arrive at their business time (received_at = time) unless a test says otherwise, so
only the delay and staleness tests see any lag.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.commands.exceptions import register, run_exceptions
from metrics import detectors, inbound, integrations, inventory, reroutes, returns, sla
from metrics.exception_queue import TransitionError, acknowledge, queue, resolve, run_detectors
from metrics.params import Policies, Window
from tests.builders import DC, SKU, STORE, event, jsonl

AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)
WINDOW = Window.of(as_of=AS_OF)
POLICIES = Policies()
_ids = itertools.count(1)


def at(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC) + timedelta(hours=hour)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def created(order: str, when: datetime, promised_by: datetime) -> dict[str, Any]:
    data = {
        "order_id": order,
        "channel": "web",
        "promised_by": iso(promised_by),
        "lines": [{"sku": SKU, "qty": 1}],
    }
    return event("retail.order.created", data, id=f"{order}-created", time=iso(when), subject=order)


def happened(type_: str, order: str, when: datetime, **data: Any) -> dict[str, Any]:
    return event(
        f"retail.order.{type_}",
        {"order_id": order, **data},
        id=f"e-{next(_ids)}",
        time=iso(when),
        subject=order,
    )


def rerouted(order: str, when: datetime) -> dict[str, Any]:
    return happened("rerouted", order, when, from_node=STORE, to_node=DC, reason="stockout")


def snapshot(system: str, location: str, on_hand: int, hours_before: float = 1) -> dict[str, Any]:
    data = {"system": system, "location_id": location, "sku": SKU, "on_hand": on_hand}
    return event(
        "retail.inventory.snapshot",
        data,
        id=f"snap-{next(_ids)}",
        source=system,
        time=iso(AS_OF - timedelta(hours=hours_before)),
        subject=SKU,
    )


def call(
    interface: str, when: datetime, status: str = "ok", correlation_id: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "interface": interface,
        "source_system": "oms",
        "target_system": "wms",
        "status": status,
        "latency_ms": 50,
    }
    if correlation_id is not None:
        data["correlation_id"] = correlation_id
    return event(
        "retail.integration.call", data, id=f"call-{next(_ids)}", source="mw", time=iso(when), subject=None
    )


@pytest.fixture
def stored(engine: Engine, ingest: Callable[..., Any]) -> Callable[..., None]:
    """Ingest events (every one accepted) as if each arrived at its business time."""

    def run(*events: dict[str, Any]) -> None:
        counts = ingest(jsonl(*events))
        assert counts.accepted == len(events), counts
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE events SET received_at = time WHERE id = ANY(:ids)"),
                {"ids": [e["id"] for e in events]},
            )

    return run


def found(engine: Engine, detector: detectors.Detector, window: Window = WINDOW) -> dict[str, str]:
    """entity -> severity of the detector's detections."""
    with engine.connect() as conn:
        detections = detector(conn, window, POLICIES)
    assert len({d.key for d in detections}) == len(detections), "a key detected twice"
    return {d.entity: d.severity for d in detections}


def figure(engine: Engine, family: Any, name: str, window: Window = WINDOW) -> int:
    with engine.connect() as conn:
        return int(family.summary(conn, window, POLICIES)[name])


def exceptions(engine: Engine) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {r.key: r for r in conn.execute(sa.text("SELECT * FROM exceptions"))}


def history(engine: Engine, key: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT from_status, to_status, by, note, at FROM exception_events"
                " WHERE key = :key ORDER BY event_id"
            ),
            {"key": key},
        )
        return [tuple(r) for r in rows]


# --- the detectors -------------------------------------------------------------------------

ORDERS = [
    # breached, not delivered, 2 days past the promise: critical
    created("O-LATE-OLD", at(20), at(23, 12)),
    # breached, not delivered, 6 h past the promise: high
    created("O-LATE-NEW", at(24), at(25, 6)),
    # breached, delivered late: medium
    created("O-DELIVERED-LATE", at(20), at(21)),
    happened("delivered", "O-DELIVERED-LATE", at(22)),
    # on time: nothing
    created("O-ON-TIME", at(20), at(22)),
    happened("delivered", "O-ON-TIME", at(21)),
    # cancelled, past its promise: not counted, not detected
    created("O-CANCELLED", at(20), at(21)),
    happened("cancelled", "O-CANCELLED", at(20, 5)),
    # at risk: 14 h left (medium), 2 h left (high); shipped with 14 h left: not at risk
    created("O-RISK", at(25, 8), at(26, 2)),
    created("O-RISK-SOON", at(25, 1), at(25, 14)),
    created("O-SHIPPED", at(25, 2), at(26, 2)),
    happened("shipped", "O-SHIPPED", at(25, 3), node_id=DC),
    # created before the window: not in it
    created("O-OLD", at(10), at(11)),
]


def test_sla_breach_finds_exactly_the_breached_orders_of_the_sla_figure(engine, stored):
    stored(*ORDERS)
    assert found(engine, detectors.sla_breach) == {
        "O-LATE-OLD": "critical",
        "O-LATE-NEW": "high",
        "O-DELIVERED-LATE": "medium",
    }
    assert figure(engine, sla, "breached") == 3


def test_sla_at_risk_finds_exactly_the_at_risk_orders_of_the_sla_figure(engine, stored):
    stored(*ORDERS)
    assert found(engine, detectors.sla_at_risk) == {"O-RISK": "medium", "O-RISK-SOON": "high"}
    assert figure(engine, sla, "at_risk") == 2


def test_repeated_reroute_finds_the_orders_rerouted_twice_or_more(engine, stored):
    stored(
        created("O-1", at(20), at(23)),
        rerouted("O-1", at(20, 1)),
        rerouted("O-1", at(20, 2)),  # 2 reroutes: repeated (medium)
        created("O-2", at(20), at(23)),
        rerouted("O-2", at(20, 1)),  # 1 reroute: not repeated
        created("O-3", at(21), at(23)),
        *[rerouted("O-3", at(21, h)) for h in (1, 2, 3, 4)],  # 4 = twice the policy: high
    )
    assert found(engine, detectors.repeated_reroute) == {"O-1": "medium", "O-3": "high"}
    assert figure(engine, reroutes, "repeated") == 2


INVENTORY = [
    # DC: erp 100, wms 90: |diff| 10 > max(2, 5) -> out of tolerance; 10 is not over 10 % of 100: medium
    snapshot("erp", DC, 100),
    snapshot("wms", DC, 90),
    # DC: oms 101, 10 h old: in tolerance (1 <= 5) but stale (> 6 h); 10 h is not over 24 h: low
    snapshot("oms", DC, 101, hours_before=10),
    # store: erp 5, pos -3: |diff| 8 > max(2, 0.25) -> out (medium); pos negative (high)
    snapshot("erp", STORE, 5),
    snapshot("pos", STORE, -3),
]


def test_inventory_variance_finds_the_out_of_tolerance_pairs(engine, stored):
    stored(*INVENTORY)
    assert found(engine, detectors.inventory_variance) == {
        f"{DC}|{SKU}|wms": "medium",
        f"{STORE}|{SKU}|pos": "medium",
    }
    assert figure(engine, inventory, "out_of_tolerance") == 2


def test_negative_and_stale_inventory_find_their_positions(engine, stored):
    stored(*INVENTORY, snapshot("wms", STORE, 7, hours_before=30))  # 30 h > 4 x 6 h: medium
    assert found(engine, detectors.negative_inventory) == {f"pos|{STORE}|{SKU}": "high"}
    assert figure(engine, inventory, "negative_positions") == 1
    assert found(engine, detectors.stale_inventory) == {
        f"oms|{DC}|{SKU}": "low",
        f"wms|{STORE}|{SKU}": "medium",
    }
    assert figure(engine, inventory, "stale_positions") == 2


def test_integration_failure_finds_failing_interfaces_of_the_last_hour_and_failed_deliveries(engine, stored):
    hour = AS_OF - timedelta(minutes=59)
    stored(
        # "pick": 20 calls in the last hour, 2 errors: 10 % > 5 % -> failing (high)
        *[call("pick", hour, "error" if i < 2 else "ok") for i in range(20)],
        # "pack": 20 calls, 1 timeout: 5 % is not over 5 %
        *[call("pack", hour, "timeout" if i < 1 else "ok") for i in range(20)],
        # "label": 5 calls, all failed, but fewer than 20 calls
        *[call("label", hour, "error") for _ in range(5)],
        # "ship": 19 failures 2 hours ago, before the hour
        *[call("ship", AS_OF - timedelta(hours=2), "error") for _ in range(19)],
        # deliveries: C-1 failed last (failed delivery), C-2 retried ok (not failed)
        call("pick", at(24), "error", correlation_id="C-1"),
        call("pick", at(24, 1), "timeout", correlation_id="C-1"),
        call("pick", at(24), "error", correlation_id="C-2"),
        call("pick", at(24, 1), "ok", correlation_id="C-2"),
    )
    assert found(engine, detectors.integration_failure) == {"pick": "high", "pick|C-1": "medium"}
    with engine.connect() as conn:
        kinds = {d.entity: d.entity_kind for d in detectors.integration_failure(conn, WINDOW, POLICIES)}
    assert kinds == {"pick": "interface", "pick|C-1": "delivery"}
    assert figure(engine, integrations, "failed_deliveries") == 1


def test_delayed_events_finds_each_source_with_its_count(engine, stored):
    stored(
        call("pick", at(24), correlation_id="X-1"),
        snapshot("erp", DC, 1),
        snapshot("erp", DC, 2, hours_before=2),
        snapshot("wms", DC, 2),
    )
    with engine.begin() as conn:  # mw: 1 late; erp: 2 late; wms: on time
        conn.execute(
            sa.text("UPDATE events SET received_at = time + interval '20 minutes' WHERE source <> 'wms'")
        )
    with engine.connect() as conn:
        detections = detectors.delayed_events(conn, WINDOW, POLICIES)
    assert {d.entity: d.detail["delayed_events"] for d in detections} == {"erp": 2, "mw": 1}
    assert sum(d.detail["delayed_events"] for d in detections) == figure(
        engine, integrations, "delayed_events"
    )


def test_stale_source_finds_sources_silent_for_more_than_30_minutes_before_as_of(engine, stored):
    stored(
        snapshot("erp", DC, 1, hours_before=2),  # erp last heard 2 h before as_of: stale
        snapshot("wms", DC, 1, hours_before=0.25),  # wms 15 minutes before: alive
        snapshot("pos", STORE, 1, hours_before=0.5),  # pos exactly 30 minutes: not stale
    )
    assert found(engine, detectors.stale_source) == {"erp": "high"}
    # replayed 1 h earlier, erp was 1 h silent and wms not heard from yet
    assert found(engine, detectors.stale_source, Window.of(as_of=AS_OF - timedelta(hours=1))) == {
        "erp": "high"
    }
    # 1 h 40 min earlier, erp had been heard from 20 minutes before
    assert found(engine, detectors.stale_source, Window.of(as_of=AS_OF - timedelta(minutes=100))) == {}


def test_stale_source_on_a_live_run_counts_resent_duplicates_as_signs_of_life(engine, stored):
    """Live: every source's last receipt is at or before as_of, so source_activity answers,
    and it counts duplicates, which are never stored as events."""
    stored(
        snapshot("erp", DC, 1, hours_before=3),  # erp's only stored event arrived 3 h ago...
        snapshot("wms", DC, 1, hours_before=2),
    )
    with engine.begin() as conn:  # ...but erp resent it (a duplicate) 10 minutes ago; wms did not
        conn.execute(
            sa.text("UPDATE source_activity SET last_received_at = :t WHERE source = 'erp'"),
            {"t": AS_OF - timedelta(minutes=10)},
        )
        conn.execute(
            sa.text("UPDATE source_activity SET last_received_at = :t WHERE source = 'wms'"),
            {"t": AS_OF - timedelta(hours=2)},
        )
    assert found(engine, detectors.stale_source) == {"wms": "high"}


def test_asn_late_finds_the_late_shipments(engine, stored):
    def asn(shipment: str, when: datetime, expected: datetime) -> dict[str, Any]:
        data = {"shipment_id": shipment, "to_location": STORE, "expected_at": iso(expected)}
        return event(
            "retail.shipment.asn", data, id=f"asn-{next(_ids)}", source="erp", time=iso(when), subject=None
        )

    def received(shipment: str, when: datetime) -> dict[str, Any]:
        data = {"shipment_id": shipment, "location_id": STORE}
        return event(
            "retail.shipment.received",
            data,
            id=f"rcv-{next(_ids)}",
            source="wms",
            time=iso(when),
            subject=None,
        )

    stored(
        received("S-NO-ASN", at(22)),  # no ASN: medium
        asn("S-LATE", at(20), at(21)),
        received("S-LATE", at(21, 5)),  # 5 h after expected: low
        asn("S-OK", at(20), at(21)),
        received("S-OK", at(21, 4)),  # exactly 4 h: on time
    )
    assert found(engine, detectors.asn_late) == {"S-NO-ASN": "medium", "S-LATE": "low"}
    assert figure(engine, inbound, "asn_late") == 2


def test_slow_return_finds_the_slow_returns(engine, stored):
    def ret(type_: str, return_id: str, when: datetime) -> dict[str, Any]:
        data = {"return_id": return_id, "location_id": STORE, "sku": SKU, "qty": 1}
        return event(
            f"retail.return.{type_}", data, id=f"ret-{next(_ids)}", source="pos", time=iso(when), subject=None
        )

    stored(
        ret("received", "R-OPEN", at(20)),  # open 5 days: medium
        ret("received", "R-SLOW", at(19)),
        ret("restocked", "R-SLOW", at(22)),  # 3 days to restock: low
        ret("received", "R-FAST", at(24)),
        ret("restocked", "R-FAST", at(24, 5)),
    )
    assert found(engine, detectors.slow_return) == {"R-OPEN": "medium", "R-SLOW": "low"}
    assert figure(engine, returns, "slow_returns") == 2


def test_an_empty_store_detects_nothing(engine):
    with engine.connect() as conn:
        assert detectors.detect(conn, WINDOW, POLICIES) == []


# --- the queue ------------------------------------------------------------------------------


def test_detecting_twice_updates_the_exception_and_never_duplicates_it(engine, stored):
    stored(*ORDERS)
    # 5 order exceptions, and the oms, silent since 08:00, is a stale source
    first = run_detectors(engine, WINDOW, POLICIES)
    assert first == {"opened": 6, "updated": 0, "reopened": 0, "resolved": 0}
    later = Window.of(as_of=AS_OF + timedelta(minutes=30))
    assert run_detectors(engine, later, POLICIES) == {"opened": 0, "updated": 6, "reopened": 0, "resolved": 0}
    rows = exceptions(engine)
    assert len(rows) == 6
    assert rows["stale_source:oms"].entity_kind == "source"
    row = rows["sla_breach:O-LATE-NEW"]
    assert (row.type, row.entity_kind, row.entity, row.status) == (
        "sla_breach",
        "order",
        "O-LATE-NEW",
        "open",
    )
    assert (row.first_seen, row.last_seen) == (AS_OF, later.as_of)
    assert row.detail["promised_by"] == "2026-11-25T06:00:00Z"
    assert history(engine, "sla_breach:O-LATE-NEW") == [(None, "open", "auto", "detected", AS_OF)]


def test_a_condition_that_clears_is_resolved_automatically_and_recorded(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    stored(happened("delivered", "O-RISK", AS_OF + timedelta(minutes=10)))
    later = Window.of(as_of=AS_OF + timedelta(hours=1))
    counts = run_detectors(engine, later, POLICIES)
    assert counts["resolved"] == 1
    row = exceptions(engine)["sla_at_risk:O-RISK"]
    assert (row.status, row.resolved_by, row.resolved_at) == ("resolved", "auto", later.as_of)
    assert history(engine, "sla_at_risk:O-RISK")[-1] == (
        "open",
        "resolved",
        "auto",
        "condition cleared",
        later.as_of,
    )


def test_a_failed_delivery_is_resolved_when_a_later_ok_call_arrives(engine, stored):
    only = ("integration_failure",)  # a run of some types leaves the others alone
    stored(call("pick", at(24), "error", correlation_id="C-9"))
    assert run_detectors(engine, WINDOW, POLICIES, only)["opened"] == 1
    stored(call("pick", AS_OF + timedelta(minutes=5), "ok", correlation_id="C-9"))
    assert (
        run_detectors(engine, Window.of(as_of=AS_OF + timedelta(minutes=10)), POLICIES, only)["resolved"] == 1
    )
    assert exceptions(engine)["integration_failure:pick|C-9"].resolved_by == "auto"


def test_an_acknowledged_exception_stays_acknowledged_while_the_condition_holds(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    key = "sla_breach:O-LATE-OLD"
    with engine.begin() as conn:
        assert acknowledge(conn, key, "maria", "calling the carrier") == "acknowledged"
    counts = run_detectors(engine, Window.of(as_of=AS_OF + timedelta(hours=1)), POLICIES)
    assert counts["opened"] == counts["reopened"] == 0
    assert exceptions(engine)[key].status == "acknowledged"
    assert [h[:4] for h in history(engine, key)] == [
        (None, "open", "auto", "detected"),
        ("open", "acknowledged", "maria", "calling the carrier"),
    ]


def test_a_resolved_exception_detected_again_is_reopened_and_recorded(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    key = "sla_breach:O-LATE-OLD"
    with engine.begin() as conn:
        resolve(conn, key, "maria", "refunded")
    assert exceptions(engine)[key].resolved_by == "maria"
    later = Window.of(as_of=AS_OF + timedelta(hours=1))
    assert run_detectors(engine, later, POLICIES)["reopened"] == 1
    row = exceptions(engine)[key]
    assert (row.status, row.resolved_at, row.resolved_by, row.first_seen) == ("open", None, None, AS_OF)
    assert history(engine, key)[-1] == ("resolved", "open", "auto", "detected again", later.as_of)


def test_a_user_cannot_acknowledge_a_missing_or_resolved_exception(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    key = "sla_breach:O-LATE-NEW"
    with engine.begin() as conn:
        with pytest.raises(TransitionError, match="no exception"):
            acknowledge(conn, "sla_breach:NOPE", "maria")
        with pytest.raises(TransitionError, match="user"):
            acknowledge(conn, key, "auto")
        assert acknowledge(conn, key, "maria") == "acknowledged"
        assert acknowledge(conn, key, "maria") == "acknowledged"  # twice: nothing more recorded
        assert resolve(conn, key, "li", "carrier found it") == "resolved"
        with pytest.raises(TransitionError, match="resolved"):
            acknowledge(conn, key, "maria")
    assert [h[:3] for h in history(engine, key)] == [
        (None, "open", "auto"),
        ("open", "acknowledged", "maria"),
        ("acknowledged", "resolved", "li"),
    ]


def test_history_is_append_only(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM exception_events"))


def test_the_queue_lists_most_severe_then_oldest_first(engine, stored):
    stored(*ORDERS)
    run_detectors(engine, WINDOW, POLICIES)
    with engine.connect() as conn:
        listed = [(r["severity"], r["entity"]) for r in queue(conn)]
    assert [s for s, _ in listed] == ["critical", "high", "high", "high", "medium", "medium"]


# --- the command ------------------------------------------------------------------------------


def run_command(database_url: str, *argv: str) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url")
    parser = argparse.ArgumentParser(prog="ctower")
    register(parser.add_subparsers(dest="command", required=True), common)
    return run_exceptions(parser.parse_args(["exceptions", *argv, "--database-url", database_url]))


def test_exceptions_json_lists_the_queue_in_the_design_shape(engine, stored, database_url, capsys):
    stored(*ORDERS)
    assert run_command(database_url, "--as-of", iso(AS_OF), "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0] == {
        "key": "sla_breach:O-LATE-OLD",
        "type": "sla_breach",
        "entity": "O-LATE-OLD",
        "status": "open",
        "severity": "critical",
        "first_seen": "2026-11-25T12:00:00Z",
        "last_seen": "2026-11-25T12:00:00Z",
    }
    assert len(listed) == 6  # 5 orders and the stale oms source
    with engine.begin() as conn:
        acknowledge(conn, "sla_breach:O-LATE-OLD", "maria")
    assert run_command(database_url, "--as-of", iso(AS_OF), "--status", "acknowledged", "--json") == 0
    assert [r["key"] for r in json.loads(capsys.readouterr().out)] == ["sla_breach:O-LATE-OLD"]


def test_exceptions_prints_a_table_without_json(stored, database_url, capsys):
    stored(*ORDERS)
    assert run_command(database_url, "--as-of", iso(AS_OF)) == 0
    out = capsys.readouterr().out
    assert out.startswith("as of 2026-11-25T12:00:00Z: opened 6, updated 0, reopened 0, resolved 0")
    assert "critical" in out and "O-LATE-OLD" in out


def test_the_real_cli_lists_the_queue_and_refuses_to_rewind_it(ctower, tmp_path):
    """`ctower exceptions` through the real CLI; an earlier as-of would rewrite the live queue."""
    import json as _json

    from tests import builders

    order = {"order_id": "ORD-9", "channel": "web", "promised_by": "2026-11-19T10:00:00Z",
             "lines": [{"sku": "SKU-1", "qty": 1}]}  # fmt: skip
    path = tmp_path / "late.jsonl"
    path.write_bytes(builders.jsonl(builders.event("retail.order.created", order, id="c9",
                                                   time="2026-11-18T10:00:00Z", subject=None)))  # fmt: skip
    assert ctower("ingest", str(path)).returncode == 0

    listed = ctower("exceptions", "--as-of", "2026-11-20T12:00:00Z", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = _json.loads(listed.stdout)
    assert [(r["key"], r["status"]) for r in rows if r["type"] == "sla_breach"] == [
        ("sla_breach:ORD-9", "open")
    ]

    rewind = ctower("exceptions", "--as-of", "2026-11-19T12:00:00Z")
    assert rewind.returncode == 2
    assert rewind.stderr.count("\n") == 1 and "before the queue's latest run" in rewind.stderr
