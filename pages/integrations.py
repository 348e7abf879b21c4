"""Integrations: are the systems talking to each other, and are the collectors running?

For the integration engineer: integration health over the window (contracts/METRICS.md,
"Integration health", from metrics.integrations): failure rate and latency per interface,
the failed deliveries, the delayed events per source; then each source's health and the
latest collector runs, with a banner for every source that is down. Page state keys start
with `int_`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from app.settings import load_settings
from app.ui import charts, data, filters, theme
from app.ui.actions import action_button, action_buttons
from app.ui.errors import DATABASE_ERRORS, explain
from metrics.params import Window

RUN_ROWS = 50
DELIVERY_ROWS = 50
OVER_LIMIT = "#C9A66B"  # ochre against the blue: told apart with any colour vision, and labelled
NO_RUNS = "No collector runs yet — start `ctower scheduler` or `ctower collect --once`"
NO_CALLS = "No integration calls in this window."


def current_window() -> Window:
    """The window and as-of of the shared filters (app/ui/filters.py: the 7 days before now
    unless the sidebar or the URL says otherwise)."""
    return filters.current().resolve(filters.now())


def rate_bars(frame: pl.DataFrame, limit: float) -> go.Figure:
    """Failure rate per interface, labelled, the policy's limit drawn as a dashed line."""
    rates = frame["failure_rate"].to_list()
    fig = go.Figure(
        go.Bar(
            x=rates,
            y=frame["interface"].to_list(),
            orientation="h",
            marker={"color": [OVER_LIMIT if r > limit else theme.PRIMARY for r in rates]},
            text=[
                f"{r:.1%} ({f:,} of {c:,})"
                for r, f, c in frame.select("failure_rate", "failures", "calls").rows()
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.add_vline(x=limit, line={"dash": "dash", "color": theme.MUTED, "width": 1})
    fig.update_layout(
        template=theme.template(),
        height=60 + charts.ROW_HEIGHT * max(frame.height, 1),
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"title": None, "tickformat": ".0%", "rangemode": "tozero"},
        margin={"r": 110, "t": 28},
        annotations=[
            {"x": limit, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
             "text": f"limit {limit:.0%}", "font": {"color": theme.MUTED, "size": 11}},
        ],
    )  # fmt: skip
    return fig


def latency_bars(frame: pl.DataFrame) -> go.Figure:
    """Latency p50 (dark) inside p95 (light) per interface, labelled "p50 · p95" in ms."""
    names = frame["interface"].to_list()
    p50, p95 = frame["latency_p50_ms"].to_list(), frame["latency_p95_ms"].to_list()
    p95_bars = go.Bar(
        x=p95,
        y=names,
        orientation="h",
        marker={"color": theme.COLORWAY[1]},
        text=[f"p50 {a:,.0f} · p95 {b:,.0f}" for a, b in zip(p50, p95, strict=True)],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y} p95: %{x:,.0f} ms<extra></extra>",
    )
    p50_bars = go.Bar(
        x=p50,
        y=names,
        orientation="h",
        marker={"color": theme.PRIMARY},
        width=0.4,
        hovertemplate="%{y} p50: %{x:,.0f} ms<extra></extra>",
    )
    fig = go.Figure([p95_bars, p50_bars])
    fig.update_layout(
        template=theme.template(),
        barmode="overlay",
        height=60 + charts.ROW_HEIGHT * max(frame.height, 1),
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"title": None, "rangemode": "tozero", "ticksuffix": " ms"},
        margin={"r": 150, "t": 28},
    )
    return fig


zone = load_settings().timezone
when = "YYYY-MM-DD HH:mm:ss"
count = st.column_config.NumberColumn
stamp = st.column_config.DatetimeColumn
text = st.column_config.TextColumn
shared = filters.current()
window = current_window()
local = ZoneInfo(zone)

st.title("Integrations")
intro, actions = st.columns([6, 1], vertical_alignment="bottom")
intro.caption(
    f"Integration calls from {window.since.astimezone(local):%Y-%m-%d %H:%M} to "
    f"{window.until.astimezone(local):%Y-%m-%d %H:%M}, the collectors' health and their latest runs"
    + (f" (sources and runs: {shared.source} only)" if shared.source else "")
    + f". Times in {zone}; figures refresh every {data.QUERY_TTL_SECONDS} s."
)
if actions.button("Refresh", key="int_refresh", width="stretch"):
    data.refresh()

try:
    sources = data.frame("ui/integrations_sources", as_of=window.as_of)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()
for down in sources.filter(pl.col("status") == "down").iter_rows(named=True):
    since_ok = (
        f"last success {down['last_success_at']:%Y-%m-%d %H:%M}"
        if down["last_success_at"] is not None
        else "never succeeded"
    )
    st.error(
        f"**Source {down['source']} is down:** {down['consecutive_failures']} failed runs in a row "
        f"({since_ok}). Last error: {down['last_error'] or 'none recorded'}",
    )

policies = data.policies()
totals, by_interface, delayed = data.integration_health(window)
tiles = (
    ("Calls", f"{totals['calls']:,}", "Integration calls with business time in the window."),
    ("Failures", f"{totals['failures']:,}", "Calls with status error or timeout."),
    ("Failure rate", f"{totals['failure_rate']:.1%}", "Failures / calls (0 without calls)."),
    ("Failed deliveries", f"{totals['failed_deliveries']:,}",
     "Interface and correlation id pairs whose latest call is not ok."),
    ("Delayed events", f"{totals['delayed_events']:,}",
     f"Events of any type received more than {policies.max_event_lag_minutes:g} min after their time."),
)  # fmt: skip
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, border=True, help=help_text)

st.subheader("Per interface")
by_interface = by_interface.sort("failure_rate", "interface", descending=[True, False])  # worst on top
if by_interface.is_empty():
    st.info(NO_CALLS)
else:
    rate_column, latency_column = st.columns(2, gap="large")
    with rate_column:
        st.markdown("**Failure rate**")
        st.plotly_chart(
            rate_bars(by_interface, policies.interface_failure_rate),
            theme=None,
            config={"displayModeBar": False},
            key="int_rate_chart",
        )
        st.caption(
            f"Dashed: the policy `interface_failure_rate` ({policies.interface_failure_rate:.0%}); "
            "interfaces over it in ochre. An exception is raised on the last hour's rate."
        )
    with latency_column:
        st.markdown("**Latency p50 (dark) and p95 (light)**")
        st.plotly_chart(
            latency_bars(by_interface), theme=None, config={"displayModeBar": False}, key="int_latency_chart"
        )
    with st.expander("Per interface, as a table"):
        st.dataframe(
            by_interface,
            hide_index=True,
            width="stretch",
            column_config={
                "interface": text("Interface", width="medium"),
                "calls": count("Calls", format="localized"),
                "failures": count("Failures", format="localized"),
                "failure_rate": count("Failure rate", format="percent"),
                "latency_p50_ms": count("Latency p50 (ms)", format="%,.0f"),
                "latency_p95_ms": count("Latency p95 (ms)", format="%,.0f"),
            },
            placeholder=theme.EMPTY_CELL,
        )


deliveries_column, delayed_column = st.columns(2, gap="large")
with deliveries_column:
    st.subheader("Failed deliveries")
    failed = data.frame("ui/integrations_failed_deliveries", **window.params(), limit=DELIVERY_ROWS)
    if failed.is_empty():
        st.caption("No failed delivery in this window.")
    else:
        if totals["failed_deliveries"] > failed.height:
            st.caption(f"The latest {failed.height:,} of {totals['failed_deliveries']:,}.")
        picked_delivery = st.dataframe(
            failed,
            key="int_failed",
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            width="stretch",
            column_config={
                "interface": text("Interface"),
                "correlation_id": text("Correlation id"),
                "last_status": text("Last status", width="small"),
                "last_call_at": stamp("Last call", format=when),
            },
            placeholder=theme.EMPTY_CELL,
        )
        picked_rows: list[int] = picked_delivery["selection"]["rows"]  # dict access: AppTest injects dicts
        one, every = st.columns(2)
        if picked_rows and picked_rows[0] < failed.height:
            interface, correlation_id = (
                failed.row(picked_rows[0], named=True)["interface"],
                failed.row(picked_rows[0], named=True)["correlation_id"],
            )
            action_button(
                f"Retry {correlation_id}…",
                "retry",
                f"{interface}|{correlation_id}",
                button_key="int_retry_one",
                container=one,
            )
        else:
            one.caption("Select a row to retry one delivery.")
        with every.expander("Retry all failed…"):
            interfaces = sorted(set(failed["interface"].to_list()))
            chosen_interface = st.selectbox("Interface", ["(any)", *interfaces], key="int_retry_interface")
            error_code = st.text_input(
                "Error code (optional)", key="int_retry_code", placeholder="e.g. TIMEOUT"
            )
            st.caption("Deliveries whose latest call is in the window; the preview lists each one.")
            action_button(
                "Preview the retry…",
                "retry_all",
                "*" if chosen_interface == "(any)" else chosen_interface,
                {
                    "error_code": error_code.strip() or None,
                    "since": window.since.isoformat(),
                    "until": window.until.isoformat(),
                },
                button_key="int_retry_all",
            )
with delayed_column:
    st.subheader("Delayed events by source")
    if delayed.is_empty():
        st.caption(f"No event arrived more than {policies.max_event_lag_minutes:g} min late.")
    else:
        st.plotly_chart(
            charts.ranked_bars(delayed.sort("delayed_events", "source", descending=[True, False]),
                               "source", "delayed_events"),
            theme=None,
            config={"displayModeBar": False},
            key="int_delayed_chart",
        )  # fmt: skip
        st.caption(
            f"Events received more than {policies.max_event_lag_minutes:g} min after their business time."
        )

st.subheader("Sources")
if shared.source:
    sources = sources.filter(pl.col("source") == shared.source)
if sources.is_empty():
    st.caption("No source configured or run yet.")
else:
    st.dataframe(
        sources,
        hide_index=True,
        width="stretch",
        column_config={
            "source": text("Source"),
            "status": text("Health", width="small", help="up, down (failed runs in a row), paused or never"),
            "kind": text("Kind", width="small"),
            "enabled": st.column_config.CheckboxColumn("Enabled", width="small"),
            "schedule_seconds": count("Every (s)", format="%.0f", width="small"),
            "last_run_at": stamp("Last run", format=when),
            "last_success_at": stamp("Last success", format=when),
            "consecutive_failures": count("Failed", format="%d", width="small", help="Failed runs in a row"),
            "last_event_time": stamp("Newest event time", format=when),
            "lag_minutes": count("Lag (min)", format="%.0f", help="As-of minus the newest event time read"),
            "last_error": text("Last error", width="large"),
        },
        placeholder=theme.EMPTY_CELL,
    )
    health = dict(sources.select("source", "status").iter_rows())
    pick_column, pause_column = st.columns([2, 3], vertical_alignment="bottom")
    chosen_source = pick_column.selectbox("Source", list(health), key="int_source_pick")
    paused = health.get(chosen_source) == "paused"
    with pause_column:
        action_buttons("source", chosen_source, kinds=("source_resume",) if paused else ("source_pause",),
                       prefix="int_")  # fmt: skip
    st.caption("Pausing stops collecting a source until it is resumed (admins only, audited).")

st.subheader("Latest collector runs")
runs = data.frame("ui/integrations_runs", source=shared.source, limit=RUN_ROWS)
if runs.is_empty():
    st.info(NO_RUNS)
else:
    st.dataframe(
        runs,
        hide_index=True,
        width="stretch",
        column_config={
            "source": text("Source"),
            "started_at": stamp("Started", format=when),
            "status": text("Status", width="small"),
            "read": count("Read", format="localized"),
            "accepted": count("Accepted", format="localized"),
            "duplicate": count("Duplicate", format="localized"),
            "quarantined": count("Quarantined", format="localized"),
            "duration_s": count("Duration (s)", format="%.1f"),
            "error": text("Error", width="large"),
        },
        placeholder=theme.EMPTY_CELL,
    )
