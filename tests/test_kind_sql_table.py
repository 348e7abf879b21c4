"""The sql_table kind: an ERP schema in the test's own PostgreSQL, and Northwind in SQLite.

Every run goes through the real runner (collectors.runner.run_once) into a fresh store.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors import sql_table
from collectors.base import Context, SourceConfig, SourceError, TransientError
from collectors.config import load_file
from collectors.runner import read_cursor, run_once

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
NORTHWIND = Path("/work/shared/data/northwind-sqlite/northwind.sqlite")


def count_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping of the ERP stock counts: one row -> one inventory snapshot."""
    return [
        {
            "specversion": "1.0",
            "id": f"count-{record['id']}",
            "source": "erp",
            "type": "retail.inventory.snapshot",
            "time": record["counted_at"].isoformat(),
            "data": {
                "system": "erp",
                "location_id": record["location_id"],
                "sku": record["sku"],
                "on_hand": record["on_hand"],
            },
        }
    ]


@pytest.fixture
def erp(engine: Engine) -> Engine:
    """An `erp` schema in the test's database with a stock count table fed by a sequence."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA erp"))
        conn.execute(
            sa.text(
                "CREATE TABLE erp.stock_counts (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE,"
                " location_id text NOT NULL, sku text NOT NULL, on_hand integer NOT NULL,"
                " counted_at timestamptz NOT NULL)"
            )
        )
    return engine


def add_counts(engine: Engine, *rows: tuple[str, str, int, str]) -> None:
    """Insert (id, sku, on_hand, counted_at) stock counts of STORE-0042, in this order."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO erp.stock_counts (id, location_id, sku, on_hand, counted_at)"
                " VALUES (:id, 'STORE-0042', :sku, :on_hand, CAST(:counted_at AS timestamptz))"
            ),
            [{"id": i, "sku": s, "on_hand": q, "counted_at": t} for i, s, q, t in rows],
        )


def source(name: str, **options: Any) -> SourceConfig:
    return SourceConfig(
        name=name,
        kind="sql_table",
        options={"url": "${DATABASE_URL}", "table": "erp.stock_counts", **options},
        mapping="tests.test_kind_sql_table:count_events",
        system="erp",
    )


def events_of(engine: Engine, event_type: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id FROM events WHERE type = :type ORDER BY id"), {"type": event_type}
        )
        return [r.id for r in rows]


@pytest.fixture
def context(database_url: str) -> Context:
    return Context(clock=lambda: NOW, database_url=database_url)


def test_rows_are_read_in_batches_by_their_sequence_and_the_cursor_advances(
    erp: Engine, context: Context
) -> None:
    add_counts(
        erp,
        ("a", "SKU-1", 5, "2026-11-20T08:00:00Z"),
        ("b", "SKU-2", 7, "2026-11-20T08:10:00Z"),
        ("c", "SKU-3", 0, "2026-11-20T08:20:00Z"),
    )
    counts = source("erp-counts", cursor_column="seq", batch_size=2)

    run = run_once(erp, counts, context)

    assert run.status == "ok", run.error
    assert (run.pages, run.read, run.accepted) == (2, 3, 3)  # 2 rows, then 1
    assert events_of(erp, "retail.inventory.snapshot") == ["count-a", "count-b", "count-c"]
    assert read_cursor(erp, "erp-counts") == [3, 3]


def test_rows_inserted_later_with_old_business_times_are_still_collected(
    erp: Engine, context: Context
) -> None:
    add_counts(erp, ("a", "SKU-1", 5, "2026-11-20T08:00:00Z"), ("b", "SKU-2", 7, "2026-11-20T09:00:00Z"))
    counts = source("erp-counts", cursor_column="seq")
    run_once(erp, counts, context)
    # counted the day before, keyed in after the last run: older than anything read so far
    add_counts(erp, ("c", "SKU-3", 2, "2026-11-19T16:00:00Z"), ("d", "SKU-4", 9, "2026-11-19T17:00:00Z"))

    second = run_once(erp, counts, context)
    third = run_once(erp, counts, context)

    assert (second.read, second.accepted, second.duplicate) == (2, 2, 0)
    assert (third.read, third.accepted) == (0, 0)
    assert events_of(erp, "retail.inventory.snapshot") == ["count-a", "count-b", "count-c", "count-d"]
    assert read_cursor(erp, "erp-counts") == [4, 4]


def test_a_lookback_on_a_timestamp_picks_up_a_late_commit_and_counts_rereads_as_duplicates(
    erp: Engine, context: Context
) -> None:
    add_counts(erp, ("a", "SKU-1", 5, "2026-11-20T10:00:00Z"), ("b", "SKU-2", 7, "2026-11-20T10:05:00Z"))
    with_lookback = source("erp-lookback", cursor_column="counted_at", key_column="id", lookback="10m")
    without = source("erp-no-lookback", cursor_column="counted_at", key_column="id")
    run_once(erp, with_lookback, context)
    run_once(erp, without, context)
    # a count at 10:03 whose transaction committed after both runs had read up to 10:05
    add_counts(erp, ("c", "SKU-3", 1, "2026-11-20T10:03:00Z"))

    late = run_once(erp, with_lookback, context)
    missed = run_once(erp, without, context)

    # 10:00 and 10:05 lie within 10 minutes of the cursor (10:05): read again, stored once
    assert (late.read, late.accepted, late.duplicate) == (3, 1, 2)
    assert (missed.read, missed.accepted) == (0, 0)
    assert events_of(erp, "retail.inventory.snapshot") == ["count-a", "count-b", "count-c"]
    cursor = read_cursor(erp, "erp-lookback")
    assert datetime.fromisoformat(cursor[0]) == datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    assert cursor[1] == "b"


def test_rows_with_the_same_cursor_value_are_split_across_batches_by_their_key_without_loss(
    erp: Engine, context: Context
) -> None:
    same = "2026-11-20T10:00:00Z"
    add_counts(erp, *[(key, f"SKU-{key}", 1, same) for key in "edcba"])
    counts = source("erp-ties", cursor_column="counted_at", key_column="id", batch_size=2)

    run = run_once(erp, counts, context)
    again = run_once(erp, counts, context)

    assert (run.pages, run.read, run.accepted) == (3, 5, 5)
    assert (again.read, again.accepted) == (0, 0)
    assert read_cursor(erp, "erp-ties")[1] == "e"


def test_a_query_is_read_as_a_subquery_with_its_own_columns(erp: Engine, context: Context) -> None:
    add_counts(erp, ("a", "SKU-1", 5, "2026-11-20T08:00:00Z"), ("b", "SKU-2", 7, "2026-11-20T09:00:00Z"))
    query = (
        "SELECT seq AS n, id, location_id, upper(sku) AS sku, on_hand, counted_at"
        " FROM erp.stock_counts WHERE on_hand > 6"
    )
    collector = sql_table.build(
        SourceConfig(
            name="erp-q",
            kind="sql_table",
            options={"url": "${DATABASE_URL}", "query": query, "cursor_column": "n"},
            mapping="tests.test_kind_sql_table:count_events",
        ),
        context,
    )

    page = collector.fetch(None)

    assert [(r["n"], r["sku"]) for r in page.records] == [(2, "SKU-2")]
    assert isinstance(page.records[0]["counted_at"], datetime)
    assert page.next_cursor == [2, 2] and not page.more


def test_a_missing_table_is_a_source_error_and_an_unreachable_database_is_transient(
    erp: Engine, context: Context
) -> None:
    missing = sql_table.build(source("x", table="erp.no_such_table", cursor_column="seq"), context)
    with pytest.raises(SourceError, match="no_such_table") as caught:
        missing.fetch(None)
    assert not isinstance(caught.value, TransientError)

    down = source(
        "y", url="postgresql+psycopg://nobody@127.0.0.1:1/erp?connect_timeout=2", cursor_column="seq"
    )
    with pytest.raises(TransientError):
        sql_table.build(down, context).fetch(None)


def test_a_sqlite_url_to_a_missing_file_is_refused_rather_than_creating_an_empty_database(
    tmp_path: Path, context: Context
) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere.sqlite'}"
    with pytest.raises(SourceError, match="no SQLite database"):
        sql_table.build(source("z", url=url, cursor_column="seq"), context)
    assert not (tmp_path / "nowhere.sqlite").exists()


def test_the_lower_bound_of_a_lookback_keeps_the_shape_of_the_cursor_value() -> None:
    assert sql_table.lower_bound(100, 30) == 70
    assert sql_table.lower_bound("2016-07-16", 86400) == "2016-07-15"
    assert sql_table.lower_bound("2026-11-20 10:05:00", 600) == "2026-11-20 09:55:00"
    assert sql_table.lower_bound("2026-11-20T10:05:00+00:00", 600) == "2026-11-20T09:55:00+00:00"


def shipment_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping of a SQLite shipments table whose dates are text without an offset."""
    return [
        {
            "specversion": "1.0",
            "id": f"shipped-{record['order_id']}",
            "source": "erp",
            "type": "retail.order.shipped",
            "time": f"{record['shipped_on']}T00:00:00+00:00",
            "data": {"order_id": record["order_id"], "node_id": "DC-EAST"},
        }
    ]


def test_a_sqlite_table_with_text_dates_picks_up_a_row_keyed_in_late_within_a_day_of_lookback(
    engine: Engine, context: Context, tmp_path: Path
) -> None:
    path = tmp_path / "erp.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE shipments (order_id TEXT PRIMARY KEY, shipped_on TEXT)")
        db.executemany(
            "INSERT INTO shipments VALUES (?, ?)",
            [("ORD-1", "2026-11-18"), ("ORD-2", "2026-11-19"), ("ORD-3", "2026-11-19")],
        )
    shipments = SourceConfig(
        name="erp-shipments",
        kind="sql_table",
        options={
            "url": f"sqlite:///{path}",
            "table": "shipments",
            "cursor_column": "shipped_on",
            "key_column": "order_id",
            "lookback": "24h",
        },
        mapping="tests.test_kind_sql_table:shipment_events",
    )
    first = run_once(engine, shipments, context)
    with sqlite3.connect(path) as db:  # keyed in late, dated the day before the cursor
        db.execute("INSERT INTO shipments VALUES ('ORD-0', '2026-11-18')")

    second = run_once(engine, shipments, context)

    assert (first.read, first.accepted) == (3, 3)
    # the window reaches back a day, to 2026-11-18 included: ORD-0 is new, the other 3 read again
    assert (second.read, second.accepted, second.duplicate) == (4, 1, 3)
    assert read_cursor(engine, "erp-shipments") == ["2026-11-19", "ORD-3"]


# --- Northwind, the public sample, read in place ----------------------------------------------
def northwind_facts() -> dict[str, int]:
    """The numbers the collected events must match, counted in the SQLite file itself."""
    with sqlite3.connect(f"file:{NORTHWIND}?mode=ro", uri=True) as db:
        return {
            "orders": db.execute("SELECT count(*) FROM Orders").fetchone()[0],
            "shipped": db.execute(
                "SELECT count(*) FROM Orders WHERE ShippedDate IS NOT NULL AND ShippedDate <> ''"
            ).fetchone()[0],
            "last_order": db.execute("SELECT max(OrderID) FROM Orders").fetchone()[0],
            "products": db.execute("SELECT count(*) FROM Products").fetchone()[0],
            "last_product": db.execute("SELECT max(ProductID) FROM Products").fetchone()[0],
            "order_10248_lines": db.execute(
                "SELECT count(*) FROM [Order Details] WHERE OrderID = 10248"
            ).fetchone()[0],
        }


@pytest.mark.skipif(not NORTHWIND.is_file(), reason="the Northwind sample is not on this machine")
def test_the_northwind_example_collects_every_order_shipment_and_product_once(
    engine: Engine, context: Context
) -> None:
    facts = northwind_facts()
    sources = {s.name: s for s in load_file(REPO / "collectors" / "examples" / "northwind.toml")}

    first = [run_once(engine, sources[name], context) for name in ("northwind-orders", "northwind-products")]
    second = [run_once(engine, sources[name], context) for name in ("northwind-orders", "northwind-products")]

    assert [r.status for r in first + second] == ["ok"] * 4, [r.error for r in first + second]
    assert first[0].read == facts["orders"]
    assert first[0].accepted == facts["orders"] + facts["shipped"]  # created, + shipped when shipped
    assert first[0].quarantined == 0
    assert first[1].accepted == facts["products"]
    assert len(events_of(engine, "retail.order.created")) == facts["orders"]
    assert len(events_of(engine, "retail.order.shipped")) == facts["shipped"]
    assert len(events_of(engine, "retail.product.upserted")) == facts["products"]
    assert [(r.read, r.accepted) for r in second] == [(0, 0), (0, 0)]
    assert read_cursor(engine, "northwind-orders") == [facts["last_order"], facts["last_order"]]
    assert read_cursor(engine, "northwind-products") == [facts["last_product"], facts["last_product"]]

    with engine.connect() as conn:
        order = conn.execute(
            sa.text(
                "SELECT time, data FROM events WHERE source = 'erp/northwind' AND id = 'order-10248-created'"
            )
        ).one()
    assert order.time == datetime(2016, 7, 4, tzinfo=UTC)  # OrderDate, read as UTC
    assert order.data["channel"] == "phone"
    assert order.data["promised_by"] == "2016-08-01T00:00:00+00:00"
    assert len(order.data["lines"]) == facts["order_10248_lines"]
    assert order.data["lines"][0] == {"sku": "NW-11", "qty": 12, "unit_price": 14, "discount": 0.0}
