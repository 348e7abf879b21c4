"""The intake page in a real browser: `streamlit run` as a subprocess against a seeded
database, driven by headless Chromium, with a screenshot for the docs.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy.engine import Engine

from app.ingest.counts import IngestCounts
from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from simulator.generate import generate_events, write_jsonl

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
# Each run leaves its screenshot in tests/artifacts/ (git-ignored) for a look; with
# CTOWER_UPDATE_SCREENSHOTS=1 it refreshes the one in the README instead.
SCREENSHOT = (
    REPO / "docs" / "screenshots" / "intake.png"
    if os.environ.get("CTOWER_UPDATE_SCREENSHOTS") == "1"
    else REPO / "tests" / "artifacts" / "intake.png"
)
VIEWPORT = {"width": 1600, "height": 1800}  # tall: Streamlit scrolls an inner container
STARTUP_SECONDS = 30

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("wb")
    env = {**os.environ, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
         "--browser.gatherUsageStats=false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
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
                output = (tmp_path / "streamlit.log").read_text(errors="replace")
                pytest.fail(f"streamlit did not become healthy:\n{output[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_an_engineer_sees_the_stored_events_in_a_browser(streamlit_url: str, demo_store: int):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{streamlit_url}/intake")
            events_tile = page.get_by_test_id("stMetric").filter(has_text="Events stored")
            expect(events_tile).to_contain_text(f"{demo_store:,}", timeout=20_000)
            expect(page.get_by_test_id("stMetric").filter(has_text="Quarantined")).to_contain_text("4")
            expect(page.locator(".js-plotly-plot .bars path").first).to_be_visible()
            expect(page.get_by_test_id("stDataFrame")).to_have_count(3)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            page.wait_for_timeout(500)  # let the data grids paint their canvas
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
