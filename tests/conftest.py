"""Shared fixtures: a real embedded PostgreSQL per test session (per xdist worker), a
migrated template database, and a fresh database cloned from it for every test.

Named characters used across tests live here too.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import embedded
from app.db.engine import get_engine
from app.db.migrate import migrate
from app.ingest.counts import IngestCounts
from app.ingest.reader import read_records
from app.ingest.store import RunInfo, ingest_records
from tests import builders

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = "ctower_template"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The base URL (database 'postgres') of an embedded server for this worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    data_dir = Path(tempfile.mkdtemp(prefix=f"ctower-test-{worker}-"))
    url = embedded.start(data_dir)
    try:
        yield url
    finally:
        embedded.stop(data_dir, immediate=True)  # throw-away data: no shutdown checkpoint
        shutil.rmtree(data_dir, ignore_errors=True)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_url(pg_server: str) -> str:
    """A database with every migration applied, cloned by `database_url`."""
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = _with_database(pg_server, TEMPLATE)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    migrate(engine)
    engine.dispose()
    return url


def new_database(pg_server: str, template: str | None = TEMPLATE) -> str:
    """A new empty database (a clone of the migrated template unless template=None)."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_libpq(pg_server), autocommit=True) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return _with_database(pg_server, name)


@pytest.fixture
def database_url(pg_server: str, template_url: str) -> str:
    """A fresh, migrated database of its own for this test (SQLAlchemy URL)."""
    return new_database(pg_server)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = get_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def ctower(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the real `ctower` CLI in a subprocess against this test's database."""

    def run(
        *args: str, input: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "DATABASE_URL": database_url, "CTOWER_DATA_DIR": str(tmp_path / "data")}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            input=input.decode() if input is not None else None,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=tmp_path,
            timeout=timeout,
        )

    return run


# --- named characters and helpers ---------------------------------------------------------
# The characters themselves live in tests/builders.py (importable by the test modules);
# the fixtures below hand them and the database helpers to tests that ask by name.


@pytest.fixture
def store() -> str:
    """Store 0042, where order ORD-000123 was first routed."""
    return builders.STORE


@pytest.fixture
def dc() -> str:
    """The east distribution centre, where ORD-000123 was rerouted after a stockout."""
    return builders.DC


@pytest.fixture
def an_order() -> dict:
    """The example event of EVENTS.md: ORD-000123 rerouted from STORE-0042 to DC-EAST."""
    return builders.event()


@pytest.fixture
def empty_database_url(pg_server: str) -> str:
    """A new database with nothing in it, not even migrations."""
    return new_database(pg_server, template=None)


@pytest.fixture
def ingest(engine: Engine):  # type: ignore[no-untyped-def]
    """Ingest bytes (JSON Lines or a JSON array) into this test's store; returns the counts."""

    def run(
        payload: bytes, *, batch_size: int = 1000, origin: str = "test.jsonl", source_label: str | None = None
    ) -> IngestCounts:
        return ingest_records(
            engine,
            read_records(io.BytesIO(payload)),
            RunInfo(origin=origin, source_label=source_label),
            batch_size=batch_size,
        )

    return run


@pytest.fixture
def query(engine: Engine):  # type: ignore[no-untyped-def]
    """Run SQL with :named parameters against this test's store; returns the rows."""

    def run(sql: str, **params: object) -> list[sa.Row]:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))

    return run


def truncate_store(engine: Engine) -> None:
    """Empty every ingest table (for tests that reuse one database across examples)."""
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE events, event_keys, quarantine, ingest_batches, source_activity"))


@pytest.fixture
def streamlit_script(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Open a Streamlit script (the entry point or one page) on a database URL, with the
    query string given, and no settings or Streamlit caches left over from other tests."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from app.settings import load_settings

    def clear() -> None:
        load_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()

    def use(script: str, url: str, **query: str) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        clear()
        at = AppTest.from_file(script, default_timeout=30)
        at.query_params.update(query)
        return at

    yield use
    clear()
