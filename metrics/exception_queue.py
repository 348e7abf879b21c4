"""The exception queue (contracts/METRICS.md, "Exceptions"): detections in, lifecycle out.

Tables: sql/migrations/0003_exceptions.sql. One row per stable key (`type:entity`);
every status change also goes to the append-only `exception_events`.

`run_detectors` is one unit of work, safe to run twice, in one transaction under an
advisory lock (two runs at once take turns):
- a new detection is opened (first_seen = last_seen = as_of, history None -> open);
- an open or acknowledged one detected again gets last_seen = as_of and the new severity
  and detail; its status is kept;
- a resolved one detected again is reopened (open, resolved_at/by cleared, first_seen kept,
  history resolved -> open by 'auto');
- an open or acknowledged exception of the types run that is not detected now is resolved
  by 'auto' at as_of (history, note 'condition cleared').
The detectors' clock is `as_of`, so history rows of 'auto' carry `at = as_of`; the
transitions of users (`acknowledge`, `resolve`) carry the wall clock unless given `at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from metrics.detectors import DETECTORS, SEVERITIES, Detection, detect
from metrics.params import Policies, Window

AUTO = "auto"
LOCK_KEY = 0x6374657863  # "ctexc": one detector run at a time

_LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)")
# resolved rows pile up over time: only those detected again are read (and locked)
_EXISTING = sa.text(
    """
    SELECT key, status
      FROM exceptions
     WHERE type = ANY(:types)
       AND (status <> 'resolved' OR key = ANY(:keys))
       FOR UPDATE
    """
)
_INSERT = sa.text(
    """
    INSERT INTO exceptions (key, type, entity_kind, entity, status, severity,
                            first_seen, last_seen, detail, updated_at)
    VALUES (:key, :type, :entity_kind, :entity, 'open', :severity,
            :as_of, :as_of, CAST(:detail AS jsonb), now())
    """
)
_UPDATE = sa.text(
    """
    UPDATE exceptions
       SET last_seen = :as_of, severity = :severity, detail = CAST(:detail AS jsonb),
           entity_kind = :entity_kind, updated_at = now()
     WHERE key = :key
    """
)
_REOPEN = sa.text(
    """
    UPDATE exceptions
       SET status = 'open', resolved_at = NULL, resolved_by = NULL,
           last_seen = :as_of, severity = :severity, detail = CAST(:detail AS jsonb),
           entity_kind = :entity_kind, updated_at = now()
     WHERE key = :key
    """
)
_AUTO_RESOLVE = sa.text(
    """
    UPDATE exceptions
       SET status = 'resolved', resolved_at = :as_of, resolved_by = 'auto', updated_at = now()
     WHERE key = :key
    """
)
_HISTORY = sa.text(
    """
    INSERT INTO exception_events (key, at, from_status, to_status, by, note)
    VALUES (:key, :at, :from_status, :to_status, :by, :note)
    """
)


class TransitionError(ValueError):
    """The exception does not exist, or cannot go to that status from its current one."""


def _row(d: Detection, as_of: datetime) -> dict[str, Any]:
    return {
        "key": d.key,
        "type": d.type,
        "entity_kind": d.entity_kind,
        "entity": d.entity,
        "severity": d.severity,
        "detail": orjson.dumps(d.detail).decode(),
        "as_of": as_of,
    }


def _history(
    key: str, at: datetime, from_status: str | None, to_status: str, by: str, note: str | None
) -> dict[str, Any]:
    return {"key": key, "at": at, "from_status": from_status, "to_status": to_status, "by": by, "note": note}


def apply_detections(
    conn: Connection, detections: list[Detection], types: tuple[str, ...], as_of: datetime
) -> dict[str, int]:
    """Bring the queue's exceptions of `types` in line with `detections` (see the module doc)."""
    conn.execute(_LOCK, {"key": LOCK_KEY})
    by_key = {d.key: d for d in detections}  # one per key, whatever a detector returned
    params = {"types": list(types), "keys": list(by_key)}
    existing = {r.key: r.status for r in conn.execute(_EXISTING, params)}
    opened, updated, reopened, resolved, history = [], [], [], [], []
    for key, d in by_key.items():
        status = existing.get(key)
        if status is None:
            opened.append(_row(d, as_of))
            history.append(_history(key, as_of, None, "open", AUTO, "detected"))
        elif status == "resolved":
            reopened.append(_row(d, as_of))
            history.append(_history(key, as_of, "resolved", "open", AUTO, "detected again"))
        else:
            updated.append(_row(d, as_of))
    for key, status in existing.items():
        if status != "resolved" and key not in by_key:
            resolved.append({"key": key, "as_of": as_of})
            history.append(_history(key, as_of, status, "resolved", AUTO, "condition cleared"))
    for statement, rows in (
        (_INSERT, opened),
        (_UPDATE, updated),
        (_REOPEN, reopened),
        (_AUTO_RESOLVE, resolved),
    ):
        if rows:
            conn.execute(statement, rows)
    if history:
        conn.execute(_HISTORY, history)
    return {
        "opened": len(opened),
        "updated": len(updated),
        "reopened": len(reopened),
        "resolved": len(resolved),
    }


class QueueReplayError(ValueError):
    """The queue only moves forward in time; replaying an earlier instant would rewrite it."""


def run_detectors(
    engine: Engine, window: Window, policies: Policies, types: tuple[str, ...] | None = None
) -> dict[str, int]:
    """Run the detectors (default: all types) as of `window.as_of` and update the queue.

    One transaction. Returns the counts {"opened", "updated", "reopened", "resolved"}.
    """
    chosen = tuple(DETECTORS) if types is None else types
    with engine.begin() as conn:
        latest = conn.execute(sa.text("SELECT max(last_seen) FROM exceptions")).scalar()
        if latest is not None and window.as_of < latest:
            raise QueueReplayError(
                f"as of {window.as_of.isoformat()} is before the queue's latest run "
                f"({latest.isoformat()}): running it would resolve today's exceptions and reopen "
                "old ones. Use an as-of at or after the latest run (the metrics replay any instant)"
            )
        detections = detect(conn, window, policies, chosen)
        return apply_detections(conn, detections, chosen, window.as_of)


def _transition(
    conn: Connection,
    key: str,
    by: str,
    note: str | None,
    at: datetime | None,
    to_status: str,
    allowed: tuple[str, ...],
) -> str:
    if not by or by == AUTO:
        raise TransitionError(f"a user must be named (not {by!r})")
    row = conn.execute(
        sa.text("SELECT status FROM exceptions WHERE key = :key FOR UPDATE"), {"key": key}
    ).first()
    if row is None:
        raise TransitionError(f"no exception {key!r}")
    if row.status == to_status:
        return to_status  # already there: nothing to do, nothing recorded
    if row.status not in allowed:
        raise TransitionError(f"{key!r} is {row.status}; it cannot become {to_status}")
    when = at if at is not None else conn.execute(sa.text("SELECT now()")).scalar_one()
    resolved = to_status == "resolved"
    conn.execute(
        sa.text(
            """
            UPDATE exceptions
               SET status = :to_status, updated_at = now(),
                   resolved_at = CASE WHEN :resolved THEN CAST(:at AS timestamptz) END,
                   resolved_by = CASE WHEN :resolved THEN CAST(:by AS text) END
             WHERE key = :key
            """
        ),
        {"key": key, "to_status": to_status, "resolved": resolved, "at": when, "by": by},
    )
    conn.execute(_HISTORY, _history(key, when, row.status, to_status, by, note))
    return to_status


def acknowledge(
    conn: Connection, key: str, by: str, note: str | None = None, at: datetime | None = None
) -> str:
    """open -> acknowledged by user `by`, recorded; acknowledging twice changes nothing."""
    return _transition(conn, key, by, note, at, "acknowledged", ("open",))


def resolve(conn: Connection, key: str, by: str, note: str | None = None, at: datetime | None = None) -> str:
    """open or acknowledged -> resolved by user `by`, recorded. Detected again, it reopens."""
    return _transition(conn, key, by, note, at, "resolved", ("open", "acknowledged"))


_LIST = sa.text(
    """
    SELECT key, type, entity_kind, entity, status, severity, first_seen, last_seen,
           resolved_at, resolved_by, detail
      FROM exceptions
     WHERE (CAST(:status AS text) IS NULL AND status <> 'resolved') OR status = :status
     ORDER BY array_position(CAST(:severities AS text[]), severity) DESC, first_seen, key
    """
)


def queue(conn: Connection, status: str | None = None) -> list[dict[str, Any]]:
    """The queue, most severe and oldest first: unresolved ones, or those of `status`."""
    params = {"status": status, "severities": list(SEVERITIES)}
    return [dict(r) for r in conn.execute(_LIST, params).mappings()]
