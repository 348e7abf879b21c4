"""Lookups: a second file (CSV or JSON Lines) indexed by one column, joined into a list.

A lookup is read on first use and again whenever its size or modification time change
(`refresh()`, which a collector calls once a fetch). A lookup that cannot be read is a
`SourceError`: the run stops and the records wait, rather than all being quarantined.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from collectors.base import SourceError
from collectors.mapping.convert import text
from collectors.mapping.spec import Lookup


class LookupTable:
    def __init__(self, name: str, spec: Lookup, base_dir: Path | None) -> None:
        self.name = name
        self.spec = spec
        self.key = spec.key
        path = Path(spec.file).expanduser()
        self.path = path if path.is_absolute() or base_dir is None else Path(base_dir) / path
        self._index: dict[str, list[dict[str, Any]]] | None = None
        self._stamp: tuple[int, int] | None = None

    def rows(self, key: str) -> list[dict[str, Any]]:
        if self._index is None:
            self.refresh()
        assert self._index is not None
        return self._index.get(key, [])

    def refresh(self) -> None:
        """Read the file if it is new or changed since the last read."""
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise SourceError(f"lookup '{self.name}': cannot read {self.path} ({exc.strerror})") from None
        stamp = (stat.st_size, stat.st_mtime_ns)
        if stamp != self._stamp or self._index is None:
            self._index = self._load()
            self._stamp = stamp

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        fmt = self.spec.format or ("jsonl" if self.path.suffix in (".jsonl", ".ndjson") else "csv")
        index: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        try:
            rows = self._csv_rows() if fmt == "csv" else self._jsonl_rows()
            for line, row in rows:
                value = row.get(self.key)
                if value is None:
                    raise SourceError(f"lookup '{self.name}': {self.path} line {line} has no {self.key!r}")
                index[text(value)].append(row)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(f"lookup '{self.name}': cannot read {self.path} ({exc})") from None
        return dict(index)

    def _csv_rows(self) -> Any:
        with open(self.path, encoding=self.spec.encoding, newline="") as handle:
            reader = csv.DictReader(handle, delimiter=self.spec.delimiter)
            if self.key not in (reader.fieldnames or []):
                raise SourceError(f"lookup '{self.name}': {self.path} has no column {self.key!r}")
            for row in reader:
                yield reader.line_num, row

    def _jsonl_rows(self) -> Any:
        with open(self.path, "rb") as handle:
            for line, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    row = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise SourceError(f"lookup '{self.name}': {self.path} line {line} is not JSON") from None
                if not isinstance(row, dict):
                    raise SourceError(f"lookup '{self.name}': {self.path} line {line} is not an object")
                yield line, row
