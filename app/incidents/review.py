"""Everything an incident review shows, read once: the record, its impact, its timeline and
its own history. The page, the CLI and the exports all start from `load`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy.engine import Connection

from app.db.engine import query_frame
from app.incidents import records, timeline
from metrics.incidents import Impact, impact
from metrics.params import Policies


@dataclass(frozen=True)
class Review:
    incident: records.Incident
    impact: Impact
    timeline: pl.DataFrame
    log: pl.DataFrame  # the incident's own audit rows

    @property
    def entities(self) -> list[tuple[str, str]]:
        return [(e.kind, e.key) for e in self.incident.entities]


def load(
    conn: Connection, incident_id: int, *, as_of: datetime | None = None, policies: Policies | None = None
) -> Review:
    """The review of one incident as of `as_of` (default now); IncidentError when unknown."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    incident = records.get(conn, incident_id)
    pairs = [(e.kind, e.key) for e in incident.entities]
    figures = impact(conn, pairs, incident.range_from, incident.range_to, as_of=as_of, policies=policies)
    events = timeline.combined(conn, pairs, incident.range_from, incident.range_to, as_of, policies=policies)
    log = query_frame(conn, "incidents/record_log", incident_key=str(incident_id))
    return Review(incident, figures, events, log)
