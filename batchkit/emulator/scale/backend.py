"""Scale AI state: customers (one per API key), their projects, batches and tasks."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from batchkit.emulator._errors import BadRequest, Conflict, NotFound

BatchStatus = Literal["staging", "in_progress", "completed"]
TaskOutcome = Literal["completed", "error", "canceled"]

BATCH_STATUSES: tuple[BatchStatus, ...] = ("staging", "in_progress", "completed")
TASK_OUTCOMES: tuple[TaskOutcome, ...] = ("completed", "error", "canceled")
MIN_PRIORITY, MAX_PRIORITY = 10, 30
MAX_LIMIT = 100


def iso8601(timestamp: float) -> str:
    """Unix seconds as Scale writes them: ``2023-08-01T23:04:12.168Z``."""
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


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


@attrs.define
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
    tasks: dict[str, str] = attrs.Factory(dict)

    def counts(self) -> dict[str, int]:
        counts = {"pending": 0, "completed": 0, "error": 0, "canceled": 0}
        for state in self.tasks.values():
            counts[state] += 1
        return counts

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
class _Customer:
    projects: dict[str, _Project] = attrs.Factory(dict)
    batches: dict[str, _Batch] = attrs.Factory(dict)


class ScaleBackend:
    """All Scale state of one emulator. Every API key is its own customer (tenant).

    The wire handlers call the methods below; tests may call them too, to set up state or to
    move tasks along (``add_tasks``, ``complete_tasks``). Methods raise
    :class:`~batchkit.emulator._errors.EmulatorError` subclasses and return JSON-ready
    dicts shaped as on the wire.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._customers: dict[str, _Customer] = {}
        self._seq = itertools.count()
        self._task_ids = itertools.count(1)

    def _customer(self, api_key: str) -> _Customer:
        return self._customers.setdefault(api_key, _Customer())

    def _batch(self, api_key: str, name: str) -> _Batch:
        batch = self._customer(api_key).batches.get(name)
        if batch is None:
            raise NotFound(f"Batch {name!r} not found")
        return batch

    # -- projects -------------------------------------------------------------------------

    def create_project(
        self,
        api_key: str,
        *,
        name: str,
        type: str,
        params: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a project; a name this customer already uses is a 409. `extra`: the other
        fields it was created with (echoed back), whatever their names."""
        with self._lock:
            customer = self._customer(api_key)
            if name in customer.projects:
                raise Conflict(f"Project {name!r} already exists")
            project = _Project(name, type, dict(params or {}), self._clock(), dict(extra or {}))
            customer.projects[name] = project
            return project.to_json()

    def get_project(self, api_key: str, name: str) -> dict[str, Any]:
        """One project of this customer (``GET /v1/projects/<name>``); unknown → 404."""
        with self._lock:
            project = self._customer(api_key).projects.get(name)
            if project is None:
                raise NotFound(f"Project {name!r} not found")
            return project.to_json()

    def list_projects(self, api_key: str) -> list[dict[str, Any]]:
        """Every project of this customer, oldest first (``GET /v1/projects``: a bare array)."""
        with self._lock:
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
        with self._lock:
            customer = self._customer(api_key)
            found = customer.projects.get(project)
            if found is None:
                raise NotFound(f"Project {project!r} not found")
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
            customer.batches[name] = batch
            return batch.to_json()

    def get_batch(self, api_key: str, name: str) -> dict[str, Any]:
        """The batch object."""
        with self._lock:
            return self._batch(api_key, name).to_json()

    def finalize_batch(self, api_key: str, name: str) -> dict[str, Any]:
        """``staging`` → ``in_progress`` (or ``completed`` if every task is done); else a no-op
        answering the batch unchanged (as the docs say for non-Rapid/Studio customers)."""
        with self._lock:
            batch = self._batch(api_key, name)
            if batch.status == "staging":
                batch.status = "in_progress"
                self._maybe_complete(batch)
            return batch.to_json()

    def batch_status(self, api_key: str, name: str) -> dict[str, Any]:
        """``{"status", "pending", "completed", "error", "canceled"}`` (the wire, per the SDK),
        plus the docs' example keys ``tasks_pending`` / ``tasks_completed`` with the same
        counts, so a reader of either form gets the truth."""
        with self._lock:
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
        with self._lock:
            batch = self._batch(api_key, name)
            batch.metadata = copy.deepcopy(dict(metadata))
            return batch.to_json()

    def prioritize(self, api_key: str, name: str, priority: int) -> dict[str, Any]:
        """Set the priority, 10 (lowest) to 30 (highest); returns ``{"result": "success"}``."""
        with self._lock:
            batch = self._batch(api_key, name)
            if isinstance(priority, bool) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
                raise BadRequest(
                    f"priority must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY},"
                    f" got {priority!r}"
                )
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
        with self._lock:
            matching = [
                batch
                for batch in self._customer(api_key).batches.values()
                if (project is None or batch.project == project)
                and (status is None or batch.status == status)
                and (start is None or batch.created_at >= start)
                and (end is None or batch.created_at <= end)
                and not (exclude_archived and batch.archived)
            ]
            matching.sort(key=lambda b: (b.created_at, b.seq), reverse=True)
            page = matching[offset : offset + limit]
            return {
                "docs": [batch.to_json(detailed=detailed) for batch in page],
                "totalDocs": len(matching),
                "limit": limit,
                "offset": offset,
                "has_more": offset + len(page) < len(matching),
            }

    # -- emulator control -----------------------------------------------------------------

    def archive_batch(self, api_key: str, name: str, archived: bool = True) -> dict[str, Any]:
        """Mark a batch archived (hidden by ``exclude_archived=true``); returns the batch."""
        with self._lock:
            batch = self._batch(api_key, name)
            batch.archived = archived
            return batch.to_json()

    def add_tasks(self, api_key: str, batch_name: str, count: int = 1) -> list[str]:
        """Add ``count`` pending tasks to a batch that is not completed; returns their ids."""
        with self._lock:
            batch = self._batch(api_key, batch_name)
            if isinstance(count, bool) or count < 1:
                raise BadRequest(f"count must be a positive integer, got {count!r}")
            if batch.status == "completed":
                raise Conflict(f"Batch {batch_name!r} is completed: no more tasks can be added")
            ids = [f"task_{next(self._task_ids):08d}" for _ in range(count)]
            batch.tasks.update(dict.fromkeys(ids, "pending"))
            return ids

    def complete_tasks(
        self,
        api_key: str,
        batch_name: str,
        count: int | None = None,
        *,
        outcome: TaskOutcome = "completed",
    ) -> list[str]:
        """Move ``count`` pending tasks (default all, oldest first) to ``outcome``.

        A finalized batch whose tasks are then all done becomes ``completed``, with
        ``completed_at``. Returns the ids of the tasks moved.
        """
        with self._lock:
            batch = self._batch(api_key, batch_name)
            if outcome not in TASK_OUTCOMES:
                choices = ", ".join(TASK_OUTCOMES)
                raise BadRequest(f"outcome must be one of {choices}, got {outcome!r}")
            pending = [task for task, state in batch.tasks.items() if state == "pending"]
            if count is None:
                count = len(pending)
            if isinstance(count, bool) or not 0 <= count <= len(pending):
                raise BadRequest(
                    f"count must be from 0 to the {len(pending)} pending tasks, got {count!r}"
                )
            moved = pending[:count]
            for task in moved:
                batch.tasks[task] = outcome
            self._maybe_complete(batch)
            return moved

    def _maybe_complete(self, batch: _Batch) -> None:
        if (
            batch.status == "in_progress"
            and batch.tasks
            and all(state != "pending" for state in batch.tasks.values())
        ):
            batch.status = "completed"
            batch.completed_at = self._clock()
