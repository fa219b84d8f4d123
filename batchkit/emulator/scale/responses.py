"""HTTP handlers of the emulated Scale API: parse the wire, call the backend, answer the wire.

Each handler takes a `Call` (one authenticated request
plus the route's ``name``) and returns the JSON to answer 200 with: the backend already
speaks Scale's wire shapes. Every refusal is an
`EmulatorError`, answered by the app as ``{"error": ...}``
with its status.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import mimetypes
import re
from collections.abc import AsyncGenerator, Callable
from typing import Any, cast

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import JSONResponse

from batchkit.emulator import _json as strict_json
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
from batchkit.emulator.scale.errors import ContentTooLarge, DuplicateTask
from batchkit.emulator.scale.tasks import (
    REVIEW_STATUSES,
    TASK_STATUSES,
    TOP_LEVEL_KEYS,
    TaskStatus,
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
    """``POST /v1/batches/<name>/setMetadata`` (the metadata object) → the batch. No body is
    ``{}``: the SDK sends none for empty metadata (its ``api.py`` sends ``body or None``)."""
    call.backend.get_batch(call.tenant, call.params["name"])  # 404 before 400, as for the others
    metadata = await call.json_object(empty={})
    return call.backend.set_metadata(call.tenant, call.params["name"], metadata)


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


# ---- tasks ---------------------------------------------------------------------------------

#: a task id as the emulator issues them (and a ``next_token``, which is one)
_TASK_ID = re.compile(r"[0-9a-f]{24}")


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{key!r} must be an array of strings, got {excerpt(json.dumps(value))}")
    return list(value)


async def create_task(call: Call) -> Answer:
    """``POST /v1/task/<type>`` → the task object (200).

    The common fields are read here (``project``, ``batch``, ``instruction``,
    ``callback_url``, ``metadata``, ``unique_id``, ``priority``, ``tags``,
    ``clear_unique_id_on_error``); every other key is a type-specific parameter, stored in
    ``params``. The ``Idempotency-Key`` header (Scale's alternative to ``unique_id``) is
    honoured: a key used before is a 409. A duplicate is answered as the docs show, with
    ``status_code`` beside ``error``.
    """
    body = await call.json_object()
    unique_id = _string(body, "unique_id")
    if unique_id == "":
        raise BadRequest("'unique_id' must not be empty")
    priority = body.get("priority")
    clear = body.get("clear_unique_id_on_error")
    if clear is not None and not isinstance(clear, bool):
        raise BadRequest(f"'clear_unique_id_on_error' must be a boolean, got {json.dumps(clear)}")
    try:
        return call.backend.create_task(
            call.tenant,
            call.params["task"],
            project=_string(body, "project"),
            batch=_string(body, "batch"),
            params={k: v for k, v in body.items() if k not in TOP_LEVEL_KEYS},
            instruction=_string(body, "instruction"),
            callback_url=_string(body, "callback_url"),
            metadata=_object(body, "metadata"),
            unique_id=unique_id,
            priority=None if priority is None else _integer(priority, "priority"),
            tags=_strings(body, "tags"),
            clear_unique_id_on_error=bool(clear),
            idempotency_key=call.headers.get("idempotency-key"),
        )
    except DuplicateTask as duplicate:
        return JSONResponse(duplicate.body(), duplicate.status)


async def get_task(call: Call) -> Answer:
    """``GET /v1/task/<task_id>`` → the task object."""
    return call.backend.get_task(call.tenant, call.params["task"])


def _query_choice(call: Call, key: str, choices: tuple[str, ...]) -> str | None:
    value = call.query.get(key)
    if value is not None and value not in choices:
        raise BadRequest(
            f"query parameter {key!r} must be one of {', '.join(choices)}, got {excerpt(value)}"
        )
    return value


async def list_tasks(call: Call) -> Answer:
    """``GET /v1/tasks`` → ``{"docs", "total", "limit", "offset", "has_more", "next_token"}``.

    Filters: ``project``, ``batch``, ``status``, ``type``, ``unique_id`` and ``tags``
    (repeatable), ``start_time``/``end_time`` (``created_at``), ``completed_after``/
    ``completed_before``, ``updated_after``/``updated_before``, ``customer_review_status``
    (comma-joined). ``include_attachment_url`` is accepted (the URL's key is undocumented: no
    URL is added); ``limited_response`` trims each task. ``limit`` 1-100 (default 100);
    ``next_token`` pages.

    The SDK refuses to list without a project or batch, and Scale's v2 docs expect one; the
    SDK itself lists by ``unique_id`` alone (its 409 recovery), and no v1 source says the
    server refuses a listing without any: it lists all the customer's tasks.
    """
    query = call.query
    status = _query_choice(call, "status", TASK_STATUSES)
    review = query.get("customer_review_status")
    reviews = None
    if review is not None:
        reviews = [value.strip() for value in review.split(",")]
        for value in reviews:
            if value not in REVIEW_STATUSES:
                raise BadRequest(
                    "query parameter 'customer_review_status' must be a comma-joined list of "
                    f"{', '.join(REVIEW_STATUSES)}, got {excerpt(review)}"
                )
    limit = call.query_int("limit")
    if limit is None:
        limit = MAX_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"query parameter 'limit' must be from 1 to {MAX_LIMIT}, got {limit}")
    next_token = query.get("next_token") or None
    if next_token is not None and not _TASK_ID.fullmatch(next_token):
        raise BadRequest(
            f"query parameter 'next_token' must be a next_token this API returned, got "
            f"{excerpt(next_token)}"
        )
    call.query_bool("include_attachment_url")
    return call.backend.list_tasks(
        call.tenant,
        project=query.get("project"),
        batch=query.get("batch"),
        status=cast(TaskStatus | None, status),
        type=query.get("type"),
        unique_ids=query.getlist("unique_id"),
        tags=query.getlist("tags"),
        start_time=_query_time(call, "start_time"),
        end_time=_query_time(call, "end_time"),
        completed_after=_query_time(call, "completed_after"),
        completed_before=_query_time(call, "completed_before"),
        updated_after=_query_time(call, "updated_after"),
        updated_before=_query_time(call, "updated_before"),
        customer_review_status=reviews,
        limited_response=call.query_bool("limited_response"),
        limit=limit,
        next_token=next_token,
    )


async def cancel_task(call: Call) -> Answer:
    """``POST /v1/task/<task_id>/cancel[?clear_unique_id=true]`` → the canceled task; any
    body is ignored (the SDK sends none)."""
    return call.backend.cancel_task(
        call.tenant, call.params["task"], clear_unique_id=call.query_bool("clear_unique_id")
    )


# ---- task edits ----------------------------------------------------------------------------
#
# The SDK sends each body with ``requests``' ``json=`` after ``body = body or None``
# (scaleapi 2.18.4 ``api.py:83``): an empty list or object goes as **no body at all**. So a
# blank body is read as the empty value the SDK was given (``set_task_tags(id, [])`` clears
# the tags, ``set_task_metadata(id, {})`` empties the metadata); any other body must be the
# JSON value the endpoint takes. Each handler first checks the task exists: an unknown task
# is a 404 whatever the body, as for batches.


async def _json_body(call: Call, empty: Any) -> Any:
    """The body as strict JSON (any value), ``empty`` when it is blank; else 400."""
    body = bytearray()
    async for chunk in call.chunks():
        body += chunk
    if not body.strip():
        return empty
    try:
        return strict_json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise BadRequest(call.errors.not_json.format(error=exc)) from None


async def _tags_body(call: Call) -> list[str]:
    """The tags of a tags call: a JSON array of strings (the SDK's ``List[str]``), or a
    blank body for none."""
    call.backend.require_task(call.tenant, call.params["task"])
    value = await _json_body(call, [])
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise BadRequest(
            "the request body must be a JSON array of tags (strings), got "
            f"{excerpt(json.dumps(value))}"
        )
    return value


async def set_task_metadata(call: Call) -> Answer:
    """``POST /v1/task/<task_id>/setMetadata`` (the metadata object; blank: ``{}``) → the
    task, its ``metadata`` replaced."""
    call.backend.require_task(call.tenant, call.params["task"])
    value = await _json_body(call, {})
    if not isinstance(value, dict):
        raise BadRequest(
            "the request body must be the task's new metadata, a JSON object, got "
            f"{excerpt(json.dumps(value))}"
        )
    return call.backend.set_task_metadata(call.tenant, call.params["task"], value)


async def set_task_tags(call: Call) -> Answer:
    """``POST /v1/task/<task_id>/tags`` (a JSON array of tags) → the task, with exactly
    those tags."""
    tags = await _tags_body(call)
    return call.backend.set_task_tags(call.tenant, call.params["task"], tags)


async def add_task_tags(call: Call) -> Answer:
    """``PUT /v1/task/<task_id>/tags`` (a JSON array of tags) → the task, the new tags
    appended (those it has already are ignored)."""
    tags = await _tags_body(call)
    return call.backend.add_task_tags(call.tenant, call.params["task"], tags)


async def delete_task_tags(call: Call) -> Answer:
    """``DELETE /v1/task/<task_id>/tags`` (a JSON array of tags) → the task without them
    (tags it does not have are ignored)."""
    tags = await _tags_body(call)
    return call.backend.delete_task_tags(call.tenant, call.params["task"], tags)


async def update_task_unique_id(call: Call) -> Answer:
    """``POST /v1/task/<task_id>/unique_id`` ``{"unique_id"}`` → the task with that
    ``unique_id``; one another task holds is a 409 with the create's duplicate body
    (``{"status_code": 409, "error"}``), which the SDK raises as ScaleDuplicateResource."""
    call.backend.require_task(call.tenant, call.params["task"])
    body = await call.json_object()
    unique_id = body.get("unique_id")
    if not isinstance(unique_id, str) or not unique_id:
        raise BadRequest(
            "'unique_id' is required: a non-empty string (to remove a task's unique_id, "
            f"DELETE it), got {excerpt(json.dumps(unique_id))}"
        )
    try:
        return call.backend.update_task_unique_id(call.tenant, call.params["task"], unique_id)
    except DuplicateTask as duplicate:
        return JSONResponse(duplicate.body(), duplicate.status)


async def clear_task_unique_id(call: Call) -> Answer:
    """``DELETE /v1/task/<task_id>/unique_id`` → the task without a ``unique_id`` (the SDK
    sends no body; any is ignored)."""
    return call.backend.clear_task_unique_id(call.tenant, call.params["task"])


async def audit_task(call: Call) -> Answer:
    """``POST /v1/task/<task_id>/audit`` ``{"accepted": bool, "comments": str | null}`` →
    the task, the audit recorded in its ``audits`` (the SDK sends both keys and ignores
    the answer). A task that is not ``completed`` is a 400."""
    call.backend.require_task(call.tenant, call.params["task"])
    body = await call.json_object()
    accepted = body.get("accepted")
    if not isinstance(accepted, bool):
        raise BadRequest(
            "'accepted' is required: true to accept the task, false to reject it, got "
            f"{excerpt(json.dumps(accepted))}"
        )
    return call.backend.audit_task(
        call.tenant, call.params["task"], accepted=accepted, comments=_string(body, "comments")
    )


# ---- files ---------------------------------------------------------------------------------

#: room for the form's other fields and part headers, beyond the file's own limit
_FORM_OVERHEAD = 1024 * 1024
_FORM_FIELDS = ("display_name", "project_name", "reference_id", "metadata")


def _metadata(value: Any, key: str = "metadata") -> dict[str, Any] | None:
    """``metadata`` as an object: a JSON object, or a string holding one (the docs' upload
    example sends ``json.dumps(...)``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = strict_json.loads(value.encode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            raise BadRequest(f"{key!r} must be a JSON object (or a string holding one)") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{key!r} must be a JSON object (or a string holding one)")
    return value


def _mime_type(declared: str | None, name: str | None) -> str:
    if declared and declared.lower() != "application/octet-stream":
        return declared.split(";", 1)[0].strip()
    guessed = mimetypes.guess_type(name or "")[0]
    return guessed or "application/octet-stream"


async def _form(call: Call) -> FormData:
    content_type = call.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("the request must be multipart/form-data with a 'file' part")
    limit = call.backend.max_file_size + _FORM_OVERHEAD

    async def body() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in call.chunks():
            received += len(chunk)
            if received > limit:
                raise ContentTooLarge(
                    f"the upload is larger than {call.backend.max_file_size} bytes per file"
                )
            yield chunk

    parser = MultiPartParser(call.headers, body(), max_files=8, max_fields=64)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"the multipart form is malformed: {exc.message}") from None


async def upload_file(call: Call) -> Answer:
    """``POST /v1/files/upload`` (multipart: ``file``, ``display_name``, ``project_name``,
    ``reference_id``, ``metadata`` as a JSON string) → the File object (200)."""
    form = await _form(call)
    try:
        fields: dict[str, str | None] = {}
        for key in _FORM_FIELDS:
            value = form.get(key)
            if isinstance(value, UploadFile):
                raise BadRequest(f"{key!r} must be a plain form field, not a file")
            fields[key] = value or None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("'file' is required: a file part of the multipart form")
        if sum(isinstance(value, UploadFile) for _, value in form.multi_items()) > 1:
            raise BadRequest("send one file per upload, in the 'file' part")
        return call.backend.upload_file(
            call.tenant,
            size=upload.size or 0,
            mime_type=_mime_type(upload.content_type, upload.filename),
            display_name=fields["display_name"],
            project_name=fields["project_name"],
            reference_id=fields["reference_id"],
            metadata=_metadata(fields["metadata"]),
        )
    finally:
        await form.close()


#: a URI scheme, then ':' (RFC 3986)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")


async def import_file(call: Call) -> Answer:
    """``POST /v1/files/import`` ``{"file_url", "project_name", "reference_id", "metadata",
    "display_name"}`` → the File object (200). The URL is never fetched. Only ``file_url``
    is documented for import (the SDK passes any other keyword through); the others are
    read as upload's fields, ``metadata`` as a JSON object."""
    body = await call.json_object()
    file_url = _required(body, "file_url")
    if not _URI.fullmatch(file_url):
        raise BadRequest(f"'file_url' must be a URL, got {excerpt(file_url)}")
    return call.backend.import_file(
        call.tenant,
        file_url=file_url,
        mime_type=_mime_type(None, file_url.split("?", 1)[0]),
        display_name=_string(body, "display_name") or None,
        project_name=_string(body, "project_name") or None,
        reference_id=_string(body, "reference_id") or None,
        metadata=_object(body, "metadata"),
    )


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
