"""AI Hub requests and responses as pure functions: build a `Call`, parse a response."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from typing import Any

import httpx

from ..._call import Body, Call, Retry
from ..._errors import ProviderError
from ..._http import VendorErrors, segment
from ..._models import Batch, BatchFile, BatchState, FileInfo, Job, JobState
from ..._wire import from_unix_ms, from_unix_s, json_body, parse
from ._wire import (
    PartId,
    WireBatch,
    WireBatchList,
    WireCreated,
    WireFilePage,
    WireJob,
    WireJobAccepted,
    WirePart,
    WireSession,
    make_converter,
    normalize_job_accepted,
)

PROVIDER = "aihub"
#: AI Hub answers errors as `{"message": ...}`; `error` and `detail` are read too, as a proxy
#: in front of the API may answer with them. A 401/403 is the token or the IB-Context.
ERRORS = VendorErrors(
    message_keys=("message", "error", "detail"),
    auth_hint="check the token and, for an organisation, IB-Context",
)
_conv = make_converter()
_OCTET = {"Content-Type": "application/octet-stream"}
#: WIRE-NOTES: the SDK accepts any 2xx for a multipart commit; the Filesystem docs say "2XX"
ANY_2XX = frozenset(range(200, 300))


def _batch(batch_id: str, *rest: str) -> str:
    return "/".join(["v2/batches", segment(batch_id), *rest])


def fs_url(path: str) -> str:
    """Filesystem API URL for an absolute path `/<org>/<ws>/fs/<drive>/<path>`.

    The docs' form: literal slashes between segments, each segment quoted.
    """
    parts = [p for p in path.split("/") if p]
    return "v2/files/" + "/".join(segment(p) for p in parts)


# -- batches ----------------------------------------------------------------------------


def create_batch(name: str, workspace: str | None) -> Call:
    """POST /v2/batches. Not idempotent: retried only if the request never got there."""
    body: dict[str, Any] = {"name": name}
    if workspace is not None:
        body["workspace"] = workspace
    return Call(
        "create_batch",
        "POST",
        "v2/batches",
        json=body,
        ok=frozenset({200, 201}),
        retry=Retry.UNSENT_ONLY,
    )


def get_batch(batch_id: str) -> Call:
    """GET /v2/batches/<id>."""
    return Call("get_batch", "GET", _batch(batch_id))


def list_batches(*, workspace: str | None, username: str | None, limit: int, offset: int) -> Call:
    """GET /v2/batches, one page."""
    params: dict[str, str | int] = {"limit": limit, "offset": offset}
    if workspace is not None:
        params["workspace"] = workspace
    if username is not None:
        params["username"] = username
    return Call("list_batches", "GET", "v2/batches", params=params)


def delete_batch(batch_id: str) -> Call:
    """DELETE /v2/batches/<id> → 202 and a job."""
    return Call("delete_batch", "DELETE", _batch(batch_id), ok=frozenset({200, 202, 204}))


def get_job(url: str) -> Call:
    """GET a job: `v2/batches/jobs/<id>` or the full URL a Location header gave."""
    return Call("get_job", "GET", url)


def job_path(job_id: str) -> str:
    """The poll path of a job id: the spec's preferred `/v2/jobs/{job_id}` (the SDK's
    `client.jobs.status`); `/v2/batches/jobs/{job_id}` is kept there for backward
    compatibility only. A job's `Location`, when the vendor sends one, wins over both."""
    return "v2/jobs/" + segment(job_id)


# -- files ------------------------------------------------------------------------------


def put_file(batch_id: str, name: str, content: Body, size: int) -> Call:
    """PUT /v2/batches/<id>/files/<name> (create or replace) → 204."""
    return Call(
        "upload_file",
        "PUT",
        _batch(batch_id, "files", segment(name)),
        content=content,
        headers={**_OCTET, "Content-Length": str(size)},
        ok=frozenset({200, 201, 204}),
    )


def list_files(batch_id: str, *, page_size: int | None, token: str | None) -> Call:
    """GET /v2/batches/<id>/files, one page."""
    params: dict[str, str | int] = {}
    if page_size is not None:
        params["page_size"] = page_size
    if token is not None:
        params["start_token"] = token
    return Call("list_files", "GET", _batch(batch_id, "files"), params=params)


def delete_file(batch_id: str, name: str) -> Call:
    """DELETE /v2/batches/<id>/files/<name> → 202 with Location to the job."""
    return Call(
        "delete_file",
        "DELETE",
        _batch(batch_id, "files", segment(name)),
        ok=frozenset({200, 202, 204}),
    )


# -- multipart --------------------------------------------------------------------------


def start_multipart(batch_id: str, name: str, size: int) -> Call:
    """POST /v2/batches/multipart-upload with the SDK's body form.

    The docs' example sends `{"path", "file_size"}` instead; the live API and the SDK use
    `{"batch_id", "filename", "file_size"}`, which we send. Not retried once sent: a
    duplicate session would be left open.
    """
    body = {"batch_id": int(batch_id), "filename": name, "file_size": size}
    return Call(
        "upload_file",
        "POST",
        "v2/batches/multipart-upload",
        json=body,
        ok=frozenset({200, 201}),
        retry=Retry.UNSENT_ONLY,
    )


def put_part(session_url: str, part_num: int, content: Body, size: int) -> Call:
    """PUT <session>/parts/<n> → 201 `{part_id, part_num}`."""
    return Call(
        "upload_part",
        "PUT",
        f"{session_url}/parts/{part_num}",
        content=content,
        headers={**_OCTET, "Content-Length": str(size)},
        ok=frozenset({200, 201}),
    )


def commit_multipart(session_url: str, parts: list[tuple[int, PartId]]) -> Call:
    """POST <session> `{"action": "commit", "parts": [...]}` → 204 (any 2xx accepted)."""
    body = {
        "action": "commit",
        "parts": [{"part_num": n, "part_id": pid} for n, pid in parts],
    }
    return Call(
        "commit_upload",
        "POST",
        session_url,
        json=body,
        ok=ANY_2XX,
    )


def abort_multipart(session_url: str) -> Call:
    """POST <session> `{"action": "abort"}` → 204 (any 2xx accepted, like the commit)."""
    return Call(
        "abort_upload",
        "POST",
        session_url,
        json={"action": "abort"},
        ok=ANY_2XX,
    )


# -- filesystem API ---------------------------------------------------------------------


def fs_read(path: str, start: int, end: int | None, *, if_range: str | None = None) -> Call:
    """GET a file through the Filesystem API, whole or a byte range (`If-Range`: only if the
    file is still the version with that ETag / Last-Modified, else the whole new file)."""
    headers = {}
    if start or end is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        if if_range is not None:
            headers["If-Range"] = if_range
    return Call(
        "download_file",
        "GET",
        fs_url(path),
        params={"expect-node-type": "file"},
        headers=headers,
        ok=frozenset({200, 206}),
    )


def fs_write(path: str, content: Body, size: int, *, overwrite: bool) -> Call:
    """PUT a file through the Filesystem API (`If-None-Match: *` unless overwriting)."""
    headers = {**_OCTET, "Content-Length": str(size)}
    if not overwrite:
        headers["If-None-Match"] = "*"
    return Call(
        "fs_write",
        "PUT",
        fs_url(path),
        content=content,
        headers=headers,
        ok=frozenset({200, 201, 204}),
    )


def fs_head(path: str) -> Call:
    """HEAD a file or folder through the Filesystem API (the docs: "a 2XX status code")."""
    return Call("fs_head", "HEAD", fs_url(path), ok=ANY_2XX)


def fs_delete(path: str) -> Call:
    """DELETE a file or folder through the Filesystem API → 202 + Location job."""
    return Call("fs_delete", "DELETE", fs_url(path), ok=frozenset({200, 202, 204}))


# -- parsers ----------------------------------------------------------------------------


def to_batch(wire: WireBatch, raw: Mapping[str, Any], operation: str) -> Batch:
    """A wire batch as a neutral `Batch` (AI Hub batches are always OPEN)."""
    try:
        created_at = from_unix_ms(wire.created_at_ms)
    except ValueError as e:
        raise ProviderError(
            f"aihub {operation}: unexpected response shape (created_at: {e})",
            provider=PROVIDER,
            operation=operation,
        ) from None
    return Batch(
        provider=PROVIDER,
        id=str(wire.id),
        name=wire.name,
        project=wire.workspace,
        state=BatchState.OPEN,
        created_at=created_at,
        owner=wire.batch_owner,
        raw=raw,
    )


def parse_created(response: httpx.Response) -> str:
    """The new batch id."""
    data = json_body(response, provider=PROVIDER, operation="create_batch")
    return str(parse(_conv, WireCreated, data, provider=PROVIDER, operation="create_batch").id)


def parse_batch(response: httpx.Response) -> tuple[Batch, WireBatch]:
    """A batch object, neutral and wire."""
    data = json_body(response, provider=PROVIDER, operation="get_batch")
    wire = parse(_conv, WireBatch, data, provider=PROVIDER, operation="get_batch")
    return to_batch(wire, data, "get_batch"), wire


def parse_batch_list(response: httpx.Response) -> list[Batch]:
    """A page of batches."""
    data = json_body(response, provider=PROVIDER, operation="list_batches")
    page = parse(_conv, WireBatchList, data, provider=PROVIDER, operation="list_batches")
    return [
        to_batch(w, r, "list_batches") for w, r in zip(page.batches, data["batches"], strict=True)
    ]


def absolute(base: httpx.URL, location: str) -> str:
    """A Location header made absolute against the request URL."""
    return str(base.join(location))


def parse_job_accepted(response: httpx.Response, operation: str) -> Job | None:
    """The job a 202 names: a `Location` header or a `job_id` / `job-id` body."""
    location = response.headers.get("Location")
    job_id: str | None = None
    if response.content:
        data = normalize_job_accepted(json_body(response, provider=PROVIDER, operation=operation))
        if isinstance(data, dict) and "job_id" in data:
            job_id = parse(
                _conv, WireJobAccepted, data, provider=PROVIDER, operation=operation
            ).job_id
    if location and "/" not in location and ":" not in location:
        # the docs also call the Location value a bare job id ("<JOB_ID> is ... the Location
        # header value"); the live wire sends the job URL. A bare id is polled at jobs/<id>.
        job_id = job_id or location
        location = None
    url = absolute(response.request.url, location) if location else None
    if job_id is None and url is not None:
        job_id = url.rstrip("/").rsplit("/", 1)[-1]
    if job_id is None:
        if response.status_code == 202:
            raise ProviderError(
                f"aihub {operation}: 202 Accepted without a job id or Location header",
                provider=PROVIDER,
                operation=operation,
                status=202,
            )
        return None
    return Job(provider=PROVIDER, id=job_id, url=url)


def parse_job(response: httpx.Response, job: Job) -> Job:
    """A job poll response."""
    data = json_body(response, provider=PROVIDER, operation="get_job")
    wire = parse(_conv, WireJob, data, provider=PROVIDER, operation="get_job")
    try:
        state = JobState(wire.state.upper())
    except ValueError:
        raise ProviderError(
            f"aihub get_job: unknown job state {wire.state!r}",
            provider=PROVIDER,
            operation="get_job",
        ) from None
    return Job(provider=PROVIDER, id=job.id, state=state, message=wire.message, url=job.url)


def _node(raw: Any) -> BatchFile:
    """One listing node as a `BatchFile`, checked strictly.

    Written out by hand rather than through the cattrs converter: a listing has thousands of
    nodes and this is the hot path of B3/B4 (about 4x faster, same strictness).
    """
    if not isinstance(raw, dict):
        raise ValueError(f"node: expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    meta = raw.get("metadata", {})
    full_path = raw.get("full_path")
    if not isinstance(name, str):
        raise ValueError(f"node.name: expected a string, got {type(name).__name__}")
    if not isinstance(meta, dict):
        raise ValueError(f"node {name!r}.metadata: expected an object")
    size = meta.get("size", 0)
    stamp = meta.get("modified_timestamp")
    if type(size) is not int:
        raise ValueError(f"node {name!r}.metadata.size: expected an integer, got {size!r}")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int | float)):
        raise ValueError(f"node {name!r}.metadata.modified_timestamp: expected a number")
    if full_path is not None and not isinstance(full_path, str):
        raise ValueError(f"node {name!r}.full_path: expected a string")
    return BatchFile(name=name, size=size, modified_at=from_unix_s(stamp), path=full_path, raw=raw)


def parse_file_page(response: httpx.Response) -> tuple[list[BatchFile], str | None, bool]:
    """A page of batch files, the next token and whether more follow."""
    data = json_body(response, provider=PROVIDER, operation="list_files")
    page = parse(_conv, WireFilePage, data, provider=PROVIDER, operation="list_files")
    try:
        files = [_node(raw) for raw in page.nodes]
    except ValueError as e:
        raise ProviderError(
            f"aihub list_files: unexpected response shape ({e})",
            provider=PROVIDER,
            operation="list_files",
        ) from None
    return files, page.next_page_token, page.has_more


def parse_session(response: httpx.Response, api_root: str) -> tuple[str, int]:
    """(session URL, part size) from a multipart start: `Location` or `session_id`."""
    data = json_body(response, provider=PROVIDER, operation="upload_file")
    wire = parse(_conv, WireSession, data, provider=PROVIDER, operation="upload_file")
    location = response.headers.get("Location")
    if location:
        url = absolute(response.request.url, location)
    elif wire.session_id:
        url = f"{api_root}/v2/batches/multipart-upload/sessions/{segment(wire.session_id)}"
    else:
        raise ProviderError(
            "aihub upload_file: multipart session started without Location or session_id",
            provider=PROVIDER,
            operation="upload_file",
            status=response.status_code,
        )
    if wire.part_size <= 0:
        raise ProviderError(
            f"aihub upload_file: server gave part_size {wire.part_size}",
            provider=PROVIDER,
            operation="upload_file",
        )
    return url, wire.part_size


def parse_part(response: httpx.Response) -> PartId:
    """The part id of an uploaded part, in the JSON type it came in (str or int)."""
    data = json_body(response, provider=PROVIDER, operation="upload_part")
    return parse(_conv, WirePart, data, provider=PROVIDER, operation="upload_part").part_id


def parse_head(response: httpx.Response, path: str) -> FileInfo:
    """A HEAD response: folder (application/json) or file with size and mtime."""
    ctype = response.headers.get("Content-Type", "")
    is_file = not ctype.startswith("application/json")
    size = response.headers.get("Content-Length", "")
    modified = response.headers.get("Last-Modified")
    try:
        modified_at = email.utils.parsedate_to_datetime(modified) if modified else None
    except (TypeError, ValueError, OverflowError):
        # an optional, unparsable header is ignored, as HTTP has recipients do with invalid
        # dates (RFC 9110 13.1.3): the file's existence and size are still right
        modified_at = None
    return FileInfo(
        path=path,
        is_file=is_file,
        size=int(size) if is_file and size.isascii() and size.isdigit() else None,
        modified_at=modified_at,
    )
