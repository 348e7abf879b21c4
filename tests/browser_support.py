"""What the real-browser tests share: a seeded store, `streamlit run` on a free port,
headless Chromium, and the small moves a person makes on a Streamlit page.

Each browser test module starts ONE app server on a database of its own (module-scoped
fixtures built from `module_database`, `streamlit_server` and `chromium`) and opens a
fresh page (a fresh Streamlit session) per test. The clock is pinned by the URL: every page
is opened with `?as_of=AS_OF`, and the seeded events sit in the 7 days before it.

The tests skip, never fail, when Debian's chromium or the playwright package is missing.

A new module (see tests/test_browser_journeys.py) needs three module fixtures:

    seeded:  url = module_database(request); seed_store(engine); run_detectors(engine);
             accounts = demo_accounts(engine)        # viewer, manager, manager2, admin
    app_url: with streamlit_server(url, tmp_path_factory.mktemp("app")) as base: yield base
    browser: with chromium() as b: yield b

then per test: `page = browser.new_page(viewport=TALL)`, `sign_in(page, base, "manager",
accounts["manager"], next_page="exceptions")`, in-app moves (`follow_in_app`, clicks,
`grid_row_point` for a table row), `settle(page)` after each, `no_error_on(page)`,
`snap(page, name)`. A second person (the four-eyes approver) is a second
`browser.new_page()` signed in as manager2: its own Streamlit session.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import Engine

from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from tests import builders

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 30
RENDER_MS = 30_000  # a page's first render on a busy two-core machine
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
TALL: ViewportSize = {"width": 1600, "height": 1800}  # Streamlit scrolls an inner container: see it all

# The pinned clock: pages are opened as of AS_OF with the default 7-day window.
AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SINCE = AS_OF - timedelta(days=7)
AS_OF_QUERY = {"as_of": "2026-11-24T12:00:00Z"}
# The detectors last ran half an hour before it (the queue lists exceptions first seen
# before the window's end, and a window ends at its as-of).
DETECTED = AS_OF - timedelta(minutes=30)

# The late order of the story: ORD-000123 (the named character of tests/builders.py),
# promised for the evening of the day it was made, rerouted from STORE-0042 to DC-EAST
# after a stockout, shipped and never delivered: at AS_OF it is 6 d 12 h past its promise,
# later than any order of the generated background can be (created in the window, promised
# 24 h or more after), so it heads the breached list (latest first).
LATE_ORDER = builders.ORDER
LATE_CREATED = SINCE + timedelta(minutes=10)
LATE_PROMISED = SINCE + timedelta(hours=12)
LATE_HOURS = (AS_OF - LATE_PROMISED).total_seconds() / 3600  # 156.0
LATE_TYPES = (
    "retail.order.created",
    "retail.order.routed",
    "retail.order.rerouted",
    "retail.order.picked",
    "retail.order.packed",
    "retail.order.shipped",
)
LATE_LINES = [
    {"sku": builders.SKU, "qty": 2, "unit_price": 45.0},
    {"sku": "SKU-00018", "qty": 1, "unit_price": 30.5},
]
LATE_VALUE = 2 * 45.0 + 30.5  # 120.50
LATE_UNITS = 3

# A position out of step: SKU-00017 (unit cost 12.50) at DC-EAST, 140 in the WMS, 44 in
# the ERP; a manager's count correction of -96 is worth 96 x 12.50 = 1,200.00, over the
# default approval threshold (1,000): it waits for a second manager.
POSITION = f"{builders.SKU}@{builders.DC}"
UNIT_COST = 12.5
ADJUST_DELTA = -96


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs playwright: pip install playwright"
    if not CHROMIUM.exists():
        return "needs Debian's chromium: apt-get install -y chromium"
    return None


needs_browser = pytest.mark.skipif(missing() is not None, reason=missing() or "")


def screenshot_path(name: str) -> Path:
    """Where a screenshot goes: docs/screenshots/ with CTOWER_UPDATE_SCREENSHOTS=1 (the
    README's pictures), else tests/artifacts/ (git-ignored, for a look after a run)."""
    if os.environ.get("CTOWER_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "screenshots"
    else:
        folder = REPO / "tests" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


# --- the seeded store -----------------------------------------------------------------------


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def late_order_events() -> list[dict[str, Any]]:
    """The canonical events of the story: SKU-00017's cost and counts at DC-EAST, then
    LATE_ORDER's life, oldest first."""
    t = LATE_CREATED
    o = LATE_ORDER

    def ev(type_: str, n: int, at: datetime, data: dict[str, Any], source: str = "oms") -> dict[str, Any]:
        return builders.event(type_, data, id=f"story-{o}-{n}", source=source, time=_iso(at), subject=o)

    stock = [
        builders.event(
            "retail.product.upserted",
            {"sku": builders.SKU, "unit_cost": UNIT_COST},
            id="story-product-1",
            source="erp",
            time=_iso(SINCE),
            subject=builders.SKU,
        ),
        builders.event(
            "retail.inventory.snapshot",
            {"system": "wms", "location_id": builders.DC, "sku": builders.SKU, "on_hand": 140},
            id="story-wms-1",
            source="wms/dc-east",
            time=_iso(AS_OF - timedelta(hours=2)),
            subject=POSITION,
        ),
        builders.event(
            "retail.inventory.snapshot",
            {"system": "erp", "location_id": builders.DC, "sku": builders.SKU, "on_hand": 44},
            id="story-erp-1",
            source="erp",
            time=_iso(AS_OF - timedelta(hours=2)),
            subject=POSITION,
        ),
    ]
    return stock + [
        ev(
            "retail.order.created",
            1,
            t,
            {
                "order_id": o,
                "channel": "web",
                "promised_by": _iso(LATE_PROMISED),
                "lines": LATE_LINES,
                "ship_to_region": "east",
            },
        ),
        ev("retail.order.routed", 2, t + timedelta(minutes=5), {"order_id": o, "node_id": builders.STORE}),
        ev(
            "retail.order.rerouted",
            3,
            t + timedelta(hours=3),
            {"order_id": o, "from_node": builders.STORE, "to_node": builders.DC, "reason": "stockout"},
        ),
        ev(
            "retail.order.picked",
            4,
            t + timedelta(hours=20),
            {"order_id": o, "node_id": builders.DC},
            "wms/dc-east",
        ),
        ev(
            "retail.order.packed",
            5,
            t + timedelta(hours=21),
            {"order_id": o, "node_id": builders.DC},
            "wms/dc-east",
        ),
        ev(
            "retail.order.shipped",
            6,
            t + timedelta(hours=26),
            {"order_id": o, "node_id": builders.DC, "shipment_id": "SHP-000000123", "carrier": "dhl"},
            "wms/dc-east",
        ),
    ]


def seed_store(engine: Engine, background: int = 3000) -> int:
    """The generated background (`background` events of simulator/generate.py spread over
    the window) and the late order's story. Returns the number of events stored."""
    from simulator.generate import generate_events

    events = [*generate_events(background, start=SINCE, days=7, stores=40, skus=300), *late_order_events()]
    payload = builders.jsonl(*events)
    counts = ingest_records(engine, read_records(io.BytesIO(payload)), RunInfo(origin="browser-seed.jsonl"))
    assert counts.quarantined == 0, counts
    return counts.accepted


def run_detectors(engine: Engine) -> dict[str, int]:
    """The detectors as of DETECTED over the 7 days before, with the stored policies."""
    from metrics import policies as stored_policies
    from metrics.exception_queue import run_detectors as run
    from metrics.params import Window

    with engine.connect() as conn:
        policies = stored_policies.load(conn)
    return run(engine, Window(DETECTED, DETECTED - timedelta(days=7), DETECTED), policies)


def demo_accounts(engine: Engine, now: datetime | None = None) -> dict[str, str]:
    """The demo accounts (viewer, manager, manager2, admin) with fresh passwords (their
    audit rows at `now`, default the wall clock)."""
    from app.auth.accounts import ensure_demo_users

    return ensure_demo_users(engine, now=now)


def seed_reviews(engine: Engine) -> tuple[int, int]:
    """What managers did in the window, audited in it: an incident about the late order
    (opened by `manager` at DETECTED + 5 min) and the count correction of POSITION waiting
    for a second manager (requested by `manager` at DETECTED + 10 min). Returns their ids
    (incident, action)."""
    from app.actions import core
    from app.auth.roles import Actor
    from app.incidents import records

    manager = Actor("manager", "manager")
    with engine.begin() as conn:
        incident = records.open_incident(
            conn,
            manager,
            title=f"{LATE_ORDER} a week late after a stockout reroute",
            range_from=SINCE,
            range_to=AS_OF,
            entities=[records.Entity.of("order", LATE_ORDER), records.Entity.of("position", POSITION)],
            exception_key=f"sla_breach:{LATE_ORDER}",
            at=DETECTED + timedelta(minutes=5),
        )
    action = core.request(
        engine,
        manager,
        "adjust",
        POSITION,
        {"delta": ADJUST_DELTA, "reason_code": "cycle_count", "system": "wms"},
        reason="cycle count at DC-EAST found 44",
        idempotency_key="browser-seed-adjust",
        now=DETECTED + timedelta(minutes=10),
    )
    assert action.status == "pending", action
    return incident, action.action_id


def module_database(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database for a whole test module (conftest's are per test)."""
    from tests.conftest import new_database

    request.getfixturevalue("template_url")
    return new_database(request.getfixturevalue("pg_server"))


# --- the app server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(database_url: str, folder: Path, **env: str) -> Iterator[str]:
    """`streamlit run app/streamlit_app.py` on a free local port, healthy; its base URL.
    Its output is kept in `folder`/streamlit.log (shown when it does not start)."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "streamlit.log"
    full_env = {**os.environ, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(folder / "data"), **env}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app/streamlit_app.py",
                "--server.headless=true",
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
            ],
            cwd=REPO,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        f"streamlit did not become healthy:\n{log_path.read_text(errors='replace')[-3000:]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian chromium driven by playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- moves on a page ------------------------------------------------------------------------


def page_url(base: str, path: str = "", **query: str) -> str:
    """The URL of a page (its url path: "", "fulfilment", "entity"...) as of AS_OF."""
    return f"{base}/{path}?{urlencode({**AS_OF_QUERY, **query})}"


IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') !== 'running'
        && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
        && !document.querySelector('[data-testid="stSkeleton"]')
        && !!document.querySelector('[data-testid="stMain"] [data-testid="stHeading"]');
}"""


def settle(page: Page, timeout: float = RENDER_MS) -> None:
    """Wait until the script run is over and stays over (no 'Running...' widget, no
    placeholders) for three looks in a row, then let the data grids paint their canvas."""
    deadline = time.monotonic() + timeout / 1000
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page did not settle in {timeout / 1000:g} s: {page.url}")
        quiet = quiet + 1 if page.evaluate(IDLE_JS) else 0
        page.wait_for_timeout(200)
    page.wait_for_timeout(300)


def snap(page: Page, name: str) -> Path:
    """Photograph the page (screenshot_path(name)), the mouse moved off it first so no
    button shows a hover; the picture's path."""
    path = screenshot_path(name)
    page.mouse.move(page.viewport_size["width"] - 1 if page.viewport_size else 0, 0)
    page.wait_for_timeout(200)
    page.screenshot(path=str(path))
    return path


def no_error_on(page: Page) -> None:
    """The page shows no traceback and no error box (what a user would notice)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


@dataclass
class Clicks:
    """The clicks a person makes on a journey, counted."""

    page: Page
    made: list[str] = field(default_factory=list)

    def on(self, target: Locator, what: str) -> None:
        target.click()
        self.made.append(what)

    def at(self, x: float, y: float, what: str) -> None:
        self.page.mouse.click(x, y)
        self.made.append(what)

    @property
    def count(self) -> int:
        return len(self.made)


GRID_HEADER_PX = 35  # st.dataframe: the header row's and each row's height
GRID_ROW_PX = 35


def grid_row_point(grid: Locator, row: int, x_offset: float = 12) -> tuple[float, float]:
    """Where to click to select row `row` (0 = first) of an st.dataframe with
    selection_mode='single-row': its canvas has a row-marker column at the left edge."""
    box = grid.bounding_box()
    assert box is not None, "the table is not on screen"
    return box["x"] + x_offset, box["y"] + GRID_HEADER_PX + GRID_ROW_PX * row + GRID_ROW_PX / 2


def grid_cell(grid: Locator, column: int, row: int) -> str:
    """The text of one cell (1 = first column, 0 = first row) of an st.dataframe: its
    canvas keeps an accessible table of the cells it draws in the DOM."""
    return grid.get_by_test_id(f"glide-cell-{column}-{row}").text_content() or ""


def grid_column(grid: Locator, column: int) -> list[str]:
    """The texts of one column (1 = first) over the rows the table draws now."""
    return [t or "" for t in grid.locator(f'td[aria-colindex="{column}"]').all_text_contents()]


def sign_in(page: Page, base: str, username: str, password: str, next_page: str = "") -> None:
    """Sign in through the login form; lands on `next_page` (the Overview without one).
    The sign-in lives in this browser session: navigate in-app afterwards (a reload or a
    typed URL is a new Streamlit session, signed out)."""
    query = {"next": next_page} if next_page else {}
    page.goto(page_url(base, "login", **query))
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=RENDER_MS)
    settle(page)


def follow_in_app(page: Page, base: str, path: str, **query: str) -> None:
    """Go to a page of the app within this Streamlit session, as a link of the app does
    (the history moves and the app reruns on the new page and query): a sign-in is kept,
    where `page.goto` would start a new, signed-out session."""
    target = page_url(base, path, **query)
    page.evaluate(
        "url => { history.pushState(null, '', url); dispatchEvent(new PopStateEvent('popstate')); }", target
    )
    page.wait_for_url(f"**/{path}?**")
    settle(page)
