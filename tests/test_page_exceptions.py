"""The Exceptions page (pages/exceptions.py), run by AppTest on empty and seeded databases.

The page shows the 7 days before now, so the seeded orders are placed relative to AS_OF,
one minute before the current minute (the page reads the queue as of the current minute),
and the detectors of the order types run as of AS_OF. Worked by hand:

    order       created     promised      then               detection            severity
    O-CRIT      AS_OF - 3d  AS_OF - 2d    not delivered      sla_breach (48 h)    critical
    O-HIGH      AS_OF - 2d  AS_OF - 10h   not delivered      sla_breach (10 h)    high
    O-SOON      AS_OF - 1d  AS_OF + 2h    routed             sla_at_risk (2 h)    high
    O-REROUTE   AS_OF - 2d  AS_OF + 5d    rerouted twice     repeated_reroute     medium
    O-LATE      AS_OF - 3d  AS_OF - 2d    delivered - 1d     sla_breach           medium

Counts: critical 1, high 2, medium 2, low 0. All first seen at AS_OF, so within a severity
the key decides: O-CRIT, then sla_at_risk:O-SOON before sla_breach:O-HIGH, then
repeated_reroute:O-REROUTE before sla_breach:O-LATE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.ui.filters import Filters
from metrics.exception_queue import acknowledge, resolve, run_detectors
from metrics.params import Policies, Window
from tests.builders import DC, SKU, STORE, event, jsonl

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "exceptions.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"
AS_OF = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
SELECT_PROMPT = "Select a row to open the exception: its entity, status history and what the detector saw."
ORDER_TYPES = ("sla_breach", "sla_at_risk", "repeated_reroute")


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> datetime:
    return AS_OF - timedelta(**delta)


def created(order: str, when: datetime, promised_by: datetime) -> dict[str, Any]:
    data = {
        "order_id": order,
        "channel": "web",
        "promised_by": iso(promised_by),
        "lines": [{"sku": SKU, "qty": 1}],
    }
    return event("retail.order.created", data, id=f"{order}-created", time=iso(when), subject=order)


def happened(type_: str, order: str, when: datetime, n: int = 1, **data: Any) -> dict[str, Any]:
    return event(
        f"retail.order.{type_}",
        {"order_id": order, **data},
        id=f"{order}-{type_}-{n}",
        time=iso(when),
        subject=order,
    )


ORDERS = [
    created("O-CRIT", ago(days=3), ago(days=2)),
    created("O-HIGH", ago(days=2), ago(hours=10)),
    created("O-SOON", ago(days=1), AS_OF + timedelta(hours=2)),
    happened("routed", "O-SOON", ago(days=1) + timedelta(minutes=5), node_id=STORE),
    created("O-REROUTE", ago(days=2), AS_OF + timedelta(days=5)),
    happened(
        "rerouted",
        "O-REROUTE",
        ago(days=2) + timedelta(hours=1),
        1,
        from_node=STORE,
        to_node=DC,
        reason="stockout",
    ),
    happened(
        "rerouted",
        "O-REROUTE",
        ago(days=2) + timedelta(hours=2),
        2,
        from_node=DC,
        to_node=STORE,
        reason="stockout",
    ),
    created("O-LATE", ago(days=3), ago(days=2)),
    happened("delivered", "O-LATE", ago(days=1)),
]
ORDER_OF_THE_QUEUE = [
    ("critical", "sla_breach", "O-CRIT"),
    ("high", "sla_at_risk", "O-SOON"),
    ("high", "sla_breach", "O-HIGH"),
    ("medium", "repeated_reroute", "O-REROUTE"),
    ("medium", "sla_breach", "O-LATE"),
]


@pytest.fixture
def page_on(streamlit_script):
    """The page (or with entry=True the whole app) on a database URL (conftest.streamlit_script)."""
    return lambda url, *, entry=False: streamlit_script(ENTRY if entry else PAGE, url)


@pytest.fixture
def queue_of_orders(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    """The five orders above, stored as arriving at their business time, detectors run at AS_OF."""
    counts = ingest(jsonl(*ORDERS))
    assert counts.accepted == len(ORDERS), counts
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET received_at = time"))
    opened = run_detectors(engine, Window.of(as_of=AS_OF), Policies(), types=ORDER_TYPES)
    assert opened["opened"] == 5
    return engine


def tile(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def severity_tiles(at: AppTest) -> dict[str, str]:
    return {label: tile(at, label) for label in ("Critical", "High", "Medium", "Low")}


def listed(at: AppTest) -> list[tuple[str, str, str]]:
    queue = at.dataframe[0].value
    return list(zip(queue["severity"], queue["type"], queue["entity"], strict=True))


def table_with(at: AppTest, column: str) -> Any:
    """The one table on the page with that column (a pandas frame)."""
    [found] = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def select_row(at: AppTest, row: int) -> AppTest:
    at.session_state["exc_queue"] = {"selection": {"rows": [row], "columns": []}}
    return at.run()


def test_an_empty_queue_says_there_are_no_exceptions_for_this_window(page_on, database_url):
    at = page_on(database_url).run()

    assert not at.exception
    assert not at.error
    assert severity_tiles(at) == {"Critical": "0", "High": "0", "Medium": "0", "Low": "0"}
    assert [i.value for i in at.info] == ["No exceptions for this window."]
    assert not at.dataframe


def test_the_queue_counts_each_severity_and_lists_most_severe_and_oldest_first(
    page_on, database_url, queue_of_orders
):
    at = page_on(database_url).run()

    assert not at.exception
    assert not at.error
    assert severity_tiles(at) == {"Critical": "1", "High": "2", "Medium": "2", "Low": "0"}
    assert listed(at) == ORDER_OF_THE_QUEUE
    assert [i.value for i in at.info] == [SELECT_PROMPT]  # no empty-state message


def test_selecting_an_order_exception_shows_its_history_and_the_orders_events(
    page_on, database_url, queue_of_orders
):
    with queue_of_orders.begin() as conn:
        acknowledge(
            conn,
            "sla_at_risk:O-SOON",
            by="manager",
            note="calling the store",
            at=AS_OF + timedelta(seconds=30),
        )
    at = page_on(database_url).run()

    at = select_row(at, 1)

    assert not at.exception
    assert [s.value for s in at.subheader] == ["sla_at_risk · O-SOON"]
    facts = " ".join(m.value for m in at.markdown)
    assert "acknowledged" in facts and "`sla_at_risk:O-SOON`" in facts
    assert "Order **O-SOON**: its events across systems are listed under the queue." in facts
    history, events = table_with(at, "to_status"), table_with(at, "received_at")
    assert history[["from_status", "to_status", "by", "note"]].values.tolist() == [
        ["—", "open", "auto", "detected"],
        ["open", "acknowledged", "manager", "calling the store"],
    ]
    assert events[["source", "type", "node"]].values.tolist() == [
        ["oms", "retail.order.created", "—"],
        ["oms", "retail.order.routed", STORE],
    ]
    assert not at.info  # the prompt to select a row is gone
    buttons = {b.key for b in at.button}  # the exception's workflow and its order's reroute
    assert {"act_exc_exception_ack_button", "act_exc_exception_resolve_button"} <= buttons


def test_the_filters_narrow_the_list_and_the_counts_follow_status_and_type(
    page_on, database_url, queue_of_orders
):
    with queue_of_orders.begin() as conn:
        resolve(conn, "sla_breach:O-LATE", by="manager", note="refunded", at=AS_OF + timedelta(seconds=30))
    at = page_on(database_url).run()
    assert severity_tiles(at) == {"Critical": "1", "High": "2", "Medium": "1", "Low": "0"}  # O-LATE resolved

    at.multiselect(key="exc_type").set_value(["sla_breach"]).run()
    assert severity_tiles(at) == {"Critical": "1", "High": "1", "Medium": "0", "Low": "0"}
    assert [e for _, _, e in listed(at)] == ["O-CRIT", "O-HIGH"]

    at.multiselect(key="exc_status").set_value(["resolved"]).run()
    assert [e for _, _, e in listed(at)] == ["O-LATE"]

    at.multiselect(key="exc_severity").set_value(["low"]).run()
    assert [i.value for i in at.info] == ["No exceptions for this window with these filters."]


def test_an_unreachable_database_is_explained_not_raised(page_on):
    at = page_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = at.error
    assert "database is unreachable" in error.value


def test_replayed_before_the_detectors_saw_them_the_window_has_no_exceptions(
    page_on, database_url, queue_of_orders
):
    """The shared filters' as-of (app/ui/filters.py) bounds the list: an hour before AS_OF,
    none of the five had been seen yet."""
    at = page_on(database_url)
    at.session_state["filters_current"] = Filters(as_of=AS_OF - timedelta(hours=1))

    at.run()

    assert not at.exception
    assert severity_tiles(at) == {"Critical": "0", "High": "0", "Medium": "0", "Low": "0"}
    assert [i.value for i in at.info] == ["No exceptions for this window."]


def test_selecting_a_failed_delivery_shows_the_calls_of_that_delivery(page_on, database_url, engine, ingest):
    """ORD-7's pick was tried twice and timed out both times: a failed delivery (medium);
    ORD-8's went through. The detail lists ORD-7's two calls, oldest first."""
    calls = [
        ("ORD-7", "error", ago(minutes=30), 503),
        ("ORD-8", "ok", ago(minutes=25), 200),
        ("ORD-7", "timeout", ago(minutes=20), None),
    ]
    events = []
    for n, (order, status, when, http) in enumerate(calls, start=1):
        data = {"interface": "oms.wms.create_pick", "source_system": "oms", "target_system": "wms",
                "status": status, "latency_ms": 100 * n, "correlation_id": order, "attempt": n}  # fmt: skip
        if http is not None:
            data["http_status"] = http
        events.append(
            event("retail.integration.call", data, id=f"call-{n}", source="mw", time=iso(when), subject=None)
        )
    assert ingest(jsonl(*events)).accepted == 3
    run_detectors(engine, Window.of(as_of=AS_OF), Policies(), types=("integration_failure",))
    at = page_on(database_url).run()
    assert listed(at) == [("medium", "integration_failure", "oms.wms.create_pick|ORD-7")]

    at = select_row(at, 0)

    assert not at.exception
    facts = " ".join(m.value for m in at.markdown)
    assert "Delivery **oms.wms.create_pick|ORD-7**" in facts
    delivery = table_with(at, "latency_ms")
    assert delivery[["status", "latency_ms", "attempt"]].values.tolist() == [
        ["error", 100.0, 1],
        ["timeout", 300.0, 3],
    ]
    assert delivery["http_status"].fillna(0).tolist() == [503, 0]


def test_in_the_app_the_as_of_of_the_url_bounds_the_queue(page_on, database_url, queue_of_orders):
    """Through the entry point: ?as_of= an hour before the detectors ran shows none."""
    at = page_on(database_url, entry=True)
    at.query_params["as_of"] = iso(AS_OF - timedelta(hours=1))
    at.run()

    at.switch_page(PAGE).run()

    assert not at.exception
    assert [i.value for i in at.info] == ["No exceptions for this window."]
    at.query_params.clear()
    at.radio(key="filters_as_of_mode").set_value("Now").run()
    assert listed(at) == ORDER_OF_THE_QUEUE
