"""The simulator's own SQL (simulator/sql/*.sql, not ctower migrations) and its schemas."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

SQL_DIR = Path(__file__).resolve().parent / "sql"
SCHEMA_LOCK = 7_424_001  # advisory lock key: one simulator at a time creates the schemas


@cache
def sim_sql(name: str) -> sa.TextClause:
    """A statement from `simulator/sql/NAME.sql`, read once."""
    return sa.text((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


@cache
def sim_script(name: str) -> str:
    """A script of several statements without parameters, from `simulator/sql/NAME.sql`."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def ensure_schema(engine: Engine) -> None:
    """Create the `sim` and `erp` schemas and their tables if they are missing."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        conn.exec_driver_sql(sim_script("schema"))
