"""Drill-down on a page: from a bar or a tile to the list of entities behind it, and from a
row of that list to the entity's detail page.

A page keeps one `Drill` (which figure, narrowed to which bar) in its session state under
its prefix, and mirrors it in the URL as `<prefix>list=<figure>` plus `<prefix><dimension>=
<key>`, so a link from another page (the overview's SLA tile) opens a list directly, and a
list can be shared. What chose the list last wins: a link that changed the URL, a button,
or a newly clicked bar (each chart's last selection is remembered, so an unchanged one
does not take the list back).

The lists themselves come from metrics/drilldown.py: `(total, frame)`, the exact count and
the first rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.ui import charts, links, theme

NONE_IN_URL = "(none)"  # a picked null key (metrics.drilldown.NONE) as written in the URL


@dataclass(frozen=True)
class Drill:
    """A list to show: `figure` (e.g. "breached"), narrowed to one bar: `dimension` (e.g.
    "channel") = `value` ("" is the breakdown's null key), or to none."""

    figure: str
    dimension: str | None = None
    value: str | None = None

    def key(self, prefix: str) -> str:
        """The widget key of this list's table: a new list starts with no row selected."""
        return f"{prefix}rows:{self.figure}:{self.dimension or ''}:{self.value or ''}"


def _state(prefix: str, name: str) -> str:
    return f"{prefix}drill_{name}"


def from_url(prefix: str, figures: Sequence[str], dimensions: Sequence[str]) -> Drill | None:
    """The drill the URL asks for (None when it asks for none, or for an unknown figure)."""
    params = st.query_params
    figure = params.get(f"{prefix}list")
    if figure is None or figure not in figures:
        return None
    for dimension in dimensions:
        value = params.get(f"{prefix}{dimension}")
        if value is not None:
            return Drill(figure, dimension, "" if value == NONE_IN_URL else value)
    return Drill(figure)


def current(prefix: str, figures: Sequence[str], dimensions: Sequence[str]) -> Drill | None:
    """The page's drill: the URL's when a link changed it since the page last wrote it."""
    ss = st.session_state
    asked = from_url(prefix, figures, dimensions)
    if asked != ss.get(_state(prefix, "written")):
        ss[_state(prefix, "chosen")] = asked
        ss[_state(prefix, "written")] = asked
    chosen: Drill | None = ss.get(_state(prefix, "chosen"))
    return chosen


def choose(prefix: str, drill: Drill | None) -> None:
    st.session_state[_state(prefix, "chosen")] = drill


def chosen(prefix: str) -> Drill | None:
    value: Drill | None = st.session_state.get(_state(prefix, "chosen"))
    return value


def picked_key(event: Any) -> str | None:
    """The key (customdata) of the bar selected in a plotly chart event, if any."""
    try:
        points = event["selection"]["points"]  # dict access: AppTest injects plain dicts
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    key = points[0].get("customdata")
    if isinstance(key, list | tuple):
        key = key[0] if key else None
    return None if key is None else str(key)


def follow(prefix: str, chart_key: str, event: Any, figure: str, dimension: str) -> None:
    """Take a newly clicked bar of chart `chart_key` as the drill; a cleared selection of
    the chart the drill came from clears it."""
    ss = st.session_state
    picked = picked_key(event)
    seen = _state(prefix, f"seen:{chart_key}")
    if picked == ss.get(seen):
        return
    ss[seen] = picked
    if picked is not None:
        choose(prefix, Drill(figure, dimension, picked))
    elif (drill := chosen(prefix)) is not None and drill.dimension == dimension:
        choose(prefix, None)


def keep_in_url(prefix: str, drill: Drill | None, dimensions: Sequence[str]) -> None:
    """Write the drill into the URL (and remember it was written by the page)."""
    wanted: dict[str, str] = {}
    if drill is not None:
        wanted[f"{prefix}list"] = drill.figure
        if drill.dimension is not None and drill.value is not None:
            wanted[f"{prefix}{drill.dimension}"] = drill.value or NONE_IN_URL
    for key in [f"{prefix}list", *(f"{prefix}{d}" for d in dimensions)]:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state[_state(prefix, "written")] = drill


def bars(
    labels: Sequence[str], values: Sequence[float], texts: Sequence[str], keys: Sequence[str]
) -> go.Figure:
    """Horizontal bars in the given order (top first), each labelled with its text, each
    bar's key in its customdata (what a click selects)."""
    fig = go.Figure(
        go.Bar(
            x=list(values),
            y=list(labels),
            orientation="h",
            text=list(texts),
            textposition="outside",
            cliponaxis=False,
            customdata=list(keys),
            hovertemplate="%{y}: %{text}<extra>click to list</extra>",
            selected={"marker": {"color": theme.PRIMARY}},
            unselected={"marker": {"opacity": 0.35}},
        )
    )
    top = max(values, default=0) or 1
    fig.update_layout(
        template=theme.template(),
        height=40 + charts.ROW_HEIGHT * max(len(labels), 1),
        yaxis={"autorange": "reversed", "title": None, "type": "category"},
        # room on the right of the longest bar for its label
        xaxis={"title": None, "showticklabels": False, "showgrid": False, "range": [0, top * 1.7]},
        margin={"r": 16},
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def chart(fig: go.Figure, key: str) -> Any:
    """Draw a bar chart whose bars can be clicked (one point at a time); its selection event."""
    return st.plotly_chart(
        fig,
        theme=None,
        config={"displayModeBar": False},
        key=key,
        on_select="rerun",
        selection_mode="points",
    )


def entity_url(kind: str, key: str) -> str:
    """A relative link to one entity's detail page (the shared filters kept), for a
    LinkColumn; the key first and readable, so the column can show it."""
    query = links.entity_query(kind, key)
    ordered = {"key": query.pop("key"), **query}
    return "entity?" + urlencode(ordered, safe="@:")


LINK_TEXT = r"key=([^&]*)"  # a LinkColumn shows the entity key of entity_url's link


def counted(total: int, shown: int, noun: str) -> str:
    """The count of a list ("N orders", plural as needed), with a note when the table shows
    only its first rows."""
    words = plural(total, noun)
    if total > shown:
        return f"**{words}** · the first {shown:,} shown; narrow the filters to see the others"
    return f"**{words}**"


def open_selected(
    prefix: str, event: Any, frame: pl.DataFrame, kind: str, key_of: Callable[[Mapping[str, Any]], str]
) -> None:
    """Open the detail page of the row selected in a list (once per selection)."""
    ss = st.session_state
    guard = _state(prefix, "opened")
    rows: list[int] = event["selection"]["rows"] if event else []
    if not rows or rows[0] >= frame.height:
        ss.pop(guard, None)
        return
    target = key_of(frame.row(rows[0], named=True))
    if ss.get(guard) == (kind, target):
        return  # opened already: back on this page with the row still selected
    ss[guard] = (kind, target)
    try:
        links.open_entity(kind, target)
    except StreamlitAPIException:  # the detail page is not in the app's navigation
        st.warning(f"The detail page is not available in this app, so {kind} {target} cannot be opened.")


def entity_list(
    prefix: str,
    key: str,
    frame: pl.DataFrame,
    kind: str,
    key_column: str,
    link_label: str,
    columns: Mapping[str, Any],
    hidden: Sequence[str] = (),
) -> None:
    """The entities behind a figure, one a row: a link to each one's detail page first (by
    `key_column`, not shown itself, nor `hidden`), then the others as `columns` says
    (column_config); selecting a row opens its detail page."""
    shown = frame.with_columns(
        pl.Series("link", [entity_url(kind, k) for k in frame[key_column].to_list()])
    ).select("link", pl.exclude("link", key_column, *hidden))
    link = st.column_config.LinkColumn(
        link_label, display_text=LINK_TEXT, help=f"Opens the {kind}'s timeline in a new tab"
    )
    event = st.dataframe(
        shown,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * shown.height, 460),
        column_config={"link": link, **columns},
        placeholder=theme.EMPTY_CELL,
    )
    st.caption(f"Select a row to open the {kind}'s timeline, or follow its link.")
    open_selected(prefix, event, frame, kind, lambda row: str(row[key_column]))


def tiles(shown: Sequence[tuple[str, str, str]]) -> None:
    """The headline figures in a row of bordered metrics: (label, value, help) each."""
    for column, (label, value, help_text) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value, border=True, help=help_text)


def plural(count: int, word: str) -> str:
    """`count` and `word`, plural when count is not 1 (delivery: deliveries, day: days)."""
    if count == 1:
        return f"1 {word}"
    many = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"
    return f"{count:,} {many}"


def tile_amount(value: float) -> str:
    """An amount as short as a tile shows whole (about 7 characters at 1600 px with six
    tiles a row): cents below 10,000, whole units below a million, then millions."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.2f} M"
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:,.2f}"


def list_buttons(prefix: str, titles: Mapping[str, str], counts: Mapping[str, int]) -> None:
    """A button per figure ("Title (count)") that opens its list without a chart click, as
    the overview's links do."""
    columns = st.columns(len(counts))  # the whole row: "Pairs out of tolerance (1,419)" fits
    for column, (figure, count) in zip(columns, counts.items(), strict=True):
        if column.button(f"{titles[figure]} ({count:,})", key=f"{prefix}show_{figure}", width="stretch"):
            choose(prefix, Drill(figure))
