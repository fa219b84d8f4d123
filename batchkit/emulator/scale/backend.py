"""Scale AI state: customers (one per API key), their projects, batches, tasks and files,
and the simulated workforce that works the tasks over emulated time."""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import hashlib
import heapq
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from batchkit.emulator._errors import BadRequest, Conflict, NotFound
from batchkit.emulator._index import GroupedIndex, SortedIndex, newest_first, window
from batchkit.emulator.scale.errors import ContentTooLarge, DuplicateTask
from batchkit.emulator.scale.tasks import (
    SCALEDATA,
    TASK_STATUSES,
    TASK_TYPES,
    Task,
    TaskStatus,
    check_params,
    error_response,
    iso8601,
    strings,
    synthesize,
    task_key,
    unit_hash,
)

BatchStatus = Literal["staging", "in_progress", "completed"]
TaskOutcome = Literal["completed", "error", "canceled"]

BATCH_STATUSES: tuple[BatchStatus, ...] = ("staging", "in_progress", "completed")
TASK_OUTCOMES: tuple[TaskOutcome, ...] = ("completed", "error", "canceled")
MIN_PRIORITY, MAX_PRIORITY = 10, 30
MAX_LIMIT = 100
#: "The limit is 80 MB per file" (Scale's file endpoints page); read as 80 MiB, the more
#: lenient of the two readings
MAX_FILE_SIZE = 80 * 1024 * 1024
#: the simulated workforce's defaults: a task takes 0.05 s of emulated time and each batch has
#: one worker, so a demo's dozen tasks are done in well under a second
DEFAULT_TASK_SECONDS = 0.05
DEFAULT_WORKERS = 1
#: a task due within this of the clock is done (0.1 + 0.1 + 0.1 reaches 0.3)
DUE_TOLERANCE = 1e-6

__all__ = [
    "BATCH_STATUSES",
    "MAX_FILE_SIZE",
    "MAX_LIMIT",
    "TASK_OUTCOMES",
    "TASK_STATUSES",
    "TASK_TYPES",
    "BatchStatus",
    "ScaleBackend",
    "TaskOutcome",
    "check_workforce",
    "iso8601",
]


def check_workforce(
    *, task_seconds: float | None, workers: int, error_every: int | None, error_rate: float
) -> None:
    """``ValueError`` unless the simulated workforce's settings make sense."""
    if task_seconds is not None and (
        isinstance(task_seconds, bool)
        or not isinstance(task_seconds, int | float)
        or not math.isfinite(task_seconds)
        or task_seconds < 0
    ):
        raise ValueError(f"task_seconds must be a finite number >= 0 or None, got {task_seconds!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if error_every is not None and (
        isinstance(error_every, bool) or not isinstance(error_every, int) or error_every < 1
    ):
        raise ValueError(f"error_every must be an integer >= 1 or None, got {error_every!r}")
    if (
        isinstance(error_rate, bool)
        or not isinstance(error_rate, int | float)
        or not 0 <= error_rate <= 1
    ):
        raise ValueError(f"error_rate must be a number from 0 to 1, got {error_rate!r}")


@attrs.define
class _Project:
    name: str
    type: str
    params: dict[str, Any]
    created_at: float
    extra: dict[str, Any]

    @property
    def stages_batches(self) -> bool:
        """Whether batches start in ``staging`` (Rapid and Studio projects) and need a
        finalize; a standard project's batches start ``in_progress``."""
        return bool(self.extra.get("rapid")) or bool(self.extra.get("studio"))

    @property
    def rapid(self) -> bool:
        return bool(self.extra.get("rapid"))

    def to_json(self) -> dict[str, Any]:
        instruction = self.params.get("instruction", "")
        return {
            **copy.deepcopy(self.extra),
            "name": self.name,
            "type": self.type,
            "params": copy.deepcopy(self.params),
            "param_history": [{"version": 0, "instruction": instruction}],
            "created_at": iso8601(self.created_at),
        }


def _task_index() -> GroupedIndex[Task]:
    return GroupedIndex(task_key, TASK_STATUSES)


def _batch_key(batch: _Batch) -> tuple[float, int]:
    return batch.sort_key


def _batch_index() -> GroupedIndex[_Batch]:
    return GroupedIndex(_batch_key, BATCH_STATUSES)


#: what a listing reads when its filters rule everything out
_NOTHING: SortedIndex[Any] = SortedIndex(task_key)


@attrs.define(eq=False)
class _Queue:
    """The pending tasks one batch (or, for tasks without a batch, one project) has for the
    simulated workforce, in creation order, and when each of its workers is next free."""

    customer: _Customer
    batch: _Batch | None
    #: when work may start (None: a batch still staging)
    started_at: float | None
    waiting: collections.deque[Task] = attrs.Factory(collections.deque)
    #: min-heap of the times each worker is free
    free: list[float] = attrs.Factory(list)
    #: tasks ever added (a task's ordinal)
    added: int = 0


@attrs.define(eq=False)
class _Batch:
    name: str
    project: str
    callback: str | None
    calibration_batch: bool
    self_label_batch: bool
    metadata: dict[str, Any]
    created_at: float
    seq: int
    status: BatchStatus = "staging"
    completed_at: float | None = None
    priority: int | None = None
    archived: bool = False
    tasks: dict[str, Task] = attrs.Factory(dict)
    queue: _Queue | None = None
    #: the batch's tasks by status, in listing order
    task_index: GroupedIndex[Task] = attrs.Factory(_task_index)
    #: the listings' indexes holding this batch, grouped by status: `set_status` moves it
    indexes: list[GroupedIndex[_Batch]] = attrs.field(factory=list, repr=False)

    @property
    def sort_key(self) -> tuple[float, int]:
        """Listing order, newest first when reversed (ties: latest created first)."""
        return (self.created_at, self.seq)

    def set_status(self, status: BatchStatus) -> None:
        """The one place a batch's status changes after it is listed."""
        for index in self.indexes:
            index.move(self, self.status, status)
        self.status = status

    def counts(self) -> dict[str, int]:
        return {status: self.task_index.count(status) for status in TASK_STATUSES}

    def to_json(self, *, detailed: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "project": self.project,
            "status": self.status,
            "created_at": iso8601(self.created_at),
            "metadata": copy.deepcopy(self.metadata),
            "callback": self.callback,
            "calibration_batch": self.calibration_batch,
            "self_label_batch": self.self_label_batch,
        }
        if self.completed_at is not None:
            body["completed_at"] = iso8601(self.completed_at)
        if self.priority is not None:
            body["priority"] = self.priority
        if detailed:
            body.update(self.counts())
        return body


@attrs.define
class _File:
    id: str
    attachment_url: str
    created_at: float
    mime_type: str
    size: int | None
    project_names: list[str]
    display_name: str | None
    reference_id: str | None
    metadata: dict[str, Any]
    file_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "attachment_url": self.attachment_url,
            "created_at": iso8601(self.created_at),
            "updated_at": iso8601(self.created_at),
            "mime_type": self.mime_type,
            "project_names": list(self.project_names),
            "metadata": copy.deepcopy(self.metadata),
        }
        if self.size is not None:
            body["size"] = self.size
        if self.display_name is not None:
            body["display_name"] = self.display_name
        if self.reference_id is not None:
            body["reference_id"] = self.reference_id
        if self.file_url is not None:
            body["file_url"] = self.file_url
        return body


@attrs.define(eq=False)
class _Customer:
    #: the id in this customer's ``scaledata://<id>/<file>`` URLs
    id: str
    projects: dict[str, _Project] = attrs.Factory(dict)
    batches: dict[str, _Batch] = attrs.Factory(dict)
    tasks: dict[str, Task] = attrs.Factory(dict)
    #: unique_id → task_id ("global across all projects and task types")
    unique_ids: dict[str, str] = attrs.Factory(dict)
    #: Idempotency-Key header → task_id
    idempotency_keys: dict[str, str] = attrs.Factory(dict)
    #: tasks created without a batch, by project
    project_queues: dict[str, _Queue] = attrs.Factory(dict)
    files: dict[str, _File] = attrs.Factory(dict)
    #: reference_id → file id
    references: dict[str, str] = attrs.Factory(dict)
    attachment_urls: set[str] = attrs.Factory(set)
    #: the listings' indexes (by status, in listing order): every task, and by project
    task_index: GroupedIndex[Task] = attrs.Factory(_task_index)
    project_tasks: dict[str, GroupedIndex[Task]] = attrs.Factory(dict)
    #: the same for batches
    batch_index: GroupedIndex[_Batch] = attrs.Factory(_batch_index)
    project_batches: dict[str, GroupedIndex[_Batch]] = attrs.Factory(dict)


class ScaleBackend:
    """All Scale state of one emulator. Every API key is its own customer (tenant).

    The wire handlers call the methods below; tests may call them too, to set up state or to
    move tasks along (``add_tasks``, ``complete_tasks``). Methods raise
    `EmulatorError` subclasses and return JSON-ready
    dicts shaped as on the wire.

    **The simulated workforce.** The pending tasks of an ``in_progress`` batch (a standard
    project's from its creation, a Rapid or Studio one's from its finalize), and tasks
    created without a batch, are worked in creation order by ``workers`` workers per batch,
    each task taking ``task_seconds`` of emulated time (by ``clock``; ``None`` switches the
    workforce off, 0 finishes tasks as soon as work may start). Time is evaluated lazily, as
    for AI Hub jobs: every operation first finishes, in due order, each task whose time has
    come, stamping it with the emulated moment it was done. A task ends in ``error`` when it
    names a ``scaledata://`` attachment this customer never uploaded, when it is the
    ``error_every``-th task of its batch (1-based, in creation order), or when
    ``unit_hash(unique_id or task_id) < error_rate``; otherwise ``completed``, with a
    response synthesized from its type and parameters. Tasks added through the control API
    (`add_tasks`) are held for `complete_tasks` unless ``worked=True``.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        task_seconds: float | None = DEFAULT_TASK_SECONDS,
        workers: int = DEFAULT_WORKERS,
        error_every: int | None = None,
        error_rate: float = 0.0,
        max_file_size: int = MAX_FILE_SIZE,
    ) -> None:
        check_workforce(
            task_seconds=task_seconds,
            workers=workers,
            error_every=error_every,
            error_rate=error_rate,
        )
        self._clock = clock
        self.task_seconds = task_seconds
        self.workers = workers
        self.error_every = error_every
        self.error_rate = error_rate
        #: the largest file ``upload_file`` takes, in bytes (an attribute: tests may lower it)
        self.max_file_size = max_file_size
        self._lock = threading.RLock()
        self._customers: dict[str, _Customer] = {}
        self._seq = itertools.count()
        self._task_seq = itertools.count(1)
        self._file_seq = itertools.count(1)
        #: queues with tasks waiting for the workforce
        self._busy: set[_Queue] = set()

    # -- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _state(self) -> Iterator[None]:
        """Hold the lock, after letting the workforce catch up with the clock."""
        with self._lock:
            self._settle()
            yield

    def _customer(self, api_key: str) -> _Customer:
        customer = self._customers.get(api_key)
        if customer is None:
            digest = hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()
            customer = self._customers[api_key] = _Customer(id=digest[:24])
        return customer

    def _batch(self, api_key: str, name: str) -> _Batch:
        batch = self._customer(api_key).batches.get(name)
        if batch is None:
            raise NotFound(f"Batch {name!r} not found")
        return batch

    def _project(self, customer: _Customer, name: str) -> _Project:
        project = customer.projects.get(name)
        if project is None:
            raise NotFound(f"Project {name!r} not found")
        return project

    # -- projects -------------------------------------------------------------------------

    def create_project(
        self,
        api_key: str,
        *,
        name: str,
        type: str,
        params: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a project; a name this customer already uses is a 409. `extra` (and any
        other keyword, e.g. ``studio=True``): the other fields it was created with (echoed
        back), whatever their names."""
        with self._state():
            customer = self._customer(api_key)
            if name in customer.projects:
                raise Conflict(f"Project {name!r} already exists")
            others = {**dict(extra or {}), **fields}
            project = _Project(name, type, dict(params or {}), self._clock(), others)
            customer.projects[name] = project
            return project.to_json()

    def get_project(self, api_key: str, name: str) -> dict[str, Any]:
        """One project of this customer (``GET /v1/projects/<name>``); unknown → 404."""
        with self._state():
            return self._project(self._customer(api_key), name).to_json()

    def list_projects(self, api_key: str) -> list[dict[str, Any]]:
        """Every project of this customer, oldest first (``GET /v1/projects``: a bare array)."""
        with self._state():
            return [project.to_json() for project in self._customer(api_key).projects.values()]

    # -- batches --------------------------------------------------------------------------

    def create_batch(
        self,
        api_key: str,
        *,
        project: str,
        name: str,
        callback: str | None = None,
        calibration_batch: bool = False,
        self_label_batch: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a batch: ``staging`` in a Rapid or Studio project (finalize starts it),
        ``in_progress`` in a standard one; unknown project → 404, name taken → 409."""
        with self._state():
            customer = self._customer(api_key)
            found = self._project(customer, project)
            if name in customer.batches:
                raise Conflict(f"Batch {name!r} already exists")
            batch = _Batch(
                name=name,
                project=project,
                callback=callback,
                calibration_batch=calibration_batch,
                self_label_batch=self_label_batch,
                metadata=copy.deepcopy(dict(metadata or {})),
                created_at=self._clock(),
                seq=next(self._seq),
                status="staging" if found.stages_batches else "in_progress",
            )
            batch.queue = _Queue(
                customer=customer,
                batch=batch,
                started_at=None if found.stages_batches else batch.created_at,
            )
            customer.batches[name] = batch
            batch.indexes = [
                customer.batch_index,
                customer.project_batches.setdefault(project, _batch_index()),
            ]
            for index in batch.indexes:
                index.add(batch, batch.status)
            return batch.to_json()

    def get_batch(self, api_key: str, name: str) -> dict[str, Any]:
        """The batch object."""
        with self._state():
            return self._batch(api_key, name).to_json()

    def finalize_batch(self, api_key: str, name: str) -> dict[str, Any]:
        """``staging`` → ``in_progress`` (or ``completed`` if every task is done), and the
        workforce starts on its tasks; else a no-op answering the batch unchanged (as the
        docs say for non-Rapid/Studio customers)."""
        with self._state():
            batch = self._batch(api_key, name)
            if batch.status == "staging":
                batch.set_status("in_progress")
                queue = batch.queue
                if queue is not None and queue.started_at is None:
                    queue.started_at = self._clock()
                    self._work(queue, queue.started_at)
                self._maybe_complete(batch)
            return batch.to_json()

    def batch_status(self, api_key: str, name: str) -> dict[str, Any]:
        """``{"status", "pending", "completed", "error", "canceled"}`` (the wire, per the SDK),
        counted from the batch's tasks, plus the docs' example keys ``tasks_pending`` /
        ``tasks_completed`` with the same counts, so a reader of either form gets the truth."""
        with self._state():
            batch = self._batch(api_key, name)
            counts = batch.counts()
            return {
                "status": batch.status,
                **counts,
                "tasks_pending": counts["pending"],
                "tasks_completed": counts["completed"],
            }

    def set_metadata(self, api_key: str, name: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the batch's metadata; returns the batch."""
        with self._state():
            batch = self._batch(api_key, name)
            batch.metadata = copy.deepcopy(dict(metadata))
            return batch.to_json()

    def prioritize(self, api_key: str, name: str, priority: int) -> dict[str, Any]:
        """Set the priority, 10 (lowest) to 30 (highest); returns ``{"result": "success"}``."""
        with self._state():
            batch = self._batch(api_key, name)
            check_priority(priority)
            batch.priority = priority
            return {"result": "success"}

    def list_batches(
        self,
        api_key: str,
        *,
        project: str | None = None,
        status: BatchStatus | None = None,
        start_time: dt.datetime | None = None,
        end_time: dt.datetime | None = None,
        exclude_archived: bool = False,
        detailed: bool = False,
        limit: int = MAX_LIMIT,
        offset: int = 0,
    ) -> dict[str, Any]:
        """One page of this customer's batches, newest first (ties: latest created first)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
        if offset < 0:
            raise BadRequest(f"offset must not be negative, got {offset}")
        start = start_time.timestamp() if start_time else None
        end = end_time.timestamp() if end_time else None
        with self._state():
            customer = self._customer(api_key)
            grouped = (
                customer.batch_index if project is None else customer.project_batches.get(project)
            )
            index: SortedIndex[_Batch] = _NOTHING
            if grouped is not None:
                index = grouped.all if status is None else grouped.group(status)
            lo, hi = window(index, start, end)
            if exclude_archived:
                # not indexed (only the control API archives): a pass over the time window
                matching = [batch for batch in reversed(index.slice(lo, hi)) if not batch.archived]
                total = len(matching)
                page = matching[offset : offset + limit]
            else:
                total = hi - lo
                page = newest_first(index, lo, hi, offset, limit)
            return {
                "docs": [batch.to_json(detailed=detailed) for batch in page],
                "totalDocs": total,
                "limit": limit,
                "offset": offset,
                "has_more": offset + len(page) < total,
            }

    # -- tasks ----------------------------------------------------------------------------

    def create_task(
        self,
        api_key: str,
        task_type: str,
        *,
        project: str | None = None,
        batch: str | None = None,
        params: Mapping[str, Any] | None = None,
        instruction: str | None = None,
        callback_url: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        unique_id: str | None = None,
        priority: int | None = None,
        tags: Sequence[str] = (),
        clear_unique_id_on_error: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/task/<type>``: create a pending task; returns the task object.

        Refusals, in order: an unknown type, neither ``project`` nor ``batch`` (400); an
        unknown project or batch (404); a batch of another project, a task type other than
        the project's, a Rapid project without a batch, a Rapid or Studio batch that is no
        longer ``staging`` (400); type-specific parameters the docs rule out (400, see
        `check_params`); a ``unique_id`` or ``Idempotency-Key`` already used
        for another task (409, `DuplicateTask`).

        A task added to a *completed* batch of a standard project reopens it
        (``in_progress``): standard batches take tasks at any time (INFERRED: no source
        forbids it, and a client adding tasks while the first are done must not be refused).
        """
        params = dict(params or {})
        if task_type not in TASK_TYPES:
            raise BadRequest(f"Unknown task type {task_type!r}: use one of {', '.join(TASK_TYPES)}")
        if not project and not batch:
            raise BadRequest("Please specify a 'project' or a 'batch' for the task")
        if priority is not None:
            check_priority(priority)
        with self._state():
            customer = self._customer(api_key)
            found_batch = None
            if batch:
                found_batch = customer.batches.get(batch)
                if found_batch is None:
                    raise NotFound(f"Batch {batch!r} not found")
            project_name = project or (found_batch.project if found_batch else "")
            found = self._project(customer, project_name)
            if found_batch is not None and found_batch.project != project_name:
                raise BadRequest(
                    f"Batch {batch!r} belongs to project {found_batch.project!r},"
                    f" not {project_name!r}"
                )
            if found.type != task_type:
                raise BadRequest(
                    f"Task type {task_type!r} does not match the type {found.type!r}"
                    f" of project {project_name!r}"
                )
            if found_batch is None and found.rapid:
                raise BadRequest("For Scale Rapid projects specifying a batch is required")
            if found_batch is not None and found.stages_batches and found_batch.status != "staging":
                # UNDOCUMENTED status: the docs say "No tasks may be added to a batch once it
                # has been finalized" (Studio) and "new tasks cannot be added to this batch"
                # (Rapid) but give no error; 400 as for any request the service refuses
                raise BadRequest(
                    f"Batch {batch!r} is not in staging: no more tasks can be added"
                    " once a batch is finalized"
                )
            check_params(task_type, params)
            self._check_unused(customer, unique_id, idempotency_key)
            task = self._new_task(
                customer,
                found,
                found_batch,
                task_type,
                params=params,
                instruction=instruction,
                callback_url=callback_url,
                metadata=metadata,
                unique_id=unique_id,
                priority=priority,
                tags=tags,
                clear_unique_id_on_error=clear_unique_id_on_error,
                held=False,
            )
            if idempotency_key is not None:
                customer.idempotency_keys[idempotency_key] = task.task_id
            return task.to_json()

    def get_task(self, api_key: str, task_id: str) -> dict[str, Any]:
        """``GET /v1/task/<id>``: the task object; unknown (or another customer's) → 404."""
        with self._state():
            return self._task(self._customer(api_key), task_id).to_json()

    def list_tasks(
        self,
        api_key: str,
        *,
        project: str | None = None,
        batch: str | None = None,
        status: TaskStatus | None = None,
        type: str | None = None,
        unique_ids: Sequence[str] = (),
        tags: Sequence[str] = (),
        start_time: dt.datetime | None = None,
        end_time: dt.datetime | None = None,
        completed_after: dt.datetime | None = None,
        completed_before: dt.datetime | None = None,
        updated_after: dt.datetime | None = None,
        updated_before: dt.datetime | None = None,
        customer_review_status: Sequence[str] | None = None,
        limited_response: bool = False,
        limit: int = MAX_LIMIT,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """``GET /v1/tasks``: one page of this customer's tasks that match every filter,
        newest first (``created_at``, ties: latest created first).

        ``unique_ids`` and ``tags`` match a task with any of them; times bound ``created_at``
        (``start_time``/``end_time``), ``completed_at`` and ``updated_at``, inclusively.
        ``customer_review_status`` matches a task whose latest customer audit
        (`audit_task`) has one of the results given; a task never audited matches
        none (``pending`` included: INFERRED, no source says what it covers).
        ``next_token`` is the previous page's (the id of its last task; unknown → 404).
        Answers ``{"docs", "total", "limit", "offset", "has_more", "next_token"}``:
        ``total`` counts every match, ``offset`` the matches before this page,
        ``next_token`` is ``null`` on the last page.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
        bounds = [
            ("created_at", start_time, end_time),
            ("completed_at", completed_after, completed_before),
            ("updated_at", updated_after, updated_before),
        ]
        wanted_ids = set(unique_ids)
        wanted_tags = set(tags)
        created_low = start_time.timestamp() if start_time else None
        created_high = end_time.timestamp() if end_time else None

        def within(task: Task) -> bool:
            for key, low, high in bounds:
                moment = getattr(task, key)
                if low is None and high is None:
                    continue
                if moment is None:
                    return False
                if (low is not None and moment < low.timestamp()) or (
                    high is not None and moment > high.timestamp()
                ):
                    return False
            return True

        with self._state():
            customer = self._customer(api_key)
            after = None
            if next_token:
                cursor = customer.tasks.get(next_token)
                if cursor is None:
                    raise NotFound(f"next_token {next_token!r} does not name a page of tasks")
                after = cursor.sort_key

            def matches(task: Task) -> bool:
                return (
                    (project is None or task.project == project)
                    and (batch is None or task.batch == batch)
                    and (status is None or task.status == status)
                    and (type is None or task.type == type)
                    and (not wanted_ids or task.unique_id in wanted_ids)
                    and (not wanted_tags or not wanted_tags.isdisjoint(task.tags))
                    and (
                        customer_review_status is None
                        or task.review_status in customer_review_status
                    )
                    and within(task)
                )

            if wanted_ids:
                # a unique_id names at most one task: check those few, newest first
                candidates = [
                    customer.tasks[customer.unique_ids[uid]]
                    for uid in wanted_ids
                    if uid in customer.unique_ids
                ]
                candidates.sort(key=task_key, reverse=True)
                page, total, offset = _scan(candidates, matches, after, limit)
            else:
                index = self._task_source(customer, project, batch, status)
                lo, hi = window(index, created_low, created_high)
                if (
                    type is not None
                    or wanted_tags
                    or customer_review_status is not None
                    or any(low is not None or high is not None for _, low, high in bounds[1:])
                ):
                    # filters no index answers: one pass over the (already sorted) window
                    page, total, offset = _scan(
                        reversed(index.slice(lo, hi)), matches, after, limit
                    )
                else:
                    # a page is a bisection and a slice of the index
                    total = hi - lo
                    top = hi if after is None else min(hi, max(lo, index.bisect_left(after)))
                    offset = hi - top
                    page = newest_first(index, lo, hi, offset, limit)
            has_more = offset + len(page) < total
            return {
                "docs": [task.to_json(limited=limited_response) for task in page],
                "total": total,
                "limit": limit,
                "offset": offset,
                "has_more": has_more,
                "next_token": page[-1].task_id if has_more else None,
            }

    @staticmethod
    def _task_source(
        customer: _Customer, project: str | None, batch: str | None, status: str | None
    ) -> SortedIndex[Task]:
        """The narrowest index holding every task of the project, batch and status given."""
        if batch is not None:
            found = customer.batches.get(batch)
            # a batch's tasks are all of its project
            if found is None or (project is not None and found.project != project):
                return _NOTHING
            grouped = found.task_index
        elif project is not None:
            by_project = customer.project_tasks.get(project)
            if by_project is None:
                return _NOTHING
            grouped = by_project
        else:
            grouped = customer.task_index
        return grouped.all if status is None else grouped.group(status)

    def cancel_task(
        self, api_key: str, task_id: str, *, clear_unique_id: bool = False
    ) -> dict[str, Any]:
        """``POST /v1/task/<id>/cancel``: a ``pending`` task becomes ``canceled``;
        ``clear_unique_id`` frees its ``unique_id`` for a new task. Any other task is a 400
        (the SDK: "Raises a ScaleException if it has already been canceled"; the status is
        undocumented, and never a 409, which the SDK cannot handle on a bodiless call)."""
        with self._state():
            customer = self._customer(api_key)
            task = self._task(customer, task_id)
            if task.status != "pending":
                raise BadRequest(
                    f"Task {task_id!r} is {task.status}: only a pending task can be canceled"
                )
            task.finish("canceled", self._clock(), None)
            if clear_unique_id:
                self._clear_unique_id(customer, task)
            batch = customer.batches.get(task.batch) if task.batch else None
            if batch is not None:
                self._maybe_complete(batch, at=task.updated_at)
            return task.to_json()

    # -- task edits (scaleapi 2.18.4 ``__init__.py:113-217``) ------------------------------
    #
    # Each answers the task as it now is (the SDK wraps every answer but the audit's in a
    # ``Task``, which needs ``task_id``) and sets ``updated_at`` to now on every successful
    # call, a no-op one included (INFERRED: no source says; a server that saves the task
    # on each call, as the example task's ``updated_at`` after its audit suggests, does).
    # None of them changes a task's status, so the status indexes are untouched. Metadata,
    # tags and unique_id may be edited in any status (INFERRED: no source restricts them).

    def require_task(self, api_key: str, task_id: str) -> None:
        """404 unless this customer has the task (a handler checks it before the body, so
        an unknown task is a 404 whatever the body, as for batches)."""
        with self._state():
            self._task(self._customer(api_key), task_id)

    def set_task_metadata(
        self, api_key: str, task_id: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``POST /v1/task/<id>/setMetadata``: **replace** the task's ``metadata`` (the SDK:
        "Sets a task's metadata", its README: "set metadata on a task to be the contents of
        new_metadata"; v2's set-metadata endpoint replaces too unless asked to merge)."""
        with self._state():
            task = self._task(self._customer(api_key), task_id)
            task.metadata = copy.deepcopy(dict(metadata))
            return self._touched(task)

    def set_task_tags(self, api_key: str, task_id: str, tags: Sequence[str]) -> dict[str, Any]:
        """``POST /v1/task/<id>/tags``: the task's tags become ``tags`` ("Sets completely new
        list of tags"), in their order; a tag given twice is kept once (INFERRED, as add
        ignores a tag already present)."""
        with self._state():
            task = self._task(self._customer(api_key), task_id)
            task.tags = list(dict.fromkeys(tags))
            return self._touched(task)

    def add_task_tags(self, api_key: str, task_id: str, tags: Sequence[str]) -> dict[str, Any]:
        """``PUT /v1/task/<id>/tags``: append each of ``tags`` the task does not have yet, in
        the order given ("Already present tags will be ignored")."""
        with self._state():
            task = self._task(self._customer(api_key), task_id)
            task.tags = list(dict.fromkeys([*task.tags, *tags]))
            return self._touched(task)

    def delete_task_tags(self, api_key: str, task_id: str, tags: Sequence[str]) -> dict[str, Any]:
        """``DELETE /v1/task/<id>/tags``: remove ``tags`` from the task, the others keeping
        their order ("Nonpresent tags will be ignored")."""
        with self._state():
            task = self._task(self._customer(api_key), task_id)
            gone = set(tags)
            task.tags = [tag for tag in task.tags if tag not in gone]
            return self._touched(task)

    def update_task_unique_id(self, api_key: str, task_id: str, unique_id: str) -> dict[str, Any]:
        """``POST /v1/task/<id>/unique_id``: the task's ``unique_id`` becomes ``unique_id``,
        and its old one is free for a new task. A ``unique_id`` another task of this
        customer holds is a 409 with the create's duplicate body (the SDK: "Raises a
        ScaleDuplicateResource exception if unique_id is already in use"); the task's own
        is a no-op 200 (INFERRED). ``list_tasks(unique_ids=...)`` finds the task by the new
        one only."""
        if not unique_id:
            raise BadRequest("'unique_id' must be a non-empty string")
        with self._state():
            customer = self._customer(api_key)
            task = self._task(customer, task_id)
            if task.unique_id != unique_id:
                self._check_unused(customer, unique_id, None)
                self._clear_unique_id(customer, task)
                task.unique_id = unique_id
                customer.unique_ids[unique_id] = task.task_id
            return self._touched(task)

    def clear_task_unique_id(self, api_key: str, task_id: str) -> dict[str, Any]:
        """``DELETE /v1/task/<id>/unique_id``: the task loses its ``unique_id`` ("Clears a
        task's unique_id"), which a new task may then take; a task without one is a no-op
        200 (INFERRED: DELETE is idempotent, and the SDK's 409 recovery cannot handle a
        refusal of a bodiless call)."""
        with self._state():
            customer = self._customer(api_key)
            task = self._task(customer, task_id)
            self._clear_unique_id(customer, task)
            return self._touched(task)

    def audit_task(
        self, api_key: str, task_id: str, *, accepted: bool, comments: str | None = None
    ) -> dict[str, Any]:
        """``POST /v1/task/<id>/audit``: record the customer's audit of a **completed** task
        (the SDK's ``Task.audit``: "Submit an audit to a completed task"); any other status
        is a 400 (undocumented status; never a 409, as for cancel).

        The audit is appended to the task's ``audits`` in the shape of the task object
        example's: ``{"audited_by", "audited_at", "audit_time_secs", "audit_result",
        "audit_source": "customer"}``, with ``audit_result`` ``accepted`` or ``rejected``
        (the SDK: "accept or reject completed tasks") and, when given, the ``comments``.
        INFERRED: ``audited_by`` is the customer's id (the example's is an e-mail address
        the emulator does not know), ``audit_time_secs`` is 0 (no time spent in the audit
        UI), a task may be audited again (the latest audit is its review status, which
        ``list_tasks(customer_review_status=...)`` filters on), and a rejection does not
        send the task back to work. The SDK ignores the answer; it is the task."""
        with self._state():
            customer = self._customer(api_key)
            task = self._task(customer, task_id)
            if task.status != "completed":
                raise BadRequest(
                    f"Task {task_id!r} is {task.status}: only a completed task can be audited"
                )
            audit: dict[str, Any] = {
                "audited_by": customer.id,
                "audited_at": iso8601(self._clock()),
                "audit_time_secs": 0,
                "audit_result": "accepted" if accepted else "rejected",
                "audit_source": "customer",
            }
            if comments is not None:
                audit["comments"] = comments
            task.audits.append(audit)
            return self._touched(task)

    def _touched(self, task: Task) -> dict[str, Any]:
        """Stamp an edited task's ``updated_at``; its task object."""
        task.updated_at = max(task.updated_at, self._clock())
        return task.to_json()

    def _task(self, customer: _Customer, task_id: str) -> Task:
        task = customer.tasks.get(task_id)
        if task is None:
            raise NotFound(f"Task {task_id!r} not found")
        return task

    def _check_unused(
        self, customer: _Customer, unique_id: str | None, idempotency_key: str | None
    ) -> None:
        if unique_id is not None and unique_id in customer.unique_ids:
            other = customer.unique_ids[unique_id]
            raise DuplicateTask(
                f'The unique_id ("{unique_id}") is already used for a different task ({other}).',
                task_id=other,
            )
        if idempotency_key is not None and idempotency_key in customer.idempotency_keys:
            other = customer.idempotency_keys[idempotency_key]
            raise DuplicateTask(
                f'The idempotency key ("{idempotency_key}") is already used for a different'
                f" task ({other}).",
                task_id=other,
            )

    def _clear_unique_id(self, customer: _Customer, task: Task) -> None:
        if task.unique_id is not None and customer.unique_ids.get(task.unique_id) == task.task_id:
            del customer.unique_ids[task.unique_id]
        task.unique_id = None

    def _new_task(
        self,
        customer: _Customer,
        project: _Project,
        batch: _Batch | None,
        task_type: str,
        *,
        params: dict[str, Any],
        instruction: str | None,
        callback_url: str | None,
        metadata: Mapping[str, Any] | None,
        unique_id: str | None,
        priority: int | None,
        tags: Sequence[str],
        clear_unique_id_on_error: bool,
        held: bool,
    ) -> Task:
        now = self._clock()
        seq = next(self._task_seq)
        # a Mongo ObjectId's look, as Scale's ids have: 8 hex digits of time, then a counter
        task_id = f"{int(max(now, 0)) & 0xFFFFFFFF:08x}{seq:016x}"
        project_instruction = project.params.get("instruction")
        task = Task(
            task_id=task_id,
            seq=seq,
            type=task_type,
            project=project.name,
            batch=batch.name if batch else None,
            instruction=instruction
            if instruction is not None
            else (project_instruction if isinstance(project_instruction, str) else ""),
            params=copy.deepcopy(params),
            callback_url=callback_url,
            metadata=copy.deepcopy(dict(metadata or {})),
            unique_id=unique_id,
            tags=list(tags),
            priority=priority,
            clear_unique_id_on_error=clear_unique_id_on_error,
            created_at=now,
            updated_at=now,
            held=held,
            missing=[
                url
                for url in dict.fromkeys(strings(params))
                if url.startswith(SCALEDATA) and url not in customer.attachment_urls
            ],
        )
        customer.tasks[task_id] = task
        task.indexes = [
            customer.task_index,
            customer.project_tasks.setdefault(project.name, _task_index()),
        ]
        if batch is not None:
            task.indexes.append(batch.task_index)
        for index in task.indexes:
            index.add(task, task.status)
        if unique_id is not None:
            customer.unique_ids[unique_id] = task_id
        if batch is not None:
            batch.tasks[task_id] = task
            if batch.status == "completed":
                batch.set_status("in_progress")
                batch.completed_at = None
            queue = batch.queue
        else:
            queue = customer.project_queues.get(project.name)
            if queue is None:
                queue = customer.project_queues[project.name] = _Queue(
                    customer=customer, batch=None, started_at=-math.inf
                )
        if queue is not None:
            queue.added += 1
            task.ordinal = queue.added
            if not held and self.task_seconds is not None:
                queue.waiting.append(task)
                self._busy.add(queue)
                self._work(queue, now)
        return task

    # -- the simulated workforce ----------------------------------------------------------

    def _settle(self) -> int:
        """Let the workforce finish every task whose time the clock has reached; how many.

        The clock is read only when some queue has work, so an emulator without tasks reads it
        exactly as before (tests with a scripted clock rely on that)."""
        if not self._busy:
            return 0
        now = self._clock()
        done = 0
        for queue in list(self._busy):
            done += self._work(queue, now)
        return done

    def _work(self, queue: _Queue, now: float) -> int:
        """Finish the tasks of ``queue`` due by ``now``, in order."""
        seconds = self.task_seconds
        if seconds is None or queue.started_at is None:
            return 0
        if not queue.free:
            queue.free = [queue.started_at] * self.workers
        done = 0
        last = None
        while queue.waiting:
            task = queue.waiting[0]
            if task.status != "pending":
                queue.waiting.popleft()
                continue
            due = max(queue.free[0], task.created_at, queue.started_at) + seconds
            if due > now + DUE_TOLERANCE:
                break
            heapq.heapreplace(queue.free, due)
            queue.waiting.popleft()
            self._finish(queue.customer, task, due)
            done += 1
            last = due
        if not queue.waiting:
            self._busy.discard(queue)
        if queue.batch is not None and last is not None:
            self._maybe_complete(queue.batch, at=last)
        return done

    def _fails(self, task: Task) -> bool:
        if task.missing:
            return True
        if self.error_every is not None and task.ordinal % self.error_every == 0:
            return True
        return self.error_rate > 0 and unit_hash(task.unique_id or task.task_id) < self.error_rate

    def _finish(self, customer: _Customer, task: Task, at: float) -> None:
        if self._fails(task):
            task.finish("error", at, error_response(task.params, task.missing))
            if task.clear_unique_id_on_error:
                self._clear_unique_id(customer, task)
            return
        project = customer.projects.get(task.project)
        task.finish(
            "completed", at, synthesize(task.type, task.params, project.params if project else {})
        )

    def advance_tasks(self) -> int:
        """Let the workforce finish every task due by the clock; return how many.

        Every operation does this first; call it to settle state after moving a fake clock
        without making a request."""
        with self._lock:
            return self._settle()

    # -- files ----------------------------------------------------------------------------

    def upload_file(
        self,
        api_key: str,
        *,
        size: int,
        mime_type: str,
        display_name: str | None = None,
        project_name: str | None = None,
        reference_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/files/upload``: store a file's description (the bytes are not kept: no
        endpoint reads them back); returns the File object, whose ``attachment_url``
        (``scaledata://…``) a task may name. Larger than ``max_file_size`` → 413, unknown
        ``project_name`` → 404, a ``reference_id`` already used → 409."""
        if size > self.max_file_size:
            raise ContentTooLarge(
                f"The file is {size} bytes; the limit is {self.max_file_size} bytes per file"
            )
        return self._add_file(
            api_key,
            size=size,
            mime_type=mime_type,
            display_name=display_name,
            project_name=project_name,
            reference_id=reference_id,
            metadata=metadata,
            file_url=None,
        )

    def import_file(
        self,
        api_key: str,
        *,
        file_url: str,
        mime_type: str,
        display_name: str | None = None,
        project_name: str | None = None,
        reference_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /v1/files/import``: a File for a URL (never fetched: its ``size`` is not
        known); otherwise as `upload_file`."""
        return self._add_file(
            api_key,
            size=None,
            mime_type=mime_type,
            display_name=display_name,
            project_name=project_name,
            reference_id=reference_id,
            metadata=metadata,
            file_url=file_url,
        )

    def _add_file(
        self,
        api_key: str,
        *,
        size: int | None,
        mime_type: str,
        display_name: str | None,
        project_name: str | None,
        reference_id: str | None,
        metadata: Mapping[str, Any] | None,
        file_url: str | None,
    ) -> dict[str, Any]:
        with self._state():
            customer = self._customer(api_key)
            if project_name is not None:
                self._project(customer, project_name)
            if reference_id is not None and reference_id in customer.references:
                other = customer.references[reference_id]
                raise Conflict(
                    f'The reference_id ("{reference_id}") is already used for a different'
                    f" file ({other})."
                )
            digest = hashlib.sha256(f"scale-file-{next(self._file_seq)}".encode()).digest()
            file_id = str(uuid.UUID(bytes=digest[:16], version=4))
            stored = _File(
                id=file_id,
                attachment_url=f"{SCALEDATA}{customer.id}/{file_id}",
                created_at=self._clock(),
                mime_type=mime_type,
                size=size,
                project_names=[project_name] if project_name is not None else [],
                display_name=display_name,
                reference_id=reference_id,
                metadata=copy.deepcopy(dict(metadata or {})),
                file_url=file_url,
            )
            customer.files[file_id] = stored
            customer.attachment_urls.add(stored.attachment_url)
            if reference_id is not None:
                customer.references[reference_id] = file_id
            return stored.to_json()

    # -- emulator control -----------------------------------------------------------------

    def archive_batch(self, api_key: str, name: str, archived: bool = True) -> dict[str, Any]:
        """Mark a batch archived (hidden by ``exclude_archived=true``); returns the batch."""
        with self._state():
            batch = self._batch(api_key, name)
            batch.archived = archived
            return batch.to_json()

    def add_tasks(
        self, api_key: str, batch_name: str, count: int = 1, *, worked: bool = False
    ) -> list[str]:
        """Add ``count`` pending tasks (real ones: listed, fetched and counted like created
        ones, of the project's type, with empty ``params``) to a batch that is not completed;
        returns their ids. They are left to `complete_tasks` unless ``worked``, when
        the simulated workforce works them like tasks created over the wire."""
        with self._state():
            customer = self._customer(api_key)
            batch = self._batch(api_key, batch_name)
            if isinstance(count, bool) or count < 1:
                raise BadRequest(f"count must be a positive integer, got {count!r}")
            if batch.status == "completed":
                raise Conflict(f"Batch {batch_name!r} is completed: no more tasks can be added")
            project = self._project(customer, batch.project)
            return [
                self._new_task(
                    customer,
                    project,
                    batch,
                    project.type,
                    params={},
                    instruction=None,
                    callback_url=None,
                    metadata=None,
                    unique_id=None,
                    priority=None,
                    tags=(),
                    clear_unique_id_on_error=False,
                    held=not worked,
                ).task_id
                for _ in range(count)
            ]

    def complete_tasks(
        self,
        api_key: str,
        batch_name: str,
        count: int | None = None,
        *,
        outcome: TaskOutcome = "completed",
    ) -> list[str]:
        """Move ``count`` pending tasks (default all, oldest first; held or not) to
        ``outcome`` now, with the response the workforce would give.

        A finalized batch whose tasks are then all done becomes ``completed``, with
        ``completed_at``. Returns the ids of the tasks moved.
        """
        with self._state():
            customer = self._customer(api_key)
            batch = self._batch(api_key, batch_name)
            if outcome not in TASK_OUTCOMES:
                choices = ", ".join(TASK_OUTCOMES)
                raise BadRequest(f"outcome must be one of {choices}, got {outcome!r}")
            pending = [task for task in batch.tasks.values() if task.status == "pending"]
            if count is None:
                count = len(pending)
            if isinstance(count, bool) or not 0 <= count <= len(pending):
                raise BadRequest(
                    f"count must be from 0 to the {len(pending)} pending tasks, got {count!r}"
                )
            moved = pending[:count]
            if moved:
                now = self._clock()
                project = customer.projects.get(batch.project)
                for task in moved:
                    if outcome == "completed":
                        params = project.params if project else {}
                        task.finish("completed", now, synthesize(task.type, task.params, params))
                    elif outcome == "error":
                        task.finish("error", now, error_response(task.params, task.missing))
                    else:
                        task.finish("canceled", now, None)
            self._maybe_complete(batch)
            return [task.task_id for task in moved]

    def _maybe_complete(self, batch: _Batch, *, at: float | None = None) -> None:
        if batch.status == "in_progress" and batch.tasks and not batch.task_index.count("pending"):
            batch.set_status("completed")
            batch.completed_at = self._clock() if at is None else at


def _scan(
    candidates: Iterable[Task],
    matches: Callable[[Task], bool],
    after: tuple[float, int] | None,
    limit: int,
) -> tuple[list[Task], int, int]:
    """``(page, total, offset)`` of a task listing by one pass over candidates in listing
    order (newest first): the page is the ``limit`` matches after those whose key is
    ``>= after``."""
    page: list[Task] = []
    total = offset = 0
    for task in candidates:
        if not matches(task):
            continue
        total += 1
        if after is not None and task.sort_key >= after:
            offset += 1
        elif len(page) < limit:
            page.append(task)
    return page, total, offset


def check_priority(priority: int) -> None:
    """400 unless ``priority`` is an integer from 10 (lowest) to 30 (highest)."""
    if isinstance(priority, bool) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise BadRequest(
            f"priority must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY}, got {priority!r}"
        )
