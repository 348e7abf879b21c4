"""Data access for the pages: one cached engine, cached queries with a short TTL.

The engine is cached with `st.cache_resource`, keyed by the configured DATABASE_URL (None
means the embedded server), so a changed setting gets a new engine. Query results are
cached with `st.cache_data` for `QUERY_TTL_SECONDS`, keyed by the same URL, the query name
and its parameters. No widgets here: cached functions must not draw.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from app.db.engine import get_engine, query_frame
from app.settings import load_settings

QUERY_TTL_SECONDS = 30


@st.cache_resource(show_spinner=False)
def _engine(database_url: str | None) -> Engine:
    # get_engine connects once and raises DatabaseUnavailable; exceptions are not cached
    return get_engine(database_url)


def engine() -> Engine:
    """The shared engine for the configured database."""
    return _engine(load_settings().database_url)


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)
def _frame(database_url: str | None, query: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    frame = query_frame(_engine(database_url), query, **dict(params))
    return _in_zone(frame, load_settings().timezone)


def frame(query: str, **params: Any) -> pl.DataFrame:
    """A named query from `sql/` (e.g. "ui/intake_batches") as a frame, cached for a while."""
    return _frame(load_settings().database_url, query, tuple(sorted(params.items())))


def row(query: str, **params: Any) -> dict[str, Any]:
    """The first row of a named query as a dict (empty when there is none)."""
    rows = frame(query, **params).to_dicts()
    return rows[0] if rows else {}


def refresh() -> None:
    """Forget cached query results, so the next read goes to the database."""
    _frame.clear()


def _in_zone(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Show every timestamp column in the configured time zone."""
    zoned = [
        pl.col(name).dt.convert_time_zone(zone)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    return frame.with_columns(zoned) if zoned else frame
