"""A small collector kind for the framework's tests, and the HTTP feed it reads.

`FeedServer` is a real HTTP server on 127.0.0.1 (stdlib, in a thread) serving a list of
records in pages: GET /feed?after=N -> {"records": [...], "next": M, "more": bool}. Faults
are switched on per test: `fail_next` answers the next requests with a status (503...),
`fail_after` answers every request past a record offset with one, `delay` slows answers.

The kind (`kind = "tests.kinds_for_tests"`) reads `options.url`; a record is either a
canonical event (a dict with "specversion": passed as is) or a native order-routed record
{"order": ..., "node": ..., "at": ...}; anything else is unmappable.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy.engine import Connection

from collectors.base import Context, Page, SourceConfig, SourceError, TransientError, Unmappable

# what the kind's optional hooks report to a test: ("settle", conn, page) and ("done", None, page)
Hook = Callable[[str, Connection | None, Page], None]
on_hook: Hook | None = None


class FeedServer:
    def __init__(self, records: list[Any] | None = None, page_size: int = 2) -> None:
        self.records: list[Any] = list(records or [])
        self.page_size = page_size
        self.fail_next: list[int] = []  # statuses for the next requests, in order
        self.fail_after: int | None = None  # every request reading past this offset fails...
        self.fail_status = 503  # ...with this status
        self.delay = 0.0
        self.requests: list[int] = []  # the `after` of each request
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/feed"

    def answer(self, after: int) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            self.requests.append(after)
            if self.fail_next:
                return self.fail_next.pop(0), None
            if self.fail_after is not None and after >= self.fail_after:
                return self.fail_status, None
            chunk = self.records[after : after + self.page_size]
            nxt = after + len(chunk)
            return 200, {"records": chunk, "next": nxt, "more": nxt < len(self.records)}

    def start(self, port: int = 0) -> FeedServer:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                if feed.delay:
                    time.sleep(feed.delay)
                status, body = feed.answer(int(query.get("after", ["0"])[0]))
                payload = json.dumps(body or {"error": "unavailable"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def serving(records: list[Any] | None = None, page_size: int = 2) -> Iterator[FeedServer]:
    server = FeedServer(records, page_size).start()
    try:
        yield server
    finally:
        server.stop()


class FeedCollector:
    def __init__(self, url: str, source: str, timeout: float) -> None:
        self.url, self.source, self.timeout = url, source, timeout

    def fetch(self, cursor: Any) -> Page:
        after = int(cursor or 0)
        try:
            with urllib.request.urlopen(f"{self.url}?after={after}", timeout=self.timeout) as response:
                status, body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise TransientError(f"GET {self.url}: HTTP {exc.code}", http_status=exc.code) from None
            raise SourceError(f"GET {self.url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TransientError(f"GET {self.url}: {exc}") from exc
        return Page(body["records"], body["next"], body["more"], status)

    def settle(self, conn: Connection, page: Page) -> None:
        if on_hook is not None:
            on_hook("settle", conn, page)

    def done(self, page: Page) -> None:
        if on_hook is not None:
            on_hook("done", None, page)

    def to_events(self, record: Any) -> list[dict[str, Any]]:
        if isinstance(record, dict) and record.get("specversion"):
            return [record]
        if not isinstance(record, dict) or not all(k in record for k in ("order", "node", "at")):
            raise Unmappable("a routed order needs order, node and at")
        return [
            {
                "specversion": "1.0",
                "id": f"routed-{record['order']}",
                "source": self.source,
                "type": "retail.order.routed",
                "time": record["at"],
                "subject": record["order"],
                "data": {"order_id": record["order"], "node_id": record["node"]},
            }
        ]


def build(source: SourceConfig, context: Context) -> FeedCollector:
    url = source.options.get("url")
    if not isinstance(url, str):
        raise SourceError(f"source {source.name}: option 'url' is required")
    return FeedCollector(
        url, source.options.get("event_source", "oms"), float(source.options.get("timeout", 5))
    )
