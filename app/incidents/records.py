"""The incident records: open, attach and detach entities, set the range, add notes, close.

Tables: sql/migrations/0015_incidents.sql. Every function that changes something takes the
caller's connection inside a transaction (`with engine.begin() as conn:`), checks that the
actor may act (a manager or admin: `app.auth.roles.require(actor, "act")`; or the command
line, `app.auth.accounts.cli_actor()`, which has the database's rights), and writes its
audit row (`app.audit.record`, entity kind 'incident', key the incident id) in that same
transaction: the change and its audit row commit together or not at all.

A closed incident keeps its entities and range as they were at closing; notes may still be
added (a review often goes on after the incident is over).

Times default to the transaction's start (`now()`); tests pass `at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app import audit
from app.auth.accounts import CLI_ROLE, Auditor
from app.auth.roles import Actor, require
from app.db.engine import sql_text
from metrics.detectors import position_of

# the kinds of app/ui/links.py (ENTITY_KINDS) plus the exception queue's 'delivery'
KINDS: tuple[str, ...] = ("order", "position", "interface", "source", "shipment", "return", "delivery")
DEFAULT_MARGIN = timedelta(hours=1)
MAX_TITLE = 200
MAX_NOTE = 10_000
AUDIT_KIND = "incident"


class IncidentError(ValueError):
    """A change that cannot be made (unknown incident, closed, bad entity or range); one line."""


@dataclass(frozen=True, order=True)
class Entity:
    kind: str
    key: str

    @classmethod
    def of(cls, kind: str, key: str) -> Entity:
        """A checked entity: a known kind, a non-empty key of that kind's shape."""
        kind, key = kind.strip(), key.strip()
        if kind not in KINDS:
            raise IncidentError(f"unknown entity kind {kind!r}: one of {', '.join(KINDS)}")
        if not key:
            raise IncidentError(f"an entity of kind {kind} needs a key")
        if kind == "position" and not _two_parts(key, "@"):
            raise IncidentError(f"a position is SKU@LOCATION, not {key!r}")
        if kind == "delivery" and not _two_parts(key, "|"):
            raise IncidentError(f"a delivery is INTERFACE|CORRELATION_ID, not {key!r}")
        return cls(kind, key)

    @classmethod
    def parse(cls, text: str) -> Entity:
        """'kind:key' (e.g. 'order:ORD-1', 'position:SKU-1@DC-EAST')."""
        kind, sep, key = text.partition(":")
        if not sep:
            raise IncidentError(f"an entity is KIND:KEY (e.g. order:ORD-000123), not {text!r}")
        return cls.of(kind, key)

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


def _two_parts(key: str, sep: str) -> bool:
    left, found, right = key.partition(sep)
    return bool(found and left and right)


@dataclass(frozen=True)
class Draft:
    """What an incident opened from an exception starts with (the page prefills its form)."""

    title: str
    range_from: datetime
    range_to: datetime
    entities: tuple[Entity, ...]
    exception_key: str | None = None


@dataclass(frozen=True)
class Incident:
    incident_id: int
    title: str
    status: str
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    range_from: datetime
    range_to: datetime
    summary: str
    exception_key: str | None
    entities: tuple[Entity, ...] = ()
    notes: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    def as_dict(self) -> dict[str, Any]:
        """The record as audit and JSON see it (no notes)."""
        return {
            "incident_id": self.incident_id,
            "title": self.title,
            "status": self.status,
            "range_from": self.range_from,
            "range_to": self.range_to,
            "summary": self.summary,
            "exception_key": self.exception_key,
            "entities": [str(e) for e in self.entities],
        }


_INSERT = sa.text(
    """
    INSERT INTO incidents (title, opened_by, opened_at, range_from, range_to, summary, exception_key)
    VALUES (:title, :by, COALESCE(CAST(:at AS timestamptz), now()), :range_from, :range_to, :summary,
            :exception_key)
    RETURNING incident_id
    """
)
_LOCK = sa.text("SELECT incident_id FROM incidents WHERE incident_id = :id FOR UPDATE")
_GET = sa.text(
    """
    SELECT incident_id, title, status, opened_by, opened_at, closed_by, closed_at, range_from,
           range_to, summary, exception_key
      FROM incidents
     WHERE incident_id = :id
    """
)
_ENTITIES = sa.text(
    """
    SELECT entity_kind, entity_key
      FROM incident_entities
     WHERE incident_id = :id
     ORDER BY array_position(CAST(:kinds AS text[]), entity_kind), entity_key
    """
)
_NOTES = sa.text(
    "SELECT note_id, author, at, text FROM incident_notes WHERE incident_id = :id ORDER BY at, note_id"
)
_ATTACH = sa.text(
    """
    INSERT INTO incident_entities (incident_id, entity_kind, entity_key, added_by, added_at)
    VALUES (:id, :kind, :key, :by, COALESCE(CAST(:at AS timestamptz), now()))
    ON CONFLICT DO NOTHING
    """
)
_DETACH = sa.text(
    "DELETE FROM incident_entities WHERE incident_id = :id AND entity_kind = :kind AND entity_key = :key"
)
_SET_RANGE = sa.text(
    """
    UPDATE incidents SET range_from = :range_from, range_to = :range_to, updated_at = now()
     WHERE incident_id = :id
    """
)
_NOTE = sa.text(
    """
    INSERT INTO incident_notes (incident_id, author, at, text)
    VALUES (:id, :by, COALESCE(CAST(:at AS timestamptz), now()), :text)
    RETURNING note_id
    """
)
_CLOSE = sa.text(
    """
    UPDATE incidents
       SET status = 'closed', closed_by = :by, closed_at = COALESCE(CAST(:at AS timestamptz), now()),
           summary = COALESCE(CAST(:summary AS text), summary), updated_at = now()
     WHERE incident_id = :id
    """
)
_EXCEPTION = sa.text(
    """
    SELECT key, type, entity_kind, entity, severity, first_seen, last_seen, detail
      FROM exceptions
     WHERE key = :key
    """
)
Who = Actor | Auditor  # a signed-in user, or the operating-system user of the CLI


def authorise(actor: Who | None) -> Who:
    """The actor, when it may change incidents: a manager or admin (`require(actor, "act")`),
    or the command line (`app.auth.accounts.cli_actor()`: it has the database's rights)."""
    if isinstance(actor, Auditor) and actor.role == CLI_ROLE:
        return actor
    require(actor if isinstance(actor, Actor) or actor is None else None, "act")
    assert actor is not None  # require refused None
    return actor


def _audit(
    conn: Connection,
    actor: Who,
    action: str,
    incident_id: int,
    reason: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        conn,
        actor=actor.username,
        role=actor.role,
        action=f"incident.{action}",
        entity_kind=AUDIT_KIND,
        entity_key=str(incident_id),
        reason=reason,
        before=before,
        after=after,
        detail=detail,
        at=at,
    )


def _check_range(range_from: datetime, range_to: datetime) -> None:
    for name, value in (("from", range_from), ("to", range_to)):
        if value.tzinfo is None:
            raise IncidentError(f"the range's {name} needs a time zone offset, e.g. 2026-11-20T13:00:00Z")
    if range_from >= range_to:
        raise IncidentError(
            f"the range must go forward: from {range_from.isoformat()} "
            f"is not before to {range_to.isoformat()}"
        )


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise IncidentError("an incident needs a title")
    if len(title) > MAX_TITLE:
        raise IncidentError(f"a title has at most {MAX_TITLE} characters, this one {len(title)}")
    return title


def get(conn: Connection, incident_id: int) -> Incident:
    """One incident with its entities and notes; IncidentError when there is none."""
    row = conn.execute(_GET, {"id": incident_id}).mappings().first()
    if row is None:
        raise IncidentError(f"no incident {incident_id}")
    entities = tuple(
        Entity(r[0], r[1]) for r in conn.execute(_ENTITIES, {"id": incident_id, "kinds": list(KINDS)})
    )
    notes = tuple(dict(r) for r in conn.execute(_NOTES, {"id": incident_id}).mappings())
    return Incident(**row, entities=entities, notes=notes)


def _locked(conn: Connection, incident_id: int, *, open_only: bool) -> Incident:
    if conn.execute(_LOCK, {"id": incident_id}).first() is None:
        raise IncidentError(f"no incident {incident_id}")
    incident = get(conn, incident_id)
    if open_only and incident.closed:
        raise IncidentError(
            f"incident {incident_id} is closed: its entities, range and status stay as they were"
        )
    return incident


def list_incidents(conn: Connection, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Open incidents first, then closed; newest first within each."""
    if status is not None and status not in ("open", "closed"):
        raise IncidentError(f"status is open or closed, not {status!r}")
    rows = conn.execute(sql_text("incidents/list"), {"status": status, "limit": limit}).mappings()
    return [dict(r) for r in rows]


def open_incident(
    conn: Connection,
    actor: Who | None,
    *,
    title: str,
    range_from: datetime,
    range_to: datetime,
    entities: Iterable[Entity] = (),
    summary: str = "",
    exception_key: str | None = None,
    at: datetime | None = None,
) -> int:
    """A new open incident with its entities; its id."""
    actor = authorise(actor)
    title = _check_title(title)
    _check_range(range_from, range_to)
    chosen = sorted(set(entities))
    params = {
        "title": title,
        "by": actor.username,
        "at": at,
        "range_from": range_from,
        "range_to": range_to,
        "summary": summary.strip(),
        "exception_key": exception_key,
    }
    incident_id = int(conn.execute(_INSERT, params).scalar_one())
    for entity in chosen:
        conn.execute(
            _ATTACH,
            {"id": incident_id, "kind": entity.kind, "key": entity.key, "by": actor.username, "at": at},
        )
    after = get(conn, incident_id).as_dict()
    reason = f"opened from exception {exception_key}" if exception_key else "opened"
    _audit(conn, actor, "open", incident_id, reason, None, after, at)
    return incident_id


def entity_of_exception(row: dict[str, Any]) -> Entity:
    """The entity an exception is about, named as links.py names it: a position as
    SKU@LOCATION (metrics.detectors.position_of), anything else as the detector named it."""
    if row["entity_kind"] == "position" and (position := position_of(row["entity"])):
        return Entity.of("position", position)
    return Entity.of(row["entity_kind"], row["entity"])


def draft_from_exception(conn: Connection, exception_key: str, margin: timedelta = DEFAULT_MARGIN) -> Draft:
    """An incident about one exception: its entity, its first_seen..last_seen widened by
    `margin` on both sides (a range of at least 2 × margin), a title naming both. About an
    order, the range also covers the order's life (its first to its last order event, ±
    `margin`), so the timeline shows how it came to breach, not only when it was seen."""
    if margin < timedelta(0):
        raise IncidentError(f"the margin cannot be negative, got {margin}")
    row = conn.execute(_EXCEPTION, {"key": exception_key}).mappings().first()
    if row is None:
        raise IncidentError(f"no exception {exception_key!r}")
    entity = entity_of_exception(dict(row))
    range_from, range_to = row["first_seen"] - margin, row["last_seen"] + margin
    if entity.kind == "order":
        life = conn.execute(sql_text("incidents/order_span"), {"order_id": entity.key}).first()
        if life is not None:
            range_from = min(range_from, life.first_time - margin)
            range_to = max(range_to, life.last_time + margin)
    if range_from >= range_to:  # margin 0 on an exception seen once
        range_to = range_from + timedelta(minutes=1)
    title = f"{row['type']} on {entity.kind} {entity.key}"
    return Draft(title[:MAX_TITLE], range_from, range_to, (entity,), row["key"])


def open_from_exception(
    conn: Connection,
    actor: Who | None,
    exception_key: str,
    *,
    title: str | None = None,
    margin: timedelta = DEFAULT_MARGIN,
    at: datetime | None = None,
) -> int:
    """Open an incident from an exception (see `draft_from_exception`); its id."""
    authorise(actor)
    draft = draft_from_exception(conn, exception_key, margin)
    return open_incident(
        conn,
        actor,
        title=title or draft.title,
        range_from=draft.range_from,
        range_to=draft.range_to,
        entities=draft.entities,
        exception_key=draft.exception_key,
        at=at,
    )


def attach(
    conn: Connection,
    actor: Who | None,
    incident_id: int,
    entities: Sequence[Entity],
    *,
    at: datetime | None = None,
) -> int:
    """Attach entities to an open incident; how many were new (attached ones stay once)."""
    actor = authorise(actor)
    before = _locked(conn, incident_id, open_only=True)
    added = 0
    for entity in sorted(set(entities)):
        params = {"id": incident_id, "kind": entity.kind, "key": entity.key, "by": actor.username, "at": at}
        added += conn.execute(_ATTACH, params).rowcount
    if added:
        _audit_entities(conn, actor, "attach", incident_id, before, at)
    return added


def detach(
    conn: Connection,
    actor: Who | None,
    incident_id: int,
    entities: Sequence[Entity],
    *,
    at: datetime | None = None,
) -> int:
    """Detach entities from an open incident; how many were attached."""
    actor = authorise(actor)
    before = _locked(conn, incident_id, open_only=True)
    removed = 0
    for entity in sorted(set(entities)):
        removed += conn.execute(_DETACH, {"id": incident_id, "kind": entity.kind, "key": entity.key}).rowcount
    if removed:
        _audit_entities(conn, actor, "detach", incident_id, before, at)
    return removed


def _audit_entities(
    conn: Connection, actor: Who, action: str, incident_id: int, before: Incident, at: datetime | None
) -> None:
    """The audit row of an attach or detach: the entities that changed, before and after."""
    after = get(conn, incident_id)
    changed = sorted(set(after.entities) ^ set(before.entities))
    _audit(
        conn,
        actor,
        action,
        incident_id,
        f"{action}ed " + ", ".join(map(str, changed)),
        {"entities": [str(e) for e in before.entities]},
        {"entities": [str(e) for e in after.entities]},
        at,
    )


def set_range(
    conn: Connection,
    actor: Who | None,
    incident_id: int,
    range_from: datetime,
    range_to: datetime,
    *,
    at: datetime | None = None,
) -> None:
    """Set the business-time range [from, to) the incident is about."""
    actor = authorise(actor)
    _check_range(range_from, range_to)
    before = _locked(conn, incident_id, open_only=True)
    if (before.range_from, before.range_to) == (range_from, range_to):
        return
    conn.execute(_SET_RANGE, {"id": incident_id, "range_from": range_from, "range_to": range_to})
    _audit(
        conn,
        actor,
        "set_range",
        incident_id,
        "range changed",
        {"range_from": before.range_from, "range_to": before.range_to},
        {"range_from": range_from, "range_to": range_to},
        at,
    )


def add_note(
    conn: Connection, actor: Who | None, incident_id: int, text: str, *, at: datetime | None = None
) -> int:
    """Append a note (open or closed incident); its note_id. Notes are never edited."""
    actor = authorise(actor)
    text = text.strip()
    if not text:
        raise IncidentError("a note needs some text")
    if len(text) > MAX_NOTE:
        raise IncidentError(f"a note has at most {MAX_NOTE:,} characters, this one {len(text):,}")
    _locked(conn, incident_id, open_only=False)
    note_id = int(
        conn.execute(_NOTE, {"id": incident_id, "by": actor.username, "at": at, "text": text}).scalar_one()
    )
    _audit(conn, actor, "note", incident_id, "note added", None, {"note_id": note_id, "text": text}, at)
    return note_id


def close(
    conn: Connection,
    actor: Who | None,
    incident_id: int,
    *,
    summary: str | None = None,
    at: datetime | None = None,
) -> None:
    """Close an open incident, with its summary (kept as it was when None)."""
    actor = authorise(actor)
    before = _locked(conn, incident_id, open_only=True)
    summary = summary.strip() if summary is not None else None
    conn.execute(_CLOSE, {"id": incident_id, "by": actor.username, "at": at, "summary": summary})
    after = get(conn, incident_id)
    _audit(
        conn,
        actor,
        "close",
        incident_id,
        "closed",
        {"status": before.status, "summary": before.summary},
        {"status": after.status, "summary": after.summary},
        at,
    )
