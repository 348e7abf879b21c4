"""The `ocel` kind (collectors/ocel): OCEL 2.0 logs, JSON or XML, into canonical events,
through the real runner (collectors.runner.run_once) into a fresh store.

The shared "Order Management" log is read in place (never copied into the repository); its
expected counts are worked out from the JSON file itself below, independently of the
mapping code: one created and one routed event per order, one picked event per item, one
packed/shipped/delivered event per (package, order with items in that package) pair.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.base import Context, SourceConfig
from collectors.config import load_file
from collectors.runner import Retry, read_cursor, run_once

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CTOWER_SHARED_DATA") or REPO.parent / "shared" / "data")
LOG_DIR = SHARED_DATA / "ocel2-order-management"
JSON_LOG = LOG_DIR / "order-management.json.gz"
XML_LOG = LOG_DIR / "order-management.xml.gz"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

needs_log = pytest.mark.skipif(
    not (JSON_LOG.is_file() and XML_LOG.is_file()),
    reason=f"the OCEL order-management log is not at {LOG_DIR} (set CTOWER_SHARED_DATA)",
)


def source(path: Path, name: str = "om", **options: Any) -> SourceConfig:
    return SourceConfig(
        name=name, kind="ocel", options={"path": str(path), "source": "ocel/om", **options}, system="oms"
    )


def context(url: str) -> Context:
    return Context(clock=lambda: NOW, database_url=url)


def expected_from_file() -> dict[str, int]:
    """Counts of canonical events per type, straight from the JSON log."""
    with gzip.open(JSON_LOG) as handle:
        log = json.load(handle)
    kind = {o["id"]: o["type"] for o in log["objects"]}
    order_of_item = {
        r["objectId"]: o["id"] for o in log["objects"] if o["type"] == "orders" for r in o["relationships"]
    }
    per_type = Counter(e["type"] for e in log["events"])

    def orders_in(event: dict[str, Any]) -> int:
        return len(
            {order_of_item[r["objectId"]] for r in event["relationships"] if kind[r["objectId"]] == "items"}
        )

    def package_pairs(activity: str) -> int:
        return sum(orders_in(e) for e in log["events"] if e["type"] == activity)

    return {
        "retail.order.created": per_type["place order"],
        "retail.order.routed": per_type["confirm order"],
        "retail.order.picked": per_type["pick item"],
        "retail.order.packed": package_pairs("create package"),
        "retail.order.shipped": package_pairs("send package"),
        "retail.order.delivered": package_pairs("package delivered"),
        "retail.order.exception": per_type["item out of stock"] + package_pairs("failed delivery"),
        "orders": sum(1 for o in log["objects"] if o["type"] == "orders"),
        "ocel events": len(log["events"]),
        "attached": per_type["pay order"] + per_type["payment reminder"] + per_type["reorder item"],
    }


def stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT source, id, type, time, subject, data FROM events WHERE source = 'ocel/om'")
        )
        return sorted(tuple(r) for r in rows)


@needs_log
def test_the_order_management_log_gives_its_orders_and_steps_counted_from_the_file(
    engine: Engine, database_url: str
) -> None:
    expected = expected_from_file()
    # worked out once by hand from the file, to know the counting above counts right
    assert expected["orders"] == 2000 and expected["ocel events"] == 21008
    assert expected["retail.order.picked"] == 7659 and expected["attached"] == 2000 + 566 + 1544

    run = run_once(engine, source(JSON_LOG), context(database_url), retry=Retry(attempts=1))

    assert run.status == "ok", run.error
    assert run.read == 21008
    canonical = sum(v for k, v in expected.items() if k.startswith("retail."))
    assert (run.accepted, run.duplicate, run.quarantined) == (canonical, 0, 0)
    with engine.connect() as conn:
        per_type = dict(
            conn.execute(
                sa.text("SELECT type, count(*) FROM events WHERE source = 'ocel/om' GROUP BY type")
            ).all()
        )
        orders = conn.execute(
            sa.text("SELECT count(*) FROM order_facts WHERE created_at IS NOT NULL")
        ).scalar()
        paid = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE type = 'retail.order.created' AND data ? 'paid_at'")
        ).scalar()
    assert per_type == {k: v for k, v in expected.items() if k.startswith("retail.")}
    assert orders == 2000
    assert paid == 2000  # every "pay order" kept on its order's created event


@needs_log
def test_the_json_and_the_xml_file_give_the_same_canonical_events_and_a_second_run_changes_nothing(
    engine: Engine, database_url: str, pg_server: str
) -> None:
    from app.db.engine import get_engine
    from tests.conftest import new_database

    run_once(engine, source(JSON_LOG), context(database_url), retry=Retry(attempts=1))
    other_url = new_database(pg_server)
    other = get_engine(other_url)
    try:
        run_once(other, source(XML_LOG), context(other_url), retry=Retry(attempts=1))
        assert stored(engine) == stored(other)
    finally:
        other.dispose()

    before = stored(engine)
    again = run_once(engine, source(JSON_LOG), context(database_url), retry=Retry(attempts=1))
    assert (again.read, again.accepted) == (0, 0)  # read to its end: not read again
    assert read_cursor(engine, "om")["done"] is True
    # the same log under another source name: every event is a duplicate, none new
    other_name = run_once(
        engine, source(XML_LOG, name="om-xml"), context(database_url), retry=Retry(attempts=1)
    )
    assert (other_name.accepted, other_name.duplicate, other_name.quarantined) == (0, 27112, 0)
    assert stored(engine) == before


SMALL_LOG = {
    "objectTypes": [{"name": "orders", "attributes": []}, {"name": "items", "attributes": []}],
    "eventTypes": [{"name": "place order", "attributes": []}, {"name": "gift wrap", "attributes": []}],
    "objects": [
        {"id": "o-1", "type": "orders", "relationships": [{"objectId": "i-1", "qualifier": "comprises"}]},
        {
            "id": "i-1",
            "type": "items",
            "attributes": [{"name": "price", "value": "9.5", "time": "1970-01-01T00:00:00Z"}],
        },
        {"id": "i-9", "type": "items"},
    ],
    "events": [
        {
            "id": "e1",
            "type": "place order",
            "time": "2026-11-20T10:00:00+01:00",
            "relationships": [
                {"objectId": "o-1", "qualifier": "order"},
                {"objectId": "i-1", "qualifier": "item"},
            ],
        },
        {"id": "e2", "type": "gift wrap", "time": "2026-11-20T10:05:00Z", "relationships": []},
        {
            "id": "e3",
            "type": "pick item",
            "time": "2026-11-20T10:10:00Z",
            "relationships": [{"objectId": "i-9", "qualifier": "item"}],
        },
    ],
}


def test_an_unknown_activity_and_an_item_of_no_order_are_quarantined_with_their_reason(
    engine: Engine, database_url: str, tmp_path: Path, query: Any
) -> None:
    path = tmp_path / "small.jsonocel"
    path.write_text(json.dumps(SMALL_LOG))

    run = run_once(engine, source(path, name="small"), context(database_url), retry=Retry(attempts=1))

    assert (run.read, run.accepted, run.quarantined) == (3, 1, 2)
    reasons = sorted(r.reason for r in query("SELECT reason FROM quarantine"))
    assert reasons == [
        "mapping: OCEL event e3 (pick item): relates to no order",
        "mapping: OCEL event type 'gift wrap' has no canonical counterpart "
        "(add it to the source's option 'activities')",
    ]
    (created,) = query("SELECT time, data FROM events WHERE type = 'retail.order.created'")
    assert created.time == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert created.data["lines"] == [{"sku": "i-1", "qty": 1, "unit_price": 9.5}]  # no product: the item
    assert created.data["promised_by"] == "2026-12-04T09:00:00+00:00"  # placed + 14 days


def test_the_example_sources_file_names_the_shared_log_with_the_ocel_kind() -> None:
    (config,) = load_file(REPO / "collectors" / "examples" / "ocel.toml")
    assert config.kind == "ocel"
    assert Path(config.options["path"]).name == "order-management.json.gz"


def test_a_file_that_is_not_an_ocel_log_fails_the_run_with_one_line(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "not-a-log.json"
    path.write_text('{"hello": 1}')
    run = run_once(engine, source(path, name="bad"), context(database_url), retry=Retry(attempts=1))
    assert run.status == "failed"
    assert (
        run.error == "source bad: not-a-log.json: not an OCEL 2.0 JSON log (no 'events' and 'objects' arrays)"
    )


def test_ctower_collect_runs_an_ocel_source_from_a_sources_file(ctower: Any, tmp_path: Path) -> None:
    log = tmp_path / "small.jsonocel"
    log.write_text(json.dumps(SMALL_LOG))
    config = tmp_path / "sources.toml"
    config.write_text(f'[[source]]\nname = "small"\nkind = "ocel"\n[source.options]\npath = "{log}"\n')

    done = ctower("collect", "--config", str(config), "--once", "--json")

    assert done.returncode == 0, done.stderr
    (run,) = json.loads(done.stdout)
    assert (run["source"], run["read"], run["accepted"], run["quarantined"]) == ("small", 3, 1, 2)
