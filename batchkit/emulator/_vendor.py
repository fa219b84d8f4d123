"""The ASGI app every emulated vendor is: authenticate → route → handler → answer.

A vendor subclasses `VendorApp` with its route table (``urls``), its
`ErrorFormat` and its authentication; the handlers take a
`Call` and return a Starlette response, or a JSON value to
answer 200 with. Refusals are answered in the vendor's format after draining the request
body (so the connection stays usable); an unexpected exception propagates to the root app,
which answers a JSON 500 naming it.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from batchkit.emulator._errors import EmulatorError, ErrorFormat, InsufficientStorage
from batchkit.emulator._request import Answer, Call, ClientDisconnected
from batchkit.emulator._routing import Router

B = TypeVar("B")

Handler = Callable[[Call[B]], Awaitable[Answer]]

#: Key a vendor app sets in the scope once it has authenticated the caller.
TENANT_KEY = "batchkit.tenant"

#: the disk is full, or a file would pass the filesystem's size limit: 507, not a 500
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def accept_any(credential: str) -> bool:
    """Accept every credential (each is its own tenant)."""
    return True


class VendorApp(Generic[B]):
    """One emulated vendor API as an ASGI app, serving ``backend``.

    ``accept`` decides whether a credential is valid; each accepted credential is its own
    tenant, recorded in ``scope["batchkit.tenant"]`` for the root app's request log.
    """

    #: ``(method, path pattern, handler)`` rows (see `Router`)
    urls: ClassVar[Sequence[tuple[str, str, Handler[Any]]]]
    errors: ClassVar[type[ErrorFormat]]

    def __init__(self, backend: B, *, accept: Callable[[str], bool] = accept_any) -> None:
        self.backend = backend
        self.accept = accept
        self._router = Router(self.urls, self.errors)

    def authenticate(self, headers: Headers) -> str:
        """The tenant: the accepted credential of the request; 401 otherwise."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        if await not_http(scope, receive, send):
            return
        call = Call(scope=scope, receive=receive, backend=self.backend, errors=self.errors)
        try:
            response = await self._handle(call)
            await call.drain()
        except ClientDisconnected:
            return
        await response(scope, receive, send)

    async def _handle(self, call: Call[B]) -> Response:
        scope = call.scope
        try:
            call.tenant = self.authenticate(call.headers)
            scope[TENANT_KEY] = call.tenant
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
            handler, call.params, call.tail = self._router.resolve(
                scope["method"], raw_path.split(b"?", 1)[0]
            )
            answer = await handler(call)
        except EmulatorError as error:
            return self._refuse(error)
        except OSError as error:
            if error.errno not in _STORAGE_ERRNOS:
                raise
            message = f"the emulator's storage could not hold the data: {error.strerror}"
            return self._refuse(InsufficientStorage(message))
        return answer if isinstance(answer, Response) else JSONResponse(answer)

    def _refuse(self, error: EmulatorError) -> Response:
        """The wire form of a refusal: its status, ``{key: message}`` and its headers."""
        headers = dict(error.headers)
        if error.status == 401:
            headers.setdefault("WWW-Authenticate", self.errors.challenge)
        return JSONResponse({self.errors.key: error.message}, error.status, headers)


async def not_http(scope: Scope, receive: Receive, send: Send) -> bool:
    """Whether ``scope`` is not an HTTP request; a ``lifespan`` scope is acknowledged
    (startup and shutdown: the emulator has nothing to set up)."""
    kind: str = scope["type"]
    if kind != "lifespan":
        return kind != "http"
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return True
