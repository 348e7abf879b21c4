"""`ctower metrics --json`: the exact shape of METRICS.md, with figures worked out by hand.

The estate, as of 2026-11-20T12:00Z, window [2026-11-13T12:00Z, 2026-11-20T12:00Z):
- ORD-1 created 11-18 10:00, promised 11-19 10:00, delivered 11-19 09:00: on time.
- ORD-2 created 11-18 11:00, promised 11-19 11:00, never delivered: breached; rerouted
  twice (STORE-0042 -> DC-EAST -> DC-WEST): 2 reroutes, a repeated reroute.
- ORD-3 created 11-19 12:00, promised 11-21 00:00 (12 h after as_of, under 24 h), not
  shipped: at risk.
- ORD-4 created 11-19 13:00, cancelled 14:00: counted as cancelled, not among orders.
- ORD-5 created 11-20 13:00: after as_of, so not there at all.
  => sla: orders 3, delivered 1, cancelled 1, breached 1, breach_rate 1/3, at_risk 1
  => reroutes: 2 reroutes, 1 rerouted order, 1 repeated, rate 1/3
- SKU-1 at STORE-0042: erp counts 10, pos counts 14 (both at 11-20 10:00): |4| > max(2,
  0.05*10): out of tolerance, 4 units, unit cost 2.5 -> 10.0; nothing negative or stale.
- Two calls of oms.wms.create_pick: an error carrying ORD-2 and an ok carrying ORD-1 ->
  calls 2, failures 1, rate 0.5; ORD-2's latest call failed: 1 failed delivery.
- All events arrived now (2026), days after their business time: every event in the
  window is delayed.
- Shipment SHP-1 received 11-19 with no ASN: 1 late ASN.
- Return RET-1 received 11-17 00:00, never restocked: 84 h open > 48 h: slow.
"""

from __future__ import annotations

import json

from tests import builders


def _events() -> list[dict]:
    def ev(type_, data, id_, time, source="oms"):
        return builders.event(type_, data, id=id_, source=source, time=time, subject=None)

    out = []
    for number, created, promised in (
        (1, "2026-11-18T10:00:00Z", "2026-11-19T10:00:00Z"),
        (2, "2026-11-18T11:00:00Z", "2026-11-19T11:00:00Z"),
        (3, "2026-11-19T12:00:00Z", "2026-11-21T00:00:00Z"),
        (4, "2026-11-19T13:00:00Z", "2026-11-22T00:00:00Z"),
        (5, "2026-11-20T13:00:00Z", "2026-11-22T00:00:00Z"),
    ):
        data = {
            "order_id": f"ORD-{number}",
            "channel": "web",
            "promised_by": promised,
            "lines": [{"sku": "SKU-1", "qty": 1}],
        }
        out.append(ev("retail.order.created", data, f"c{number}", created))
        out.append(
            ev(
                "retail.order.routed",
                {"order_id": f"ORD-{number}", "node_id": "STORE-0042"},
                f"r{number}",
                created,
            )
        )
    out += [
        ev("retail.order.delivered", {"order_id": "ORD-1"}, "d1", "2026-11-19T09:00:00Z"),
        ev(
            "retail.order.rerouted",
            {"order_id": "ORD-2", "from_node": "STORE-0042", "to_node": "DC-EAST", "reason": "stockout"},
            "rr1",
            "2026-11-18T12:00:00Z",
        ),
        ev(
            "retail.order.rerouted",
            {"order_id": "ORD-2", "from_node": "DC-EAST", "to_node": "DC-WEST", "reason": "capacity"},
            "rr2",
            "2026-11-18T13:00:00Z",
        ),
        ev("retail.order.cancelled", {"order_id": "ORD-4"}, "x4", "2026-11-19T14:00:00Z"),
        ev(
            "retail.product.upserted", {"sku": "SKU-1", "unit_cost": 2.5}, "p1", "2026-11-01T00:00:00Z", "erp"
        ),
        ev(
            "retail.inventory.snapshot",
            {"system": "erp", "location_id": "STORE-0042", "sku": "SKU-1", "on_hand": 10},
            "s1",
            "2026-11-20T10:00:00Z",
            "erp",
        ),
        ev(
            "retail.inventory.snapshot",
            {"system": "pos", "location_id": "STORE-0042", "sku": "SKU-1", "on_hand": 14},
            "s2",
            "2026-11-20T10:00:00Z",
            "pos/store-0042",
        ),
        ev(
            "retail.integration.call",
            {
                "interface": "oms.wms.create_pick",
                "source_system": "oms",
                "target_system": "wms",
                "status": "error",
                "latency_ms": 900,
                "correlation_id": "ORD-2",
            },
            "i1",
            "2026-11-18T11:05:00Z",
            "middleware",
        ),
        ev(
            "retail.integration.call",
            {
                "interface": "oms.wms.create_pick",
                "source_system": "oms",
                "target_system": "wms",
                "status": "ok",
                "latency_ms": 120,
                "correlation_id": "ORD-1",
            },
            "i2",
            "2026-11-18T10:05:00Z",
            "middleware",
        ),
        ev(
            "retail.shipment.received",
            {"shipment_id": "SHP-1", "location_id": "DC-EAST"},
            "sr1",
            "2026-11-19T08:00:00Z",
            "wms/dc-east",
        ),
        ev(
            "retail.return.received",
            {"return_id": "RET-1", "sku": "SKU-1", "qty": 1, "location_id": "STORE-0042"},
            "rt1",
            "2026-11-17T00:00:00Z",
        ),
    ]
    return out


AS_OF = ["--as-of", "2026-11-20T12:00:00Z"]


def test_metrics_json_has_exactly_the_figures_worked_out_by_hand(ctower, tmp_path):
    events = _events()
    path = tmp_path / "estate.jsonl"
    path.write_bytes(builders.jsonl(*events))
    assert ctower("ingest", str(path)).returncode == 0

    result = ctower("metrics", *AS_OF, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)

    assert figures["as_of"] == "2026-11-20T12:00:00Z"
    assert figures["since"] == "2026-11-13T12:00:00Z"
    assert figures["until"] == "2026-11-20T12:00:00Z"
    assert figures["sla"] == {
        "orders": 3,
        "delivered": 1,
        "cancelled": 1,
        "breached": 1,
        "breach_rate": 1 / 3,
        "at_risk": 1,
    }
    assert figures["reroutes"] == {"reroutes": 2, "rerouted_orders": 1, "repeated": 1, "rate": 1 / 3}
    assert figures["inventory"] == {
        "pairs_compared": 1,
        "out_of_tolerance": 1,
        "variance_units": 4,
        "variance_value": 10.0,
        "negative_positions": 0,
        "stale_positions": 0,
    }
    in_window = [e for e in events if "2026-11-13T12:00:00Z" <= e["time"] < "2026-11-20T12:00:00Z"]
    assert figures["integrations"] == {
        "calls": 2,
        "failures": 1,
        "failure_rate": 0.5,
        "failed_deliveries": 1,
        "delayed_events": len(in_window),
    }
    assert figures["inbound"] == {"asn_late": 1}
    assert figures["returns"] == {"returns": 1, "restocked": 0, "slow_returns": 1}
    assert figures["policies"]["at_risk_hours"] == 24  # the values that produced the figures


def test_metrics_on_an_empty_store_are_zero_not_errors(ctower):
    result = ctower("metrics", *AS_OF, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["sla"]["orders"] == 0 and figures["sla"]["breach_rate"] == 0.0
    assert figures["reroutes"]["rate"] == 0.0
    assert figures["integrations"]["failure_rate"] == 0.0


def test_metrics_without_json_prints_a_readable_table(ctower):
    result = ctower("metrics", *AS_OF)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("as of 2026-11-20T12:00:00Z, window [2026-11-13T12:00:00Z")
    assert "sla" in result.stdout and "orders 0" in result.stdout


def test_a_window_that_ends_before_it_starts_is_one_clear_line(ctower):
    result = ctower("metrics", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-10T00:00:00Z")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "must be before until" in result.stderr


def test_a_timestamp_without_an_offset_is_refused(ctower):
    result = ctower("metrics", "--as-of", "2026-11-20T12:00:00")
    assert result.returncode == 2
    assert "needs an offset" in result.stderr and result.stderr.startswith("ctower: error:")


def test_the_table_shows_rates_as_percentages_and_money_as_money():
    from app.commands.metrics import render_table

    table = render_table(
        {"as_of": "A", "since": "S", "until": "U",
         "sla": {"orders": 1200, "breach_rate": 0.25},
         "inventory": {"variance_value": 0.5}}
    )  # fmt: skip
    assert "orders 1,200  breach_rate 25.0%" in table
    assert "variance_value 0.50" in table
