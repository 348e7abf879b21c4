"""What every action family shares: the shape of a family, its preview, its refusals.

A family (one module in app/actions/) handles one kind of override the same way:

    state(conn, key, params)         what the user is shown of the entity (a plain dict)
    check(conn, kind, key, params, state) -> params   refuse bad input, normalise the rest
    changes(kind, key, params, state) -> [str]       the preview: what will change
    value(conn, kind, key, params, state)             money at stake (None: not priced)
    stale(key, seen, state) -> str                    what changed since it was shown
    commands(kind, key, params, state) -> [Command]   what the outbox sends (none: local)
    apply(conn, actor, kind, key, params, state, at) -> after   a local action's change

`app.actions.core` runs them: validate -> preview -> request -> approve/reject -> outbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import orjson
from sqlalchemy.engine import Connection

from app.auth.roles import Actor


class ActionError(ValueError):
    """An action was refused; the message (one line) says why."""


class Invalid(ActionError):
    """Bad input, or the entity cannot take this action."""


class Stale(ActionError):
    """The entity changed since it was shown; the message says what changed."""


class Busy(ActionError):
    """Another action on the same entity is in flight (or won a race just now)."""


@dataclass(frozen=True)
class Command:
    """One command for the system that owns the entity (the outbox row's body)."""

    system: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Preview:
    kind: str
    entity_kind: str
    entity_key: str
    params: dict[str, Any]
    state: dict[str, Any]
    changes: list[str]
    value: Decimal | None
    needs_approval: bool
    commands: list[Command] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.state)


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def fingerprint(state: dict[str, Any]) -> str:
    """sha256 of the state's canonical JSON: equal states, equal fingerprints."""
    return hashlib.sha256(canonical(state)).hexdigest()


def plain(state: dict[str, Any]) -> dict[str, Any]:
    """The state as JSON would give it back (datetimes and decimals as text)."""
    loaded: dict[str, Any] = orjson.loads(canonical(state))
    return loaded


def short_time(value: Any) -> str:
    """'14:03' for an ISO time or datetime (UTC), '?' for none."""
    if value is None:
        return "?"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, datetime) else str(value)


class Family:
    """The defaults of a family; each module subclasses it once."""

    kinds: ClassVar[tuple[str, ...]] = ()
    entity_kind: ClassVar[str] = ""
    permission: ClassVar[str] = "act"
    local: ClassVar[bool] = False  # applied at once in the request's transaction, no outbox

    def state(self, conn: Connection, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def check(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, Any]:
        return params

    def changes(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[str]:
        return []

    def value(
        self, conn: Connection, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]
    ) -> Decimal | None:
        return None

    def stale(self, key: str, seen: dict[str, Any], state: dict[str, Any]) -> str:
        changed = sorted(k for k in set(seen) | set(state) if seen.get(k) != state.get(k))
        parts = [f"{k} is now {state.get(k)!r}, not {seen.get(k)!r}" for k in changed]
        return f"{key} changed since it was shown: " + "; ".join(parts)

    def commands(self, kind: str, key: str, params: dict[str, Any], state: dict[str, Any]) -> list[Command]:
        return []

    def apply(
        self,
        conn: Connection,
        actor: Actor,
        kind: str,
        key: str,
        params: dict[str, Any],
        state: dict[str, Any],
        at: datetime,
        reason: str,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def on_approved(self, conn: Connection, action: dict[str, Any], at: datetime) -> None:
        """Local bookkeeping when the commands go to the outbox (e.g. a hold lowers ATP)."""

    def on_failed(self, conn: Connection, action: dict[str, Any], at: datetime) -> None:
        """Undo that bookkeeping when the command could not be applied."""


def unit_cost(conn: Connection, sku: str) -> Decimal | None:
    from app.db.engine import sql_text

    cost = conn.execute(sql_text("actions/unit_cost"), {"sku": sku}).scalar()
    return None if cost is None else Decimal(cost)


def whole(params: dict[str, Any], name: str, *, positive: bool = True) -> int:
    value = params.get(name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{name} must be a whole number, got {value!r}")
    if positive and value < 1:
        raise Invalid(f"{name} must be at least 1, got {value}")
    return value
