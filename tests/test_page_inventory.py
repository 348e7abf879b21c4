"""The Inventory page (pages/inventory.py), run by AppTest on empty and seeded databases.

A picture at now. T is the start of the current minute less one minute; counts are taken
an hour before T unless said (reference erp; tolerance max(2 units, 5 % of |erp|); stale
after 6 h):

    position               erp             other            diff  tolerance  out?
    SKU-00017@DC-EAST      100             wms 94           -6    5          yes
    SKU-00017@DC-EAST      100             oms 103          +3    5          no
    SKU-00099@DC-EAST      10              wms 13           +3    2          yes
    SKU-00017@STORE-0042   5 (T-10h)       pos -2           -7    2          yes
    SKU-00099@STORE-0042   -               pos 4 (T-8h)     no pair

    pairs 4, out of tolerance 3, units off 6 + 3 + 7 = 16, value off (SKU-00017 at 4.50,
    SKU-00099 unknown: 0) 6 x 4.5 + 7 x 4.5 = 58.50; negative 1 (pos SKU-00017 at the
    store); stale 2 (erp SKU-00017 and pos SKU-00099 at the store).
    by location: DC-EAST 2 of 3, STORE-0042 1 of 1; by system: wms 2 of 2, pos 1 of 1,
    oms 0 of 1; by category: toys 2 of 3, unknown 1 of 1.
"""

from __future__ import annotations

import itertools
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
PAGE = str(REPO / "pages" / "inventory.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"
EMPTY = "No data yet for this window."
SKU2 = "SKU-00099"
T = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
_ids = itertools.count(1)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def snapshot(system: str, location: str, sku: str, on_hand: int, hours_before: float = 1) -> dict[str, Any]:
    data = {"system": system, "location_id": location, "sku": sku, "on_hand": on_hand}
    return event("retail.inventory.snapshot", data, id=f"snap-{next(_ids)}", source=system,
                 time=iso(T - timedelta(hours=hours_before)), subject=sku)  # fmt: skip


def stock_of_today() -> list[dict[str, Any]]:
    return [
        event(
            "retail.product.upserted",
            {"sku": SKU, "unit_cost": 4.5, "category": "toys"},
            id="prod-1",
            source="erp",
            time=iso(T - timedelta(days=2)),
            subject=SKU,
        ),  # fmt: skip
        snapshot("erp", DC, SKU, 100),
        snapshot("wms", DC, SKU, 94),
        snapshot("oms", DC, SKU, 103),
        snapshot("erp", DC, SKU2, 10),
        snapshot("wms", DC, SKU2, 13),
        snapshot("erp", STORE, SKU, 5, hours_before=10),
        snapshot("pos", STORE, SKU, -2),
        snapshot("pos", STORE, SKU2, 4, hours_before=8),
    ]


@pytest.fixture
def seeded(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    events = stock_of_today()
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


def listed(at: AppTest, *columns: str) -> tuple[str, list[tuple[Any, ...]]]:
    """The list's count line and its rows: the position (read from its link) and `columns`."""
    [table] = at.dataframe
    count = next(m.value for m in at.markdown if re.match(r"\*\*[\d,]+ (pair|position)s?\*\*", m.value))
    keys = [link.split("key=")[1].split("&")[0] for link in table.value["link"]]
    others = [table.value[c].tolist() for c in columns]
    return count, list(zip(keys, *others, strict=True))


def test_an_empty_database_says_there_is_no_data_yet(page_on, database_url):
    at = page_on(database_url).run()

    assert not at.exception
    assert not at.error
    assert [i.value for i in at.info] == [EMPTY]
    assert (tiles(at)["Pairs compared"], tiles(at)["Negative positions"]) == ("0", "0")
    assert not at.dataframe


def test_the_headline_figures_are_the_ones_worked_out_by_hand(page_on, database_url, seeded):
    at = page_on(database_url).run()

    assert not at.exception
    assert tiles(at) == {
        "Pairs compared": "4",
        "Out of tolerance": "3",
        "Units off": "16",
        "Value off": "58.50",
        "Negative positions": "1",
        "Stale positions": "2",
    }
    assert not at.dataframe


def test_clicking_a_location_lists_its_pairs_out_of_tolerance(page_on, database_url, seeded):
    at = page_on(database_url).run()

    click_bar(at, "inv_location_chart", DC)

    assert not at.exception
    assert at.subheader[0].value == "Pairs out of tolerance · location DC-EAST"
    assert listed(at, "system", "reference_quantity", "quantity", "diff") == (
        "**2 pairs**",
        [(f"{SKU}@{DC}", "wms", 100, 94, -6), (f"{SKU2}@{DC}", "wms", 10, 13, 3)],
    )
    assert (at.query_params["inv_list"], at.query_params["inv_location"]) == ("out_of_tolerance", DC)


def test_the_unknown_category_bar_lists_the_sku_without_a_product_record(page_on, database_url, seeded):
    at = page_on(database_url).run()

    click_bar(at, "inv_category_chart", "")

    assert at.subheader[0].value == "Pairs out of tolerance · category (unknown)"
    assert listed(at, "value") == ("**1 pair**", [(f"{SKU2}@{DC}", 0.0)])


def test_a_system_bar_counts_what_it_lists(page_on, database_url, seeded):
    at = page_on(database_url).run()

    click_bar(at, "inv_system_chart", "pos")

    assert listed(at, "system", "diff", "value") == ("**1 pair**", [(f"{SKU}@{STORE}", "pos", -7, 31.5)])


def test_the_buttons_list_the_negative_and_the_stale_positions(page_on, database_url, seeded):
    at = page_on(database_url).run()

    at.button(key="inv_show_negative").click().run()
    assert listed(at, "system", "quantity", "reference_quantity") == (
        "**1 position**",
        [(f"{SKU}@{STORE}", "pos", -2, 5)],
    )

    at.button(key="inv_show_stale").click().run()
    count, rows = listed(at, "system")
    assert (count, rows) == ("**2 positions**", [(f"{SKU}@{STORE}", "erp"), (f"{SKU2}@{STORE}", "pos")])
    ages = at.dataframe[0].value["age_hours"].tolist()
    since_t = (datetime.now(UTC) - T).total_seconds() / 3600  # the page's as-of is now, after T
    assert 10.0 < ages[0] <= 10.0 + since_t and 8.0 < ages[1] <= 8.0 + since_t  # counted 10 h, 8 h before T


def test_a_link_opens_the_stale_list_directly(page_on, database_url, seeded):
    at = page_on(database_url, inv_list="stale").run()

    assert at.subheader[0].value == "Stale positions"
    assert listed(at)[0] == "**2 positions**"


def test_selecting_a_position_opens_its_detail_page(streamlit_script, database_url, seeded):
    at = streamlit_script(ENTRY, database_url, inv_list="negative")
    at.run()
    at.switch_page(PAGE).run()
    assert listed(at)[0] == "**1 position**"

    at.session_state["inv_rows:negative::"] = {"selection": {"rows": [0], "columns": []}}
    at.run()

    assert not at.exception
    assert (at.query_params["kind"], at.query_params["key"]) == ("position", f"{SKU}@{STORE}")


def test_the_node_filter_narrows_the_figures_and_the_lists_alike(page_on, database_url, seeded):
    at = page_on(database_url)
    at.session_state["filters_current"] = Filters(node=DC)
    at.run()

    shown = tiles(at)
    assert (shown["Pairs compared"], shown["Out of tolerance"], shown["Negative positions"]) == (
        "3",
        "2",
        "0",
    )
    at.button(key="inv_show_out_of_tolerance").click().run()
    assert listed(at)[1] == [(f"{SKU}@{DC}",), (f"{SKU2}@{DC}",)]


def test_an_unreachable_database_is_explained_not_raised(page_on):
    at = page_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = at.error
    assert "database is unreachable" in error.value


def test_an_as_of_before_the_latest_counts_is_replayed_from_history_and_says_so(
    page_on, database_url, seeded
):
    # two hours before T only the erp count at the store (T-10h, 8 h old: stale) and the pos
    # count of SKU-00099 there (T-8h, 6 h old: not stale, stale is strict) were taken: no pair
    at = page_on(database_url)
    at.session_state["filters_current"] = Filters(as_of=T - timedelta(hours=2))
    at.run()

    assert not at.exception
    shown = tiles(at)
    assert (shown["Pairs compared"], shown["Negative positions"], shown["Stale positions"]) == ("0", "0", "1")
    assert any(c.value.startswith("Replayed from history:") for c in at.caption)


def test_the_live_picture_is_read_from_the_projections_without_a_replay_note(page_on, database_url, seeded):
    at = page_on(database_url).run()

    assert tiles(at)["Pairs compared"] == "4"
    assert not any(c.value.startswith("Replayed from history:") for c in at.caption)


def transfer(transfer_id: str, qty: int, hours_before: float) -> dict[str, Any]:
    data = {"transfer_id": transfer_id, "from_location": DC, "to_location": STORE, "sku": SKU, "qty": qty}
    return event("retail.transfer.requested", data, id=f"tr-{transfer_id}", source="erp",
                 time=iso(T - timedelta(hours=hours_before)), subject=transfer_id)  # fmt: skip


def test_open_transfer_recommendations_are_listed_on_request_and_offer_a_decision(
    page_on, database_url, seeded, ingest
):
    # TR-1 and TR-2 recommended; an ASN names TR-2 (it shipped), so only TR-1 waits for a decision
    asn = event("retail.shipment.asn", {"shipment_id": "SHP-9", "to_location": STORE, "transfer_id": "TR-2",
                "expected_at": iso(T + timedelta(days=1)), "lines": [{"sku": SKU, "qty": 3}]},
                id="asn-9", source="wms", time=iso(T - timedelta(hours=2)))  # fmt: skip
    assert ingest(jsonl(transfer("TR-1", 5, 4), transfer("TR-2", 3, 3), asn)).accepted == 3
    at = page_on(database_url).run()
    assert not at.dataframe  # nothing read until asked for

    at.toggle(key="inv_transfers").set_value(True).run()
    [table] = at.dataframe
    assert table.value[["transfer_id", "from_location", "to_location", "sku", "qty"]].values.tolist() == [
        ["TR-1", DC, STORE, SKU, 5]
    ]
    assert "act_inv_transfer_button" not in {b.key for b in at.button}

    at.session_state["inv_transfer_table"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception
    assert "act_inv_transfer_button" in {b.key for b in at.button}


def test_a_large_value_off_fits_its_tile_in_whole_units_or_millions():
    """Six tiles a row at 1600 px show about 7 characters: "130,60…" was cut before."""
    from app.ui.drill import tile_amount

    shown = [tile_amount(v) for v in (58.5, 9_999.994, 130_604.27, 3_679_012.34, -2_500_000)]
    assert shown == ["58.50", "9,999.99", "130,604", "3.68 M", "-2.50 M"]
