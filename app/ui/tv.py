"""TV mode, for a wall screen: `?tv=1` in the URL.

No sidebar (collapsed and hidden), larger type (theme.tv_css), and the pages cycle by
themselves: Overview, Fulfilment, Inventory, Integrations, Exceptions, then Overview again,
each shown CTOWER_TV_CYCLE_SECONDS (default 30), with the shared filters kept (the next
page's URL carries them and `tv=1`). A page of the cycle that is not in the app is skipped.
The entry point (app/streamlit_app.py) calls `sidebar_state()` for its page config and
`run(page)` once per run. State keys start with `tv_`.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Literal

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.settings import load_settings
from app.ui import filters, theme

PAGES = Path(__file__).resolve().parents[2] / "pages"
CYCLE = ("overview", "fulfilment", "inventory", "integrations", "exceptions")
ON = ("1", "true", "yes", "on")
_P = "tv_"


def on() -> bool:
    """TV mode is asked for in the URL."""
    return str(st.query_params.get("tv", "")).lower() in ON


def sidebar_state() -> Literal["collapsed", "auto"]:
    """The page config's initial sidebar state: collapsed in TV mode."""
    return "collapsed" if on() else "auto"


def cycle(available: set[str] | None = None) -> list[str]:
    """The pages of the cycle that the app has (`available`: page names; default: files)."""
    have = available if available is not None else {p.stem for p in PAGES.glob("*.py")}
    return [name for name in CYCLE if name in have]


def next_page(current: str, pages: list[str]) -> str:
    """The page after `current` in `pages` (the first one after the last, or when `current`
    is not in the cycle)."""
    if current not in pages:
        return pages[0]
    return pages[(pages.index(current) + 1) % len(pages)]


def page_name(url_path: str) -> str:
    """The page's name from its URL path ("" is the default page, the Overview)."""
    return url_path.strip("/") or "overview"


def run(current: str, available: set[str] | None = None) -> None:
    """In TV mode: the larger look, and the switch to the next page when its time is up."""
    if not on():
        return
    pages = cycle(available)
    if not pages:
        return
    target = next_page(current, pages)
    seconds = load_settings().tv_cycle_seconds
    ss = st.session_state
    if ss.get(f"{_P}page") != current:  # a new page of the cycle: its time starts now
        ss[f"{_P}page"] = current
        ss[f"{_P}since"] = time.monotonic()
    marker = f'<div id="{theme.TV_MARKER}-next" data-next="{html.escape(target)}" hidden></div>'
    st.markdown(theme.tv_css() + marker, unsafe_allow_html=True)

    @st.fragment(run_every=seconds)
    def tick() -> None:
        if time.monotonic() - ss.get(f"{_P}since", time.monotonic()) < seconds - 0.5:
            return
        ss[f"{_P}page"] = None
        query = {**filters.current().to_query(), "tv": "1"}
        filters.from_url_next_run()  # the next page reads the filters from its URL
        after = pages[pages.index(target) :] + pages[: pages.index(target)]
        for name in after:  # a page file the app does not list yet is skipped
            try:
                st.switch_page(PAGES / f"{name}.py", query_params=query)
            except StreamlitAPIException:
                continue

    tick()
