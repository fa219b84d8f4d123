"""httpx's own transports, as batchkit uses them where httpcore sends: the async client, and
the blocking one when a proxy is set or a test library has patched httpx (`_pools`).

Two things are added to them. The call's deadline (`_deadline`) bounds every connect, read
and write: httpcore's documented seam for that is the network backend, which
`DeadlineBackend` wraps. And the pool is split into `Shards`, so that httpcore's scan of
every connection per queued request stays short.

Imported only when one of these transports is made: httpcore imports trio and anyio when
they are installed.
"""

from __future__ import annotations

import itertools
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from ._deadline import clamp
from ._network import Network


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
