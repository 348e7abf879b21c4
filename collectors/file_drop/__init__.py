"""The `file_drop` kind: CSV or JSON Lines files dropped in a folder, mapped declaratively.

Options (`[source.options]`):

- `path`: the drop folder (required); `pattern` ("*.csv"): the files to read, by name;
- `format`: "csv" or "jsonl" (default: from the extension, .jsonl/.ndjson/.json are JSON
  Lines, anything else CSV); `delimiter` (","), `encoding` ("utf-8");
- `ready_marker` (none): e.g. ".ok": file X is read only once X.ok exists;
- `settle_seconds` (2): without a marker, a file is read only once it has not been written
  to for this long by the collector's clock, so a file still being written waits;
- `archive` ("processed"): the folder under `path` a collected file (and its marker) moves
  to after its rows commit, kept for audit; "" leaves files where they are;
- `max_rows_per_page` (20000): a big file is read in pages; the cursor
  {"file", "sha256", "row"} moves with each page's rows, so a crash mid-file resumes at the
  next row and stores nothing twice.

New files only: the file a page finishes is recorded in `collected_files` (name, sha256,
size, rows, batch) in the transaction of its last rows; a file whose name and content were
collected before is not read again (only archived), a file of the same name with new
content is read as new. Records are dicts (CSV: by header; JSON Lines: the objects); a row
that cannot be read becomes a quarantined record with its line number and reason.

The mapping (`[source.mapping]`) is declarative (collectors/mapping) or a function; its
lookup files are found relative to `path`.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors.base import Collector, Context, SourceConfig, SourceError
from collectors.file_drop.collector import FileDropCollector
from collectors.file_drop.folder import Folder
from collectors.file_drop.rows import BadRow
from collectors.mapping import resolve_mapping

__all__ = ["BadRow", "FileDropCollector", "FileDropOptions", "build"]


class FileDropOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    pattern: str = Field(default="*.csv", min_length=1)
    format: Literal["csv", "jsonl"] | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    ready_marker: str | None = None
    settle_seconds: float = Field(default=2.0, ge=0)
    archive: str | Literal[False] = "processed"
    max_rows_per_page: int = Field(default=20_000, ge=1)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if "/" in value or "\\" in value:
            raise ValueError("must be a file name pattern such as '*.csv', without a folder")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("archive")
    @classmethod
    def _archive(cls, value: str | bool) -> str | Literal[False]:
        if isinstance(value, str) and ("/" in value or "\\" in value or value in (".", "..")):
            raise ValueError("must be a folder name inside the drop folder, such as 'processed'")
        return value if isinstance(value, str) and value else False


def options(source: SourceConfig) -> FileDropOptions:
    try:
        return FileDropOptions.model_validate(source.options)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "options"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "not an option of file_drop"
        raise SourceError(f"source {source.name}: option {key!r}: {message}") from None


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector of a `file_drop` source (SourceError on a bad option or mapping)."""
    opts = options(source)
    folder_path = Path(opts.path).expanduser()
    folder = Folder(
        source.name,
        folder_path,
        opts.pattern,
        opts.ready_marker or None,
        opts.settle_seconds,
        opts.archive or None,
    )
    return FileDropCollector(
        source.name,
        folder,
        fmt=opts.format,
        delimiter=opts.delimiter,
        encoding=opts.encoding,
        max_rows_per_page=opts.max_rows_per_page,
        mapper=resolve_mapping(source.mapping, base_dir=folder_path),
        clock=context.clock,
        database_url=context.database_url,
    )
