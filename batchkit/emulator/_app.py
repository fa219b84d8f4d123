"""The root ASGI app: dispatch on the raw path, log, delay and break requests on demand."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchkit.emulator._faults import Decider, Fault
from batchkit.emulator._input import whole_number
from batchkit.emulator._log import RequestLog, RequestRecord
from batchkit.emulator._vendor import TENANT_KEY, not_http

logger = logging.getLogger("batchkit.emulator")

Sleep = Callable[[float], Awaitable[None]]

_AIHUB_PREFIXES = ("/api/", "/_emulator/aihub/")
_SCALE_PREFIXES = ("/v1/", "/_emulator/scale/")
_CONTROL_PREFIX = "/_emulator/"


class ConnectionAborted(Exception):
    """Raised by the root app to ask its host to close the connection unanswered.

    The hosts (the loopback server, the in-process transports) turn it into a closed socket or
    the ``httpx.TransportError`` a closed socket would cause.
    """


def vendor_for(path: str) -> str | None:
    """The vendor whose API serves this raw path: ``"aihub"``, ``"scale"`` or None."""
    if path.startswith(_AIHUB_PREFIXES):
        return "aihub"
    if path.startswith(_SCALE_PREFIXES):
        return "scale"
    return None


def error_body(vendor: str | None, message: str) -> bytes:
    """A vendor-shaped JSON error body: ``{"error": …}`` for Scale, ``{"message": …}`` else."""
    key = "error" if vendor == "scale" else "message"
    return json.dumps({key: message}, separators=(",", ":")).encode()


async def send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete JSON response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def drain(receive: Receive) -> None:
    """Read and discard the request body, as a server would before answering early."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class _Recorder:
    """Collects what one request did and appends its record exactly once."""

    def __init__(
        self, log: RequestLog, scope: Scope, path: str, vendor: str | None, delay: float
    ) -> None:
        self._log = log
        self._scope = scope
        self._path = path
        self._vendor = vendor
        self._delay = delay
        self.status = 0
        self.fault: str | None = None
        self._done = False

    def commit(self) -> None:
        if self._done:
            return
        self._done = True
        tenant = self._scope.get(TENANT_KEY)
        self._log.append(
            RequestRecord(
                method=self._scope["method"],
                path=self._path,
                query=bytes(self._scope.get("query_string", b"")).decode("latin-1"),
                status=self.status,
                tenant=tenant if isinstance(tenant, str) else None,
                fault=self.fault,
                latency=self._delay,
                vendor=self._vendor,
            )
        )


class EmulatorApp:
    """The emulator's root ASGI app.

    Routes on ``scope["raw_path"]`` (vendors put ``%2F`` inside one segment): ``/api/`` to AI
    Hub, ``/v1/`` and ``/_emulator/scale/`` to Scale, anything else is a 404. Every request is
    logged; requests to the vendor APIs (not the ``/_emulator/`` control endpoints) get the
    configured latency and faults.
    """

    def __init__(
        self,
        *,
        aihub: Callable[[], ASGIApp],
        scale: ASGIApp,
        log: RequestLog,
        decider: Decider,
        sleep: Sleep,
    ) -> None:
        self._aihub = aihub
        self._scale = scale
        self._log = log
        self._decider = decider
        self._sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await not_http(scope, receive, send):
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        raw_path = bytes(raw).split(b"?", 1)[0]
        scope = dict(scope, raw_path=raw_path)
        path = raw_path.decode("latin-1")
        vendor = vendor_for(path)
        if vendor is None or path.startswith(_CONTROL_PREFIX):
            fault, delay = None, 0.0
        else:
            decision = self._decider.decide(scope["method"], path)
            fault, delay = decision.fault, decision.delay
        recorder = _Recorder(self._log, scope, path, vendor, delay)
        try:
            if delay > 0:
                await self._sleep(delay)
            if vendor is None:
                recorder.status = 404
                recorder.commit()
                await drain(receive)
                await send_json(send, 404, error_body(None, "no such endpoint"))
            elif fault is not None:
                await self._inject(fault, vendor, scope, receive, send, recorder)
            else:
                await self._call_vendor(vendor, scope, receive, send, recorder)
        finally:
            recorder.commit()

    async def _inject(
        self,
        fault: Fault,
        vendor: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        recorder: _Recorder,
    ) -> None:
        recorder.fault = fault.name
        if fault.kind == "slow":
            late = _Late(send, self._sleep, fault.delay or 0.0)
            await self._call_vendor(vendor, scope, receive, late, recorder)
            return
        if fault.kind in ("lost_response", "drop"):
            if fault.kind == "drop":
                vendor_send: Send = _Truncator(send, recorder, head=scope["method"] == "HEAD")
            else:
                vendor_send = _discard
            await self._call_vendor(vendor, scope, receive, vendor_send, recorder, commit=False)
            recorder.commit()
            raise ConnectionAborted
        await drain(receive)
        if fault.kind == "reset":
            recorder.commit()
            raise ConnectionAborted
        status = fault.status_code or 500
        headers: list[tuple[bytes, bytes]] = []
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(fault.retry_after).encode()))
        recorder.status = status
        recorder.commit()
        message = f"batchkit emulator: injected fault {fault.name}"
        await send_json(send, status, error_body(vendor, message), headers)

    async def _call_vendor(
        self,
        vendor: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        recorder: _Recorder,
        *,
        commit: bool = True,
    ) -> None:
        started = False

        async def recording_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                recorder.status = int(message["status"])
                # a response with no body (204, 304, HEAD) is complete for the client as
                # soon as its head is sent: log it before that
                if commit and (recorder.status in (204, 304) or scope["method"] == "HEAD"):
                    recorder.commit()
            elif (
                commit
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
            ):
                recorder.commit()
            await send(message)

        try:
            app = self._aihub() if vendor == "aihub" else self._scale
            await app(scope, receive, recording_send)
        except ConnectionAborted:
            raise
        except Exception as exc:
            logger.exception(
                "batchkit emulator: %s app failed on %s %s",
                vendor,
                scope["method"],
                scope["raw_path"],
            )
            if started:
                raise ConnectionAborted from exc
            recorder.status = 500
            if not commit:
                return
            recorder.commit()
            message = f"batchkit emulator internal error: {type(exc).__name__}: {exc}"
            await send_json(send, 500, error_body(vendor, message))


class _Late:
    """A send that holds the response back ``delay`` seconds before its status line (the
    ``slow`` fault): the vendor has already done the work."""

    def __init__(self, send: Send, sleep: Sleep, delay: float) -> None:
        self._send = send
        self._sleep = sleep
        self._delay = delay

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self._delay > 0:
            await self._sleep(self._delay)
        await self._send(message)


async def _discard(message: Message) -> None:
    """A send that loses the response (the ``lost_response`` fault)."""


class _Truncator:
    """A send that lets the vendor's real response out until half its body, then stops.

    The cut is at half the ``Content-Length`` (or of the first body chunk without one), so the
    client gets genuine leading bytes and then a closed connection. A response without a body
    (204, HEAD) has nothing to cut: the connection then closes before the status line.
    """

    def __init__(self, send: Send, recorder: _Recorder, *, head: bool) -> None:
        self._send = send
        self._recorder = recorder
        self._head = head
        self._start: Message | None = None
        self._cut: int | None = None
        self._sent = 0
        self._forwarded = False
        self._done = False

    async def __call__(self, message: Message) -> None:
        if self._done:
            return
        if message["type"] == "http.response.start":
            self._start = message
            for name, value in message.get("headers", []):
                if bytes(name).lower() == b"content-length":
                    length = whole_number(bytes(value).decode("latin-1"))
                    self._cut = None if length is None else length // 2
            return
        if message["type"] != "http.response.body" or self._start is None:
            return
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if not self._forwarded:
            if self._head or not body:
                self._done = self._head or not more
                return
            self._recorder.commit()
            await self._send(self._start)
            self._forwarded = True
        if self._cut is None:
            self._cut = self._sent + len(body) // 2
        room = self._cut - self._sent
        if len(body) < room and more:
            self._sent += len(body)
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
            return
        part = body[:room] if len(body) >= room else body[: len(body) // 2]
        await self._send({"type": "http.response.body", "body": part, "more_body": True})
        self._done = True
