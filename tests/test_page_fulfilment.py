"""The Fulfilment & SLA page (pages/fulfilment.py), run by AppTest on empty and seeded databases.

The page shows the 7 days before now. T is the start of the current minute less one
minute; every order is created in the days before T (hand-worked, "d" days, "h" hours):

    order  channel      routing (current node last)                 promised  at T
    A-1    web          STORE-0042                                  T-2d      delivered T-1d: 24 h late
    A-2    web          DC-EAST                                     T+10h     open, due in 10 h: at risk
    A-3    store        STORE-0042 -> DC-EAST (stockout)            T-36h     open, 36 h late: breached
                                   -> STORE-0042 (capacity)
    A-4    marketplace  DC-EAST                                     T+3d      open: on track
    A-5    web          STORE-0042 -> DC-EAST (stockout)            T+2d      open: on track

    orders 5, breached 2 (A-1, A-3): on time 3 of 5 = 60.0 %; at risk 1 (A-2).
    rerouted 2 of 5 orders (A-3, A-5) = 40.0 %; repeatedly (2 or more) 1 (A-3).
    by channel: web 1 breached of 3 (A-1), store 1 of 1 (A-3), marketplace 0 of 1.
    by node: STORE-0042 2 of 2 (A-1, A-3), DC-EAST 0 of 3.
    by reason: stockout 2 orders (A-3, A-5), capacity 1 (A-3).
    by node rerouted from: STORE-0042 2 (A-3, A-5), DC-EAST 1 (A-3).

A bar click is injected as the chart's selection (STACK-NOTES: AppTest has no plotly).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.ui.filters import Filters
from tests.builders import DC, SKU, STORE, event, jsonl

REPO = Path(__file__).resolve().parents[1]
ENTRY = str(REPO / "app" / "streamlit_app.py")
PAGE = str(REPO / "pages" / "fulfilment.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"
EMPTY = "No data yet for this window."


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


T = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def created(order: str, at: datetime, promised_by: datetime, channel: str = "web") -> dict[str, Any]:
    data = {"order_id": order, "channel": channel, "promised_by": iso(promised_by),
            "lines": [{"sku": SKU, "qty": 1}]}  # fmt: skip
    return event("retail.order.created", data, id=f"{order}-created", time=iso(at), subject=order)


def step(type_: str, order: str, at: datetime, n: int = 1, **data: Any) -> dict[str, Any]:
    return event(f"retail.order.{type_}", {"order_id": order, **data}, id=f"{order}-{type_}-{n}",
                 time=iso(at), subject=order)  # fmt: skip


def orders_of_the_week() -> list[dict[str, Any]]:
    return [
        created("A-1", T - 3 * DAY, T - 2 * DAY),
        step("routed", "A-1", T - 3 * DAY + HOUR, node_id=STORE),
        step("delivered", "A-1", T - DAY),
        created("A-2", T - 2 * DAY, T + 10 * HOUR),
        step("routed", "A-2", T - 2 * DAY + HOUR, node_id=DC),
        created("A-3", T - 2 * DAY, T - 36 * HOUR, channel="store"),
        step("routed", "A-3", T - 2 * DAY + HOUR, node_id=STORE),
        step("rerouted", "A-3", T - 2 * DAY + 2 * HOUR, 1, from_node=STORE, to_node=DC, reason="stockout"),
        step("rerouted", "A-3", T - 2 * DAY + 3 * HOUR, 2, from_node=DC, to_node=STORE, reason="capacity"),
        created("A-4", T - DAY, T + 3 * DAY, channel="marketplace"),
        step("routed", "A-4", T - DAY + HOUR, node_id=DC),
        created("A-5", T - DAY, T + 2 * DAY),
        step("routed", "A-5", T - DAY + HOUR, node_id=STORE),
        step("rerouted", "A-5", T - DAY + 2 * HOUR, from_node=STORE, to_node=DC, reason="stockout"),
    ]


@pytest.fixture
def seeded(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    events = orders_of_the_week()
    assert ingest(jsonl(*events)).accepted == len(events)
    return engine


@pytest.fixture
def page_on(streamlit_script):
    """The page alone on a database URL, with query parameters (conftest.streamlit_script)."""
    return lambda url, **query: streamlit_script(PAGE, url, **query)


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def click_bar(at: AppTest, chart: str, key: str) -> AppTest:
    """What a click on the bar of `key` in chart `chart` sends back to the page."""
    point = {"curve_number": 0, "point_number": 0, "point_index": 0, "customdata": key}
    at.session_state[chart] = {"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}}
    return at.run()


def listed(at: AppTest) -> tuple[str, list[str]]:
    """The list's count line and its orders (read from their links)."""
    [table] = at.dataframe
    count = next(m.value for m in at.markdown if re.match(r"\*\*[\d,]+ orders?\*\*", m.value))
    return count, [link.split("key=")[1].split("&")[0] for link in table.value["link"]]


def test_an_empty_database_says_there_is_no_data_yet(page_on, database_url):
    at = page_on(database_url).run()

    assert not at.exception
    assert not at.error
    assert [i.value for i in at.info] == [EMPTY]
    assert tiles(at)["On-time"] == "—"
    assert (tiles(at)["Orders"], tiles(at)["Breached"], tiles(at)["Reroute rate"]) == ("0", "0", "0.0%")
    assert not at.dataframe


def test_the_headline_figures_are_the_ones_worked_out_by_hand(page_on, database_url, seeded):
    at = page_on(database_url).run()

    assert not at.exception
    assert tiles(at) == {
        "On-time": "60.0%",
        "Breached": "2",
        "At risk": "1",
        "Orders": "5",
        "Reroute rate": "40.0%",
        "Repeated reroutes": "1",
    }
    assert not at.dataframe  # no list until a bar or a button asks for one
    buttons = [b.label for b in at.button if b.key.startswith("ful_show_")]
    assert buttons == [
        "Breached orders (2)",
        "At-risk orders (1)",
        "Rerouted orders (2)",
        "Repeatedly rerouted orders (1)",
    ]


def test_clicking_the_web_bar_lists_the_one_breached_web_order(page_on, database_url, seeded):
    at = page_on(database_url).run()

    click_bar(at, "ful_channel_chart", "web")

    assert not at.exception
    assert at.subheader[0].value == "Breached orders · channel web"
    assert listed(at) == ("**1 order**", ["A-1"])
    assert at.dataframe[0].proto.placeholder == "—"  # an empty cell shows a dash, not "None"
    row = at.dataframe[0].value.iloc[0]
    assert (row["channel"], row["node"], row["status"]) == ("web", STORE, "delivered")
    assert row["late_hours"] == 24.0  # promised T-2d, delivered T-1d
    assert (at.query_params["ful_list"], at.query_params["ful_channel"]) == ("breached", "web")


def test_a_node_bar_lists_as_many_orders_as_it_counts_latest_past_the_promise_first(
    page_on, database_url, seeded
):
    at = page_on(database_url).run()

    click_bar(at, "ful_node_chart", STORE)

    assert not at.exception
    assert listed(at) == ("**2 orders**", ["A-3", "A-1"])  # 36 h late, then 24 h late


def test_a_reason_bar_lists_the_orders_rerouted_for_it_with_their_paths(page_on, database_url, seeded):
    at = page_on(database_url).run()

    click_bar(at, "ful_reason_chart", "stockout")

    assert not at.exception
    assert at.subheader[0].value == "Rerouted orders · reason stockout"
    assert listed(at) == ("**2 orders**", ["A-3", "A-5"])  # most reroutes first
    assert at.dataframe[0].value["reroute_path"].tolist() == [
        f"{STORE} → {DC} (stockout), {DC} → {STORE} (capacity)",
        f"{STORE} → {DC} (stockout)",
    ]


def test_the_newest_click_decides_the_list_and_clearing_it_closes_the_list(page_on, database_url, seeded):
    at = page_on(database_url).run()
    click_bar(at, "ful_channel_chart", "store")
    assert listed(at) == ("**1 order**", ["A-3"])

    click_bar(at, "ful_from_node_chart", DC)  # the channel bar stays selected
    assert listed(at) == ("**1 order**", ["A-3"])
    assert at.subheader[0].value == "Rerouted orders · rerouted from DC-EAST"

    at.session_state["ful_from_node_chart"] = {"selection": {"points": [], "point_indices": [], "box": [],
                                                             "lasso": []}}  # fmt: skip
    at.run()
    assert not at.dataframe
    assert "ful_list" not in at.query_params


def test_the_list_buttons_open_breached_and_at_risk_without_a_chart(page_on, database_url, seeded):
    at = page_on(database_url).run()

    at.button(key="ful_show_breached").click().run()
    assert listed(at) == ("**2 orders**", ["A-3", "A-1"])  # as many as the Breached tile says

    at.button(key="ful_show_at_risk").click().run()
    assert listed(at) == ("**1 order**", ["A-2"])
    [late] = at.dataframe[0].value["late_hours"].tolist()
    since_t = (datetime.now(UTC) - T).total_seconds() / 3600  # the page's as-of is now, after T
    assert -10.0 < late <= -10.0 + since_t  # due 10 h after T


def test_a_link_from_the_overview_opens_the_at_risk_list_directly(page_on, database_url, seeded):
    at = page_on(database_url, ful_list="at_risk").run()

    assert not at.exception
    assert at.subheader[0].value == "At-risk orders"
    assert listed(at) == ("**1 order**", ["A-2"])


def test_a_link_can_narrow_the_breached_list_to_a_channel(page_on, database_url, seeded):
    at = page_on(database_url, ful_list="breached", ful_channel="store").run()

    assert listed(at) == ("**1 order**", ["A-3"])


def test_selecting_an_order_opens_its_detail_page(streamlit_script, database_url, seeded):
    at = streamlit_script(ENTRY, database_url, ful_list="breached", ful_channel="web")
    at.run()
    at.switch_page(PAGE).run()
    assert listed(at) == ("**1 order**", ["A-1"])

    at.session_state["ful_rows:breached:channel:web"] = {"selection": {"rows": [0], "columns": []}}
    at.run()

    assert not at.exception
    assert (at.query_params["kind"], at.query_params["key"]) == ("order", "A-1")
    assert "Fulfilment & SLA" not in [t.value for t in at.title]  # the detail page now


def test_the_channel_filter_narrows_the_figures_and_the_lists_alike(page_on, database_url, seeded):
    at = page_on(database_url)
    at.session_state["filters_current"] = Filters(channel="store")
    at.run()

    assert (tiles(at)["Orders"], tiles(at)["Breached"], tiles(at)["Reroute rate"]) == ("1", "1", "100.0%")
    at.button(key="ful_show_breached").click().run()
    assert listed(at) == ("**1 order**", ["A-3"])


def test_a_list_longer_than_500_orders_shows_the_first_500_and_counts_them_all(
    page_on, database_url, engine, ingest
):
    late = [created(f"L-{i:03d}", T - 3 * DAY, T - 2 * DAY - i * timedelta(minutes=1)) for i in range(501)]
    assert ingest(jsonl(*late)).accepted == 501
    at = page_on(database_url, ful_list="breached").run()

    count, shown = listed(at)
    assert count == "**501 orders** · the first 500 shown; narrow the filters to see the others"
    assert (len(shown), shown[0], shown[-1]) == (500, "L-500", "L-001")  # the latest past the promise first


def test_an_unreachable_database_is_explained_not_raised(page_on):
    at = page_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = at.error
    assert "database is unreachable" in error.value
