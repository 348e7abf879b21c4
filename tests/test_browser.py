"""The intake page in a real browser: `streamlit run` as a subprocess against a seeded
database, driven by headless Chromium, with a screenshot for the docs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy.engine import Engine

from app.ingest.counts import IngestCounts
from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from simulator.generate import generate_events, write_jsonl
from tests import browser_support as bs

# Each run leaves its screenshot in tests/artifacts/ (git-ignored) for a look; with
# CTOWER_UPDATE_SCREENSHOTS=1 it refreshes the one in the README instead (bs.screenshot_path).
VIEWPORT = bs.TALL

pytestmark = [pytest.mark.browser, bs.needs_browser]


def _ingest(engine: Engine, origin: str, raw: bytes, **options: object) -> IngestCounts:
    records = read_records(io.BytesIO(raw))
    return ingest_records(engine, records, RunInfo(origin=origin), **options)  # type: ignore[arg-type]


@pytest.fixture
def demo_store(engine: Engine, tmp_path: Path) -> int:
    """5,000 simulated events in five batches, then a late re-delivery of 200 of them with
    a changed one (a conflict) and three bad lines. Returns the number of events stored."""
    first = tmp_path / "oms-export-2026-11.jsonl"
    write_jsonl(first, 5000)
    stored = _ingest(engine, "exports/" + first.name, first.read_bytes(), batch_size=1000).accepted

    again = [orjson.dumps(e) for e in generate_events(200)]
    changed = next(e for e in generate_events(1000) if e["type"] == "retail.order.routed")
    changed["data"]["node_id"] = "DC-WEST"
    bad = [
        b'{"specversion": "1.0", "id": "pos-9", "source": "pos/store-0007"',
        b'{"specversion": "1.0", "id": "pos-10", "source": "pos/store-0007", '
        b'"type": "retail.sale.made", "time": "2026-11-02T10:00:00+01:00", "data": {}}',
        b'{"specversion": "1.0", "id": "erp-77", "source": "erp", "type": "retail.po.updated", '
        b'"time": "2026-11-02 10:00:00", "data": {"po_id": "PO-1"}}',
    ]
    late = b"\n".join([*again, orjson.dumps(changed), *bad]) + b"\n"
    counts = _ingest(engine, "middleware-redelivery.jsonl", late)
    assert (counts.duplicate, counts.conflict, counts.quarantined) == (200, 1, 4)
    return stored + counts.accepted


@pytest.fixture
def streamlit_url(database_url: str, demo_store: int, tmp_path: Path) -> Iterator[str]:
    """The app served by `streamlit run` on a free local port, stopped afterwards."""
    with bs.streamlit_server(database_url, tmp_path) as url:
        yield url


def test_an_engineer_sees_the_stored_events_in_a_browser(streamlit_url: str, demo_store: int):
    from playwright.sync_api import expect

    with bs.chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{streamlit_url}/intake")
        bs.settle(page)  # the whole run, charts and grids drawn
        events_tile = page.get_by_test_id("stMetric").filter(has_text="Events stored")
        expect(events_tile).to_contain_text(f"{demo_store:,}", timeout=20_000)
        expect(page.get_by_test_id("stMetric").filter(has_text="Quarantined")).to_contain_text("4")
        expect(page.locator(".js-plotly-plot .bars path").first).to_be_visible()
        expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
        bs.no_error_on(page)
        bs.snap(page, "intake")
