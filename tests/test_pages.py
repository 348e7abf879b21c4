"""Smoke tests of every Streamlit page (AppTest), on an empty, a seeded and an
unreachable database. The app finds the test database through DATABASE_URL, as it does
in production.
"""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from tests.conftest import REPO

ENTRY = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")
INTAKE = str(Path(__file__).resolve().parents[1] / "pages" / "intake.py")
EMPTY_MESSAGE = "No events yet — load some with `ctower ingest FILE`"
UNREACHABLE_URL = "postgresql://nobody@127.0.0.1:1/none"

STORE = "STORE-0042"
EVENTS = [
    {"specversion": "1.0", "id": "oms-1", "source": "oms", "type": "retail.order.created",
     "time": "2026-11-20T09:00:00+01:00", "subject": "ORD-1",
     "data": {"order_id": "ORD-1", "channel": "web", "promised_by": "2026-11-22T18:00:00+01:00",
              "lines": [{"sku": "SKU-00001", "qty": 2, "unit_price": 9.5}]}},
    {"specversion": "1.0", "id": "oms-2", "source": "oms", "type": "retail.order.routed",
     "time": "2026-11-20T09:01:00+01:00", "subject": "ORD-1",
     "data": {"order_id": "ORD-1", "node_id": STORE}},
    {"specversion": "1.0", "id": "erp-1", "source": "erp", "type": "retail.inventory.snapshot",
     "time": "2026-11-20T06:00:00+00:00",
     "data": {"system": "erp", "location_id": STORE, "sku": "SKU-00001", "on_hand": 14}},
]  # fmt: skip
NOT_JSON = b'{"specversion": "1.0", "id": "oms-3"'


def jsonl(*lines: bytes) -> io.BytesIO:
    return io.BytesIO(b"\n".join(lines) + b"\n")


@pytest.fixture
def app_on(streamlit_script):
    """The app on a database URL (conftest.streamlit_script)."""
    return lambda url: streamlit_script(ENTRY, url)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """Three events, one of them sent twice, and a line that is not JSON."""
    lines = [orjson.dumps(e) for e in EVENTS] + [orjson.dumps(EVENTS[0]), NOT_JSON]
    counts = ingest_records(engine, read_records(jsonl(*lines)), RunInfo(origin="seed.jsonl"))
    assert (counts.accepted, counts.duplicate, counts.quarantined) == (3, 1, 1)
    return engine


def on_intake(at: AppTest) -> AppTest:
    """The intake page (Overview is the default one)."""
    return at.run().switch_page(INTAKE).run()


def tile(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_intake_page_on_an_empty_store_says_how_to_load_events(app_on, database_url):
    at = on_intake(app_on(database_url))

    assert not at.exception
    assert tile(at, "Events stored") == "0"
    assert [i.value for i in at.info] == [EMPTY_MESSAGE]
    assert not at.error


def test_the_intake_page_shows_what_was_stored_and_quarantined(app_on, database_url, seeded):
    at = on_intake(app_on(database_url))

    assert not at.exception
    assert not at.error
    assert tile(at, "Events stored") == "3"
    assert tile(at, "Quarantined") == "1"
    assert tile(at, "Ingest batches") == "1"
    assert tile(at, "Sources") == "2"
    assert not at.info  # no empty-state message
    batches, quarantine = at.dataframe[1].value, at.dataframe[2].value
    assert batches[["received", "accepted", "duplicate", "quarantined"]].values.tolist() == [[5, 3, 1, 1]]
    assert quarantine["record_no"].tolist() == [5]
    assert quarantine["raw"].tolist() == [NOT_JSON.decode()]


def test_refresh_shows_events_stored_since_the_page_was_drawn(app_on, database_url, engine):
    at = on_intake(app_on(database_url))
    assert tile(at, "Events stored") == "0"
    ingest_records(engine, read_records(jsonl(orjson.dumps(EVENTS[1]))), RunInfo(origin="late"))

    at.button(key="intake_refresh").click().run()

    assert not at.exception
    assert tile(at, "Events stored") == "1"


def test_an_unreachable_database_is_explained_not_raised(app_on):
    at = app_on(UNREACHABLE_URL).run()

    assert not at.exception
    [error] = at.error
    assert "database is unreachable" in error.value
    assert "127.0.0.1" in error.value
    assert "DATABASE_URL" in error.value


def test_a_database_url_in_the_secrets_file_is_used_without_an_environment_variable(
    database_url, seeded, tmp_path
):
    """An installer may keep DATABASE_URL in .streamlit/secrets.toml instead of the environment."""
    import os
    import subprocess
    import sys

    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(f'DATABASE_URL = "{database_url}"\n')
    script = (
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ENTRY)!r}, default_timeout=30).run()\n"
        f"at = at.switch_page({INTAKE!r}).run()\n"
        "assert not at.exception, at.exception\n"
        "print(next(m.value for m in at.metric if m.label == 'Events stored'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CTOWER_DATA_DIR"] = str(tmp_path / "no-embedded-server-here")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "3"


def test_every_table_shows_a_dash_for_a_missing_value_not_none():
    """Streamlit writes a grey "None" in an empty cell (an order not delivered yet, an
    incident not closed) unless told otherwise: every st.dataframe of the pages is told."""
    import ast

    from app.ui.theme import EMPTY_CELL

    assert EMPTY_CELL == "—"
    calls = []
    for path in sorted([*(REPO / "pages").glob("*.py"), *(REPO / "app" / "ui").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "dataframe"
            ):
                told = any(k.arg == "placeholder" for k in node.keywords)
                calls.append((f"{path.name}:{node.lineno}", told))
    assert len(calls) >= 20  # the pages' tables were found
    assert [where for where, told in calls if not told] == []
