"""Scale tasks, without HTTP: the task types, the checks of a create's type-specific
parameters, the task object, and the answers the emulator's simulated workforce gives.

Sources (``notes/labeling-wire.md`` §2 cites each): the task types are the official SDK's
(``scaleapi`` 2.18.4 ``TaskType``); the task object is Scale's "Task Object" example; the
parameter rules and response formats are Scale's reference pages for ``imageannotation``
(boxes, polygons, …, attributes), ``textcollection`` and ``categorization``; the ``error``
response is the "Attachment Processing Errors" example of Scale's errors page.

A synthesized response depends on the task's type and parameters only (not on its id, its
timing or the order tasks were created in), so the same task always gets the same answer
and a test can assert on it.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from batchkit.emulator._errors import BadRequest
from batchkit.emulator._index import GroupedIndex

#: Every task type the official SDK knows (``scaleapi.tasks.TaskType``), in its order.
TASK_TYPES: tuple[str, ...] = (
    "annotation",
    "categorization",
    "comparison",
    "cuboidannotation",
    "datacollection",
    "documentmodel",
    "documenttranscription",
    "imageannotation",
    "laneannotation",
    "lidarannotation",
    "lidarlinking",
    "lidarsegmentation",
    "lidartopdown",
    "lineannotation",
    "namedentityrecognition",
    "pointannotation",
    "polygonannotation",
    "segmentannotation",
    "transcription",
    "textcollection",
    "videoannotation",
    "videoboxannotation",
    "videoplaybackannotation",
    "videocuboidannotation",
    "sensorfusion",
    "chat",
    "chatexperimental",
    "chatlite",
    "multichat",
    "multistage",
    "federal2dvideoannotation",
)

TaskStatus = Literal["pending", "completed", "error", "canceled"]
#: The v1 SDK's ``TaskStatus`` (pending, completed, canceled) plus ``error``, which the SDK's
#: README, the batch status counts and Scale's errors page all name.
TASK_STATUSES: tuple[TaskStatus, ...] = ("pending", "completed", "error", "canceled")
#: ``customer_review_status`` values of the SDK's ``TaskReviewStatus``
REVIEW_STATUSES: tuple[str, ...] = ("pending", "fixed", "accepted", "rejected")

#: Create-body keys kept at the task's top level; every other key is a type-specific
#: parameter and goes to ``params`` (as the textcollection page says of ``attachments`` and
#: ``fields``, and the task object example shows for ``attachment``).
TOP_LEVEL_KEYS: frozenset[str] = frozenset(
    {
        "project",
        "batch",
        "instruction",
        "callback_url",
        "metadata",
        "unique_id",
        "priority",
        "tags",
        "clear_unique_id_on_error",
    }
)

#: the geometries of an ``imageannotation`` (its reference page)
GEOMETRIES: tuple[str, ...] = ("box", "polygon", "line", "point", "cuboid", "ellipse")
#: legacy single-geometry task types, whose ``objects_to_annotate`` sit in ``params`` itself
_LEGACY_GEOMETRY = {
    "annotation": "box",
    "polygonannotation": "polygon",
    "lineannotation": "line",
    "pointannotation": "point",
    "cuboidannotation": "cuboid",
}
#: the errors page's message for an attachment that could not be fetched
ATTACHMENT_ERROR = "One or more attachments could not be downloaded."
#: the errors page's message for a create without attachments
NO_ATTACHMENT = "Please include an attachment or attachments parameter."
SCALEDATA = "scaledata://"


def task_key(task: Task) -> tuple[float, int]:
    """A task's `Task.sort_key` (the listing indexes' key)."""
    return task.sort_key


def iso8601(timestamp: float) -> str:
    """Unix seconds as Scale writes them: ``2023-08-01T23:04:12.168Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@attrs.define(eq=False)
class Task:
    """One task, as the emulator keeps it; `to_json` is the wire's task object."""

    task_id: str
    seq: int
    type: str
    project: str
    batch: str | None
    instruction: str
    params: dict[str, Any]
    callback_url: str | None
    metadata: dict[str, Any]
    unique_id: str | None
    tags: list[str]
    priority: int | None
    clear_unique_id_on_error: bool
    created_at: float
    #: 1-based place among the tasks of its batch (or of its project, without a batch)
    ordinal: int = 0
    #: left to the control API (``complete_tasks``): the simulated workforce never works it
    held: bool = False
    #: ``scaledata://`` attachments this customer never uploaded (the task will end in error)
    missing: list[str] = attrs.Factory(list)
    status: TaskStatus = "pending"
    updated_at: float = 0.0
    completed_at: float | None = None
    response: dict[str, Any] | None = None
    #: the customer's audits (``POST /v1/task/<id>/audit``), oldest first, as the task
    #: object's ``audits`` shows them
    audits: list[dict[str, Any]] = attrs.Factory(list)
    #: the listings' indexes holding this task, grouped by status: `finish` moves it
    indexes: list[GroupedIndex[Task]] = attrs.field(factory=list, repr=False)

    @property
    def sort_key(self) -> tuple[float, int]:
        """Listing order, newest first when reversed (ties: latest created first)."""
        return (self.created_at, self.seq)

    @property
    def review_status(self) -> str | None:
        """The ``customer_review_status`` a listing filters on: the result of the customer's
        latest audit (``accepted`` or ``rejected``); None for a task never audited."""
        return str(self.audits[-1]["audit_result"]) if self.audits else None

    def finish(self, status: TaskStatus, at: float, response: dict[str, Any] | None) -> None:
        """Move a pending task to ``status`` at time ``at`` (the one place a task's status
        changes, so the indexes follow here)."""
        for index in self.indexes:
            index.move(self, self.status, status)
        self.status = status
        self.updated_at = at
        if status != "canceled":
            self.completed_at = at
        self.response = response

    def to_json(self, *, limited: bool = False) -> dict[str, Any]:
        """The task object (``audits`` only once the task was audited). ``limited``: only
        ``task_id``, ``status``, ``metadata`` and ``project`` (the SDK's
        ``limited_response``)."""
        if limited:
            return {
                "task_id": self.task_id,
                "status": self.status,
                "metadata": copy.deepcopy(self.metadata),
                "project": self.project,
            }
        body: dict[str, Any] = {
            "task_id": self.task_id,
            "created_at": iso8601(self.created_at),
            "updated_at": iso8601(self.updated_at),
            "type": self.type,
            "status": self.status,
            "instruction": self.instruction,
            "params": copy.deepcopy(self.params),
            "callback_url": self.callback_url,
            "metadata": copy.deepcopy(self.metadata),
            "tags": list(self.tags),
            "project": self.project,
            "batch": self.batch,
        }
        if self.unique_id is not None:
            body["unique_id"] = self.unique_id
        if self.priority is not None:
            body["priority"] = self.priority
        if self.completed_at is not None:
            body["completed_at"] = iso8601(self.completed_at)
        if self.response is not None:
            body["response"] = copy.deepcopy(self.response)
        if self.audits:
            body["audits"] = copy.deepcopy(self.audits)
        return body


# ---- checks of a create's type-specific parameters -----------------------------------------


def _invalid(reason: str) -> BadRequest:
    # the SDK README's example of a create refused: 'Parameter is invalid, reason: "attachments"
    # is required'
    return BadRequest(f"Parameter is invalid, reason: {reason}")


def check_params(task_type: str, params: Mapping[str, Any]) -> None:
    """Refuse (400) type-specific parameters the docs rule out.

    Documented, so enforced: ``imageannotation`` needs ``attachment`` (a URL) and
    ``geometries`` (an object keyed by ``box``, ``polygon``, ``line``, ``point``, ``cuboid``,
    ``ellipse``); ``textcollection`` needs ``attachments``, a list of ``{type, content}``,
    and its optional ``fields`` each have a ``field_id`` (unique), ``type`` and ``title``;
    ``documenttranscription`` needs ``attachment`` or ``attachments`` (the only rule known
    for it). Every type: ``attachment`` is a string, ``attachments`` a list. Other types'
    parameters are not documented in our sources and are stored as sent.
    """
    attachment = params.get("attachment")
    if "attachment" in params and (not isinstance(attachment, str) or not attachment):
        raise _invalid('"attachment" must be a URL string')
    attachments = params.get("attachments")
    if "attachments" in params and not isinstance(attachments, list):
        raise _invalid('"attachments" must be an array')
    if task_type == "imageannotation":
        if attachment is None:
            raise _invalid('"attachment" is required')
        _check_geometries(params.get("geometries"))
    elif task_type == "textcollection":
        _check_text_attachments(attachments)
        _check_fields(params.get("fields"))
    elif task_type == "documenttranscription" and attachment is None and not attachments:
        raise BadRequest(NO_ATTACHMENT)


def _check_geometries(geometries: Any) -> None:
    if geometries is None:
        raise _invalid('"geometries" is required')
    if not isinstance(geometries, dict) or not geometries:
        raise _invalid(
            f'"geometries" must be an object with one or more of {", ".join(GEOMETRIES)}'
        )
    for name, spec in geometries.items():
        if name not in GEOMETRIES:
            raise _invalid(f'"geometries" has an unknown geometry {name!r}')
        if not isinstance(spec, dict):
            raise _invalid(f'"geometries.{name}" must be an object')
        _check_labels(spec.get("objects_to_annotate"), f"geometries.{name}.objects_to_annotate")


def _check_labels(labels: Any, where: str) -> None:
    if labels is None:
        return
    if not isinstance(labels, list) or not all(
        isinstance(label, str) or (isinstance(label, dict) and isinstance(label.get("choice"), str))
        for label in labels
    ):
        raise _invalid(f'"{where}" must be an array of labels: strings or {{"choice": ...}}')


def _check_text_attachments(attachments: Any) -> None:
    if not attachments:
        raise _invalid('"attachments" is required')
    for item in attachments:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("content"), str)
        ):
            raise _invalid('each of "attachments" must be an object {"type", "content"}')


def _check_fields(fields: Any) -> None:
    if fields is None:
        return
    if not isinstance(fields, list):
        raise _invalid('"fields" must be an array')
    seen: set[str] = set()
    for field in fields:
        if not isinstance(field, dict) or not all(
            isinstance(field.get(key), str) and field.get(key)
            for key in ("field_id", "type", "title")
        ):
            raise _invalid('each of "fields" needs a "field_id", a "type" and a "title"')
        if field["field_id"] in seen:
            raise _invalid(f'"fields" repeats the field_id {field["field_id"]!r}')
        seen.add(field["field_id"])


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def first_attachment(params: Mapping[str, Any]) -> str | None:
    """The task's attachment URL: ``attachment``, else the first of ``attachments`` (a string,
    or an object's ``content`` / ``attachment`` / ``url``)."""
    attachment = params.get("attachment")
    if isinstance(attachment, str):
        return attachment
    for item in params.get("attachments") or ():
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            for key in ("content", "attachment", "url"):
                if isinstance(item.get(key), str):
                    return str(item[key])
    return None


# ---- the simulated workforce's answers ----------------------------------------------------


class _Draws:
    """Deterministic draws from a JSON value: SHA-256 in counter mode (stable across Python
    versions and runs, unlike ``random``)."""

    def __init__(self, *seed: Any) -> None:
        text = json.dumps(seed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        self._seed = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        self._count = 0

    def _bytes(self) -> bytes:
        self._count += 1
        return hashlib.sha256(self._seed + self._count.to_bytes(8, "big")).digest()

    def unit(self) -> float:
        """A number in [0, 1)."""
        return int.from_bytes(self._bytes()[:8], "big") / 2**64

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + min(int(self.unit() * (high - low + 1)), high - low)

    def coordinate(self, low: float, high: float) -> float:
        """A pixel coordinate in [low, high], to one decimal."""
        return round(low + self.unit() * (high - low), 1)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.integer(0, len(options) - 1)]

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self._bytes()[:16], version=4))


def unit_hash(text: str) -> float:
    """``text`` mapped deterministically to [0, 1) (for the error share by hash)."""
    return (
        int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8]) / 2**64
    )


def synthesize(
    task_type: str, params: Mapping[str, Any], project_params: Mapping[str, Any]
) -> dict[str, Any]:
    """A plausible ``response`` for a completed task, derived from its type and parameters
    only (``project_params`` fill in what the task leaves to its project, as Rapid projects
    define ``fields`` and geometries once).

    - ``imageannotation`` (and the legacy ``annotation``, ``polygonannotation``, …):
      ``{"annotations": [...]}``, one annotation per label of ``objects_to_annotate`` per
      geometry, each with ``uuid``, ``type``, ``label``, ``attributes`` and its geometry's
      coordinates (``left``/``top``/``width``/``height``, ``vertices``, ``x``/``y``, …);
    - ``textcollection``: ``{"annotations": {field_id: value}}`` (the documented callback
      format: a value of the field's type, a list when ``max_responses_required`` > 1);
    - ``categorization``: ``{"category": one of params.categories}`` (the task object
      example);
    - any other type: ``{"annotations": []}`` (its response format is not in our sources).
    """
    merged = {**project_params, **params}
    draws = _Draws(task_type, merged)
    if task_type == "imageannotation":
        geometries = merged.get("geometries")
        return {"annotations": _image_annotations(draws, geometries, merged)}
    if task_type in _LEGACY_GEOMETRY:
        geometries = {_LEGACY_GEOMETRY[task_type]: merged}
        return {"annotations": _image_annotations(draws, geometries, merged)}
    if task_type == "textcollection":
        fields = merged.get("fields")
        return {"annotations": _field_values(draws, fields if isinstance(fields, list) else [])}
    if task_type == "categorization":
        categories = [_label(c) for c in merged.get("categories") or () if _label(c) is not None]
        return {"category": draws.choice(categories) if categories else None}
    return {"annotations": []}


def error_response(params: Mapping[str, Any], missing: Sequence[str]) -> dict[str, Any]:
    """The ``response`` of a task that ended in ``error``: the errors page's attachment error,
    naming the attachments this customer never uploaded (404), or else the task's first
    attachment (403: the simulated failure to fetch it)."""
    if missing:
        failed = [{"statusCode": 404, "url": url} for url in missing]
        return {"error": ATTACHMENT_ERROR, "attachments": failed}
    url = first_attachment(params)
    if url is None:
        return {"error": "The task could not be completed."}
    return {"error": ATTACHMENT_ERROR, "attachments": [{"statusCode": 403, "url": url}]}


def _label(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("choice", "label", "value"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return None


def _leaf_label(draws: _Draws, value: Any) -> str | None:
    """A label of ``objects_to_annotate``: a string, or a ``{"choice", "subchoices"}`` whose
    subchoice (if any) is picked."""
    if isinstance(value, dict) and isinstance(value.get("subchoices"), list):
        leaves = [_label(sub) for sub in value["subchoices"] if _label(sub) is not None]
        if leaves:
            return str(draws.choice(leaves))
    return _label(value)


def _attributes(draws: _Draws, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        return {}
    values: dict[str, Any] = {}
    for name, attribute in spec.items():
        if not isinstance(attribute, dict):
            continue
        if attribute.get("type") == "number":
            low = attribute.get("min", 0)
            high = attribute.get("max", 10)
            if isinstance(low, int) and isinstance(high, int) and low <= high:
                values[name] = draws.integer(low, high)
            continue
        choices = [_label(c) for c in attribute.get("choices") or () if _label(c) is not None]
        values[name] = draws.choice(choices) if choices else None
    return values


def _image_annotations(
    draws: _Draws, geometries: Any, params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if not isinstance(geometries, dict):
        return []
    annotations: list[dict[str, Any]] = []
    for kind in GEOMETRIES:
        spec = geometries.get(kind)
        if not isinstance(spec, dict):
            continue
        for value in spec.get("objects_to_annotate") or ():
            label = _leaf_label(draws, value)
            if label is None:
                continue
            annotation: dict[str, Any] = {"uuid": draws.uuid(), "type": kind, "label": label}
            annotation.update(_shape(draws, kind, spec))
            annotation["attributes"] = _attributes(draws, params.get("annotation_attributes"))
            annotations.append(annotation)
    return annotations


def _whole(value: Any, default: int) -> int:
    """``value`` if it is a JSON integer, else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _shape(draws: _Draws, kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The coordinates of one annotation on a 1000 x 1000 pixel canvas."""
    if kind == "box":
        min_width = _whole(spec.get("min_width"), 0)
        min_height = _whole(spec.get("min_height"), 0)
        width = draws.coordinate(max(10, min(min_width, 400)), 400)
        height = draws.coordinate(max(10, min(min_height, 400)), 400)
        return {
            "left": draws.coordinate(0, 1000 - width),
            "top": draws.coordinate(0, 1000 - height),
            "width": width,
            "height": height,
        }
    if kind == "point":
        return {"x": draws.coordinate(0, 1000), "y": draws.coordinate(0, 1000)}
    if kind == "ellipse":
        return {
            "x": draws.coordinate(100, 900),
            "y": draws.coordinate(100, 900),
            "rx": draws.coordinate(5, 100),
            "ry": draws.coordinate(5, 100),
            "rotation": round(draws.unit() * 3.1416, 4),
        }
    corners = {"polygon": 4, "line": 2, "cuboid": 8}[kind]
    vertices = [
        {"x": draws.coordinate(0, 1000), "y": draws.coordinate(0, 1000)} for _ in range(corners)
    ]
    return {"vertices": vertices}


def _field_values(draws: _Draws, fields: Sequence[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("field_id"), str):
            continue
        count = field.get("max_responses_required")
        if isinstance(count, int) and not isinstance(count, bool) and count > 1:
            values[field["field_id"]] = [_field_value(draws, field) for _ in range(min(count, 5))]
        else:
            values[field["field_id"]] = _field_value(draws, field)
    return values


def _field_value(draws: _Draws, field: Mapping[str, Any]) -> Any:
    kind = field.get("type")
    if kind == "category":
        choices = [_label(c) for c in field.get("choices") or () if _label(c) is not None]
        # a choice's wire value is its "value" (the textcollection page: {label, value})
        values = [
            c.get("value", _label(c)) if isinstance(c, dict) else c
            for c in field.get("choices") or ()
            if _label(c) is not None
        ]
        if not choices:
            return None
        picked = values[draws.integer(0, len(values) - 1)]
        max_choices = field.get("max_choices")
        many = (
            isinstance(max_choices, int) and not isinstance(max_choices, bool) and max_choices > 1
        )
        return [picked] if many else picked
    if kind == "number":
        low = field.get("min", 0)
        high = field.get("max", 100)
        if not (isinstance(low, int) and isinstance(high, int) and low <= high):
            low, high = 0, 100
        return draws.integer(low, high)
    if kind == "datetime":
        day = dt.date(2024, 1, 1) + dt.timedelta(days=draws.integer(0, 365))
        return day.isoformat()
    if kind == "boolean":
        return draws.unit() < 0.5
    if kind == "fieldset":
        nested = field.get("fields")
        return _field_values(draws, nested if isinstance(nested, list) else [])
    return f"{field.get('title', field['field_id'])}: answer {draws.integer(1000, 9999)}"
