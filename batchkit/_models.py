"""Neutral value objects shared by every provider. Vendor JSON stays available in `raw`."""

from __future__ import annotations

import collections
import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs


class BatchState(enum.Enum):
    """Where a batch is in its life, in words common to every vendor."""

    #: AI Hub batches have no lifecycle: they accept files until deleted.
    OPEN = "open"
    STAGING = "staging"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


class JobState(enum.Enum):
    """State of an asynchronous vendor job (AI Hub deletions)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def done(self) -> bool:
        """True once the job can no longer change."""
        return self in (JobState.COMPLETE, JobState.FAILED, JobState.CANCELLED)


class RunState(enum.Enum):
    """Where the processing of a batch is, in words common to every vendor."""

    #: work is going on (AI Hub RUNNING / PAUSED; Scale: tasks pending)
    RUNNING = "running"
    #: a person must review before it goes on (AI Hub STOPPED_AT_CHECKPOINT)
    NEEDS_REVIEW = "needs_review"
    #: done: results can be read (some items may still have failed: see each `Result`)
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @property
    def done(self) -> bool:
        """True once the run can no longer change by itself."""
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.CANCELED)


class ItemState(enum.Enum):
    """What became of one item (a file, a task) when its batch was processed."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


_EMPTY: Mapping[str, Any] = {}


@attrs.frozen
class Batch:
    """A batch at some provider. `id` is what the provider addresses it by.

    AI Hub: the integer batch id as text. Scale: the batch name (unique per customer).
    `project` is the Scale project or the AI Hub workspace.
    """

    provider: str
    id: str
    name: str
    project: str | None = None
    state: BatchState = BatchState.UNKNOWN
    created_at: datetime | None = None
    owner: str | None = None
    #: the batch's priority, 10 (lowest) to 30 (highest), where the vendor has one (Scale;
    #: None until one is set)
    priority: int | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class FileUrl:
    """A file the vendor fetches itself from `url` (`Capability.IMPORT_URLS`): what
    `upload` hands an adapter's `upload_file` for an ``http(s)://`` source."""

    url: str


@attrs.frozen
class BatchFile:
    """A file inside a batch."""

    name: str
    size: int
    modified_at: datetime | None = None
    path: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class TaskCounts:
    """Task counts of a batch, by task status (absent on the wire means 0)."""

    pending: int = 0
    completed: int = 0
    error: int = 0
    canceled: int = 0

    @property
    def total(self) -> int:
        """All tasks in the batch."""
        return self.pending + self.completed + self.error + self.canceled

    def __repr__(self) -> str:
        return (
            f"TaskCounts(pending={self.pending}, completed={self.completed}, "
            f"error={self.error}, canceled={self.canceled}, total={self.total})"
        )


@attrs.frozen
class BatchStatus:
    """A batch's state and, where the vendor has them, its task counts."""

    batch_id: str
    state: BatchState
    counts: TaskCounts | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class Job:
    """Handle on an asynchronous vendor job; pass it to `provider.wait_job`."""

    provider: str
    id: str
    state: JobState = JobState.PENDING
    message: str | None = None
    url: str | None = None


@attrs.frozen
class FileInfo:
    """Metadata of a node read with a HEAD request (AI Hub Filesystem API)."""

    path: str
    is_file: bool
    size: int | None = None
    modified_at: datetime | None = None


@attrs.frozen
class Project:
    """A Scale project (the container of task batches)."""

    name: str
    type: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class FileOutcome:
    """What happened to one file of a bulk upload."""

    name: str
    size: int
    source: str
    #: "uploaded", "skipped" (already there from an earlier run), "failed", or "invalid"
    #: (cannot be uploaded as it is, e.g. a bad name; left out with ``invalid="skip"``).
    status: str
    reason: str | None = None


class _Outcomes:
    """What an upload and a download report share: their files, by what became of them."""

    files: tuple[FileOutcome, ...]

    def _having(self, status: str) -> list[FileOutcome]:
        return [f for f in self.files if f.status == status]

    @property
    def skipped(self) -> list[FileOutcome]:
        """Files already there, with their size (and hash), from an earlier run."""
        return self._having("skipped")

    @property
    def failed(self) -> list[FileOutcome]:
        """Files that did not make it, each with its reason."""
        return self._having("failed")

    @property
    def ok(self) -> bool:
        """True when no file failed (files left out as `invalid` do not count)."""
        return not self.failed


@attrs.frozen
class UploadReport(_Outcomes):
    """The result of `provider.upload`: every file, uploaded, skipped, failed or invalid."""

    batch_id: str
    files: tuple[FileOutcome, ...] = ()

    @property
    def uploaded(self) -> list[FileOutcome]:
        """Files sent (and verified) in this run."""
        return self._having("uploaded")

    @property
    def invalid(self) -> list[FileOutcome]:
        """Files left out because they cannot be uploaded as they are (``invalid="skip"``),
        each with what is wrong and how to fix it. They do not make `ok` false."""
        return self._having("invalid")

    @property
    def bytes_uploaded(self) -> int:
        """Bytes sent in this run."""
        return sum(f.size for f in self.uploaded)

    @classmethod
    def merged(cls, reports: Iterable[UploadReport]) -> UploadReport:
        """One report of the uploads of shards of one batch (e.g. on a cluster's workers):
        every file of each, in order. `ValueError` if they are of different batches, or if
        one name appears in two shards (the shards overlapped: a file was sent twice)."""
        given = list(reports)
        batches = {r.batch_id for r in given}
        if len(batches) != 1:
            raise ValueError(f"reports of {len(batches)} batches {sorted(batches)}: merge one's")
        files = tuple(f for r in given for f in r.files)
        counts = collections.Counter(f.name for f in files)
        twice = sorted(name for name, n in counts.items() if n > 1)
        if twice:
            shown = ", ".join(repr(n) for n in twice[:5])
            raise ValueError(f"{len(twice)} name(s) in more than one shard: {shown}")
        return cls(batch_id=batches.pop(), files=files)


@attrs.frozen
class Run:
    """The processing of a batch, as `start` returns it and `wait` follows it.

    AI Hub: an app or deployment run (`id` is the run id). Scale: the batch's tasks being
    worked (`id` is the batch name; `counts` are its task counts).
    """

    provider: str
    id: str
    batch_id: str
    state: RunState = RunState.RUNNING
    #: task counts, where the vendor has them (Scale)
    counts: TaskCounts | None = None
    message: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class Result:
    """One item's result: which item, what became of it, and its output.

    `item` names what went in: the file name (AI Hub; Scale tasks made from files), else the
    task's `unique_id` or id. `output` is the vendor's answer in a neutral shape (AI Hub:
    ``{field name: value}`` of the file's documents; Scale: the task's `response`); `raw` is
    the vendor's JSON for the item, untouched.
    """

    item: str
    state: ItemState
    output: Mapping[str, Any] = attrs.field(factory=dict)
    #: why it failed, if it did
    error: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class TaskSpec:
    """A task to add to a batch (`add_tasks`): its type and the vendor's fields for it.

    Scale: `type` is the task type (``"imageannotation"``); `fields` the body of
    ``POST /v1/task/{type}`` besides project and batch (``attachment``, ``geometries``,
    ``instruction``...). `unique_id` makes adding it idempotent: without one, batchkit
    derives one from the batch and the spec, so a rerun never adds it twice.
    """

    type: str
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    unique_id: str | None = None
    metadata: Mapping[str, Any] | None = None


@attrs.frozen
class Task:
    """A task in a batch (Scale)."""

    provider: str
    id: str
    batch_id: str | None
    state: ItemState
    type: str | None = None
    unique_id: str | None = None
    #: the worker's answer, once completed
    response: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


@attrs.frozen
class DownloadReport(_Outcomes):
    """The result of `provider.download`: every file of the batch, downloaded, skipped (the
    folder already held it with its size) or failed (with why)."""

    batch_id: str
    folder: str
    files: tuple[FileOutcome, ...] = ()

    @property
    def downloaded(self) -> list[FileOutcome]:
        """Files written in this run."""
        return self._having("downloaded")
