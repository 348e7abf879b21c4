"""`ctower ingest PATH... [--source NAME] [--json]`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import IO

from app.db.engine import get_engine
from app.db.migrate import migrate
from app.ingest.counts import IngestCounts
from app.ingest.reader import open_input, read_records
from app.ingest.store import RunInfo, ingest_records

PROGRESS_MIN_BYTES = 8 << 20


def _size(stream: IO[bytes]) -> int | None:
    raw = getattr(stream, "fileobj", stream)  # a GzipFile's compressed file
    try:
        return os.fstat(raw.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


def _position(stream: IO[bytes]) -> int:
    raw = getattr(stream, "fileobj", stream)
    try:
        return int(raw.tell())
    except (OSError, AttributeError, ValueError):
        return 0


class _Progress:
    """A one-line progress bar on stderr, redrawn after each batch."""

    def __init__(self, label: str, stream: IO[bytes]) -> None:
        self.label, self.stream, self.size = label, stream, _size(stream)
        self.started = time.monotonic()

    def __call__(self, counts: IngestCounts) -> None:
        rate = counts.received / max(time.monotonic() - self.started, 1e-6)
        if self.size:
            share = min(_position(self.stream) / self.size, 1.0)
            bar = "#" * int(share * 30)
            head = f"[{bar:<30}] {share:4.0%}"
        else:
            head = "[reading]"
        sys.stderr.write(f"\r{self.label}: {head} {counts.received:,} records, {rate:,.0f}/s   ")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\n")


def run_ingest(args: argparse.Namespace) -> int:
    from app.cli import print_json

    streams = [(path, open_input(path)) for path in args.paths]  # every input readable, or stop now
    engine = get_engine(args.database_url)
    migrate(engine)
    total = IngestCounts()
    for path, stream in streams:
        origin = path if path == "-" else os.path.abspath(path)
        show = (
            not args.no_progress
            and sys.stderr.isatty()
            and (path == "-" or (_size(stream) or 0) >= PROGRESS_MIN_BYTES)
        )
        progress = _Progress(path, stream) if show else None
        with stream:
            counts = ingest_records(
                engine,
                read_records(stream),
                RunInfo(origin=origin, source_label=args.source),
                batch_size=args.batch_size,
                progress=progress,
            )
        if progress:
            progress.done()
        total.add(counts)
        if not args.json:
            print(f"{path}: {counts.summary()}")
    if args.json:
        print_json(total.as_dict())
    elif len(streams) > 1:
        print(f"total: {total.summary()}")
    return 0
