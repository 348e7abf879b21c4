"""A small HTTP GET client on the standard library, with the collector error rules.

`get(url, params, headers, timeout) -> (status, body)` for a 2xx answer. Errors are one
line and say whether retrying may help:

- connection refused, timeout, another network failure, HTTP 5xx or 429 -> `TransientError`
  (with `http_status` when there was an answer);
- any other HTTP 4xx, or a URL that cannot be requested -> `SourceError`.

A kind takes `context.http` when given (an object with the same `get`), else this module.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from collectors.base import SourceError, TransientError

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class HttpClient(Protocol):
    """What a kind needs from an HTTP client: this module, or a test's replacement."""

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, bytes]: ...


def expand_environment(value: str, what: str) -> str:
    """`value` with every "${NAME}" replaced by the environment variable NAME."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SourceError(f"{what}: the environment variable {name} is not set")
        return os.environ[name]

    return _ENV_REFERENCE.sub(lookup, value)


def with_params(url: str, params: Mapping[str, Any] | None) -> str:
    """`url` with `params` added to its query string (None values left out)."""
    pairs = [(name, str(value)) for name, value in (params or {}).items() if value is not None]
    if not pairs:
        return url
    parts = urllib.parse.urlsplit(url)
    query = "&".join(q for q in (parts.query, urllib.parse.urlencode(pairs)) if q)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def display_url(url: str) -> str:
    """The URL for a message: without credentials and query string."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def get(
    url: str,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """GET `url` with `params`; returns (status, body) for a 2xx answer, else raises."""
    full = with_params(url, params)
    shown = display_url(url)
    try:
        request = urllib.request.Request(full, headers=dict(headers or {}), method="GET")
    except ValueError as exc:
        raise SourceError(f"GET {shown}: bad URL ({exc})") from None
    if request.type not in ("http", "https"):
        raise SourceError(f"GET {shown}: only http and https URLs can be read")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the scheme is checked above
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        message = f"GET {shown}: HTTP {status} {exc.reason}".rstrip()
        if status >= 500 or status == 429:
            raise TransientError(message, http_status=status) from None
        raise SourceError(message, http_status=status) from None
    except TimeoutError:
        raise TransientError(f"GET {shown}: no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise TransientError(f"GET {shown}: no answer within {timeout:g} s") from None
        if isinstance(reason, ConnectionRefusedError):
            raise TransientError(f"GET {shown}: connection refused") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise TransientError(f"GET {shown}: {text}") from None
    except (OSError, http.client.HTTPException) as exc:  # reset or closed mid-answer
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise TransientError(f"GET {shown}: {text}") from None
