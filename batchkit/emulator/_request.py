"""One request being handled, for both vendors: its body, query and route parameters, read safely.

Bodies are read chunk by chunk from ASGI ``receive`` (an upload streams to disk, never into
memory); JSON bodies are parsed strictly (`_json`), numbers within the limits of
`_input`. Every refusal is a 400 worded by the vendor's
`ErrorFormat`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.datastructures import Headers, QueryParams
from starlette.responses import Response
from starlette.types import Receive, Scope

from batchkit.emulator import _json as strict_json
from batchkit.emulator._errors import BadRequest, ErrorFormat
from batchkit.emulator._input import MAX_DIGITS, excerpt, whole_number

B = TypeVar("B")

#: What a handler answers: a response, or a JSON value (a 200).
Answer = Response | dict[str, Any] | list[Any]

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class ClientDisconnected(Exception):
    """The client went away while its request body was being read; nothing is answered."""


@dataclass
class Call(Generic[B]):
    """One authenticated request: scope, body stream, backend, tenant, route parameters."""

    scope: Scope
    receive: Receive
    backend: B
    errors: type[ErrorFormat]
    tenant: str = ""
    params: dict[str, str] = field(default_factory=dict)
    tail: list[bytes] = field(default_factory=list)
    body_done: bool = False

    @property
    def headers(self) -> Headers:
        """The request headers (case-insensitive)."""
        return Headers(scope=self.scope)

    @property
    def query(self) -> QueryParams:
        """The decoded query parameters."""
        return QueryParams(self.scope.get("query_string", b""))

    def url(self, path: str) -> str:
        """An absolute URL on this server for ``path``, from the request's scheme and Host."""
        host = self.headers.get("host")
        if not host:
            server = self.scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{self.scope.get('scheme', 'http')}://{host}{path}"

    # -- the body --------------------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[bytes]:
        """The request body, chunk by chunk; raises `ClientDisconnected`."""
        while not self.body_done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.body_done = True
                raise ClientDisconnected
            self.body_done = not message.get("more_body", False)
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk

    async def drain(self) -> None:
        """Read and drop whatever of the body is unread (before answering)."""
        async for _ in self.chunks():
            pass

    async def json_object(self, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body parsed as a strict JSON object (no NaN, Infinity, overflowing numbers or
        lone surrogates); ``empty`` for a blank body if given; else 400. The
        ``Content-Type`` is not checked (the vendors' examples send none)."""
        errors = self.errors
        limit = errors.max_json_body
        body = bytearray()
        async for chunk in self.chunks():
            body += chunk
            if limit is not None and len(body) > limit:
                await self.drain()
                raise BadRequest(errors.too_large.format(limit=limit))
        if not body.strip():
            if empty is not None:
                return empty
            if errors.no_body is not None:
                raise BadRequest(errors.no_body)
        try:
            value = strict_json.loads(bytes(body))
        except (ValueError, RecursionError) as exc:
            raise BadRequest(errors.not_json.format(error=exc)) from None
        if not isinstance(value, dict):
            raise BadRequest(errors.not_object.format(type=type(value).__name__))
        return value

    # -- the query -------------------------------------------------------------------------

    def query_int(self, name: str, *, minimum: int = 0) -> int | None:
        """Query parameter ``name`` as a whole number >= ``minimum`` of at most
        `MAX_DIGITS` digits; None when absent; else 400."""
        value = self.query.get(name)
        if value is None:
            return None
        number = whole_number(value.strip())
        if number is None or number < minimum:
            raise BadRequest(
                self.errors.bad_query_number.format(
                    name=name, value=excerpt(value), minimum=minimum, digits=MAX_DIGITS
                )
            )
        return number

    def query_bool(self, name: str) -> bool:
        """Query parameter ``name`` as a boolean (``true``/``false``/``1``/``0``, any case);
        False when absent; else 400."""
        value = self.query.get(name)
        if value is None:
            return False
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise BadRequest(f"query parameter {name!r} must be true or false, got {excerpt(value)}")
