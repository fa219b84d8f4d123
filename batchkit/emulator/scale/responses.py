"""Scale wire handlers: authenticate, parse and validate the request, call the backend."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any, cast

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from batchkit.emulator import _json as strict_json
from batchkit.emulator._app import TENANT_KEY
from batchkit.emulator._input import (
    MAX_DIGITS,
    excerpt,
    in_range,
    printable_ascii,
    whole_number,
)
from batchkit.emulator.scale import urls
from batchkit.emulator.scale.backend import (
    BATCH_STATUSES,
    MAX_LIMIT,
    TASK_OUTCOMES,
    ScaleBackend,
    TaskOutcome,
)
from batchkit.emulator.scale.errors import BadRequest, ScaleError, Unauthorized

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes '²' and '٣'
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class _Call:
    """What a handler needs from one request."""

    def __init__(self, api_key: str, body: bytes, query: QueryParams, params: dict[str, str]):
        self.api_key = api_key
        self.body = body
        self.query = query
        self.name = params.get("name", "")

    def json(self, *, empty: Any = None) -> Any:
        """The body parsed as strict JSON (no NaN, Infinity, overflowing numbers or lone
        surrogates); ``empty`` if there is none."""
        if not self.body.strip():
            if empty is not None:
                return empty
            raise BadRequest("the request body must be a JSON object")

        try:
            return strict_json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"the request body is not valid JSON: {exc}") from None

    def object(self, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body as a JSON object."""
        body = self.json(empty=empty)
        if not isinstance(body, dict):
            raise BadRequest(f"the request body must be a JSON object, got {type(body).__name__}")
        return body


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


def _query_bool(query: QueryParams, key: str) -> bool:
    value = query.get(key)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadRequest(f"query parameter {key!r} must be true or false, got {excerpt(value)}")


def _query_int(query: QueryParams, key: str, default: int) -> int:
    value = query.get(key)
    if value is None:
        return default
    number = whole_number(value.strip())
    if number is None:
        raise BadRequest(
            f"query parameter {key!r} must be a non-negative integer of at most {MAX_DIGITS} "
            f"digits, got {excerpt(value)}"
        )
    return number


#: the largest ``offset`` taken: any signed 64-bit count (past the end is an empty page)
MAX_OFFSET = 2**63 - 1


def _query_offset(query: QueryParams) -> int:
    value = query.get("offset")
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


def _query_time(query: QueryParams, key: str) -> dt.datetime | None:
    value = query.get(key)
    if value is None:
        return None
    try:
        moment = _iso_datetime(value)
    except ValueError:
        raise BadRequest(
            f"query parameter {key!r} must be an ISO 8601 date or date-time, got {excerpt(value)}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def api_key_from(authorization: str | None) -> str:
    """The API key from an HTTP Basic ``Authorization`` header (the user name); else 401.

    Header text arrives decoded as Latin-1, so any byte can be in it: the base64 must be
    ASCII, decode to UTF-8, and name a key of visible ASCII (as Scale's keys are).
    """
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
    api_key, _, _password = decoded.partition(":")
    if not api_key:
        raise Unauthorized("Please provide a valid API key as the HTTP Basic user name")
    if not printable_ascii(api_key):
        raise Unauthorized(
            "Invalid API key: Scale API keys are visible ASCII characters (no spaces, control "
            "characters or other scripts); check it was copied whole"
        )
    return api_key


class ScaleApp:
    """The Scale AI v1 batch API (and the emulator's ``/_emulator/scale`` controls), as ASGI.

    ``accept(api_key)`` says whether a key is valid; each accepted key is its own customer.
    Every answer is JSON; errors are ``{"error": message}`` with Scale's statuses.
    """

    def __init__(self, backend: ScaleBackend, *, accept: Callable[[str], bool]) -> None:
        self.backend = backend
        self._accept = accept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            body = await request.body()
            api_key = api_key_from(request.headers.get("authorization"))
            if not self._accept(api_key):
                raise Unauthorized("Invalid API key")
            scope[TENANT_KEY] = api_key
            handler_name, params = urls.resolve(request.method, scope["raw_path"])
            handler = cast(Callable[[_Call], Any], getattr(self, "_" + handler_name))
            payload = handler(_Call(api_key, body, request.query_params, params))
            response = JSONResponse(payload, status_code=200)
        except ScaleError as exc:
            headers = dict(exc.headers)
            if exc.status == 401:
                headers.setdefault("WWW-Authenticate", 'Basic realm="Scale API"')
            response = JSONResponse({"error": exc.message}, exc.status, headers=headers)
        await response(scope, receive, send)

    # -- Scale v1 -------------------------------------------------------------------------

    def _create_project(self, call: _Call) -> dict[str, Any]:
        body = call.object()
        name = _required(body, "name")
        type_ = _required(body, "type")
        params = body.get("params")
        if params is not None and not isinstance(params, dict):
            raise BadRequest(f"'params' must be an object, got {json.dumps(params)}")
        for flag in ("rapid", "studio"):
            value = body.get(flag)
            if value is not None and not isinstance(value, bool):
                raise BadRequest(f"{flag!r} must be a boolean, got {json.dumps(value)}")
        # the SDK sends datasetId (null for none); Scale's reference example sends pipeline
        for key in ("datasetId", "pipeline"):
            _string(body, key)
        extra = {k: v for k, v in body.items() if k not in ("name", "type", "params")}
        return self.backend.create_project(
            call.api_key, name=name, type=type_, params=params, **extra
        )

    def _get_project(self, call: _Call) -> dict[str, Any]:
        return self.backend.get_project(call.api_key, call.name)

    def _list_projects(self, call: _Call) -> list[dict[str, Any]]:
        # a bare JSON array, unpaged: the SDK's ``projects()`` iterates the body itself
        return self.backend.list_projects(call.api_key)

    def _create_batch(self, call: _Call) -> dict[str, Any]:
        body = call.object()
        project = _required(body, "project")
        name = _required(body, "name")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest(f"'metadata' must be an object, got {json.dumps(metadata)}")
        return self.backend.create_batch(
            call.api_key,
            project=project,
            name=name,
            callback=_string(body, "callback"),
            calibration_batch=_boolean(body, "calibration_batch"),
            self_label_batch=_boolean(body, "self_label_batch"),
            metadata=metadata,
        )

    def _list_batches(self, call: _Call) -> dict[str, Any]:
        query = call.query
        status = query.get("status")
        if status is not None and status not in BATCH_STATUSES:
            raise BadRequest(
                f"query parameter 'status' must be one of {', '.join(BATCH_STATUSES)},"
                f" got {excerpt(status)}"
            )
        limit = _query_int(query, "limit", MAX_LIMIT)
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"query parameter 'limit' must be from 1 to {MAX_LIMIT}, got {limit}")
        return self.backend.list_batches(
            call.api_key,
            project=query.get("project"),
            status=status,
            start_time=_query_time(query, "start_time"),
            end_time=_query_time(query, "end_time"),
            exclude_archived=_query_bool(query, "exclude_archived"),
            detailed=_query_bool(query, "detailed"),
            limit=limit,
            offset=_query_offset(query),
        )

    def _get_batch(self, call: _Call) -> dict[str, Any]:
        return self.backend.get_batch(call.api_key, call.name)

    def _finalize_batch(self, call: _Call) -> dict[str, Any]:
        # The docs list a ``batchName`` body parameter; the name is in the path: body ignored.
        return self.backend.finalize_batch(call.api_key, call.name)

    def _batch_status(self, call: _Call) -> dict[str, Any]:
        return self.backend.batch_status(call.api_key, call.name)

    def _set_metadata(self, call: _Call) -> dict[str, Any]:
        self.backend.get_batch(call.api_key, call.name)  # 404 before 400, as for the others
        return self.backend.set_metadata(call.api_key, call.name, call.object())

    def _prioritize(self, call: _Call) -> dict[str, Any]:
        self.backend.get_batch(call.api_key, call.name)
        body = call.object()
        # The docs' body table names the field `batchName` ("The new priority for the batch");
        # the SDK sends `priority`. Accept both, `priority` first.
        key = "priority" if "priority" in body else "batchName"
        if key not in body:
            raise BadRequest("'priority' is required: an integer from 10 (lowest) to 30 (highest)")
        return self.backend.prioritize(call.api_key, call.name, _integer(body[key], key))

    # -- emulator control -----------------------------------------------------------------

    def _add_tasks(self, call: _Call) -> dict[str, Any]:
        body = call.object(empty={})
        count = _integer(body.get("count", 1), "count")
        return {"task_ids": self.backend.add_tasks(call.api_key, call.name, count)}

    def _complete_tasks(self, call: _Call) -> dict[str, Any]:
        body = call.object(empty={})
        count = body.get("count")
        if count is not None:
            count = _integer(count, "count")
        outcome = body.get("outcome", "completed")
        if outcome not in TASK_OUTCOMES:
            raise BadRequest(
                f"'outcome' must be one of {', '.join(TASK_OUTCOMES)}, got {json.dumps(outcome)}"
            )
        moved = self.backend.complete_tasks(
            call.api_key, call.name, count, outcome=cast(TaskOutcome, outcome)
        )
        return {"task_ids": moved, "status": self.backend.batch_status(call.api_key, call.name)}

    def _archive_batch(self, call: _Call) -> dict[str, Any]:
        body = call.object(empty={})
        archived = body.get("archived", True)
        if not isinstance(archived, bool):
            raise BadRequest(f"'archived' must be a boolean, got {json.dumps(archived)}")
        return self.backend.archive_batch(call.api_key, call.name, archived)
