"""The audit log page (AppTest on the real database)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from app import audit

REPO = Path(__file__).resolve().parents[1]
ENTRY = str(REPO / "app" / "streamlit_app.py")
PAGE = str(REPO / "pages" / "audit.py")


def _seed(engine: Engine) -> None:
    """Two rows in the default 7-day window (3 h and 1 h ago) and one 8 days ago."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        ("tom", "exception.acknowledge", "exception", "sla_breach:ORD-000077", now - timedelta(days=8)),
        ("maria", "order.reroute", "order", "ORD-000123", now - timedelta(hours=3)),
        ("tom", "order.hold", "order", "ORD-000124", now - timedelta(hours=1)),
    ]
    with engine.begin() as conn:
        for actor, action, kind, key, at in rows:
            audit.record(
                conn,
                actor=actor,
                role="manager",
                action=action,
                entity_kind=kind,
                entity_key=key,
                reason="stockout, at STORE-0042",
                before={"node": "STORE-0042"},
                after={"node": "DC-EAST"},
                at=at,
            )


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The files the page offered for download, by their URL's file name."""
    files: dict[str, bytes] = {}

    class Keeping(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
            file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
            files[self.get_url(file_id).rsplit("/", 1)[1]] = self.get_file(file_id).content
            return file_id

    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", Keeping)
    return files


def _page(streamlit_script, url: str) -> AppTest:
    return streamlit_script(ENTRY, url).run().switch_page(PAGE).run()


def _csv(at: AppTest, downloads: dict[str, bytes]) -> list[dict[str, str]]:
    button = at.get("download_button")[0]
    return list(csv.DictReader(io.StringIO(downloads[button.proto.url.rsplit("/", 1)[1]].decode())))


def test_an_empty_log_says_so_and_that_the_chain_is_intact(streamlit_script, database_url) -> None:
    at = _page(streamlit_script, database_url)

    assert not at.exception
    assert [s.value for s in at.success] == ["Chain intact: 0 rows"]
    assert [i.value for i in at.info] == ["No data yet for this window."]


def test_the_window_s_rows_are_shown_newest_first_with_the_whole_chain_checked(
    streamlit_script, database_url, engine, downloads
) -> None:
    _seed(engine)
    at = _page(streamlit_script, database_url)

    assert not at.exception
    assert [s.value for s in at.success] == ["Chain intact: 3 rows"]  # the older row is checked too
    table = at.dataframe[0].value
    assert list(table["audit_id"]) == [3, 2]
    assert list(table["action"]) == ["order.hold", "order.reroute"]
    assert list(table["after"]) == ['{"node": "DC-EAST"}'] * 2
    assert at.caption[1].value.startswith("2 rows from ")
    assert [r["entity_key"] for r in _csv(at, downloads)] == ["ORD-000124", "ORD-000123"]


def test_a_row_written_a_moment_ago_is_listed_live(streamlit_script, database_url, engine) -> None:
    # "now" is floored to 10 s for caching; a row of the last few seconds must still show
    with engine.begin() as conn:
        audit.record(
            conn,
            actor="maria",
            role="manager",
            action="order.hold",
            entity_kind="order",
            entity_key="ORD-000200",
            reason="customer called",
            before={},
            after={"held": True},
            at=datetime.now(UTC),
        )
    at = _page(streamlit_script, database_url)

    assert not at.exception
    assert list(at.dataframe[0].value["entity_key"]) == ["ORD-000200"]


def test_the_csv_holds_exactly_the_filtered_rows(streamlit_script, database_url, engine, downloads) -> None:
    _seed(engine)
    at = _page(streamlit_script, database_url)
    assert at.selectbox(key="audit_actor").options == [
        "(any)",
        "maria",
        "tom",
    ]  # tom's old row: out of window

    at = at.selectbox(key="audit_actor").select("maria").run()

    rows = _csv(at, downloads)
    assert len(rows) == 1
    row = rows[0]
    assert (row["audit_id"], row["actor"], row["action"], row["entity_kind"], row["entity_key"]) == (
        "2",
        "maria",
        "order.reroute",
        "order",
        "ORD-000123",
    )
    assert row["reason"] == "stockout, at STORE-0042"  # the comma quoted, not a new column
    assert row["before"] == '{"node": "STORE-0042"}'
    assert row["at"].endswith("+00:00")
    assert list(at.dataframe[0].value["audit_id"]) == [2]


def test_a_tampered_row_is_named_in_red_at_the_top(streamlit_script, database_url, engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_or_delete"))
        conn.execute(sa.text("UPDATE audit_log SET reason = 'nothing to see' WHERE audit_id = 2"))
        conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_or_delete"))

    at = _page(streamlit_script, database_url)

    assert not at.success
    assert at.error[0].value.startswith(
        "**Chain broken at audit_id 2:** content changed (its hash does not match its content)."
    )


def test_an_as_of_before_every_row_shows_no_rows_and_only_any_in_the_filters(
    streamlit_script, database_url, engine
) -> None:
    """The audit page at a past as-of (as bench/pages.py opens every page): the log holds rows,
    but none in the window, so the filters' choices are an empty result (columns of no type)."""
    _seed(engine)
    at = streamlit_script(ENTRY, database_url, as_of="2026-11-01T00:00:00Z").run().switch_page(PAGE).run()

    assert not at.exception
    assert [s.value for s in at.success] == ["Chain intact: 3 rows"]
    assert [i.value for i in at.info] == ["No data yet for this window."]
    assert at.selectbox(key="audit_actor").options == ["(any)"]
    assert at.selectbox(key="audit_action").options == ["(any)"]
