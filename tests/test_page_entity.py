"""The entity detail page (pages/entity.py), run by AppTest through the entry point.

The seeded store is the story of tests/test_timeline.py: order ORD-T1 told by the OMS, the
middleware and the DC's WMS, its pick arriving 3 hours late and after its shipment, an
sla_breach raised and resolved, and two audit rows. The page shows everything up to now
(2026-11-27 or later), so the whole story.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from tests.test_timeline import CALL, ORDER, tell

REPO = Path(__file__).resolve().parents[1]
ENTRY = str(REPO / "app" / "streamlit_app.py")
PAGE = str(REPO / "pages" / "entity.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def open_page(streamlit_script: Any) -> Any:
    """The app on a database URL, switched to the entity page with `?kind=&key=` (if given)."""

    def run(url: str, **query: str) -> AppTest:
        at = streamlit_script(ENTRY, url)
        at.query_params.update(query)  # before the first run: the filters read the URL then
        at.run()
        return at.switch_page(PAGE).run()

    return run


def tiles(at: AppTest) -> dict[str, str]:
    """The header's facts, each drawn as "**Label**  \\nvalue"."""
    facts = [m.value.split("  \n") for m in at.markdown if m.value.startswith("**") and "  \n" in m.value]
    return {label.strip("*"): value for label, value in facts}


def test_without_an_entity_the_page_asks_for_one(open_page: Any, database_url: str) -> None:
    at = open_page(database_url)
    assert not at.exception
    assert [i.value for i in at.info] == [
        "Open an entity: choose its kind, type its key (an order id such as ORD-000123) and press Open."
    ]


def test_an_order_the_empty_store_does_not_know_says_so_in_one_line(
    open_page: Any, database_url: str
) -> None:
    at = open_page(database_url, kind="order", key="ORD-NOPE")
    assert not at.exception
    assert [i.value for i in at.info] == ["No events for order ORD-NOPE in the store."]


def test_an_unknown_kind_is_one_clear_error(open_page: Any, database_url: str) -> None:
    at = open_page(database_url, kind="parcel", key="P-1")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Unknown entity kind 'parcel': use one of order, shipment, position, return, interface, source."
    ]


def test_a_position_key_without_at_sign_is_one_clear_error(open_page: Any, database_url: str) -> None:
    at = open_page(database_url, kind="position", key="SKU-00017")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "a position is SKU@LOCATION, e.g. SKU-00017@STORE-0042, not 'SKU-00017'."
    ]


def test_the_order_page_shows_its_facts_events_links_and_exceptions(
    open_page: Any, database_url: str, engine: Engine, ingest: Any
) -> None:
    tell(engine, ingest)
    at = open_page(database_url, kind="order", key=ORDER)

    assert not at.exception
    assert at.subheader[0].value == f"Order {ORDER}"
    facts = tiles(at)
    assert facts["Channel"] == "web" and facts["Current node"] == "DC-EAST"
    assert facts["Status"] == "delivered" and facts["Breached"] == "Yes"
    assert facts["Events"] == "9" and facts["Late"] == "1"

    events = at.dataframe[0].value
    assert events["type"].tolist() == [
        "order.created",
        "order.routed",
        "order.rerouted",
        "integration.call",
        "integration.call",
        "order.picked",
        "order.shipped",
        "order.delivered",
        "return.received",
    ]
    assert events["system"].tolist() == ["oms"] * 3 + ["middleware"] * 2 + ["wms"] * 2 + ["oms"] * 2
    assert events["gap"].tolist() == [
        "",
        "10 min",
        "30 min",
        "1 min",
        "4 min",
        "1 h 15 min",
        "2 h",
        "22 h",
        "1 d 23 h",
    ]
    assert [x for x in events["late"].tolist() if x] == ["lag, out of order (3 h)"]
    assert events["summary"][2] == "rerouted STORE-0042 → DC-EAST (stockout)"

    linked = [link.label for link in at.main.get("page_link")]
    assert linked == [
        "interface oms.wms.create_pick",
        "shipment SHP-1",
        "return RET-1",
        "position SKU-00017@STORE-0042",
        "position SKU-00099@STORE-0042",
        "position SKU-00017@DC-EAST",
        "position SKU-00099@DC-EAST",
    ]
    assert "transfer `TR-9` (no page of its own)" in [m.value for m in at.markdown]
    assert {"Shipped as", "ASN of SHP-1 for transfer"} <= {c.value for c in at.caption}

    exceptions, actions = at.dataframe[1].value, at.dataframe[2].value
    assert exceptions["what"].tolist() == ["sla_breach raised (high)", "sla_breach resolved"]
    assert exceptions["by"].tolist() == ["auto", "mia"]
    assert actions["what"].tolist() == [
        "order.note by ops-lead (manager)",
        "exception.resolve by mia (manager)",
    ]


def test_the_form_opens_the_typed_entity_and_keeps_it_in_the_url(
    open_page: Any, database_url: str, engine: Engine, ingest: Any
) -> None:
    tell(engine, ingest)
    at = open_page(database_url)
    at.selectbox(key="ent_kind").set_value("return")
    at.text_input(key="ent_key").set_value("RET-1")
    at.button[0].click().run()

    assert not at.exception
    assert (at.query_params["kind"], at.query_params["key"]) == ("return", "RET-1")
    assert at.subheader[0].value == "Return RET-1"
    assert at.dataframe[0].value["summary"].tolist() == ["return RET-1 of ORD-T1: 1 × SKU-00017 at DC-EAST"]


def test_an_unreachable_database_is_explained_not_a_traceback(open_page: Any) -> None:
    at = open_page(UNREACHABLE_URL, kind="order", key=ORDER)
    assert not at.exception
    assert at.error and "The database is unreachable" in at.error[0].value


def test_following_a_link_to_another_entity_shows_it_in_the_form_too(
    open_page: Any, database_url: str, engine: Engine, ingest: Any
) -> None:
    tell(engine, ingest)
    at = open_page(database_url, kind="order", key=ORDER)
    at.query_params.update({"kind": "shipment", "key": "SHP-1"})  # what entity_link does
    at.run()

    assert not at.exception
    assert at.subheader[0].value == "Shipment SHP-1"
    assert (at.selectbox(key="ent_kind").value, at.text_input(key="ent_key").value) == ("shipment", "SHP-1")
    assert at.dataframe[0].value["type"].tolist() == ["shipment.asn", "order.shipped"]


def test_an_interface_shows_the_calls_of_the_window_of_the_url(
    open_page: Any, database_url: str, engine: Engine, ingest: Any
) -> None:
    """?as_of=21st 00:00&window=24h: the calls of the 20th, ORD-T1's two and ORD-OTHER's."""
    tell(engine, ingest)
    at = open_page(database_url, kind="interface", key=CALL, as_of="2026-11-21T00:00:00Z", window="24h")

    assert not at.exception
    assert at.subheader[0].value == f"Interface {CALL}"
    facts = tiles(at)
    assert (facts["Calls shown"], facts["Failures"], facts["Failure rate"]) == ("3", "1", "33.3%")
    assert at.dataframe[0].value["summary"].tolist() == [
        "oms.wms.create_pick oms → wms: error 500, 120 ms",
        "oms.wms.create_pick oms → wms: ok 200, 120 ms, attempt 2",
        "oms.wms.create_pick oms → wms: ok 200, 120 ms",
    ]
    assert [link.label for link in at.main.get("page_link")] == ["order ORD-OTHER", "order ORD-T1"]
