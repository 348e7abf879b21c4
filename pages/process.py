"""Process: how orders really flow (metrics/process.py).

For the operations lead and the incident reviewer: the variants of the order process
(step sequences) with their share and durations, the directly-follows graph with counts
and waits on its edges, where the waits are longest by node and by channel, and the
orders that left the expected sequence. A variant, an edge or a deviating order opens its
orders; an order opens its detail page. The shared window and scope apply; an imported
OCEL log can be looked at over its own time span instead. The tiles and the variants come
from one pass over the window's orders; the other tabs read their figures only when
opened (`proc_tab`), then from the cache. Page state keys start with `proc_`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from app.settings import load_settings
from app.ui import data, filters, theme
from app.ui.errors import DATABASE_ERRORS, explain
from app.ui.links import open_entity
from metrics import process
from metrics.params import Scope, Window

EMPTY_MESSAGE = "No data yet for this window."
SHARED = "The shared window and filters"
LAYOUT = {  # step -> (x, y) in the graph: the expected path on a line, the others around it
    "created": (0.0, 0.0),
    "routed": (1.0, 0.0),
    "picked": (2.0, 0.0),
    "packed": (3.0, 0.0),
    "shipped": (4.0, 0.0),
    "delivered": (5.0, 0.0),
    "rerouted": (1.5, 1.4),
    "exception": (3.5, 1.4),
    "cancelled": (2.5, -1.6),
}
TABLE_HEIGHT = 360
ROW_PIXELS = 35
CURVE_POINTS = 24
LABELLED_EDGES = 12  # the most frequent edges carry a label; the list beside has them all


# --- cached reads (the page's own: metrics/process.py with the shared engine) ------------
@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def _read(name: str, window: Window, scope: Scope, extra: tuple[tuple[str, Any], ...] = ()) -> Any:
    function = getattr(process, name)
    with data.engine().connect() as conn:
        return function(conn, window, scope=scope, **dict(extra))


def read(name: str, window: Window, scope: Scope, **extra: Any) -> Any:
    return _read(name, window, scope, tuple(sorted(extra.items())))


def _curve(a: tuple[float, float], b: tuple[float, float], bend: float) -> tuple[list[float], list[float]]:
    """Points of a quadratic curve from a to b, bowed `bend` to the left of the direction."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    cx, cy = (x0 + x1) / 2 - dy / length * bend, (y0 + y1) / 2 + dx / length * bend
    ts = [i / CURVE_POINTS for i in range(CURVE_POINTS + 1)]
    xs = [(1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1 for t in ts]
    ys = [(1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1 for t in ts]
    return xs, ys


def graph(nodes: pl.DataFrame, edges: pl.DataFrame) -> go.Figure:
    """The directly-follows graph: steps as circles (size: orders), edges as curved arrows
    (width: transitions; forward above the expected path, backward below it), the most
    frequent ones labelled with their transitions and p50 wait."""
    fig = go.Figure()
    where: dict[str, tuple[float, float]] = {}
    for spare, step in enumerate(s for s in nodes["step"].to_list() if s not in LAYOUT):
        where[step] = (float(spare), -1.8)
    where.update({s: LAYOUT[s] for s in nodes["step"].to_list() if s in LAYOUT})
    most = max(edges["transitions"].to_list() or [1])
    labelled = set(
        edges.sort("transitions", descending=True).head(LABELLED_EDGES)["from_step", "to_step"].rows()
    )
    for edge in edges.iter_rows(named=True):
        a, b = where[edge["from_step"]], where[edge["to_step"]]
        span = math.hypot(b[0] - a[0], b[1] - a[1])
        backward = b[0] < a[0]
        bend = 0.0 if (a[1] == b[1] == 0 and not backward and span <= 1) else 0.12 + 0.13 * span
        xs, ys = _curve(a, b, bend)
        colour = "#E8A33D" if backward else "#7A8CA5"
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", line={"width": 1 + 5 * edge["transitions"] / most, "color": colour},
                hoverinfo="text", opacity=0.8,
                text=f"{edge['from_step']} → {edge['to_step']}: {edge['transitions']:,} transitions, "
                f"p50 wait {edge['p50_wait_hours']:.1f} h, p90 {edge['p90_wait_hours']:.1f} h",
            )
        )  # fmt: skip
        fig.add_annotation(
            x=xs[-1], y=ys[-1], ax=xs[-4], ay=ys[-4], xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=2, arrowsize=1.3, arrowwidth=2, arrowcolor=colour, standoff=14, text="",
        )  # fmt: skip
        if (edge["from_step"], edge["to_step"]) in labelled:
            middle = CURVE_POINTS // 2
            fig.add_annotation(
                x=xs[middle], y=ys[middle], showarrow=False, font={"size": 11},
                text=f"{edge['transitions']:,} · {edge['p50_wait_hours']:.1f} h",
                bgcolor="rgba(255,255,255,0.8)",
            )  # fmt: skip
    orders = nodes["orders"].to_list()
    biggest = max(orders) if orders else 1
    low, high = min(y for _x, y in where.values()), max(y for _x, y in where.values())
    fig.add_trace(
        go.Scatter(
            x=[where[s][0] for s in nodes["step"]],
            y=[where[s][1] for s in nodes["step"]],
            mode="markers+text",
            text=[f"<b>{s}</b><br>{n:,}" for s, n in zip(nodes["step"], orders, strict=True)],
            textposition=["top center" if where[s][1] > 0 else "bottom center" for s in nodes["step"]],
            marker={"size": [18 + 22 * n / biggest for n in orders], "color": "#3B6EA5"},
            hoverinfo="text",
        )
    )
    fig.update_layout(
        template=theme.template(),
        height=460,
        showlegend=False,
        xaxis={"visible": False, "range": [-0.4, 5.4]},
        yaxis={"visible": False, "range": [min(low, -0.6) - 0.5, max(high, 0.6) + 0.4]},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return fig


def fit(frame: pl.DataFrame) -> int:
    """A table's height: its rows, up to TABLE_HEIGHT (then it scrolls)."""
    return min(TABLE_HEIGHT, ROW_PIXELS * (frame.height + 1) + 3)


def order_table(frame: pl.DataFrame, key: str, total: int, what: str) -> None:
    """A list of orders; selecting one opens its detail page."""
    if frame.is_empty():
        st.caption(f"No orders {what}.")
        return
    frame = frame.with_columns(pl.col("created_at").dt.convert_time_zone(zone))
    shown = f"the first {frame.height:,} of {total:,}" if total > frame.height else f"all {total:,}"
    st.caption(f"Orders {what}: {shown}. Select one to open its timeline.")
    picked = st.dataframe(
        frame,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config={
            "order_id": "Order",
            "deviation": st.column_config.TextColumn("Deviation", width="medium"),
            "variant": st.column_config.TextColumn("Variant", width="large"),
            "channel": "Channel",
            "node": "Node",
            "transitions": st.column_config.NumberColumn("Transitions", format="%,d"),
            "created_at": st.column_config.DatetimeColumn("Created", format="YYYY-MM-DD HH:mm"),
            "hours": st.column_config.NumberColumn("Hours", format="%.1f"),
            "wait_hours": st.column_config.NumberColumn("Wait (h)", format="%.1f"),
        },
        placeholder=theme.EMPTY_CELL,
    )
    rows: list[int] = picked["selection"]["rows"]
    if rows and rows[0] < frame.height:
        open_entity("order", frame["order_id"][rows[0]])


# --- the page ----------------------------------------------------------------------------
zone = load_settings().timezone
local = ZoneInfo(zone)
shared = filters.current()
window = shared.resolve(filters.now())
scope = Scope(**shared.scopes())

st.title("Process")
try:
    logs = data.frame("process/ocel_sources")
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()
looking_at = st.selectbox(
    "Look at",
    [SHARED, *logs["source"].to_list()],
    key="proc_log",
    help="An imported OCEL log (the `ocel` collector) over its own time span (ordinary orders).",
)
if looking_at != SHARED:
    span = data.row("process/source_span", source=looking_at)
    if span.get("first_created") is None:
        st.info(f"No orders from {looking_at} yet.")
        st.stop()
    end = span["last_created"] + timedelta(seconds=1)
    window = Window.of(datetime.now(UTC), span["first_created"], end)
    scope = Scope(source=looking_at)
st.caption(
    f"Orders created from {window.since.astimezone(local):%Y-%m-%d %H:%M} to "
    f"{window.until.astimezone(local):%Y-%m-%d %H:%M}"
    + (f" ({', '.join(f'{k} {v}' for k, v in scope.params().items() if v)})" if not scope.everything else "")
    + f", as of {window.as_of.astimezone(local):%Y-%m-%d %H:%M}. Steps: their order events by business time, "
    "repeats of a step counted once. Expected: " + process.ARROW.join(process.EXPECTED) + ", cancellation "
    f"allowed at any point. Times in {zone}; hours are business hours elapsed."
)

overview = read("process_page", window, scope)  # one pass per render; cached
summary, variants, nodes = overview.summary, overview.variants, overview.nodes
if summary["orders"] == 0:
    st.info(EMPTY_MESSAGE)
    st.stop()
tiles = st.columns(5)
for column, (key, label) in zip(
    tiles,
    (("orders", "Orders"), ("complete", "Delivered as expected"), ("cancelled", "Cancelled"),
     ("in_progress", "In progress"), ("deviating", "Deviating")),
    strict=True,
):  # fmt: skip
    share = f" · {summary[key] / summary['orders']:.0%}" if key != "orders" else ""
    column.metric(label + share, f"{summary[key]:,}", border=True)


def show_variants() -> None:
    count = int(variants["variants"][0])
    st.caption(
        f"{count:,} variants, most frequent first"
        + (f" (the first {variants.height:,})" if count > variants.height else "")
        + ". Select one to list its orders."
    )
    chosen = st.dataframe(
        variants.drop("variants"),
        key="proc_variants",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=fit(variants),
        column_config={
            "variant": st.column_config.TextColumn("Variant", width="large"),
            "steps": st.column_config.NumberColumn("Steps", width="small"),
            "orders": st.column_config.NumberColumn("Orders", format="%,d", width="small"),
            "share": st.column_config.NumberColumn("Share", format="percent", width="small"),
            "p50_hours": st.column_config.NumberColumn("p50 h", format="%.1f", width="small"),
            "p90_hours": st.column_config.NumberColumn("p90 h", format="%.1f", width="small"),
        },
        placeholder=theme.EMPTY_CELL,
    )
    rows: list[int] = chosen["selection"]["rows"]
    if rows and rows[0] < variants.height:
        variant = variants["variant"][rows[0]]
        st.markdown(f"**{variant}**")
        orders, total = read("variant_orders", window, scope, variant=variant)
        order_table(orders, "proc_variant_orders", total, "of this variant, longest first")
    else:
        st.info("Select a variant to list its orders.")


def show_graph() -> None:
    with st.spinner("Reading the waits of every transition in the window..."):
        edges = read("edges", window, scope, orders=overview.edge_orders)
    left, right = st.columns([3, 2], gap="medium")
    left.plotly_chart(
        graph(nodes, edges), key="proc_graph", width="stretch", config={"displayModeBar": False}
    )
    left.caption(
        "Circles: steps (size: orders, with their number). Arrows: directly-follows, labelled "
        "transitions · p50 wait (the most frequent); orange ones go back along the expected path."
    )
    with right:
        st.caption("Edges, most frequent first. Select one to list its orders.")
        edge_pick = st.dataframe(
            edges,
            key="proc_edges",
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            width="stretch",
            height=fit(edges),
            column_config={
                "from_step": "From",
                "to_step": "To",
                "transitions": st.column_config.NumberColumn("Transitions", format="%,d"),
                "orders": st.column_config.NumberColumn("Orders", format="%,d"),
                "p50_wait_hours": st.column_config.NumberColumn("p50 wait h", format="%.1f"),
                "p90_wait_hours": st.column_config.NumberColumn("p90 wait h", format="%.1f"),
            },
            placeholder=theme.EMPTY_CELL,
        )
    edge_rows: list[int] = edge_pick["selection"]["rows"]
    if edge_rows and edge_rows[0] < edges.height:
        from_step, to_step = edges["from_step"][edge_rows[0]], edges["to_step"][edge_rows[0]]
        st.markdown(f"**{from_step} → {to_step}**")
        orders, total = read("edge_orders", window, scope, from_step=from_step, to_step=to_step)
        order_table(orders, "proc_edge_orders", total, "that made this step, longest wait first")


def show_bottlenecks() -> None:
    by = st.radio("Broken down by", process.BOTTLENECK_DIMENSIONS, key="proc_by", horizontal=True)
    with st.spinner(f"Reading the waits of every transition in the window, per {by}..."):
        waits = read("bottlenecks", window, scope, by=by)
    st.caption(f"The waits on each edge per {by}, longest p90 first (the first {waits.height:,}).")
    st.dataframe(
        waits,
        key="proc_bottlenecks",
        hide_index=True,
        width="stretch",
        height=fit(waits),
        column_config={
            "value": str(by).capitalize(),
            "from_step": "From",
            "to_step": "To",
            "transitions": st.column_config.NumberColumn("Transitions", format="%,d"),
            "p50_wait_hours": st.column_config.NumberColumn("p50 wait h", format="%.1f"),
            "p90_wait_hours": st.column_config.NumberColumn("p90 wait h", format="%.1f"),
        },
        placeholder=theme.EMPTY_CELL,
    )


def show_deviations() -> None:
    total = summary["deviating"]
    if total == 0:
        st.success("Every order of the window follows the expected sequence.")
        return
    deviating = read("deviating_orders", window, scope)
    order_table(
        deviating.select("order_id", "deviation", "variant", "created_at", "channel", "node", "hours"),
        "proc_deviations",
        total,
        "that left the expected sequence, oldest first",
    )


# Only the open tab runs: the graph's edges, the bottlenecks and the deviating orders are
# read when their tab is first opened (then cached), not on every visit to the page.
tabs = st.tabs(
    ["Variants", "Directly-follows graph", "Bottlenecks", "Deviating orders"],
    key="proc_tab",
    on_change="rerun",
)
for tab, show in zip(tabs, (show_variants, show_graph, show_bottlenecks, show_deviations), strict=True):
    if tab.open:
        with tab:
            show()
