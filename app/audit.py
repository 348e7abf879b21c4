"""The audit log: who did what to which entity, when, why, before and after.

`record` appends one row in the caller's transaction (`with engine.begin() as conn:`), so
a change and its audit row commit together or not at all. The table is append-only (the
database refuses UPDATE, DELETE and TRUNCATE) and hash-chained: each row's `hash` is
sha256 over the previous row's hash and the row's canonical content (the SQL function
`audit_row_hash`, sql/migrations/0010_accounts_audit.sql). Appends are serialised by a
transaction advisory lock taken in the insert trigger, so concurrent writers keep one
chain; a long transaction that records an audit row holds back other auditors until it
commits.

`verify` recomputes the chain and names the first row that does not match: a changed row
(its own hash is wrong), a deleted or reordered row (the next row's `prev_hash` is not the
hash of the row before it). Removing the newest rows cannot be seen from inside the table:
keep the head hash `verify` prints somewhere else to check it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from app.db.engine import sql_text

AUDIT_LOCK = 7022629598040910959  # b"audit_lo": the advisory lock of the insert trigger
MAX_ROWS = 10_000  # `rows` returns at most this many


def _json(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def record(
    conn: Connection,
    *,
    actor: str,
    role: str,
    action: str,
    entity_kind: str,
    entity_key: str,
    reason: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one row in the caller's transaction; its audit_id.

    `at` defaults to the transaction's start (now()); values in the dicts that JSON has no
    type for (datetimes, decimals) are written as text.
    """
    if not actor.strip():
        raise ValueError("an audit row needs an actor")
    if not action.strip():
        raise ValueError("an audit row needs an action")
    audit_id = conn.execute(
        sql_text("audit/insert"),
        {
            "at": at,
            "actor": actor,
            "role": role,
            "action": action,
            "entity_kind": entity_kind,
            "entity_key": entity_key,
            "reason": reason or "",
            "before": _json(before),
            "after": _json(after),
            "detail": _json(detail),
        },
    ).scalar_one()
    return int(audit_id)


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`: `ok`, the rows checked, and the first bad row if any."""

    rows: int
    head_hash: str | None  # the newest row's hash: keep a copy elsewhere to spot truncation
    bad_audit_id: int | None = None
    problem: str | None = None  # "content changed" or "chain broken (row deleted or reordered)"

    @property
    def ok(self) -> bool:
        return self.bad_audit_id is None

    def message(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.rows} rows"
        return f"audit chain broken at audit_id {self.bad_audit_id}: {self.problem}"


def verify(conn: Connection) -> Verification:
    """Recompute every row's hash in id order; the first row that does not match."""
    row = conn.execute(sql_text("audit/verify")).mappings().one()
    count, head = int(row["rows"]), row["head_hash"]
    if row["bad_audit_id"] is not None:
        problem = (
            "content changed (its hash does not match its content)"
            if row["content_changed"]
            else "chain broken (its prev_hash is not the hash of the row before: "
            "a row was deleted or reordered)"
        )
        return Verification(count, head, int(row["bad_audit_id"]), problem)
    if row["head_mismatch"]:
        return Verification(
            count,
            head,
            int(row["recorded_last_id"]),
            "newest rows missing (the chain was last extended to this row, which is gone or changed)",
        )
    return Verification(count, head)


@dataclass(frozen=True)
class AuditRow:
    audit_id: int
    at: datetime
    actor: str
    role: str
    action: str
    entity_kind: str
    entity_key: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None


def rows(
    conn: Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    entity_kind: str | None = None,
    entity_key: str | None = None,
    limit: int = 1000,
) -> list[AuditRow]:
    """Rows with since <= at < until and the given fields (None: any), newest first,
    at most `limit` (capped at MAX_ROWS)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    result = conn.execute(
        sql_text("audit/rows"),
        {
            "since": since,
            "until": until,
            "actor": actor or None,
            "action": action or None,
            "entity_kind": entity_kind or None,
            "entity_key": entity_key or None,
            "limit": min(limit, MAX_ROWS),
        },
    ).mappings()
    return [AuditRow(**r) for r in result]
