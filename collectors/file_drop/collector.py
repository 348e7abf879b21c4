"""The file-drop collector: pages of rows out of the ready files of a folder, file by file."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy.engine import Connection, Engine

from app.db.engine import get_engine, sql_text
from collectors.base import Clock, Cursor, Page, SourceError, Unmappable
from collectors.file_drop.folder import Folder
from collectors.file_drop.rows import BadRow, csv_records, jsonl_records

Format = Literal["csv", "jsonl"]
_END: Any = object()


@dataclass(frozen=True)
class Finished:
    """A file read to its end by a page: what `settle` records and `done` moves."""

    path: Path
    sha256: str
    size: int
    rows: int


class _Reading:
    """One file open for reading, `position` records in; kept between the pages of a run."""

    def __init__(self, path: Path, sha256: str, records: Iterator[Any], handle: IO[bytes]) -> None:
        self.path, self.sha256, self.handle = path, sha256, handle
        self.records = records
        self.position = 0
        self.head = next(records, _END)  # one record ahead: a page knows whether it ends the file

    def skip(self, count: int) -> None:
        """Pass over `count` records without keeping them (resuming mid-file)."""
        if count <= 0 or self.head is _END:
            return
        passed = 1 + sum(1 for _ in itertools.islice(self.records, count - 1))
        self.head = next(self.records, _END)
        self.position += passed

    def take(self, count: int) -> list[Any]:
        if self.head is _END:
            return []
        taken = [self.head, *itertools.islice(self.records, count - 1)]
        self.head = next(self.records, _END)
        self.position += len(taken)
        return taken

    @property
    def finished(self) -> bool:
        return self.head is _END

    def close(self) -> None:
        self.handle.close()


class FileDropCollector:
    """Reads the ready files of one folder, by name; each file in pages of at most
    `max_rows_per_page` rows. The cursor is {"file", "sha256", "row"} (rows read so far),
    with "done": true once the file is read to its end."""

    def __init__(
        self,
        source: str,
        folder: Folder,
        *,
        fmt: Format | None,
        delimiter: str,
        encoding: str,
        max_rows_per_page: int,
        mapper: Callable[[Any], list[dict[str, Any]]],
        clock: Clock,
        database_url: str | None,
    ) -> None:
        self.source, self.folder = source, folder
        self.fmt, self.delimiter, self.encoding = fmt, delimiter, encoding
        self.max_rows_per_page = max_rows_per_page
        self.mapper, self.clock, self.database_url = mapper, clock, database_url
        self._reading: _Reading | None = None
        self._finished: dict[tuple[str, str], Finished] = {}
        self._engine: Engine | None = None
        self._queue: deque[Path] | None = None  # the ready files of this run, not yet read
        self._known: set[tuple[str, str]] = set()  # of those, (name, sha256) collected before

    # --- the contract ------------------------------------------------------------------
    def fetch(self, cursor: Cursor) -> Page:
        refresh = getattr(self.mapper, "refresh", None)
        if refresh is not None:
            refresh()  # lookups: read now, so a missing one stops the run before any row
        at = cursor if isinstance(cursor, dict) and not cursor.get("done") else None
        if at is not None and isinstance(at.get("file"), str):
            path = self.folder.path / at["file"]
            if path.is_file():
                sha256, size = self.folder.sha256(path)
                if sha256 == at.get("sha256"):
                    return self._page(path, sha256, size, int(at.get("row") or 0))
            # gone, or changed (it is read again as a new file, below)
        if self._queue is None:  # the folder is listed once a run: it may hold thousands of files
            self._queue = deque(self.folder.ready(self.clock().timestamp()))
            self._known = self._collected_among([path.name for path in self._queue])
        queue = self._queue
        while queue:
            path = queue.popleft()
            if not path.is_file():
                continue  # moved away meanwhile
            sha256, size = self.folder.sha256(path)
            if (path.name, sha256) in self._finished:
                continue  # read to its end by this run, in a group of pages not yet stored
            if (path.name, sha256) in self._known:
                self.folder.put_away(path, sha256)  # collected before; only its move was lost
                continue
            return self._page(path, sha256, size, 0, more_files=bool(queue))
        return Page([], cursor, more=False)

    def to_events(self, record: Any) -> list[dict[str, Any]]:
        if record.__class__ is BadRow:
            raise Unmappable(record.reason)
        return self.mapper(record)

    def settle(self, conn: Connection, page: Page) -> None:
        """Record a file the page finished in `collected_files`, in the transaction of its rows."""
        finished = self._finished_by(page)
        if finished is None:
            return
        conn.execute(
            sql_text("collectors/file_collected_insert"),
            {
                "source": self.source,
                "name": finished.path.name,
                "sha256": finished.sha256,
                "size": finished.size,
                "rows": finished.rows,
                "collected_at": self.clock(),
            },
        )

    def done(self, page: Page) -> None:
        """After the commit: move a file the page finished (and its marker) to the archive."""
        finished = self._finished_by(page)
        if finished is not None:
            self._finished.pop((finished.path.name, finished.sha256), None)
            self.folder.put_away(finished.path, finished.sha256)

    # --- inside ------------------------------------------------------------------------
    def _page(self, path: Path, sha256: str, size: int, start: int, *, more_files: bool = True) -> Page:
        reading = self._reading
        if reading is None or (reading.path, reading.sha256, reading.position) != (path, sha256, start):
            if reading is not None:
                reading.close()
            reading = self._reading = self._open(path, sha256)
            reading.skip(start)  # resuming after a crash: the rows before were stored
        records = reading.take(self.max_rows_per_page)
        cursor: dict[str, Any] = {"file": path.name, "sha256": sha256, "row": reading.position}
        if not reading.finished:
            return Page(records, cursor, more=True)
        reading.close()
        self._reading = None
        cursor["done"] = True
        self._finished[(path.name, sha256)] = Finished(path, sha256, size, reading.position)
        return Page(records, cursor, more=more_files)

    def _open(self, path: Path, sha256: str) -> _Reading:
        fmt = self.fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise SourceError(f"source {self.source}: cannot read {path.name} ({exc.strerror})") from None
        records = (
            jsonl_records(handle, self.encoding)
            if fmt == "jsonl"
            else csv_records(handle, self.encoding, self.delimiter)
        )
        return _Reading(path, sha256, records, handle)

    def _finished_by(self, page: Page) -> Finished | None:
        cursor = page.next_cursor
        if not (isinstance(cursor, dict) and cursor.get("done")):
            return None
        return self._finished.get((cursor.get("file"), cursor.get("sha256")))  # type: ignore[arg-type]

    def _collected_among(self, names: list[str]) -> set[tuple[str, str]]:
        """(name, sha256) of the files among `names` this source has collected before: one query."""
        if not names:
            return set()
        if self._engine is None:
            self._engine = get_engine(self.database_url, check=False)
        with self._engine.connect() as conn:
            rows = conn.execute(
                sql_text("collectors/file_collected"), {"source": self.source, "names": names}
            )
            return {(row.name, row.sha256) for row in rows}
