"""`Call`: one HTTP request as an adapter describes it (pure data, no I/O, no httpx import:
`import batchkit` stays light, and the flows that yield calls import only this)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

#: A request body: bytes, or a factory giving a fresh iterable of chunks for each attempt
#: (so a retried upload re-reads its source instead of holding it in memory).
Body = bytes | Callable[[], Iterable[bytes]]


class Retry(enum.Enum):
    """Which failures a call may be retried on."""

    #: GET, PUT, DELETE, HEAD: connection errors, 408, 429 and 5xx.
    IDEMPOTENT = "idempotent"
    #: Non-idempotent creates: only when the request provably was never applied
    #: (`never_applied`: connect errors, unsendable requests, 408, 429, 503).
    UNSENT_ONLY = "unsent_only"
    NEVER = "never"


@attrs.frozen
class Call:
    """One HTTP request an adapter wants made, and what counts as success."""

    operation: str
    method: str
    #: a path relative to the provider's API root (segments already quoted), or a full URL
    url: str
    #: query parameters; a sequence value repeats its key (``tags=a&tags=b``)
    params: Mapping[str, str | int | Sequence[str]] | None = None
    json: Any = None
    content: Body | None = None
    headers: Mapping[str, str] | None = None
    ok: frozenset[int] = frozenset({200})
    retry: Retry = Retry.IDEMPOTENT
    #: a multipart/form-data body: its file parts, {field: (file name, binary stream or
    #: bytes, content type)} (a stream is rewound for each attempt), and its text `form`
    #: fields
    files: Mapping[str, tuple[str, Any, str]] | None = None
    form: Mapping[str, str] | None = None


__all__ = ["Body", "Call", "Retry"]
