"""The engine: one upload as a flow, run by the blocking driver (threads) and the async one
(tasks) alike.

Everything here is the order of the requests (`get_batch`, the listings, each file's
`upload_file`, `download_file` for read-backs, aborting sessions left open) and how they
run at once: at most `concurrency` files in flight (`Gather`), files of one stream taking
turns (they go up one after another in one flow). Local file work (a re-stat, a sha256, a
journal line) runs as `Blocking` steps, so the async engine keeps its event loop free. What
to send, skip, record and reject is decided by the modules it drives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, cast

from .._capabilities import Capability
from .._errors import BatchkitError
from .._flow import Flow, Gather, blocking, collect
from .._models import BatchFile, UploadReport
from .._pagination import WHOLE_LISTING_PAGE
from ._call import Prepared, prepare, report
from ._items import Item, payload
from ._journal import Journal, listening
from ._names import NameBy
from ._plan import InvalidMode, Source
from ._progress import Progress, ProgressCallback
from ._send import FileSteps, Sent, reason
from ._verify import HashSink, Verification, VerifyMode, unreadable

if TYPE_CHECKING:
    from .._adapter import Adapter, BatchRef

log = logging.getLogger("batchkit.upload")


def upload_flow(
    adapter: Adapter,
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
    """Check and plan an upload now (`InvalidInput` before any request), and return the
    flow that runs it (see `BatchProvider.upload` for what it does)."""
    job = prepare(
        adapter,
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
    return _run(adapter, job, on_progress, strict=strict)


def _run(
    adapter: Adapter, job: Prepared, on_progress: ProgressCallback | None, *, strict: bool
) -> Flow[UploadReport]:
    try:
        # one request up front: an unknown batch is one NotFound, not a failure per file
        yield from adapter.get_batch(job.batch_id)
        listed: dict[str, int] = {}
        if job.journal is not None:
            if job.journaled:
                listed = yield from _batch_sizes(adapter, job.batch_id)
            job.journal.open()
            yield from _abort_left_open(adapter, job.journal)
        todo = job.todo
        progress = Progress(on_progress, len(todo), sum(i.known_size for i in todo))
        steps = FileSteps(
            verify=job.verify,
            progress=progress,
            journal=job.journal,
            journaled=job.journaled,
            listed=listed,
        )
        files = _Files(
            adapter, job.batch_id, steps, cheap=job.journal is None and job.verify != "sha256"
        )
        results = job.first_results()

        def record(sent: list[Sent]) -> None:
            for one in sent:
                results[one.index] = one

        yield Gather(files.turns(todo), job.concurrency, each=record)
        if job.verify != "none":
            yield from _verify(files, job.items, results, job.concurrency)
    finally:
        if job.journal is not None:
            job.journal.close()
    return report(job.batch_id, results, strict=strict)


def _batch_sizes(adapter: Adapter, batch_id: str) -> Flow[dict[str, int]]:
    listing: list[BatchFile] = yield from collect(
        adapter.list_files(batch_id, page_size=WHOLE_LISTING_PAGE)
    )
    return {f.name: f.size for f in listing}


def _abort_left_open(adapter: Adapter, journal: Journal) -> Flow[None]:
    """Abort the sessions an earlier run left open (killed mid-file), best effort."""
    for session, name in journal.left_open():
        try:
            yield from adapter.abort_upload_session(session)
        except BatchkitError as e:
            log.warning(
                "could not abort the upload session %s of %r left by an earlier run: %s",
                session,
                name,
                e,
            )
            continue
        journal.aborted(session)


class _Files:
    """The flows of one upload's files: send one (or skip it), read one back."""

    def __init__(self, adapter: Adapter, batch_id: str, steps: FileSteps, *, cheap: bool) -> None:
        self.adapter = adapter
        self.batch_id = batch_id
        self.steps = steps
        #: the local work of a file costs less than a thread hop (no hashing, no journal; a
        #: remote file's re-check is a request, never cheap)
        self.cheap = cheap

    def turns(self, items: list[Item]) -> Iterator[Flow[list[Sent]]]:
        """One flow per file; the files of one stream object in one flow, in turn (each
        seeks to its start and reads to its end)."""
        shared: dict[int, list[Item]] = {}
        for item in items:
            if item.stream is not None:
                shared.setdefault(id(item.stream), []).append(item)
        started: set[int] = set()
        for item in items:
            if item.stream is None:
                yield self._one_of([item])
            elif id(item.stream) not in started:
                started.add(id(item.stream))
                yield self._one_of(shared[id(item.stream)])

    def _one_of(self, items: list[Item]) -> Flow[list[Sent]]:
        sent: list[Sent] = []
        for item in items:
            sent.append((yield from self.send(item)))
        return sent

    def send(self, item: Item) -> Flow[Sent]:
        """Upload one file (or skip it): never raises for a failure of this file alone."""
        steps = self.steps
        cheap = self.cheap and item.remote is None
        ready = yield from blocking(lambda: steps.before(item), cheap=cheap)
        if isinstance(ready, Sent):
            return ready
        try:
            with listening(steps.journal, ready.item.name):
                sent: BatchFile = yield from self.adapter.upload_file(
                    self.batch_id, ready.item.name, payload(ready.item), size=ready.item.size
                )
        except Exception as e:
            return steps.failed(ready.item, reason(e))
        done: Sent = yield from blocking(lambda: steps.after(ready, sent), cheap=cheap)
        return done

    def read_back(self, item: Item, expected: str | None) -> Flow[tuple[Item, str | None]]:
        """(item, why it is wrong or None): compare the batch copy's sha256 with ours."""
        if expected is None:
            return item, None
        sink = HashSink()
        try:
            yield from self.adapter.download_file(self.batch_id, item.name, cast(IO[bytes], sink))
        except Exception as e:
            return item, unreadable(e)
        return item, sink.mismatch(expected)


def _verify(
    files: _Files, items: list[Item], results: list[Sent | None], concurrency: int
) -> Flow[None]:
    """Mark uploaded files failed unless the batch holds them with the right size (and hash)."""
    check = Verification(items, results)
    if not check.uploaded:
        return
    if files.adapter.supports(Capability.LIST_FILES):
        try:
            sizes = yield from _batch_sizes(files.adapter, files.batch_id)
        except BatchkitError as e:
            check.listing_failed(e)
        else:
            check.listed(sizes)
    else:  # trust what upload_file reported
        check.listed(check.reported_sizes())
    if files.steps.verify == "sha256":
        reads = (files.read_back(item, expected) for item, expected in check.to_read_back())

        def record(pair: tuple[Item, str | None]) -> None:
            check.read_back(*pair)

        yield Gather(reads, concurrency, each=record)
    check.apply(results, journal=files.steps.journal, progress=files.steps.progress)
