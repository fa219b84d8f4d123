"""AI Hub wire models and their converter.

Quirks handled (see vendor-docs/WIRE-NOTES.md): batch ids are JSON integers, but the docs'
table says string, so both parse; the delete-batch job id arrives as `job_id` (SDK) or
`job-id` (docs example); `part_id` is a string on the wire and an int in the docs.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs

from ..._wire import strict_converter


class BatchId(str):
    """A batch id as text; parsed from a JSON int or a string of digits."""

    __slots__ = ()


#: a multipart part id exactly as the server sent it: a string (live wire, the SDK) or an
#: int (the docs' table); it goes back in the commit in the same JSON type
PartId = str | int


@attrs.frozen
class WireCreated:
    """`POST /v2/batches` → `{"id": 231}`."""

    id: BatchId


@attrs.frozen
class WireBatch:
    """A batch object (get and list)."""

    id: BatchId
    name: str
    workspace: str | None = None
    mount_point: str | None = None
    repo_owner: str | None = None
    batch_owner: str | None = None
    created_at_ms: int | None = None
    updated_at_ms: int | None = None
    path_suffix: str | None = None


@attrs.frozen
class WireBatchList:
    """`GET /v2/batches`."""

    batches: list[WireBatch]


@attrs.frozen
class WireJobAccepted:
    """`DELETE /v2/batches/<id>` body (`job_id` or `job-id`, normalised before parsing)."""

    job_id: str


@attrs.frozen
class WireJob:
    """`GET /v2/batches/jobs/<id>`."""

    state: str
    message: str | None = None


@attrs.frozen
class WireFilePage:
    """`GET /v2/batches/<id>/files`."""

    #: checked node by node in `_protocol._node` (the listing hot path)
    nodes: list[Any]
    next_page_token: str | None = None
    has_more: bool = False


@attrs.frozen
class WireSession:
    """Multipart start response body (the session id may come only in `Location`)."""

    part_size: int
    session_id: str | None = None


@attrs.frozen
class WirePart:
    """Part upload response."""

    part_id: PartId
    part_num: int


def _batch_id(value: Any, _: Any) -> BatchId:
    if isinstance(value, int) and not isinstance(value, bool):
        return BatchId(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return BatchId(value)
    raise ValueError(f"expected an integer batch id, got {value!r}")


def _part_id(value: Any, _: Any) -> PartId:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected a part id string, got {value!r}")


def make_converter() -> cattrs.Converter:
    """The AI Hub converter: strict types, tolerant ids."""
    c = strict_converter()
    c.register_structure_hook(BatchId, _batch_id)
    c.register_structure_hook(PartId, _part_id)
    return c


def normalize_job_accepted(data: Any) -> Any:
    """Accept `{"job-id": ...}` (docs) as well as `{"job_id": ...}` (SDK / live)."""
    if isinstance(data, dict) and "job_id" not in data and "job-id" in data:
        return {**data, "job_id": data["job-id"]}
    return data
