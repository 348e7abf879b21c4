"""The engine and the few verbs everything else uses to talk to PostgreSQL.

Nothing else builds engines. SQL text comes from `sql/*.sql` (read once) or from short
literals, always with named, bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from app.settings import Settings, load_settings

if TYPE_CHECKING:
    import polars as pl

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says what to do."""


def resolve_url(database_url: str | None = None, settings: Settings | None = None) -> str:
    """The SQLAlchemy URL to use: the argument, else DATABASE_URL, else the embedded server."""
    settings = settings or load_settings()
    url = database_url or settings.database_url
    if url:
        return normalise_url(url)
    from app.db import embedded

    try:
        return embedded.start(settings.data_dir)
    except Exception as exc:  # the wheel raises several kinds; all mean "could not start"
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {settings.data_dir}: {exc}. "
            "Check the folder is writable, or set DATABASE_URL to an existing server."
        ) from exc


def normalise_url(url: str) -> str:
    """Accept the URL forms people paste and use the psycopg 3 driver."""
    return re.sub(r"^(postgres|postgresql)(\+\w+)?://", "postgresql+psycopg://", url)


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


@cache
def _engine(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def get_engine(database_url: str | None = None, *, check: bool = True) -> Engine:
    """The shared engine for a URL (see `resolve_url`); `check` connects once to fail early."""
    url = resolve_url(database_url)
    engine = _engine(url)
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseUnavailable(
                f"cannot reach the database at {safe_url(url)} ({reason}). "
                "Check DATABASE_URL, or unset it to use the embedded server."
            ) from None
    return engine


@cache
def sql_text(name: str) -> sa.TextClause:
    """A query from `sql/NAME.sql`, read once."""
    return sa.text((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def _statement(query: str | sa.TextClause) -> sa.TextClause:
    if isinstance(query, sa.TextClause):
        return query
    return sql_text(query) if re.fullmatch(r"[\w/]+", query) else sa.text(query)


def query_frame(
    engine_or_conn: Engine | Connection, query: str | sa.TextClause, **params: Any
) -> pl.DataFrame:
    """Run a query (a name in sql/, or SQL text with :named parameters) into a polars frame."""
    stmt = _statement(query)
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            result = conn.execute(stmt, params)
            return _frame(result)
    return _frame(engine_or_conn.execute(stmt, params))


def _frame(result: sa.CursorResult[Any]) -> pl.DataFrame:
    import polars as pl  # imported on first use: the CLI and collectors do not need it

    columns = list(result.keys())
    rows = result.fetchall()
    return pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row", infer_schema_length=None)


def copy_text(conn: Connection, table: str, columns: Sequence[str], payload: bytes) -> None:
    """COPY `payload`, rows in PostgreSQL's text format (see app.ingest.copytext), into
    `table` within the connection's open transaction.

    `table` and `columns` are identifiers chosen by our code, never user input.
    """
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(statement) as copy:
        copy.write(payload)
