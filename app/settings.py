"""Configuration in one typed place.

Every variable is listed in `.env.example` and in the README. A bad value fails loudly
with the variable's name (see `load_settings`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CTOWER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL 14+ URL; unset means the embedded server in data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".ctower"),
        description="Folder of the embedded PostgreSQL server and other local state.",
    )
    timezone: str = Field(default="UTC", description="Time zone for 'by day' figures.")
    ingest_batch_size: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Events per ingest transaction."
    )
    port: int = Field(default=8501, ge=1, le=65535, description="Port of the Streamlit app.")
    sources_file: Path | None = Field(
        default=None, description="TOML file of sources registered by ctower collect and scheduler."
    )
    collector_attempts: int = Field(
        default=4, ge=1, le=20, description="Fetch attempts per page before a run fails (1 = no retry)."
    )
    collector_backoff_seconds: float = Field(
        default=0.5, gt=0, le=300, description="First retry waits up to this long (full jitter)."
    )
    collector_backoff_factor: float = Field(
        default=2.0, ge=1, le=10, description="Each further retry may wait this many times longer."
    )
    collector_backoff_max_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="No retry waits longer than this."
    )
    collector_max_pages: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Pages one run reads at most; the next run goes on."
    )
    collector_max_run_seconds: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        description="A run reads no new page after this long; the next run goes on from its cursor.",
    )
    collector_down_after: int = Field(
        default=3, ge=1, le=1000, description="Failed runs in a row after which a source is 'down'."
    )
    scheduler_sync_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="How often the scheduler re-reads the sources table."
    )
    scheduler_detect_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="How often the scheduler runs the exception detectors."
    )
    scheduler_workers: int = Field(
        default=4, ge=1, le=64, description="Sources the scheduler collects at the same time."
    )
    tv_cycle_seconds: float = Field(
        default=30.0, ge=5, le=3600, description="TV mode (?tv=1): seconds each page shows before the next."
    )
    anonymous_view: bool = Field(
        default=True, description="Without a login the pages show everything read-only (as a viewer)."
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 90, description="A sign-in lasts this many hours."
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="Wrong passwords for one user before it is locked."
    )
    login_lock_minutes: float = Field(
        default=15.0, gt=0, le=24 * 60, description="Wrong passwords are counted over this many minutes."
    )
    oidc_roles: str = Field(
        default="",
        description="SSO claims to roles: 'role:pattern,...' (a pattern with @ matches the email, "
        "else a group); the highest matching role wins.",
    )
    oidc_groups_claim: str = Field(default="groups", description="The SSO claim listing the groups.")
    oidc_default_role: str = Field(
        default="viewer", description="Role of an SSO user no pattern matches ('none': refused)."
    )

    approval_threshold: float = Field(
        default=1000.0,
        ge=0,
        description="An action worth more than this (units x unit cost, or the order's value) "
        "needs a second manager's approval.",
    )
    commands_url: str = Field(
        default="http://127.0.0.1:8765",
        description="Base URL of the systems that receive the outbox's commands (the simulator's).",
    )
    outbox_attempts: int = Field(
        default=6, ge=1, le=100, description="Sends of one outbox command before it is failed."
    )
    outbox_backoff_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="Wait before the first resend; doubled each time."
    )
    outbox_backoff_max_seconds: float = Field(
        default=600.0, gt=0, le=86_400, description="No resend waits longer than this."
    )
    outbox_dispatch_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="How often the scheduler runs the outbox dispatcher."
    )
    past_figures_seconds: float = Field(
        default=300.0,
        gt=0,
        le=900,
        description="How often the scheduler computes the Overview's next previous windows (metrics.past).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("oidc_roles")
    @classmethod
    def _oidc_rules(cls, value: str) -> str:
        from app.auth.oidc import parse_rules

        parse_rules(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("oidc_default_role")
    @classmethod
    def _oidc_default(cls, value: str) -> str:
        if value not in ("viewer", "manager", "admin", "none"):
            raise ValueError(f"unknown role {value!r}: one of viewer, manager, admin, none")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("must start with postgresql:// (any PostgreSQL 14+ server)")
        return value


def _env_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    return "DATABASE_URL" if field == "database_url" else f"CTOWER_{field.upper()}"


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"{_env_name(first['loc'])}: {first['msg']}") from None
