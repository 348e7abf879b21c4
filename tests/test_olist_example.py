"""The Olist example (collectors/examples/olist.toml): real marketplace orders mapped to
canonical order events by a declarative mapping, no Python, through the file_drop kind.

The data is read from the shared data folder (never copied into the repository): a copy
goes into a temporary drop folder for the test.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.base import Context, SourceConfig
from collectors.config import load_file
from collectors.runner import Retry, run_once

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CTOWER_SHARED_DATA") or REPO.parent / "shared" / "data")
OLIST = SHARED_DATA / "olist-orders-first1000"
ORDERS = "olist_orders_dataset.csv"
ITEMS = "olist_order_items_dataset.csv"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not (OLIST / ORDERS).is_file(),
    reason=f"the Olist sample is not at {OLIST} (set CTOWER_SHARED_DATA to the shared data folder)",
)


def expected_counts() -> dict[str, int]:
    """Straight from the CSV: what the example's four rules should produce."""
    with (OLIST / ORDERS).open(encoding="utf-8", newline="") as handle:
        orders = list(csv.DictReader(handle))
    return {
        "retail.order.created": len(orders),
        "retail.order.shipped": sum(1 for o in orders if o["order_delivered_carrier_date"].strip()),
        "retail.order.delivered": sum(1 for o in orders if o["order_delivered_customer_date"].strip()),
        "retail.order.cancelled": sum(1 for o in orders if o["order_status"] == "canceled"),
    }


def item_rows() -> int:
    with (OLIST / ITEMS).open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def drop_olist(tmp_path: Path) -> Path:
    """A drop folder holding copies of the orders and items files, written a minute ago."""
    drop_folder = tmp_path / "olist"
    drop_folder.mkdir()
    for name in (ORDERS, ITEMS):
        shutil.copyfile(OLIST / name, drop_folder / name)
        os.utime(drop_folder / name, (NOW.timestamp() - 60, NOW.timestamp() - 60))
    return drop_folder


def olist_source(drop_folder: Path) -> SourceConfig:
    """The example's source, reading the given folder."""
    (source,) = load_file(REPO / "collectors" / "examples" / "olist.toml")
    return replace(source, options={**source.options, "path": str(drop_folder)})


def test_the_olist_orders_file_becomes_created_shipped_delivered_and_cancelled_events(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    drop_folder = drop_olist(tmp_path)
    source = olist_source(drop_folder)
    context = Context(clock=lambda: NOW, database_url=database_url)

    first = run_once(engine, source, context, retry=Retry(attempts=1))
    again = run_once(engine, source, context, retry=Retry(attempts=1))

    expected = expected_counts()
    with engine.connect() as conn:
        by_type = {
            row.type: row.count
            for row in conn.execute(
                sa.text("SELECT type, count(*) FROM events WHERE source = 'marketplace/olist' GROUP BY type")
            )
        }
        lines = conn.execute(
            sa.text("SELECT sum(jsonb_array_length(data->'lines')) FROM events WHERE data ? 'lines'")
        ).scalar()
        quarantined = conn.execute(sa.text("SELECT count(*) FROM quarantine")).scalar()
    assert by_type == expected  # 1,000 created, 993 shipped, 979 delivered, 2 cancelled in this sample
    assert lines == item_rows()  # every item row is one line of its order
    assert (first.status, first.read, first.accepted, quarantined) == ("ok", 1000, sum(expected.values()), 0)
    assert (again.status, again.read, again.accepted) == ("ok", 0, 0)
    assert (drop_folder / "processed" / ORDERS).is_file() and not (drop_folder / ORDERS).exists()
    assert (drop_folder / ITEMS).is_file()  # the lookup stays where it is


def test_an_order_is_bought_in_sao_paulo_time_and_promised_by_its_estimate(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    source = olist_source(drop_olist(tmp_path))

    run_once(engine, source, Context(clock=lambda: NOW, database_url=database_url), retry=Retry(attempts=1))

    with engine.connect() as conn:
        created = conn.execute(
            sa.text("SELECT time, data FROM events WHERE id = 'e481f51cbdc54678b7cc49136f2d6af7:created'")
        ).one()
    # the first row of the file: bought 2017-10-02 10:56:33 in Sao Paulo (UTC-3 that day)
    assert created.time == datetime(2017, 10, 2, 13, 56, 33, tzinfo=UTC)
    # promised by 2017-10-18 00:00 local: summer time (UTC-2) had begun on 15 October
    assert created.data["promised_by"] == "2017-10-18T02:00:00+00:00"
    assert created.data["lines"] == [
        {
            "sku": "87285b34884572647811a353c7ac498a",
            "qty": 1,
            "unit_price": 29.99,
            "seller_id": "3504c0cb71d7fa48d967e0e4c94d59d9",
        }
    ]
