"""POST a JSON command on the standard library: (status, body) for any HTTP answer;
network failures (refused, timeout, reset) raise OSError. Tests pass their own client."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Protocol


class PostClient(Protocol):
    def post(self, url: str, body: bytes, timeout: float) -> tuple[int, bytes]: ...


class UrllibClient:
    def post(self, url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return int(answer.status), answer.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
