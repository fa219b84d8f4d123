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

    OPEN = "open"
    """Accepting files until deleted: every AI Hub batch (they have no lifecycle)."""
    STAGING = "staging"
    """Scale: a Rapid or Studio project's batch taking tasks, not worked until `finalize`."""
    IN_PROGRESS = "in_progress"
    """Scale: its tasks are being worked."""
    COMPLETED = "completed"
    """Scale: every task of the batch is done."""
    UNKNOWN = "unknown"
    """A state the vendor reported that batchkit does not know."""


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

    RUNNING = "running"
    """Work is going on (AI Hub RUNNING / PAUSED; Scale: tasks pending)."""
    NEEDS_REVIEW = "needs_review"
    """A person must review before it goes on (AI Hub STOPPED_AT_CHECKPOINT)."""
    COMPLETED = "completed"
    """Done: results can be read (some items may still have failed: see each `Result`)."""
    FAILED = "failed"
    """The run failed as a whole (`wait` raises `RunFailed`)."""
    CANCELED = "canceled"
    """The run was canceled (`wait` raises `RunFailed`)."""
    UNKNOWN = "unknown"
    """A state the vendor reported that batchkit does not know."""

    @property
    def done(self) -> bool:
        """True once the run can no longer change by itself."""
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.CANCELED)


class ItemState(enum.Enum):
    """What became of one item (a file, a task) when its batch was processed."""

    PENDING = "pending"
    """Not processed yet."""
    COMPLETED = "completed"
    """Processed: its `Result.output` holds the answer."""
    FAILED = "failed"
    """Processing it failed (`Result.error` says why; a Scale task in ``error``)."""
    CANCELED = "canceled"
    """Canceled before it was processed (a Scale task)."""


_EMPTY: Mapping[str, Any] = {}


@attrs.frozen
class Batch:
    """A batch at some provider. `id` is what the provider addresses it by.

    AI Hub: the integer batch id as text. Scale: the batch name (unique per customer).
    `project` is the Scale project or the AI Hub workspace.
    """

    provider: str
    """The provider's name: ``"aihub"`` or ``"scale"``."""
    id: str
    """What the provider addresses the batch by: AI Hub's integer batch id as text
    (``"231"``), Scale's batch name."""
    name: str
    """The batch's name (at Scale, the same as `id`)."""
    project: str | None = None
    """The Scale project or the AI Hub workspace the batch is in (None if not known)."""
    state: BatchState = BatchState.UNKNOWN
    """Where the batch is in its life (AI Hub batches are always `BatchState.OPEN`)."""
    created_at: datetime | None = None
    """When the batch was created (timezone-aware), if the vendor says."""
    owner: str | None = None
    """The AI Hub user who owns the batch; None at Scale, whose batches have no owner."""
    priority: int | None = None
    """The batch's priority, 10 (lowest) to 30 (highest), where the vendor has one (Scale;
    None until one is set, see `prioritize`)."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the batch, untouched (empty where none was read)."""


@attrs.frozen
class FileUrl:
    """A file the vendor fetches itself from `url` (`Capability.IMPORT_URLS`): what
    `upload` hands an adapter's `upload_file` for an ``http(s)://`` source."""

    url: str
    """The ``http://`` or ``https://`` URL the vendor downloads the file from."""


@attrs.frozen
class BatchFile:
    """A file inside a batch, as `list_files` lists it and `upload_file` returns it."""

    name: str
    """The file's name in the batch."""
    size: int
    """Its size in bytes."""
    modified_at: datetime | None = None
    """When it was last written (timezone-aware), where the listing says (AI Hub); None
    from `upload_file`."""
    path: str | None = None
    """Its full path in the AI Hub Filesystem API (`AIHubProvider.fs_read` reads it), where
    the listing gives one; None otherwise."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the file (its listing node), untouched; empty if none."""


@attrs.frozen
class TaskCounts:
    """Task counts of a batch, by task status (absent on the wire means 0)."""

    pending: int = 0
    """Tasks not done yet."""
    completed: int = 0
    """Tasks done, with a response."""
    error: int = 0
    """Tasks that ended in error."""
    canceled: int = 0
    """Tasks canceled."""

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
    """The batch's id (`Batch.id`)."""
    state: BatchState
    """Where the batch is in its life."""
    counts: TaskCounts | None = None
    """Its task counts, where the vendor has them (Scale, `Capability.STATUS_COUNTS`);
    None elsewhere."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the status, untouched; empty if none."""


@attrs.frozen
class Job:
    """Handle on an asynchronous vendor job; pass it to `provider.wait_job`."""

    provider: str
    """The provider's name (``"aihub"``)."""
    id: str
    """The vendor's job id."""
    state: JobState = JobState.PENDING
    """The job's state when this handle was made or last polled."""
    message: str | None = None
    """The vendor's message about the job, if it gave one."""
    url: str | None = None
    """The URL the job is polled at, where the vendor gave one (AI Hub's ``Location``)."""


@attrs.frozen
class FileInfo:
    """Metadata of a node read with a HEAD request (AI Hub Filesystem API)."""

    path: str
    """The path that was read."""
    is_file: bool
    """True for a file, False for a folder."""
    size: int | None = None
    """The file's size in bytes; None for a folder, or if the server did not say."""
    modified_at: datetime | None = None
    """When it was last modified (its ``Last-Modified``), if the server said."""


@attrs.frozen
class Project:
    """A Scale project (the container of task batches)."""

    name: str
    """The project's name (unique per Scale customer)."""
    type: str | None = None
    """The task type of its tasks (``"imageannotation"``...), if known."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the project, untouched; empty if none."""


@attrs.frozen
class FileOutcome:
    """What happened to one file of a bulk upload (`UploadReport`) or download
    (`DownloadReport`)."""

    name: str
    """The file's name in the batch."""
    size: int
    """Its size in bytes (0 where it is not known: a stream that cannot seek, not sent)."""
    source: str
    """Where it came from: an upload's local path or URL as given (``"<stream>"`` or
    ``"<bytes>"`` for content passed in memory); ``"batch <id>"`` for a download."""
    status: str
    """Upload: ``"uploaded"``, ``"skipped"`` (already there from an earlier run),
    ``"failed"``, or ``"invalid"`` (cannot be uploaded as it is, e.g. a bad name; left
    out with ``invalid="skip"``). Download: ``"downloaded"``, ``"skipped"`` (the folder
    already held it with its size) or ``"failed"``."""
    reason: str | None = None
    """Why it failed or is invalid (with what to do); None otherwise."""


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
    """The result of `provider.upload`: every file, uploaded, skipped, failed or invalid.

    `skipped`, `failed` and `ok` are as for `DownloadReport`: the files already there, the
    files that did not make it (each with its reason), and whether none failed.
    """

    batch_id: str
    """The batch the files went to."""
    files: tuple[FileOutcome, ...] = ()
    """Every file of the upload, in the order planned, with what became of it."""

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
    """The provider's name: ``"aihub"`` or ``"scale"``."""
    id: str
    """What `get_run`, `wait` and `results` take: AI Hub's run id, Scale's batch name."""
    batch_id: str
    """The batch being processed (`Batch.id`)."""
    state: RunState = RunState.RUNNING
    """Where the run was when this was read."""
    counts: TaskCounts | None = None
    """The batch's task counts, where the vendor has them (Scale); None elsewhere."""
    message: str | None = None
    """The vendor's message about the run (AI Hub's ``msg``), if any."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the run, untouched; empty if none."""


@attrs.frozen
class Result:
    """One item's result: which item, what became of it, and its output.

    `item` names what went in: the file name (AI Hub; Scale tasks made from files), else the
    task's `unique_id` or id. `output` is the vendor's answer in a neutral shape (AI Hub:
    ``{field name: value}`` of the file's documents; Scale: the task's `response`); `raw` is
    the vendor's JSON for the item, untouched.
    """

    item: str
    """What went in: the file name, else the task's `unique_id` or id."""
    state: ItemState
    """What became of the item."""
    output: Mapping[str, Any] = attrs.field(factory=dict)
    """The vendor's answer in a neutral shape (AI Hub: ``{field name: value}``; Scale: the
    task's response); empty if there is none."""
    error: str | None = None
    """Why it failed, if it did."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the item, untouched."""


@attrs.frozen
class TaskSpec:
    """A task to add to a batch (`add_tasks`): its type and the vendor's fields for it.

    Scale: `type` is the task type (``"imageannotation"``); `fields` the body of
    ``POST /v1/task/{type}`` besides project and batch (``attachment``, ``geometries``,
    ``instruction``...). `unique_id` makes adding it idempotent: without one, batchkit
    derives one from the batch and the spec, so a rerun never adds it twice.
    """

    type: str
    """The task type (Scale: ``"imageannotation"``, ``"textcollection"``...)."""
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    """The vendor's fields of the task, besides project and batch (``attachment``,
    ``geometries``, ``instruction``...)."""
    unique_id: str | None = None
    """The task's unique id at the vendor; None: batchkit derives one from the batch and
    the spec, so adding the same spec twice adds one task."""
    metadata: Mapping[str, Any] | None = None
    """Your own JSON object, kept with the task and given back in `Task.metadata`."""


@attrs.frozen
class Task:
    """A task in a batch (Scale)."""

    provider: str
    """The provider's name (``"scale"``)."""
    id: str
    """The vendor's task id (what `get_task` and `cancel_task` take)."""
    batch_id: str | None
    """The batch the task is in (`Batch.id`); None for a task in no batch."""
    state: ItemState
    """Where the task is (Scale's ``error`` is `ItemState.FAILED`)."""
    type: str | None = None
    """The task type (``"imageannotation"``...)."""
    unique_id: str | None = None
    """The task's unique id, if it has one."""
    response: Mapping[str, Any] | None = None
    """The vendor's response: the worker's answer once completed (for a task in error, what
    went wrong); None before."""
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    """The task's metadata, your own JSON object (empty if none)."""
    created_at: datetime | None = None
    """When the task was created (timezone-aware), if the vendor says."""
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)
    """The vendor's JSON for the task, untouched."""


@attrs.frozen
class DownloadReport(_Outcomes):
    """The result of `provider.download`: every file of the batch, downloaded, skipped (the
    folder already held it with its size) or failed (with why)."""

    batch_id: str
    """The batch the files came from."""
    folder: str
    """Where they were written: the folder's path, or its storage URL."""
    files: tuple[FileOutcome, ...] = ()
    """Every file of the batch, by name, with what became of it."""

    @property
    def downloaded(self) -> list[FileOutcome]:
        """Files written in this run."""
        return self._having("downloaded")
