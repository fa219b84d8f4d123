"""The one router of both vendors: a raw request path → handler, path parameters and tail.

Routing works on ``scope["raw_path"]`` split on literal ``/`` *before* percent-decoding, so a
name sent as one ``%2F``-containing segment (vendors and SDKs quote path parameters with no
safe characters) stays one parameter. Each segment is then decoded as UTF-8: a literal
segment matches its decoded form, a ``{name}`` captures it, and ``{*}`` (last) captures the
raw rest of the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar
from urllib.parse import unquote_to_bytes

from batchkit.emulator._errors import BadRequest, ErrorFormat, MethodNotAllowed, NotFound

H = TypeVar("H")

#: A pattern segment ``{name}`` captures one decoded segment; ``{*}`` captures the raw rest.
TAIL = "{*}"


class Router(Generic[H]):
    """A route table: ``(method, path pattern, handler)`` rows, tried in order.

    The first pattern that fits the path is the resource, and the methods of its rows are all
    the path has: another method is a 405 with ``Allow`` listing them. So a literal route
    listed before a parametrised one it overlaps wins (``multipart-upload`` is not a batch
    id). No pattern fits: 404. Refusals are worded by ``errors``.
    """

    def __init__(self, urls: Iterable[tuple[str, str, H]], errors: type[ErrorFormat]) -> None:
        self._errors = errors
        self._routes: dict[tuple[str, ...], dict[str, H]] = {}
        for method, pattern, handler in urls:
            if not pattern.startswith("/"):
                raise ValueError(f"a route pattern starts with '/', got {pattern!r}")
            self._routes.setdefault(tuple(pattern.split("/")[1:]), {})[method] = handler

    def resolve(self, method: str, raw_path: bytes) -> tuple[H, dict[str, str], list[bytes]]:
        """The handler, parameters and raw tail for a request; 404 or 405 when none fits."""
        segments = raw_path.split(b"/")[1:]
        path = raw_path.decode("latin-1")
        for pattern, methods in self._routes.items():
            matched = self._match(pattern, segments)
            if matched is None:
                continue
            handler = methods.get(method)
            if handler is not None:
                return handler, *matched
            allowed = ", ".join(sorted(methods))
            message = self._errors.wrong_method.format(method=method, path=path, allowed=allowed)
            raise MethodNotAllowed(message, headers={"Allow": allowed})
        raise NotFound(
            self._errors.no_route.format(name=self._errors.name, method=method, path=path)
        )

    def _match(
        self, pattern: tuple[str, ...], segments: list[bytes]
    ) -> tuple[dict[str, str], list[bytes]] | None:
        params: dict[str, str] = {}
        for index, part in enumerate(pattern):
            if part == TAIL:
                return params, segments[index:]
            if index >= len(segments):
                return None
            if part.startswith("{"):
                params[part[1:-1]] = self._decode(segments[index])
            elif self._decode(segments[index]) != part:
                return None
        if len(segments) != len(pattern):
            return None
        return params, []

    def _decode(self, raw: bytes) -> str:
        try:
            return unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(self._errors.bad_segment.format(raw=raw)) from None
