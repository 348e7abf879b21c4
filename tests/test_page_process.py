"""The Process page (pages/process.py), run by AppTest on empty and seeded databases.

Seeded with the hand-built log of tests/test_process_log.py; the shared filters are set to
its window ([T0 - 1 day, T0 + 2 days) as of T0 + 10 days): 5 orders, of which 2 delivered
as expected, 1 cancelled, 1 in progress and 1 (O-C, rerouted) deviating; 4 variants and 8
edges (tests/test_process.py works them out).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app.ui.filters import Filters
from tests.builders import jsonl
from tests.test_process_log import EVENTS, HAPPY, T0

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "process.py")
ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
WINDOW = Filters(
    window="custom", since=T0 - timedelta(days=1), until=T0 + timedelta(days=2), as_of=T0 + timedelta(days=10)
)


@pytest.fixture
def page(streamlit_script: Any, database_url: str) -> AppTest:
    at: AppTest = streamlit_script(PAGE, database_url)
    at.session_state["filters_current"] = WINDOW
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_an_empty_database_says_there_is_no_data_for_the_window(page: AppTest) -> None:
    page.run()
    assert not page.exception
    assert [i.value for i in page.info] == ["No data yet for this window."]


def test_the_seeded_log_shows_its_conformance_and_variants_first(page: AppTest, ingest: Any) -> None:
    ingest(jsonl(*EVENTS))
    page.run()
    assert not page.exception
    assert metrics(page) == {
        "Orders": "5",
        "Delivered as expected · 40%": "2",
        "Cancelled · 20%": "1",
        "In progress · 20%": "1",
        "Deviating · 20%": "1",
    }
    assert page.session_state["proc_tab"] == "Variants"
    (variants,) = (d.value for d in page.dataframe)  # the other tabs are read when opened
    assert variants["variant"].to_list()[0] == HAPPY and len(variants) == 4


def test_each_other_tab_shows_its_figures_when_opened(page: AppTest, ingest: Any) -> None:
    ingest(jsonl(*EVENTS))
    page.run()
    page.session_state["proc_tab"] = "Directly-follows graph"
    page.run()
    assert not page.exception
    (edges,) = (d.value for d in page.dataframe)
    assert len(edges) == 8
    delivered = edges[edges["to_step"] == "delivered"].iloc[0]  # waits 24, 12, 6 h
    assert (delivered["transitions"], delivered["orders"], delivered["p90_wait_hours"]) == (3, 3, 21.6)
    page.session_state["proc_tab"] = "Bottlenecks"
    page.run()
    (waits,) = (d.value for d in page.dataframe)
    assert waits.iloc[0]["value"] == "STORE-0042" and waits.iloc[0]["p90_wait_hours"] == 24.0
    page.session_state["proc_tab"] = "Deviating orders"
    page.run()
    (deviating,) = (d.value for d in page.dataframe)
    assert deviating["order_id"].to_list() == ["O-C"]
    assert deviating["deviation"].to_list() == ["rerouted after routed, expected picked"]
    captions = [c.value for c in page.caption]
    listed = "Orders that left the expected sequence, oldest first: all 1. Select one to open its timeline."
    assert listed in captions


def test_selecting_a_variant_lists_its_orders_and_an_edge_its_orders(page: AppTest, ingest: Any) -> None:
    ingest(jsonl(*EVENTS))
    page.run()
    page.session_state["proc_variants"] = {"selection": {"rows": [0], "columns": []}}
    page.run()
    assert not page.exception
    frames = {d.key: d.value for d in page.dataframe if d.key}
    assert frames["proc_variant_orders"]["order_id"].to_list() == ["O-A", "O-B"]  # longest first: 32 h, 22 h
    captions = [c.value for c in page.caption]
    assert "Orders of this variant, longest first: all 2. Select one to open its timeline." in captions
    page.session_state["proc_tab"] = "Directly-follows graph"
    page.run()
    edges = page.dataframe[0].value
    row = int(edges.index[(edges["from_step"] == "shipped") & (edges["to_step"] == "delivered")][0])
    page.session_state["proc_edges"] = {"selection": {"rows": [row], "columns": []}}
    page.run()
    assert not page.exception
    frames = {d.key: d.value for d in page.dataframe if d.key}
    assert frames["proc_edge_orders"]["order_id"].to_list() == ["O-A", "O-B", "O-C"]  # waits 24, 12, 6 h


def test_an_imported_ocel_log_is_looked_at_over_its_own_time_span(page: AppTest, ingest: Any) -> None:
    ingest(jsonl(*({**e, "source": "ocel/mini"} for e in EVENTS)))
    page.session_state["filters_current"] = Filters()  # the last 7 days: nothing of the log
    page.run()
    assert [i.value for i in page.info] == ["No data yet for this window."]
    page.selectbox(key="proc_log").select("ocel/mini").run()
    assert not page.exception
    assert metrics(page)["Orders"] == "6"  # O-OLD too: the log's span starts with it


def test_the_app_lists_the_process_page(streamlit_script: Any, database_url: str) -> None:
    at: AppTest = streamlit_script(ENTRY, database_url)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Process"
