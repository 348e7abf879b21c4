"""Write validated events to the store, one transaction a batch, losing nothing.

The records are cut into batches (`ingest_batch_size`). This thread validates a batch and
builds its COPY lines; a writer thread writes the previous batch meanwhile, so parsing
and the database work overlap on two cores. Each batch is ONE transaction:

1. COPY the batch's keys (first occurrence of each (source, id)) into `event_keys`. The
   primary key refuses the COPY when any key is stored already (an earlier batch, or a
   concurrent one); then, inside a savepoint, the stored keys are looked up and only the
   new ones are written.
2. COPY the new events into `events` (routed to their month partitions, made on demand).
3. Fold the new events into the projections (`apply_projections`, migration 0007), so the
   figures read indexed tables that are never behind the store.
4. Classify the rest: same content as the stored event = duplicate; different = conflict,
   quarantined. Invalid records are quarantined with their reason.
5. Record the batch with its counts, and the per-source activity.

A crash rolls the open batch back; running the same input again stores nothing twice.
"""

from __future__ import annotations

import gc
import getpass
import itertools
import os
import socket
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple

import sqlalchemy as sa
from psycopg.errors import UniqueViolation
from sqlalchemy.engine import Connection, Engine

from app.db.engine import copy_text, sql_text
from app.ingest.copytext import rows_with_trailing_column
from app.ingest.counts import IngestCounts
from app.ingest.validate import (
    EVENT_COLUMNS,
    KEY_COLUMNS,
    Invalid,
    Valid,
    content_hash,
    raw_text,
    validate,
)
from app.settings import load_settings

_ENSURE_PARTITION = sa.text("SELECT ensure_event_partition(:month)")
_NEXT_BATCH = sa.text("SELECT nextval('ingest_batches_seq')")
MAX_KEY_RACES = 5
HAND_OFF = 0.000_3  # seconds: see _RunTuning

ProgressCallback = Callable[[IngestCounts], None]
Finalize = Callable[[Connection], None]


class Rejected(NamedTuple):
    """A record a collector could not map to a canonical event, given in place of its bytes.

    It is quarantined with its native raw text and the reason, and counted as received and
    quarantined like any invalid record, in the same batch transaction.
    """

    raw: bytes
    reason: str
    source: str | None = None


@dataclass
class RunInfo:
    """Who and what an ingest run is, recorded on each of its batches."""

    origin: str
    source_label: str | None = None
    run_id: uuid.UUID = field(default_factory=uuid.uuid4)
    actor: str = field(
        default_factory=lambda: f"{getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()})"
    )


@dataclass
class _Batch:
    started_at: datetime
    first_record: int
    last_record: int
    received: int = 0
    firsts: dict[tuple[str, str], Valid] = field(default_factory=dict)
    repeats: list[Valid] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)
    raws: dict[int, bytes] = field(default_factory=dict)
    months: set[tuple[int, int]] = field(default_factory=set)


def _prepare(chunk: list[tuple[int, bytes | Rejected]]) -> _Batch:
    batch = _Batch(datetime.now(UTC), chunk[0][0], chunk[-1][0], received=len(chunk))
    firsts, repeats, invalid, raws = batch.firsts, batch.repeats, batch.invalid, batch.raws
    for record_no, raw in chunk:
        if isinstance(raw, Rejected):
            raws[record_no] = raw.raw
            invalid.append(Invalid(record_no, raw.reason, raw.source))
            continue
        result = validate(record_no, raw)
        raws[record_no] = raw
        if type(result) is Valid:
            key = (result.source, result.id)
            if key in firsts:
                repeats.append(result)
            else:
                firsts[key] = result
        else:
            invalid.append(result)  # type: ignore[arg-type]
    batch.months = {(v.time.year, v.time.month) for v in firsts.values()}
    return batch


def _chunks(
    records: Iterable[tuple[int, bytes | Rejected]], size: int
) -> Iterator[list[tuple[int, bytes | Rejected]]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _sorted(firsts: Iterable[tuple[tuple[str, str], Valid]]) -> list[Valid]:
    # one order for every writer: concurrent batches with common keys wait, never deadlock
    return [valid for _key, valid in sorted(firsts)]


class _Writer:
    """Owns one connection; writes batches in order."""

    def __init__(self, conn: Connection, run: RunInfo) -> None:
        self.conn = conn
        self.run = run
        self.months: set[tuple[int, int]] = set()

    def _ensure_partitions(self, months: set[tuple[int, int]]) -> None:
        missing = months - self.months
        for year, month in sorted(missing):
            self.conn.execute(_ENSURE_PARTITION, {"month": datetime(year, month, 1, tzinfo=UTC)})
        if missing:
            self.conn.commit()  # DDL in its own short transaction, not held for the batch
            self.months |= missing

    def _store_new(
        self, batch_id: int, firsts: dict[tuple[str, str], Valid]
    ) -> tuple[dict[tuple[str, str], int], list[Valid]]:
        """COPY the new keys and events; returns the keys stored already, and the new events."""
        stored: dict[tuple[str, str], int] = {}
        new = _sorted(firsts.items())
        for _attempt in range(MAX_KEY_RACES):
            try:
                with self.conn.begin_nested():
                    copy_text(
                        self.conn,
                        "event_keys",
                        KEY_COLUMNS,
                        rows_with_trailing_column([v.key_line for v in new], batch_id),
                    )
                break
            except UniqueViolation:
                keys = list(firsts)
                rows = self.conn.execute(
                    sql_text("ingest/existing_keys"),
                    {"sources": [k[0] for k in keys], "ids": [k[1] for k in keys]},
                )
                stored = {(r.source, r.id): r.content_hash for r in rows}
                new = _sorted((key, v) for key, v in firsts.items() if key not in stored)
        else:
            raise RuntimeError(f"batch {batch_id}: keys kept colliding with concurrent ingests; run again")
        if new:
            # events in file order, so `seq` (arrival order, which breaks ties on equal
            # business time) follows the input; only the keys needed the lock order
            in_file_order = (
                list(firsts.values()) if not stored else [v for key, v in firsts.items() if key not in stored]
            )
            copy_text(
                self.conn,
                "events",
                EVENT_COLUMNS,
                rows_with_trailing_column([v.event_line for v in in_file_order], batch_id),
            )
        return stored, new

    def write(self, batch: _Batch, finalize: Finalize | None = None) -> IngestCounts:
        self._ensure_partitions(batch.months)
        conn = self.conn
        with conn.begin():
            batch_id = conn.execute(_NEXT_BATCH).scalar_one()
            firsts = batch.firsts
            stored, new = self._store_new(batch_id, firsts) if firsts else ({}, [])
            if new:  # the projections follow the store in the same transaction (issue 4)
                conn.execute(sql_text("projections/apply_batch"), {"batch_id": batch_id})

            duplicate = 0
            conflicts: list[Valid] = []
            for key, hash_ in stored.items():
                first = firsts[key]
                if first.content_hash == hash_:
                    duplicate += 1
                else:
                    conflicts.append(first)
            for repeat in batch.repeats:
                key = (repeat.source, repeat.id)
                if stored.get(key, firsts[key].content_hash) == repeat.content_hash:
                    duplicate += 1
                else:
                    conflicts.append(repeat)

            quarantine = [self._quarantine_row(batch_id, batch, bad, "invalid") for bad in batch.invalid]
            quarantine += [self._quarantine_row(batch_id, batch, c, "conflict") for c in conflicts]
            if quarantine:
                conn.execute(sql_text("ingest/quarantine_insert"), quarantine)
            if firsts:
                self._record_sources(batch, new)
            counts = IngestCounts(
                received=batch.received,
                accepted=len(new),
                duplicate=duplicate,
                conflict=len(conflicts),
                quarantined=len(quarantine),
            )
            conn.execute(
                sql_text("ingest/batch_insert"),
                {
                    "batch_id": batch_id,
                    "run_id": self.run.run_id,
                    "origin": self.run.origin,
                    "source_label": self.run.source_label,
                    "actor": self.run.actor,
                    "started_at": batch.started_at,
                    "first_record": batch.first_record,
                    "last_record": batch.last_record,
                    **counts.as_dict(),
                },
            )
            if finalize is not None:
                finalize(conn)
        return counts

    def _record_sources(self, batch: _Batch, new: list[Valid]) -> None:
        """Per source: heard from now; valid events received; accepted, and their latest time."""
        received = Counter(source for source, _id in batch.firsts)
        received.update(v.source for v in batch.repeats)
        accepted: dict[str, tuple[int, datetime]] = {}
        for source, group in itertools.groupby(new, key=attrgetter("source")):  # new is sorted
            times = [v.time for v in group]
            accepted[source] = (len(times), max(times))
        sources = sorted(received)
        self.conn.execute(
            sql_text("ingest/source_activity"),
            {
                "sources": sources,
                "received": [received[source] for source in sources],
                "accepted": [accepted.get(source, (0, None))[0] for source in sources],
                "last_event_times": [accepted.get(source, (0, None))[1] for source in sources],
            },
        )

    def _quarantine_row(
        self, batch_id: int, batch: _Batch, item: Valid | Invalid, code: str
    ) -> dict[str, Any]:
        raw = batch.raws[item.record_no]
        source: str | None
        event_id: str | None
        if isinstance(item, Valid):
            source, event_id = item.source, item.id
            reason = f"conflict: ({item.source!r}, {item.id!r}) was stored before with different content"
        else:
            source, event_id, reason = item.source, item.event_id, item.reason
        fingerprint = content_hash(
            b"\0".join([self.run.origin.encode(), str(item.record_no).encode(), code.encode(), raw])
        )
        return {
            "batch_id": batch_id,
            "origin": self.run.origin,
            "source": source or self.run.source_label,
            "record_no": item.record_no,
            "reason_code": code,
            "reason": reason,
            "event_id": event_id,
            "raw": raw_text(raw),
            "fingerprint": fingerprint,
        }


class _RunTuning:
    """Process-wide settings for the time ingests run; the first to start sets them and
    the last to finish restores them (collectors ingest from several threads at once).

    Fewer cyclic-GC passes while batches of short-lived, acyclic objects churn: the
    objects alive before the run are frozen out of collection and generation 0 is
    collected every 50,000 allocations instead of 700 (measured: 0.2 to 1.0 us of CPU an
    event saved, 100k events, two runs).

    A prompt GIL hand-off: the writer thread needs the GIL only briefly between its
    statements, but by default it waits up to 5 ms for the validating thread to let go,
    while PostgreSQL idles. With a switch interval of HAND_OFF it waits at most that, and
    the short interval costs nothing while the writer waits on its socket (no thread asks
    for the GIL then). It replaces a `time.sleep(0)` every 32 records, which handed the
    GIL over whether the writer wanted it or not: 87 us of wall time each (the kernel's
    timer slack), and 3.3 us of CPU an event in the validating thread (100k events).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.saved: tuple[tuple[int, int, int], float] | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.runs == 0:
                thresholds = gc.get_threshold()
                self.saved = (thresholds, sys.getswitchinterval())
                gc.freeze()
                gc.set_threshold(50_000, *thresholds[1:])
                sys.setswitchinterval(HAND_OFF)
            self.runs += 1
        try:
            yield
        finally:
            with self.lock:
                self.runs -= 1
                if self.runs == 0 and self.saved is not None:
                    thresholds, interval = self.saved
                    gc.set_threshold(*thresholds)
                    gc.unfreeze()
                    sys.setswitchinterval(interval)


_run_tuning = _RunTuning()


def ingest_records(
    engine: Engine,
    records: Iterable[tuple[int, bytes | Rejected]],
    run: RunInfo,
    *,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    finalize: Finalize | None = None,
) -> IngestCounts:
    """Ingest `(record_no, raw)` records (see `app.ingest.reader`); returns the counts.

    This is the one write path into the store: the CLI and every collector call it.
    `raw` may be a `Rejected` (a collector's unmappable record). `finalize(conn)`, if
    given, runs inside the LAST batch's transaction (or a transaction of its own when there
    are no records): a collector moves its cursor there, so the cursor commits with the
    rows it covers.
    """
    size = batch_size or load_settings().ingest_batch_size
    total = IngestCounts()
    with (
        _run_tuning(),
        engine.connect() as conn,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest") as pool,
    ):
        writer = _Writer(conn, run)
        pending: Future[IngestCounts] | None = None
        held: _Batch | None = None  # the newest batch waits, so finalize goes with the last one
        for chunk in _chunks(records, size):
            batch = _prepare(chunk)  # overlaps with the previous batch's write
            if held is not None:
                if pending is not None:
                    total.add(pending.result())
                    if progress:
                        progress(total)
                pending = pool.submit(writer.write, held)
            held = batch
        if pending is not None:
            total.add(pending.result())
            if progress:
                progress(total)
        if held is not None:
            total.add(writer.write(held, finalize))
            if progress:
                progress(total)
        elif finalize is not None:
            with conn.begin():
                finalize(conn)
    return total
