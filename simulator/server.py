"""The simulated systems' HTTP face (stdlib ThreadingHTTPServer on 127.0.0.1).

    GET  /oms/api/v2/order-events?cursor=&limit=      {"items", "next_cursor", "has_more"}
    GET  /wms/v1/transactions?since_id=&page=&per_page= {"data", "page", "per_page", "total_pages", "total"}
    GET  /middleware/calls?cursor=&limit=             {"items", "next_cursor", "has_more"}
    POST /oms/api/v2/commands, /wms/v1/commands, /control/commands
         {"command_id", "kind", ...} -> 202 accepted | 409 duplicate | 422 rejected (with "reason")
    GET|POST|DELETE /control/faults                   the faults in force (see simulator.faults)
    GET  /control/status, /health

Cursors are the feed's sequence number as text ("" or absent: from the start). A WMS
listing covers at most 100,000 transactions after `since_id` (`total` says how many);
the rest wait for a listing from a later id, as with the real thing.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import orjson
from sqlalchemy.engine import Engine

from simulator.faults import FaultBoard, parse_fault
from simulator.storage import sim_sql

MAX_LIMIT = 5000
DEFAULT_LIMIT = 100
WMS_WINDOW = 25_000  # a WMS listing covers at most this many transactions after since_id (bounded OFFSET)
COMMAND_PATHS = {"/oms/api/v2/commands": "oms", "/wms/v1/commands": "wms", "/control/commands": "control"}
SYSTEM_PREFIXES = (("/oms/", "oms"), ("/wms/", "wms"), ("/middleware/", "middleware"))


class Backend(Protocol):
    """What the server needs from the simulator."""

    engine: Engine
    faults: FaultBoard

    @property
    def now(self) -> datetime: ...

    def apply_command(self, system: str, body: Any) -> tuple[int, dict[str, Any]]: ...

    def status(self) -> dict[str, Any]: ...


class BadRequest(ValueError):
    pass


def _int_param(query: dict[str, list[str]], name: str, default: int, low: int, high: int | None) -> int:
    values = query.get(name)
    if not values or values[0] == "":
        return default
    text = values[0]
    if not text.isdigit():
        raise BadRequest(f"{name} must be a whole number, got {text!r}")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise BadRequest(
            f"{name} must be between {low} and {high if high is not None else 'any'}, got {value}"
        )
    return value


def cursor_page(engine: Engine, feed: str, query: dict[str, list[str]]) -> bytes:
    after = _int_param(query, "cursor", 0, 0, None)
    limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    with engine.connect() as conn:
        rows = conn.execute(sim_sql(f"{feed}_page"), {"after": after, "limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(rows[-1].seq) if rows else (str(after) if after else "")
    items = ",".join(r.body for r in rows)
    tail = orjson.dumps({"next_cursor": next_cursor, "has_more": more}).decode()[1:]
    return f'{{"items":[{items}],{tail}'.encode()


def wms_page(engine: Engine, query: dict[str, list[str]]) -> bytes:
    since = _int_param(query, "since_id", 0, 0, None)
    page = _int_param(query, "page", 1, 1, None)
    per_page = _int_param(query, "per_page", DEFAULT_LIMIT, 1, MAX_LIMIT)
    skip = (page - 1) * per_page
    params = {"since_id": since, "skip": skip, "per_page": max(0, min(per_page, WMS_WINDOW - skip))}
    with engine.connect() as conn:
        counted = conn.execute(sim_sql("wms_transactions_count"), {"since_id": since, "cap": WMS_WINDOW})
        total = int(counted.scalar_one())
        rows = conn.execute(sim_sql("wms_transactions_page"), params).all()
    data = ",".join(r.body for r in rows)
    meta = {"page": page, "per_page": per_page, "total_pages": -(-total // per_page), "total": total}
    return f'{{"data":[{data}],{orjson.dumps(meta).decode()[1:]}'.encode()


def make_handler(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ctower-sim/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return None

        def _send(self, status: int, body: bytes | dict[str, Any] | list[Any], **headers: str) -> None:
            payload = body if isinstance(body, bytes) else orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, status: int, reason: str, **headers: str) -> None:
            self._send(status, {"error": reason}, **headers)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw.strip():
                return None
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise BadRequest("the body is not JSON") from None

        def _faulted(self, path: str) -> bool:
            """Apply `slow` and `down` to the system the path belongs to; True when answered."""
            for prefix, system in SYSTEM_PREFIXES:
                if path.startswith(prefix):
                    now = backend.now
                    slow = backend.faults.active("slow", system, now)
                    if slow:
                        time.sleep(slow.ms / 1000)
                    if backend.faults.active("down", system, now):
                        self._error(
                            HTTPStatus.SERVICE_UNAVAILABLE,
                            f"{system} is unavailable (simulated outage)",
                            Retry_After="30",
                        )
                        return True
            return False

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            path, query = url.path.rstrip("/") or "/", parse_qs(url.query, keep_blank_values=True)
            try:
                if self._faulted(path + "/"):
                    return
                self._route(method, path, query)
            except BadRequest as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
            except Exception as exc:  # the simulator's own failure: one line, a 500
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}"[:300])

        def _route(self, method: str, path: str, query: dict[str, list[str]]) -> None:
            engine = backend.engine
            if method == "GET" and path == "/oms/api/v2/order-events":
                self._send(200, cursor_page(engine, "oms_events", query))
            elif method == "GET" and path == "/wms/v1/transactions":
                self._send(200, wms_page(engine, query))
            elif method == "GET" and path == "/middleware/calls":
                self._send(200, cursor_page(engine, "mw_calls", query))
            elif method == "POST" and path in COMMAND_PATHS:
                status, answer = backend.apply_command(COMMAND_PATHS[path], self._body())
                self._send(status, answer)
            elif path == "/control/faults":
                self._faults(method, query)
            elif method == "GET" and path == "/control/status":
                self._send(200, backend.status())
            elif method == "GET" and path == "/health":
                self._send(200, {"status": "ok", "now": backend.now.isoformat()})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {method} {path}")

        def _faults(self, method: str, query: dict[str, list[str]]) -> None:
            faults = backend.faults
            if method == "GET":
                self._send(200, {"faults": [f.as_dict() for f in faults.list()]})
            elif method == "POST":
                body = self._body()
                if not isinstance(body, dict):
                    raise BadRequest('expected a JSON object like {"fault": "down", "target": "oms"}')
                try:
                    fault = parse_fault(body, backend.now)
                except ValueError as exc:
                    self._error(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
                    return
                faults.set(fault)
                self._send(200, {"status": "set", "fault": fault.as_dict()})
            elif method == "DELETE":
                body = self._body() or {}
                kind = (query.get("fault") or [""])[0] or body.get("fault")
                target = (query.get("target") or [""])[0] or body.get("target")
                self._send(200, {"status": "cleared", "cleared": faults.clear(kind, target)})
            else:
                self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on /control/faults")

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


class SimServer:
    """The HTTP server in a background thread; `port=0` picks a free port."""

    def __init__(self, backend: Backend, port: int = 0, host: str = "127.0.0.1") -> None:
        self.httpd = ThreadingHTTPServer((host, port), make_handler(backend))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sim-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
