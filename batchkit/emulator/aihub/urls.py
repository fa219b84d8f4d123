"""URL routing of the emulated AI Hub: raw path segments → handler and parameters.

Routing works on ``scope["raw_path"]`` split on literal ``/`` *before* percent-decoding, so a
file name sent as one ``%2F``-containing segment (the SDK encodes path parameters with no safe
characters) stays one parameter. Each parameter is then decoded as UTF-8.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from starlette.responses import Response

from batchkit.emulator.aihub import responses as r
from batchkit.emulator.aihub.errors import BadRequest, MethodNotAllowed, NotFound

Handler = Callable[[r.Call], Awaitable[Response]]

#: A pattern segment ``{name}`` captures one decoded segment; ``{*}`` captures the raw rest.
TAIL = "{*}"


@dataclass(frozen=True)
class Route:
    """A path pattern (``/``-separated, without the leading ``/``) and a handler per method."""

    pattern: str
    methods: Mapping[str, Handler]

    def match(self, segments: list[bytes]) -> tuple[dict[str, str], list[bytes]] | None:
        """The captured parameters and raw tail if ``segments`` fit the pattern."""
        params: dict[str, str] = {}
        pattern = self.pattern.split("/")
        for index, part in enumerate(pattern):
            if part == TAIL:
                return params, segments[index:]
            if index >= len(segments):
                return None
            if part.startswith("{"):
                params[part[1:-1]] = _decode(segments[index])
            elif _decode(segments[index]) != part:
                return None
        if len(segments) != len(pattern):
            return None
        return params, []


def _decode(raw: bytes) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"path segment {raw!r} is not valid percent-encoded UTF-8") from None


#: Every route, tried in order: the first whose pattern matches the path is the resource, and
#: its methods are all the path has (another method is a 405 listing exactly those). Literal
#: routes come before the parametrised ones they overlap: ``multipart-upload`` is not a batch
#: id, so ``GET /api/v2/batches/multipart-upload`` is a 405 with ``Allow: POST``.
#: Patterns are the raw path's segments: the vendor API lives under ``/api``, the emulator's
#: own controls under ``/_emulator/aihub``.
URL_PATTERNS: tuple[Route, ...] = (
    Route("_emulator/aihub/jobs/complete", {"POST": r.complete_jobs}),
    Route("api/v2/batches", {"GET": r.list_batches, "POST": r.create_batch}),
    Route("api/v2/batches/multipart-upload", {"POST": r.start_multipart}),
    Route("api/v2/batches/multipart-upload/sessions/{session_id}", {"POST": r.finish_multipart}),
    Route(
        "api/v2/batches/multipart-upload/sessions/{session_id}/parts/{part_num}",
        {"PUT": r.upload_part},
    ),
    Route("api/v2/batches/jobs/{job_id}", {"GET": r.poll_job}),
    Route("api/v2/batches/{batch_id}", {"GET": r.get_batch, "DELETE": r.delete_batch}),
    Route("api/v2/batches/{batch_id}/files", {"GET": r.list_files}),
    Route(
        "api/v2/batches/{batch_id}/files/{filename}",
        {"PUT": r.upload_file, "DELETE": r.delete_file},
    ),
    Route("api/v2/files/delete/jobs/{job_id}", {"GET": r.poll_job}),
    Route("api/v2/jobs/{job_id}", {"GET": r.poll_job}),
    Route(
        "api/v2/files/" + TAIL,
        {"GET": r.fs_read, "HEAD": r.fs_head, "PUT": r.fs_write, "DELETE": r.fs_delete},
    ),
)


def resolve(method: str, raw_path: bytes) -> tuple[Handler, dict[str, str], list[bytes]]:
    """The handler, parameters and raw tail for a request; 404 or 405 when none fits."""
    segments = raw_path.split(b"/")[1:]
    path = raw_path.decode("latin-1")
    for route in URL_PATTERNS:
        matched = route.match(segments)
        if matched is None:
            continue
        handler = route.methods.get(method)
        if handler is not None:
            return handler, matched[0], matched[1]
        allowed = ", ".join(sorted(route.methods))
        raise MethodNotAllowed(
            f"{method} is not supported on {path!r}; use {allowed}", headers={"Allow": allowed}
        )
    raise NotFound(f"no AI Hub endpoint at {path!r}")
