"""Every main page in a real browser at 1920 x 1080, with seeded data: it opens without an
error and shows its figures; each is photographed for the README (docs/screenshots/ with
CTOWER_UPDATE_SCREENSHOTS=1, else tests/artifacts/).

The store of tests/browser_support.py (a generated week and the late order ORD-000123),
the detectors run, an incident about the order and a count correction waiting for a second
manager. Signed in as `manager2` (the one who may approve it), moving in-app from page to
page as a person does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests import browser_support as bs

pytest.importorskip("playwright", reason="needs playwright: pip install playwright")
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, bs.needs_browser]


@pytest.fixture(scope="module")
def seeded(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str], int]]:
    """The database (URL), the demo accounts' passwords and the incident's id."""
    from app.db.engine import get_engine

    url = bs.module_database(request)
    engine = get_engine(url)
    bs.seed_store(engine)
    bs.run_detectors(engine)
    accounts = bs.demo_accounts(engine, now=bs.DETECTED)
    incident, _ = bs.seed_reviews(engine)
    engine.dispose()
    yield url, accounts, incident


@pytest.fixture(scope="module")
def signed_in(
    seeded: tuple[str, dict[str, str], int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Page, str]]:
    """One browser page, signed in as manager2, on the module's app server."""
    with bs.streamlit_server(seeded[0], tmp_path_factory.mktemp("app")) as url, bs.chromium() as browser:
        page = browser.new_page(viewport=bs.FULL_HD)
        bs.sign_in(page, url, "manager2", seeded[1]["manager2"])
        yield page, url


def _select_first_row(page: Page) -> None:
    page.mouse.click(*bs.grid_row_point(page.get_by_test_id("stDataFrame").first, 0))
    bs.settle(page)


# page (url path), its query, the screenshot's name, what it must show, a last move
PAGES: list[tuple[str, dict[str, str], str, list[str], Callable[[Page], None] | None]] = [
    ("", {}, "overview", ["SLA on-time", "70.0%", "Open exceptions"], None),
    ("fulfilment", {}, "fulfilment", ["Breached", "Breach rate by channel"], None),
    ("inventory", {}, "inventory", ["Inventory"], None),
    ("integrations", {}, "integrations", ["Integrations"], None),
    ("exceptions", {}, "exceptions", ["Critical", "sla_breach"], _select_first_row),
    (
        "entity",
        {"kind": "order", "key": bs.LATE_ORDER},
        "entity-order",
        [f"Order {bs.LATE_ORDER}", "Breached"],
        None,
    ),
    ("process", {}, "process", ["Process"], None),
    ("incidents", {"inc_id": "1"}, "incidents", [f"{bs.LATE_ORDER} a week late", "Orders affected"], None),
    ("approvals", {}, "approvals", ["adjust", bs.POSITION], None),
    # four accounts made, the incident opened, the correction requested: six rows, chained
    (
        "audit",
        {},
        "audit",
        ["Chain intact: 6 rows", "6 rows from 2026-11-17 12:00 to 2026-11-24 12:00"],
        None,
    ),
]


@pytest.mark.parametrize(("path", "query", "name", "shown", "then"), PAGES, ids=[p[2] for p in PAGES])
def test_each_main_page_opens_with_its_figures_and_no_error(
    signed_in: tuple[Page, str],
    path: str,
    query: dict[str, str],
    name: str,
    shown: list[str],
    then: Callable[[Page], None] | None,
) -> None:
    page, url = signed_in
    bs.follow_in_app(page, url, path, **query)
    if then is not None:
        then(page)
    bs.snap(page, name)  # first: a failure leaves its picture
    for text in shown:
        expect(page.get_by_text(text).first).to_be_attached()
    bs.no_error_on(page)
