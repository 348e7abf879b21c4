"""Files dropped in a folder: one file per key (a store, a marketplace) and time window.

Lines are appended as they are published; when the window has passed, a ready marker
`<name>.ok` says the file is complete. With the `partial_file` fault a closing file is
cut to its first half, and the rest and the marker follow at the next tick: a reader
that ignores markers sees a half-written file. Once a key has written a file it writes one
every window, empty (a header only) when it had nothing to say, the way a store's POS
sends its batch on schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulator.faults import FaultBoard

MARKER = ".ok"
Namer = Callable[[str, datetime], str]


def window_end(at: datetime, seconds: int) -> datetime:
    """The end of the window holding `at`; windows are (end - seconds, end], aligned in UTC."""
    stamp = int(at.timestamp())
    end = -(-stamp // seconds) * seconds
    if end == stamp and at.microsecond:
        end += seconds
    return datetime.fromtimestamp(end, tz=UTC)


class FileDrop:
    def __init__(
        self,
        system: str,
        folder: Path,
        window: timedelta,
        namer: Namer,
        faults: FaultBoard,
        header: str | None = None,
    ) -> None:
        self.system, self.folder, self.namer, self.faults, self.header = system, folder, namer, faults, header
        self.window = int(window.total_seconds())
        self.open: dict[Path, datetime] = {}  # files being written -> their window's end
        self.held: dict[Path, list[str]] = {}  # cut files -> their remaining lines
        self.known: set[str] = set()  # keys that write a file every window
        self.closed_to: datetime | None = None  # windows ending up to here are done
        self.folder.mkdir(parents=True, exist_ok=True)  # there from the start: collectors may look

    def append(self, lines: list[tuple[str, datetime, str]]) -> None:
        """Append (key, publish time, line) in order, each to its key's file of its window."""
        by_path: dict[Path, list[str]] = defaultdict(list)
        for key, at, line in lines:
            end = window_end(at, self.window)
            if key not in self.known:
                self.known.add(key)
                start = end - timedelta(seconds=self.window)
                self.closed_to = start if self.closed_to is None else min(self.closed_to, start)
            path = self.folder / self.namer(key, end)
            if path not in self.open:
                self.open[path] = end
            by_path[path].append(line)
        self.folder.mkdir(parents=True, exist_ok=True)
        for path, chunk in by_path.items():
            new = not path.exists()
            with path.open("a", encoding="utf-8", newline="") as out:
                if new and self.header is not None:
                    out.write(self.header)
                out.writelines(chunk)

    def tick(self, until: datetime) -> list[Path]:
        """Finish files cut at the previous tick, then close the windows that ended; the files completed."""
        done = []
        for path, rest in list(self.held.items()):
            with path.open("a", encoding="utf-8", newline="") as out:
                out.writelines(rest)
            del self.held[path]
            self._mark(path)
            done.append(path)
        self._heartbeat(until)
        for path, end in list(self.open.items()):
            if end > until:
                continue
            del self.open[path]
            if self.faults.active("partial_file", self.system, end):
                self._cut(path)
            else:
                self._mark(path)
                done.append(path)
        return done

    def _heartbeat(self, until: datetime) -> None:
        """Open an empty file for every known key that wrote nothing in a window now ending."""
        if self.closed_to is None:
            return
        step = timedelta(seconds=self.window)
        end = self.closed_to + step
        while end <= until:
            for key in self.known:
                path = self.folder / self.namer(key, end)
                if path not in self.open and not path.exists():
                    path.write_text(self.header or "", encoding="utf-8")
                    self.open[path] = end
            self.closed_to = end
            end += step

    def _cut(self, path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        head = 1 if self.header is not None else 0
        keep = head + (len(lines) - head + 1) // 2
        path.write_text("".join(lines[:keep]), encoding="utf-8")
        self.held[path] = lines[keep:]

    def _mark(self, path: Path) -> None:
        path.with_name(path.name + MARKER).write_text("", encoding="utf-8")
