"""The drop folder: which files are ready, their hashes, and the archive they move to."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from collectors.base import SourceError

CHUNK = 1 << 20


class Folder:
    def __init__(
        self,
        source: str,
        path: Path,
        pattern: str,
        ready_marker: str | None,
        settle_seconds: float,
        archive: str | None,
    ) -> None:
        self.source, self.path, self.pattern = source, path, pattern
        self.ready_marker, self.settle_seconds, self.archive = ready_marker, settle_seconds, archive
        self._hashes: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns)

    def ready(self, now: float) -> list[Path]:
        """The files complete enough to read at `now` (seconds since the epoch), by name.

        With a ready marker, file X is ready once X + marker exists. Without one, once it
        has not been written to for `settle_seconds`: its modification time is that old.
        """
        if not self.path.is_dir():
            raise SourceError(f"source {self.source}: the drop folder {self.path} does not exist")
        ready = []
        marker = self.ready_marker
        for path in sorted(self.path.glob(self.pattern)):
            if marker and path.name.endswith(marker):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # moved away meanwhile
            if not path.is_file():
                continue
            if marker:
                if self.marker(path).is_file():
                    ready.append(path)
            elif now - stat.st_mtime >= self.settle_seconds:
                ready.append(path)
        return ready

    def marker(self, path: Path) -> Path:
        return path.with_name(path.name + (self.ready_marker or ""))

    def sha256(self, path: Path) -> tuple[str, int]:
        """The hex digest and size of a file (remembered while its size and mtime stay)."""
        try:
            stat = path.stat()
            key = (str(path), stat.st_size, stat.st_mtime_ns)
            digest = self._hashes.get(key)
            if digest is None:
                hasher = hashlib.sha256()
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        hasher.update(chunk)
                digest = self._hashes[key] = hasher.hexdigest()
        except OSError as exc:
            raise SourceError(f"source {self.source}: cannot read {path.name} ({exc.strerror})") from None
        return digest, stat.st_size

    def put_away(self, path: Path, sha256: str) -> None:
        """Move a collected file (and its marker) to the archive folder, keeping both when a
        different file of the same name is there already; without an archive, leave it."""
        if not self.archive:
            return
        target_dir = self.path / self.archive
        try:
            target_dir.mkdir(exist_ok=True)
            target = target_dir / path.name
            if target.exists() and self.sha256(target)[0] != sha256:
                target = target_dir / f"{path.name}.{sha256[:12]}"
            if path.exists():
                os.replace(path, target)
            if self.ready_marker:
                marker = self.marker(path)
                if marker.exists():
                    os.replace(marker, target.with_name(target.name + self.ready_marker))
        except OSError as exc:
            raise SourceError(
                f"source {self.source}: cannot move {path.name} to {target_dir} ({exc.strerror})"
            ) from None
