"""Entity detail: the timeline of one order, shipment, position, return, interface or source
across every system (metrics/timeline.py), for the incident reviewer.

Reached by links (app/ui/links.py: `?kind=...&key=...`, the shared filters kept) or by the
small form at the top. Shows the entity's key facts, a swimlane chart (one lane per
system, exceptions and manual actions on lanes of their own, late events drawn as
triangles), the events as a table, the related entities as links, and the exceptions and
actions. Events up to the filters' as-of; interfaces and sources within the window. Page
state keys start with `ent_`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from app.settings import load_settings
from app.ui import data, filters, links, theme
from app.ui.actions import action_buttons
from app.ui.errors import DATABASE_ERRORS, explain
from metrics import timeline as tl
from metrics.params import Window

LIMIT = 2000
ACTIONS_ON = ("order", "position")  # the entity kinds with override actions (app/ui/actions.py)
EXCEPTION_LANE, ACTION_LANE = "exceptions", "manual actions"
LATE_COLOUR = "#B97A7A"
EXCEPTION_COLOUR = "#C9A66B"
ACTION_COLOUR = "#6C6F93"
LABELS = {
    "order": "Order",
    "shipment": "Shipment",
    "position": "Position",
    "return": "Return",
    "interface": "Interface",
    "source": "Source",
}
HINTS = {
    "order": "ORD-000123",
    "shipment": "SHP-000000001",
    "position": "SKU-00017@STORE-0042",
    "return": "RET-000000001",
    "interface": "oms.wms.create_pick",
    "source": "wms/dc-east",
}


@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def _timeline(
    database_url: str | None, kind: str, key: str, as_of: datetime, since: datetime, until: datetime
) -> tl.Timeline:
    policies = data.policies()
    with data.engine().connect() as conn:
        return tl.timeline(
            conn, kind, key, window=Window(as_of, since, until), limit=LIMIT, policies=policies
        )


def read_timeline(kind: str, key: str, window: Window) -> tl.Timeline:
    """metrics.timeline.timeline with the stored policies, cached like app/ui/data.py."""
    return _timeline(load_settings().database_url, kind, key, window.as_of, window.since, window.until)


def duration(gap: timedelta | None) -> str:
    """A gap as people say it: '45 s', '1 h 15 min', '2 d 3 h'."""
    if gap is None:
        return ""
    seconds = int(gap.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text


def events_frame(t: tl.Timeline, zone: str) -> pl.DataFrame:
    """The table of the timeline's events, times in the app's zone."""
    local = ZoneInfo(zone)
    return pl.DataFrame(
        {
            "time": [e.time.astimezone(local) for e in t.events],
            "system": [e.system for e in t.events],
            "type": [e.type for e in t.events],
            "summary": [e.summary for e in t.events],
            "gap": [duration(e.gap) for e in t.events],
            "late": [f"{e.late_reason} ({duration(e.lag)})" if e.late else "" for e in t.events],
            "received_at": [e.received_at.astimezone(local) for e in t.events],
            "source": [e.source for e in t.events],
        },
        schema_overrides={"time": pl.Datetime("us", zone), "received_at": pl.Datetime("us", zone)},
    )


MARK_COLUMNS = {
    "time": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm:ss", width=145),
    "what": st.column_config.TextColumn("What", width="medium"),
    "on": st.column_config.TextColumn("On", width="medium"),
    "by": st.column_config.TextColumn("By", width="small"),
    "note": st.column_config.TextColumn("Note", width="medium"),
}


def marks_frame(marks: tuple[tl.Mark, ...], zone: str) -> pl.DataFrame:
    local = ZoneInfo(zone)
    return pl.DataFrame(
        {
            "time": [m.time.astimezone(local) for m in marks],
            "what": [m.label for m in marks],
            "on": [f"{m.ref_kind} {m.ref_key}" for m in marks],
            "by": [m.by for m in marks],
            "note": [m.note or "" for m in marks],
        },
        schema_overrides={"time": pl.Datetime("us", zone)},
    )


def swimlanes(t: tl.Timeline, zone: str) -> go.Figure:
    """One lane per system (in order of first appearance), then exceptions and actions."""
    local = ZoneInfo(zone)
    lanes = list(dict.fromkeys(e.system for e in t.events))
    fig = go.Figure()
    for late in (False, True):
        chosen = [e for e in t.events if e.late == late]
        if not chosen:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e.time.astimezone(local) for e in chosen],
                y=[e.system for e in chosen],
                mode="markers",
                name="late event" if late else "event",
                marker={
                    "symbol": "triangle-up" if late else "circle",
                    "size": 13 if late else 10,
                    "color": LATE_COLOUR if late else theme.PRIMARY,
                    "line": {"width": 1, "color": "white"},
                },
                customdata=[
                    [
                        e.type,
                        e.summary,
                        f"late: {e.late_reason}, arrived {duration(e.lag)} after" if late else "",
                    ]
                    for e in chosen
                ],
                hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br><b>%{customdata[0]}</b><br>%{customdata[1]}"
                "<br>%{customdata[2]}<extra></extra>",
            )
        )
    for marks, lane, symbol, colour in (
        (t.exceptions, EXCEPTION_LANE, "diamond", EXCEPTION_COLOUR),
        (t.actions, ACTION_LANE, "star", ACTION_COLOUR),
    ):
        if not marks:
            continue
        lanes.append(lane)
        fig.add_trace(
            go.Scatter(
                x=[m.time.astimezone(local) for m in marks],
                y=[lane] * len(marks),
                mode="markers",
                name=lane,
                marker={
                    "symbol": symbol,
                    "size": 13,
                    "color": colour,
                    "line": {"width": 1, "color": "white"},
                },
                customdata=[[m.label, m.by, m.note or ""] for m in marks],
                hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br><b>%{customdata[0]}</b><br>by %{customdata[1]}"
                "<br>%{customdata[2]}<extra></extra>",
            )
        )
    fig.update_layout(
        template=theme.template(),
        height=80 + 44 * max(len(lanes), 1),
        showlegend=True,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(lanes)), "title": None},
        xaxis={"title": None},
        margin={"t": 36},
    )
    return fig


def header(t: tl.Timeline, zone: str) -> None:
    """The entity's key facts as tiles."""
    local = ZoneInfo(zone)
    f = t.facts

    def when(value: Any) -> str:
        return value.astimezone(local).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "—"

    tiles: list[tuple[str, str]] = []
    if t.kind == "order":
        breached = {True: "Yes", False: "No", None: "—"}[f.get("breached")]
        tiles = [
            ("Channel", f.get("channel") or "—"),
            ("Promised by", when(f.get("promised_by"))),
            ("Current node", f.get("current_node") or "—"),
            ("Status", str(f.get("status", "—"))),
            ("Breached", breached),
            ("Reroutes", str(f.get("reroutes", 0))),
        ]
    elif t.kind == "position":
        quantities = f.get("quantities", {})
        tiles = [(system.upper(), f"{q['quantity']:,}") for system, q in quantities.items()] or [
            ("Quantities", "no counts")
        ]
    elif t.kind == "interface":
        tiles = [
            ("Calls shown", f"{f.get('calls', 0):,}"),
            ("Failures", f"{f.get('failures', 0):,}"),
            ("Failure rate", f"{f.get('failure_rate', 0.0):.1%}"),
        ]
    elif t.kind == "source":
        tiles = [
            ("Last received", when(f.get("last_received_at"))),
            ("Latest business time", when(f.get("last_event_time"))),
            ("Accepted (all time)", f"{f.get('accepted', 0):,}"),
        ]
    else:
        stages = {"asn": "ASN", "shipped": "Shipped", "received": "Received", "restocked": "Restocked",
                  "refunded": "Refunded"}  # fmt: skip
        tiles = [(label, when(f.get(stage))) for stage, label in stages.items() if stage in f]
    tiles += [("Events", f"{f.get('events', 0):,}"), ("Late", f"{sum(e.late for e in t.events):,}")]
    with st.container(border=True):
        for column, (label, value) in zip(st.columns(len(tiles)), tiles, strict=True):
            column.markdown(f"**{label}**  \n{value}")


# --- the page ------------------------------------------------------------------------------

zone = load_settings().timezone
when_format = "YYYY-MM-DD HH:mm:ss"
stamp = st.column_config.DatetimeColumn
text = st.column_config.TextColumn
window = filters.current().resolve(filters.now())
kind = (st.query_params.get("kind") or "").strip()
key = (st.query_params.get("key") or "").strip()

st.title("Entity detail")
if st.session_state.get("ent_seen") != (kind, key):  # opened by a link: the form shows it
    st.session_state["ent_seen"] = (kind, key)
    st.session_state["ent_kind"] = kind if kind in tl.KINDS else tl.KINDS[0]
    st.session_state["ent_key"] = key
with st.form("ent_open", border=False):
    kind_col, key_col, go_col = st.columns([2, 5, 1], vertical_alignment="bottom")
    chosen_kind = kind_col.selectbox("Kind", tl.KINDS, key="ent_kind", format_func=LABELS.__getitem__)
    typed_key = key_col.text_input(
        "Key", key="ent_key", placeholder="an order id, SKU@LOCATION, an interface name…"
    )
    if go_col.form_submit_button("Open", width="stretch"):
        if typed_key.strip():
            st.query_params["kind"] = chosen_kind
            st.query_params["key"] = typed_key.strip()
            st.rerun()
        else:
            st.warning(f"Type the key of the {chosen_kind}, e.g. {HINTS[chosen_kind]}.")

if not kind and not key:
    st.info("Open an entity: choose its kind, type its key (an order id such as ORD-000123) and press Open.")
    st.stop()
if kind not in tl.KINDS:
    st.error(f"Unknown entity kind {kind!r}: use one of {', '.join(tl.KINDS)}.")
    st.stop()
if not key:
    st.error(f"Which {kind}? The link has no key (e.g. key={HINTS[kind]}).")
    st.stop()

try:
    t = read_timeline(kind, key, window)
except tl.UnknownKind as exc:
    st.error(f"{exc}.")
    st.stop()
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()

local = ZoneInfo(zone)
st.subheader(f"{LABELS[kind]} {key}")
scope = (
    f"calls and events from {window.since.astimezone(local):%Y-%m-%d %H:%M} to "
    f"{min(window.until, window.as_of).astimezone(local):%Y-%m-%d %H:%M}"
    if t.window is not None
    else f"its whole life up to {window.as_of.astimezone(local):%Y-%m-%d %H:%M}"
)
if t.empty:
    where = "in this window" if t.window is not None else "in the store"
    st.info(f"No events for {kind} {key} {where}.")
    st.stop()

st.caption(
    f"Every system's events of this {kind}, {scope} (times in {zone}), in business-time order. "
    f"Late: arrived more than {data.policies().max_event_lag_minutes:g} min after it happened, or after "
    "an event that happened later."
    + (f" **Only the newest {t.limit:,} events are shown.**" if t.capped else "")
)
header(t, zone)
if kind in ACTIONS_ON:  # a manager acts where the problem is seen (dialogs check role and state)
    action_buttons(kind, key, prefix="ent_")
st.plotly_chart(swimlanes(t, zone), theme=None, width="stretch", key="ent_chart")

events = events_frame(t, zone)
st.dataframe(
    events,
    key="ent_events",
    hide_index=True,
    width="stretch",
    column_config={
        "time": stamp("Business time", format=when_format, width=145),
        "system": text("System", width=85),
        "type": text("Type", width=125),
        "summary": text("Summary", width="large"),
        "gap": text("Gap", width=75, help="Since the event before"),
        "late": text(
            "Late",
            width=160,
            help="lag: arrived over the policy's lag after it happened; "
            "out of order: arrived after an event that happened later. (Its arrival lag.)",
        ),
        "received_at": stamp("Received", format=when_format, width=145),
    },
    column_order=("time", "system", "type", "summary", "gap", "late", "received_at"),
    placeholder=theme.EMPTY_CELL,
)

related_col, marks_col = st.columns([1, 2], gap="large")
with related_col:
    st.markdown("**Related**")
    if not t.related:
        st.caption("No related entities found.")
    by_relation: dict[str, list[tl.Related]] = {}
    for r in t.related:
        by_relation.setdefault(r.relation, []).append(r)
    for relation, group in by_relation.items():
        st.caption(relation[:1].upper() + relation[1:])
        for r in group:
            if r.kind in links.ENTITY_KINDS:
                links.entity_link(r.kind, r.key, label=f"{r.kind} {r.key}")
            else:
                st.markdown(f"{r.kind} `{r.key}` (no page of its own)")
with marks_col:
    st.markdown("**Exceptions**")
    if t.exceptions:
        st.dataframe(marks_frame(t.exceptions, zone), hide_index=True, width="stretch", key="ent_exceptions",
                     column_config=MARK_COLUMNS, placeholder=theme.EMPTY_CELL)  # fmt: skip
    else:
        st.caption("None raised for it.")
    st.markdown("**Manual actions**")
    if not t.audited:
        st.caption("The audit log is not set up in this database.")
    elif t.actions:
        st.dataframe(marks_frame(t.actions, zone), hide_index=True, width="stretch", key="ent_actions",
                     column_config=MARK_COLUMNS, placeholder=theme.EMPTY_CELL)  # fmt: skip
    else:
        st.caption("None recorded for it.")
