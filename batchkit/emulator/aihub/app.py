"""The ASGI application of the emulated AI Hub: authentication, routing, error answers."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from batchkit.emulator._input import printable_ascii
from batchkit.emulator.aihub.backend import AIHubBackend
from batchkit.emulator.aihub.errors import AIHubError, InsufficientStorage, Unauthorized
from batchkit.emulator.aihub.responses import Call, ClientDisconnected
from batchkit.emulator.aihub.urls import resolve

logger = logging.getLogger(__name__)


def _accept_any(token: str) -> bool:
    return True


def bearer_token(headers: Headers, accept: Callable[[str], bool]) -> str:
    """The accepted bearer token of a request (the tenant); 401 otherwise.

    ``IB-Context`` is accepted and ignored: a tenant is its token, whatever context it names.
    """
    value = headers.get("authorization")
    if value is None:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("malformed Authorization header: expected 'Bearer <token>'")
    if not printable_ascii(token):
        # header text arrives decoded as Latin-1: any byte can be in it; tokens are ASCII
        raise Unauthorized(
            "malformed Authorization header: the token has characters other than visible "
            "ASCII; check it was copied whole"
        )
    if not accept(token):
        raise Unauthorized("the API token is not valid: check the token or generate a new one")
    return token


#: the disk is full, or a file would pass the filesystem's size limit: 507, not a 500
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def error_response(error: AIHubError) -> Response:
    """The wire form of a refusal: its status, ``{"message": ...}`` and any extra headers."""
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse({"message": error.message}, status_code=error.status, headers=headers)


class AIHubApp:
    """The emulated AI Hub API (Batches and the deprecated Filesystem API) as an ASGI app.

    Serves every path under ``/api/`` from ``backend``. ``accept`` decides whether a bearer
    token is valid; each accepted token is its own tenant, recorded in
    ``scope["batchkit.tenant"]`` for the caller's request log.
    """

    def __init__(
        self, backend: AIHubBackend, *, accept: Callable[[str], bool] = _accept_any
    ) -> None:
        self.backend = backend
        self.accept = accept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        call = Call(scope=scope, receive=receive, backend=self.backend, tenant="")
        try:
            response = await self._handle(call)
        except ClientDisconnected:
            return
        await response(scope, receive, send)

    async def _handle(self, call: Call) -> Response:
        scope = call.scope
        try:
            try:
                call.tenant = bearer_token(call.headers, self.accept)
                scope["batchkit.tenant"] = call.tenant
                raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
                handler, call.params, call.tail = resolve(
                    scope["method"], raw_path.split(b"?", 1)[0]
                )
                return await handler(call)
            except AIHubError as error:
                await call.drain()
                return error_response(error)
            except OSError as error:
                if error.errno not in _STORAGE_ERRNOS:
                    raise
                await call.drain()
                return error_response(
                    InsufficientStorage(
                        f"the emulator's storage could not hold the data: {error.strerror}"
                    )
                )
        except ClientDisconnected:
            raise
        except Exception:
            logger.exception("AI Hub emulator failed on %s %s", scope["method"], scope["path"])
            return JSONResponse(
                {"message": "internal error in the batchkit AI Hub emulator (a bug: see logs)"},
                status_code=500,
            )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
