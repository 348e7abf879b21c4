"""The http_api kind against a real HTTP server on 127.0.0.1 (stdlib, in a thread).

The server lists "orders" in both styles the kind knows: an opaque cursor (`/cursor`) and
numbered pages after an id (`/pages`), and answers fixed errors on `/status/<code>`.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from collectors import http, http_api
from collectors.base import Context, Page, SourceConfig, SourceError, TransientError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def order_events(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping the test sources name: one order record -> one routed event."""
    return [
        {
            "specversion": "1.0",
            "id": f"routed-{record['id']}",
            "source": "oms",
            "type": "retail.order.routed",
            "time": "2026-11-20T10:00:00+00:00",
            "data": {"order_id": f"ORD-{record['id']}", "node_id": "DC-EAST"},
        }
    ]


class Listing:
    """The server's state: the records, and every request it answered."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def add(self, count: int) -> None:
        start = len(self.records) + 1
        self.records += [{"id": n, "sku": f"SKU-{n}"} for n in range(start, start + count)]


def _handler(listing: Listing) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            listing.requests.append((parts.path, query, dict(self.headers)))
            if parts.path.startswith("/status/"):
                self._send(int(parts.path.rsplit("/", 1)[1]), {"error": "as asked"})
            elif parts.path == "/cursor":
                offset = int(query.get("cursor", "0"))
                items = listing.records[offset : offset + int(query["limit"])]
                end = offset + len(items)
                self._send(
                    200,
                    {"items": items, "next_cursor": str(end), "has_more": end < len(listing.records)},
                )
            elif parts.path == "/pages":
                since = int(query.get("since_id", "0"))
                size, page = int(query["per_page"]), int(query["page"])
                after = [r for r in listing.records if r["id"] > since]
                data = after[(page - 1) * size : page * size]
                self._send(200, {"data": data, "page": page, "total_pages": math.ceil(len(after) / size)})
            else:
                self._send(404, {"error": "no such listing"})

    return Handler


@pytest.fixture
def listing() -> Listing:
    return Listing()


@pytest.fixture
def api(listing: Listing) -> Iterator[str]:
    """The base URL of the server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(listing))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _collector(url: str, **options: Any) -> http_api.HttpApiCollector:
    source = SourceConfig(
        name="oms-orders",
        kind="http_api",
        options={"url": url, **options},
        mapping="tests.test_kind_http_api:order_events",
    )
    collector = http_api.build(source, Context(clock=lambda: NOW))
    assert isinstance(collector, http_api.HttpApiCollector)
    return collector


def _read_all(collector: http_api.HttpApiCollector, cursor: Any) -> tuple[list[Any], Any, int]:
    """Fetch until no more pages wait, as the runner does; returns records, cursor, pages."""
    records: list[Any] = []
    pages = 0
    while True:
        page: Page = collector.fetch(cursor)
        pages += 1
        records += page.records
        cursor = page.next_cursor
        if not page.more:
            return records, cursor, pages


def test_a_cursor_listing_is_read_across_pages_and_its_last_cursor_kept(api: str, listing: Listing) -> None:
    listing.add(12)
    collector = _collector(f"{api}/cursor", page_size=5)

    records, cursor, pages = _read_all(collector, None)

    assert [r["id"] for r in records] == list(range(1, 13))
    assert pages == 3  # 5 + 5 + 2
    assert cursor == "12"
    assert "cursor" not in listing.requests[0][1]  # no cursor the first time
    assert listing.requests[0][1]["limit"] == "5"
    assert collector.to_events(records[0])[0]["data"] == {"order_id": "ORD-1", "node_id": "DC-EAST"}


def test_records_added_to_a_cursor_listing_between_runs_are_read_next_run_and_none_twice(
    api: str, listing: Listing
) -> None:
    listing.add(7)
    collector = _collector(f"{api}/cursor", page_size=5)
    first, cursor, _ = _read_all(collector, None)
    listing.add(4)

    second, cursor, _ = _read_all(collector, cursor)
    third, cursor, _ = _read_all(collector, cursor)

    assert [r["id"] for r in first] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["id"] for r in second] == [8, 9, 10, 11]
    assert third == []
    assert cursor == "11"


def test_without_has_more_a_cursor_listing_stops_when_a_page_comes_back_empty(
    api: str, listing: Listing
) -> None:
    listing.add(3)
    collector = _collector(f"{api}/cursor", page_size=2)
    collector.options["next_field"] = "next_cursor"

    class NoHasMore:
        def get(
            self, url: str, params: Any = None, headers: Any = None, timeout: float = 10.0
        ) -> tuple[int, bytes]:
            status, body = http.get(url, params, headers, timeout)
            document = json.loads(body)
            del document["has_more"]
            return status, json.dumps(document).encode()

    collector.http = NoHasMore()

    records, cursor, pages = _read_all(collector, None)

    assert [r["id"] for r in records] == [1, 2, 3]
    assert pages == 3  # 2, then 1, then an empty page whose cursor did not move
    assert cursor == "3"


def test_a_paged_listing_reads_every_page_after_the_same_id_then_moves_past_the_largest_id(
    api: str, listing: Listing
) -> None:
    listing.add(7)
    collector = _collector(f"{api}/pages", style="page", page_size=3)

    first = collector.fetch(None)
    records, cursor, pages = _read_all(collector, first.next_cursor)

    assert first.more and first.next_cursor["page"] == 2
    assert [r["id"] for r in [*first.records, *records]] == [1, 2, 3, 4, 5, 6, 7]
    assert pages == 2  # pages 2 and 3 after the first
    assert cursor == {"since_id": 7, "page": 1}
    assert [q.get("since_id") for _, q, _ in listing.requests] == [None, None, None]
    assert [q["page"] for _, q, _ in listing.requests] == ["1", "2", "3"]


def test_records_added_to_a_paged_listing_are_read_next_run_and_none_twice(
    api: str, listing: Listing
) -> None:
    listing.add(4)
    collector = _collector(f"{api}/pages", style="page", page_size=3)
    first, cursor, _ = _read_all(collector, None)
    listing.add(5)

    second, cursor, _ = _read_all(collector, cursor)
    third, cursor, _ = _read_all(collector, cursor)

    assert [r["id"] for r in first] == [1, 2, 3, 4]
    assert [r["id"] for r in second] == [5, 6, 7, 8, 9]
    assert third == []
    assert cursor == {"since_id": 9, "page": 1}
    assert listing.requests[-1][1]["since_id"] == "9"


def test_an_empty_paged_listing_leaves_the_cursor_where_it_was(api: str) -> None:
    collector = _collector(f"{api}/pages", style="page")

    page = collector.fetch({"since_id": 40, "page": 1})

    assert page.records == [] and not page.more
    assert page.next_cursor == {"since_id": 40, "page": 1}


def test_a_header_written_as_an_environment_reference_is_sent_with_its_value(
    api: str, listing: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_TOKEN", "s3cret")
    collector = _collector(f"{api}/cursor", headers={"Authorization": "Bearer ${OMS_TOKEN}"})

    collector.fetch(None)

    assert listing.requests[0][2]["Authorization"] == "Bearer s3cret"


def test_a_header_naming_an_unset_environment_variable_is_a_source_error(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_TOKEN_UNSET", raising=False)
    collector = _collector(f"{api}/cursor", headers={"Authorization": "Bearer ${OMS_TOKEN_UNSET}"})

    with pytest.raises(SourceError, match="OMS_TOKEN_UNSET is not set") as caught:
        collector.fetch(None)
    assert not isinstance(caught.value, TransientError)


@pytest.mark.parametrize("code", [503, 429, 500])
def test_a_server_error_or_too_many_requests_is_transient_with_its_status(api: str, code: int) -> None:
    collector = _collector(f"{api}/status/{code}")

    with pytest.raises(TransientError) as caught:
        collector.fetch(None)

    assert caught.value.http_status == code
    assert f"HTTP {code}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_refused_connection_is_transient(api: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = _collector(f"http://127.0.0.1:{port}/cursor")

    with pytest.raises(TransientError, match="connection refused") as caught:
        collector.fetch(None)

    assert caught.value.http_status is None


def test_a_server_that_does_not_answer_in_time_is_transient() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        collector = _collector(f"http://127.0.0.1:{silent.getsockname()[1]}/cursor", timeout_seconds=0.3)

        with pytest.raises(TransientError, match="no answer within 0.3 s"):
            collector.fetch(None)


def test_a_missing_listing_is_a_source_error_not_retried(api: str) -> None:
    collector = _collector(f"{api}/no-such-listing")

    with pytest.raises(SourceError, match="HTTP 404") as caught:
        collector.fetch(None)

    assert not isinstance(caught.value, TransientError)


def test_an_answer_without_the_items_field_is_a_source_error(api: str) -> None:
    collector = _collector(f"{api}/cursor", items_field="orders")

    with pytest.raises(SourceError, match="no list 'orders'"):
        collector.fetch(None)


def test_a_source_without_a_url_or_with_an_unknown_style_is_refused_when_built() -> None:
    context = Context(clock=lambda: NOW)
    with pytest.raises(SourceError, match="'url'"):
        http_api.build(SourceConfig(name="x", kind="http_api", mapping="m:f"), context)
    with pytest.raises(SourceError, match="'style'"):
        http_api.build(
            SourceConfig(name="x", kind="http_api", options={"url": "http://h/", "style": "offset"}),
            context,
        )


def test_params_are_added_to_a_url_that_has_a_query_already() -> None:
    assert http.with_params("http://h/o?region=EU", {"cursor": "a b", "limit": 5, "skip": None}) == (
        "http://h/o?region=EU&cursor=a+b&limit=5"
    )
