"""Write validated events to the store, one transaction a batch, losing nothing.

For each batch (`ingest_batch_size` records): validate in this thread; then, in a writer
thread (so parsing the next batch overlaps the database work), in ONE transaction: COPY
the first occurrence of each (source, id) into a temp stage, insert the new keys and their
events, classify the rest as duplicate (same content) or conflict (quarantined), write the
invalid records to quarantine and record the batch with its counts. A crash rolls the
open batch back; running the same input again stores nothing twice.
"""

from __future__ import annotations

import getpass
import itertools
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db.engine import copy_rows, sql_text
from app.ingest.counts import IngestCounts
from app.ingest.validate import Invalid, Valid, content_hash, raw_text, validate
from app.settings import load_settings

STAGE_COLUMNS = ("record_no", "source", "id", "type", "time", "subject", "data", "attrs", "content_hash")
_CREATE_STAGE = sa.text(
    """
    CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
        record_no bigint, source text, id text, type text, time timestamptz,
        subject text, data jsonb, attrs jsonb, content_hash bigint
    ) ON COMMIT DELETE ROWS
    """
)
_ENSURE_PARTITION = sa.text("SELECT ensure_event_partition(:month)")
_NEXT_BATCH = sa.text("SELECT nextval('ingest_batches_seq')")

ProgressCallback = Callable[[IngestCounts], None]


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


def _prepare(chunk: list[tuple[int, bytes]]) -> _Batch:
    batch = _Batch(datetime.now(UTC), chunk[0][0], chunk[-1][0], received=len(chunk))
    for record_no, raw in chunk:
        result = validate(record_no, raw)
        batch.raws[record_no] = raw
        if isinstance(result, Invalid):
            batch.invalid.append(result)
            continue
        key = (result.source, result.id)
        if key in batch.firsts:
            batch.repeats.append(result)
        else:
            batch.firsts[key] = result
    return batch


def _chunks(records: Iterable[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class _Writer:
    """Owns one connection; writes batches in order."""

    def __init__(self, conn: Connection, run: RunInfo) -> None:
        self.conn = conn
        self.run = run
        self.months: set[datetime] = set()
        conn.execute(_CREATE_STAGE)
        conn.commit()

    def _ensure_partitions(self, batch: _Batch) -> None:
        months = {v.time.replace(day=1, hour=0, minute=0, second=0, microsecond=0) for v in batch.firsts.values()}
        missing = months - self.months
        for month in sorted(missing):
            self.conn.execute(_ENSURE_PARTITION, {"month": month})
        if missing:
            self.conn.commit()
            self.months |= missing

    def write(self, batch: _Batch) -> IngestCounts:
        self._ensure_partitions(batch)
        conn = self.conn
        with conn.begin():
            batch_id = conn.execute(_NEXT_BATCH).scalar_one()
            firsts = batch.firsts
            if firsts:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                copy_rows(
                    cursor,
                    "ingest_stage",
                    STAGE_COLUMNS,
                    (
                        (v.record_no, v.source, v.id, v.type, v.time, v.subject, v.data, v.attrs, v.content_hash)
                        for v in firsts.values()
                    ),
                )
            accepted = conn.execute(sql_text("ingest/store_new"), {"batch_id": batch_id}).rowcount if firsts else 0
            stored: dict[tuple[str, str], int] = {}
            if accepted < len(firsts) or batch.repeats:
                rows = conn.execute(sql_text("ingest/existing_keys"), {"batch_id": batch_id})
                stored = {(r.source, r.id): r.content_hash for r in rows}
            if accepted != len(firsts) - len(stored):
                raise RuntimeError(f"ingest bookkeeping mismatch in batch {batch_id}: {accepted=} {len(stored)=}")

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
            counts = IngestCounts(
                received=batch.received,
                accepted=accepted,
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
        return counts

    def _quarantine_row(self, batch_id: int, batch: _Batch, item: Valid | Invalid, code: str) -> dict[str, Any]:
        raw = batch.raws[item.record_no]
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


def ingest_records(
    engine: Engine,
    records: Iterable[tuple[int, bytes]],
    run: RunInfo,
    *,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> IngestCounts:
    """Ingest `(record_no, raw)` records (see `app.ingest.reader`); returns the counts.

    This is the one write path into the store: the CLI and every collector call it.
    """
    size = batch_size or load_settings().ingest_batch_size
    total = IngestCounts()
    with engine.connect() as conn, ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest") as pool:
        writer = _Writer(conn, run)
        pending: Future[IngestCounts] | None = None
        for chunk in _chunks(records, size):
            batch = _prepare(chunk)  # overlaps with the previous batch's write
            if pending is not None:
                total.add(pending.result())
                if progress:
                    progress(total)
            pending = pool.submit(writer.write, batch)
        if pending is not None:
            total.add(pending.result())
            if progress:
                progress(total)
    return total
