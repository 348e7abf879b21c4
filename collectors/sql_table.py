"""The `sql_table` kind: rows of a table or a query, read incrementally by a cursor column.

Options (`[sources.options]`):

- `url`: any SQLAlchemy URL (sqlite too); the literal "${DATABASE_URL}" is the control
  tower's own database, and any other "${NAME}" is read from the environment;
- `table` (may be schema-qualified: "erp.orders") or `query` (a SELECT, read as a subquery);
- `cursor_column`: a column that increases as rows are added (an id, a sequence, a
  modification timestamp); `key_column`: breaks ties between equal cursor values (default:
  the cursor column itself, right for a unique id or sequence);
- `batch_size` (5000): rows a fetch;
- `lookback` (optional): rows whose cursor value lies within this much below the cursor
  are read again at the start of each run (seconds, or "10m", for timestamps), so rows committed late
  with an older value are not skipped; what was read before is counted as a duplicate by
  ingest, never stored twice.

The cursor is `[last cursor value, last key]`, as JSON (a number, or an ISO string for a
date or time). Rows are handed to the mapping as dicts; datetimes stay datetimes, decimals
become ints or floats.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.base import Collector, Context, Cursor, Page, SourceConfig, SourceError, TransientError

ToEvents = Callable[[Any], list[dict[str, Any]]]
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SELECT = re.compile(r"\s*(select|with)\b", re.IGNORECASE)
_IDENTIFIER = re.compile(r"[^\x00-\x1f\"]{1,128}")  # any printable name; quoted by SQLAlchemy


def _identifier(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise SourceError(f"option {what!r}: {value!r} is not a column or table name")
    return value


def json_value(value: Any) -> Any:
    """A column value as it is kept in the cursor (JSON)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def row_value(value: Any) -> Any:
    """A column value as the mapping sees it: decimals become ints or floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def lower_bound(value: Any, lookback: float) -> Any:
    """The cursor value `lookback` below `value` (seconds for a date or time as an ISO string)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value - lookback
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise SourceError(f"lookback needs a number or a date/time cursor, not {value!r}") from None
        earlier = moment - timedelta(seconds=lookback)
        if len(value) == 10:  # a date only: go back to the whole day
            return earlier.date().isoformat()
        return earlier.isoformat(sep=value[10])
    raise SourceError(f"lookback needs a number or a date/time cursor, not {value!r}")


def resolve_database_url(url: str, context: Context) -> str:
    """`url` with "${DATABASE_URL}" as the control tower's database and other ${NAME} from the env."""
    if url.strip() == "${DATABASE_URL}":
        own = context.database_url or os.environ.get("DATABASE_URL")
        if not own:
            raise SourceError(
                "option 'url' is ${DATABASE_URL} but the control tower's database URL is unknown"
            )
        return own

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "DATABASE_URL" and context.database_url:
            return context.database_url
        if name not in os.environ:
            raise SourceError(f"option 'url': the environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REFERENCE.sub(lookup, url)


def _engine(url: str) -> Engine:
    from app.db.engine import get_engine  # the one door that builds engines

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise SourceError("option 'url' is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).is_file():
            raise SourceError(f"option 'url': no SQLite database at {path}")  # sqlite would create it
    return get_engine(url, check=False)


def _bound(name: str, value: Any) -> sa.BindParameter[Any]:
    # untyped: the database reads the value as the column's type (an ISO string as a
    # timestamp for a timestamptz column, as text for a text column in SQLite)
    return sa.bindparam(name, value, type_=sa.types.NullType())


@dataclass
class SqlTableCollector:
    """Reads rows after the cursor, ordered by (cursor column, key column)."""

    source: str
    engine: Engine
    origin: sa.FromClause
    cursor_column: str
    key_column: str
    batch_size: int
    lookback: float | None
    to_events: ToEvents
    _paging_from: Cursor = field(default=None, init=False, repr=False)  # after a page with more

    def _where_after(self, cursor: Sequence[Any]) -> sa.ColumnElement[bool]:
        c, k = self.origin.c[self.cursor_column], self.origin.c[self.key_column]
        after = c > _bound("cursor_value", cursor[0])
        if self.key_column == self.cursor_column:
            return after
        return sa.or_(after, sa.and_(c == _bound("cursor_same", cursor[0]), k > _bound("key", cursor[1])))

    def _select(self) -> sa.Select[Any]:
        c, k = self.origin.c[self.cursor_column], self.origin.c[self.key_column]
        order = [c] if self.key_column == self.cursor_column else [c, k]
        # a row without a cursor value has no place in the order: it is never read
        return (
            sa.select(sa.literal_column("*")).select_from(self.origin).where(c.is_not(None)).order_by(*order)
        )

    def _rows(self, statement: sa.Select[Any]) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                result = conn.execute(statement)
                return [{name: row_value(v) for name, v in row._mapping.items()} for row in result]
        except (sa.exc.ProgrammingError, sa.exc.NoSuchColumnError) as exc:
            raise SourceError(f"source {self.source}: {_first_line(exc)}") from None
        except sa.exc.OperationalError as exc:
            reason = _first_line(exc)
            if self.engine.dialect.name == "sqlite" and reason.startswith(("no such", "near ")):
                raise SourceError(f"source {self.source}: {reason}") from None
            raise TransientError(f"source {self.source}: {reason}") from None
        except sa.exc.DBAPIError as exc:
            raise SourceError(f"source {self.source}: {_first_line(exc)}") from None

    def _reread(self, position: Sequence[Any]) -> list[dict[str, Any]]:
        """The rows at or before the cursor within the lookback (read before, or committed late)."""
        if not self.lookback:
            return []
        low = lower_bound(position[0], self.lookback)
        c = self.origin.c[self.cursor_column]
        return self._rows(self._select().where(c >= _bound("low", low), sa.not_(self._where_after(position))))

    def _position(self, row: dict[str, Any]) -> list[Any]:
        try:
            return [json_value(row[self.cursor_column]), json_value(row[self.key_column])]
        except KeyError as exc:
            raise SourceError(f"source {self.source}: the rows have no column {exc.args[0]!r}") from None

    def fetch(self, cursor: Cursor) -> Page:
        position = list(cursor) if isinstance(cursor, list | tuple) and len(cursor) == 2 else None
        statement = self._select().limit(self.batch_size)
        reread: list[dict[str, Any]] = []
        if position is not None:
            if cursor != self._paging_from:  # the first page of a run: look back
                reread = self._reread(position)
            statement = statement.where(self._where_after(position))
        rows = self._rows(statement)
        next_cursor = self._position(rows[-1]) if rows else position
        more = len(rows) == self.batch_size
        self._paging_from = next_cursor if more else None
        return Page(reread + rows, next_cursor, more)


def _first_line(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0]


def _origin(options: dict[str, Any], columns: list[str]) -> sa.FromClause:
    table, query = options.get("table"), options.get("query")
    if bool(table) == bool(query):
        raise SourceError("give either option 'table' or option 'query'")
    cols: list[sa.ColumnClause[Any]] = [sa.column(name) for name in dict.fromkeys(columns)]
    if table:
        name = _identifier(table, "table")
        schema, _, bare = name.rpartition(".") if "." in name else ("", "", name)
        return sa.table(bare, *cols, schema=schema or None)
    if not isinstance(query, str) or not _SELECT.match(query):
        raise SourceError("option 'query' must be a SELECT")
    body = query.strip().rstrip(";").strip()
    return sa.text(body).columns(*cols).subquery("source_rows")


def _lookback(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):  # a duration: "90s", "10m", "1h"
        from collectors.config import parse_schedule

        return parse_schedule(value)
    return float(value)


def _mapping_function(source: SourceConfig) -> ToEvents:
    from collectors.mapping import resolve_mapping  # imported on use, by the kinds that map

    return resolve_mapping(source.mapping)


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector of a `sql_table` source (raises SourceError on a bad option)."""
    options = dict(source.options)
    try:
        url = options.get("url")
        if not isinstance(url, str) or not url:
            raise SourceError("option 'url' (a SQLAlchemy database URL) is required")
        cursor_column = _identifier(options.get("cursor_column"), "cursor_column")
        key_column = _identifier(options.get("key_column", cursor_column), "key_column")
        try:
            batch_size = int(options.get("batch_size", 5000))
            lookback = _lookback(options.get("lookback"))
        except (TypeError, ValueError):
            raise SourceError("option 'batch_size' must be a number, 'lookback' a number or '10m'") from None
        if batch_size < 1 or (lookback is not None and lookback < 0):
            raise SourceError("option 'batch_size' must be positive and 'lookback' not negative")
        origin = _origin(options, [cursor_column, key_column])
        engine = _engine(resolve_database_url(url, context))
    except SourceError as exc:
        raise SourceError(f"source {source.name}: {exc}") from None
    return SqlTableCollector(
        source=source.name,
        engine=engine,
        origin=origin,
        cursor_column=cursor_column,
        key_column=key_column,
        batch_size=batch_size,
        lookback=lookback,
        to_events=_mapping_function(source),
    )
