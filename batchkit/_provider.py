"""`BatchProvider`: the one interface a pipeline codes against, whatever the vendor."""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Protocol, Self, overload, runtime_checkable

from ._capabilities import OPERATION_CAPABILITY, Capability, capability
from ._destinations import deliver
from ._errors import InvalidInput, UnsupportedOperation
from ._models import Batch, BatchFile, BatchState, BatchStatus, Job, Project
from ._upload import InvalidMode, ProgressCallback, Source, VerifyMode
from ._upload import upload as bulk_upload
from ._validate import byte_range, file_name

if TYPE_CHECKING:
    from ._models import UploadReport

#: what `upload_file` accepts: the bytes, a path to a file, or a binary stream
FileData = bytes | bytearray | memoryview | str | Path | IO[bytes]

#: a batch as methods take it: the `Batch` a call returned, or its id (AI Hub: the number,
#: as text or int; Scale: the batch name)
BatchRef = Batch | str | int


def _nobody(flag: Capability) -> list[str]:
    return []


#: "Which registered providers support this flag?", for the "unsupported" messages. The answer
#: is the registry's, and the registry sits a floor above this module (it imports it, to check
#: the classes it loads), so it is never imported from here: it hands its answer down with
#: `answer_who_supports` when it is imported, as `encodings` registers its search function with
#: `codecs`. `import batchkit` imports the registry, so it is in place before any provider exists.
_who_supports: Callable[[Capability], list[str]] = _nobody


def answer_who_supports(lookup: Callable[[Capability], list[str]]) -> None:
    """Install the registry's answer to "which registered providers support this flag?"."""
    global _who_supports
    _who_supports = lookup


class BatchProvider(abc.ABC):
    """A vendor's batches behind one neutral interface.

    Get one from `batchkit.connect`. Operations a vendor lacks raise
    `UnsupportedOperation`; check `supports(Capability.X)` first to branch instead.
    Use it as a context manager (or call `close`) to release pooled connections.
    """

    #: the registry name, e.g. "aihub"
    name: ClassVar[str]
    #: what this provider can do
    capabilities: ClassVar[Capability]
    #: environment variables that override settings: {ENV_VAR: setting}
    env_settings: ClassVar[Mapping[str, str]] = {}
    #: settings that hold secrets (masked by `batchkit config show`)
    secret_settings: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build a provider from a settings mapping (config file + env + keyword args)."""

    # -- capabilities -------------------------------------------------------------------

    def supports(self, flag: Capability | str) -> bool:
        """True if this provider can do everything in `flag` (a `Capability`, or a
        capability's name such as ``"UPLOAD_FILES"``, e.g. from configuration)."""
        return capability(flag) in self.capabilities

    def require(self, flag: Capability | str, operation: str | None = None) -> None:
        """Raise `UnsupportedOperation` unless this provider supports `flag`."""
        flag = capability(flag)
        if flag not in self.capabilities:
            raise self._unsupported(operation or (flag.name or str(flag)).lower(), flag)

    def _unsupported(self, operation: str, flag: Capability | None = None) -> UnsupportedOperation:
        flag = flag or OPERATION_CAPABILITY.get(operation, Capability(0))
        others = _who_supports(flag)
        hint = f"; providers that support it: {', '.join(others)}" if others else ""
        return UnsupportedOperation(
            f"{self.name} does not support {operation} (Capability.{flag.name}){hint}. "
            f"Check provider.supports(Capability.{flag.name}) before calling it.",
            provider=self.name,
            operation=operation,
            supported_by=others,
        )

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- batch references ---------------------------------------------------------------

    def batch_id(self, batch: BatchRef) -> str:
        """The provider's id for `batch` (a `Batch` from this provider, or an id)."""
        if isinstance(batch, Batch):
            if batch.provider != self.name:
                raise InvalidInput(
                    f"batch {batch.name!r} came from provider {batch.provider!r}, not "
                    f"{self.name!r}: pass it to the {batch.provider!r} provider"
                )
            if not isinstance(batch.id, str):
                raise InvalidInput(f"Batch.id must be a str, got {batch.id!r:.80}")
            return self._check_batch_id(batch.id)
        if isinstance(batch, bool) or not isinstance(batch, str | int):
            raise InvalidInput(
                f"expected a Batch or a batch id, got {type(batch).__name__}: {batch!r}"
            )
        return self._check_batch_id(str(batch))

    def _check_batch_id(self, batch_id: str) -> str:
        """Validate a bare batch id (adapters override)."""
        if not batch_id:
            raise InvalidInput("batch id is empty: pass a Batch or its id")
        return batch_id

    # -- neutral operations -------------------------------------------------------------

    @abc.abstractmethod
    def create_batch(
        self,
        name: str,
        *,
        project: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Batch:
        """Create a batch named `name` in `project` (Scale project / AI Hub workspace).

        `callback` and `metadata` need `Capability.CALLBACKS` / `METADATA`; `options`
        passes vendor-specific fields (e.g. Scale `calibration_batch`).
        """

    @abc.abstractmethod
    def get_batch(self, batch: BatchRef) -> Batch:
        """Fetch a batch by handle or id; `NotFound` if it does not exist."""

    @abc.abstractmethod
    def list_batches(
        self,
        *,
        project: str | None = None,
        state: BatchState | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Batch]:
        """Iterate over batches lazily, page by page, filtered as asked.

        `state` is a `BatchState` or its value (`"staging"`); `limit` caps the number of
        batches yielded. Bad filters raise `InvalidInput` here, before any request.
        """

    @abc.abstractmethod
    def status(self, batch: BatchRef) -> BatchStatus:
        """The batch's state and, with `Capability.STATUS_COUNTS`, its task counts."""

    def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """Delete a batch and its files. With `wait=False` returns the job to poll."""
        raise self._unsupported("delete_batch")

    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> BatchFile:
        """Upload one file (bytes, a path or a binary stream) as `name` in the batch.

        Big files go up in parts where the vendor supports it. Replaces a file of the
        same name.
        """
        raise self._unsupported("upload_file")

    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Iterator[BatchFile]:
        """Iterate over the batch's files lazily, page by page."""
        raise self._unsupported("list_files")

    def delete_file(
        self, batch: BatchRef, name: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """Delete one file from a batch. With `wait=False` returns the job to poll."""
        raise self._unsupported("delete_file")

    @overload
    def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes: ...

    @overload
    def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: str | Path | IO[bytes],
        *,
        start: int = 0,
        end: int | None = None,
    ) -> int: ...

    def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: str | Path | IO[bytes] | None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes | int:
        """Read a file of the batch, whole or bytes `start..end` (inclusive).

        Without `dest` returns the bytes; with a path or binary stream, streams into it
        and returns the number of bytes written. A path is written atomically: a failed
        download leaves an existing file untouched and creates nothing. A directory
        receives the file under `name`.
        """
        if Capability.DOWNLOAD_FILES not in self.capabilities:
            raise self._unsupported("download_file")
        file_name(name)
        byte_range(start, end)
        return deliver(dest, name, lambda sink: self._download_into(batch, name, sink, start, end))

    def _download_into(
        self, batch: BatchRef, name: str, sink: IO[bytes], start: int, end: int | None
    ) -> int:
        """Stream a (validated) file or range into `sink`; adapters with DOWNLOAD_FILES
        implement this, and `download_file` does the rest."""
        raise self._unsupported("download_file")

    def abort_upload_session(self, session: str) -> None:
        """Abort an upload session an interrupted upload left open (a multipart session,
        as a resume journal records it). Resumed uploads call this for you."""
        raise self._unsupported("abort_upload_session", Capability.MULTIPART_UPLOAD)

    def finalize(self, batch: BatchRef) -> Batch:
        """Mark a staging batch ready to be worked on."""
        raise self._unsupported("finalize")

    def prioritize(self, batch: BatchRef, priority: int) -> None:
        """Set the batch's priority, 10 (lowest) to 30 (highest)."""
        raise self._unsupported("prioritize")

    def wait_job(self, job: Job, *, timeout: float = 300.0) -> Job:
        """Poll an asynchronous job until it completes (`JobFailed` / `JobTimeout` else)."""
        raise self._unsupported("wait_job", Capability.DELETE_BATCH)

    def upload(
        self,
        batch: BatchRef,
        sources: Source | Iterable[Source],
        *,
        concurrency: int = 16,
        on_progress: ProgressCallback | None = None,
        resume: bool | str | os.PathLike[str] | None = None,
        verify: VerifyMode = "size",
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        strict: bool = False,
        invalid: InvalidMode = "refuse",
    ) -> UploadReport:
        """Upload many files concurrently, verified and resumable (see `batchkit.upload`)."""
        self.require(Capability.UPLOAD_FILES, "upload")
        return bulk_upload(
            self,
            batch,
            sources,
            concurrency=concurrency,
            on_progress=on_progress,
            resume=resume,
            verify=verify,
            include=include,
            exclude=exclude,
            strict=strict,
            invalid=invalid,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


@runtime_checkable
class SupportsProjects(Protocol):
    """A provider whose batches live in projects it can create and look up (Scale today).

    A vendor extra rather than a `Capability`, since its arguments are the vendor's: check
    with ``isinstance(provider, SupportsProjects)``; `batchkit.providers_supporting`
    names the registered providers that have it.
    """

    def create_project(
        self,
        name: str,
        *,
        type: str,
        params: Mapping[str, Any] | None = None,
        rapid: bool | None = None,
        studio: bool | None = None,
    ) -> Project:
        """Create a project named `name` for tasks of `type`."""
        ...

    def get_project(self, name: str) -> Project:
        """Fetch a project by name (`NotFound` if there is none)."""
        ...

    def list_projects(self) -> list[Project]:
        """Every project of the account."""
        ...


__all__ = ["BatchProvider", "BatchRef", "FileData", "SupportsProjects", "answer_who_supports"]
