"""AI Hub app runs on the wire (spec: runApp, runDeployment, getRunStatus, getRunResults):
requests as `Call`s, responses as neutral `Run` / `Result`s. See notes/labeling-wire.md §1.

Where the spec disagrees with itself, every documented form is accepted: the run message is
`msg` on a run and `message` on results; `batch_id` an integer on a run and a string on
results; a results page's `keys` an object in the schema and a list in its first example.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..._call import Call, Retry
from ..._errors import ProviderError
from ..._http import segment
from ..._models import ItemState, Result, Run, RunState
from ..._wire import json_body

PROVIDER = "aihub"

_STATES = {
    "RUNNING": RunState.RUNNING,
    "PAUSED": RunState.RUNNING,  # "reserved for future use": not done
    "STOPPED_AT_CHECKPOINT": RunState.NEEDS_REVIEW,
    "COMPLETE": RunState.COMPLETED,
    "FAILED": RunState.FAILED,
    "CANCELLED": RunState.CANCELED,
}


def run_app(app: str, batch_id: str, owner: str | None) -> Call:
    """POST /v2/apps/runs (200): the app by name on every file of the batch. Not
    idempotent: retried only when it provably never reached the server."""
    body: dict[str, Any] = {"app_name": app, "batch_id": int(batch_id)}
    if owner is not None:
        body["owner"] = owner
    return Call(
        "start",
        "POST",
        "v2/apps/runs",
        json=body,
        ok=frozenset({200, 201, 202}),
        retry=Retry.UNSENT_ONLY,
    )


def run_deployment(deployment: str, batch_id: str) -> Call:
    """POST /v2/apps/deployments/{deployment-id}/runs (202; 200 accepted too)."""
    return Call(
        "start",
        "POST",
        f"v2/apps/deployments/{segment(deployment)}/runs",
        json={"batch_id": int(batch_id)},
        ok=frozenset({200, 201, 202}),
        retry=Retry.UNSENT_ONLY,
    )


def get_run(run_id: str) -> Call:
    """GET /v2/apps/runs/{run_id}."""
    return Call("wait", "GET", f"v2/apps/runs/{segment(run_id)}")


def run_results(run_id: str, offset: int) -> Call:
    """GET /v2/apps/runs/{run_id}/results from file `offset`, with confidence scores."""
    return Call(
        "results",
        "GET",
        f"v2/apps/runs/{segment(run_id)}/results",
        params={"file_offset": offset, "include_confidence_scores": "true"},
    )


def _shape(operation: str, what: str) -> ProviderError:
    return ProviderError(
        f"aihub {operation}: unexpected response shape ({what})",
        provider=PROVIDER,
        operation=operation,
    )


def _object(data: Any, operation: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise _shape(operation, f"expected an object, got {type(data).__name__}")
    return data


def _text(data: Mapping[str, Any], key: str, operation: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _shape(operation, f"{key}: expected a string, got {type(value).__name__}")
    return value


def parse_run(response: httpx.Response, operation: str, batch_id: str | None = None) -> Run:
    """A `run` object as a neutral `Run` (its id from `id`, or an older `job-id` / `job_id`)."""
    data = _object(json_body(response, provider=PROVIDER, operation=operation), operation)
    run_id = data.get("id") or data.get("job-id") or data.get("job_id")
    if not isinstance(run_id, str) or not run_id:
        raise _shape(operation, "no run id (id)")
    status = _text(data, "status", operation)
    wire_batch = data.get("batch_id")
    if isinstance(wire_batch, bool) or not isinstance(wire_batch, int | str | None):
        raise _shape(operation, f"batch_id: got {type(wire_batch).__name__}")
    return Run(
        provider=PROVIDER,
        id=run_id,
        batch_id=str(wire_batch) if wire_batch is not None else (batch_id or ""),
        # a start answer may omit the status: the run has just begun
        state=_STATES.get(status or "RUNNING", RunState.UNKNOWN),
        message=_text(data, "msg", operation) or _text(data, "message", operation),
        raw=data,
    )


def _is_error(field: Mapping[str, Any]) -> bool:
    return bool(field.get("error_msg")) or field.get("value") == "ERROR"


def file_result(file: Any, run_state: RunState) -> Result:
    """One file of a results page as a neutral `Result`: its fields' values by field name
    (the first document's value wins where two documents name the same field). Failed: the
    run failed, or every field failed (AI Hub marks a field `ERROR` / `error_msg`)."""
    entry = _object(file, "results")
    name = _text(entry, "original_file_name", "results") or _text(
        entry, "input_file_path", "results"
    )
    if not name:
        raise _shape("results", "a file without original_file_name")
    documents = entry.get("documents") or []
    if not isinstance(documents, list):
        raise _shape("results", "documents: expected a list")
    output: dict[str, Any] = {}
    fields: list[Mapping[str, Any]] = []
    for document in documents:
        for field in _object(document, "results").get("fields") or []:
            field = _object(field, "results")
            fields.append(field)
            key = field.get("field_name")
            if isinstance(key, str):
                output.setdefault(key, field.get("value"))
    # one message per distinct error (AI Hub repeats a file's error on each of its fields)
    errors = list(dict.fromkeys(str(f["error_msg"]) for f in fields if f.get("error_msg")))
    if run_state is RunState.FAILED or (fields and all(_is_error(f) for f in fields)):
        state, error = ItemState.FAILED, "; ".join(errors) or "every field failed"
    else:
        state, error = ItemState.COMPLETED, None
    return Result(item=name, state=state, output=output, error=error, raw=entry)


def parse_results(response: httpx.Response) -> tuple[list[Result], bool, int]:
    """A results page: its files' results, whether more follow, and how many files it held
    (the next `file_offset` step)."""
    data = _object(json_body(response, provider=PROVIDER, operation="results"), "results")
    files = data.get("files") or []
    if not isinstance(files, list):
        raise _shape("results", "files: expected a list")
    more = data.get("has_more")
    if more is not None and not isinstance(more, bool):
        raise _shape("results", "has_more: expected true or false")
    run_state = _STATES.get(str(data.get("status") or "COMPLETE"), RunState.UNKNOWN)
    return [file_result(f, run_state) for f in files], bool(more), len(files)
