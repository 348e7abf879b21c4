"""Inventory: do the systems agree on the stock, and is what they say fresh?

For the inventory controller: the variance figures at the as-of (contracts/METRICS.md,
"Inventory variance"; metrics.inventory; a picture at that instant, the window does not
apply): pairs compared with the reference system, out of tolerance, units and value off,
negative and stale positions; then where the variance is: out-of-tolerance pairs by
location, by system and by sku category. Click a bar (or a "List" button) to see the
positions behind it, exactly as many as the figure counts (metrics/drilldown.py); select
one to open its timeline. A link can open a list directly: `?inv_list=out_of_tolerance|
pairs|negative|stale` with `inv_location=`, `inv_system=` or `inv_category=`. Page state
keys start with `inv_`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st

from app.settings import load_settings
from app.ui import data, drill, filters
from app.ui.actions import action_buttons
from app.ui.drill import Drill
from app.ui.errors import DATABASE_ERRORS, explain
from app.ui.theme import EMPTY_CELL
from metrics import drilldown, inventory
from metrics.params import Scope, Window
from metrics.scoping import not_applied

P = "inv_"
LIST_ROWS = 500
TOP_LOCATIONS = 10
EMPTY_MESSAGE = "No data yet for this window."
UNKNOWN = "(unknown)"
FIGURES = ("out_of_tolerance", "negative", "stale", "pairs")
DIMENSIONS = ("location", "system", "category")
TITLES = {
    "out_of_tolerance": "Pairs out of tolerance",
    "pairs": "Pairs compared",
    "negative": "Negative positions",
    "stale": "Stale positions",
}


@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def figures(database_url: str | None, as_of: datetime, scope: Scope) -> dict[str, Any]:
    """The inventory figures and breakdowns at `as_of` (metrics.inventory.figures: one query)."""
    window, policies = Window.of(as_of), data.policies()
    with data.engine().connect() as conn:
        return inventory.figures(conn, window, policies, scope=scope)


@st.cache_data(ttl=data.QUERY_TTL_SECONDS, show_spinner=False)
def positions(
    database_url: str | None, as_of: datetime, scope: Scope, chosen: Drill
) -> tuple[int, pl.DataFrame]:
    """The pairs or positions behind the chosen figure and bar (metrics/drilldown.py)."""
    window, policies = Window.of(as_of), data.policies()
    location, system = picked(chosen, "location"), picked(chosen, "system")
    with data.engine().connect() as conn:
        if chosen.figure in ("negative", "stale"):  # positions have no category: the whole list then
            return drilldown.inventory_positions(
                conn,
                window,
                policies,
                scope=scope,
                figure=cast(drilldown.PositionList, chosen.figure),
                location=location,
                system=system,
                limit=LIST_ROWS,
            )
        return drilldown.inventory_pairs(
            conn, window, policies, scope=scope, figure=cast(drilldown.PairList, chosen.figure),
            location=location, system=system, category=picked(chosen, "category"), limit=LIST_ROWS,
        )  # fmt: skip


def picked(chosen: Drill, dimension: str) -> str | None:
    """The bar picked in `dimension`'s chart, if the list is narrowed to one."""
    return chosen.value if chosen.dimension == dimension else None


def narrowed(chosen: Drill) -> bool:
    """The list is narrowed to a bar (a category does not narrow positions)."""
    return chosen.dimension is not None and not (
        chosen.figure in ("negative", "stale") and chosen.dimension == "category"
    )


def tiles(found: dict[str, Any], reference: str) -> None:
    shown = (
        ("Pairs compared", f"{found['pairs_compared']:,}",
         f"Location, sku and system where {reference} (the reference) and that system both hold a position."),
        ("Out of tolerance", f"{found['out_of_tolerance']:,}",
         "Pairs whose difference is over the tolerance policies (units and percent of the reference)."),
        ("Units off", f"{found['variance_units']:,}", "Sum of |difference| of the pairs out of tolerance."),
        ("Value off", drill.tile_amount(found["variance_value"]),
         f"The same, each unit at its sku's unit cost: {found['variance_value']:,.2f}."),
        ("Negative positions", f"{found['negative_positions']:,}", "Positions below zero, in any system."),
        ("Stale positions", f"{found['stale_positions']:,}",
         "Positions whose latest count is older than the stale policy hours."),
    )  # fmt: skip
    drill.tiles(shown)


def list_buttons(found: dict[str, Any]) -> None:
    counts = {"out_of_tolerance": found["out_of_tolerance"], "negative": found["negative_positions"],
              "stale": found["stale_positions"], "pairs": found["pairs_compared"]}  # fmt: skip
    drill.list_buttons(P, TITLES, counts)


def variance_chart(frame: pl.DataFrame, key_column: str, dimension: str) -> None:
    """Out-of-tolerance pairs per key, labelled "out of pairs · units"; a click lists them."""
    keys = ["" if k is None else str(k) for k in frame[key_column].to_list()]
    labels = [k or UNKNOWN for k in keys]
    out, pairs, units = (frame[c].to_list() for c in ("out_of_tolerance", "pairs_compared", "variance_units"))
    texts = [
        f"{o:,} of {drill.plural(p, 'pair')} · {drill.plural(u, 'unit')}"
        for o, p, u in zip(out, pairs, units, strict=True)
    ]
    chart_key = f"{P}{dimension}_chart"
    event = drill.chart(drill.bars(labels, out, texts, keys), chart_key)
    drill.follow(P, chart_key, event, "out_of_tolerance", dimension)


def breakdowns(found: dict[str, Any]) -> None:
    def worst(frame: pl.DataFrame, key_column: str) -> pl.DataFrame:
        ranked = frame.sort("out_of_tolerance", "variance_units", descending=True)
        return ranked.filter(pl.col("out_of_tolerance") > 0)

    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**Out of tolerance by location** · the {TOP_LOCATIONS} with most")
        by_location = worst(found["location"], "location_id").head(TOP_LOCATIONS)
        if by_location.is_empty():
            st.caption("Every pair is within tolerance.")
        else:
            variance_chart(by_location, "location_id", "location")
    with right:
        for dimension, title in (("system", "by system (the one compared with the reference)"),
                                 ("category", "by sku category")):  # fmt: skip
            st.markdown(f"**Out of tolerance {title}**")
            frame = worst(found[dimension], dimension)
            if frame.is_empty():
                st.caption("Every pair is within tolerance.")
            else:
                variance_chart(frame, dimension, dimension)


def position_list(chosen: Drill, as_of: datetime, scope: Scope, reference: str, zone: str) -> None:
    title = TITLES[chosen.figure]
    if narrowed(chosen):
        title += f" · {chosen.dimension} {chosen.value or UNKNOWN}"
    head, clear = st.columns([6, 1], vertical_alignment="bottom")
    head.subheader(title)
    if clear.button("Close list", key=f"{P}close", width="stretch"):
        drill.choose(P, None)
        st.rerun()
    total, frame = positions(load_settings().database_url, as_of, scope, chosen)
    noun = "position" if chosen.figure in ("negative", "stale") else "pair"
    st.markdown(drill.counted(total, frame.height, noun))
    if frame.is_empty():
        st.caption("None at this as-of.")
        return
    stamp = st.column_config.DatetimeColumn
    number = st.column_config.NumberColumn
    drill.entity_list(P, chosen.key(P), frame, "position", "position", "Position (sku@location)", {
        "category": st.column_config.TextColumn("Category", width="small"),
        "system": st.column_config.TextColumn("System", width="small"),
        "reference_quantity": number(f"{reference} (reference)", format="%,d"),
        "quantity": number("Quantity", format="%,d"),
        "diff": number("Difference", format="%+d", help="Quantity minus the reference's"),
        "value": number("Value off", format="%,.2f", help="|difference| at the sku's unit cost"),
        "reference_counted_at": stamp(f"{reference} counted", format="YYYY-MM-DD HH:mm", timezone=zone),
        "counted_at": stamp("Counted", format="YYYY-MM-DD HH:mm", timezone=zone,
                            help="The latest snapshot of this system"),
        "age_hours": number("Count age (h)", format="%.1f"),
    }, hidden=("location_id", "sku", "out_of_tolerance"))  # fmt: skip


TRANSFER_ROWS = 200
MINUTE = "YYYY-MM-DD HH:mm"


def transfer_recommendations(window: Window, zone: str) -> None:
    """The window's open transfer recommendations (ERP's retail.transfer.requested that no ASN
    names and nobody decided), read only when asked for; select one to approve or reject it."""
    if not st.toggle("Transfer recommendations to decide", key=f"{P}transfers"):
        return
    open_ = data.frame(
        "ui/inventory_transfers",
        since=window.since,
        until=window.until,
        as_of=window.as_of,
        limit=TRANSFER_ROWS,
    )
    if open_.is_empty():
        st.caption("No open transfer recommendations in this window.")
        return
    st.caption(
        f"{open_.height:,} open (the newest {TRANSFER_ROWS} at most), newest first. "
        "Select one to approve or reject it."
    )
    event = st.dataframe(
        open_,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"{P}transfer_table",
        column_config={
            "time": st.column_config.DatetimeColumn(f"Requested ({zone})", format="YYYY-MM-DD HH:mm")
        },
        placeholder=EMPTY_CELL,
    )
    rows = event["selection"]["rows"] if event else []
    if rows:
        action_buttons("transfer", open_["transfer_id"][rows[0]], prefix="inv_")


zone = load_settings().timezone
local = ZoneInfo(zone)
shared = filters.current()
as_of = shared.resolve(filters.now()).as_of
scope = shared.scope()

st.title("Inventory")
intro, actions = st.columns([6, 1], vertical_alignment="bottom")
unused = not_applied("inventory", scope)
intro.caption(
    f"Stock positions as of {as_of.astimezone(local):%Y-%m-%d %H:%M} ({zone}): a picture at that "
    "instant, the window does not apply"
    + (f"; the {' and '.join(unused)} filter does not apply to positions" if unused else "")
    + f". Figures refresh every {data.QUERY_TTL_SECONDS} s."
)
if actions.button("Refresh", key=f"{P}refresh", width="stretch"):
    data.refresh()
    figures.clear()
    positions.clear()

drill.current(P, FIGURES, DIMENSIONS)  # a link's list, when the URL brought one
try:
    found = figures(load_settings().database_url, as_of, scope)
except DATABASE_ERRORS as exc:
    st.error(explain(exc))
    st.stop()

summary = found["summary"]
reference = data.policies().reference_system
if found["replayed"]:
    st.caption(
        "Replayed from history: stock changed after this as-of, so the positions that changed "
        "since were recomputed from their events (slower than the live picture)."
    )
tiles(summary, reference)
if not summary["pairs_compared"] and not summary["negative_positions"] and not summary["stale_positions"]:
    st.info(EMPTY_MESSAGE)
    drill.keep_in_url(P, None, DIMENSIONS)
    st.stop()
list_buttons(summary)
breakdowns(found)
chosen = drill.chosen(P)
drill.keep_in_url(P, chosen, DIMENSIONS)
if chosen is None:
    st.caption("Click a bar (again to clear) or a list button above to see the positions behind a figure.")
else:
    position_list(chosen, as_of, scope, reference, zone)
transfer_recommendations(shared.resolve(filters.now()), zone)
