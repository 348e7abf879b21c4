"""Data access for the pages: one cached engine, cached queries with a short TTL.

The engine is cached with `st.cache_resource`, keyed by the configured DATABASE_URL (None
means the embedded server), so a changed setting gets a new engine. Query results are
cached with `st.cache_data` for `QUERY_TTL_SECONDS`, keyed by the same URL, the query name
and its parameters. No widgets here: cached functions must not draw.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st
from sqlalchemy.engine import Engine

from app.db.engine import get_engine, query_frame
from app.settings import load_settings
from collectors.health import statuses
from metrics import integrations, past
from metrics import summary as metric_summary
from metrics.params import ALL, Policies, Scope, Window
from metrics.policies import load as load_policies

QUERY_TTL_SECONDS = 30
TREND_TTL_SECONDS = int(past.QUARTER.total_seconds())  # a previous window's (the live one floors to it)
OPTIONS_TTL_SECONDS = 300  # the filters' lists of known values change slowly
OPTIONS_LOOKBACK = timedelta(days=1)  # orders whose node no location event names


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
    cached_functions = (_frame, _summary, _summary_before, _policies, _source_health, _filter_options)
    for cached in (*cached_functions, _integration_health):
        cached.clear()


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)
def _summary(
    database_url: str | None, as_of: datetime, since: datetime, until: datetime, scope: Scope
) -> dict[str, Any]:
    return metric_summary.compute(_engine(database_url), Window(as_of, since, until), scope=scope)


def summary(window: Window, scope: Scope = ALL) -> dict[str, Any]:
    """Every metric family for a window (metrics.summary.compute, the stored policies),
    narrowed by `scope` as metrics/scoping.py says (filters.current().scope())."""
    return _summary(load_settings().database_url, window.as_of, window.since, window.until, scope)


@st.cache_data(ttl=TREND_TTL_SECONDS, show_spinner=False)
def _summary_before(
    database_url: str | None, as_of: datetime, since: datetime, until: datetime, scope: Scope
) -> dict[str, Any]:
    return past.summary(_engine(database_url), Window(as_of, since, until), scope=scope)


def summary_before(window: Window, scope: Scope = ALL) -> dict[str, Any]:
    """`summary` of a previous window, for a trend: cached TREND_TTL_SECONDS, and kept in the
    database once computed (metrics.past: figures of the past change only with a late event;
    replaying an earlier inventory is the dearest query of the Overview)."""
    return _summary_before(load_settings().database_url, window.as_of, window.since, window.until, scope)


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)
def _policies(database_url: str | None) -> Policies:
    with _engine(database_url).connect() as conn:
        return load_policies(conn)


def policies() -> Policies:
    """The policies in force: the defaults with the stored overrides."""
    return _policies(load_settings().database_url)


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)
def _integration_health(
    database_url: str | None, as_of: datetime, since: datetime, until: datetime, scope: Scope
) -> tuple[dict[str, Any], pl.DataFrame, pl.DataFrame]:
    window = Window(as_of, since, until)
    policies = _policies(database_url)
    with _engine(database_url).connect() as conn:
        return (
            integrations.summary(conn, window, policies, scope=scope),
            integrations.by_interface(conn, window, policies, scope=scope),
            integrations.delayed_by_source(conn, window, policies, scope=scope),
        )


def integration_health(
    window: Window, scope: Scope = ALL
) -> tuple[dict[str, Any], pl.DataFrame, pl.DataFrame]:
    """metrics.integrations' summary, per interface and delayed by source, with the stored
    policies; `scope` narrows them by source only (metrics/scoping.py)."""
    scope = Scope(source=scope.source)  # one cache entry whatever the other filters
    return _integration_health(load_settings().database_url, window.as_of, window.since, window.until, scope)


@st.cache_data(ttl=QUERY_TTL_SECONDS, show_spinner=False)
def _source_health(database_url: str | None, as_of: datetime) -> list[dict[str, Any]]:
    return [asdict(s) for s in statuses(_engine(database_url), as_of)]


def source_health(as_of: datetime) -> list[dict[str, Any]]:
    """Every collector source with its health (collectors.health.SourceStatus as dicts)."""
    return _source_health(load_settings().database_url, as_of)


@st.cache_data(ttl=OPTIONS_TTL_SECONDS, show_spinner=False)
def _filter_options(database_url: str | None, recent: datetime) -> dict[str, list[str]]:
    rows = query_frame(_engine(database_url), "ui/overview_filter_options", recent=recent).rows()
    out: dict[str, list[str]] = {}
    for scope, value in rows:
        out.setdefault(scope, []).append(value)
    return out


def filter_options(now: datetime) -> dict[str, list[str]]:
    """Known channels, nodes (locations, and those of the last day's orders), regions and
    sources, for the filters."""
    recent = (now - OPTIONS_LOOKBACK).replace(minute=0, second=0, microsecond=0)
    return _filter_options(load_settings().database_url, recent)


def _in_zone(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Show every timestamp column in the configured time zone."""
    zoned = [
        pl.col(name).dt.convert_time_zone(zone)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    return frame.with_columns(zoned) if zoned else frame
