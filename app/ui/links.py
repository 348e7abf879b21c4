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

import streamlit as st

from app.ui import filters

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
    st.page_link(ENTITY_PAGE, label=label or f"{kind} {key}", query_params=entity_query(kind, key))


def open_entity(kind: str, key: str) -> None:
    """Go to one entity's detail page now (after a row was selected in a list)."""
    st.switch_page(ENTITY_PAGE, query_params=entity_query(kind, key))


def page_link(page: str, label: str, **extra: str) -> None:
    """A link to another page (`pages/<page>.py`) with the shared filters kept, plus `extra`
    query parameters of that page's own (its keys start with the page's prefix)."""
    st.page_link(PAGES / f"{page}.py", label=label, query_params={**filters.current().to_query(), **extra})
