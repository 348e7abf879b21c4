"""Governed manual actions: validate -> preview -> request -> approve/reject -> outbox.

    preview(engine, kind, key, params)                       what will change, value, approval?
    request(engine, actor, kind, key, params, reason=..., idempotency_key=..., seen=...)
    approve(engine, actor, action_id) / reject(engine, actor, action_id, reason=...)

Every action needs a non-blank reason and a role (app.auth.roles.require: "act", or
"admin" for sources). Its value (units x unit cost, or the order's value) above
CTOWER_APPROVAL_THRESHOLD makes it wait for a second manager's approval (never the
requester's). The same idempotency key returns the same action (a double click applies
once). `seen`, the state the requester was shown, must still be the state now, else the
request (or the approval) is refused with what changed. Requests on one entity take turns
(a transaction advisory lock), and only one action per entity is in flight at a time.
Each change of an action is written with its audit row and its outbox rows in ONE
transaction. Local actions (the exception workflow, pausing a source) apply at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app import audit
from app.actions.base import Busy, Invalid, Preview, Stale, canonical, fingerprint, plain
from app.actions.registry import family as family_of
from app.auth.roles import Actor, Forbidden, require
from app.db.engine import sql_text
from app.outbox.endpoints import endpoint_of
from app.settings import load_settings

SYSTEM_ACTOR = "ctower/outbox"


@dataclass(frozen=True)
class Action:
    action_id: int
    kind: str
    entity_kind: str
    entity_key: str
    params: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: datetime
    value: Decimal | None
    needs_approval: bool
    status: str
    idempotency_key: str
    seen: dict[str, Any]
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    error: str | None

    @classmethod
    def of(cls, row: Any) -> Action:
        m = row._mapping
        return cls(**{f: m[f] for f in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        return plain({f: getattr(self, f) for f in self.__dataclass_fields__})


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def threshold() -> Decimal:
    return Decimal(str(load_settings().approval_threshold))


def _preview(conn: Connection, kind: str, key: str, params: dict[str, Any]) -> Preview:
    fam = family_of(kind)
    state = plain(fam.state(conn, key, params))
    checked = fam.check(conn, kind, key, dict(params), state)
    value = fam.value(conn, kind, key, checked, state)
    return Preview(
        kind=kind,
        entity_kind=fam.entity_kind,
        entity_key=key,
        params=checked,
        state=state,
        changes=fam.changes(kind, key, checked, state),
        value=value,
        needs_approval=not fam.local and value is not None and value > threshold(),
        commands=fam.commands(kind, key, checked, state),
    )


def preview(engine: Engine, kind: str, key: str, params: dict[str, Any] | None = None) -> Preview:
    """What the action would change, now: raises Invalid (one line) when it cannot be done."""
    with engine.connect() as conn:
        return _preview(conn, kind, key, params or {})


def _audit(
    conn: Connection,
    actor: str,
    role: str,
    action: Action | dict[str, Any],
    what: str,
    reason: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
    **detail: Any,
) -> None:
    a = action.as_dict() if isinstance(action, Action) else action
    audit.record(
        conn,
        actor=actor,
        role=role,
        action=f"{a['kind']}.{what}",
        entity_kind=a["entity_kind"],
        entity_key=a["entity_key"],
        reason=reason,
        before=before,
        after=after,
        detail={"action_id": a["action_id"], "params": a["params"], **detail},
        at=at,
    )


def _get(conn: Connection, action_id: int, *, lock: bool = False) -> Action:
    row = conn.execute(
        sql_text("actions/lock" if lock else "actions/by_id"), {"action_id": action_id}
    ).first()
    if row is None:
        raise Invalid(f"no action #{action_id}")
    return Action.of(row)


def get(engine: Engine, action_id: int) -> Action:
    with engine.connect() as conn:
        return _get(conn, action_id)


def outbox_rows(engine: Engine, action_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sql_text("outbox/for_action"), {"action_id": action_id})
        return [dict(r._mapping) for r in rows]


def list_actions(engine: Engine, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sql_text("actions/list"), {"status": status, "limit": limit})
        return [{**r._mapping, "params": orjson.loads(r.params)} for r in rows]


def _enqueue(conn: Connection, action: Action, preview: Preview, at: datetime) -> None:
    """The action's commands into the outbox, and the family's local bookkeeping."""
    for n, command in enumerate(preview.commands, start=1):
        command_id = f"ctower-{action.action_id}-{n}"
        body = {"command_id": command_id, **command.body}
        conn.execute(
            sql_text("outbox/insert"),
            {
                "action_id": action.action_id,
                "target_system": command.system,
                "endpoint": endpoint_of(command.system),
                "command": orjson.dumps(body).decode(),
                "command_id": command_id,
                "at": at,
            },
        )
    family_of(action.kind).on_approved(conn, action.as_dict(), at)


def _check_seen(fam_key: str, kind: str, seen: dict[str, Any] | None, state: dict[str, Any]) -> None:
    if seen is not None and fingerprint(plain(seen)) != fingerprint(state):
        raise Stale(family_of(kind).stale(fam_key, plain(seen), state))


def request(
    engine: Engine,
    actor: Actor | None,
    kind: str,
    key: str,
    params: dict[str, Any] | None = None,
    *,
    reason: str,
    idempotency_key: str,
    seen: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Action:
    """Request an action; returns it (pending, approved, or confirmed for a local one).

    The same `idempotency_key` again returns the action it made, whatever happened since.
    Raises Forbidden, Invalid, Stale or Busy with a one-line message.
    """
    fam = family_of(kind)
    require(actor, fam.permission)
    assert actor is not None
    if not reason or not reason.strip():
        raise Invalid("a reason is required: say why, in a few words")
    if not idempotency_key or not idempotency_key.strip():
        raise Invalid("an idempotency key is required")
    at = _now(now)
    params = dict(params or {})
    with engine.begin() as conn:
        conn.execute(sql_text("actions/entity_lock"), {"entity_kind": fam.entity_kind, "entity_key": key})
        existing = conn.execute(sql_text("actions/by_key"), {"idempotency_key": idempotency_key}).first()
        if existing is not None:
            found = Action.of(existing)
            if (found.kind, found.entity_key) != (kind, key):
                raise Invalid(f"idempotency key already used for action #{found.action_id} ({found.kind})")
            return found
        preview_now = _preview_or_stale(conn, kind, key, params, seen)
        if not fam.local:
            busy = conn.execute(
                sql_text("actions/in_flight"), {"entity_kind": fam.entity_kind, "entity_key": key}
            ).first()
            if busy is not None:
                raise Busy(
                    f"{key} already has action #{busy.action_id} ({busy.kind}, {busy.status}) "
                    f"requested by {busy.requested_by}: wait for it to finish"
                )
        status = "confirmed" if fam.local else "pending" if preview_now.needs_approval else "approved"
        try:
            with conn.begin_nested():
                action_id = conn.execute(
                    sql_text("actions/insert"),
                    {
                        "kind": kind,
                        "entity_kind": fam.entity_kind,
                        "entity_key": key,
                        "params": canonical(preview_now.params).decode(),
                        "reason": reason.strip(),
                        "requested_by": actor.username,
                        "requested_role": actor.role,
                        "requested_at": at,
                        "value": preview_now.value,
                        "needs_approval": preview_now.needs_approval,
                        "status": status,
                        "idempotency_key": idempotency_key,
                        "seen": canonical(preview_now.state).decode(),
                        "seen_fingerprint": preview_now.fingerprint,
                        "decided_by": None,
                        "decided_at": None,
                    },
                ).scalar_one()
        except sa.exc.IntegrityError:
            raise Busy(f"{key} already has an action in flight: another request won just now") from None
        action = _get(conn, action_id)
        after: dict[str, Any] = {"status": status}
        if fam.local:
            after = fam.apply(
                conn, actor, kind, key, preview_now.params, preview_now.state, at, reason.strip()
            )
        elif status == "approved":
            _enqueue(conn, action, preview_now, at)
        _audit(
            conn,
            actor.username,
            actor.role,
            action,
            "applied" if fam.local else "requested",
            reason.strip(),
            preview_now.state,
            after,
            at,
            value=None if preview_now.value is None else str(preview_now.value),
            needs_approval=preview_now.needs_approval,
            status=status,
        )
        return action


def _preview_or_stale(
    conn: Connection, kind: str, key: str, params: dict[str, Any], seen: dict[str, Any] | None
) -> Preview:
    fam = family_of(kind)
    state = plain(fam.state(conn, key, params))
    _check_seen(key, kind, seen, state)
    return _preview(conn, kind, key, params)


def approve(
    engine: Engine, actor: Actor | None, action_id: int, *, reason: str = "", now: datetime | None = None
) -> Action:
    """A second manager approves a pending action: its commands go to the outbox.

    Refused for the requester, for an action not pending, and when the entity changed
    since the requester saw it (the action then fails, with what changed)."""
    return _decide(engine, actor, action_id, approve=True, reason=reason, now=now)


def reject(
    engine: Engine, actor: Actor | None, action_id: int, *, reason: str, now: datetime | None = None
) -> Action:
    """A second manager rejects a pending action (a reason is required)."""
    if not reason or not reason.strip():
        raise Invalid("a reason is required to reject")
    return _decide(engine, actor, action_id, approve=False, reason=reason, now=now)


def _decide(
    engine: Engine, actor: Actor | None, action_id: int, *, approve: bool, reason: str, now: datetime | None
) -> Action:
    require(actor, "approve")
    assert actor is not None
    at = _now(now)
    stale: Stale | Invalid | None = None
    with engine.begin() as conn:
        action = _get(conn, action_id, lock=True)
        if action.requested_by == actor.username:
            raise Forbidden(
                f"{actor.username} requested #{action_id}: another manager must "
                f"{'approve' if approve else 'reject'} it"
            )
        if action.status != "pending":
            by = f" by {action.decided_by}" if action.decided_by else ""
            raise Invalid(f"action #{action_id} is {action.status}{by}, not pending")
        status, error = ("approved" if approve else "rejected"), None
        current: Preview | None = None
        if approve:
            try:
                current = _preview_or_stale(conn, action.kind, action.entity_key, action.params, action.seen)
            except (Stale, Invalid) as exc:
                stale, status, error = exc, "failed", str(exc)
        conn.execute(
            sql_text("actions/decide"),
            {
                "action_id": action_id,
                "status": status,
                "decided_by": actor.username,
                "decided_at": at,
                "decision_reason": reason.strip() or None,
                "error": error,
            },
        )
        decided = _get(conn, action_id)
        if current is not None:
            _enqueue(conn, decided, current, at)
        what = {"approved": "approved", "rejected": "rejected", "failed": "failed"}[status]
        _audit(
            conn,
            actor.username,
            actor.role,
            decided,
            what,
            reason.strip() or (error or ""),
            {"status": "pending"},
            {"status": status, **({"error": error} if error else {})},
            at,
        )
    if stale is not None:
        raise stale
    return decided
