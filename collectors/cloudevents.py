"""The `cloudevents` kind: partners drop canonical events (JSON Lines) in a folder.

No mapping: the lines are the contract of EVENTS.md already; ingest validates each one
and quarantines a bad one with its raw text.

Options (`[source.options]`):

- `path`: the folder; `pattern` ("*.jsonl"): the files to read, in name order;
- `ready_marker` (none): e.g. ".ok": file X is read only once X.ok exists, so a file still
  being written is never read half.

Or, instead of `path`, `url`: an HTTP endpoint serving a JSON Lines log from a byte
offset: GET `url?{offset_param}=<offset>` (offset_param "offset"; `headers` and
`timeout_seconds` as for http_api). Only whole lines (ending in a newline) are taken; the
cursor is {"offset": bytes taken so far}, so a line still being written is read next run.

One file a page, whole. Inside the transaction that stores its rows (`settle`) the file is
recorded in `collected_files` (name, sha256, size) and the cursor becomes
{"name", "sha256", "size"}; after the commit (`done`) it is moved to `path/processed/` with
its marker. Should the move fail after the commit, the next run sees the cursor's file
again and only moves it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from app.db.engine import sql_text
from collectors.base import Clock, Collector, Context, Cursor, Page, SourceConfig, SourceError, Unmappable
from collectors.http import HttpClient, expand_environment

PROCESSED = "processed"


def event_of(record: bytes) -> list[dict[str, Any]]:
    """A line, parsed: the event as the partner sent it (ingest validates it)."""
    try:
        event = orjson.loads(record)
    except orjson.JSONDecodeError as exc:
        raise Unmappable(f"not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise Unmappable("not a JSON object")
    return [event]


@dataclass
class CloudEventsCollector:
    """Reads the ready files of one folder, oldest name first."""

    source: str
    folder: Path
    pattern: str
    ready_marker: str | None
    clock: Clock

    def _ready(self) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(f"source {self.source}: no folder {self.folder}")
        files = sorted(p for p in self.folder.glob(self.pattern) if p.is_file())
        if self.ready_marker:
            marker = self.ready_marker
            files = [p for p in files if not p.name.endswith(marker) and _marker(p, marker).is_file()]
        return files

    def fetch(self, cursor: Cursor) -> Page:
        last = cursor if isinstance(cursor, dict) else {}
        for number, path in enumerate(files := self._ready()):
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise SourceError(f"source {self.source}: cannot read {path.name}: {exc.strerror}") from None
            digest = hashlib.sha256(content).hexdigest()
            if last.get("name") == path.name and last.get("sha256") == digest:
                self._move(path)  # collected already; only its move was lost
                continue
            records = [line for line in content.splitlines() if line.strip()]
            file_cursor = {"name": path.name, "sha256": digest, "size": len(content)}
            return Page(records, file_cursor, more=number + 1 < len(files))
        return Page([], cursor, more=False)

    def to_events(self, record: Any) -> list[dict[str, Any]]:
        return event_of(record)

    def settle(self, conn: Connection, page: Page) -> None:
        """Record the page's file in `collected_files`, in the transaction of its rows."""
        if not isinstance(page.next_cursor, dict) or "name" not in page.next_cursor:
            return
        conn.execute(
            sql_text("collectors/file_collected_insert"),
            {
                "source": self.source,
                "name": page.next_cursor["name"],
                "sha256": page.next_cursor["sha256"],
                "size": page.next_cursor["size"],
                "rows": len(page.records),
                "collected_at": self.clock(),
            },
        )

    def done(self, page: Page) -> None:
        """Move the page's file (and its marker) to `processed/` once its rows committed."""
        if isinstance(page.next_cursor, dict) and "name" in page.next_cursor:
            path = self.folder / page.next_cursor["name"]
            # not a file of the same name dropped again meanwhile: that one is still to read
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == page.next_cursor["sha256"]:
                self._move(path)

    def _move(self, path: Path) -> None:
        target_dir = self.folder / PROCESSED
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        if target.exists():  # a file of the same name came before: keep both
            stamp = self.clock().strftime("%Y%m%dT%H%M%S%f")
            target = target_dir / f"{path.name}.{stamp}"
        path.replace(target)
        if self.ready_marker:
            marker = _marker(path, self.ready_marker)
            if marker.exists():
                marker.replace(target_dir / _marker(target, self.ready_marker).name)


@dataclass
class CloudEventsLogCollector:
    """Reads the new whole lines of a JSON Lines log served over HTTP, by byte offset."""

    source: str
    url: str
    http: HttpClient
    offset_param: str
    headers: dict[str, str]
    timeout: float

    def to_events(self, record: Any) -> list[dict[str, Any]]:
        return event_of(record)

    def fetch(self, cursor: Cursor) -> Page:
        offset = cursor.get("offset", 0) if isinstance(cursor, dict) else 0
        headers = {
            name: expand_environment(value, f"source {self.source}: header {name}")
            for name, value in self.headers.items()
        }
        status, body = self.http.get(self.url, {self.offset_param: offset}, headers, self.timeout)
        whole = body[: body.rfind(b"\n") + 1]  # up to the last newline; nothing without one
        records = [line for line in whole.splitlines() if line.strip()]
        return Page(records, {"offset": offset + len(whole)}, False, status)


def _marker(path: Path, marker: str) -> Path:
    return path.with_name(path.name + marker)


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector of a `cloudevents` source (raises SourceError on a bad option)."""
    options = source.options
    path, url = options.get("path"), options.get("url")
    if bool(path) == bool(url):
        raise SourceError(f"source {source.name}: give option 'path' (a folder) or option 'url', one of them")
    if url:
        return _log_collector(source, context)
    if not isinstance(path, str):
        raise SourceError(f"source {source.name}: option 'path' must be a folder name")
    pattern = options.get("pattern", "*.jsonl")
    marker = options.get("ready_marker") or None
    if not isinstance(pattern, str) or "/" in pattern or not pattern:
        raise SourceError(
            f"source {source.name}: option 'pattern' must be a file name pattern such as '*.jsonl'"
        )
    if marker is not None and not isinstance(marker, str):
        raise SourceError(f"source {source.name}: option 'ready_marker' must be text such as '.ok'")
    return CloudEventsCollector(source.name, Path(path), pattern, marker, context.clock)


def _log_collector(source: SourceConfig, context: Context) -> CloudEventsLogCollector:
    options = source.options
    headers = options.get("headers") or {}
    if not isinstance(options["url"], str) or not isinstance(headers, dict):
        raise SourceError(f"source {source.name}: option 'url' must be text and 'headers' a table")
    try:
        timeout = float(options.get("timeout_seconds", 10))
    except (TypeError, ValueError):
        raise SourceError(f"source {source.name}: option 'timeout_seconds' must be a number") from None
    if context.http is not None:
        client: HttpClient = context.http
    else:
        from collectors import http as client
    return CloudEventsLogCollector(
        source=source.name,
        url=options["url"],
        http=client,
        offset_param=str(options.get("offset_param", "offset")),
        headers={str(k): str(v) for k, v in headers.items()},
        timeout=timeout,
    )
