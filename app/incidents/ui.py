"""Incident pieces other pages use: a button that opens an incident from an exception.

`open_incident_button(exception_key)` draws a link to the Incidents page with its creation
form prefilled from the exception (`?inc_from_exception=KEY`, the shared filters kept);
the form itself (and who may submit it) is on pages/incidents.py.
"""

from __future__ import annotations

from app.ui import links

PAGE = "incidents"
FROM_EXCEPTION = "inc_from_exception"  # the Incidents page's query parameter
INCIDENT = "inc_id"  # the incident shown


def open_incident_button(exception_key: str, label: str = "Open an incident") -> None:
    """A link to open an incident about this exception (its entity and seen span)."""
    links.page_link(PAGE, f"🚨 {label}", **{FROM_EXCEPTION: exception_key})


def incident_link(incident_id: int, label: str | None = None) -> None:
    """A link to one incident's review."""
    links.page_link(PAGE, label or f"Incident {incident_id}", **{INCIDENT: str(incident_id)})
