"""A governed override in a real browser (issue 6): a manager reroutes a late order and a
second manager approves it. Headless Chromium on `streamlit run`, against the seeded store
of tests/browser_support.py plus an order stuck where it cannot be served:

ORD-000124, made 2026-11-23 06:00 and promised for 2026-11-24 06:00, was routed to
STORE-0042 and never picked: at the as-of (2026-11-24 12:00) it is 6 h late and still
reroutable. Its lines, 2 x SKU-00017 at 450.00 and 1 x SKU-00018 at 305.00, are worth
1,205.00, over the approval threshold of 1,000 (set in the server's environment), so the
reroute waits for a second manager. Where it could go (the latest positions, less holds):
STORE-0007 (region east, the order's ship-to region, in stock, 0 of 60 open), DC-EAST
(region north, in stock: 140 of SKU-00017 in the WMS, 25 of SKU-00018; 0 of 5,000 open),
STORE-0013 (east, in stock, but its capacity is down to 1 a day and ORD-000125 is open
there), every other node short of the 3 units.

One app server for the module, no outbox dispatcher (the delivery to the OMS is covered by
tests/test_actions_e2e.py): an approved reroute stays approved, its command pending.
Screenshots go to tests/artifacts/, or to docs/screenshots/ with CTOWER_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from tests import browser_support as bs
from tests import builders

pytest.importorskip("playwright", reason="needs playwright: pip install playwright")
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = [pytest.mark.browser, bs.needs_browser]

STUCK = "ORD-000124"  # late and still at the store it was routed to
STUCK_CREATED = bs.AS_OF - timedelta(hours=30)
STUCK_PROMISED = bs.AS_OF - timedelta(hours=6)
STUCK_LINES = [
    {"sku": builders.SKU, "qty": 2, "unit_price": 450.0},
    {"sku": "SKU-00018", "qty": 1, "unit_price": 305.0},
]
STUCK_VALUE = "1,205.00"  # 2 x 450.00 + 1 x 305.00
THRESHOLD = "1000"
BUSY = "ORD-000125"  # open at STORE-0013, which takes 1 order a day
TARGET = builders.DC  # DC-EAST
REQUEST_REASON = "STORE-0042 is out of both SKUs; DC-EAST has them"
APPROVE_REASON = "checked the DC stock, go"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def stuck_order_events() -> list[dict[str, Any]]:
    """ORD-000124 routed to STORE-0042 and never picked; the stock and capacity that make
    STORE-0007 and DC-EAST valid targets and STORE-0013 a full one."""
    n = 0

    def ev(type_: str, at: datetime, data: dict[str, Any], source: str, subject: str) -> dict[str, Any]:
        nonlocal n
        n += 1
        return builders.event(type_, data, id=f"override-{n}", source=source, time=_iso(at), subject=subject)

    counted = bs.AS_OF - timedelta(hours=1)
    stock = [
        ev(
            "retail.inventory.snapshot",
            counted,
            {"system": system, "location_id": loc, "sku": sku, "on_hand": qty},
            source,
            f"{sku}@{loc}",
        )
        for system, source, loc, sku, qty in (
            ("wms", "wms/dc-east", builders.DC, "SKU-00018", 25),
            ("pos", "pos/store-0007", "STORE-0007", builders.SKU, 6),
            ("pos", "pos/store-0007", "STORE-0007", "SKU-00018", 4),
            ("pos", "pos/store-0013", "STORE-0013", builders.SKU, 9),
            ("pos", "pos/store-0013", "STORE-0013", "SKU-00018", 9),
        )
    ]
    shrunk = ev(
        "retail.location.upserted",
        bs.AS_OF - timedelta(days=1),
        {
            "location_id": "STORE-0013",
            "kind": "store",
            "region": "east",
            "name": "Store-0013",
            "daily_capacity": 1,
        },
        "erp",
        "STORE-0013",
    )
    orders = []
    for order, created, promised, node in (
        (STUCK, STUCK_CREATED, STUCK_PROMISED, builders.STORE),
        (BUSY, bs.AS_OF - timedelta(hours=3), bs.AS_OF + timedelta(hours=45), "STORE-0013"),
    ):
        created_data = {
            "order_id": order,
            "channel": "web",
            "promised_by": _iso(promised),
            "lines": STUCK_LINES if order == STUCK else [{"sku": "SKU-00200", "qty": 1, "unit_price": 9.0}],
            "ship_to_region": "east",
        }
        orders += [
            ev("retail.order.created", created, created_data, "oms", order),
            ev(
                "retail.order.routed",
                created + timedelta(minutes=5),
                {"order_id": order, "node_id": node},
                "oms",
                order,
            ),
        ]
    return [*stock, shrunk, *orders]


@pytest.fixture(scope="module")
def seeded(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """The module's database (URL) and the demo accounts' passwords."""
    from app.db.engine import get_engine

    url = bs.module_database(request)
    engine = get_engine(url)
    bs.seed_store(engine)
    payload = builders.jsonl(*stuck_order_events())
    counts = ingest_records(
        engine, read_records(io.BytesIO(payload)), RunInfo(origin="browser-overrides.jsonl")
    )
    assert counts.quarantined == 0, counts
    bs.run_detectors(engine)
    accounts = bs.demo_accounts(engine)
    engine.dispose()
    yield url, accounts


@pytest.fixture(scope="module")
def app_url(seeded: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with bs.streamlit_server(
        seeded[0], tmp_path_factory.mktemp("app"), CTOWER_APPROVAL_THRESHOLD=THRESHOLD
    ) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with bs.chromium() as b:
        yield b


def _rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of the module's store, as the app wrote them."""
    from app.db.engine import get_engine

    with get_engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def _look(page: Page, name: str) -> None:
    """A picture for a look after the run, never one of the README's: tests/artifacts/."""
    folder = bs.REPO / "tests" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _card(page: Page, action_id: int) -> Locator:
    return page.locator(f".st-key-apv_card_{action_id}")


def test_a_manager_reroutes_a_late_order_and_a_second_manager_approves_it(
    app_url: str, browser: Browser, seeded: tuple[str, dict[str, str]]
) -> None:
    url, accounts = seeded
    alice = browser.new_context(viewport=bs.FULL_HD)  # the manager who asks
    bob = browser.new_context(viewport=bs.FULL_HD)  # manager2, who approves
    page = alice.new_page()
    bs.sign_in(page, app_url, "manager", accounts["manager"], next_page="fulfilment")
    bs.follow_in_app(page, app_url, "entity", kind="order", key=STUCK)
    expect(page.get_by_role("heading", name=f"Order {STUCK}")).to_be_visible()
    for label, value in (("Status", "routed"), ("Current node", builders.STORE), ("Breached", "Yes")):
        fact = page.get_by_test_id("stMarkdownContainer").filter(has=page.get_by_text(label, exact=True))
        expect(fact).to_have_text(re.compile(rf"^\s*{label}\s*{value}\s*$"))

    page.get_by_role("button", name="Reroute", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=STUCK, exact=True)).to_be_visible(timeout=bs.RENDER_MS)
    expect(dialog).to_contain_text("Reroute order")  # the dialog's title: what it does
    bs.settle(page)
    # the best target first: in stock and in the order's ship-to region (east)
    move_to = dialog.get_by_role("combobox", name="Move to")
    expect(move_to).to_have_value("STORE-0007 · east (same region) · load 0/60")
    expect(dialog).to_contain_text(f"{STUCK} moves from {builders.STORE} to STORE-0007 (reason: manual)")
    expect(dialog).to_contain_text(f"Value {STUCK_VALUE} · 1 command(s) to oms")
    expect(dialog).to_contain_text("Above the approval threshold: a second manager must approve it")
    move_to.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    labels = options.all_inner_texts()
    assert labels[:3] == [
        "STORE-0007 · east (same region) · load 0/60",
        "DC-EAST · north · load 0/5000",
        "STORE-0013 · east (same region) · load 1/1 · "
        "STORE-0013 is at capacity (1 open orders, daily capacity 1)",
    ]
    # then the nodes short of stock, fewest units short first (none is short of more than
    # the 3 units ordered), up to the dialog's 20
    short = [int(re.findall(r"is short of (\d) unit", label)[0]) for label in labels[3:]]
    assert len(short) == 17 and short == sorted(short) and set(short) <= {1, 2, 3}, labels[3:]
    options.filter(has_text="DC-EAST · north").click()
    bs.settle(page)
    expect(dialog).to_contain_text(f"{STUCK} moves from {builders.STORE} to {TARGET} (reason: manual)")
    expect(dialog).to_contain_text(f"Value {STUCK_VALUE} · 1 command(s) to oms")
    dialog.get_by_role("textbox", name="Reason (required)").fill(REQUEST_REASON)
    bs.snap(page, "reroute-dialog")

    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_contain_text(
        re.compile(r"Action #\d+\. Requested: it waits for a second manager's approval"), timeout=bs.RENDER_MS
    )
    bs.settle(page)
    (action,) = _rows(url, "SELECT * FROM actions WHERE entity_key = :key", key=STUCK)
    action_id = action["action_id"]
    assert (action["kind"], action["status"], action["requested_by"], action["params"]) == (
        "reroute",
        "pending",
        "manager",
        {"to_node": TARGET},
    )
    assert action["value"] == Decimal("1205") and action["needs_approval"] is True
    outbox = "SELECT * FROM outbox WHERE action_id = :id"
    assert _rows(url, outbox, id=action_id) == []  # no command before the approval

    # the requester sees their request waiting, and no Approve button on it
    dialog.get_by_role("button", name="Close").filter(has_text="Close").click()  # not the corner's x
    bs.settle(page)
    bs.follow_in_app(page, app_url, "approvals")
    mine = _card(page, action_id)
    expect(mine).to_contain_text(f"#{action_id} reroute")
    expect(mine).to_contain_text("Your own request: another manager must approve or reject it.")
    expect(mine.get_by_role("button", name="Approve")).to_have_count(0)
    expect(mine.get_by_role("button", name="Reject")).to_have_count(0)

    # a second manager, in a browser of their own
    other = bob.new_page()
    bs.sign_in(other, app_url, "manager2", accounts["manager2"], next_page="approvals")
    expect(other.get_by_role("heading", name="Waiting for approval (1)")).to_be_visible()
    card = _card(other, action_id)
    expect(card).to_contain_text(f"#{action_id} reroute {STUCK} to_node={TARGET}")
    expect(card).to_contain_text("Requested by manager at ")
    expect(card).to_contain_text(REQUEST_REASON)
    expect(card.get_by_test_id("stMetricValue")).to_have_text(STUCK_VALUE)
    card.get_by_role("textbox", name="Reason (required to reject)").fill(APPROVE_REASON)
    bs.snap(other, "approvals-pending")
    card.get_by_role("button", name="Approve").click()
    expect(other.get_by_text(f"#{action_id} approved by manager2.")).to_be_visible(timeout=bs.RENDER_MS)
    bs.settle(other)
    expect(other.get_by_role("heading", name="Waiting for approval (0)")).to_be_visible()
    recent = other.get_by_test_id("stDataFrame").last
    # a table without row selection: its cells count from 0 (#, Status, Action, ...)
    assert bs.grid_cell(recent, 0, 0) == str(action_id)
    assert bs.grid_cell(recent, 1, 0) == "approved"
    assert bs.grid_cell(recent, 9, 0) == "manager2"  # Approved by
    assert bs.grid_cell(recent, 10, 0) == "0/1 confirmed"  # its one command, not sent yet
    bs.no_error_on(other)
    _look(other, "approvals-approved")

    decided = _rows(url, "SELECT * FROM actions WHERE action_id = :id", id=action_id)[0]
    assert (decided["status"], decided["decided_by"], decided["decision_reason"]) == (
        "approved",
        "manager2",
        APPROVE_REASON,
    )
    (command,) = _rows(url, outbox, id=action_id)
    assert (command["target_system"], command["status"], command["attempts"]) == ("oms", "pending", 0)
    assert command["command"] == {
        "command_id": f"ctower-{action_id}-1",
        "kind": "reroute",
        "order_id": STUCK,
        "to_node": TARGET,
    }

    # the audit log, on its page: the request by manager, the approval by manager2
    # the actions were audited at the wall clock, days after the pinned as-of: look as of now
    bs.follow_in_app(page, app_url, "audit")
    page.get_by_test_id("stSidebar").get_by_text("Now", exact=True).click()
    bs.settle(page)
    page.get_by_role("textbox", name="Entity key").fill(STUCK)
    page.get_by_role("textbox", name="Entity key").press("Enter")
    bs.settle(page)
    # "now" is floored to 10 s (app/ui/filters.py): the approval shows once its 10 s are
    # over, so Refresh until it does (a person would too)
    deadline = time.monotonic() + (bs.RENDER_MS / 1000) + 10
    both = page.get_by_text(re.compile(r"^2 rows from .* newest first\.$"))
    while not both.is_visible():
        assert time.monotonic() < deadline, "the approval never showed in the audit log"
        page.get_by_role("button", name="Refresh").click()
        bs.settle(page)
    _look(page, "audit-reroute")
    log = page.get_by_test_id("stDataFrame").first
    assert bs.grid_column(log, 5) == ["reroute.approved", "reroute.requested"]  # Action, newest first
    assert bs.grid_column(log, 3) == ["manager2", "manager"]  # Actor
    assert bs.grid_column(log, 8) == [APPROVE_REASON, REQUEST_REASON]  # Reason
    bs.no_error_on(page)
    audited = _rows(
        url,
        "SELECT actor, role, action, reason, after ->> 'status' AS status FROM audit_log"
        " WHERE entity_key = :key ORDER BY audit_id",
        key=STUCK,
    )
    assert [tuple(r.values()) for r in audited] == [
        ("manager", "manager", "reroute.requested", REQUEST_REASON, "pending"),
        ("manager2", "manager", "reroute.approved", APPROVE_REASON, "approved"),
    ]
    alice.close()
    bob.close()
