"""`Adapter`: one vendor's knowledge (its wire, its rules), as flows, with no I/O.

An adapter turns each neutral operation into a flow (`batchkit._flow`): it checks the
arguments eagerly (bad input raises here, before any request) and returns the generator
that yields the requests. `BatchProvider` (blocking) and `AsyncBatchProvider` (async) drive
the same adapter, so an operation is written once and serves both. Operations a vendor lacks
keep the defaults here, which raise `UnsupportedOperation` naming who does support them.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Self

from ._capabilities import OPERATION_CAPABILITY, Capability, capability
from ._destinations import Dest, deliver
from ._download import download_flow
from ._errors import InvalidInput, UnsupportedOperation
from ._flow import Flow, primed
from ._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    FileUrl,
    Job,
    Run,
    Task,
    TaskSpec,
)
from ._raw import raw_call
from ._runs import UpdateCallback, follow
from ._upload import InvalidMode, NameBy, ProgressCallback, Source, VerifyMode, upload_flow
from ._validate import byte_range, file_name, seconds

if TYPE_CHECKING:
    import httpx

    from ._models import DownloadReport, UploadReport
    from ._settings import CommonSettings, HttpOptions

#: what `upload_file` accepts: the bytes, a path to a file, a binary stream, or a `FileUrl`
#: the vendor fetches itself (adapters with `Capability.IMPORT_URLS`; `open_source` refuses
#: it for the others)
FileData = bytes | bytearray | memoryview | str | Path | IO[bytes] | FileUrl

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


class Adapter(abc.ABC):
    """A vendor's batches as flows: subclass it to add a vendor (see docs/adapters.md).

    Set the class variables, implement `from_settings`, `http_options` and the four
    abstract flows, and override the operations the vendor has (declaring each in
    `capabilities`). Every flow method checks its arguments before returning the flow.
    """

    #: the registry name, e.g. "aihub"
    name: ClassVar[str]
    #: what this vendor can do
    capabilities: ClassVar[Capability]
    #: environment variables that override settings: {ENV_VAR: setting}
    env_settings: ClassVar[Mapping[str, str]] = {}
    #: settings that hold secrets (masked by `batchkit config show`)
    secret_settings: ClassVar[frozenset[str]] = frozenset()

    #: the adapter's typed settings (a `CommonSettings` subclass)
    settings: CommonSettings

    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from a settings mapping (config file + env + keyword args)."""

    @abc.abstractmethod
    def http_options(self) -> HttpOptions:
        """Credentials, headers and error wording for this vendor's HTTP session."""

    # -- capabilities -------------------------------------------------------------------

    def supports(self, flag: Capability | str) -> bool:
        """True if this vendor can do everything in `flag` (a `Capability` or its name)."""
        return capability(flag) in self.capabilities

    def require(self, flag: Capability | str, operation: str | None = None) -> None:
        """Raise `UnsupportedOperation` unless this vendor supports `flag`."""
        flag = capability(flag)
        if flag not in self.capabilities:
            raise self.unsupported(operation or (flag.name or str(flag)).lower(), flag)

    def unsupported(
        self, operation: str, flag: Capability | None = None, *, hint: str = ""
    ) -> UnsupportedOperation:
        """The error for `operation`, which this vendor does not have; `hint` says what to
        do instead, if anything."""
        flag = flag or OPERATION_CAPABILITY.get(operation, Capability(0))
        others = _who_supports(flag)
        who = f"; providers that support it: {', '.join(others)}" if others else ""
        instead = f"; {hint}" if hint else ""
        return UnsupportedOperation(
            f"{self.name} does not support {operation} (Capability.{flag.name}){who}{instead}. "
            f"Check provider.supports(Capability.{flag.name}) before calling it.",
            provider=self.name,
            operation=operation,
            supported_by=others,
            hint=hint,
        )

    # -- batch references ---------------------------------------------------------------

    def batch_id(self, batch: BatchRef) -> str:
        """The vendor's id for `batch` (a `Batch` from this provider, or an id)."""
        if isinstance(batch, Batch):
            if batch.provider != self.name:
                raise InvalidInput(
                    f"batch {batch.name!r} came from provider {batch.provider!r}, not "
                    f"{self.name!r}: pass it to the {batch.provider!r} provider"
                )
            if not isinstance(batch.id, str):
                raise InvalidInput(f"Batch.id must be a str, got {batch.id!r:.80}")
            return self.check_batch_id(batch.id)
        if isinstance(batch, bool) or not isinstance(batch, str | int):
            raise InvalidInput(
                f"expected a Batch or a batch id, got {type(batch).__name__}: {batch!r}"
            )
        return self.check_batch_id(str(batch))

    def check_batch_id(self, batch_id: str) -> str:
        """Validate a bare batch id (adapters override with their vendor's rule)."""
        if not batch_id:
            raise InvalidInput("batch id is empty: pass a Batch or its id")
        return batch_id

    # -- neutral operations, as flows ---------------------------------------------------

    @abc.abstractmethod
    def create_batch(
        self,
        name: str,
        *,
        project: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Batch]:
        """See `BatchProvider.create_batch`."""

    @abc.abstractmethod
    def get_batch(self, batch: BatchRef) -> Flow[Batch]:
        """See `BatchProvider.get_batch`."""

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
        **options: Any,
    ) -> Flow[None]:
        """A listing flow `Emit`-ting `Batch` items; see `BatchProvider.list_batches`."""

    @abc.abstractmethod
    def status(self, batch: BatchRef) -> Flow[BatchStatus]:
        """See `BatchProvider.status`."""

    def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[Job | None]:
        """See `BatchProvider.delete_batch`."""
        raise self.unsupported("delete_batch")

    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> Flow[BatchFile]:
        """See `BatchProvider.upload_file`."""
        raise self.unsupported("upload_file")

    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Flow[None]:
        """A listing flow `Emit`-ting `BatchFile` items; see `BatchProvider.list_files`."""
        raise self.unsupported("list_files")

    def delete_file(
        self, batch: BatchRef, name: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[Job | None]:
        """See `BatchProvider.delete_file`."""
        raise self.unsupported("delete_file")

    def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: Dest = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> Flow[bytes | int]:
        """See `BatchProvider.download_file`: adapters implement `download_into`."""
        if Capability.DOWNLOAD_FILES not in self.capabilities:
            raise self.unsupported("download_file")
        file_name(name)
        byte_range(start, end)

        def write(sink: IO[bytes]) -> Flow[int]:
            return self.download_into(batch, name, sink, start, end)

        return deliver(dest, name, write)

    def download_into(
        self, batch: BatchRef, name: str, sink: IO[bytes], start: int, end: int | None
    ) -> Flow[int]:
        """Stream a (validated) file or byte range into `sink`; returns the bytes written.
        Adapters with `DOWNLOAD_FILES` implement this; `download_file` does the rest."""
        raise self.unsupported("download_file")

    def abort_upload_session(self, session: str) -> Flow[None]:
        """See `BatchProvider.abort_upload_session`."""
        raise self.unsupported("abort_upload_session", Capability.MULTIPART_UPLOAD)

    def finalize(self, batch: BatchRef) -> Flow[Batch]:
        """See `BatchProvider.finalize`."""
        raise self.unsupported("finalize")

    def prioritize(self, batch: BatchRef, priority: int) -> Flow[None]:
        """See `BatchProvider.prioritize`."""
        raise self.unsupported("prioritize")

    @primed
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Iterable[int] | None = None,
        idempotent: bool | None = None,
    ) -> Flow[httpx.Response]:
        """See `BatchProvider.request`: one `Call`, checked now, its response returned."""
        call = raw_call(
            method,
            path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            ok=ok,
            idempotent=idempotent,
        )
        response: httpx.Response = yield call
        return response

    def wait_job(self, job: Job, *, timeout: float = 300.0) -> Flow[Job]:
        """See `BatchProvider.wait_job`."""
        raise self.unsupported("wait_job", Capability.DELETE_BATCH)

    # -- the labeling loop: items in, processing, results out ---------------------------

    def add_tasks(
        self, batch: BatchRef, specs: Iterable[TaskSpec], *, concurrency: int = 16
    ) -> Flow[list[Task]]:
        """See `BatchProvider.add_tasks`."""
        raise self.unsupported("add_tasks")

    def get_task(self, task: Task | str) -> Flow[Task]:
        """See `BatchProvider.get_task`."""
        raise self.unsupported("get_task")

    def list_tasks(
        self,
        batch: BatchRef,
        *,
        state: Any = None,
        limit: int | None = None,
        tags: Any = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        completed_after: datetime | None = None,
        completed_before: datetime | None = None,
    ) -> Flow[None]:
        """A listing flow `Emit`-ting `Task` items; see `BatchProvider.list_tasks`."""
        raise self.unsupported("list_tasks")

    def cancel_task(self, task: Task | str, *, clear_unique_id: bool = False) -> Flow[Task]:
        """See `BatchProvider.cancel_task`."""
        raise self.unsupported("cancel_task")

    def start(
        self,
        batch: BatchRef,
        *,
        app: str | None = None,
        deployment: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Run]:
        """See `BatchProvider.start`."""
        raise self.unsupported("start")

    def get_run(self, run: Run | str) -> Flow[Run]:
        """Poll a run once (adapters with `RUNS` implement this; `wait` is built on it)."""
        raise self.unsupported("wait", Capability.RUNS)

    def wait(
        self,
        run: Run | str,
        *,
        timeout: float = 3600.0,
        on_update: UpdateCallback | None = None,
    ) -> Flow[Run]:
        """See `BatchProvider.wait`: polls `get_run` with the settings' backoff."""
        if Capability.RUNS not in self.capabilities:
            raise self.unsupported("wait")
        timeout = seconds("timeout", timeout)
        if on_update is not None and not callable(on_update):
            raise InvalidInput(f"on_update must be callable, got {type(on_update).__name__}")
        first = self.get_run(run)  # checks `run` now, before any request
        polls = iter([first])
        return follow(
            lambda: next(polls, None) or self.get_run(run),
            timeout=timeout,
            initial=self.settings.poll_initial,
            maximum=self.settings.poll_max,
            on_update=on_update,
        )

    def results(self, run: Run | str) -> Flow[None]:
        """A listing flow `Emit`-ting `Result` items; see `BatchProvider.results`."""
        raise self.unsupported("results")

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
        name_by: NameBy = "basename",
    ) -> Flow[UploadReport]:
        """See `BatchProvider.upload`: the bulk upload, planned and checked before this
        returns, then one flow for every engine."""
        return upload_flow(
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
            name_by=name_by,
        )

    def download(
        self,
        batch: BatchRef,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        strict: bool = False,
    ) -> Flow[DownloadReport]:
        """See `BatchProvider.download`: checked before this returns, then one flow."""
        return download_flow(self, batch, folder, concurrency=concurrency, strict=strict)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


__all__ = ["Adapter", "BatchRef", "FileData", "answer_who_supports"]
