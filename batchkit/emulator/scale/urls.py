"""Scale routes, matched on the raw path: split on literal ``/``, then unquote each segment.

Batch names travel percent-encoded with no safe characters (``a bc/def`` → ``a%20bc%2Fdef``),
so a name is always exactly one raw segment, whatever it contains.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from batchkit.emulator.scale.errors import BadRequest, MethodNotAllowed, NotFound

#: (method, path pattern, handler name); ``{name}`` matches one segment.
URLS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/v1/projects", "list_projects"),
    ("POST", "/v1/projects", "create_project"),
    ("GET", "/v1/projects/{name}", "get_project"),
    ("GET", "/v1/batches", "list_batches"),
    ("POST", "/v1/batches", "create_batch"),
    ("GET", "/v1/batches/{name}", "get_batch"),
    ("POST", "/v1/batches/{name}/finalize", "finalize_batch"),
    ("GET", "/v1/batches/{name}/status", "batch_status"),
    ("POST", "/v1/batches/{name}/setMetadata", "set_metadata"),
    ("POST", "/v1/batches/{name}/prioritize", "prioritize"),
    # emulator control, not part of Scale's API
    ("POST", "/_emulator/scale/batches/{name}/tasks", "add_tasks"),
    ("POST", "/_emulator/scale/batches/{name}/tasks/complete", "complete_tasks"),
    ("POST", "/_emulator/scale/batches/{name}/archive", "archive_batch"),
)

_PATTERNS = tuple((method, tuple(pattern.split("/")), handler) for method, pattern, handler in URLS)


def _unquote(segment: bytes) -> str:
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"path segment {segment!r} is not percent-encoded UTF-8") from None


def resolve(method: str, raw_path: bytes) -> tuple[str, dict[str, str]]:
    """The handler name and path parameters for a request; 404 or 405 if none."""
    segments = raw_path.split(b"/")
    allowed: list[str] = []
    for route_method, pattern, handler in _PATTERNS:
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for part, segment in zip(pattern, segments, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = _unquote(segment)
            elif part.encode() != segment:
                break
        else:
            if route_method == method:
                return handler, params
            allowed.append(route_method)
    if allowed:
        raise MethodNotAllowed(
            f"{method} is not allowed here; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    raise NotFound(f"no such endpoint: {method} {raw_path.decode('latin-1')}")
