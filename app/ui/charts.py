"""Chart builders shared by the pages; all use the app's plotly template."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from app.ui import theme

ROW_HEIGHT = 26


def ranked_bars(frame: pl.DataFrame, label: str, value: str, *, strip_prefix: str = "") -> go.Figure:
    """Horizontal bars, largest on top, each with its value; `frame` is sorted already."""
    labels = [s.removeprefix(strip_prefix) for s in frame[label].to_list()]
    values = frame[value].to_list()
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            text=[f"{v:,}" for v in values],
            textposition="outside",
            cliponaxis=False,
            customdata=frame[label].to_list(),
            hovertemplate="%{customdata}: %{x:,}<extra></extra>",
        )
    )
    fig.update_layout(
        template=theme.template(),
        height=40 + ROW_HEIGHT * max(len(labels), 1),
        yaxis={"autorange": "reversed", "title": None},
        xaxis={"title": None, "showticklabels": False, "showgrid": False},
        margin={"r": 56},
    )
    return fig
