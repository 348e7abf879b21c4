"""The ERP: its own tables in schema `erp`, read by SQL (incrementally on `change_seq`).

Master data and stock levels and purchase orders are rows changed in place (the ERP
keeps the state, not the history); movements, deliveries, receipts and other documents
are appended. See `collectors.mappings.sim_erp` for the tables.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy.engine import Connection

from app.db.engine import copy_text
from app.ingest import copytext
from collectors.mappings.fieldmap import (
    EXT,
    ISO_UTC,
    Rows,
    default_subject,
    encode_fields,
    generic_code,
    overrides,
    parse_time,
)
from collectors.mappings.sim_erp import DOCUMENTS, SOURCE, TABLE_BY_TYPE, TABLES, Table
from simulator.storage import sim_script, sim_sql
from simulator.systems.system import Published

TABLES_BY_NAME = {t.name: t for t in TABLES}


class Row(NamedTuple):
    table: str
    values: dict[str, Any]


def insert_columns(table: Table) -> tuple[str, ...]:
    extra = ("doc_type",) if table is DOCUMENTS else ()
    return tuple(dict.fromkeys(("doc_no", *table.columns, *extra, "attrs")))


def encode(event: dict[str, Any], at: datetime | None = None) -> Row:
    """A canonical event as the row of the ERP table that records it."""
    table = TABLE_BY_TYPE.get(event["type"], DOCUMENTS)
    data = event["data"]
    values: dict[str, Any] = dict.fromkeys(insert_columns(table))
    values["doc_no"] = event["id"]
    values[table.time_column] = parse_time(event["time"], "time")
    ext: dict[str, Any] = {}
    if table is DOCUMENTS:
        values["doc_type"] = generic_code(event["type"])
        ext = dict(data)
    else:
        plain = {}
        for key, value in data.items():
            if value is None or (key in table.constants and table.constants[key] == value):
                if value is None:
                    ext[key] = None
                continue
            plain[key] = value
        native = encode_fields(table.fields, plain)
        ext.update(native.pop(EXT, {}))
        for f in table.fields:
            if f.native not in native:
                continue
            value = native[f.native]
            if f.codec is ISO_UTC and isinstance(value, str):
                value = parse_time(value.replace("Z", "+00:00"), f.native)
            elif isinstance(f.codec, Rows):
                value = orjson.dumps(value).decode()
            values[f.native] = value
    attrs: dict[str, Any] = {EXT: ext} if ext else {}
    attrs.update(overrides(event, SOURCE, default_subject(data)))
    values["attrs"] = orjson.dumps(attrs).decode() if attrs else None
    return Row(table.name, values)


def _copy_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Erp:
    name = "erp"

    def encode(self, event: dict[str, Any], at: datetime) -> Row:
        return encode(event)

    def break_record(self, record: Row, rng: random.Random) -> Row:
        """A required column left empty (the ERP's columns are typed: no bad numbers or dates)."""
        table = TABLES_BY_NAME[record.table]
        candidates = [f.native for f in table.fields if f.required and f.native not in table.key]
        column = rng.choice([*candidates, table.time_column])
        return Row(record.table, {**record.values, column: None})

    def write(self, conn: Connection, items: list[Published]) -> None:
        """COPY each table's rows into a staging table, then insert (or change) them at once.

        A row changed in place twice in one write keeps its last state (a reader could not
        have seen the first: the write is one transaction)."""
        by_table: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
        for n, item in enumerate(items):
            name, values = item.record
            table = TABLES_BY_NAME[name]
            key = n if table.key == ("doc_no",) else tuple(values[k] for k in table.key)
            rows = by_table[name]
            rows.pop(key, None)
            rows[key] = values
        for name, rows in by_table.items():
            columns = insert_columns(TABLES_BY_NAME[name])
            lines = [copytext.line(tuple(_copy_value(v[c]) for c in columns)) for v in rows.values()]
            conn.exec_driver_sql(sim_script(f"erp_{name}_stage"))
            copy_text(conn, f"erp_stage_{name}", columns, ("\n".join(lines) + "\n").encode())
            conn.execute(sim_sql(f"erp_{name}"))

    def tick(self, until: datetime) -> None:
        return None


def system() -> Erp:
    return Erp()
