"""What every metric is computed for: an instant, a window of business time, and policies.

contracts/METRICS.md: every metric is computed as of an instant `as_of` (default now)
over a window `[since, until)` of business time (default: the 7 days before `as_of`),
from events whose `time <= as_of`. Thresholds are policies with the defaults below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_WINDOW = timedelta(days=7)


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
class Policies:
    """The thresholds of METRICS.md with their defaults (per-deployment overrides: issue 4)."""

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

    def params(self) -> dict[str, Any]:
        """Named SQL parameters, one per policy (e.g. :at_risk_hours)."""
        return asdict(self)
