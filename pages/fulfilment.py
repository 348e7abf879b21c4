"""Fulfilment & SLA: are orders kept to their promise, and how often are they rerouted?

For the operations lead: the SLA and reroute figures of the shared window
(contracts/METRICS.md, "SLA" and "Reroutes"; metrics.sla and metrics.reroutes), then
where they come from: breach rate by channel and by current node, reroutes by reason and
by the node rerouted away from. Click a bar (or a "List" button) to see the orders behind
it, exactly as many as the figure counts (metrics/drilldown.py); select an order to open
its timeline. A link can open a list directly: `?ful_list=breached|at_risk|rerouted|
repeated|orders` with `ful_channel=`, `ful_node=`, `ful_reason=` or `ful_from_node=`.
Page state keys start with `ful_`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from app.settings import load_settings
from app.ui import data, drill, filters
from app.ui.drill import Drill
from app.ui.errors import DATABASE_ERRORS, explain
from metrics import drilldown, fulfilment
from metrics.params import Scope, Window
from metrics.scoping import not_applied

P = "ful_"
LIST_ROWS = 500
TOP_NODES = 10
NO_REROUTES = "No order of this window was rerouted."
EMPTY_MESSAGE = "No data yet for this window."
NOT_ROUTED = "(not routed)"
FIGURES = ("breached", "at_risk", "rerouted", "repeated", "orders")
DIMENSIONS = ("channel", "node", "reason", "from_node")
TITLES = {  # figure -> what its list is called
    "orders": "Orders",
    "breached": "Breached orders",
    "at_risk": "At-risk orders",
    "rerouted": "Rerouted orders",
    "repeated": "Repeatedly rerouted orders",
}
BY = {"channel": "channel", "node": "node", "reason": "reason", "from_node": "rerouted from"}


@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def figures(
    database_url: str | None, as_of: datetime, since: datetime, until: datetime, scope: Scope
) -> dict[str, Any]:
    """The SLA and reroute figures and breakdowns, from one pass (metrics.fulfilment)."""
    window = Window(as_of, since, until)
    with data.engine().connect() as conn:
        return fulfilment.figures(conn, window, data.policies(), scope=scope)


@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def orders(
    database_url: str | None, as_of: datetime, since: datetime, until: datetime, scope: Scope, chosen: Drill
) -> tuple[int, pl.DataFrame]:
    """The orders behind the chosen figure and bar (metrics/drilldown.py), first LIST_ROWS."""
    window, policies = Window(as_of, since, until), data.policies()
    with data.engine().connect() as conn:
        if chosen.figure in ("rerouted", "repeated"):
            return drilldown.rerouted_orders(
                conn,
                window,
                policies,
                scope=scope,
                figure=cast(drilldown.RerouteList, chosen.figure),
                reason=picked(chosen, "reason"),
                from_node=picked(chosen, "from_node"),
                limit=LIST_ROWS,
            )
        return drilldown.sla_orders(
            conn, window, policies, scope=scope, figure=cast(drilldown.SlaList, chosen.figure),
            channel=picked(chosen, "channel"), node=picked(chosen, "node"), limit=LIST_ROWS,
        )  # fmt: skip


def picked(chosen: Drill, dimension: str) -> str | None:
    """The bar picked in `dimension`'s chart, if the list is narrowed to one."""
    return chosen.value if chosen.dimension == dimension else None


def tiles(slas: dict[str, Any], moved: dict[str, Any], repeat_at: int) -> None:
    on_time = f"{100 * (1 - slas['breach_rate']):.1f}%" if slas["orders"] else "—"
    shown = (
        ("On-time", on_time, "Orders of the window delivered by their promise, or not yet due."),
        ("Breached", f"{slas['breached']:,}", "Delivered after the promise, or not delivered and past it."),
        ("At risk", f"{slas['at_risk']:,}",
         "Not delivered, shipped or breached, and due within the at-risk policy hours."),
        ("Orders", f"{slas['orders']:,}", "Orders created in the window, not cancelled."),
        ("Reroute rate", f"{100 * moved['rate']:.1f}%",
         f"Orders rerouted at least once ({moved['rerouted_orders']:,}), of the orders."),
        ("Repeated reroutes", f"{moved['repeated']:,}", f"Orders rerouted {repeat_at} times or more."),
    )  # fmt: skip
    drill.tiles(shown)


def list_buttons(slas: dict[str, Any], moved: dict[str, Any]) -> None:
    """Lists to open without a chart click (as the overview's links do)."""
    counts = {"breached": slas["breached"], "at_risk": slas["at_risk"],
              "rerouted": moved["rerouted_orders"], "repeated": moved["repeated"]}  # fmt: skip
    drill.list_buttons(P, TITLES, counts)


def rate_chart(frame: pl.DataFrame, key_column: str, chart_key: str) -> None:
    """Breach rate bars, labelled "rate · breached of orders"; a click lists the breached."""
    keys = ["" if k is None else str(k) for k in frame[key_column].to_list()]
    labels = [k or NOT_ROUTED for k in keys]
    rates, breached, total = (frame[c].to_list() for c in ("breach_rate", "breached", "orders"))
    texts = [f"{r:.1%} · {b:,} of {n:,}" for r, b, n in zip(rates, breached, total, strict=True)]
    event = drill.chart(drill.bars(labels, rates, texts, keys), chart_key)
    drill.follow(P, chart_key, event, "breached", key_column)


def reroute_chart(frame: pl.DataFrame, key_column: str, chart_key: str) -> None:
    """Rerouted orders per reason / from-node, labelled "orders (reroutes)"."""
    keys = [str(k) for k in frame[key_column].to_list()]
    counts, events = frame["rerouted_orders"].to_list(), frame["reroutes"].to_list()
    texts = [
        f"{drill.plural(o, 'order')} · {drill.plural(e, 'reroute')}"
        for o, e in zip(counts, events, strict=True)
    ]
    event = drill.chart(drill.bars(keys, counts, texts, keys), chart_key)
    drill.follow(P, chart_key, event, "rerouted", key_column)


def breakdowns(found: dict[str, Any]) -> None:
    """Two rows of two charts: the short breakdowns (channel, reason), then the nodes."""
    by_channel = found["by_channel"].sort("breach_rate", "channel", descending=[True, False])
    by_node = found["by_node"].sort("breached", "orders", descending=True).head(TOP_NODES)
    by_reason = found["by_reason"]
    by_from_node = found["by_from_node"].sort("rerouted_orders", "reroutes", descending=True).head(TOP_NODES)
    left, right = st.columns(2, gap="large")
    left.markdown("**Breach rate by channel** · breached of the orders")
    with left:
        rate_chart(by_channel, "channel", f"{P}channel_chart")
    right.markdown("**Rerouted orders by reason**")
    with right:
        if by_reason.height:
            reroute_chart(by_reason, "reason", f"{P}reason_chart")
        else:
            st.caption(NO_REROUTES)
    left, right = st.columns(2, gap="large")
    left.markdown(f"**Breach rate by current node** · the {TOP_NODES} with most breached orders")
    with left:
        rate_chart(by_node, "node", f"{P}node_chart")
    right.markdown(f"**Rerouted orders by node rerouted from** · the {TOP_NODES} with most")
    with right:
        if by_from_node.height:
            reroute_chart(by_from_node, "from_node", f"{P}from_node_chart")
        else:
            st.caption(NO_REROUTES)


def order_list(chosen: Drill, window: Window, scope: Scope, zone: str) -> None:
    title = TITLES[chosen.figure]
    if chosen.dimension is not None:
        value = chosen.value or NOT_ROUTED
        title += f" · {BY[chosen.dimension]} {value}"
    head, clear = st.columns([6, 1], vertical_alignment="bottom")
    head.subheader(title)
    if clear.button("Close list", key=f"{P}close", width="stretch"):
        drill.choose(P, None)
        st.rerun()
    url = load_settings().database_url
    total, frame = orders(url, window.as_of, window.since, window.until, scope, chosen)
    st.markdown(drill.counted(total, frame.height, "order"))
    if frame.is_empty():
        st.caption("None in this window.")
        return
    stamp = st.column_config.DatetimeColumn
    drill.entity_list(P, chosen.key(P), frame, "order", "order_id", "Order", {
        "channel": st.column_config.TextColumn("Channel", width="small"),
        "node": st.column_config.TextColumn("Node", help="The current node (latest routed or rerouted)"),
        "created_at": stamp("Created", format="YYYY-MM-DD HH:mm", timezone=zone),
        "promised_by": stamp("Promised by", format="YYYY-MM-DD HH:mm", timezone=zone),
        "delivered_at": stamp("Delivered", format="YYYY-MM-DD HH:mm", timezone=zone),
        "status": st.column_config.TextColumn("Status", width="small"),
        "late_hours": st.column_config.NumberColumn("Late (h)", format="%.1f",
                                                    help="Hours past the promise at delivery, or at the "
                                                    "as-of when not delivered; negative: time left"),
        "reroutes": st.column_config.NumberColumn("Reroutes", format="%,d", width="small"),
        "reroute_path": st.column_config.TextColumn("Reroutes (oldest first)", width="large"),
    })  # fmt: skip


zone = load_settings().timezone
shared = filters.current()
window = shared.resolve(filters.now())
local = ZoneInfo(zone)
scope = shared.scope()

st.title("Fulfilment & SLA")
intro, actions = st.columns([6, 1], vertical_alignment="bottom")
unused = not_applied("sla", scope)
intro.caption(
    f"Orders created from {window.since.astimezone(local):%Y-%m-%d %H:%M} to "
    f"{window.until.astimezone(local):%Y-%m-%d %H:%M}, as of "
    f"{window.as_of.astimezone(local):%Y-%m-%d %H:%M} ({zone})"
    + (f"; narrowed to {', '.join(f'{k} {v}' for k, v in shared.scopes().items() if k not in unused)}"
       if len(shared.scopes()) > len(unused) else "")
    + (f"; the {' and '.join(unused)} filter does not apply to orders" if unused else "")
    + f". Figures refresh every {data.QUERY_TTL_SECONDS} s."
)  # fmt: skip
if actions.button("Refresh", key=f"{P}refresh", width="stretch"):
    data.refresh()
    figures.clear()
    orders.clear()

drill.current(P, FIGURES, DIMENSIONS)  # a link's list, when the URL brought one
try:
    found = figures(load_settings().database_url, window.as_of, window.since, window.until, scope)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()

slas, moved = found["sla"], found["reroutes"]
tiles(slas, moved, data.policies().repeated_reroute_count)
if not slas["orders"] and not moved["rerouted_orders"]:
    st.info(EMPTY_MESSAGE)
    drill.keep_in_url(P, None, DIMENSIONS)
    st.stop()
list_buttons(slas, moved)
breakdowns(found)
chosen = drill.chosen(P)
drill.keep_in_url(P, chosen, DIMENSIONS)
if chosen is None:
    st.caption("Click a bar (again to clear) or a list button above to see the orders behind a figure.")
else:
    order_list(chosen, window, scope, zone)
