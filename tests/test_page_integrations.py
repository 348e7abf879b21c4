"""The Integrations page (pages/integrations.py), run by AppTest on empty and seeded databases.

The page shows the 7 days before now, so the calls are placed in the few minutes before
`as_of` (one minute before the current minute) and stored as they come, received now:
under the 15 minutes of `max_event_lag_minutes`, so none is delayed. Two snapshots from
the POS, three hours old, are the delayed events. Worked by hand:

    interface            calls  failures                           rate     latency (ms)
    oms.wms.create_pick     20  3 (error ORD-1, timeout ORD-2,      15.0 %  10, 20, ... 200:
                                   error without correlation id)             p50 105, p95 190.5
    wms.carrier.book         4  0                                    0.0 %  all 50
    total                   24  3                                   12.5 %

Failed deliveries: ORD-1's latest pick call is an error (1); ORD-2's timeout was retried
with success (not failed). Delayed events: pos 2.

Collector runs: the WMS source failed three runs in a row (down after 3, the default):
the page shows the down banner; the OMS source's one run went well.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.ui.filters import Filters
from collectors.health import RunResult, finish_run, record_health, start_run
from tests.builders import SKU, STORE, event, jsonl

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "integrations.py")
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"
PICK = "oms.wms.create_pick"
BOOK = "wms.carrier.book"
NO_RUNS = "No collector runs yet — start `ctower scheduler` or `ctower collect --once`"
NO_CALLS = "No integration calls in this window."


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def call(
    n: int, when: datetime, interface: str, status: str, latency_ms: float, correlation_id: str | None = None
):
    data: dict[str, Any] = {"interface": interface, "source_system": "oms", "target_system": "wms",
                            "status": status, "latency_ms": latency_ms}  # fmt: skip
    if correlation_id is not None:
        data["correlation_id"] = correlation_id
    return event("retail.integration.call", data, id=f"call-{n}", source="mw", time=iso(when), subject=None)


def the_calls(as_of: datetime) -> list[dict[str, Any]]:
    """20 pick calls then 4 carrier bookings, 20 s apart, the last one at as_of - 20 s."""
    pick: list[tuple[str, str | None]] = [("ok", None)] * 20
    pick[0] = ("error", "ORD-1")
    pick[1] = ("timeout", "ORD-2")
    pick[2] = ("ok", "ORD-2")  # the retry went through
    pick[3] = ("error", None)
    calls = [(PICK, status, 10.0 * (i + 1), corr) for i, (status, corr) in enumerate(pick)]
    calls += [(BOOK, "ok", 50.0, None)] * 4
    start = as_of - timedelta(seconds=20 * len(calls))
    return [call(i, start + timedelta(seconds=20 * i), *c) for i, c in enumerate(calls)]


def pos_snapshot(n: int, when: datetime) -> dict[str, Any]:
    data = {"system": "pos", "location_id": STORE, "sku": SKU, "on_hand": n}
    return event("retail.inventory.snapshot", data, id=f"pos-{n}", source="pos", time=iso(when), subject=SKU)


def run(engine: Engine, source: str, at: datetime, error: str | None = None, **counts: int) -> None:
    """One finished collector run of `source`, its health recorded as the runner does."""
    result = RunResult(source=source, run_id=uuid.uuid4(), started_at=at)
    start_run(engine, result)
    result.status, result.error, result.finished_at = (
        ("failed" if error else "ok"),
        error,
        at + timedelta(seconds=2),
    )
    for name, value in counts.items():
        setattr(result, name, value)
    finish_run(engine, result)
    record_health(engine, result, paused=False, down_after=3)


@pytest.fixture
def page_on(streamlit_script):
    """The page (or with entry=True the whole app) on a database URL (conftest.streamlit_script)."""
    return lambda url, *, entry=False: streamlit_script(ENTRY if entry else PAGE, url)


@pytest.fixture
def seeded(engine: Engine, ingest: Callable[..., Any]) -> Engine:
    as_of = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    events = [
        *the_calls(as_of),
        pos_snapshot(1, as_of - timedelta(hours=3)),
        pos_snapshot(2, as_of - timedelta(hours=3)),
    ]
    assert ingest(jsonl(*events)).accepted == len(events)
    runs_at = as_of - timedelta(minutes=10)
    run(engine, "oms", runs_at, read=10, accepted=8, duplicate=1, quarantined=1)
    for i in range(3):
        run(engine, "wms", runs_at + timedelta(minutes=i + 1), error="HTTP 503 from wms")
    return engine


def tile(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_an_empty_database_says_there_are_no_calls_and_no_collector_runs(page_on, database_url):
    at = page_on(database_url).run()

    assert not at.exception
    assert not at.error
    assert tile(at, "Calls") == "0"
    assert tile(at, "Failure rate") == "0.0%"
    assert [i.value for i in at.info] == [NO_CALLS, NO_RUNS]


def test_the_page_shows_the_failure_rates_worked_out_by_hand_and_the_down_source(
    page_on, database_url, seeded
):
    at = page_on(database_url).run()

    assert not at.exception
    assert (tile(at, "Calls"), tile(at, "Failures"), tile(at, "Failure rate")) == ("24", "3", "12.5%")
    assert (tile(at, "Failed deliveries"), tile(at, "Delayed events")) == ("1", "2")
    [banner] = at.error
    assert "Source wms is down:" in banner.value
    assert "3 failed runs in a row (never succeeded)" in banner.value
    assert "HTTP 503 from wms" in banner.value
    per_interface, failed, sources, runs = (d.value for d in at.dataframe)
    assert per_interface.values.tolist() == [[PICK, 20, 3, 0.15, 105.0, 190.5], [BOOK, 4, 0, 0.0, 50.0, 50.0]]
    assert failed[["interface", "correlation_id", "last_status"]].values.tolist() == [
        [PICK, "ORD-1", "error"]
    ]
    assert sources[["source", "status", "consecutive_failures"]].values.tolist() == [
        ["wms", "down", 3],
        ["oms", "up", 0],
    ]
    assert runs[["source", "status", "read", "accepted", "duplicate", "quarantined"]].values.tolist() == [
        ["wms", "failed", 0, 0, 0, 0],
        ["wms", "failed", 0, 0, 0, 0],
        ["wms", "failed", 0, 0, 0, 0],
        ["oms", "ok", 10, 8, 1, 1],
    ]
    assert runs["duration_s"].tolist() == [2.0] * 4
    assert not at.info


def test_an_unreachable_database_is_explained_not_raised(page_on):
    at = page_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = at.error
    assert "database is unreachable" in error.value


def test_the_shared_source_filter_narrows_sources_and_runs_but_not_the_down_banner(
    page_on, database_url, seeded
):
    at = page_on(database_url)
    at.session_state["filters_current"] = Filters(source="oms")

    at.run()

    assert not at.exception
    [banner] = at.error  # a down source is said whatever the filter
    assert "Source wms is down:" in banner.value
    _, _, sources, runs = (d.value for d in at.dataframe)
    assert sources["source"].tolist() == ["oms"]
    assert runs[["source", "status", "read"]].values.tolist() == [["oms", "ok", 10]]
    assert tile(at, "Calls") == "24"  # the integration figures have no source scope


def test_in_the_app_the_source_of_the_url_narrows_the_runs(page_on, database_url, seeded):
    at = page_on(database_url, entry=True)
    at.query_params["source"] = "wms"
    at.run()

    at.switch_page(PAGE).run()

    assert not at.exception
    runs = at.dataframe[-1].value
    assert runs["source"].tolist() == ["wms"] * 3
