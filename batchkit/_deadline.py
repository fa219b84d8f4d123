"""A real deadline for one call: every socket read and write inside it is bounded by the time
the call has left, so a server that trickles bytes cannot stretch a call past its budget.

httpx bounds each socket operation by `timeout`, but a server that sends one byte every
`timeout - ε` seconds never trips it. httpcore's documented seam for this is the network
backend: `DeadlineBackend` wraps the real one and clamps each operation's timeout to what
is left of the current call's deadline (a context variable, so each thread has its own).
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

#: the monotonic time the current call must end by (None: no deadline)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "batchkit_deadline", default=None
)


def remaining() -> float | None:
    """Seconds left before the current call's deadline (None without one; may be <= 0)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def deadline(at: float | None) -> Iterator[None]:
    """Run the block under the monotonic deadline `at` (None: no deadline)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's time budget (retry_timeout) ran out")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """A network backend whose connects, reads and writes end by the call's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(
            self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's own transport, its connection pool on a `DeadlineBackend`.

    httpx does not pass a network backend through, so the pool's backend is wrapped in
    place; `tests/client/test_deadline.py` fails loudly if an httpx release moves it.
    """
    result = httpx.HTTPTransport(limits=limits)
    pool = result._pool
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return result
