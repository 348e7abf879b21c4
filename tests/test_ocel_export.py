"""`ctower export ocel` (app/commands/export.py, collectors/ocel/export.py): the events of a
set of orders as an OCEL 2.0 JSON log, valid against the standard's schema, that the
`ocel` kind reads back into the same canonical events.

The store holds the hand-built log of tests/test_process_log.py (6 orders, 31 events:
O-A 7, O-B 6, O-C 7, O-D 3, O-E 2, O-OLD 2) plus, for O-A, a return with a null field and
an integration call without an order (never exported).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db.engine import get_engine
from collectors.base import Context, SourceConfig
from collectors.ocel.export import SCHEMA_PATH, InvalidLog, to_ocel, validate
from collectors.runner import Retry, run_once
from tests.builders import SKU, STORE, event, jsonl
from tests.conftest import new_database
from tests.test_process_log import EVENTS

EXTRA = [
    event(
        "retail.return.received",
        {
            "return_id": "RET-9",
            "sku": SKU,
            "qty": 1,
            "location_id": STORE,
            "order_id": "O-A",
            "reason_code": None,
        },
        id="RET-9-received",
        source="returns",
        time="2026-11-13T08:00:00+01:00",
        subject="RET-9",
    ),
    event("retail.integration.call", id="call-1", time="2026-11-10T05:00:00Z", subject=None),
]
COLUMNS = "source, id, type, time, subject, data"


def stored(engine: Engine, where: str = "order_id IS NOT NULL") -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY source, id"))  # noqa: S608
        return [tuple(r) for r in rows]


@pytest.fixture
def seeded(engine: Engine, ingest: Any) -> Engine:
    assert ingest(jsonl(*EVENTS, *EXTRA)).accepted == len(EVENTS) + len(EXTRA)
    return engine


def test_an_export_validates_against_the_schema_and_imports_back_into_the_same_events(
    seeded: Engine, ctower: Any, tmp_path: Path, pg_server: str
) -> None:
    out = tmp_path / "orders.jsonocel.gz"
    done = ctower(
        "export", "ocel", "--since", "2026-11-09T00:00:00Z", "--until", "2026-11-12T00:00:00Z", "-o", str(out)
    )

    assert done.returncode == 0, done.stderr
    # five orders of the window (O-OLD was created before it): 7 + 6 + 7 + 3 + 2 + the return
    assert done.stdout.strip() == f"wrote 26 events of 5 orders to {out} (OCEL 2.0 JSON, schema-valid)"
    log = json.loads(gzip.decompress(out.read_bytes()))
    schema = json.loads(SCHEMA_PATH.read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(log)) == []
    assert sorted(o["name"] for o in log["objectTypes"]) == ["locations", "orders", "products", "returns"]
    assert len(log["events"]) == 26

    other_url = new_database(pg_server)
    other = get_engine(other_url)
    try:
        source = SourceConfig(name="back", kind="ocel", options={"path": str(out)})
        run = run_once(
            other, source, Context(clock=lambda: datetime.now(UTC), database_url=other_url), retry=Retry(1)
        )
        assert (run.status, run.read, run.accepted, run.quarantined) == ("ok", 26, 26, 0)
        assert stored(other) == stored(seeded, "order_id IN ('O-A', 'O-B', 'O-C', 'O-D', 'O-E')")
    finally:
        other.dispose()


def test_the_order_option_exports_only_those_orders(seeded: Engine, ctower: Any, tmp_path: Path) -> None:
    out = tmp_path / "two.json"
    done = ctower("export", "ocel", "--order", "O-D", "--order", "O-OLD", "-o", str(out))
    assert done.returncode == 0, done.stderr
    log = json.loads(out.read_text())
    assert sorted(e["id"] for e in log["events"]) == [
        "O-D-1-routed", "O-D-2-cancelled", "O-D-created", "O-OLD-1-routed", "O-OLD-created",
    ]  # fmt: skip
    cancelled = next(e for e in log["events"] if e["type"] == "retail.order.cancelled")
    assert cancelled["relationships"] == [{"objectId": "O-D", "qualifier": "order"}]


def test_a_window_that_ends_before_it_starts_is_refused_with_one_line(ctower: Any, tmp_path: Path) -> None:
    done = ctower(
        "export",
        "ocel",
        "--since",
        "2026-11-12T00:00:00Z",
        "--until",
        "2026-11-09T00:00:00Z",
        "-o",
        str(tmp_path / "x"),
    )
    assert done.returncode == 2
    assert done.stderr == (
        "ctower: error: --since (2026-11-12T00:00:00+00:00) must be before "
        "--until (2026-11-09T00:00:00+00:00)\n"
    )


def test_a_log_with_a_number_where_the_schema_wants_text_does_not_validate() -> None:
    delivered = {"source": "oms", "id": "1", "type": "retail.order.delivered", "time": "2026-11-10T00:00:00Z"}
    log = to_ocel([{**delivered, "subject": None, "data": {"order_id": "O-1", "attempt": 2}}])
    validate(log)  # as written: values are text (ce_source, ce_id, attempt, order_id)
    log["events"][0]["attributes"][-1]["value"] = 2
    with pytest.raises(
        InvalidLog,
        match=r"^not a valid OCEL 2.0 JSON log at events/0/attributes/3/value: 2 is not of type 'string'$",
    ):
        validate(log)
