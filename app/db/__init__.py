"""The one door to the database: the engine, a few verbs, the embedded server, migrations."""

from app.db.engine import (
    DatabaseUnavailable,
    copy_rows,
    get_engine,
    query_frame,
    raw_connection,
    resolve_url,
    safe_url,
    sql_text,
    transaction,
)

__all__ = [
    "DatabaseUnavailable",
    "copy_rows",
    "get_engine",
    "query_frame",
    "raw_connection",
    "resolve_url",
    "safe_url",
    "sql_text",
    "transaction",
]
