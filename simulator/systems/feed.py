"""An HTTP system's feed: native JSON records in a `sim` table, numbered in publish order."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.db.engine import copy_text
from app.ingest import copytext
from simulator.faults import Breakable, break_record
from simulator.systems.system import Published

Encoder = Callable[[dict[str, Any], datetime], dict[str, Any]]


class Feed:
    """Records appended with COPY; readers page through them by `seq`."""

    def __init__(self, name: str, table: str, encoder: Encoder, breakable: Breakable) -> None:
        self.name, self.table, self.encoder, self.breakable = name, table, encoder, breakable

    def encode(self, event: dict[str, Any], at: datetime) -> dict[str, Any]:
        return self.encoder(event, at)

    def break_record(self, record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        return break_record(record, self.breakable, rng)

    def write(self, conn: Connection, items: list[Published]) -> None:
        if not items:
            return
        lines = [copytext.line((item.at.isoformat(), orjson.dumps(item.record).decode())) for item in items]
        conn.execute(sa.text("SET LOCAL search_path TO sim, public"))
        copy_text(conn, self.table, ("published_at", "body"), ("\n".join(lines) + "\n").encode())
        conn.execute(sa.text("SET LOCAL search_path TO DEFAULT"))

    def tick(self, until: datetime) -> None:
        return None
