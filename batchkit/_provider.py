"""`BatchProvider`: the one interface a pipeline codes against, whatever the vendor.

A façade: every operation runs its adapter's flow (`batchkit._adapter`) with the blocking
driver. `AsyncBatchProvider` (`batchkit._aprovider`) runs the same flows, awaited.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    ClassVar,
    Protocol,
    Self,
    TypeVar,
    overload,
    runtime_checkable,
)

from ._adapter import Adapter, BatchRef, FileData
from ._capabilities import Capability
from ._drive import Driver
from ._flow import Flow
from ._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    ItemState,
    Job,
    Project,
    Result,
    Run,
    Task,
    TaskSpec,
)
from ._pickling import portable, reconnect
from ._runs import UpdateCallback
from ._upload import InvalidMode, NameBy, ProgressCallback, Source, VerifyMode

if TYPE_CHECKING:
    import httpx

    from ._aprovider import AsyncBatchProvider
    from ._http import HttpSession
    from ._models import DownloadReport, UploadReport
    from ._settings import CommonSettings

T = TypeVar("T")


class BatchProvider:
    """A vendor's batches behind one neutral interface.

    Get one from `batchkit.connect`. Operations a vendor lacks raise
    `UnsupportedOperation`; check `supports(Capability.X)` first to branch instead.
    Use it as a context manager (or call `close`) to release pooled connections.
    """

    #: the vendor adapter class this provider drives (a vendor package sets it)
    adapter_class: ClassVar[type[Adapter]]
    #: the async provider class of the same vendor, if it has vendor extras to add (else
    #: `batchkit.connect_async` uses a plain `AsyncBatchProvider` for `adapter_class`)
    async_class: ClassVar[type[AsyncBatchProvider] | None] = None
    #: the registry name, e.g. "aihub"
    name: ClassVar[str]
    #: what this provider can do
    capabilities: ClassVar[Capability]
    #: environment variables that override settings: {ENV_VAR: setting}
    env_settings: ClassVar[Mapping[str, str]] = {}
    #: settings that hold secrets (masked by `batchkit config show`)
    secret_settings: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        adapter = cls.__dict__.get("adapter_class")
        if adapter is not None:  # the vendor's declarations are the adapter's
            cls.name = adapter.name
            cls.capabilities = adapter.capabilities
            cls.env_settings = adapter.env_settings
            cls.secret_settings = adapter.secret_settings

    def __init__(self, adapter: Adapter) -> None:
        #: the vendor adapter (its flows)
        self.adapter = adapter
        #: the pooled HTTP session
        self.http: HttpSession = adapter.settings.session(adapter.name, adapter.http_options())
        self._driver = Driver(self.http)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build a provider from a settings mapping (config file + env + keyword args)."""
        return cls(cls.adapter_class.from_settings(settings))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its settings, credentials included (as `connect` took them): the copy
        connects afresh in the process that unpickles it, with its own connections, journal
        and state. Send providers only to your own workers (Dask, Ray, multiprocessing)."""
        return (reconnect, (type(self), portable(self.adapter.settings, self.adapter.name)))

    @property
    def settings(self) -> CommonSettings:
        """The typed settings this provider was built from."""
        return self.adapter.settings

    @property
    def sleep(self) -> Callable[[float], None]:
        """How job polling waits (tests replace it to poll instantly)."""
        return self._driver.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], None]) -> None:
        self._driver.sleep = sleep

    def _run(self, flow: Flow[T]) -> T:
        return self._driver.run(flow)

    def _iterate(self, flow: Flow[None]) -> Iterator[Any]:
        return self._driver.iterate(flow)

    # -- capabilities -------------------------------------------------------------------

    def supports(self, flag: Capability | str) -> bool:
        """True if this provider can do everything in `flag` (a `Capability`, or a
        capability's name such as ``"UPLOAD_FILES"``, e.g. from configuration)."""
        return self.adapter.supports(flag)

    def require(self, flag: Capability | str, operation: str | None = None) -> None:
        """Raise `UnsupportedOperation` unless this provider supports `flag`."""
        self.adapter.require(flag, operation)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Release network resources."""
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batch_id(self, batch: BatchRef) -> str:
        """The provider's id for `batch` (a `Batch` from this provider, or an id)."""
        return self.adapter.batch_id(batch)

    # -- neutral operations -------------------------------------------------------------
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
        return self._run(
            self.adapter.create_batch(
                name, project=project, callback=callback, metadata=metadata, options=options
            )
        )

    def get_batch(self, batch: BatchRef) -> Batch:
        """Fetch a batch by handle or id; `NotFound` if it does not exist."""
        return self._run(self.adapter.get_batch(batch))

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
        return self._iterate(
            self.adapter.list_batches(
                project=project,
                state=state,
                created_after=created_after,
                created_before=created_before,
                owner=owner,
                limit=limit,
            )
        )

    def status(self, batch: BatchRef) -> BatchStatus:
        """The batch's state and, with `Capability.STATUS_COUNTS`, its task counts."""
        return self._run(self.adapter.status(batch))

    def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """Delete a batch and its files. With `wait=False` returns the job to poll."""
        return self._run(self.adapter.delete_batch(batch, wait=wait, timeout=timeout))

    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> BatchFile:
        """Upload one file (bytes, a path or a binary stream) as `name` in the batch.

        Big files go up in parts where the vendor supports it. Replaces a file of the
        same name.
        """
        return self._run(self.adapter.upload_file(batch, name, data, size=size))

    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Iterator[BatchFile]:
        """Iterate over the batch's files lazily, page by page."""
        return self._iterate(self.adapter.list_files(batch, page_size=page_size))

    def delete_file(
        self, batch: BatchRef, name: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """Delete one file from a batch. With `wait=False` returns the job to poll."""
        return self._run(self.adapter.delete_file(batch, name, wait=wait, timeout=timeout))

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
        return self._run(self.adapter.download_file(batch, name, dest, start=start, end=end))

    def abort_upload_session(self, session: str) -> None:
        """Abort an upload session an interrupted upload left open (a multipart session,
        as a resume journal records it). Resumed uploads call this for you."""
        self._run(self.adapter.abort_upload_session(session))

    def finalize(self, batch: BatchRef) -> Batch:
        """Mark a staging batch ready to be worked on."""
        return self._run(self.adapter.finalize(batch))

    def prioritize(self, batch: BatchRef, priority: int) -> None:
        """Set the batch's priority, 10 (lowest) to 30 (highest)."""
        self._run(self.adapter.prioritize(batch, priority))

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
    ) -> httpx.Response:
        """Send a request batchkit does not wrap yet, the way it sends its own: the
        provider's credentials (to its API's origin only), retries, the `retry_timeout`
        deadline, errors mapped to batchkit's exceptions with credentials masked.

        `path` is relative to the API root (AI Hub: ``"v2/apps/runs"``; Scale:
        ``"tasks"``). `ok`: the statuses that count as success (default any 2xx; another
        raises the mapped `ProviderError`). A method that may be repeated (GET, HEAD,
        OPTIONS, PUT, DELETE) is retried on any failure, others (POST, PATCH) only when the
        request provably never arrived; `idempotent=` overrides. Returns the read
        `httpx.Response`: status, headers and body as the vendor sent them.
        """
        return self._run(
            self.adapter.request(
                method,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                ok=ok,
                idempotent=idempotent,
            )
        )

    def wait_job(self, job: Job, *, timeout: float = 300.0) -> Job:
        """Poll an asynchronous job until it completes (`JobFailed` / `JobTimeout` else)."""
        return self._run(self.adapter.wait_job(job, timeout=timeout))

    # -- the labeling loop: items in, processing, results out ---------------------------

    def add_tasks(
        self, batch: BatchRef, specs: Iterable[TaskSpec], *, concurrency: int = 16
    ) -> list[Task]:
        """Add one task per `TaskSpec` to the batch, `concurrency` at a time, and return
        them in order (`Capability.TASKS`: Scale). Idempotent: adding the same specs again
        (a rerun, a resume) returns the tasks already there instead of adding them twice."""
        return self._run(self.adapter.add_tasks(batch, specs, concurrency=concurrency))

    def get_task(self, task: Task | str) -> Task:
        """Fetch a task by its id (`Capability.TASKS`)."""
        return self._run(self.adapter.get_task(task))

    def list_tasks(
        self,
        batch: BatchRef,
        *,
        state: ItemState | str | None = None,
        limit: int | None = None,
        tags: str | Iterable[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        completed_after: datetime | None = None,
        completed_before: datetime | None = None,
    ) -> Iterator[Task]:
        """Iterate over the batch's tasks lazily, newest first (`Capability.TASKS`).

        Filtered on the server: `state` (an `ItemState` or its value), `tags` (tasks with
        any of them), and time bounds on when a task was created, last updated or completed
        (inclusive; a naive datetime means UTC). `completed_after` is the incremental
        export's friend: the tasks finished since the last run.
        """
        return self._iterate(
            self.adapter.list_tasks(
                batch,
                state=state,
                limit=limit,
                tags=tags,
                created_after=created_after,
                created_before=created_before,
                updated_after=updated_after,
                updated_before=updated_before,
                completed_after=completed_after,
                completed_before=completed_before,
            )
        )

    def cancel_task(self, task: Task | str, *, clear_unique_id: bool = False) -> Task:
        """Cancel a task no one has started (`Capability.TASKS`); `clear_unique_id=True`
        frees its unique_id for a new task."""
        return self._run(self.adapter.cancel_task(task, clear_unique_id=clear_unique_id))

    def start(
        self,
        batch: BatchRef,
        *,
        app: str | None = None,
        deployment: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Run:
        """Start processing the batch's items, and return the run to `wait` for
        (`Capability.RUNS`). AI Hub runs an app (`app`, or the profile's `app`) or a
        deployment on its files; Scale finalizes a staging batch so its tasks are worked
        (a standard project's batch is already worked: nothing changes). A batch with
        nothing in it raises `EmptyBatch` (it takes a request to know)."""
        return self._run(self.adapter.start(batch, app=app, deployment=deployment, options=options))

    def get_run(self, run: Run | str) -> Run:
        """A run's state now, polled once (`Capability.RUNS`)."""
        return self._run(self.adapter.get_run(run))

    def wait(
        self,
        run: Run | str,
        *,
        timeout: float = 3600.0,
        on_update: UpdateCallback | None = None,
    ) -> Run:
        """Poll the run with backoff until it completes, and return it (`Capability.RUNS`).

        `on_update(run)` is called on every change (state, task counts, message). A run
        that fails or is canceled raises `RunFailed`; one still going after `timeout`
        seconds raises `RunTimeout` (it goes on: wait again with `e.run`). Items that
        failed inside a completed run are in `results`, each with its state.
        """
        return self._run(self.adapter.wait(run, timeout=timeout, on_update=on_update))

    def results(self, run: Run | str) -> Iterator[Result]:
        """Iterate lazily over the results of a run, one `Result` per item: the item's
        name, its state, its `output` and the vendor's raw JSON (`Capability.RESULTS`).
        Scale also takes the batch (its tasks are its results)."""
        return self._iterate(self.adapter.results(run))

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
    ) -> UploadReport:
        """Upload many files concurrently, verified and resumable.

        `sources`: a file path, a directory (walked recursively, symlinks followed, hidden
        entries skipped, filtered by `include` / `exclude` globs on the path relative to it), a
        storage URL (``s3://bucket/scans/``, any fsspec URL; the ``fsspec`` extra) walked like a
        directory, an ``http(s)://`` URL (fetched by the vendor itself where it can:
        `Capability.IMPORT_URLS`), a ``(name, binary stream, bytes, pathlib.Path or URL)``
        pair, or an iterable of these. Every file goes into the batch under the name `name_by`
        gives it, or the pair's name: "basename" (default), "relative" (its path relative to
        the directory in one reversible name, ``/`` and ``%`` percent-encoded: ``2026/a.pdf``
        -> ``2026%2Fa.pdf``; see `relative_name`), or a function ``(PurePosixPath) -> str``.
        Files that cannot be
        uploaded (invalid names, two sources for one name, special files, broken symlinks) are
        all listed in one `InvalidInput` before anything is sent; with ``invalid="skip"`` the
        others are uploaded and these are reported with status "invalid" (`report.invalid`).

        `concurrency` files are sent at once, each streamed by the provider's `upload_file`;
        files are taken from the plan only as there is room, so memory does not grow with the
        file count. `on_progress` gets an `UploadProgress` per step. `verify` checks the batch
        listing for every file with its size ("size"), also reads each file back and compares
        sha256 ("sha256"), or does nothing ("none" or None). `resume` names a journal file, or
        True for ``.batchkit-journal-<provider>-<batch id>.jsonl`` in the current directory
        (characters of the batch id other than letters, digits, ``.``, ``_`` and ``-`` become
        ``_``); it needs `Capability.LIST_FILES`. Files it records, unchanged locally and
        present in the batch with their size, are skipped. A file that fails (or changes while it is
        sent) is reported and the rest go on; `strict=True` then raises `UploadIncomplete`.
        KeyboardInterrupt stops after the files in flight, with the journal up to date.
        """
        return self._run(
            self.adapter.upload(
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
        )

    def download(
        self,
        batch: BatchRef,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        strict: bool = False,
    ) -> DownloadReport:
        """Download every file of the batch into `folder` (made if missing), `concurrency`
        at a time: the mirror of `upload`. Each file is written atomically (a failure leaves
        no partial file) and checked against the listed size; a file the folder already
        holds with that size is skipped, so a rerun resumes. A file that fails is reported
        and the rest go on; `strict=True` then raises `DownloadIncomplete`. `folder` may be a
        storage URL (``s3://bucket/out/``, the ``fsspec`` extra): each file is committed only
        when complete. Needs `LIST_FILES` and `DOWNLOAD_FILES`."""
        return self._run(
            self.adapter.download(batch, folder, concurrency=concurrency, strict=strict)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


upload = BatchProvider.upload
"""`batchkit.upload(provider, batch, sources, ...)`: the same as `provider.upload(batch,
sources, ...)` (see `BatchProvider.upload`)."""


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


__all__ = ["BatchProvider", "BatchRef", "FileData", "SupportsProjects", "upload"]
