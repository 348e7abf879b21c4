"""The combined timeline of an incident: every attached entity's events, exceptions and
actions in the incident's range, one swimlane per system, and its plotly figure.

`combined` is the one place the entities' timelines are merged: it asks
metrics.timeline.timeline for each entity (a delivery: its interface's calls carrying its
correlation id), keeps what happened in [range_from, range_to) and at or before as_of, and
drops the copies (an order's call is also its interface's call). Lanes: the system of an
event's source (oms, wms, ...), then `exceptions` and `actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import polars as pl
from sqlalchemy.engine import Connection

from metrics import timeline as entity_timeline
from metrics.params import Policies, Window

LIMIT_PER_ENTITY = 2000
MARK_LANES = ("exceptions", "actions")
SCHEMA: dict[str, Any] = {
    "time": pl.Datetime("us", "UTC"),
    "lane": pl.String,
    "entity": pl.String,
    "what": pl.String,
    "detail": pl.String,
    "by": pl.String,
}


def combined(
    conn: Connection,
    entities: Sequence[tuple[str, str]],
    range_from: datetime,
    range_to: datetime,
    as_of: datetime,
    *,
    policies: Policies | None = None,
    limit: int = LIMIT_PER_ENTITY,
) -> pl.DataFrame:
    """One row per event or mark of the incident's entities in its range, oldest first."""
    end = min(range_to, as_of)
    rows: list[dict[str, object]] = []
    seen_events: set[int] = set()
    seen_marks: set[tuple[object, ...]] = set()
    if range_from >= end:
        return pl.DataFrame([], schema=SCHEMA)
    window = Window.of(as_of=end, since=range_from, until=range_to)
    for kind, key in sorted(set(entities)):
        name = f"{kind}:{key}"
        correlation = None
        ask_kind, ask_key = kind, key
        if kind == "delivery":
            ask_kind = "interface"
            ask_key, _, correlation = key.partition("|")
        found = entity_timeline.timeline(
            conn, ask_kind, ask_key, as_of=end, window=window, limit=limit, policies=policies
        )
        for e in found.events:
            if not range_from <= e.time < end or e.seq in seen_events:
                continue
            if correlation is not None and e.data.get("correlation_id") != correlation:
                continue
            seen_events.add(e.seq)
            rows.append(
                {
                    "time": e.time,
                    "lane": e.system,
                    "entity": name,
                    "what": e.type,
                    "detail": e.summary,
                    "by": e.source,
                }
            )
        for mark in (*found.exceptions, *found.actions):
            if not range_from <= mark.time < end:
                continue
            if correlation is not None and mark.ref_kind == "delivery" and mark.ref_key != key:
                continue
            ident = (mark.time, mark.kind, mark.label, mark.ref_kind, mark.ref_key)
            if ident in seen_marks:
                continue
            seen_marks.add(ident)
            lane = "exceptions" if mark.kind == "exception" else "actions"
            rows.append(
                {
                    "time": mark.time,
                    "lane": lane,
                    "entity": f"{mark.ref_kind}:{mark.ref_key}",
                    "what": mark.label,
                    "detail": mark.note or "",
                    "by": mark.by,
                }
            )
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    return frame.sort("time", "lane", "entity", maintain_order=True)


def lanes(frame: pl.DataFrame) -> list[str]:
    """The lanes top to bottom: systems alphabetically, then exceptions and actions."""
    present = set(frame["lane"].to_list())
    return sorted(present - set(MARK_LANES)) + [m for m in MARK_LANES if m in present]


def figure(
    frame: pl.DataFrame,
    range_from: datetime,
    range_to: datetime,
    zone: str = "UTC",
    *,
    template: object | None = None,
) -> go.Figure:
    """Swimlanes as the entity page draws them: one row per lane (systems, then exceptions
    and actions), a marker per event coloured by entity, the incident's range as the x axis."""
    local = ZoneInfo(zone)
    order = lanes(frame)
    fig = go.Figure()
    for entity in sorted(set(frame["entity"].to_list())):
        part = frame.filter(pl.col("entity") == entity)
        symbols = {"exceptions": "diamond", "actions": "star"}
        fig.add_trace(
            go.Scatter(
                x=[t.astimezone(local) for t in part["time"].to_list()],
                y=part["lane"].to_list(),
                mode="markers",
                name=entity,
                marker={
                    "size": 11,
                    "symbol": [symbols.get(lane, "circle") for lane in part["lane"].to_list()],
                    "line": {"width": 1, "color": "white"},
                },
                customdata=list(
                    zip(part["what"].to_list(), part["detail"].to_list(), part["by"].to_list(), strict=True)
                ),
                hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br><b>%{customdata[0]}</b><br>%{customdata[1]}"
                f"<br>by %{{customdata[2]}}<extra>{entity}</extra>",
            )
        )
    if template is not None:
        fig.update_layout(template=template)
    fig.update_layout(
        height=110 + 44 * max(len(order), 1),
        showlegend=True,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        yaxis={"categoryorder": "array", "categoryarray": list(reversed(order)), "title": None},
        xaxis={"title": None, "range": [range_from.astimezone(local), range_to.astimezone(local)]},
        margin={"t": 36},
    )
    return fig
