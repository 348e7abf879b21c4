"""Stream records out of JSON Lines or a JSON array, in constant memory.

`read_records` yields `(record_no, raw_bytes)`: the line number for JSON Lines (blank
lines skipped, not counted), the element number for a JSON array. A JSON array is split
into its elements by a scanner that tracks strings and nesting, so one malformed element
becomes one bad record and the rest of the array is still read. Nothing is parsed here.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
_WHITESPACE = b" \t\r\n"
# a whole string, a lone quote (a string not complete in the buffer yet), or a structural byte
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|"|[\[\]{},]', re.DOTALL)


class InputError(OSError):
    """An input cannot be read; the message names it and says why."""


def open_input(path: str) -> IO[bytes]:
    """Open a file (gzip when it ends in .gz) or standard input ('-') for binary reading."""
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(f"cannot read {path}: it is a folder, not a file")
        if p.suffix == ".gz":
            stream = gzip.open(p, "rb")  # noqa: SIM115  # the caller closes it
            stream.peek(1)  # fail now on a file that is not gzip
            return stream  # type: ignore[return-value]
        return p.open("rb")
    except InputError:
        raise
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read {path}: {reason}") from None


def read_records(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yield `(record_no, raw)` for each record of a JSON Lines or JSON array stream."""
    head = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        head += chunk
        if head.lstrip(_WHITESPACE):
            break
    first = head.lstrip(_WHITESPACE)[:1]
    if first == b"[":
        yield from _array_elements(stream, head)
    else:
        yield from _lines(stream, head)


def _lines(stream: IO[bytes], head: bytes) -> Iterator[tuple[int, bytes]]:
    line_no = 0
    pending = b""
    buffered = head
    while True:
        lines = (pending + buffered).split(b"\n")
        pending = lines.pop()  # an incomplete last line waits for the next chunk
        for line in lines:
            line_no += 1
            stripped = line.strip(_WHITESPACE)
            if stripped:
                yield line_no, stripped
        buffered = stream.read(CHUNK)
        if not buffered:
            break
    if pending.strip(_WHITESPACE):
        yield line_no + 1, pending.strip(_WHITESPACE)


def _array_elements(stream: IO[bytes], head: bytes) -> Iterator[tuple[int, bytes]]:
    buf = head
    pos = buf.index(b"[") + 1
    start = pos  # where the current element begins
    depth = 1
    element_no = 0
    eof = False
    while True:
        match = _TOKEN.search(buf, pos)
        if match is None or match.group() == b'"':
            # no complete token left in the buffer: keep the current element, read more
            if eof:
                break
            resume = len(buf) if match is None else match.start()
            buf, resume, start = buf[start:], resume - start, 0
            chunk = stream.read(CHUNK)
            eof = not chunk
            buf += chunk
            pos = resume
            continue
        token = match.group()
        pos = match.end()
        if token in (b"{", b"["):
            depth += 1
        elif token in (b"}", b"]"):
            depth -= 1
            if depth == 0:  # the end of the array
                element = buf[start : match.start()].strip(_WHITESPACE)
                if element or element_no:
                    element_no += 1
                    yield element_no, element
                yield from _trailing(stream, buf[pos:], element_no)
                return
        elif token == b"," and depth == 1:
            element_no += 1
            yield element_no, buf[start : match.start()].strip(_WHITESPACE)
            start = pos
    rest = buf[start:].strip(_WHITESPACE)
    if rest:
        yield element_no + 1, rest  # the array never closed: the tail is one bad record


def _trailing(stream: IO[bytes], rest: bytes, element_no: int) -> Iterator[tuple[int, bytes]]:
    tail = rest.strip(_WHITESPACE)
    while len(tail) < 256:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        tail = (tail + chunk).strip(_WHITESPACE)
    if tail:
        yield element_no + 1, tail[:4096]  # text after the end of the array: reported, not parsed
