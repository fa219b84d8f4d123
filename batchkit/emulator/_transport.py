"""In-process httpx transports that run the emulator's ASGI app without a socket."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from batchkit.emulator._app import ConnectionAborted

_QUEUE_SIZE = 16
_NO_RESPONSE = "Server disconnected without sending a response."
_TRUNCATED = "peer closed connection without sending complete message body"


class LoopThread:
    """A private asyncio event loop in a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        """The running loop, starting it if needed."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="batchkit-emulator-transport", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Stop the loop and join its thread (bounded)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()


class _Exchange:
    """One request/response exchange between a sync caller and the app on the loop."""

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop, request: httpx.Request):
        self._loop = loop
        self._request = request
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._disconnected = asyncio.Event()
        self._body_done = False
        self._chunks: Iterator[bytes]
        try:
            self._chunks = iter([request.content])
            self._in_memory = True
        except httpx.RequestNotRead:
            self._chunks = iter(request.stream)  # type: ignore[arg-type]
            self._in_memory = False
        timeout = request.extensions.get("timeout", {})
        self._read_timeout: float | None = timeout.get("read")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?", 1)[0],
            "query_string": request.url.query,
            "root_path": "",
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 0),
        }
        # in a fresh context: the caller's (a trio program's, say) would otherwise be copied
        # into the emulator's asyncio task, and sniffio there would report the caller's
        # async library instead of asyncio (file answers then failed with a 500)
        self._future: concurrent.futures.Future[None] = contextvars.Context().run(
            asyncio.run_coroutine_threadsafe, self._run(app, scope), loop
        )

    async def _run(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self._receive, self._send)
        except ConnectionAborted:
            await self._queue.put(("abort", None))
        except Exception as exc:
            await self._queue.put(("error", exc))
        else:
            await self._queue.put(("end", None))

    async def _receive(self) -> Message:
        if self._body_done:
            await self._disconnected.wait()
            return {"type": "http.disconnect"}
        if self._in_memory:
            chunk = next(self._chunks, None)
        else:
            chunk = await asyncio.to_thread(next, self._chunks, None)
        if chunk is None:
            self._body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": bytes(chunk), "more_body": True}

    async def _send(self, message: Message) -> None:
        await self._queue.put(("message", message))

    def next_event(self) -> tuple[str, Any]:
        """Block for the app's next event: ``message``, ``abort``, ``error`` or ``end``."""
        future = asyncio.run_coroutine_threadsafe(self._queue.get(), self._loop)
        try:
            return future.result(self._read_timeout)
        except TimeoutError:
            future.cancel()
            self.close()
            message = "timed out waiting for the emulator"
            raise httpx.ReadTimeout(message, request=self._request) from None

    def close(self) -> None:
        """The client is done: tell the app it disconnected and stop it if still running."""
        self._loop.call_soon_threadsafe(self._disconnected.set)
        if not self._future.done():
            self._future.cancel()

    def response(self) -> httpx.Response:
        """Wait for the response start and return a response streaming the body."""
        while True:
            kind, payload = self.next_event()
            if kind == "message" and payload["type"] == "http.response.start":
                break
            if kind == "error":
                raise payload
            if kind in ("abort", "end"):
                self.close()
                raise httpx.RemoteProtocolError(_NO_RESPONSE, request=self._request)
        return httpx.Response(
            payload["status"],
            headers=list(payload.get("headers", [])),
            stream=_ResponseStream(self),
            request=self._request,
        )


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        while True:
            kind, payload = self._exchange.next_event()
            if kind == "message" and payload["type"] == "http.response.body":
                body = payload.get("body", b"")
                # a HEAD response has no body on the wire, whatever the app sends
                if body and self._exchange._request.method != "HEAD":
                    yield bytes(body)
                if not payload.get("more_body", False):
                    return
            elif kind == "error":
                raise payload
            elif kind in ("abort", "end"):
                self._exchange.close()
                raise httpx.RemoteProtocolError(_TRUNCATED, request=self._exchange._request)

    def close(self) -> None:
        self._exchange.close()


class EmulatorTransport(httpx.BaseTransport):
    """A sync httpx transport that runs the emulator in process, on a private event loop.

    Request bodies stream into the app and response bodies stream out, so large uploads and
    downloads are not held in memory whole. A dropped connection or a lost response raises
    ``httpx.RemoteProtocolError``, as over a socket; the request's read timeout is honoured.
    """

    def __init__(self, app: ASGIApp, loop: LoopThread) -> None:
        self._app = app
        self._loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run one request through the app."""
        return _Exchange(self._app, self._loop.get(), request).response()


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """An async httpx transport over ``httpx.ASGITransport`` with the same fault mapping.

    It buffers each response body (as ``httpx.ASGITransport`` does).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run one request through the app."""
        try:
            response = await self._inner.handle_async_request(request)
        except ConnectionAborted:
            raise httpx.RemoteProtocolError(_NO_RESPONSE, request=request) from None
        if request.method == "HEAD":  # no body on the wire, whatever the app sends
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, request=request)
        return response

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()
