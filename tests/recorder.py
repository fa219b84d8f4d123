"""A recording httpx MockTransport shared by the client and reliability tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that records every request (body read) and answers with `handler`."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = handler or (lambda request: httpx.Response(599))
        self._lock = threading.Lock()
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
        return self.handler(request)

    def clear(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self.requests.clear()

    @property
    def lines(self) -> list[tuple[str, str]]:
        """(method, raw path) of every request, in order."""
        return [(r.method, r.url.raw_path.decode()) for r in self.requests]
