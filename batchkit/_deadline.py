"""A real deadline for one call: every socket read and write inside it is bounded by the time
the call has left, so a server that trickles bytes cannot stretch a call past its budget.

httpx bounds each socket operation by `timeout`, but a server that sends one byte every
`timeout - ε` seconds never trips it. httpcore's documented seam for this is the network
backend: `DeadlineBackend` wraps the real one and clamps each operation's timeout to what
is left of the current call's deadline (a context variable, so each thread has its own).
"""

from __future__ import annotations

import contextvars
import itertools
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from ._network import Network

#: the first events of a request once it has a connection: time before them was spent
#: queueing for one of the pool's connections
_CONNECTED = frozenset(
    {
        "connection.connect_tcp.started",
        "connection.connect_unix_socket.started",
        "http11.send_request_headers.started",
        "http2.send_request_headers.started",
    }
)


class Budget:
    """One call's deadline, in monotonic seconds.

    Time a request spends queueing for a pooled connection does not use it up: that is our
    own concurrency (a bulk upload may queue more requests than the pool has connections),
    not the server being slow. httpcore's `trace` extension tells when the wait ends.
    """

    def __init__(self, at: float) -> None:
        self.at = at
        self._queued_since: float | None = None

    def remaining(self) -> float:
        """Seconds left (may be <= 0)."""
        return self.at - time.monotonic()

    def attempt(self, request: httpx.Request, *, is_async: bool = False) -> None:
        """`request` is about to be sent: count the time until it has a connection back
        (httpcore wants a coroutine function for the trace of an async request)."""
        self._queued_since = time.monotonic()
        request.extensions["trace"] = self._atrace if is_async else self._trace

    def waited(self, seconds: float) -> None:
        """`seconds` were spent queueing for a connection: they do not count (a transport
        without httpcore's trace says so itself)."""
        self.at += seconds

    async def _atrace(self, event: str, info: dict[str, Any]) -> None:
        self._trace(event, info)

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if self._queued_since is not None and event in _CONNECTED:
            self.at += time.monotonic() - self._queued_since
            self._queued_since = None


#: the budget of the call running in this thread (None: no deadline)
_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "batchkit_budget", default=None
)


def current() -> Budget | None:
    """The budget of the call running in this thread, if it has one."""
    return _budget.get()


def remaining() -> float | None:
    """Seconds left before the current call's deadline (None without one; may be <= 0)."""
    budget = _budget.get()
    return None if budget is None else budget.remaining()


@contextmanager
def deadline(budget: Budget | None) -> Iterator[None]:
    """Run the block under `budget` (None: no deadline)."""
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)


def clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` for one socket operation, shortened to what is left of the current call's
    deadline; `error` raised if nothing is left."""
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
        return self._stream.read(max_bytes, clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = clamp(timeout, httpcore.ConnectTimeout)
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
        timeout = clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(
            self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: Any = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, clamp(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, clamp(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = clamp(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        # the pool asks every idle connection whether its socket is readable (the server
        # closed it) before each request; anyio builds its whole attribute table to find the
        # socket each time: a fifth of the async client's CPU in a bulk upload (benchmark
        # B6). The socket of a stream never changes, so it is looked up once.
        if info not in ("socket", "is_readable"):
            return self._stream.get_extra_info(info)
        if self._socket is None:
            self._socket = self._stream.get_extra_info("socket")
        if info == "socket" or self._socket is None:
            return self._socket if info == "socket" else self._stream.get_extra_info(info)
        return is_socket_readable(self._socket)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """`DeadlineBackend` for the async client (the budget is a context variable: each task
    has its own)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = clamp(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = clamp(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


#: connections per shard of the default transport (see `Shards`)
SHARD_CONNECTIONS = 4


class Shards(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """httpx transports side by side, each request sent by the next one in turn.

    httpcore's pool looks at every connection for every queued request each time a request
    starts or ends: with 16 requests in flight on 16 connections that is ~500 idle checks
    per request, a third of a small upload's client CPU (profiled, docs/benchmarks.md). Pools
    of `SHARD_CONNECTIONS` keep each scan short; the total stays `max_connections`, and a
    shard's pool still queues, reuses and closes its connections as httpx does.
    """

    def __init__(self, shards: list[Any]) -> None:
        self.shards = shards
        self._turn = itertools.count()  # next() is atomic: threads take turns without a lock

    def _next(self) -> Any:
        return self.shards[next(self._turn) % len(self.shards)]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self._next().handle_request(request)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self._next().handle_async_request(request)
        return response

    def close(self) -> None:
        for shard in self.shards:
            shard.close()

    async def aclose(self) -> None:
        for shard in self.shards:
            await shard.aclose()


def _split(limits: httpx.Limits) -> tuple[int, httpx.Limits]:
    """How many shards, and each one's limits: `limits` divided among them."""
    total = limits.max_connections or SHARD_CONNECTIONS
    count = max(1, total // SHARD_CONNECTIONS)
    keep = limits.max_keepalive_connections
    return count, httpx.Limits(
        max_connections=max(1, total // count),
        max_keepalive_connections=None if keep is None else max(1, keep // count),
        keepalive_expiry=limits.keepalive_expiry,
    )


def _shards(kind: Any, backend: Any, limits: httpx.Limits, network: Network | None) -> Shards:
    """`Shards` of httpx transports of class `kind`, each pool's network backend wrapped in
    `backend` (httpx does not pass one through, so it is wrapped in place;
    `test_the_deadline_backend_is_installed_on_the_default_transport`, in
    tests/client/test_hardening.py, fails loudly if an httpx release moves it)."""
    count, each = _split(limits)
    network = network or Network()
    shards = []
    for _ in range(count):
        shard = kind(limits=each, verify=network.verify, proxy=network.proxy)
        pool = shard._pool
        pool._network_backend = backend(pool._network_backend)
        shards.append(shard)
    return Shards(shards)


def async_transport(limits: httpx.Limits, network: Network | None = None) -> Shards:
    """`transport`, for the async client: pools on an `AsyncDeadlineBackend`."""
    return _shards(httpx.AsyncHTTPTransport, AsyncDeadlineBackend, limits, network)


def transport(limits: httpx.Limits, network: Network | None = None) -> Shards:
    """httpx's own transports (`Shards` of them, through `network`'s proxy and TLS), their
    connection pools on a `DeadlineBackend`."""
    return _shards(httpx.HTTPTransport, DeadlineBackend, limits, network)
