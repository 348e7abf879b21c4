"""The `http_api` kind: a JSON listing over HTTP, read page by page, incrementally.

Options (`[sources.options]`):

- `url`: the full URL of the listing; `style`: "cursor" (default) or "page";
- `page_size` (500), `timeout_seconds` (10), `headers` (a table; a value "${NAME}" is read
  from the environment variable NAME when the source is read), `items_field`.

cursor style: GET `url?{cursor_param}=<cursor>&{limit_param}=<page_size>` (no cursor the
first time). Defaults: cursor_param "cursor", limit_param "limit", items_field "items",
next_field "next_cursor", more_field "has_more". More pages wait when the answer's
`has_more` is true; without that field, when items came and the next cursor moved. The source's cursor is the
answer's next cursor (the old one when the answer has none).

page style: the API lists records by increasing id, after `since_id`:
GET `url?{since_param}=<last id>&{page_param}=<n>&{size_param}=<page_size>`. Defaults:
since_param "since_id", page_param "page", size_param "per_page", items_field "data",
pages_field "total_pages", id_field "id". Pages 1..total_pages are read with the same
since_id (the cursor is {"since_id", "page", "max_id"} meanwhile); after the last page the
cursor becomes {"since_id": the largest id seen, "page": 1}.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from collectors.base import Collector, Context, Cursor, Page, SourceConfig, SourceError
from collectors.http import HttpClient, display_url, expand_environment

ToEvents = Callable[[Any], list[dict[str, Any]]]


def _json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"GET {url}: the answer is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise SourceError(f"GET {url}: the answer is not a JSON object")
    return document


def _items(document: dict[str, Any], items_field: str, url: str) -> list[Any]:
    items = document.get(items_field)
    if not isinstance(items, list):
        raise SourceError(f"GET {url}: the answer has no list {items_field!r}")
    return items


@dataclass
class HttpApiCollector:
    """Reads one JSON listing; `to_events` is the source's mapping."""

    source: str
    url: str
    http: HttpClient
    to_events: ToEvents
    style: str = "cursor"
    page_size: int = 500
    timeout: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def _option(self, name: str, default: str) -> str:
        return str(self.options.get(name, default))

    def _get(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        headers = {
            name: expand_environment(str(value), f"source {self.source}: header {name}")
            for name, value in self.headers.items()
        }
        status, body = self.http.get(self.url, params, headers, self.timeout)
        return status, _json_object(body, display_url(self.url))

    def fetch(self, cursor: Cursor) -> Page:
        if self.style == "page":
            return self._fetch_page(cursor)
        return self._fetch_cursor(cursor)

    def _fetch_cursor(self, cursor: Cursor) -> Page:
        params = {self._option("cursor_param", "cursor"): cursor}
        params[self._option("limit_param", "limit")] = self.page_size
        status, document = self._get(params)
        items = _items(document, self._option("items_field", "items"), display_url(self.url))
        next_cursor = document.get(self._option("next_field", "next_cursor"))
        has_more = document.get(self._option("more_field", "has_more"))
        if isinstance(has_more, bool):
            more = has_more
        else:
            more = bool(items) and next_cursor is not None and next_cursor != cursor
        return Page(items, cursor if next_cursor is None else next_cursor, more, status)

    def _fetch_page(self, cursor: Cursor) -> Page:
        state = cursor if isinstance(cursor, dict) else {}
        since_id = state.get("since_id")
        page = int(state.get("page") or 1)
        max_id = state.get("max_id", since_id)
        params = {
            self._option("since_param", "since_id"): since_id,
            self._option("page_param", "page"): page,
            self._option("size_param", "per_page"): self.page_size,
        }
        status, document = self._get(params)
        items = _items(document, self._option("items_field", "data"), display_url(self.url))
        id_field = self._option("id_field", "id")
        ids = [item[id_field] for item in items if isinstance(item, dict) and item.get(id_field) is not None]
        if ids:
            max_id = max(ids) if max_id is None else max(max_id, *ids)
        total_pages = document.get(self._option("pages_field", "total_pages"))
        if not isinstance(total_pages, int) or isinstance(total_pages, bool):
            pages_field = self._option("pages_field", "total_pages")
            raise SourceError(f"GET {display_url(self.url)}: the answer has no whole number {pages_field!r}")
        if items and page < total_pages:
            return Page(items, {"since_id": since_id, "page": page + 1, "max_id": max_id}, True, status)
        return Page(items, {"since_id": max_id, "page": 1}, False, status)


def _mapping_function(source: SourceConfig) -> ToEvents:
    from collectors.mapping import resolve_mapping  # imported on use, by the kinds that map

    return resolve_mapping(source.mapping)


def build(source: SourceConfig, context: Context) -> Collector:
    """The collector of an `http_api` source (raises SourceError on a bad option)."""
    options = dict(source.options)
    url = options.get("url")
    if not isinstance(url, str) or not url:
        raise SourceError(f"source {source.name}: option 'url' (the listing's full URL) is required")
    style = options.get("style", "cursor")
    if style not in ("cursor", "page"):
        raise SourceError(f"source {source.name}: option 'style' must be 'cursor' or 'page', not {style!r}")
    headers = options.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise SourceError(f"source {source.name}: option 'headers' must be a table of names to values")
    try:
        page_size = int(options.get("page_size", 500))
        timeout = float(options.get("timeout_seconds", 10))
    except (TypeError, ValueError):
        raise SourceError(
            f"source {source.name}: 'page_size' and 'timeout_seconds' must be numbers"
        ) from None
    if page_size < 1 or timeout <= 0:
        raise SourceError(f"source {source.name}: 'page_size' and 'timeout_seconds' must be positive")
    if context.http is not None:
        http: HttpClient = context.http
    else:
        from collectors import http as stdlib_http

        http = stdlib_http  # the module is a client: it has `get`
    return HttpApiCollector(
        source=source.name,
        url=url,
        http=http,
        to_events=_mapping_function(source),
        style=style,
        page_size=page_size,
        timeout=timeout,
        headers={str(k): str(v) for k, v in headers.items()},
        options=options,
    )
