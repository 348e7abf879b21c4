"""One numbered migration history, applied once, safely, even by two processes at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import psycopg
import pytest
import sqlalchemy as sa

from app.db.engine import get_engine
from app.db.migrate import available, migrate, pending

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT_TABLES = {
    "events",
    "event_keys",
    "quarantine",
    "ingest_batches",
    "source_activity",
    "schema_migrations",
}


@pytest.fixture
def empty_engine(empty_database_url):  # type: ignore[no-untyped-def]
    engine = get_engine(empty_database_url)
    yield engine
    engine.dispose()


def migrations_recorded(engine) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version, name, checksum FROM schema_migrations ORDER BY version"))
        return [tuple(r) for r in rows]


def tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return set(
            conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        )


def test_migrating_an_empty_database_applies_every_migration_and_a_second_run_applies_nothing(empty_engine):
    first = migrate(empty_engine)
    second = migrate(empty_engine)

    assert [m.version for m in first] == [m.version for m in available()]
    assert second == []
    assert pending(empty_engine) == []
    assert tables(empty_engine) >= CONTRACT_TABLES


def test_each_migration_is_recorded_once_with_its_name_and_checksum(empty_engine):
    migrate(empty_engine)
    migrate(empty_engine)

    assert migrations_recorded(empty_engine) == [(m.version, m.name, m.checksum) for m in available()]


def test_only_the_pending_migrations_are_applied(engine, tmp_path):
    for m in available():
        shutil.copy(m.path, tmp_path / m.path.name)
    (tmp_path / "9001_carrier_notes.sql").write_text("CREATE TABLE carrier_notes (note text);")

    applied = migrate(engine, tmp_path)

    assert [m.name for m in applied] == ["carrier_notes"]
    assert "carrier_notes" in tables(engine)
    assert migrations_recorded(engine)[-1][:2] == (9001, "carrier_notes")


def test_a_failing_migration_leaves_nothing_half_applied(engine, tmp_path):
    for m in available():
        shutil.copy(m.path, tmp_path / m.path.name)
    (tmp_path / "9001_broken.sql").write_text("CREATE TABLE half_done (x int);\nSELECT no_such_function();")

    with pytest.raises((sa.exc.SQLAlchemyError, psycopg.Error), match="no_such_function"):
        migrate(engine, tmp_path)

    assert "half_done" not in tables(engine)
    assert 9001 not in [v for v, _, _ in migrations_recorded(engine)]


def test_a_migration_edited_after_it_was_applied_is_refused(engine, tmp_path):
    [first, *_] = available()
    edited = tmp_path / first.path.name
    edited.write_text(first.sql + "\n-- edited afterwards\n")

    with pytest.raises(RuntimeError, match=first.path.name):
        migrate(engine, tmp_path)


def test_two_processes_migrating_an_empty_database_at_once_both_succeed(
    empty_database_url, empty_engine, tmp_path
):
    env = {**os.environ, "DATABASE_URL": empty_database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "app.cli", "db", "migrate"]
    both = [
        subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in both]
    results = [(p.returncode, *out) for p, out in zip(both, outputs, strict=True)]

    assert [code for code, _, _ in results] == [0, 0], results
    assert [v for v, _, _ in migrations_recorded(empty_engine)] == [m.version for m in available()]
    assert tables(empty_engine) >= CONTRACT_TABLES
