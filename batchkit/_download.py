"""The bulk download behind `provider.download`: every file of a batch into a folder,
concurrently, resumably and verified; one flow for the sync and the async driver."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ._capabilities import Capability
from ._errors import BatchkitError, DownloadIncomplete, InvalidInput
from ._flow import Flow, Gather, blocking, collect
from ._models import BatchFile, DownloadReport, FileOutcome
from ._pagination import WHOLE_LISTING_PAGE
from ._validate import flag, local_path, positive_int

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
    root = Path(local_path("folder", folder))
    try:  # made now, before any request: a folder that cannot be is bad input
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidInput(f"cannot download into {str(root)!r}: it is not a folder") from None
    except OSError as e:
        raise InvalidInput(f"cannot download into {str(root)!r}: {e.strerror or e}") from None
    return _run(adapter, batch_id, root, concurrency, strict)


def _run(
    adapter: Adapter, batch_id: str, root: Path, concurrency: int, strict: bool
) -> Flow[DownloadReport]:
    listing: list[BatchFile] = yield from collect(
        adapter.list_files(batch_id, page_size=WHOLE_LISTING_PAGE)
    )
    outcomes: list[FileOutcome] = []
    files = (_one(adapter, batch_id, root, f) for f in listing)
    yield Gather(files, concurrency, each=outcomes.append)
    done = DownloadReport(batch_id, str(root), tuple(sorted(outcomes, key=lambda o: o.name)))
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


def _one(adapter: Adapter, batch_id: str, root: Path, listed: BatchFile) -> Flow[FileOutcome]:
    """One file: skipped if the folder holds it with its size; else downloaded atomically
    (a failure leaves no partial file) and checked against the listed size."""
    target = root / listed.name
    source = f"batch {batch_id}"
    try:
        if (yield from blocking(lambda: _size(target), cheap=True)) == listed.size:
            return FileOutcome(listed.name, listed.size, source, "skipped")
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
