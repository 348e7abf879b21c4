"""Sources: read from a TOML file, registered in the `sources` table, read back, paused.

A sources file holds one `[[source]]` table a source:

    [[source]]
    name = "oms"                  # letters, digits, '.', '_', '-'
    kind = "http_api"             # a built-in kind or "package.module"
    schedule = "30s"              # "250ms", "30s", "5m", "1h" or a number of seconds
    enabled = true                # scheduled at all (default true)
    system = "oms"                # the system it stands for, in telemetry (default: name)
    mapping = "pkg.module:func"   # or a [source.mapping] table (collectors/mapping.py)
    [source.options]              # the kind's own settings
    base_url = "http://127.0.0.1:8001"

A bad value fails with one line naming the file, the source and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import Connection, Engine

from app.db.engine import sql_text
from app.settings import load_settings
from collectors import kinds
from collectors.base import SourceConfig

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class ConfigError(ValueError):
    """A sources file or a source's value is wrong; the message is one line naming it."""


class ConfigFileMissing(ConfigError):
    """The sources file cannot be read."""


def parse_schedule(value: object) -> float:
    """Seconds from "250ms", "30s", "5m", "1h", "90" or a number; must be above zero."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as '30s', '5m' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match[1]) * _UNITS[match[2] or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration such as '30s', '5m', '1h' or a number of seconds")
    if not seconds > 0:
        raise ValueError("must be more than zero")
    return seconds


class SourceModel(BaseModel):
    """One `[[source]]` table, validated."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME, max_length=100)
    kind: str
    schedule: float = 60.0
    enabled: bool = True
    system: str | None = Field(default=None, min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    mapping: dict[str, Any] | str | None = None

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> float:
        return parse_schedule(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        try:
            kinds.module_name(value)
        except kinds.UnknownKind as exc:
            raise ValueError(str(exc)) from None
        if not kinds.exists(value):
            raise ValueError(f"no module {kinds.module_name(value)!r} for kind {value!r}")
        return value

    @field_validator("mapping")
    @classmethod
    def _mapping(cls, value: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
        if isinstance(value, str) and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
            raise ValueError(f"{value!r} is not 'package.module:function' (or use a [source.mapping] table)")
        return value

    def config(self) -> SourceConfig:
        return SourceConfig(
            name=self.name,
            kind=self.kind,
            schedule_seconds=self.schedule,
            enabled=self.enabled,
            options=self.options,
            mapping=self.mapping,
            system=self.system,
        )


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "?"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "not a known field (name, kind, schedule, enabled, system, options, mapping)"
    return f"{field}: {message}"


def parse_sources(document: dict[str, Any], origin: str) -> list[SourceConfig]:
    """The sources of a parsed TOML document; `origin` names it in errors."""
    unknown = sorted(set(document) - {"source"})
    if unknown:
        raise ConfigError(f"{origin}: unknown top-level key {unknown[0]!r}; sources are [[source]] tables")
    tables = document.get("source", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{origin}: 'source' must be [[source]] tables")
    configs: list[SourceConfig] = []
    seen: set[str] = set()
    for number, table in enumerate(tables, 1):
        label = f"source {table['name']!r}" if isinstance(table.get("name"), str) else f"source #{number}"
        try:
            model = SourceModel.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(f"{origin}: {label}: {_explain(exc)}") from None
        if model.name in seen:
            raise ConfigError(f"{origin}: {label}: name: defined twice")
        seen.add(model.name)
        configs.append(model.config())
    return configs


def load_file(path: str | Path) -> list[SourceConfig]:
    """The sources of a TOML file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigFileMissing(f"{path}: cannot read the sources file ({reason})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_sources(document, str(path))


def _row(config: SourceConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "kind": config.kind,
        "schedule_seconds": config.schedule_seconds,
        "enabled": config.enabled,
        "options": orjson.dumps(config.options).decode(),
        "mapping": None if config.mapping is None else orjson.dumps(config.mapping).decode(),
        "system": config.system,
    }


def register(engine: Engine, configs: Iterable[SourceConfig]) -> int:
    """Add or update sources (a pause stays as it was); returns how many changed."""
    rows = [_row(c) for c in configs]
    if not rows:
        return 0
    changed = 0
    with engine.begin() as conn:
        for row in rows:
            changed += conn.execute(sql_text("collectors/source_upsert"), row).rowcount
    return changed


def _config(row: Any) -> SourceConfig:
    return SourceConfig(
        name=row.name,
        kind=row.kind,
        schedule_seconds=float(row.schedule_seconds),
        enabled=row.enabled,
        options=dict(row.options or {}),
        mapping=row.mapping,
        system=row.system,
    )


def read_sources(
    conn: Connection, names: Sequence[str] | None = None, *, runnable_only: bool = False
) -> list[SourceConfig]:
    rows = conn.execute(
        sql_text("collectors/sources_select"),
        {"names": list(names) if names is not None else None, "runnable_only": runnable_only},
    )
    return [_config(row) for row in rows]


def load_sources(
    engine: Engine, names: Sequence[str] | None = None, *, runnable_only: bool = False
) -> list[SourceConfig]:
    """The registered sources (those of `names`, else all) by name; `runnable_only`: only the
    enabled ones that are not paused."""
    with engine.connect() as conn:
        return read_sources(conn, names, runnable_only=runnable_only)


def is_paused(conn: Connection, name: str) -> bool:
    return bool(
        conn.execute(sa.text("SELECT paused FROM sources WHERE name = :name"), {"name": name}).scalar()
    )


def set_paused(engine: Engine, name: str, paused: bool) -> bool:
    """Pause or resume a source; False when no source has that name."""
    with engine.begin() as conn:
        row = conn.execute(
            sql_text("collectors/source_set_paused"),
            {"name": name, "paused": paused, "down_after": load_settings().collector_down_after},
        ).first()
    return row is not None


def pause(engine: Engine, name: str) -> bool:
    return set_paused(engine, name, True)


def resume(engine: Engine, name: str) -> bool:
    return set_paused(engine, name, False)
