"""HTTP handlers of the emulated AI Hub: parse the wire, call the backend, answer the wire.

Each handler takes a `Call` (one authenticated request
plus the route's parameters) and returns a Starlette response, or a JSON value for a 200.
Request bodies are streamed to disk chunk by chunk and downloads are streamed from disk, so
neither side of a large transfer is held in memory. Every refusal is an
`EmulatorError`, answered by the app as ``{"message": ...}``
with its status.
"""

from __future__ import annotations

import email.utils
import re
import reprlib
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO
from urllib.parse import quote, unquote_to_bytes

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response, StreamingResponse

from batchkit.emulator import _request
from batchkit.emulator._errors import BadRequest, NotFound, RangeNotSatisfiable, Unauthorized
from batchkit.emulator._input import MAX_DIGITS, excerpt, in_range, printable_ascii, whole_number
from batchkit.emulator._request import Answer
from batchkit.emulator.aihub.apps import ResultFlags, RunOptions
from batchkit.emulator.aihub.backend import AIHubBackend
from batchkit.emulator.aihub.storage import CHUNK_SIZE, FileNode

Call = _request.Call[AIHubBackend]


# ---- authentication ------------------------------------------------------------------------


def bearer_token(headers: Headers, accept: Callable[[str], bool]) -> str:
    """The accepted bearer token of a request (the tenant); 401 otherwise.

    ``IB-Context`` is accepted and ignored: a tenant is its token, whatever context it names.
    """
    value = headers.get("authorization")
    if value is None:
        raise Unauthorized("missing 'Authorization: Bearer <token>' header")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("malformed Authorization header: expected 'Bearer <token>'")
    if not printable_ascii(token):
        # header text arrives decoded as Latin-1: any byte can be in it; tokens are ASCII
        raise Unauthorized(
            "malformed Authorization header: the token has characters other than visible "
            "ASCII; check it was copied whole"
        )
    if not accept(token):
        raise Unauthorized("the API token is not valid: check the token or generate a new one")
    return token


# ---- parameter parsing ---------------------------------------------------------------------


def _path_batch_id(text: str) -> int:
    """A batch id from the URL; anything but a non-negative integer is an unknown batch."""
    batch_id = whole_number(text)
    if batch_id is None:
        raise NotFound(f"batch {excerpt(text)} does not exist, or denied access")
    return batch_id


def _json_int(body: dict[str, Any], key: str, *, allow_str: bool = False) -> int:
    """A required integer field of at most 18 digits (``bool`` is not an integer here)."""
    if key not in body:
        raise BadRequest(f"{key!r} is required")
    value = body[key]
    if isinstance(value, int) and not isinstance(value, bool) and in_range(value):
        return value
    if allow_str and isinstance(value, str):
        number = whole_number(value)
        if number is not None:
            return number
    if isinstance(value, int) and not isinstance(value, bool):
        got = f"a {len(str(abs(value)))}-digit number"
    else:
        got = excerpt(value) if isinstance(value, str) else reprlib.repr(value)
    raise BadRequest(f"{key!r} must be an integer of at most {MAX_DIGITS} digits, got {got}")


def _json_str(body: dict[str, Any], key: str) -> str:
    """A required string field."""
    if key not in body:
        raise BadRequest(f"{key!r} is required")
    value = body[key]
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string, got {value!r}")
    return value


# ---- batches -------------------------------------------------------------------------------


async def create_batch(call: Call) -> Answer:
    """``POST /v2/batches`` → 200 ``{"id": int}``."""
    body = await call.json_object()
    name = _json_str(body, "name")
    workspace = body.get("workspace")
    if workspace is not None and not isinstance(workspace, str):
        raise BadRequest(f"'workspace' must be a string, got {workspace!r}")
    batch = call.backend.create_batch(call.tenant, name=name, workspace=workspace)
    return {"id": batch.id}


async def list_batches(call: Call) -> Answer:
    """``GET /v2/batches`` (filters ``workspace``, ``username``, ``limit``, ``offset``)."""
    limit = call.query_int("limit")
    offset = call.query_int("offset") or 0
    batches = call.backend.list_batches(
        call.tenant,
        workspace=call.query.get("workspace"),
        username=call.query.get("username"),
        limit=limit,
        offset=offset,
    )
    return {"batches": [b.to_json() for b in batches]}


async def get_batch(call: Call) -> Answer:
    """``GET /v2/batches/<id>`` → the batch object."""
    batch = call.backend.get_batch(call.tenant, _path_batch_id(call.params["batch_id"]))
    return batch.to_json()


async def delete_batch(call: Call) -> Answer:
    """``DELETE /v2/batches/<id>`` → 202 with the job id under both documented keys."""
    job = call.backend.delete_batch(call.tenant, _path_batch_id(call.params["batch_id"]))
    return JSONResponse(
        {"job_id": job.id, "job-id": job.id},
        status_code=202,
        headers={"Location": call.url(f"/api/v2/batches/jobs/{job.id}")},
    )


async def upload_file(call: Call) -> Answer:
    """``PUT /v2/batches/<id>/files/<name>`` → 204; the body is streamed to disk."""
    batch_id = _path_batch_id(call.params["batch_id"])
    name = call.params["filename"]
    call.backend.check_can_upload(call.tenant, batch_id, name)
    spooled = await call.backend.blobs.spool(call.chunks())
    call.backend.put_batch_file(call.tenant, batch_id, name, spooled.path, spooled.size)
    return Response(status_code=204)


async def delete_file(call: Call) -> Answer:
    """``DELETE /v2/batches/<id>/files/<name>`` → 202 with ``Location`` (the job URL)."""
    job = call.backend.delete_batch_file(
        call.tenant, _path_batch_id(call.params["batch_id"]), call.params["filename"]
    )
    return Response(
        status_code=202, headers={"Location": call.url(f"/api/v2/batches/jobs/{job.id}")}
    )


async def list_files(call: Call) -> Answer:
    """``GET /v2/batches/<id>/files?page_size=&start_token=`` → one page of file nodes."""
    batch_id = _path_batch_id(call.params["batch_id"])
    page = call.backend.list_batch_files(
        call.tenant,
        batch_id,
        page_size=call.query_int("page_size", minimum=1),
        start_token=call.query.get("start_token") or "",
    )
    return page.to_json()


async def poll_job(call: Call) -> Answer:
    """``GET /v2/jobs/<id>`` (the spec's preferred poll, the SDK's ``jobs.status``), and the
    same over ``/v2/batches/jobs/<id>`` and ``/v2/files/delete/jobs/<id>`` → 200
    ``{"state", "message"}``; 404 for an unknown job or another tenant's."""
    return call.backend.poll_job(call.tenant, call.params["job_id"]).to_json()


async def complete_jobs(call: Call) -> Answer:
    """``POST /_emulator/aihub/jobs/complete`` (emulator control, not AI Hub): complete all of
    the caller's pending jobs now → 200 ``{"completed": n}``."""
    await call.drain()
    return {"completed": call.backend.finish_jobs(call.tenant)}


# ---- apps and runs -------------------------------------------------------------------------


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    """An optional string field (absent: None; ``null`` or another type: 400)."""
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, str):
        got = reprlib.repr(value)
        raise BadRequest(f"{key!r} must be a string, got {got}")
    return value


def _optional_bool(body: dict[str, Any], key: str, where: str = "") -> bool | None:
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, bool):
        raise BadRequest(f"'{where}{key}' must be true or false, got {reprlib.repr(value)}")
    return value


def _object_in(parent: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    """An optional object field (absent: ``{}``; anything but an object: 400)."""
    if key not in parent:
        return {}
    value = parent[key]
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}{key}' must be an object, got {reprlib.repr(value)}")
    return value


def _string_map(parent: dict[str, Any], key: str, where: str) -> dict[str, str]:
    """An optional object whose values are all strings (secrets, PDF passwords)."""
    value = _object_in(parent, key, where)
    for name, item in value.items():
        if not isinstance(item, str):
            raise BadRequest(
                f"'{where}{key}' maps names to strings; {name!r} is {reprlib.repr(item)}"
            )
    return value


def _run_options(body: dict[str, Any]) -> RunOptions:
    """The ``settings``, ``output_workspace`` and ``output_dir`` of a run request, checked
    against the spec's schema (one for run-app and run-deployment). Unknown keys are
    ignored: the SDK sends keys the spec's body does not list (``output_workspace`` to a
    deployment, ``settings.webhook_config``)."""
    settings = _object_in(body, "settings")
    keys = _object_in(settings, "keys", "settings.")
    custom = _object_in(keys, "custom", "settings.keys.")
    _string_map(keys, "secret", "settings.keys.")
    runtime = _object_in(settings, "runtime_config", "settings.")
    pdf = _optional_bool(runtime, "generate_post_process_pdf", "settings.runtime_config.")
    instabase = _object_in(runtime, "instabase", "settings.runtime_config.")
    pdf_config = _object_in(instabase, "pdf", "settings.runtime_config.instabase.")
    _string_map(pdf_config, "passwords", "settings.runtime_config.instabase.pdf.")
    tags = settings.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise BadRequest(f"'settings.tags' must be a list of strings, got {reprlib.repr(tags)}")
    return RunOptions(
        output_workspace=_optional_str(body, "output_workspace"),
        output_dir=_optional_str(body, "output_dir"),
        tags=tuple(tags),
        custom_keys=dict(custom),
        generate_post_process_pdf=bool(pdf),
    )


def _run_input(body: dict[str, Any]) -> tuple[int | None, str | None]:
    """``(batch_id, input_dir)`` of a run request. ``batch_id`` is an integer in the schema
    (and the SDK's ``StrictInt``), but the spec's "Complex request" example quotes it
    (``"batch_id": "<BATCH-ID>"``): a string of digits is accepted too."""
    batch_id = _json_int(body, "batch_id", allow_str=True) if "batch_id" in body else None
    return batch_id, _optional_str(body, "input_dir")


async def run_app(call: Call) -> Answer:
    """``POST /v2/apps/runs`` ``{"app_name" | "app_id", "batch_id" | "input_dir", "owner",
    "version", "output_workspace", "output_dir", "settings"}`` → **200** the run (the spec
    and the SDK, which maps only 200 here)."""
    body = await call.json_object()
    batch_id, input_dir = _run_input(body)
    run = call.backend.run_app(
        call.tenant,
        app_name=_optional_str(body, "app_name"),
        app_id=_optional_str(body, "app_id"),
        owner=_optional_str(body, "owner"),
        version=_optional_str(body, "version"),
        batch_id=batch_id,
        input_dir=input_dir,
        options=_run_options(body),
    )
    return run.to_json()


async def run_deployment(call: Call) -> Answer:
    """``POST /v2/apps/deployments/<deployment-id>/runs`` ``{"batch_id" | "input_dir" |
    "manual_upstream_integration", "from_timestamp", "to_timestamp", "version",
    "output_dir", "settings"}`` → **202** the run (the spec and the SDK, which maps only
    202 here, unlike run-app's 200)."""
    deployment_id = call.params["deployment_id"]
    body = await call.json_object()
    batch_id, input_dir = _run_input(body)
    manual = _optional_bool(body, "manual_upstream_integration")
    for key in ("from_timestamp", "to_timestamp"):  # Unix ms, for mailbox integrations
        value = body.get(key)
        if key in body and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise BadRequest(f"{key!r} must be a number (Unix milliseconds), got {value!r}")
    run = call.backend.run_deployment(
        call.tenant,
        deployment_id,
        version=_optional_str(body, "version"),
        batch_id=batch_id,
        input_dir=input_dir,
        manual_upstream_integration=bool(manual),
        options=_run_options(body),
    )
    return JSONResponse(run.to_json(), status_code=202)


async def list_runs(call: Call) -> Answer:
    """``GET /v2/apps/runs`` (filters ``app_id``, ``app_name``, ``deployment_id``,
    ``username``, ``run_id``, ``status`` and ``output_workspaces`` (both repeatable),
    ``from_timestamp``, ``to_timestamp``; ``limit``, ``offset``, ``sort_by``, ``order``) →
    200 ``{"runs": [...]}``."""
    query = call.query
    runs = call.backend.list_runs(
        call.tenant,
        app_id=query.get("app_id"),
        app_name=query.get("app_name"),
        deployment_id=query.get("deployment_id"),
        username=query.get("username"),
        run_id=query.get("run_id"),
        statuses=query.getlist("status"),
        output_workspaces=query.getlist("output_workspaces"),
        from_timestamp=call.query_int("from_timestamp"),
        to_timestamp=call.query_int("to_timestamp"),
        limit=call.query_int("limit"),
        offset=call.query_int("offset") or 0,
        sort_by=query.get("sort_by", "start_timestamp"),
        order=query.get("order", "DESCENDING"),
    )
    return {"runs": [run.to_json() for run in runs]}


async def get_run_status(call: Call) -> Answer:
    """``GET /v2/apps/runs/<run_id>`` → 200 the run (each call counts as a poll)."""
    return call.backend.poll_run(call.tenant, call.params["run_id"]).to_json()


def _query_flag(call: Call, name: str, *, default: bool) -> bool:
    return default if call.query.get(name) is None else call.query_bool(name)


async def delete_run(call: Call) -> Answer:
    """``DELETE /v2/apps/runs/<run_id>?delete_db_data&delete_input&delete_output&delete_logs``
    (each default true) → 202 ``{"delete_input_dir_job_id", "delete_output_dir_job_id",
    "delete_log_dir_job_id"}``, to poll at ``/v2/jobs/<id>``."""
    deletion = call.backend.delete_run(
        call.tenant,
        call.params["run_id"],
        delete_db_data=_query_flag(call, "delete_db_data", default=True),
        delete_input=_query_flag(call, "delete_input", default=True),
        delete_output=_query_flag(call, "delete_output", default=True),
        delete_logs=_query_flag(call, "delete_logs", default=True),
    )
    return JSONResponse(deletion.to_json(), status_code=202)


async def get_run_results(call: Call) -> Answer:
    """``GET /v2/apps/runs/<run_id>/results?file_offset&include_review_results&
    include_confidence_scores&include_validation_results&include_source_info`` → 200 one page
    of results; fetch on from ``file_offset + len(files)`` while ``has_more``."""
    flags = ResultFlags(
        review_results=call.query_bool("include_review_results"),
        confidence_scores=call.query_bool("include_confidence_scores"),
        validation_results=call.query_bool("include_validation_results"),
        source_info=call.query_bool("include_source_info"),
    )
    page = call.backend.run_results(
        call.tenant,
        call.params["run_id"],
        file_offset=call.query_int("file_offset") or 0,
        flags=flags,
    )
    return page.to_json()


async def complete_runs(call: Call) -> Answer:
    """``POST /_emulator/aihub/runs/complete`` (emulator control, not AI Hub): end all of the
    caller's running runs now → 200 ``{"completed": n}``."""
    await call.drain()
    return {"completed": call.backend.finish_runs(call.tenant)}


async def cancel_run(call: Call) -> Answer:
    """``POST /_emulator/aihub/runs/<run_id>/cancel`` (emulator control, not AI Hub: the spec
    has no cancel operation): a running run becomes CANCELLED → 200 the run; 409 if it has
    ended."""
    await call.drain()
    return call.backend.cancel_run(call.tenant, call.params["run_id"]).to_json()


# ---- multipart -----------------------------------------------------------------------------


async def start_multipart(call: Call) -> Answer:
    """``POST /v2/batches/multipart-upload`` → 201, ``Location`` and session id + part size.

    Body: ``{"batch_id", "filename", "file_size"}`` (the SDK's form) or ``{"path",
    "file_size"}`` (the docs' example), ``path`` naming the batch file's full path.
    """
    body = await call.json_object()
    if "path" in body and ("batch_id" in body or "filename" in body):
        raise BadRequest("send either 'path' or 'batch_id' and 'filename', not both")
    file_size = _json_int(body, "file_size")
    if "path" in body:
        batch_id, filename = call.backend.batch_file_for_path(call.tenant, _json_str(body, "path"))
    else:
        batch_id = _json_int(body, "batch_id", allow_str=True)
        filename = _json_str(body, "filename")
    session = call.backend.start_multipart(
        call.tenant, batch_id=batch_id, filename=filename, file_size=file_size
    )
    return JSONResponse(
        {"session_id": session.id, "part_size": session.part_size},
        status_code=201,
        headers={"Location": call.url(f"/api/v2/batches/multipart-upload/sessions/{session.id}")},
    )


async def upload_part(call: Call) -> Answer:
    """``PUT .../sessions/<sid>/parts/<n>`` → 201 ``{"part_id": str, "part_num": n}``.

    The body is written chunk by chunk straight into the part's region of the session file.
    """
    session_id = call.params["session_id"]
    raw_num = call.params["part_num"]
    part_num = whole_number(raw_num)
    if part_num is None:
        raise BadRequest(
            f"part number {excerpt(raw_num)} must be an integer >= 1 of at most {MAX_DIGITS} digits"
        )
    upload = call.backend.start_part(call.tenant, session_id, part_num)
    try:
        async for chunk in call.chunks():
            upload.write(chunk)
    except BaseException:
        call.backend.drop_part(upload)
        raise
    part = call.backend.put_part(upload)
    return JSONResponse({"part_id": part.part_id, "part_num": part.num}, status_code=201)


def _commit_parts(body: dict[str, Any]) -> list[tuple[int, str]]:
    parts = body.get("parts")
    if not isinstance(parts, list):
        raise BadRequest('\'parts\' must be a list of {"part_num", "part_id"} objects')
    result = []
    for item in parts:
        if not isinstance(item, dict):
            raise BadRequest(f"each entry of 'parts' must be an object, got {item!r}")
        num = _json_int(item, "part_num", allow_str=True)
        part_id = item.get("part_id")
        if isinstance(part_id, int) and not isinstance(part_id, bool):
            part_id = str(part_id)
        if not isinstance(part_id, str):
            raise BadRequest(f"'part_id' of part {num} must be a string or integer")
        result.append((num, part_id))
    return result


async def finish_multipart(call: Call) -> Answer:
    """``POST .../sessions/<sid>`` ``{"action": "commit", "parts"}`` or ``"abort"`` → 204."""
    session_id = call.params["session_id"]
    body = await call.json_object()
    action = body.get("action")
    backend = call.backend
    if action == "abort":
        backend.abort_multipart(call.tenant, session_id)
        return Response(status_code=204)
    if action != "commit":
        raise BadRequest(f'\'action\' must be "commit" or "abort", got {action!r}')
    backend.commit_multipart(call.tenant, session_id, _commit_parts(body))
    return Response(status_code=204)


# ---- Filesystem API ------------------------------------------------------------------------


def _fs_path(call: Call) -> list[str]:
    """Decode the path after ``/api/v2/files/``: literal slashes and ``%2F`` both separate."""
    segments: list[str] = []
    for raw in call.tail:
        try:
            segments.extend(unquote_to_bytes(raw).decode("utf-8").split("/"))
        except UnicodeDecodeError:
            raise BadRequest("the path is not valid percent-encoded UTF-8") from None
    while segments and not segments[0]:
        segments.pop(0)
    while segments and not segments[-1]:
        segments.pop()
    if "" in segments:
        raise BadRequest("the path contains an empty segment ('//')")
    return segments


def _fs_url(call: Call, path: list[str]) -> str:
    return call.url("/api/v2/files/" + "/".join(quote(s, safe="") for s in path))


_RETRY_ITEM = re.compile(r"""\s*["']?([A-Za-z-]+)["']?\s*:\s*([0-9]+)\s*""")


def parse_retry_config(value: str) -> tuple[int, int]:
    """Parse ``IB-Retry-Config`` (``{retries:N,backoff-seconds:S}``, bare or JSON) → (N, S)."""
    text = value.strip()
    invalid = BadRequest(
        f"IB-Retry-Config {excerpt(value)} must look like {{retries:2,backoff-seconds:1}} with "
        f"integers greater than 0 of at most {MAX_DIGITS} digits"
    )
    if not (text.startswith("{") and text.endswith("}")):
        raise invalid
    found: dict[str, int] = {}
    for item in text[1:-1].split(","):
        match = _RETRY_ITEM.fullmatch(item)
        number = None if match is None else whole_number(match[2])
        if match is None or number is None:
            raise invalid
        found[match[1]] = number
    if set(found) != {"retries", "backoff-seconds"} or min(found.values()) < 1:
        raise invalid
    return found["retries"], found["backoff-seconds"]


def _check_retry_config(call: Call) -> None:
    # Accepted and validated, but the emulator never waits: nothing can appear while it would.
    value = call.headers.get("ib-retry-config")
    if value is not None:
        parse_retry_config(value)


_RANGE = re.compile(r"bytes=([0-9]+)-([0-9]*)")


def parse_range(value: str, size: int) -> tuple[int, int]:
    """Parse a single-range ``Range`` header against a file of ``size`` bytes → (first, last).

    400 for anything but one ``bytes=a-b`` / ``bytes=a-`` range (suffix ranges have a
    negative start, which the docs forbid); 416 when ``a`` is at or past the end. Numbers of
    any length are well-formed: one of more than 18 digits (``whole_number`` gives None) is
    past the end of every file, so it counts as infinite.
    """
    match = _RANGE.fullmatch(value.strip().replace(" ", ""))
    if match is None:
        raise BadRequest(
            f"Range {excerpt(value)} is not supported: send one range 'bytes=FIRST-LAST' or "
            "'bytes=FIRST-' with FIRST >= 0 (no multiple ranges, no suffix ranges)"
        )
    first = whole_number(match[1])
    last = whole_number(match[2]) if match[2] else size - 1
    if match[2] and _past(last, first):
        raise BadRequest(f"Range {excerpt(value)} ends before it starts")
    if first is None or first >= size:
        raise RangeNotSatisfiable(
            f"Range {excerpt(value)} starts at or past the end of the {size}-byte file",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return first, size - 1 if last is None else min(last, size - 1)


def _past(a: int | None, b: int | None) -> bool:
    """``a < b`` where None is a number larger than any int (and equal to itself)."""
    if a is None:
        return False
    return b is None or a < b


async def _stream(handle: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


async def fs_read(call: Call) -> Answer:
    """``GET /v2/files/<path>?expect-node-type=file`` → 200 or 206 (``Range``), streamed."""
    node_type = call.query.get("expect-node-type")
    if node_type != "file":
        raise BadRequest(
            f"expect-node-type={'missing' if node_type is None else excerpt(node_type)}: "
            "reading requires the query parameter expect-node-type=file"
        )
    _check_retry_config(call)
    path = _fs_path(call)
    node, handle = call.backend.fs_open(call.tenant, path)
    headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
    status = 200
    first, length = 0, node.size
    range_header = call.headers.get("range")
    if range_header is not None:
        try:
            first, last = parse_range(range_header, node.size)
        except BaseException:
            handle.close()
            raise
        length = last - first + 1
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{node.size}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(_stream(handle, first, length), status_code=status, headers=headers)


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


async def fs_head(call: Call) -> Answer:
    """``HEAD /v2/files/<path>`` → file: octet-stream + size + Last-Modified; folder: JSON."""
    _check_retry_config(call)
    node = call.backend.fs_stat(call.tenant, _fs_path(call))
    if isinstance(node, FileNode):
        return Response(
            status_code=200,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(node.size),
                "Last-Modified": _http_date(node.modified),
            },
        )
    response = Response(status_code=200, media_type="application/json")
    del response.headers["content-length"]
    return response


async def fs_write(call: Call) -> Answer:
    """``PUT /v2/files/<path>`` → 204, or with ``If-None-Match: *`` 201 (new) / 412 (exists)."""
    if_none_match = call.headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise BadRequest(f"If-None-Match must be '*' when given, got {excerpt(if_none_match)}")
    conditional = if_none_match is not None
    path = _fs_path(call)
    call.backend.fs_check_put(call.tenant, path, if_none_match=conditional)
    spooled = await call.backend.blobs.spool(call.chunks())
    created = call.backend.fs_put(
        call.tenant, path, spooled.path, spooled.size, if_none_match=conditional
    )
    if conditional and created:
        return Response(status_code=201, headers={"Location": _fs_url(call, path)})
    return Response(status_code=204)


async def fs_delete(call: Call) -> Answer:
    """``DELETE /v2/files/<path>`` → 202 with ``Location: .../v2/files/delete/jobs/<id>``."""
    job = call.backend.fs_delete(call.tenant, _fs_path(call))
    return Response(
        status_code=202, headers={"Location": call.url(f"/api/v2/files/delete/jobs/{job.id}")}
    )
