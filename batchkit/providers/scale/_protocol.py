"""Scale v1 requests and responses as pure functions: build a `Call`, parse a body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from ..._call import Call, Retry
from ..._http import VendorErrors, segment
from ..._models import Batch, BatchState, BatchStatus, Project, TaskCounts
from ..._wire import json_body, parse, to_iso
from ._wire import (
    WireBatch,
    WirePage,
    WireProject,
    WireStatus,
    make_converter,
    normalize_page,
    normalize_status,
)

PROVIDER = "scale"
#: Scale answers errors as `{"error": ...}`; `message` and `detail` are read too, as a proxy
#: in front of the API may answer with them. A 401/403 is the API key (Scale's token).
ERRORS = VendorErrors(
    message_keys=("error", "message", "detail"),
    auth_hint="check the token / API key",
)
PAGE_SIZE = 100
_conv = make_converter()
_OK = frozenset({200, 201})  # the SDK wants 200; accept 201 from a future API too

_STATES = {
    "staging": BatchState.STAGING,
    "in_progress": BatchState.IN_PROGRESS,
    "completed": BatchState.COMPLETED,
}
_WIRE_STATE = {v: k for k, v in _STATES.items()}


def batch_path(name: str, action: str = "") -> str:
    """`batches/<name>[/<action>]` with the name quoted, no safe characters."""
    return f"batches/{segment(name)}" + (f"/{action}" if action else "")


def state_param(state: BatchState) -> str | None:
    """The wire `status` for a neutral state, None if Scale has no such state."""
    return _WIRE_STATE.get(state)


# -- request builders ------------------------------------------------------------------


def create_batch(
    name: str,
    project: str,
    callback: str | None,
    metadata: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> Call:
    """POST /batches. Retried on transient errors: a 409 afterwards is resolved by a fetch."""
    body: dict[str, Any] = {"project": project, "name": name, **options}
    if callback is not None:
        body["callback"] = callback
    if metadata is not None:
        body["metadata"] = dict(metadata)
    return Call("create_batch", "POST", "batches", json=body, ok=_OK, retry=Retry.IDEMPOTENT)


def get_batch(name: str) -> Call:
    """GET /batches/<name>."""
    return Call("get_batch", "GET", batch_path(name))


def batch_status(name: str) -> Call:
    """GET /batches/<name>/status."""
    return Call("status", "GET", batch_path(name, "status"))


def finalize(name: str) -> Call:
    """POST /batches/<name>/finalize (idempotent: finalizing twice changes nothing)."""
    return Call("finalize", "POST", batch_path(name, "finalize"), ok=_OK)


def prioritize(name: str, priority: int) -> Call:
    """POST /batches/<name>/prioritize with `{"priority": 10..30}`."""
    return Call(
        "prioritize", "POST", batch_path(name, "prioritize"), json={"priority": priority}, ok=_OK
    )


def set_metadata(name: str, metadata: Mapping[str, Any]) -> Call:
    """POST /batches/<name>/setMetadata; the body is the metadata itself."""
    return Call(
        "set_metadata", "POST", batch_path(name, "setMetadata"), json=dict(metadata), ok=_OK
    )


def list_batches(
    *,
    offset: int,
    limit: int,
    project: str | None,
    status: str | None,
    start_time: datetime | None,
    end_time: datetime | None,
    detailed: bool,
) -> Call:
    """GET /batches, one page."""
    params: dict[str, str | int] = {"offset": offset, "limit": limit}
    if project is not None:
        params["project"] = project
    if status is not None:
        params["status"] = status
    if start_time is not None:
        params["start_time"] = to_iso(start_time)
    if end_time is not None:
        params["end_time"] = to_iso(end_time)
    if detailed:
        params["detailed"] = "true"
    return Call("list_batches", "GET", "batches", params=params)


def create_project(body: Mapping[str, Any]) -> Call:
    """POST /projects."""
    return Call(
        "create_project", "POST", "projects", json=dict(body), ok=_OK, retry=Retry.IDEMPOTENT
    )


def get_project(name: str) -> Call:
    """GET /projects/<name> (the SDK's `get_project`)."""
    return Call("get_project", "GET", f"projects/{segment(name)}")


def list_projects() -> Call:
    """GET /projects: every project, as one JSON array (the SDK's `projects()`)."""
    return Call("list_projects", "GET", "projects")


# -- response parsers ------------------------------------------------------------------


def to_batch(wire: WireBatch, raw: Mapping[str, Any]) -> Batch:
    """A wire batch as a neutral `Batch`."""
    return Batch(
        provider=PROVIDER,
        id=wire.name,
        name=wire.name,
        project=wire.project,
        state=_STATES.get(wire.status or "", BatchState.UNKNOWN),
        created_at=wire.created_at,
        raw=raw,
    )


def parse_batch(response: httpx.Response, operation: str) -> Batch:
    """A batch object response."""
    data = json_body(response, provider=PROVIDER, operation=operation)
    wire = parse(_conv, WireBatch, data, provider=PROVIDER, operation=operation)
    return to_batch(wire, data)


def parse_page(response: httpx.Response) -> tuple[list[Batch], bool]:
    """A page of batches and whether more follow."""
    data = normalize_page(json_body(response, provider=PROVIDER, operation="list_batches"))
    page = parse(_conv, WirePage, data, provider=PROVIDER, operation="list_batches")
    raws = data["docs"]
    return [to_batch(w, r) for w, r in zip(page.docs, raws, strict=True)], page.has_more


def parse_status(response: httpx.Response, name: str) -> BatchStatus:
    """A status response as neutral state + task counts."""
    data = normalize_status(json_body(response, provider=PROVIDER, operation="status"))
    wire = parse(_conv, WireStatus, data, provider=PROVIDER, operation="status")
    return BatchStatus(
        batch_id=name,
        state=_STATES.get(wire.status or "", BatchState.UNKNOWN),
        counts=TaskCounts(
            pending=wire.pending,
            completed=wire.completed,
            error=wire.error,
            canceled=wire.canceled,
        ),
        raw=data,
    )


def parse_project(response: httpx.Response, operation: str = "create_project") -> Project:
    """A project response."""
    data = json_body(response, provider=PROVIDER, operation=operation)
    wire = parse(_conv, WireProject, data, provider=PROVIDER, operation=operation)
    return Project(name=wire.name, type=wire.type, raw=data)


def parse_projects(response: httpx.Response) -> list[Project]:
    """The project list: a bare JSON array of projects."""
    data = json_body(response, provider=PROVIDER, operation="list_projects")
    wires = parse(_conv, list[WireProject], data, provider=PROVIDER, operation="list_projects")
    return [Project(name=w.name, type=w.type, raw=raw) for w, raw in zip(wires, data, strict=True)]
