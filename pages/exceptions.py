"""Exceptions: the queue the detectors raise (contracts/METRICS.md, "Exceptions").

For the operations lead: what needs attention, most severe and oldest first (as
`ctower exceptions` lists it), how many of each severity, and for one selected exception
its entity, its status history and, for an order, the order's events across systems. The
detectors run with the scheduler (`ctower scheduler`) or `ctower exceptions`; the page only
reads the queue. Page state keys start with `exc_`.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from app.actions.exceptions import workflow as exception_workflow
from app.incidents.ui import open_incident_button
from app.settings import load_settings
from app.ui import data, filters, links
from app.ui.actions import action_buttons
from app.ui.errors import DATABASE_ERRORS, explain
from app.ui.theme import EMPTY_CELL
from metrics.detectors import DETECTORS, SEVERITIES
from metrics.params import Window

QUEUE_ROWS = 500
HISTORY_ROWS = 100
ORDER_EVENT_ROWS = 200
DELIVERY_CALL_ROWS = 100
DATA_CHARS = 160
QUEUE_HEIGHT = 400  # pixels: about 11 rows, the detail beside them
STATUSES = ("open", "acknowledged", "resolved")
DEFAULT_STATUSES = ["open", "acknowledged"]  # the unresolved ones, as `ctower exceptions`
EMPTY_MESSAGE = "No exceptions for this window"
ENTITY_ACTIONS = {"order": ("reroute",), "delivery": ("retry",), "position": ("hold", "adjust")}
DRILL = {  # entity kind -> where to look next ({entity} is the exception's entity)
    "order": "Order **{entity}**: its events across systems are listed under the queue.",
    "delivery": "Delivery **{entity}** (interface | correlation id): its calls are listed under the queue.",
    "interface": "Interface **{entity}**: see the Integrations page (failure rate and latency).",
    "source": "Source **{entity}**: see the Integrations page (source health and collector runs).",
    "position": "Inventory position **{entity}**: see the Inventory page.",
    "shipment": "Shipment **{entity}**: its ASN and receipts are in the inbound events.",
    "return": "Return **{entity}**: its receipt and restock are in the returns events.",
}


def current_window() -> Window:
    """The window and as-of of the shared filters (app/ui/filters.py: the 7 days before now
    unless the sidebar or the URL says otherwise)."""
    return filters.current().resolve(filters.now())


zone = load_settings().timezone
when = "YYYY-MM-DD HH:mm:ss"
minute = "YYYY-MM-DD HH:mm"
stamp = st.column_config.DatetimeColumn
text = st.column_config.TextColumn
shared = filters.current()
window = current_window()
span = window.params()
local = ZoneInfo(zone)

st.title("Exceptions")
intro, actions = st.columns([6, 1], vertical_alignment="bottom")
intro.caption(
    f"Seen from {window.since.astimezone(local):%Y-%m-%d %H:%M} to "
    f"{window.until.astimezone(local):%Y-%m-%d %H:%M}, in their current status, most severe and "
    "oldest first; the detectors run with `ctower scheduler` or `ctower exceptions`. "
    f"Times in {zone}; refreshed every {data.QUERY_TTL_SECONDS} s."
    + (" The region, channel, node and source filters do not apply to the queue." if shared.scopes() else "")
)
if actions.button("Refresh", key="exc_refresh", width="stretch"):
    data.refresh()

by_status, by_type, by_severity = st.columns([2, 3, 2])
statuses = by_status.multiselect(
    "Status", STATUSES, default=DEFAULT_STATUSES, key="exc_status", placeholder="Any status"
)
types = by_type.multiselect("Type", list(DETECTORS), key="exc_type", placeholder="Any type")
severities = by_severity.multiselect(
    "Severity", list(reversed(SEVERITIES)), key="exc_severity", placeholder="Any severity"
)
queue_filters: dict[str, Any] = {**span, "statuses": list(statuses), "types": list(types)}

try:
    counts = data.frame("ui/exceptions_by_severity", **queue_filters)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()
per_severity = dict(zip(counts["severity"].to_list(), counts["exceptions"].to_list(), strict=True))
for column, severity in zip(st.columns(len(SEVERITIES)), reversed(SEVERITIES), strict=True):
    column.metric(severity.capitalize(), f"{per_severity.get(severity, 0):,}", border=True)

queue = data.frame(
    "ui/exceptions_queue",
    **queue_filters,
    severities=list(severities),
    severity_order=list(SEVERITIES),
    limit=QUEUE_ROWS,
)
if queue.is_empty():
    narrowed = bool(types or severities) or sorted(statuses) != sorted(DEFAULT_STATUSES)
    st.info(EMPTY_MESSAGE + (" with these filters." if narrowed else "."))
    st.stop()

listed = sum(n for s, n in per_severity.items() if not severities or s in severities)
shown = queue.drop("key", "entity_kind")  # the type says the kind; the detail shows it
if shown["resolved_at"].null_count() == shown.height:  # none resolved: no empty columns
    shown = shown.drop("resolved_at", "resolved_by")
list_column, detail_column = st.columns([3, 2], gap="large")
with list_column:
    if listed > queue.height:
        st.caption(f"The first {queue.height:,} of {listed:,}, most severe and oldest first.")
    picked = st.dataframe(
        shown,
        key="exc_queue",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=QUEUE_HEIGHT,
        column_config={
            "severity": text("Severity", width=75),
            "status": text("Status", width=105),
            "type": text("Type", width=140),
            "entity": text("Entity"),
            "first_seen": stamp("First seen", format=minute, width=130),
            "last_seen": stamp("Last seen", format=minute, width=130),
            "resolved_at": stamp("Resolved", format=when),
            "resolved_by": text("Resolved by", width="small"),
        },
        placeholder=EMPTY_CELL,
    )
rows: list[int] = picked["selection"]["rows"]  # dict access: AppTest injects plain dicts
# a row of the list read this run; {} when none is selected or it is gone since
chosen = (
    data.row("ui/exceptions_detail", key=queue["key"][rows[0]]) if rows and rows[0] < queue.height else {}
)
if not chosen:
    detail_column.info(
        "Select a row to open the exception: its entity, status history and what the detector saw."
    )
    st.stop()

detail: dict[str, Any] = json.loads(chosen["detail"])
with detail_column:
    st.subheader(f"{chosen['type']} · {chosen['entity']}")
    facts = st.columns(4)
    facts[0].markdown(f"**Severity**  \n{chosen['severity']}")
    facts[1].markdown(f"**Status**  \n{chosen['status']}")
    facts[2].markdown(f"**First seen**  \n{chosen['first_seen']:%Y-%m-%d %H:%M}")
    facts[3].markdown(f"**Last seen**  \n{chosen['last_seen']:%Y-%m-%d %H:%M}")
    st.markdown(f"**Key** `{chosen['key']}` · **Entity** {chosen['entity_kind']} `{chosen['entity']}`")
    if chosen["resolved_at"] is not None:
        st.markdown(f"Resolved {chosen['resolved_at']:%Y-%m-%d %H:%M:%S} by {chosen['resolved_by']}.")
    st.markdown("**Drill into:** " + DRILL[chosen["entity_kind"]].format(entity=chosen["entity"]))
    drill, review = st.columns(2)
    with drill:
        if target := links.exception_entity(chosen["entity_kind"], chosen["entity"]):
            links.entity_link(*target, label=f"Open the {target[0]}'s timeline: {target[1]}")
    with review:
        open_incident_button(chosen["key"])
    st.markdown("**Status history**")
    st.dataframe(
        data.frame("ui/exceptions_history", key=chosen["key"], limit=HISTORY_ROWS),
        hide_index=True,
        width="stretch",
        column_config={
            "at": stamp("At", format=when),
            "from_status": text("From", help="—: the exception was created"),
            "to_status": text("To"),
            "by": text("By", help="'auto': the detectors"),
            "note": text("Note", width="medium"),
        },
        placeholder=EMPTY_CELL,
    )
    with st.expander("What the detector saw (durations in hours)", expanded=True):
        st.json(detail, expanded=True)
    st.markdown("**Act on it**")
    workflow = exception_workflow(data.engine(), chosen["key"])
    st.caption(
        f"Assigned to {workflow['assignee'] or 'nobody'}"
        + (
            f" · snoozed until {workflow['snoozed_until'][:16].replace('T', ' ')}"
            if workflow["snoozed_until"]
            else ""
        )
    )
    action_buttons("exception", chosen["key"], prefix="exc_")
    if chosen["entity_kind"] in ENTITY_ACTIONS and chosen["status"] != "resolved":
        # a position's actions take SKU@LOCATION; the detectors name it LOCATION|SKU|SYSTEMS
        # or SYSTEM|LOCATION|SKU (an order and a delivery are named as their actions take them)
        position = links.exception_entity("position", chosen["entity"])
        action_buttons(
            chosen["entity_kind"],
            position[1] if chosen["entity_kind"] == "position" and position else chosen["entity"],
            kinds=ENTITY_ACTIONS[chosen["entity_kind"]],
            prefix="exc_entity_",
        )

with list_column:  # under the queue, beside the detail
    entity_rows: pl.DataFrame | None = None
    if chosen["entity_kind"] == "order":
        st.markdown("**The order's events across systems**")
        entity_rows = data.frame(
            "ui/exceptions_order_events",
            order_id=chosen["entity"],
            as_of=window.as_of,
            data_chars=DATA_CHARS,
            limit=ORDER_EVENT_ROWS,
        )
    elif chosen["entity_kind"] == "delivery" and detail.get("correlation_id"):
        st.markdown("**The delivery's calls in the window**")
        entity_rows = data.frame(
            "ui/exceptions_delivery_calls",
            interface=detail["interface"],
            correlation_id=detail["correlation_id"],
            since=window.since,
            as_of=window.as_of,
            limit=DELIVERY_CALL_ROWS,
        )
    if entity_rows is not None:
        if entity_rows.is_empty():
            st.caption("No events stored for it up to the as-of.")
        else:
            st.dataframe(
                entity_rows,
                hide_index=True,
                width="stretch",
                column_config={
                    "time": stamp("Business time", format=when),
                    "received_at": stamp("Received", format=when),
                    "source": text("Source", width="small"),
                    "type": text("Type"),
                    "node": text("Node"),
                    "data": text("Data (start)", width="large"),
                    "status": text("Status", width="small"),
                    "latency_ms": st.column_config.NumberColumn("Latency (ms)", format="%.0f"),
                    "http_status": st.column_config.NumberColumn("HTTP", format="%d"),
                    "error_code": text("Error code"),
                    "attempt": st.column_config.NumberColumn("Attempt", format="%d"),
                },
                placeholder=EMPTY_CELL,
            )
