"""Lossless ingest of canonical events: read, validate, store (contracts/EVENTS.md)."""

from app.ingest.counts import IngestCounts
from app.ingest.reader import open_input, read_records
from app.ingest.store import ingest_records

__all__ = ["IngestCounts", "ingest_records", "open_input", "read_records"]
