"""The one plotly look of the app, matching `.streamlit/config.toml`.

Charts pass `template=theme.template()` and are drawn with `st.plotly_chart(...,
theme=None)` so Streamlit does not restyle them.
"""

from __future__ import annotations

from functools import cache

import plotly.graph_objects as go

PRIMARY = "#2F6F8F"
TEXT = "#1F2B33"
MUTED = "#5F6B73"
GRID = "#E4E9ED"
BACKGROUND = "#FFFFFF"
COLORWAY = ("#2F6F8F", "#7FA7BD", "#C9A66B", "#8B9A6B", "#B97A7A", "#6C6F93", "#A0A7AD")
FONT = "Source Sans, sans-serif"  # the font Streamlit ships and uses for its text


@cache
def template() -> go.layout.Template:
    """A calm, light template: one accent colour, thin grid, no chart junk."""
    axis = {
        "gridcolor": GRID,
        "linecolor": GRID,
        "zerolinecolor": GRID,
        "tickfont": {"color": MUTED},
        "title": {"font": {"color": MUTED}},
        "automargin": True,
    }
    return go.layout.Template(
        layout=go.Layout(
            font={"family": FONT, "size": 13, "color": TEXT},
            colorway=list(COLORWAY),
            paper_bgcolor=BACKGROUND,
            plot_bgcolor=BACKGROUND,
            xaxis=axis,
            yaxis=axis,
            margin={"l": 8, "r": 16, "t": 8, "b": 8},
            hoverlabel={"font": {"family": FONT}},
            bargap=0.25,
            showlegend=False,
        ),
        data={"bar": [go.Bar(marker={"color": PRIMARY, "line": {"width": 0}})]},
    )
