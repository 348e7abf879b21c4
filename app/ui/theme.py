"""The one plotly look of the app, matching `.streamlit/config.toml`.

Charts pass `template=theme.template()` and are drawn with `st.plotly_chart(...,
theme=None)` so Streamlit does not restyle them.
"""

from __future__ import annotations

from functools import cache

import plotly.graph_objects as go

EMPTY_CELL = "—"  # a table cell with no value (not yet delivered, not closed): not "None"

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


# Statuses (red/amber/green, and source health) are never told by colour alone: each has a
# shape and a word. The colours are from the Okabe-Ito palette, told apart with the common
# colour-vision deficiencies: bluish green, orange, vermillion, and a neutral grey.
# name: (shape, word, background, text colour on it)
STATUSES: dict[str, tuple[str, str, str, str]] = {
    "green": ("●", "Green · on track", "#009E73", "#FFFFFF"),
    "amber": ("▲", "Amber · watch", "#E69F00", "#1F2B33"),
    "red": ("■", "Red · act now", "#D55E00", "#FFFFFF"),
    "none": ("○", "No data", "#E4E9ED", "#1F2B33"),
    "up": ("●", "Up", "#009E73", "#FFFFFF"),
    "stale": ("▲", "Stale", "#E69F00", "#1F2B33"),
    "down": ("■", "Down", "#D55E00", "#FFFFFF"),
    "paused": ("❚❚", "Paused", "#A0A7AD", "#1F2B33"),
    "never": ("○", "Never run", "#E4E9ED", "#1F2B33"),
}


def badge(status: str, word: str | None = None) -> str:
    """An HTML pill for `status`: its shape and word on its colour (word overrides the word)."""
    shape, default_word, background, ink = STATUSES[status]
    style = (
        f"background:{background};color:{ink};border-radius:0.8rem;padding:0.1rem 0.6rem;"
        "font-weight:600;font-size:0.95rem;white-space:nowrap;display:inline-block"
    )
    return f'<span style="{style}">{shape} {word or default_word}</span>'


# TV mode (app/ui/tv.py): a wall screen read from across the room at 1920x1080. No sidebar
# (collapsed by the page config, and hidden with its opener here), no toolbar, larger type
# everywhere (Streamlit sizes its text in rem, so the root size scales it), bigger figures;
# no header and no links (nobody clicks a wall screen).
# The marker element lets tests and the browser check that TV mode is on.
TV_MARKER = "ctower-tv"
TV_ROOT_FONT_PX = 18


def tv_css() -> str:
    return f"""<style id="{TV_MARKER}">
html {{ font-size: {TV_ROOT_FONT_PX}px; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarNav"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stHeader"],
[data-testid="stPageLink"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ padding: 1rem 2rem; max-width: 100%; }}
[data-testid="stMetricValue"] {{ font-size: 3rem !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.25rem !important; }}
[data-testid="stMetricDelta"] {{ font-size: 1.1rem !important; }}
</style>"""
