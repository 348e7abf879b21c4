"""One run of one source, the same way for every kind (collectors/base.py).

`run_once(engine, source, context)`:

1. takes the source's advisory lock on a connection held for the run; when another
   process or thread holds it the run is recorded 'skipped' and nothing is read;
2. reads the cursor, then fetches page after page until the source has no more (or
   `max_pages`, or CTOWER_COLLECTOR_MAX_RUN_SECONDS have passed, or `stop` is set: a
   stopping scheduler), each fetch retried on `TransientError` with exponential backoff
   and full jitter; a `SourceError` fails the run at once, and so does `stop` set while it
   waits to retry;
3. maps each native record to canonical events; an unmappable record is quarantined
   with its raw text and the reason "mapping: ...";
4. ingests the pages through the one write path (small pages in groups of about
   CTOWER_INGEST_BATCH_SIZE records), the new cursor saved (and the kind's `settle` hook
   run for each page) in the transaction of the group's last rows, then calls `done`;
5. stores a `retail.integration.call` event for every fetch attempt (ok or failed) with the
   page's rows, or at the end of a failed run in a transaction of their own;
6. writes the run log and the source's health.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db.engine import sql_text
from app.ingest.store import Rejected, RunInfo, ingest_records
from app.settings import Settings, load_settings
from collectors import health, kinds
from collectors.base import (
    Collector,
    Context,
    Cursor,
    Page,
    SourceConfig,
    SourceError,
    TransientError,
    Unmappable,
)
from collectors.config import is_paused
from collectors.health import RunResult

__all__ = ["Retry", "RunResult", "collect_all", "run_once", "source_lock"]

log = logging.getLogger("ctower.collectors")

# "ct": the first key of pg_try_advisory_lock(int, int); the second is the hash of the name
LOCK_NAMESPACE = 0x6374
TELEMETRY_SOURCE = "ctower/collector"
Sleep = Callable[[float], None]
Record = tuple[int, bytes | Rejected]


@dataclass(frozen=True)
class Retry:
    """Attempts per fetch, and the backoff between them: full jitter, exponential, capped."""

    attempts: int = 4
    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Retry:
        return cls(
            attempts=settings.collector_attempts,
            base=settings.collector_backoff_seconds,
            factor=settings.collector_backoff_factor,
            cap=settings.collector_backoff_max_seconds,
        )

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry)."""
        return rng.uniform(0.0, min(self.cap, self.base * self.factor ** (retry - 1)))


@contextmanager
def source_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Hold the source's advisory lock for the block, if free; yields whether it was taken.

    A session lock on a connection of its own, idle (not in a transaction) while held; it
    goes with the connection if the process dies.
    """
    conn = engine.connect()
    taken = False
    try:
        taken = bool(
            conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:namespace, hashtext(:name))"),
                {"namespace": LOCK_NAMESPACE, "name": name},
            ).scalar()
        )
        conn.commit()
        yield taken
    finally:
        try:
            if taken:
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:namespace, hashtext(:name))"),
                    {"namespace": LOCK_NAMESPACE, "name": name},
                )
                conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()  # the session, and its lock, are gone with the connection
        finally:
            conn.close()


def one_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0][:500]
    if isinstance(exc, SourceError | Unmappable):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def native_bytes(record: Any) -> bytes:
    """A native record as the raw text quarantine keeps."""
    if isinstance(record, bytes | bytearray | memoryview):
        return bytes(record)
    if isinstance(record, str):
        return record.encode("utf-8", errors="replace")
    try:
        return orjson.dumps(record, default=str)
    except TypeError:
        return repr(record).encode("utf-8", errors="replace")


def _is_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    return "timed out" in text or "timeout" in text


def _event_time(event: dict[str, Any]) -> datetime | None:
    value = event.get("time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class _Pull:
    """The state of one locked run: the page loop, its telemetry and its counts."""

    def __init__(
        self,
        engine: Engine,
        source: SourceConfig,
        context: Context,
        result: RunResult,
        retry: Retry,
        sleep: Sleep,
        rng: random.Random,
        stop: threading.Event | None = None,
    ) -> None:
        self.engine, self.source, self.context, self.result = engine, source, context, result
        self.retry, self.sleep, self.rng, self.stop = retry, sleep, rng, stop
        self.run = RunInfo(origin=f"collector:{source.name}", source_label=source.name, run_id=result.run_id)
        self.telemetry: list[dict[str, Any]] = []
        self.record_no = 0

    # --- telemetry ---------------------------------------------------------------------
    def _call(
        self,
        page_no: int,
        attempt: int,
        at: datetime,
        started: float,
        *,
        error: BaseException | None = None,
        http_status: int | None = None,
    ) -> None:
        data: dict[str, Any] = {
            "interface": f"ctower.collect.{self.source.name}",
            "source_system": self.source.system or self.source.name,
            "target_system": "ctower",
            "status": "ok",
            "latency_ms": round((time.perf_counter() - started) * 1000.0, 3),
            "attempt": attempt,
        }
        if error is not None:
            # TransientError carries the status; a SourceError may too (a kind may set it)
            http_status = getattr(error, "http_status", None) or http_status
            timeout = _is_timeout(error)
            data["status"] = "timeout" if timeout else "error"
            if http_status is not None:
                data["error_code"] = f"http_{http_status}"
            elif timeout:
                data["error_code"] = "timeout"
            elif isinstance(error, TransientError):
                data["error_code"] = "unavailable"
            elif isinstance(error, SourceError):
                data["error_code"] = "source_error"
            else:
                data["error_code"] = type(error).__name__
        if http_status is not None:
            data["http_status"] = http_status
        self.telemetry.append(
            {
                "specversion": "1.0",
                "id": f"{self.result.run_id}:p{page_no}:a{attempt}",
                "source": TELEMETRY_SOURCE,
                "type": "retail.integration.call",
                "time": at.isoformat(),
                "subject": self.source.name,
                "data": data,
            }
        )

    def _take_telemetry(self) -> list[Record]:
        taken = [(self._next_no(), orjson.dumps(event)) for event in self.telemetry]
        self.telemetry = []
        return taken  # type: ignore[return-value]

    def flush_telemetry(self) -> None:
        """Store the telemetry not stored with a page (a failed run's attempts), on their own."""
        if not self.telemetry:
            return
        count = len(self.telemetry)
        try:
            ingest_records(self.engine, self._take_telemetry(), self.run)
            self.result.telemetry += count
        except Exception:
            log.exception("%s: could not store the telemetry of the failed run", self.source.name)

    # --- the loop ------------------------------------------------------------------------
    def _stopped_during(self, seconds: float) -> bool:
        """Wait `seconds` before a retry; whether the run was asked to stop meanwhile. A run
        that cannot be stopped waits with its `sleep` (a test's clock)."""
        if self.stop is None:
            self.sleep(seconds)
            return False
        return self.stop.wait(seconds)

    def _next_no(self) -> int:
        self.record_no += 1
        return self.record_no

    def fetch(self, collector: Collector, cursor: Cursor, page_no: int) -> Page:
        """One page, retried on TransientError; every attempt leaves a telemetry event."""
        for attempt in range(1, self.retry.attempts + 1):
            self.result.attempts += 1
            at = self.context.clock()
            started = time.perf_counter()
            try:
                page = collector.fetch(cursor)
            except TransientError as exc:
                self._call(page_no, attempt, at, started, error=exc)
                if attempt == self.retry.attempts:
                    raise TransientError(
                        f"gave up after {attempt} attempt{'s' if attempt > 1 else ''}: {one_line(exc)}",
                        http_status=exc.http_status,
                    ) from exc
                delay = self.retry.delay(attempt, self.rng)
                log.warning("%s: %s; retry %d in %.2f s", self.source.name, one_line(exc), attempt, delay)
                if self._stopped_during(delay):
                    raise SourceError(f"stopped before retry {attempt}: {one_line(exc)}") from exc
                continue
            except Exception as exc:  # SourceError, or a bug in the kind: no retry
                self._call(page_no, attempt, at, started, error=exc)
                raise
            if not isinstance(page, Page):
                page = Page(*page)
            self._call(page_no, attempt, at, started, http_status=page.http_status)
            return page
        raise AssertionError("unreachable: attempts is at least 1")

    def map(self, collector: Collector, records: Sequence[Any]) -> list[Record]:
        out: list[Record] = []
        name = self.source.name
        newest = self.result.last_event_time
        for record in records:
            try:
                events = collector.to_events(record)
                encoded = [orjson.dumps(event) for event in events]
            except Unmappable as exc:
                out.append((self._next_no(), Rejected(native_bytes(record), f"mapping: {exc}", name)))
                continue
            except Exception as exc:  # a mapping bug quarantines the record, it does not stop the run
                reason = f"mapping: {type(exc).__name__}: {one_line(exc)}"
                out.append((self._next_no(), Rejected(native_bytes(record), reason, name)))
                continue
            for event, raw in zip(events, encoded, strict=True):
                out.append((self._next_no(), raw))
                when = _event_time(event) if isinstance(event, dict) else None
                if when is not None and (newest is None or when > newest):
                    newest = when
        self.result.last_event_time = newest
        return out

    def store(self, collector: Collector, pages: list[Page]) -> None:
        """Ingest pages read in a row as ONE transaction: their rows and telemetry, the last
        page's cursor and every page's `settle`; then `done` for each page, in order."""
        records: list[Record] = []
        for page in pages:
            records += self.map(collector, page.records)
        telemetry_count = len(self.telemetry)
        records += self._take_telemetry()
        settle = getattr(collector, "settle", None)
        last = pages[-1]

        def finalize(conn: Connection) -> None:
            conn.execute(
                sql_text("collectors/cursor_save"),
                {
                    "source": self.source.name,
                    "cursor": orjson.dumps(last.next_cursor, default=str).decode(),
                    "run_id": self.result.run_id,
                },
            )
            if settle is not None:
                for page in pages:
                    settle(conn, page)

        counts = ingest_records(self.engine, records, self.run, finalize=finalize)
        result = self.result
        result.cursor_after = last.next_cursor
        result.telemetry += telemetry_count
        result.accepted += counts.accepted - telemetry_count  # telemetry ids are new: always accepted
        result.duplicate += counts.duplicate
        result.quarantined += counts.quarantined
        done = getattr(collector, "done", None)
        if done is not None:
            for page in pages:
                done(page)

    def pages(
        self,
        collector: Collector,
        cursor: Cursor,
        max_pages: int,
        group_records: int,
        max_seconds: float = float("inf"),
    ) -> None:
        """Fetch page after page; pages are stored in groups of about `group_records` records
        (small pages, e.g. one small file each, would otherwise cost a transaction apiece).
        What was read is stored before a failed fetch ends the run."""
        group: list[Page] = []
        size = 0
        deadline = time.monotonic() + max_seconds
        try:
            for page_no in range(1, max_pages + 1):
                stopped = self.stop is not None and self.stop.is_set()
                if page_no > 1 and (stopped or time.monotonic() > deadline):
                    break  # a backlog is read over several runs; the cursor says where
                page = self.fetch(collector, cursor, page_no)
                self.result.pages += 1
                self.result.read += len(page.records)
                group.append(page)
                size += len(page.records)
                cursor = page.next_cursor
                if not page.more:
                    break
                if size >= group_records:
                    full, group, size = group, [], 0
                    self.store(collector, full)
        finally:
            if group:  # read, not yet stored (the end, or a failed fetch): store it
                self.store(collector, group)


def read_cursor(engine: Engine, name: str) -> Cursor:
    with engine.connect() as conn:
        return conn.execute(sql_text("collectors/cursor_read"), {"source": name}).scalar()


def run_once(
    engine: Engine,
    source: SourceConfig,
    context: Context,
    *,
    max_pages: int | None = None,
    sleep: Sleep = time.sleep,
    rng: random.Random | None = None,
    retry: Retry | None = None,
    group_records: int | None = None,
    max_seconds: float | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Collect `source` once (see the module's docstring); safe to run twice, or at once.

    `stop`, once set, ends the run at its next page (what was read is stored) or while it
    waits to retry (failed: "stopped before retry N"); no retry sleeps through it.

    `group_records`: pages are stored in transactions of about this many records (default
    CTOWER_INGEST_BATCH_SIZE; 1 stores each page in a transaction of its own)."""
    settings = load_settings()
    retry = retry or Retry.from_settings(settings)
    result = RunResult(source=source.name, run_id=uuid.uuid4(), started_at=context.clock())
    with engine.connect() as conn:
        paused = is_paused(conn, source.name)
    if paused:
        result.status = "paused"
        log.info("%s: paused, not run", source.name)
        return result
    with source_lock(engine, source.name) as locked:
        if not locked:
            result.status, result.finished_at = "skipped", result.started_at
            health.record_skipped(engine, result, "another run of this source holds its lock")
            log.info("%s: skipped, another run holds its lock", source.name)
            return result
        result.cursor_before = result.cursor_after = read_cursor(engine, source.name)
        health.start_run(engine, result)
        pull = _Pull(engine, source, context, result, retry, sleep, rng or random.Random(), stop)
        try:
            collector = kinds.build(source, context)
            pull.pages(
                collector,
                result.cursor_before,
                max_pages or settings.collector_max_pages,
                group_records or settings.ingest_batch_size,
                settings.collector_max_run_seconds if max_seconds is None else max_seconds,
            )
            result.status = "ok"
        except Exception as exc:
            result.status, result.error = "failed", one_line(exc)
            log.warning("%s: failed: %s", source.name, result.error)
            pull.flush_telemetry()
        result.finished_at = context.clock()
        health.finish_run(engine, result)
        with engine.connect() as conn:
            paused = is_paused(conn, source.name)
        health.record_health(engine, result, paused=paused, down_after=settings.collector_down_after)
    log.info(
        "%s: %s, %d pages, %d read, %d accepted, %d duplicate, %d quarantined",
        source.name,
        result.status,
        result.pages,
        result.read,
        result.accepted,
        result.duplicate,
        result.quarantined,
    )
    return result


def collect_all(
    engine: Engine,
    sources: Iterable[SourceConfig],
    context: Context,
    **options: Any,
) -> list[RunResult]:
    """Run each source once, in turn; one failing (even its bookkeeping) never stops the others."""
    results = []
    for source in sources:
        try:
            results.append(run_once(engine, source, context, **options))
        except Exception as exc:
            log.exception("%s: the run could not be recorded", source.name)
            now = context.clock()
            results.append(
                RunResult(
                    source=source.name,
                    run_id=uuid.uuid4(),
                    started_at=now,
                    finished_at=now,
                    status="failed",
                    error=one_line(exc),
                )
            )
    return results
