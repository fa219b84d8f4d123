"""Scale v1 requests and responses as pure functions: build a `Call`, parse a body."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from ..._call import Call, Retry
from ..._errors import ProviderError
from ..._http import VendorErrors, segment
from ..._models import (
    Batch,
    BatchState,
    BatchStatus,
    ItemState,
    Project,
    Result,
    Run,
    RunState,
    Task,
    TaskCounts,
)
from ..._wire import json_body, parse, to_iso
from ._wire import (
    WireBatch,
    WirePage,
    WireProject,
    WireStatus,
    WireTask,
    WireTaskPage,
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


def create_task(type_: str, body: Mapping[str, Any]) -> Call:
    """POST /task/<type>. Retried on transient errors: its `unique_id` makes a repeat a 409,
    which the adapter resolves by looking the task up."""
    return Call(
        "add_tasks",
        "POST",
        f"task/{segment(type_)}",
        json=dict(body),
        ok=_OK,
        retry=Retry.IDEMPOTENT,
    )


def upload_file(name: str, file: Any, display_name: str) -> Call:
    """POST /files/upload, a multipart form (`file`, `display_name`). Retried: a repeat makes
    a second copy of the file at worst, and Scale deletes files no task uses; the task made
    from it is what must not repeat (its unique_id sees to that)."""
    return Call(
        "upload_file",
        "POST",
        "files/upload",
        ok=_OK,
        retry=Retry.IDEMPOTENT,
        files={"file": (name, file, "application/octet-stream")},
        form={"display_name": display_name},
    )


def import_file(url: str, display_name: str) -> Call:
    """POST /files/import ``{"file_url", "display_name"}``: Scale fetches the file itself.
    Only `file_url` is documented for import; the SDK passes other keywords through (as
    upload's fields), so `display_name` names it as upload does. Retried like upload."""
    return Call(
        "import_file",
        "POST",
        "files/import",
        json={"file_url": url, "display_name": display_name},
        ok=_OK,
        retry=Retry.IDEMPOTENT,
    )


def imported_size(response: httpx.Response) -> int:
    """The `size` Scale gives an imported file, or 0 when it does not say (it fetched the
    bytes; batchkit never saw them)."""
    data = json_body(response, provider=PROVIDER, operation="import_file")
    size = data.get("size") if isinstance(data, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else 0


def parse_attachment(response: httpx.Response) -> str:
    """The `attachment_url` (``scaledata://...``) of an uploaded or imported file: what a
    task's `attachment` takes."""
    data = json_body(response, provider=PROVIDER, operation="upload_file")
    url = data.get("attachment_url") if isinstance(data, dict) else None
    if not isinstance(url, str) or not url:
        raise ProviderError(
            "scale upload_file: the answer holds no attachment_url",
            provider=PROVIDER,
            operation="upload_file",
            status=response.status_code,
        )
    return url


def get_task(task_id: str) -> Call:
    """GET /task/<id>."""
    return Call("get_task", "GET", f"task/{segment(task_id)}")


#: the most tasks one GET /tasks page holds (the SDK: "up to 100 at a time")
TASK_PAGE = 100


def list_tasks(
    *,
    batch: str | None = None,
    project: str | None = None,
    status: str | None = None,
    unique_id: str | None = None,
    tags: Sequence[str] = (),
    times: Mapping[str, datetime] | None = None,
    limit: int = TASK_PAGE,
    token: str | None = None,
) -> Call:
    """GET /tasks, one page (`next_token` from the previous one).

    `tags` repeat their key (a task with any of them matches, as the SDK sends a list);
    `times` are keyed by `TASK_TIME_FILTERS`' names and sent as ISO 8601 UTC.
    """
    params: dict[str, str | int | Sequence[str]] = {"limit": limit}
    for key, value in (
        ("batch", batch),
        ("project", project),
        ("status", status),
        ("unique_id", unique_id),
        ("next_token", token),
    ):
        if value is not None:
            params[key] = value
    if tags:
        params["tags"] = list(tags)
    for name, moment in (times or {}).items():
        params[TASK_TIME_FILTERS[name]] = to_iso(moment)
    return Call("list_tasks", "GET", "tasks", params=params)


#: neutral time filter → its `GET /v1/tasks` query key. Scale names the bounds on
#: `created_at` start_time / end_time (scaleapi's `get_tasks(created_after=, created_before=)`
#: maps them the same way, scaleapi/__init__.py); the others keep their names.
TASK_TIME_FILTERS = {
    "created_after": "start_time",
    "created_before": "end_time",
    "updated_after": "updated_after",
    "updated_before": "updated_before",
    "completed_after": "completed_after",
    "completed_before": "completed_before",
}


def cancel_task(task_id: str, *, clear_unique_id: bool) -> Call:
    """POST /task/<id>/cancel (`clear_unique_id=true` frees the unique_id for reuse)."""
    params: dict[str, str | int] | None = {"clear_unique_id": "true"} if clear_unique_id else None
    return Call("cancel_task", "POST", f"task/{segment(task_id)}/cancel", params=params, ok=_OK)


# -- response parsers ------------------------------------------------------------------


_ITEM_STATES = {
    "pending": ItemState.PENDING,
    "completed": ItemState.COMPLETED,
    "error": ItemState.FAILED,
    "canceled": ItemState.CANCELED,
}
#: the state names `list_tasks(state=...)` sends
TASK_STATUS = {v: k for k, v in _ITEM_STATES.items()}


def to_task(wire: WireTask, raw: Mapping[str, Any]) -> Task:
    """A wire task as a neutral `Task` (an unknown status reads as pending: not done)."""
    return Task(
        provider=PROVIDER,
        id=wire.task_id,
        batch_id=wire.batch,
        state=_ITEM_STATES.get(wire.status or "", ItemState.PENDING),
        type=wire.type,
        unique_id=wire.unique_id,
        response=wire.response,
        metadata=wire.metadata,
        created_at=wire.created_at,
        raw=raw,
    )


def parse_task(response: httpx.Response, operation: str) -> Task:
    """A task object response."""
    data = json_body(response, provider=PROVIDER, operation=operation)
    wire = parse(_conv, WireTask, data, provider=PROVIDER, operation=operation)
    return to_task(wire, data)


def parse_task_page(response: httpx.Response) -> tuple[list[Task], str | None, bool]:
    """A page of tasks, the next token, and whether more follow (the SDK stops on
    `has_more` false; a page without `has_more` but with a token goes on)."""
    data = json_body(response, provider=PROVIDER, operation="list_tasks")
    page = parse(_conv, WireTaskPage, data, provider=PROVIDER, operation="list_tasks")
    more = page.has_more if "has_more" in data else page.next_token is not None
    tasks = [to_task(w, r) for w, r in zip(page.docs, data["docs"], strict=True)]
    return tasks, page.next_token, more


def task_result(task: Task) -> Result:
    """A task as a neutral `Result`: the item is the file it was made from (metadata
    `batchkit_item`), else its unique_id, else its id; the output its `response`."""
    item = task.metadata.get("batchkit_item")
    error = None
    if task.state is ItemState.FAILED:
        error = str(task.response.get("error", task.response)) if task.response else "error"
    return Result(
        item=str(item) if isinstance(item, str) else task.unique_id or task.id,
        state=task.state,
        output=task.response or {},
        error=error,
        raw=task.raw,
    )


def run_of(status: BatchStatus) -> Run:
    """A batch's processing as a neutral `Run`: done when the batch completed, or when no
    task is pending any more in a batch that is not staging."""
    counts = status.counts or TaskCounts()
    if status.state is BatchState.COMPLETED or (
        status.state is BatchState.IN_PROGRESS and counts.total and not counts.pending
    ):
        state = RunState.COMPLETED
    elif status.state in (BatchState.IN_PROGRESS, BatchState.STAGING):
        state = RunState.RUNNING
    else:
        state = RunState.UNKNOWN
    return Run(
        provider=PROVIDER,
        id=status.batch_id,
        batch_id=status.batch_id,
        state=state,
        counts=counts,
        raw=status.raw,
    )


def conflicting_task(error_text: str | None) -> str | None:
    """The id of the task a 409 on a unique_id names ("... used for a different task
    (<id>).", Scale's idempotent-requests page), if it does."""
    if not error_text:
        return None
    match = _CONFLICT.search(error_text)
    return match.group(1) if match else None


_CONFLICT = re.compile(r"different task \(([^()\s]+)\)")


def to_batch(wire: WireBatch, raw: Mapping[str, Any]) -> Batch:
    """A wire batch as a neutral `Batch`."""
    return Batch(
        provider=PROVIDER,
        id=wire.name,
        name=wire.name,
        project=wire.project,
        state=_STATES.get(wire.status or "", BatchState.UNKNOWN),
        created_at=wire.created_at,
        priority=wire.priority,
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
