"""The `ocel` kind: an OCEL 2.0 object-centric event log (JSON or XML, .gz or not).

Options (`[source.options]`):

- `path`: the log file (required); read in place, never copied;
- `source` ("ocel/<source name>"): the canonical `source` of the events it gives;
- `channel` ("web"), `node` ("OCEL-DC"), `promise_days` (14): what the log does not say
  (see collectors/mappings/ocel.py);
- `activities`: {OCEL event type: canonical type, "retail.order.exception:<kind>" or
  "attach:<field>"}, merged over the defaults; `object_types`: {OCEL object type: order,
  item, package, product, customer or employee}, merged over the defaults;
- `page_size` (5000): OCEL events per page.

The whole log is parsed once a run (the order-management log, 21,008 events, in about a
second) and handed to the runner in pages of `page_size` events, by (time, id). The cursor
is {"file", "sha256", "event": events read, "done"}: a crash mid-file resumes at the next
page; a file read to its end is not read again until its content changes (then it is read
whole, and the events already stored count as duplicates).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collectors.base import Collector, Context, Cursor, Page, SourceConfig, SourceError
from collectors.mappings import ocel as mapping
from collectors.ocel.log import OcelError, read_log

__all__ = ["OcelCollector", "OcelOptions", "build"]


class OcelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    source: str | None = Field(default=None, min_length=1)
    channel: str = "web"
    node: str = Field(default="OCEL-DC", min_length=1)
    promise_days: float = Field(default=14.0, gt=0)
    activities: dict[str, str] = Field(default_factory=dict)
    object_types: dict[str, str] = Field(default_factory=dict)
    page_size: int = Field(default=5000, ge=1)


@dataclass
class OcelCollector:
    """Reads one OCEL log file in pages of prepared records (collectors/mappings/ocel.py)."""

    name: str
    path: Path
    options: mapping.Options
    page_size: int
    _records: list[dict[str, Any]] | None = field(default=None, repr=False)
    _sha256: str | None = None

    def _load(self) -> tuple[str, list[dict[str, Any]]]:
        try:
            content = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(
                f"source {self.name}: cannot read {self.path} ({exc.strerror or exc})"
            ) from None
        digest = hashlib.sha256(content).hexdigest()
        if self._records is None or self._sha256 != digest:
            try:
                log = read_log(self.path)
            except OcelError as exc:
                raise SourceError(f"source {self.name}: {exc}") from None
            self._records, self._sha256 = mapping.prepare(log, self.options), digest
        assert self._records is not None
        return digest, self._records

    def fetch(self, cursor: Cursor) -> Page:
        at = cursor if isinstance(cursor, dict) else {}
        digest, records = self._load()
        start = 0
        if at.get("file") == self.path.name and at.get("sha256") == digest:
            if at.get("done"):
                return Page([], cursor, more=False)  # read to its end already
            start = int(at.get("event") or 0)
        end = min(start + self.page_size, len(records))
        next_cursor = {"file": self.path.name, "sha256": digest, "event": end, "done": end >= len(records)}
        return Page(records[start:end], next_cursor, more=end < len(records))

    def to_events(self, record: Any) -> list[dict[str, Any]]:
        return mapping.to_events(record, self.options)


def options(source: SourceConfig) -> OcelOptions:
    try:
        return OcelOptions.model_validate(source.options)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "options"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "not an option of ocel"
        raise SourceError(f"source {source.name}: option {key!r}: {message}") from None


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector of an `ocel` source (SourceError on a bad option)."""
    opts = options(source)
    roles = set(mapping.OBJECT_TYPES.values())
    for name, role in opts.object_types.items():
        if role not in roles:
            raise SourceError(
                f"source {source.name}: option 'object_types': {name!r} = {role!r}; "
                f"use one of {', '.join(sorted(roles))}"
            )
    return OcelCollector(
        source.name,
        Path(opts.path).expanduser(),
        mapping.Options(
            source=opts.source or f"ocel/{source.name}",
            channel=opts.channel,
            node=opts.node,
            promise_days=opts.promise_days,
            activities={**mapping.ACTIVITIES, **opts.activities},
            object_types={**mapping.OBJECT_TYPES, **opts.object_types},
        ),
        opts.page_size,
    )
