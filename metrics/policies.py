"""Governed policies: overrides of the METRICS.md thresholds, stored with their history.

The defaults live in code (`metrics.params.Policies`); the `policies` table holds only the
overrides (sql/migrations/0002_policies.sql), and every set or reset appends a row to
`policy_changes` (who, when, old value, new value, why) in the same transaction.

Every policy can be overridden for the whole deployment. A few may also be overridden for
one channel, node kind or interface; any other scoping is refused:

    policy                  scope       e.g.
    at_risk_hours           channel     --channel marketplace
    interface_failure_rate  interface   --interface oms.wms.create_pick
    interface_min_calls     interface   --interface oms.wms.create_pick
    stale_hours             node_kind   --node-kind store

`load` returns the deployment-wide values and, in `Policies.scoped`, these overrides; the
figures and detectors apply a channel's, interface's or node kind's own value where it has
one (a location's kind is the `kind` of its latest `retail.location.upserted` at or before
as_of; no known kind, or no override for it: the deployment value).

Values are checked on the way in (`set_policy`) and again on the way out (`load`,
`scoped`), so a bad row written by hand fails loudly with the policy's name.

    policy                  type    allowed
    at_risk_hours, stale_hours, asn_late_hours, return_to_stock_hours,
    max_event_lag_minutes, source_stale_minutes, abs_tolerance_units
                            number  >= 0
    pct_tolerance, interface_failure_rate
                            number  0 to 1
    repeated_reroute_count, interface_min_calls
                            whole   >= 1
    reference_system        text    erp, wms, pos, oms, marketplace
    timezone                text    an IANA time zone name (e.g. Europe/Paris)

`set_policy` and `reset_policy` run in the caller's transaction (`with engine.begin() as
conn:`): the override and its history row commit together or not at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from metrics.params import SCOPABLE, Policies

DEPLOYMENT = "deployment"
SCOPES = (DEPLOYMENT, "channel", "node_kind", "interface")
# which policy may be overridden below the deployment, and by what: metrics.params.SCOPABLE
REFERENCE_SYSTEMS = ("erp", "wms", "pos", "oms", "marketplace")
_FRACTIONS = {"pct_tolerance", "interface_failure_rate"}
_DEFAULTS = Policies()
# the policies (`Policies.scoped` holds the overrides below the deployment, it is not one)
NAMES: tuple[str, ...] = tuple(f.name for f in fields(Policies) if f.name != "scoped")
_TYPES: dict[str, Any] = get_type_hints(Policies)  # the declared types (a default 24 is a float)


class PolicyError(ValueError):
    """A policy name, value or scope is not acceptable; the message names the policy."""


@dataclass(frozen=True)
class Override:
    name: str
    scope: str
    scope_value: str
    value: Any
    reason: str
    changed_by: str
    changed_at: datetime


def default(name: str) -> Any:
    """The default of `name` as its declared type (24 hours is 24.0)."""
    _check_name(name)
    return parse(name, getattr(_DEFAULTS, name))


def parse(name: str, value: Any) -> Any:
    """`value` (text from a command line, or a JSON value from the table) as the policy's type.

    Raises PolicyError naming the policy when the value is not allowed.
    """
    _check_name(name)
    kind = _TYPES[name]
    if kind is str:
        return _parse_text(name, value)
    if kind is int:
        return _parse_count(name, value)
    return _parse_number(name, value)


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise PolicyError(f"unknown policy {name!r}; known: {', '.join(NAMES)}")


def _parse_number(name: str, value: Any) -> float:
    number: float
    if isinstance(value, bool):
        raise PolicyError(f"{name} must be a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise PolicyError(f"{name} must be a number, got {value!r}") from None
    else:
        raise PolicyError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(number):
        raise PolicyError(f"{name} must be a finite number, got {value!r}")
    if name in _FRACTIONS:
        if not 0 <= number <= 1:
            raise PolicyError(f"{name} must be between 0 and 1 (0.05 is 5%), got {value!r}")
    elif number < 0:
        raise PolicyError(f"{name} must be a number >= 0, got {value!r}")
    return number


def _parse_count(name: str, value: Any) -> int:
    count: int
    if isinstance(value, bool):
        raise PolicyError(f"{name} must be a whole number >= 1, got {value!r}")
    if isinstance(value, int):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+").isdigit():
        count = int(value.strip())
    else:
        raise PolicyError(f"{name} must be a whole number >= 1, got {value!r}")
    if count < 1:
        raise PolicyError(f"{name} must be a whole number >= 1, got {value!r}")
    return count


def _parse_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{name} must be text, got {value!r}")
    text = value.strip()
    if name == "reference_system":
        if text not in REFERENCE_SYSTEMS:
            raise PolicyError(f"{name} must be one of {', '.join(REFERENCE_SYSTEMS)}, got {value!r}")
    elif name == "timezone":
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(
                f"{name} must be an IANA time zone name (e.g. Europe/Paris), got {value!r}"
            ) from None
    return text


def check_scope(name: str, scope: str, scope_value: str) -> tuple[str, str]:
    """(scope, scope_value) cleaned, or PolicyError when `name` may not be scoped so."""
    _check_name(name)
    if scope not in SCOPES:
        raise PolicyError(f"unknown scope {scope!r} for {name}; known: {', '.join(SCOPES)}")
    if scope == DEPLOYMENT:
        if scope_value:
            raise PolicyError(f"{name}: a deployment-wide policy takes no scope value, got {scope_value!r}")
        return scope, ""
    allowed = SCOPABLE.get(name)
    if allowed != scope:
        where = f"only per {allowed}" if allowed else "only for the whole deployment"
        raise PolicyError(f"{name} cannot be set per {scope}: it can be set {where}")
    scope_value = scope_value.strip()
    if not scope_value:
        raise PolicyError(f"{name} per {scope} needs a {scope} value")
    return scope, scope_value


# --- reading -------------------------------------------------------------------------------

_SELECT_DEPLOYMENT = sa.text("SELECT name, value FROM policies WHERE scope = 'deployment' ORDER BY name")
_SELECT_ALL_SCOPED = sa.text(
    "SELECT name, scope, scope_value, value FROM policies "
    "WHERE scope <> 'deployment' ORDER BY name, scope, scope_value"
)
_SELECT_SCOPED = sa.text(
    "SELECT scope, scope_value, value FROM policies "
    "WHERE name = :name AND scope <> 'deployment' ORDER BY scope, scope_value"
)
_SELECT_ALL = sa.text(
    "SELECT name, scope, scope_value, value, reason, changed_by, changed_at FROM policies "
    "ORDER BY name, scope, scope_value"
)


def _stored(name: str, value: Any, where: str = "") -> Any:
    try:
        return parse(name, value)
    except PolicyError as exc:
        raise PolicyError(f"bad row in the policies table{where}: {exc}") from None


def load(conn: Connection) -> Policies:
    """The defaults with the stored overrides applied, each converted and checked.

    The deployment-wide overrides replace the defaults; the overrides per channel, node
    kind or interface go in `Policies.scoped` ({name: {scope value: value}}), where the
    figures and detectors apply them.
    """
    overrides: dict[str, Any] = {
        row.name: _stored(row.name, row.value) for row in conn.execute(_SELECT_DEPLOYMENT)
    }
    below: dict[str, dict[str, Any]] = {}
    for row in conn.execute(_SELECT_ALL_SCOPED):
        where = f" ({row.scope} {row.scope_value!r})"
        try:
            check_scope(row.name, row.scope, row.scope_value)
        except PolicyError as exc:
            raise PolicyError(f"bad row in the policies table{where}: {exc}") from None
        below.setdefault(row.name, {})[row.scope_value] = _stored(row.name, row.value, where)
    if below:
        overrides["scoped"] = below
    return replace(_DEFAULTS, **overrides) if overrides else _DEFAULTS


def scoped(conn: Connection, name: str) -> dict[tuple[str, str], Any]:
    """The overrides of `name` below the deployment: {(scope, scope_value): value}."""
    _check_name(name)
    return {
        (row.scope, row.scope_value): _stored(name, row.value, f" ({row.scope} {row.scope_value!r})")
        for row in conn.execute(_SELECT_SCOPED, {"name": name})
    }


def overrides(conn: Connection) -> list[Override]:
    """Every stored override, checked, ordered by name, scope and scope value."""
    return [
        Override(
            name=row.name,
            scope=row.scope,
            scope_value=row.scope_value,
            value=_stored(row.name, row.value),
            reason=row.reason,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
        )
        for row in conn.execute(_SELECT_ALL)
    ]


# --- changing ------------------------------------------------------------------------------

# writers take turns (readers are not blocked), so each history row's old value is exact
_LOCK = sa.text("LOCK TABLE policies IN SHARE ROW EXCLUSIVE MODE")
_CURRENT = sa.text(
    "SELECT value FROM policies WHERE name = :name AND scope = :scope AND scope_value = :scope_value"
)
_UPSERT = sa.text(
    """
    INSERT INTO policies (name, scope, scope_value, value, reason, changed_by, changed_at)
    VALUES (:name, :scope, :scope_value, :value, :reason, :actor, now())
    ON CONFLICT (name, scope, scope_value) DO UPDATE
    SET value = EXCLUDED.value, reason = EXCLUDED.reason,
        changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at
    """
).bindparams(sa.bindparam("value", type_=sa.JSON))
_DELETE = sa.text("DELETE FROM policies WHERE name = :name AND scope = :scope AND scope_value = :scope_value")
_HISTORY = sa.text(
    """
    INSERT INTO policy_changes (changed_by, name, scope, scope_value, old_value, new_value, reason)
    VALUES (:actor, :name, :scope, :scope_value, :old_value, :new_value, :reason)
    """
).bindparams(
    sa.bindparam("old_value", type_=sa.JSON(none_as_null=True)),
    sa.bindparam("new_value", type_=sa.JSON(none_as_null=True)),
)


def _check_who_and_why(name: str, reason: str, actor: str) -> None:
    if not reason or not reason.strip():
        raise PolicyError(f"{name}: a reason is required for every policy change")
    if not actor or not actor.strip():
        raise PolicyError(f"{name}: the actor making the change is required")


def set_policy(
    conn: Connection,
    name: str,
    value: Any,
    *,
    scope: str = DEPLOYMENT,
    scope_value: str = "",
    reason: str,
    actor: str,
) -> Any:
    """Store an override of `name` (checked and converted) and its history row; returns the value."""
    scope, scope_value = check_scope(name, scope, scope_value)
    typed = parse(name, value)
    _check_who_and_why(name, reason, actor)
    key = {"name": name, "scope": scope, "scope_value": scope_value}
    conn.execute(_LOCK)
    old = conn.execute(_CURRENT, key).scalar_one_or_none()
    conn.execute(_UPSERT, {**key, "value": typed, "reason": reason.strip(), "actor": actor})
    conn.execute(
        _HISTORY, {**key, "old_value": old, "new_value": typed, "reason": reason.strip(), "actor": actor}
    )
    return typed


def reset_policy(
    conn: Connection,
    name: str,
    *,
    scope: str = DEPLOYMENT,
    scope_value: str = "",
    reason: str,
    actor: str,
) -> Any:
    """Remove the override of `name` at this scope (recorded); returns the value it had.

    Raises PolicyError when there is no such override.
    """
    scope, scope_value = check_scope(name, scope, scope_value)
    _check_who_and_why(name, reason, actor)
    key = {"name": name, "scope": scope, "scope_value": scope_value}
    conn.execute(_LOCK)
    old = conn.execute(_CURRENT, key).scalar_one_or_none()
    if old is None:
        where = "" if scope == DEPLOYMENT else f" per {scope} {scope_value!r}"
        raise PolicyError(f"{name} has no override{where} to reset")
    conn.execute(_DELETE, key)
    conn.execute(
        _HISTORY, {**key, "old_value": old, "new_value": None, "reason": reason.strip(), "actor": actor}
    )
    return old
