"""The main journeys in a real browser: headless Chromium on `streamlit run`, against a
store seeded with a week of generated events and the late order ORD-000123
(tests/browser_support.py), the detectors run once, and the demo accounts made.

One app server for the module; each test opens its own page (its own Streamlit session).
Screenshots go to tests/artifacts/, or to docs/screenshots/ with CTOWER_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests import browser_support as bs

pytest.importorskip("playwright", reason="needs playwright: pip install playwright")
from playwright.sync_api import Browser, expect

pytestmark = [pytest.mark.browser, bs.needs_browser]


@pytest.fixture(scope="module")
def seeded(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """The module's database (URL) and the demo accounts' passwords."""
    from app.db.engine import get_engine

    url = bs.module_database(request)
    engine = get_engine(url)
    bs.seed_store(engine)
    bs.run_detectors(engine)
    accounts = bs.demo_accounts(engine)
    engine.dispose()
    yield url, accounts


@pytest.fixture(scope="module")
def app_url(seeded: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with bs.streamlit_server(seeded[0], tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with bs.chromium() as b:
        yield b


def test_the_lead_drills_from_the_sla_tile_to_a_late_orders_timeline_in_two_clicks(
    app_url: str, browser: Browser
) -> None:
    page = browser.new_page(viewport=bs.TALL)
    clicks = bs.Clicks(page)
    page.goto(bs.page_url(app_url))
    bs.settle(page)
    sla = page.get_by_test_id("stVerticalBlock").filter(has=page.get_by_text("SLA on-time", exact=True)).last
    expect(sla).to_contain_text("Red")
    bs.snap(page, "drill-1-overview")

    clicks.on(sla.get_by_role("link", name="Open Fulfilment"), "the SLA tile's link")
    page.wait_for_url("**/fulfilment?**")
    bs.settle(page)
    assert parse_qs(urlparse(page.url).query)["ful_list"] == ["breached"]
    expect(page.get_by_role("heading", name="Breached orders")).to_be_visible()
    orders = page.get_by_test_id("stDataFrame").last
    # latest first: ORD-000123, promised 2026-11-18 00:00 and not delivered, 156 h late at the as-of
    assert "key=ORD-000123&" in bs.grid_cell(orders, 1, 0)
    assert bs.grid_cell(orders, 8, 0) == "156"
    assert bs.grid_cell(orders, 7, 0) == "shipped"
    bs.snap(page, "drill-2-fulfilment-breached")

    clicks.at(*bs.grid_row_point(orders, 0), "the late order's row")
    page.wait_for_url("**/entity?**")
    bs.settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert (query["kind"], query["key"], query["as_of"]) == (
        ["order"],
        ["ORD-000123"],
        ["2026-11-24T12:00:00Z"],
    )
    expect(page.get_by_role("heading", name="Order ORD-000123")).to_be_visible()
    # the order's facts: promised 2026-11-18 00:00 UTC, at DC-EAST after one reroute, six events
    for label, value in (
        ("Breached", "Yes"),
        ("Status", "shipped"),
        ("Current node", "DC-EAST"),
        ("Promised by", "2026-11-18 00:00"),
        ("Reroutes", "1"),
        ("Events", "6"),
    ):
        fact = page.get_by_test_id("stMarkdownContainer").filter(has=page.get_by_text(label, exact=True))
        expect(fact).to_have_text(re.compile(rf"^\s*{label}\s*{value}\s*$"))
    events = page.get_by_test_id("stDataFrame").first
    assert bs.grid_column(events, 3) == [t.removeprefix("retail.") for t in bs.LATE_TYPES]  # Type
    bs.no_error_on(page)
    bs.snap(page, "drill-3-order-timeline")
    assert clicks.count == 2 <= 4, clicks.made


def test_a_manager_opens_an_incident_from_a_breach_and_exports_its_report(
    app_url: str, browser: Browser, seeded: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    page = browser.new_page(viewport=bs.TALL, accept_downloads=True)
    bs.sign_in(page, app_url, "manager", seeded[1]["manager"], next_page="exceptions")
    expect(page.get_by_role("heading", name="Exceptions")).to_be_visible()
    queue = page.get_by_test_id("stDataFrame").first
    row = bs.grid_column(queue, 4).index(bs.LATE_ORDER)  # the queue's Entity column
    page.mouse.click(*bs.grid_row_point(queue, row))
    bs.settle(page)
    expect(page.get_by_role("heading", name=f"sla_breach · {bs.LATE_ORDER}")).to_be_visible()
    key = f"sla_breach:{bs.LATE_ORDER}"
    expect(page.get_by_text(key, exact=True)).to_be_visible()

    page.get_by_role("link", name="Open an incident").click()  # in the exception's detail
    page.wait_for_url("**/incidents?**")
    bs.settle(page)
    assert parse_qs(urlparse(page.url).query)["inc_from_exception"] == [key]
    expect(page.get_by_text(f"From exception {key}")).to_be_visible()
    # the exception was seen at 2026-11-24 11:30 (the detectors' run); the order lived from
    # 2026-11-17 12:10 (created): the range covers both, an hour either side
    expect(page.get_by_role("textbox", name="Title")).to_have_value(f"sla_breach on order {bs.LATE_ORDER}")
    expect(page.get_by_role("textbox", name="Entities, one a line as KIND:KEY")).to_have_value(
        f"order:{bs.LATE_ORDER}"
    )
    page.get_by_role("button", name="Open incident").click()
    heading = page.get_by_role(
        "heading", name=re.compile(rf"^Incident \d+ · sla_breach on order {bs.LATE_ORDER}$")
    )
    expect(heading).to_be_visible(timeout=bs.RENDER_MS)
    bs.settle(page)
    expect(page.get_by_text("range 2026-11-17 11:10 to 2026-11-24 12:30 (UTC)")).to_be_visible()

    def tile(label: str) -> str:
        return (
            page.get_by_test_id("stMetric")
            .filter(has_text=label)
            .get_by_test_id("stMetricValue")
            .inner_text()
        )

    # one order, breached, 2 × 45.00 + 1 × 30.50 = 120.50; its one exception
    assert (tile("Orders affected"), tile("Orders breached"), tile("Order value")) == ("1", "1", "120.50")
    assert tile("Exceptions") == "1"
    bs.no_error_on(page)
    bs.snap(page, "incident-from-exception")

    with page.expect_download() as html_download:
        page.get_by_role("button", name="Printable report (HTML)").click()
    report = tmp_path / html_download.value.suggested_filename
    html_download.value.save_as(report)
    assert re.fullmatch(r"incident-\d+\.html", report.name)
    text = report.read_text()
    for said in (
        bs.LATE_ORDER,
        "<td>Orders affected</td><td>1</td>",
        "<td>Orders breached</td><td>1</td>",
        "<td>Order value</td><td>120.50</td>",
        f"<td>Units ordered</td><td>{bs.LATE_UNITS}</td>",
    ):
        assert said in text, said
    assert "<script" not in text.lower()
    with page.expect_download() as md_download:
        page.get_by_role("button", name="Markdown").click()
    markdown = md_download.value.path().read_text()
    assert "| Orders affected | 1 |" in markdown and "| Order value | 120.50 |" in markdown, markdown[:2000]
    assert f"| Units ordered | {bs.LATE_UNITS} |" in markdown
    assert bs.LATE_ORDER in markdown
