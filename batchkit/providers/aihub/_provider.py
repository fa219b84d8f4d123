"""`AIHubProvider` and `AsyncAIHubProvider`: the AI Hub adapter behind the neutral interface,
with its vendor extras (the Filesystem API, jobs, batch paths) on both."""

from __future__ import annotations

from pathlib import Path
from typing import IO, ClassVar, overload

from ..._aprovider import AsyncBatchProvider
from ..._models import FileInfo, Job
from ..._provider import BatchProvider, BatchRef, FileData
from ._adapter import AIHubAdapter


class AsyncAIHubProvider(AsyncBatchProvider):
    """`AIHubProvider`, awaited: the same operations and vendor extras."""

    adapter_class: ClassVar[type[AIHubAdapter]] = AIHubAdapter
    adapter: AIHubAdapter

    async def get_job(self, job: Job | str) -> Job:
        """`AIHubProvider.get_job`, awaited."""
        return await self._run(self.adapter.get_job(job))

    async def batch_path(self, batch: BatchRef) -> str:
        """`AIHubProvider.batch_path`, awaited."""
        return await self._run(self.adapter.batch_path(batch))

    @overload
    async def fs_read(
        self, path: str, dest: None = None, *, start: int = 0, end: int | None = None
    ) -> bytes: ...

    @overload
    async def fs_read(
        self, path: str, dest: str | Path | IO[bytes], *, start: int = 0, end: int | None = None
    ) -> int: ...

    async def fs_read(
        self,
        path: str,
        dest: str | Path | IO[bytes] | None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes | int:
        """`AIHubProvider.fs_read`, awaited."""
        return await self._run(self.adapter.fs_read(path, dest, start=start, end=end))

    async def fs_write(self, path: str, data: FileData, *, overwrite: bool = True) -> bool:
        """`AIHubProvider.fs_write`, awaited."""
        return await self._run(self.adapter.fs_write(path, data, overwrite=overwrite))

    async def fs_head(self, path: str) -> FileInfo:
        """`AIHubProvider.fs_head`, awaited."""
        return await self._run(self.adapter.fs_head(path))

    async def fs_delete(
        self, path: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Job | None:
        """`AIHubProvider.fs_delete`, awaited."""
        return await self._run(self.adapter.fs_delete(path, wait=wait, timeout=timeout))


class AIHubProvider(BatchProvider):
    """Instabase AI Hub file batches: upload (multipart above 10 MB), list, download, delete.

    AI Hub batches have no lifecycle (`BatchState.OPEN`) and no task counts. Vendor
    extras: the Filesystem API (`fs_read`, `fs_write`, `fs_head`, `fs_delete`),
    `batch_path`, `get_job`.
    """

    adapter_class: ClassVar[type[AIHubAdapter]] = AIHubAdapter
    async_class: ClassVar[type[AsyncBatchProvider] | None] = AsyncAIHubProvider
    adapter: AIHubAdapter

    def get_job(self, job: Job | str) -> Job:
        """Poll a job once (a `Job` handle, or a batches job id)."""
        return self._run(self.adapter.get_job(job))

    def batch_path(self, batch: BatchRef) -> str:
        """The batch folder's Filesystem API path, `/<owner>/<workspace>/fs/<drive>/<suffix>`."""
        return self._run(self.adapter.batch_path(batch))

    @overload
    def fs_read(
        self, path: str, dest: None = None, *, start: int = 0, end: int | None = None
    ) -> bytes: ...

    @overload
    def fs_read(
        self, path: str, dest: str | Path | IO[bytes], *, start: int = 0, end: int | None = None
    ) -> int: ...

    def fs_read(
        self,
        path: str,
        dest: str | Path | IO[bytes] | None = None,
        *,
        start: int = 0,
        end: int | None = None,
    ) -> bytes | int:
        """Read `/<org>/<workspace>/fs/<drive>/<path>`, whole or a byte range (inclusive).

        A connection that breaks mid-body is resumed from the last byte received (a new
        ranged request), up to `retry_attempts` times. A path `dest` is written atomically.
        """
        return self._run(self.adapter.fs_read(path, dest, start=start, end=end))

    def fs_write(self, path: str, data: FileData, *, overwrite: bool = True) -> bool:
        """Write a file; with `overwrite=False` an existing file raises `Conflict`.

        Returns True if the server reported a new file (201), False otherwise.
        """
        return self._run(self.adapter.fs_write(path, data, overwrite=overwrite))

    def fs_head(self, path: str) -> FileInfo:
        """Is it a file or folder, its size and last modification (`NotFound` if absent)."""
        return self._run(self.adapter.fs_head(path))

    def fs_delete(self, path: str, *, wait: bool = True, timeout: float = 300.0) -> Job | None:
        """Delete a file or folder (an asynchronous job)."""
        return self._run(self.adapter.fs_delete(path, wait=wait, timeout=timeout))
