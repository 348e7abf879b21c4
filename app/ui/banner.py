"""The banner every page shows when a collector source is down or stale.

Drawn once per run by the entry point (app/streamlit_app.py), above the page, in a fragment
that refreshes with the live figures (every LIVE_SECONDS when the as-of is now). A source
is troubled when collectors.health says `down`, or when it is `up` but its last success is
older than the `source_stale_minutes` policy at the as-of ("stale"). Every source counts,
whatever the source filter: a feed that stopped concerns every page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import streamlit as st

from app.ui import data, filters, theme
from app.ui.errors import DATABASE_ERRORS

LIVE_SECONDS = 30
TROUBLE = ("down", "stale")


def status_of(source: dict[str, Any], as_of: datetime, stale_after: timedelta) -> str:
    """up, down, paused or never (collectors.health); stale when up but its last success is
    older than `stale_after` at `as_of`."""
    status = str(source["status"])
    last = source["last_success_at"]
    if status == "up" and last is not None and as_of - last > stale_after:
        return "stale"
    return status if status in theme.STATUSES else "never"


def troubled(as_of: datetime) -> list[tuple[str, str]]:
    """(source name, "down" or "stale") of every troubled source at `as_of`, by name."""
    stale_after = timedelta(minutes=data.policies().source_stale_minutes)
    marked = [(str(s["name"]), status_of(s, as_of, stale_after)) for s in data.source_health(as_of)]
    return sorted((name, status) for name, status in marked if status in TROUBLE)


def message(sources: list[tuple[str, str]]) -> str:
    names = ", ".join(f"{name} ({status})" for name, status in sources)
    return (
        f"**{len(sources)} source(s) down or stale:** {names}. Figures that depend on them may be incomplete."
    )


def _draw() -> None:
    f = filters.current()
    try:
        sources = troubled(f.as_of or filters.now())
    except DATABASE_ERRORS:
        return  # the page below explains the database
    if sources:
        st.warning(message(sources), icon="⚠️")


def draw() -> None:
    """The banner, refreshed every LIVE_SECONDS while the filters' as-of is now."""
    live = filters.current().live
    st.fragment(run_every=LIVE_SECONDS if live else None)(_draw)()
