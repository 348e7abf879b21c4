"""Links between pages that keep the shared filters: the drill-down's last step.

An entity is named by its kind and its key, as the exceptions queue names it:
`order` (an order id), `position` (`SKU@LOCATION`), `interface` (an interface name),
`source` (a source name), `shipment` (a shipment id), `return` (a return id). The entity
detail page (`pages/entity.py`) reads them from the URL as `?kind=...&key=...`, next to
the shared filters (window, as-of, region, channel, node, source), so a link to one order
can be shared and reloads the same.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from app.ui import filters
from metrics.detectors import position_of

PAGES = Path(__file__).resolve().parents[2] / "pages"
ENTITY_PAGE = PAGES / "entity.py"
ENTITY_KINDS = ("order", "position", "interface", "source", "shipment", "return")


def entity_query(kind: str, key: str) -> dict[str, str]:
    """The query string of one entity's detail page, with the shared filters kept."""
    if kind not in ENTITY_KINDS:
        raise ValueError(f"unknown entity kind {kind!r}: one of {', '.join(ENTITY_KINDS)}")
    return {**filters.current().to_query(), "kind": kind, "key": key}


def entity_link(kind: str, key: str, label: str | None = None) -> None:
    """A link to one entity's detail page (its timeline across systems)."""
    _link(ENTITY_PAGE, label or f"{kind} {key}", entity_query(kind, key))


def _link(page: Path, label: str, query: dict[str, str]) -> None:
    """st.page_link, or a plain link to the page's URL when the running script has no
    navigation (a page script run on its own, as its tests do)."""
    try:
        st.page_link(page, label=label, query_params=query)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}]({page.stem}?{urlencode(query)})")


def open_entity(kind: str, key: str) -> None:
    """Go to one entity's detail page now (after a row was selected in a list)."""
    query = entity_query(kind, key)
    filters.from_url_next_run()  # a page switch resets the sidebar's widgets: the URL refills them
    st.switch_page(ENTITY_PAGE, query_params=query)


def page_link(page: str, label: str, **extra: str) -> None:
    """A link to another page (`pages/<page>.py`) with the shared filters kept, plus `extra`
    query parameters of that page's own (its keys start with the page's prefix)."""
    _link(PAGES / f"{page}.py", label, {**filters.current().to_query(), **extra})


def exception_entity(entity_kind: str, entity: str) -> tuple[str, str] | None:
    """The entity detail page (kind, key) of an exception's entity, as the detectors name it:
    a position as `SKU@LOCATION` (metrics.detectors.position_of); a delivery
    `INTERFACE|CORRELATION` opens its interface. None when the entity has no page."""
    if entity_kind == "position":
        position = position_of(entity)
        return ("position", position) if position else None
    if entity_kind == "delivery":
        return "interface", entity.split("|", 1)[0]
    if entity_kind in ENTITY_KINDS:
        return entity_kind, entity
    return None
