"""The one door to the database: the engine, a few verbs, the embedded server, migrations."""

from app.db.engine import (
    DatabaseUnavailable,
    copy_text,
    get_engine,
    query_frame,
    resolve_url,
    safe_url,
    sql_text,
)

__all__ = [
    "DatabaseUnavailable",
    "copy_text",
    "get_engine",
    "query_frame",
    "resolve_url",
    "safe_url",
    "sql_text",
]
