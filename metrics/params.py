"""What every metric is computed for: an instant, a window of business time, and policies.

contracts/METRICS.md: every metric is computed as of an instant `as_of` (default now)
over a window `[since, until)` of business time (default: the 7 days before `as_of`),
from events whose `time <= as_of`. Thresholds are policies with the defaults below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_WINDOW = timedelta(days=7)

# the policies that may also be set below the deployment, and by what (metrics/policies.py)
SCOPABLE: dict[str, str] = {
    "at_risk_hours": "channel",
    "interface_failure_rate": "interface",
    "interface_min_calls": "interface",
    "stale_hours": "node_kind",
}


@dataclass(frozen=True)
class Window:
    as_of: datetime
    since: datetime
    until: datetime

    @classmethod
    def of(
        cls, as_of: datetime | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> Window:
        """The window METRICS.md defines by default: the 7 days before `as_of` (now)."""
        as_of = as_of or datetime.now(UTC)
        until = until or as_of
        since = since or until - DEFAULT_WINDOW
        for name, value in (("as_of", as_of), ("since", since), ("until", until)):
            if value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone offset, e.g. 2026-11-20T00:00:00Z")
        if since >= until:
            raise ValueError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
        return cls(as_of.astimezone(UTC), since.astimezone(UTC), until.astimezone(UTC))

    def params(self) -> dict[str, Any]:
        """Named SQL parameters :as_of, :since, :until."""
        return {"as_of": self.as_of, "since": self.since, "until": self.until}

    def as_json(self) -> dict[str, str]:
        return {k: v.isoformat().replace("+00:00", "Z") for k, v in self.params().items()}


@dataclass(frozen=True)
class Scope:
    """The part of the estate a figure is about (the shared filters' region, channel, node
    and source); None is all. A node's region is that of its latest location.upserted."""

    region: str | None = None
    channel: str | None = None
    node: str | None = None
    source: str | None = None

    def params(self) -> dict[str, Any]:
        """Named SQL parameters :region, :channel, :node, :source (None: not narrowed);
        queries test them as `(CAST(:channel AS text) IS NULL OR f.channel = :channel)`."""
        return {"region": self.region, "channel": self.channel, "node": self.node, "source": self.source}

    @property
    def everything(self) -> bool:
        return not any(self.params().values())


ALL = Scope()


@dataclass(frozen=True)
class Policies:
    """The thresholds of METRICS.md with their defaults, and the overrides below the deployment.

    `scoped` holds the overrides of the SCOPABLE policies for one channel, node kind or
    interface: {policy name: {scope value: value}}, e.g. {"at_risk_hours": {"marketplace": 48.0}}.
    Where a figure's channel, node kind or interface has an entry, it applies instead of the
    deployment value (`value_for`); the SQL gets each map as one jsonb parameter
    (`scoped_params`).
    """

    at_risk_hours: float = 24
    repeated_reroute_count: int = 2
    reference_system: str = "erp"
    abs_tolerance_units: float = 2
    pct_tolerance: float = 0.05
    stale_hours: float = 6
    max_event_lag_minutes: float = 15
    source_stale_minutes: float = 30
    asn_late_hours: float = 4
    return_to_stock_hours: float = 48
    interface_failure_rate: float = 0.05
    interface_min_calls: int = 20
    timezone: str = "UTC"
    scoped: dict[str, dict[str, float]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.scoped) - set(SCOPABLE))
        if unknown:
            raise ValueError(f"only {', '.join(SCOPABLE)} may be scoped, not {', '.join(unknown)}")

    def params(self) -> dict[str, Any]:
        """Named SQL parameters, one per policy (e.g. :at_risk_hours); `scoped` is not one."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "scoped"}

    def value_for(self, name: str, scope_value: str | None) -> Any:
        """The value of `name` for one channel, node kind or interface (else the deployment's)."""
        values = self.scoped.get(name, {})
        if scope_value is not None and scope_value in values:
            return values[scope_value]
        return getattr(self, name)

    def scoped_params(self, *names: str) -> dict[str, str]:
        """Named SQL parameters, one per scopable policy (default: all): :NAME_by_SCOPE.

        Each is the JSON text of {scope value: value} (`{}` when there is no override),
        read in SQL as `COALESCE(CAST(CAST(:at_risk_hours_by_channel AS jsonb) ->> channel
        AS double precision), :at_risk_hours)`.
        """
        chosen = names or tuple(SCOPABLE)
        return {
            f"{name}_by_{SCOPABLE[name]}": json.dumps(dict(self.scoped.get(name, {})), sort_keys=True)
            for name in chosen
        }

    def scoped_json(self) -> dict[str, dict[str, float]]:
        """The overrides below the deployment, every scopable policy listed ({} when none)."""
        return {name: dict(sorted(self.scoped.get(name, {}).items())) for name in SCOPABLE}
