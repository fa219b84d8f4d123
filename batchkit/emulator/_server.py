"""Serving the emulator with uvicorn: in a background thread, or in the foreground (the CLI)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from batchkit.emulator._app import ConnectionAborted

_Peer = tuple[str, int]


class _AbortingApp:
    """Wraps the root app: on ``ConnectionAborted``, close that client's socket unanswered.

    ASGI has no "close the connection" message, so the server protocol below keeps a map from
    each client's address (``scope["client"]``) to its transport.
    """

    def __init__(self, app: ASGIApp, transports: dict[_Peer, asyncio.Transport]) -> None:
        self._app = app
        self._transports = transports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._app(scope, receive, send)
        except ConnectionAborted:
            client = scope.get("client")
            transport = self._transports.get(tuple(client)) if client else None
            if transport is not None:
                transport.close()
                # let connection_lost run, so uvicorn sees the disconnect and sends nothing
                for _ in range(3):
                    await asyncio.sleep(0)


def _protocol_class(transports: dict[_Peer, asyncio.Transport]) -> type[H11Protocol]:
    class _Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self.client is not None:
                transports[self.client] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self.client is not None and transports.get(self.client) is self.transport:
                del transports[self.client]
            super().connection_lost(exc)

    return _Protocol


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket."""
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def make_config(app: ASGIApp, **options: Any) -> uvicorn.Config:
    """A uvicorn config for the emulator app, able to drop connections on demand."""
    transports: dict[_Peer, asyncio.Transport] = {}
    return uvicorn.Config(
        _AbortingApp(app, transports),
        http=_protocol_class(transports),
        lifespan="off",
        **options,
    )


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self._ready.set()


class BackgroundServer:
    """uvicorn serving an ASGI app on a loopback socket from a daemon thread."""

    def __init__(self, app: ASGIApp, *, host: str, port: int) -> None:
        self._sock = bind(host, port)
        self.url = base_url(self._sock)
        self._ready = threading.Event()
        config = make_config(app, log_config=None, access_log=False, timeout_graceful_shutdown=2)
        self._server = _Server(config, self._ready)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"batchkit-emulator {self.url}",
            daemon=True,
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; return once the server accepts connections."""
        self._thread.start()
        if not self._ready.wait(timeout) or not self._server.started:
            self.stop()
            raise RuntimeError(f"the batchkit emulator did not start on {self.url}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread (bounded: forced after ``timeout`` seconds)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._sock.close()
