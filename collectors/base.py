"""The one small contract every collector kind keeps.

A collector kind is one module in `collectors/` with a `build(source, context)` function
returning a `Collector`: something that can

- `fetch(cursor) -> Page`: read the next page of native records after `cursor` (JSON-able
  state: a number, a string, a dict; `None` the first time), and
- `to_events(record) -> list[dict]`: map one native record to canonical events (the
  contract of EVENTS.md, as dicts), or raise `Unmappable` with a readable reason.

The runner (`collectors.runner.run_once`) does everything else the same way for every
kind: the advisory lock, retries with backoff, ingest through `app.ingest.store`, the
cursor moved in the same transaction as the rows it covers, the run log and health, and
the `retail.integration.call` telemetry about the pull itself.

Errors a fetch may raise:
- `TransientError`: worth retrying (connection refused, timeout, HTTP 5xx, 429);
- `SourceError`: retrying will not help (HTTP 4xx, bad configuration, a missing table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

Cursor = Any  # JSON-able: None, int, str, list or dict
Clock = Callable[[], datetime]  # returns an aware datetime (UTC)


class SourceError(Exception):
    """The source cannot be read; retrying will not help. The message is one clear line."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class TransientError(SourceError):
    """The source failed in a way that may pass (refused, timeout, 5xx, 429)."""


class Unmappable(Exception):
    """A native record that cannot become a canonical event; the message is the reason."""


class Page(NamedTuple):
    """One read from a source: native records, the cursor after them, and whether more wait."""

    records: Sequence[Any]
    next_cursor: Cursor
    more: bool = False
    http_status: int | None = None  # for the telemetry of HTTP sources


@dataclass(frozen=True)
class SourceConfig:
    """One configured source (from a TOML file or the `sources` table).

    `options` are the kind's own settings (base URL, path, table...); `mapping` is either a
    declarative field map (a dict, see `collectors.mapping`) or "package.module:function".
    """

    name: str
    kind: str
    schedule_seconds: float = 60.0
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, Any] | str | None = None
    system: str | None = None  # the system it stands for, for telemetry (`oms`, `wms`, `erp`...)


class Collector(Protocol):
    """What a kind's `build()` returns. Two optional hooks, called by the runner if present:

    - `settle(conn, page)`: inside the transaction that stores the page's rows and moves the
      cursor (e.g. the file-drop kind records the file's name and hash there);
    - `done(page)`: after that transaction committed (e.g. move the file to `processed/`).
    """

    def fetch(self, cursor: Cursor) -> Page: ...

    def to_events(self, record: Any) -> list[dict[str, Any]]: ...


@dataclass
class Context:
    """What a collector is handed instead of reaching for globals: clock, HTTP, database."""

    clock: Clock
    http: Any = None  # an httpx-like client or None for the stdlib default; tests pass their own
    database_url: str | None = None  # the control tower's own database (for SQL sources on it)
    data_dir: Any = None  # a pathlib.Path for state such as processed files


class Kind(Protocol):
    def build(self, source: SourceConfig, context: Context) -> Collector: ...
