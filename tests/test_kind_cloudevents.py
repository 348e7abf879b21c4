"""The cloudevents kind: partners drop canonical events as JSON Lines files in a folder.

Every run goes through the real runner (collectors.runner.run_once) into a fresh store.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors import cloudevents
from collectors.base import Context, SourceConfig, SourceError
from collectors.runner import Retry, read_cursor, run_once

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def event(n: int, order: str = "ORD-000123") -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"acme-{n}",
            "source": "marketplace/acme",
            "type": "retail.order.delivered",
            "time": f"2026-11-20T10:{n:02d}:00+01:00",
            "data": {"order_id": order},
        }
    )


def drop(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def partner(folder: Path, **options: Any) -> SourceConfig:
    return SourceConfig(name="acme", kind="cloudevents", options={"path": str(folder), **options})


@pytest.fixture
def context(database_url: str) -> Context:
    return Context(clock=lambda: NOW, database_url=database_url)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    return folder


def rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql)))


def test_dropped_files_are_stored_bad_lines_quarantined_and_the_files_recorded_and_moved(
    engine: Engine, context: Context, inbox: Path
) -> None:
    first = drop(inbox, "2026-11-20-a.jsonl", event(1), event(2), "", event(3))
    second = drop(
        inbox,
        "2026-11-20-b.jsonl",
        event(4),
        "{not json",
        json.dumps({**json.loads(event(5)), "type": "retail.order.teleported"}),
        event(6),
    )
    contents = {p.name: p.read_bytes() for p in (first, second)}

    run = run_once(engine, partner(inbox), context)

    assert run.status == "ok", run.error
    # 3 + 4 lines (the blank one is skipped); 5 good events; one not JSON, one of no known type
    assert (run.pages, run.read, run.accepted, run.quarantined) == (2, 7, 5, 2)
    stored = rows(engine, "SELECT id FROM events WHERE source = 'marketplace/acme' ORDER BY id")
    assert [r.id for r in stored] == ["acme-1", "acme-2", "acme-3", "acme-4", "acme-6"]
    quarantined = rows(engine, "SELECT reason, raw FROM quarantine ORDER BY record_no")
    assert quarantined[0].reason.startswith("mapping: not JSON")
    assert quarantined[0].raw == "{not json"
    assert "retail.order.teleported" in quarantined[1].reason
    recorded = rows(engine, "SELECT name, sha256, size, rows FROM collected_files ORDER BY name")
    assert [tuple(r) for r in recorded] == [
        (name, hashlib.sha256(body).hexdigest(), len(body), lines)
        for (name, body), lines in zip(sorted(contents.items()), (3, 4), strict=True)
    ]
    assert sorted(p.name for p in inbox.iterdir()) == ["processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(contents)


def test_files_are_read_in_name_order_one_a_page(engine: Engine, context: Context, inbox: Path) -> None:
    drop(inbox, "b.jsonl", event(2))
    drop(inbox, "a.jsonl", event(1))

    run = run_once(engine, partner(inbox), context, max_pages=1)

    assert run.accepted == 1
    assert [r.id for r in rows(engine, "SELECT id FROM events WHERE source = 'marketplace/acme'")] == [
        "acme-1"
    ]
    assert sorted(p.name for p in inbox.glob("*.jsonl")) == ["b.jsonl"]


def test_a_later_file_adds_only_its_new_events_and_a_second_run_reads_nothing(
    engine: Engine, context: Context, inbox: Path
) -> None:
    drop(inbox, "a.jsonl", event(1), event(2))
    run_once(engine, partner(inbox), context)
    drop(inbox, "b.jsonl", event(2), event(3))  # acme-2 again, the same content

    later = run_once(engine, partner(inbox), context)
    idle = run_once(engine, partner(inbox), context)

    assert (later.read, later.accepted, later.duplicate) == (2, 1, 1)
    assert (idle.pages, idle.read, idle.accepted) == (1, 0, 0)
    assert len(rows(engine, "SELECT 1 FROM events WHERE source = 'marketplace/acme'")) == 3


def test_with_a_ready_marker_a_file_waits_until_its_marker_exists(
    engine: Engine, context: Context, inbox: Path
) -> None:
    drop(inbox, "a.jsonl", event(1))
    source = partner(inbox, ready_marker=".ok")

    waiting = run_once(engine, source, context)
    (inbox / "a.jsonl.ok").touch()
    ready = run_once(engine, source, context)

    assert (waiting.read, waiting.accepted) == (0, 0)
    assert (ready.read, ready.accepted) == (1, 1)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.jsonl", "a.jsonl.ok"]


def test_a_file_whose_move_was_lost_after_its_commit_is_moved_not_read_again(
    engine: Engine, context: Context, inbox: Path
) -> None:
    drop(inbox, "a.jsonl", event(1), event(2))
    run_once(engine, partner(inbox), context)
    # as if the process died between the commit and the move: the file is still there
    (inbox / "processed" / "a.jsonl").rename(inbox / "a.jsonl")

    again = run_once(engine, partner(inbox), context)

    assert (again.read, again.accepted, again.duplicate) == (0, 0, 0)
    assert list(inbox.glob("*.jsonl")) == []
    assert len(rows(engine, "SELECT 1 FROM collected_files")) == 1


def test_a_missing_folder_fails_the_run_with_one_line(
    engine: Engine, context: Context, tmp_path: Path
) -> None:
    run = run_once(engine, partner(tmp_path / "nowhere"), context)

    assert run.status == "failed"
    assert run.error is not None and "no folder" in run.error and "\n" not in run.error


def test_a_source_without_a_path_is_refused_when_built() -> None:
    with pytest.raises(SourceError, match="'path'"):
        cloudevents.build(SourceConfig(name="acme", kind="cloudevents"), Context(clock=lambda: NOW))


# --- url mode: a JSON Lines log served over HTTP, read by byte offset ---------------------
class Log:
    """What the partner's endpoint serves: a growing JSON Lines log; 503 while `down`."""

    def __init__(self) -> None:
        self.body = b""
        self.down = False
        self.offsets: list[int] = []


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def log_url(log: Log) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            offset = int(parse_qs(urlsplit(self.path).query).get("offset", ["0"])[0])
            log.offsets.append(offset)
            status, body = (503, b"down") if log.down else (200, log.body[offset:])
            self.send_response(status)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events"
    finally:
        server.shutdown()
        server.server_close()


def test_a_served_log_is_read_by_byte_offset_and_a_half_written_line_waits_for_the_next_run(
    engine: Engine, context: Context, log: Log, log_url: str
) -> None:
    source = SourceConfig(name="acme-feed", kind="cloudevents", options={"url": log_url})
    line = [f"{event(n)}\n".encode() for n in range(1, 5)]
    log.body = line[0] + line[1] + line[2][:20]  # the third line is still being written

    first = run_once(engine, source, context)
    log.body = line[0] + line[1] + line[2] + line[3]
    second = run_once(engine, source, context)
    third = run_once(engine, source, context)

    assert (first.read, first.accepted) == (2, 2)
    assert (second.read, second.accepted) == (2, 2)
    assert (third.read, third.accepted) == (0, 0)
    assert log.offsets == [0, len(line[0] + line[1]), len(log.body)]
    assert read_cursor(engine, "acme-feed") == {"offset": len(log.body)}
    assert len(rows(engine, "SELECT 1 FROM events WHERE source = 'marketplace/acme'")) == 4


def test_a_served_log_that_is_down_fails_the_run_after_retries_and_keeps_the_offset(
    engine: Engine, context: Context, log: Log, log_url: str
) -> None:
    source = SourceConfig(name="acme-feed", kind="cloudevents", options={"url": log_url})
    log.body = f"{event(1)}\n".encode()
    run_once(engine, source, context)
    log.down = True

    run = run_once(engine, source, context, retry=Retry(attempts=2, base=0.0), sleep=lambda _s: None)

    assert run.status == "failed"
    assert run.error is not None and "HTTP 503" in run.error
    assert log.offsets[-2:] == [len(log.body), len(log.body)]  # two attempts from the same offset
    assert read_cursor(engine, "acme-feed") == {"offset": len(log.body)}
