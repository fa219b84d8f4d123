"""The bulk download behind `provider.download`: every file of a batch into a folder (or a
remote one: an fsspec URL such as ``s3://bucket/out/``), concurrently, resumably and
verified; one flow for the sync and the async driver."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ._capabilities import Capability
from ._errors import BatchkitError, DownloadIncomplete, InvalidInput
from ._flow import Flow, Gather, blocking, collect
from ._models import BatchFile, DownloadReport, FileOutcome
from ._pagination import WHOLE_LISTING_PAGE
from ._remote import Location, file_url_path, is_file_url, is_http, is_remote, locate
from ._validate import flag, local_path, positive_int, shorten

if TYPE_CHECKING:
    from ._adapter import Adapter, BatchRef


def download_flow(
    adapter: Adapter,
    batch: BatchRef,
    folder: str | os.PathLike[str],
    *,
    concurrency: int = 16,
    strict: bool = False,
) -> Flow[DownloadReport]:
    """Check the call now (before any request) and return the flow that runs it."""
    adapter.require(Capability.LIST_FILES, "download")
    adapter.require(Capability.DOWNLOAD_FILES, "download")
    batch_id = adapter.batch_id(batch)
    concurrency = positive_int("concurrency", concurrency)
    flag("strict", strict)
    if isinstance(folder, str) and (is_remote(folder) or is_http(folder)):
        return _run(adapter, batch_id, _remote_folder(folder), concurrency, strict)
    if isinstance(folder, str) and is_file_url(folder):
        folder = file_url_path(folder)
    root = Path(local_path("folder", folder))
    try:  # made now, before any request: a folder that cannot be is bad input
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidInput(f"cannot download into {str(root)!r}: it is not a folder") from None
    except OSError as e:
        raise InvalidInput(f"cannot download into {str(root)!r}: {e.strerror or e}") from None
    return _run(adapter, batch_id, _LocalFolder(root), concurrency, strict)


@attrs.frozen
class _LocalFolder:
    """A local folder: each file checked on its own (a stat is cheap)."""

    root: Path

    @property
    def label(self) -> str:
        return str(self.root)

    def target(self, name: str) -> Path:
        return self.root / name

    def size_of(self, name: str) -> Flow[int | None]:
        return blocking(lambda: _size(self.root / name), cheap=True)


@attrs.frozen
class _RemoteFolder:
    """A remote folder (a prefix): listed once up front, since each check is a request."""

    where: Location
    #: name -> size of the files it held when the download began
    sizes: Mapping[str, int]

    @property
    def label(self) -> str:
        return self.where.url

    def target(self, name: str) -> Location:
        return self.where.child(name)

    def size_of(self, name: str) -> Flow[int | None]:
        return self.sizes.get(name)
        yield  # a flow that sends nothing


def _remote_folder(url: str) -> _RemoteFolder:
    """A remote download folder, checked and listed now (before any request to the
    vendor): `InvalidInput` if it cannot be one, `ConfigError` without credentials."""
    if is_http(url):
        raise InvalidInput(
            f"cannot download into {shorten(url)!r}: an http(s) URL cannot be written to; "
            "pass a local folder or a storage URL (s3://, gs://, az://...)"
        )
    where = locate(url)
    try:
        sizes = where.top_sizes()
    except OSError as e:
        raise InvalidInput(f"cannot download into {shorten(url)!r}: {e}") from None
    return _RemoteFolder(where, sizes)


def _run(
    adapter: Adapter,
    batch_id: str,
    root: _LocalFolder | _RemoteFolder,
    concurrency: int,
    strict: bool,
) -> Flow[DownloadReport]:
    listing: list[BatchFile] = yield from collect(
        adapter.list_files(batch_id, page_size=WHOLE_LISTING_PAGE)
    )
    outcomes: list[FileOutcome] = []
    files = (_one(adapter, batch_id, root, f) for f in listing)
    yield Gather(files, concurrency, each=outcomes.append)
    done = DownloadReport(batch_id, root.label, tuple(sorted(outcomes, key=lambda o: o.name)))
    if strict and not done.ok:
        failed = done.failed
        shown = "; ".join(f"{f.name}: {f.reason}" for f in failed[:10])
        raise DownloadIncomplete(
            f"{len(failed)} of {len(done.files)} file(s) of batch {batch_id} were not "
            f"downloaded: {shown}. Rerun: files already there with their size are skipped",
            report=done,
        )
    return done


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _one(
    adapter: Adapter, batch_id: str, root: _LocalFolder | _RemoteFolder, listed: BatchFile
) -> Flow[FileOutcome]:
    """One file: skipped if the folder holds it with its size; else downloaded atomically
    (a failure leaves no partial file) and checked against the listed size."""
    source = f"batch {batch_id}"
    try:
        if (yield from root.size_of(listed.name)) == listed.size:
            return FileOutcome(listed.name, listed.size, source, "skipped")
        target = root.target(listed.name)
        written = int((yield from adapter.download_file(batch_id, listed.name, target)))
    except (BatchkitError, OSError) as e:
        return FileOutcome(listed.name, listed.size, source, "failed", str(e) or type(e).__name__)
    if written != listed.size:
        return FileOutcome(
            listed.name,
            written,
            source,
            "failed",
            f"{written} bytes read, the batch lists {listed.size}: download it again",
        )
    return FileOutcome(listed.name, written, source, "downloaded")
