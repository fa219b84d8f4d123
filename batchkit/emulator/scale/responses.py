"""HTTP handlers of the emulated Scale API: parse the wire, call the backend, answer the wire.

Each handler takes a :class:`~batchkit.emulator._request.Call` (one authenticated request
plus the route's ``name``) and returns the JSON to answer 200 with: the backend already
speaks Scale's wire shapes. Every refusal is an
:class:`~batchkit.emulator._errors.EmulatorError`, answered by the app as ``{"error": ...}``
with its status.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any, cast

from starlette.datastructures import Headers

from batchkit.emulator import _request
from batchkit.emulator._errors import BadRequest, Unauthorized
from batchkit.emulator._input import MAX_DIGITS, excerpt, in_range, printable_ascii
from batchkit.emulator._request import Answer
from batchkit.emulator.scale.backend import (
    BATCH_STATUSES,
    MAX_LIMIT,
    TASK_OUTCOMES,
    ScaleBackend,
    TaskOutcome,
)

Call = _request.Call[ScaleBackend]


# ---- authentication ------------------------------------------------------------------------


def api_key(headers: Headers, accept: Callable[[str], bool]) -> str:
    """The accepted API key of a request (the tenant): the HTTP Basic user name; else 401.

    Header text arrives decoded as Latin-1, so any byte can be in it: the base64 must be
    ASCII, decode to UTF-8, and name a key of visible ASCII (as Scale's keys are).
    """
    authorization = headers.get("authorization")
    if not authorization:
        raise Unauthorized("Please provide a valid API key as the HTTP Basic user name")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        raise Unauthorized("The Authorization header must be HTTP Basic with the API key as user")
    malformed = Unauthorized(
        "The Authorization header's Basic credentials are malformed: send base64 of "
        "'<api key>:' (the key as user name, an empty password)"
    )
    if not credentials.isascii():
        raise malformed
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise malformed from None
    key, _, _password = decoded.partition(":")
    if not key:
        raise Unauthorized("Please provide a valid API key as the HTTP Basic user name")
    if not printable_ascii(key):
        raise Unauthorized(
            "Invalid API key: Scale API keys are visible ASCII characters (no spaces, control "
            "characters or other scripts); check it was copied whole"
        )
    if not accept(key):
        raise Unauthorized("Invalid API key")
    return key


# ---- parameter parsing ---------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes '²' and '٣'


def _string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string, got {json.dumps(value)}")
    return value


def _required(body: dict[str, Any], key: str) -> str:
    value = _string(body, key)
    if not value:
        raise BadRequest(f"{key!r} is required: a non-empty string")
    return value


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise BadRequest(f"{key!r} must be an object, got {json.dumps(value)}")
    return value


def _boolean(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"{key!r} must be a boolean, got {json.dumps(value)}")
    return value


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{key!r} must be an integer, got {json.dumps(value)}")
    if not in_range(value):
        raise BadRequest(
            f"{key!r} must be an integer of at most {MAX_DIGITS} digits, "
            f"got a {len(str(abs(value)))}-digit number"
        )
    return value


#: the largest ``offset`` taken: any signed 64-bit count (past the end is an empty page)
MAX_OFFSET = 2**63 - 1


def _query_offset(call: Call) -> int:
    value = call.query.get("offset")
    if value is None:
        return 0
    digits = value.strip()
    significant = digits.lstrip("0") or "0"
    if not _DIGITS.fullmatch(digits) or len(significant) > 19 or int(significant) > MAX_OFFSET:
        raise BadRequest(
            f"query parameter 'offset' must be an integer from 0 to {MAX_OFFSET}, "
            f"got {excerpt(value)}"
        )
    return int(significant)


#: a leap second (RFC 3339 allows ``:60``; Python's datetime does not)
_LEAP_SECOND = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}):60(?=[.+Z-]|$)")


def _iso_datetime(value: str) -> dt.datetime:
    """An ISO 8601 date or date-time, RFC 3339's lower-case ``t`` / ``z`` and leap second
    included (read as the last microsecond of its minute); ``ValueError`` otherwise."""
    text = value.strip()
    if len(text) > 10 and text[10] == "t":
        text = f"{text[:10]}T{text[11:]}"
    if text.endswith("z"):
        text = text[:-1] + "Z"
    text, leap = _LEAP_SECOND.subn(r"\1:59", text)
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(microsecond=999_999) if leap else moment


def _query_time(call: Call, key: str) -> dt.datetime | None:
    value = call.query.get(key)
    if value is None:
        return None
    try:
        moment = _iso_datetime(value)
    except ValueError:
        raise BadRequest(
            f"query parameter {key!r} must be an ISO 8601 date or date-time, got {excerpt(value)}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ---- Scale v1 ------------------------------------------------------------------------------


async def create_project(call: Call) -> Answer:
    """``POST /v1/projects`` → the project, echoing every field it was created with."""
    body = await call.json_object()
    name = _required(body, "name")
    type_ = _required(body, "type")
    params = _object(body, "params")
    _boolean(body, "rapid")
    _boolean(body, "studio")
    # the SDK sends datasetId (null for none); Scale's reference example sends pipeline
    _string(body, "datasetId")
    _string(body, "pipeline")
    extra = {k: v for k, v in body.items() if k not in ("name", "type", "params")}
    return call.backend.create_project(
        call.tenant, name=name, type=type_, params=params, extra=extra
    )


async def get_project(call: Call) -> Answer:
    """``GET /v1/projects/<name>`` → the project."""
    return call.backend.get_project(call.tenant, call.params["name"])


async def list_projects(call: Call) -> Answer:
    """``GET /v1/projects`` → a bare JSON array, unpaged (the SDK iterates the body itself)."""
    return call.backend.list_projects(call.tenant)


async def create_batch(call: Call) -> Answer:
    """``POST /v1/batches`` → the batch (200, never 201)."""
    body = await call.json_object()
    project = _required(body, "project")
    name = _required(body, "name")
    metadata = _object(body, "metadata")
    return call.backend.create_batch(
        call.tenant,
        project=project,
        name=name,
        callback=_string(body, "callback"),
        calibration_batch=_boolean(body, "calibration_batch"),
        self_label_batch=_boolean(body, "self_label_batch"),
        metadata=metadata,
    )


async def list_batches(call: Call) -> Answer:
    """``GET /v1/batches?project&status&start_time&end_time&exclude_archived&detailed&limit&offset``
    → one page ``{"docs", "totalDocs", "limit", "offset", "has_more"}``, newest first."""
    query = call.query
    status = query.get("status")
    if status is not None and status not in BATCH_STATUSES:
        raise BadRequest(
            f"query parameter 'status' must be one of {', '.join(BATCH_STATUSES)},"
            f" got {excerpt(status)}"
        )
    limit = call.query_int("limit")
    if limit is None:
        limit = MAX_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"query parameter 'limit' must be from 1 to {MAX_LIMIT}, got {limit}")
    return call.backend.list_batches(
        call.tenant,
        project=query.get("project"),
        status=status,
        start_time=_query_time(call, "start_time"),
        end_time=_query_time(call, "end_time"),
        exclude_archived=call.query_bool("exclude_archived"),
        detailed=call.query_bool("detailed"),
        limit=limit,
        offset=_query_offset(call),
    )


async def get_batch(call: Call) -> Answer:
    """``GET /v1/batches/<name>`` → the batch."""
    return call.backend.get_batch(call.tenant, call.params["name"])


async def finalize_batch(call: Call) -> Answer:
    """``POST /v1/batches/<name>/finalize`` → the batch. The docs list a ``batchName`` body
    parameter; the name is in the path: the body is ignored."""
    return call.backend.finalize_batch(call.tenant, call.params["name"])


async def batch_status(call: Call) -> Answer:
    """``GET /v1/batches/<name>/status`` → the status and task counts."""
    return call.backend.batch_status(call.tenant, call.params["name"])


async def set_metadata(call: Call) -> Answer:
    """``POST /v1/batches/<name>/setMetadata`` (the metadata object) → the batch."""
    call.backend.get_batch(call.tenant, call.params["name"])  # 404 before 400, as for the others
    return call.backend.set_metadata(call.tenant, call.params["name"], await call.json_object())


async def prioritize(call: Call) -> Answer:
    """``POST /v1/batches/<name>/prioritize`` ``{"priority": 10..30}`` → ``{"result": "success"}``.

    The docs' body table names the field ``batchName`` ("The new priority for the batch");
    the SDK sends ``priority``. Accept both, ``priority`` first.
    """
    call.backend.get_batch(call.tenant, call.params["name"])
    body = await call.json_object()
    key = "priority" if "priority" in body else "batchName"
    if key not in body:
        raise BadRequest("'priority' is required: an integer from 10 (lowest) to 30 (highest)")
    return call.backend.prioritize(call.tenant, call.params["name"], _integer(body[key], key))


# ---- emulator control ----------------------------------------------------------------------


async def add_tasks(call: Call) -> Answer:
    """``POST /_emulator/scale/batches/<name>/tasks`` ``{"count"}`` (emulator control) →
    ``{"task_ids"}``."""
    body = await call.json_object(empty={})
    count = _integer(body.get("count", 1), "count")
    return {"task_ids": call.backend.add_tasks(call.tenant, call.params["name"], count)}


async def complete_tasks(call: Call) -> Answer:
    """``POST /_emulator/scale/batches/<name>/tasks/complete`` ``{"count", "outcome"}``
    (emulator control) → ``{"task_ids", "status"}``."""
    body = await call.json_object(empty={})
    count = body.get("count")
    if count is not None:
        count = _integer(count, "count")
    outcome = body.get("outcome", "completed")
    if outcome not in TASK_OUTCOMES:
        raise BadRequest(
            f"'outcome' must be one of {', '.join(TASK_OUTCOMES)}, got {json.dumps(outcome)}"
        )
    moved = call.backend.complete_tasks(
        call.tenant, call.params["name"], count, outcome=cast(TaskOutcome, outcome)
    )
    return {
        "task_ids": moved,
        "status": call.backend.batch_status(call.tenant, call.params["name"]),
    }


async def archive_batch(call: Call) -> Answer:
    """``POST /_emulator/scale/batches/<name>/archive`` ``{"archived"}`` (emulator control) →
    the batch."""
    body = await call.json_object(empty={})
    archived = body.get("archived", True)
    if not isinstance(archived, bool):
        raise BadRequest(f"'archived' must be a boolean, got {json.dumps(archived)}")
    return call.backend.archive_batch(call.tenant, call.params["name"], archived)
