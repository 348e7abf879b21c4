"""Data intake: is data flowing into the store?

For the engineer installing the product: how much is stored and quarantined, which
event types arrive, the latest ingest batches and quarantined records, and when each
source was last heard from. Page state keys start with `intake_`.
"""

from __future__ import annotations

import streamlit as st

from app.settings import load_settings
from app.ui import charts, data
from app.ui.theme import EMPTY_CELL

BATCH_ROWS = 20
QUARANTINE_ROWS = 20
SOURCE_ROWS = 50
RAW_CHARS = 120
EMPTY_MESSAGE = "No events yet — load some with `ctower ingest FILE`"
TILES = (  # (column of ui/intake_totals, label, help)
    ("events", "Events stored", "Distinct events accepted into the store (duplicates stored once)."),
    ("quarantined", "Quarantined", "Records not stored: invalid, or a conflicting copy of an event."),
    ("batches", "Ingest batches", "Ingest transactions recorded, by `ctower ingest` or a collector."),
    ("sources", "Sources", "Distinct event sources that have sent at least one valid event."),
)

zone = load_settings().timezone
when = "YYYY-MM-DD HH:mm:ss"
count = st.column_config.NumberColumn
stamp = st.column_config.DatetimeColumn

st.title("Data intake")
intro, actions = st.columns([6, 1], vertical_alignment="bottom")
intro.caption(
    "What the event store holds, the latest ingest batches, what was quarantined and why, "
    f"and when each source was last heard from. Times in {zone}; figures refresh every "
    f"{data.QUERY_TTL_SECONDS} s."
)
if actions.button("Refresh", key="intake_refresh", width="stretch"):
    data.refresh()

totals = data.row("ui/intake_totals")
for column, (key, label, help_text) in zip(st.columns(len(TILES)), TILES, strict=True):
    column.metric(label, f"{totals[key]:,}", border=True, help=help_text)
if totals["last_batch_at"] is not None:
    st.caption(f"Last ingest batch finished {totals['last_batch_at']:%Y-%m-%d %H:%M:%S} ({zone}).")

if totals["events"] == 0:
    st.info(EMPTY_MESSAGE)

by_type, by_source = st.columns([1, 1], gap="large")
with by_type:
    st.subheader("Events per type")
    types = data.frame("ui/intake_events_by_type")
    if types.is_empty():
        st.caption("No events stored yet.")
    else:
        st.plotly_chart(
            charts.ranked_bars(types, "type", "events", strip_prefix="retail."),
            theme=None,
            config={"displayModeBar": False},
            key="intake_types_chart",
        )
with by_source:
    st.subheader("Sources")
    sources = data.frame("ui/intake_sources", limit=SOURCE_ROWS)
    if sources.is_empty():
        st.caption("No source has sent a valid event yet.")
    else:
        if totals["sources"] > SOURCE_ROWS:
            st.caption(f"The {SOURCE_ROWS} most recently heard from, of {totals['sources']:,}.")
        st.dataframe(
            sources,
            hide_index=True,
            width="stretch",
            column_config={
                "source": st.column_config.TextColumn("Source"),
                "last_received_at": stamp("Last received", format=when),
                "last_event_time": stamp("Latest business time", format=when),
                "received": count("Received", format="localized"),
                "accepted": count("Accepted", format="localized"),
            },
            placeholder=EMPTY_CELL,
        )

st.subheader("Latest ingest batches")
batches = data.frame("ui/intake_batches", limit=BATCH_ROWS)
if batches.is_empty():
    st.caption("No ingest batches yet.")
else:
    st.dataframe(
        batches,
        hide_index=True,
        width="stretch",
        column_config={
            "origin": st.column_config.TextColumn("Origin", width="large"),
            "finished_at": stamp("Finished", format=when),
            "received": count("Received", format="localized"),
            "accepted": count("Accepted", format="localized"),
            "duplicate": count("Duplicate", format="localized"),
            "conflict": count("Conflict", format="localized"),
            "quarantined": count("Quarantined", format="localized"),
        },
        placeholder=EMPTY_CELL,
    )

st.subheader("Latest quarantined records")
quarantine = data.frame("ui/intake_quarantine", limit=QUARANTINE_ROWS, raw_chars=RAW_CHARS)
if quarantine.is_empty():
    st.caption("Nothing quarantined.")
else:
    st.dataframe(
        quarantine,
        hide_index=True,
        width="stretch",
        column_config={
            "received_at": stamp("Received", format=when, width=150),
            "origin": st.column_config.TextColumn("Origin", width=200),
            "record_no": count("Record", format="%d", width=70, help="Line or element number in the origin"),
            "source": st.column_config.TextColumn("Source", width=130),
            "reason": st.column_config.TextColumn("Reason", width=480),
            "raw": st.column_config.TextColumn("Raw (start)", width="large"),
        },
        placeholder=EMPTY_CELL,
    )
