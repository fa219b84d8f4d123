"""A toy vendor for batchkit, built from `batchkit.adapters` alone, as a third party would.

It proves that a vendor needs no edit to batchkit: installed (here: put on `sys.path` with its
`batchkit_toy-0.1.0.dist-info`, whose entry point names `ToyAdapter`), it is found by
`batchkit.connect("toy")` and `batchkit.connect_async("toy")` and passes the contract suite.
Its service is `ToyServer`, an in-memory HTTP API served through `httpx.MockTransport`.

The toy's wire: bearer-token tenants; ``POST /batches`` ``{"name"}`` → 201 ``{"id", "name",
"created"}``; ``GET /batches?offset=&limit=``; ``GET|DELETE /batches/{id}``;
``POST /batches/{id}/priority`` ``{"priority"}``; ``PUT /batches/{id}/files/{name}``;
``GET /batches/{id}/files?cursor=`` → ``{"files": [{"name", "size"}], "next"}``;
``GET /batches/{id}/files/{name}`` (with ``Range: bytes=a-b``). Errors: ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from operator import attrgetter
from typing import IO, Any, ClassVar, Self

import attrs
import httpx

from batchkit import Batch, BatchFile, BatchState, BatchStatus, Capability, ConfigError
from batchkit.adapters import (
    Adapter,
    BatchRef,
    Call,
    CommonSettings,
    FileData,
    Flow,
    HttpOptions,
    Retry,
    VendorErrors,
    batch_name,
    by_offset,
    by_token,
    check_priority,
    json_body,
    list_filters,
    open_source,
    primed,
    read_resumable,
    required_credential,
    segment,
    structure_settings,
)

ERRORS = VendorErrors(message_keys=("error",), auth_hint="check the toy token")


class BearerToken(httpx.Auth):
    """`Authorization: Bearer <token>`; never shown in a repr."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"


@attrs.frozen(kw_only=True)
class ToySettings(CommonSettings):
    """The toy's settings: a token (from TOY_TOKEN) and the usual HTTP ones."""

    api_root: str = "https://toy.example/api"
    token: str = attrs.field(repr=False, validator=required_credential)


def _batch(data: Mapping[str, Any]) -> Batch:
    return Batch(
        provider="toy",
        id=str(data["id"]),
        name=str(data["name"]),
        state=BatchState.OPEN,
        created_at=datetime.fromtimestamp(float(data["created"]), UTC),
        raw=data,
    )


class ToyAdapter(Adapter):
    """Toy batches: create, get, list, delete, prioritize, upload, list and read files."""

    name: ClassVar[str] = "toy"
    capabilities: ClassVar[Capability] = (
        Capability.CREATE_BATCH
        | Capability.LIST_BATCHES
        | Capability.DELETE_BATCH
        | Capability.UPLOAD_FILES
        | Capability.LIST_FILES
        | Capability.DOWNLOAD_FILES
        | Capability.PRIORITIZE
    )
    env_settings: ClassVar[Mapping[str, str]] = {"TOY_TOKEN": "token"}
    secret_settings: ClassVar[frozenset[str]] = frozenset({"token"})

    settings: ToySettings

    def __init__(self, settings: ToySettings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        if not settings.get("token"):
            raise ConfigError("no toy token: pass token= or set TOY_TOKEN")
        return cls(structure_settings(cls.name, ToySettings, settings))

    def http_options(self) -> HttpOptions:
        return HttpOptions(
            auth=BearerToken(self.settings.token), secrets=[self.settings.token], errors=ERRORS
        )

    def check_batch_id(self, batch_id: str) -> str:
        return batch_name(batch_id)

    @primed
    def create_batch(
        self,
        name: str,
        *,
        project: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Batch]:
        batch_name(name)
        if callback is not None:
            raise self.unsupported("create_batch(callback=...)", Capability.CALLBACKS)
        if metadata is not None:
            raise self.unsupported("create_batch(metadata=...)", Capability.METADATA)
        call = Call(
            "create_batch",
            "POST",
            "batches",
            json={"name": name},
            ok=frozenset({201}),
            retry=Retry.UNSENT_ONLY,
        )
        return _batch(json_body((yield call), provider=self.name, operation="create_batch"))

    @primed
    def get_batch(self, batch: BatchRef) -> Flow[Batch]:
        call = Call("get_batch", "GET", f"batches/{segment(self.batch_id(batch))}")
        return _batch(json_body((yield call), provider=self.name, operation="get_batch"))

    @primed
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
        state = list_filters(state, limit, created_after, created_before)
        if state not in (None, BatchState.OPEN):
            return

        def fetch(offset: int) -> Flow[tuple[list[Batch], bool]]:
            call = Call("list_batches", "GET", "batches", params={"offset": offset, "limit": 50})
            page = json_body((yield call), provider=self.name, operation="list_batches")
            return [_batch(b) for b in page["batches"]], bool(page["more"])

        yield from by_offset(
            fetch, provider=self.name, operation="list_batches", key=attrgetter("id"), limit=limit
        )

    @primed
    def status(self, batch: BatchRef) -> Flow[BatchStatus]:
        found: Batch = yield from self.get_batch(batch)
        return BatchStatus(batch_id=found.id, state=found.state)

    @primed
    def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[None]:
        call = Call(
            "delete_batch",
            "DELETE",
            f"batches/{segment(self.batch_id(batch))}",
            ok=frozenset({204}),
        )
        yield call

    @primed
    def prioritize(self, batch: BatchRef, priority: int) -> Flow[None]:
        check_priority(priority)
        url = f"batches/{segment(self.batch_id(batch))}/priority"
        yield Call("prioritize", "POST", url, json={"priority": priority}, ok=frozenset({204}))

    @primed
    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> Flow[BatchFile]:
        url = f"batches/{segment(self.batch_id(batch))}/files/{segment(name)}"
        source = open_source(data)
        try:
            yield Call(
                "upload_file",
                "PUT",
                url,
                content=source.reader(),
                headers={"Content-Length": str(source.size)},
                ok=frozenset({201}),
            )
        finally:
            source.close()
        return BatchFile(name=name, size=source.size)

    @primed
    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Flow[None]:
        url = f"batches/{segment(self.batch_id(batch))}/files"

        def fetch(cursor: str | None) -> Flow[tuple[list[BatchFile], str | None, bool]]:
            params = {"cursor": cursor} if cursor else None
            page = json_body(
                (yield Call("list_files", "GET", url, params=params)),
                provider=self.name,
                operation="list_files",
            )
            files = [BatchFile(name=f["name"], size=f["size"]) for f in page["files"]]
            return files, page["next"], page["next"] is not None

        yield from by_token(
            fetch, provider=self.name, operation="list_files", key=attrgetter("name")
        )

    def download_into(
        self, batch: BatchRef, name: str, sink: IO[bytes], start: int, end: int | None
    ) -> Flow[int]:
        url = f"batches/{segment(self.batch_id(batch))}/files/{segment(name)}"

        def ranged(offset: int, last: int | None, if_range: str | None) -> Call:
            headers = {"Range": f"bytes={offset}-{'' if last is None else last}"}
            return Call("download_file", "GET", url, headers=headers, ok=frozenset({200, 206}))

        return read_resumable(
            ranged,
            sink,
            start,
            end,
            attempts=3,
            provider=self.name,
            operation="download_file",
            what=repr(name),
        )
