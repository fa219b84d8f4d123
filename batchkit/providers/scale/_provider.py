"""`ScaleProvider` and `AsyncScaleProvider`: the Scale adapter behind the neutral interface,
with its vendor extras (projects, batch metadata, detailed listings) on both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from ..._aprovider import AsyncBatchProvider
from ..._models import Batch, BatchState, Project
from ..._provider import BatchProvider, BatchRef, SupportsProjects
from ._adapter import ScaleAdapter


class AsyncScaleProvider(AsyncBatchProvider):
    """`ScaleProvider`, awaited: the same operations and vendor extras."""

    adapter_class: ClassVar[type[ScaleAdapter]] = ScaleAdapter
    adapter: ScaleAdapter

    def list_batches(
        self,
        *,
        project: str | None = None,
        state: BatchState | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        owner: str | None = None,
        limit: int | None = None,
        detailed: bool = False,
    ) -> AsyncIterator[Batch]:
        """`ScaleProvider.list_batches` as an async iterator."""
        return self._iterate(
            self.adapter.list_batches(
                project=project,
                state=state,
                created_after=created_after,
                created_before=created_before,
                owner=owner,
                limit=limit,
                detailed=detailed,
            )
        )

    async def set_metadata(self, batch: BatchRef, metadata: Mapping[str, Any]) -> Batch:
        """`ScaleProvider.set_metadata`, awaited."""
        return await self._run(self.adapter.set_metadata(batch, metadata))

    async def get_project(self, name: str) -> Project:
        """`ScaleProvider.get_project`, awaited."""
        return await self._run(self.adapter.get_project(name))

    async def list_projects(self) -> list[Project]:
        """`ScaleProvider.list_projects`, awaited."""
        return await self._run(self.adapter.list_projects())

    async def create_project(
        self,
        name: str,
        *,
        type: str,
        params: Mapping[str, Any] | None = None,
        rapid: bool | None = None,
        studio: bool | None = None,
        dataset_id: str | None = None,
        pipeline: str | None = None,
    ) -> Project:
        """`ScaleProvider.create_project`, awaited."""
        return await self._run(
            self.adapter.create_project(
                name,
                type=type,
                params=params,
                rapid=rapid,
                studio=studio,
                dataset_id=dataset_id,
                pipeline=pipeline,
            )
        )


class ScaleProvider(BatchProvider, SupportsProjects):
    """Scale AI task batches: create, finalize, status with task counts, list, prioritize.

    Scale batches hold tasks, not files: file operations raise `UnsupportedOperation`.
    Vendor extras: `create_project`, `get_project`, `list_projects`, `set_metadata`, and
    `list_batches(detailed=True)`.
    """

    adapter_class: ClassVar[type[ScaleAdapter]] = ScaleAdapter
    async_class: ClassVar[type[AsyncBatchProvider] | None] = AsyncScaleProvider
    adapter: ScaleAdapter

    def list_batches(
        self,
        *,
        project: str | None = None,
        state: BatchState | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        owner: str | None = None,
        limit: int | None = None,
        detailed: bool = False,
    ) -> Iterator[Batch]:
        """Iterate over batches, newest first, filtered on the server; `detailed=True`
        asks Scale for each batch's task counts too."""
        return self._iterate(
            self.adapter.list_batches(
                project=project,
                state=state,
                created_after=created_after,
                created_before=created_before,
                owner=owner,
                limit=limit,
                detailed=detailed,
            )
        )

    def set_metadata(self, batch: BatchRef, metadata: Mapping[str, Any]) -> Batch:
        """Replace the batch's metadata."""
        return self._run(self.adapter.set_metadata(batch, metadata))

    def get_project(self, name: str) -> Project:
        """Fetch a project by name (`NotFound` if there is none)."""
        return self._run(self.adapter.get_project(name))

    def list_projects(self) -> list[Project]:
        """Every project of the account (Scale answers them all at once, unpaged)."""
        return self._run(self.adapter.list_projects())

    def create_project(
        self,
        name: str,
        *,
        type: str,
        params: Mapping[str, Any] | None = None,
        rapid: bool | None = None,
        studio: bool | None = None,
        dataset_id: str | None = None,
        pipeline: str | None = None,
    ) -> Project:
        """Create a project (the container of batches). A retried create meeting 409
        returns a project only if it cannot have been someone else's: it re-raises."""
        return self._run(
            self.adapter.create_project(
                name,
                type=type,
                params=params,
                rapid=rapid,
                studio=studio,
                dataset_id=dataset_id,
                pipeline=pipeline,
            )
        )
