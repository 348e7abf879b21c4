"""`ctower demo` prepares a usable store: demo data once, never over real data."""

from datetime import UTC, datetime

import sqlalchemy as sa

from app.commands.demo import load_demo_events


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_demo_data_fills_an_empty_store_once_and_nothing_is_from_the_future(engine):
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    loaded = load_demo_events(engine, 3_000, now=now)
    assert 0 < loaded <= 3_000
    assert _count(engine, "events") == loaded
    assert _count(engine, "quarantine") == 0
    with engine.connect() as conn:
        latest = conn.execute(sa.text("SELECT max(time) FROM events")).scalar_one()
    assert latest <= now

    assert load_demo_events(engine, 3_000, now=now) == 0  # a store with events is left alone
    assert _count(engine, "events") == loaded


def test_demo_without_serving_prepares_the_database_and_exits_zero(ctower):
    result = ctower("demo", "--no-serve", "--demo-events", "500")
    assert result.returncode == 0, result.stderr
    assert "events loaded" in result.stdout
    again = ctower("demo", "--no-serve", "--demo-events", "500")
    assert again.returncode == 0
    assert "already has events" in again.stdout
