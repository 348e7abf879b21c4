"""Native records out of one dropped file: CSV rows as dicts by header, JSON Lines objects.

A row that cannot be read (a CSV row with the wrong number of columns, a line that is not
JSON or not an object, bytes that are not in the file's encoding) is still yielded, as a
`BadRow`: its raw text, with the line number and the reason, so the runner quarantines it
and the rest of the file is stored. Blank lines are skipped and not counted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any

import orjson

Record = dict[str, Any]


class BadRow(str):
    """The raw text of a row that could not be read; `reason` names its line and what is wrong.

    A `str`, so the runner quarantines exactly the text of the file's line(s).
    """

    line: int
    reason: str

    def __new__(cls, raw: str, line: int, reason: str) -> BadRow:
        row = super().__new__(cls, raw)
        row.line = line
        row.reason = f"line {line}: {reason}"
        return row


def jsonl_records(handle: IO[bytes], encoding: str) -> Iterator[Record | BadRow]:
    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig")
    for number, raw in enumerate(handle, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        text = raw.decode(encoding, errors="replace").rstrip("\r\n")
        try:
            value = orjson.loads(raw if utf8 else text)
        except orjson.JSONDecodeError as exc:
            yield BadRow(text, number, f"not valid JSON ({exc})")
            continue
        if isinstance(value, dict):
            yield value
        else:
            yield BadRow(text, number, f"not a JSON object (a {type(value).__name__})")


class _Lines:
    """Decodes a binary file line by line, remembering the text of the current record."""

    def __init__(self, handle: IO[bytes], encoding: str) -> None:
        self.handle, self.encoding = handle, encoding
        self.number = 0
        self.pending: list[str] = []
        self.undecodable = False

    def __iter__(self) -> Iterator[str]:
        encoding = self.encoding
        for raw in self.handle:
            self.number += 1
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                text = raw.decode(encoding, errors="replace")
                self.undecodable = True
            self.pending.append(text)
            yield text

    def take(self) -> str:
        """The text of the record just read (its lines), and forget it."""
        text = "".join(self.pending).rstrip("\r\n")
        self.pending.clear()
        return text


def csv_records(handle: IO[bytes], encoding: str, delimiter: str) -> Iterator[Record | BadRow]:
    lines = _Lines(handle, encoding)
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    problem: str | None = None
    start = 1
    while True:
        row: list[str] | None = None
        failure: str | None = None
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            failure = str(exc)
        raw = lines.take()
        line, start = start, lines.number + 1
        if row == []:
            continue  # a blank line
        if lines.undecodable:
            lines.undecodable = False
            failure = failure or f"not valid {encoding}"
        if header is None:
            header = row or []
            problem = failure or _header_problem(header)
            continue
        if failure is None and problem is not None:
            failure = f"the header (line 1) is unusable: {problem}"
        if failure is None and row is not None and len(row) != len(header):
            failure = f"expected {len(header)} columns, found {len(row)}"
        if failure is not None or row is None:
            yield BadRow(raw, line, failure or "unreadable")
        else:
            yield dict(zip(header, row, strict=True))


def _header_problem(header: list[str]) -> str | None:
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            return "a column without a name"
        if name in seen:
            return f"column {name!r} appears twice"
        seen.add(name)
    return None
