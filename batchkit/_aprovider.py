"""`AsyncBatchProvider`: `BatchProvider`, awaited (asyncio or trio, through anyio).

The same operations, models, errors, capabilities, settings and profiles, driven by the
async driver over the same adapter flows: nothing here knows a request. Listings are async
iterators; `upload` runs its files as tasks on the event loop.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Self, TypeVar, overload

from ._adapter import Adapter, BatchRef, FileData
from ._capabilities import Capability
from ._flow import Flow
from ._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    ItemState,
    Job,
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

    from ._adrive import AsyncDriver
    from ._http import AsyncHttpSession
    from ._models import DownloadReport, UploadReport
    from ._settings import CommonSettings

T = TypeVar("T")


class AsyncBatchProvider:
    """A vendor's batches behind one neutral interface, for asyncio and trio.

    Get one from `batchkit.connect_async`, and use it with ``async with`` (or ``await
    provider.aclose()``). Every method of `BatchProvider` is here, awaited; listings are
    async iterators (``async for batch in provider.list_batches(): ...``). Cancelling a
    call (a task cancelled, a timeout) aborts a multipart upload it had open.
    """

    #: the vendor adapter class this provider drives
    adapter_class: ClassVar[type[Adapter]]
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
        if adapter is not None:
            cls.name = adapter.name
            cls.capabilities = adapter.capabilities
            cls.env_settings = adapter.env_settings
            cls.secret_settings = adapter.secret_settings

    def __init__(self, adapter: Adapter) -> None:
        #: the vendor adapter (its flows)
        self.adapter = adapter
        #: the pooled async HTTP session
        self.http: AsyncHttpSession = adapter.settings.async_session(
            adapter.name, adapter.http_options()
        )
        # imported on first use, not with batchkit: anyio adds ~25 ms to `import batchkit`
        # (benchmark B5), which sync users should not pay
        from ._adrive import AsyncDriver

        self._driver: AsyncDriver = AsyncDriver(self.http)

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
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """How job polling waits (tests replace it to poll instantly)."""
        return self._driver.sleep

    @sleep.setter
    def sleep(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        self._driver.sleep = sleep

    async def _run(self, flow: Flow[T]) -> T:
        return await self._driver.run(flow)

    def _iterate(self, flow: Flow[None]) -> AsyncIterator[Any]:
        return self._driver.iterate(flow)

    def supports(self, flag: Capability | str) -> bool:
        """True if this provider can do everything in `flag` (see `BatchProvider.supports`)."""
        return self.adapter.supports(flag)

    def require(self, flag: Capability | str, operation: str | None = None) -> None:
        """Raise `UnsupportedOperation` unless this provider supports `flag`."""
        self.adapter.require(flag, operation)

    async def aclose(self) -> None:
        """Release network resources."""
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def batch_id(self, batch: BatchRef) -> str:
        """The provider's id for `batch` (a `Batch` from this provider, or an id)."""
        return self.adapter.batch_id(batch)

    # -- neutral operations: each is `BatchProvider`'s, awaited ---------------------------

    async def create_batch(
        self,
        name: str,
        *,
        project: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Batch:
        """`BatchProvider.create_batch`, awaited."""
        return await self._run(
            self.adapter.create_batch(
                name, project=project, callback=callback, metadata=metadata, options=options
            )
        )

    async def get_batch(self, batch: BatchRef) -> Batch:
        """`BatchProvider.get_batch`, awaited."""
        return await self._run(self.adapter.get_batch(batch))

    def list_batches(
        self,
        *,
        project: str | None = None,
        state: BatchState | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Batch]:
        """`BatchProvider.list_batches` as an async iterator (bad filters raise here)."""
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

    async def status(self, batch: BatchRef) -> BatchStatus:
        """`BatchProvider.status`, awaited."""
        return await self._run(self.adapter.status(batch))

    async def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """`BatchProvider.delete_batch`, awaited."""
        return await self._run(self.adapter.delete_batch(batch, wait=wait, timeout=timeout))

    async def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> BatchFile:
        """`BatchProvider.upload_file`, awaited."""
        return await self._run(self.adapter.upload_file(batch, name, data, size=size))

    def list_files(
        self, batch: BatchRef, *, page_size: int | None = None
    ) -> AsyncIterator[BatchFile]:
        """`BatchProvider.list_files` as an async iterator."""
        return self._iterate(self.adapter.list_files(batch, page_size=page_size))

    async def delete_file(
        self, batch: BatchRef, name: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """`BatchProvider.delete_file`, awaited."""
        return await self._run(self.adapter.delete_file(batch, name, wait=wait, timeout=timeout))

    @overload
    async def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes: ...

    @overload
    async def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: str | Path | IO[bytes],
        *,
        start: int = 0,
        end: int | None = None,
    ) -> int: ...

    async def download_file(
        self,
        batch: BatchRef,
        name: str,
        dest: str | Path | IO[bytes] | None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes | int:
        """`BatchProvider.download_file`, awaited."""
        return await self._run(self.adapter.download_file(batch, name, dest, start=start, end=end))

    async def abort_upload_session(self, session: str) -> None:
        """`BatchProvider.abort_upload_session`, awaited."""
        await self._run(self.adapter.abort_upload_session(session))

    async def finalize(self, batch: BatchRef) -> Batch:
        """`BatchProvider.finalize`, awaited."""
        return await self._run(self.adapter.finalize(batch))

    async def prioritize(self, batch: BatchRef, priority: int) -> None:
        """`BatchProvider.prioritize`, awaited."""
        await self._run(self.adapter.prioritize(batch, priority))

    async def request(
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
        """`BatchProvider.request`, awaited."""
        return await self._run(
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

    async def wait_job(self, job: Job, *, timeout: float = 300.0) -> Job:
        """`BatchProvider.wait_job`, awaited."""
        return await self._run(self.adapter.wait_job(job, timeout=timeout))

    async def add_tasks(
        self, batch: BatchRef, specs: Iterable[TaskSpec], *, concurrency: int = 16
    ) -> list[Task]:
        """`BatchProvider.add_tasks`, awaited: `concurrency` creates in flight as tasks."""
        return await self._run(self.adapter.add_tasks(batch, specs, concurrency=concurrency))

    async def get_task(self, task: Task | str) -> Task:
        """`BatchProvider.get_task`, awaited."""
        return await self._run(self.adapter.get_task(task))

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
    ) -> AsyncIterator[Task]:
        """`BatchProvider.list_tasks` as an async iterator."""
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

    async def cancel_task(self, task: Task | str, *, clear_unique_id: bool = False) -> Task:
        """`BatchProvider.cancel_task`, awaited."""
        return await self._run(self.adapter.cancel_task(task, clear_unique_id=clear_unique_id))

    async def start(
        self,
        batch: BatchRef,
        *,
        app: str | None = None,
        deployment: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Run:
        """`BatchProvider.start`, awaited."""
        return await self._run(
            self.adapter.start(batch, app=app, deployment=deployment, options=options)
        )

    async def get_run(self, run: Run | str) -> Run:
        """`BatchProvider.get_run`, awaited."""
        return await self._run(self.adapter.get_run(run))

    async def wait(
        self,
        run: Run | str,
        *,
        timeout: float = 3600.0,
        on_update: UpdateCallback | None = None,
    ) -> Run:
        """`BatchProvider.wait`, awaited (cancelling it stops the polling, not the run)."""
        return await self._run(self.adapter.wait(run, timeout=timeout, on_update=on_update))

    def results(self, run: Run | str) -> AsyncIterator[Result]:
        """`BatchProvider.results` as an async iterator."""
        return self._iterate(self.adapter.results(run))

    async def upload(
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
        """`BatchProvider.upload`, awaited: `concurrency` files in flight as tasks. Bad
        input raises before the first request; cancelling it aborts any multipart session
        in flight and leaves the journal (with `resume=`) ready to resume."""
        return await self._run(
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

    async def download(
        self,
        batch: BatchRef,
        folder: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        strict: bool = False,
    ) -> DownloadReport:
        """`BatchProvider.download`, awaited: `concurrency` files in flight as tasks."""
        return await self._run(
            self.adapter.download(batch, folder, concurrency=concurrency, strict=strict)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


__all__ = ["AsyncBatchProvider"]
