"""Neutral value objects shared by every provider. Vendor JSON stays available in `raw`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
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
    raw: Mapping[str, Any] = attrs.field(default=_EMPTY, eq=False, repr=False)


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


@attrs.frozen
class UploadReport:
    """The result of `provider.upload`: every file, uploaded, skipped, failed or invalid."""

    batch_id: str
    files: tuple[FileOutcome, ...] = ()

    @property
    def uploaded(self) -> list[FileOutcome]:
        """Files sent (and verified) in this run."""
        return [f for f in self.files if f.status == "uploaded"]

    @property
    def skipped(self) -> list[FileOutcome]:
        """Files already present and verified from an earlier run."""
        return [f for f in self.files if f.status == "skipped"]

    @property
    def failed(self) -> list[FileOutcome]:
        """Files that did not make it, each with its reason."""
        return [f for f in self.files if f.status == "failed"]

    @property
    def invalid(self) -> list[FileOutcome]:
        """Files left out because they cannot be uploaded as they are (``invalid="skip"``),
        each with what is wrong and how to fix it. They do not make `ok` false."""
        return [f for f in self.files if f.status == "invalid"]

    @property
    def ok(self) -> bool:
        """True when no file failed (files left out as `invalid` do not count)."""
        return not self.failed

    @property
    def bytes_uploaded(self) -> int:
        """Bytes sent in this run."""
        return sum(f.size for f in self.uploaded)
