"""The threaded engine: runs a prepared upload on a thread pool.

Everything here is I/O and its scheduling: the requests (`get_batch`, the listings,
`upload_file`, `download_file`, aborting sessions left open), at most ``2 * concurrency``
files queued on a pool of `concurrency` threads, files of one stream taking turns, and a
Ctrl-C that cancels what has not started while the files in flight finish and reach the
journal. What to send, skip, record and reject is decided by the modules it drives.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import IO, TYPE_CHECKING, TypeVar, cast

from .._capabilities import Capability
from .._errors import BatchkitError
from .._models import UploadReport
from ._call import prepare, report
from ._items import Item, payload
from ._journal import Journal, listening
from ._plan import InvalidMode, Source
from ._progress import Progress, ProgressCallback
from ._send import FileSteps, Sent, reason
from ._verify import HashSink, Verification, VerifyMode, unreadable

if TYPE_CHECKING:
    from .._provider import BatchProvider, BatchRef

log = logging.getLogger("batchkit.upload")

T = TypeVar("T")
R = TypeVar("R")

#: numbers each upload's worker threads, so it waits for its own and no others
_calls = itertools.count(1)


def upload(
    provider: BatchProvider,
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
    """Upload many files to `batch` concurrently, verify them, and report on each.

    `sources`: a file path, a directory (walked recursively, symlinks followed, hidden
    entries skipped, filtered by `include` / `exclude` globs on the path relative to it), a
    ``(name, binary stream, bytes or pathlib.Path)`` pair, or an iterable of these. Every
    file goes into the batch under its base name (or the pair's name). Files that cannot be
    uploaded (invalid names, two sources for one name, special files, broken symlinks) are
    all listed in one `InvalidInput` before anything is sent; with ``invalid="skip"`` the
    others are uploaded and these are reported with status "invalid" (`report.invalid`).

    `concurrency` files are sent at once, each streamed by the provider's `upload_file`;
    at most ``2 * concurrency`` are queued, so memory does not grow with the file count.
    `on_progress` gets an `UploadProgress` per step. `verify` checks the batch listing
    for every file with its size ("size"), also reads each file back and compares sha256
    ("sha256"), or does nothing (None). `resume` names a journal file (True: the default,
    see `default_journal_path`): files it records, unchanged locally and present in the
    batch with their size, are skipped. A file that fails (or changes while it is sent) is
    reported and the rest go on; `strict=True` then raises `UploadIncomplete`.
    KeyboardInterrupt stops after the files in flight, with the journal up to date.
    """
    job = prepare(
        provider,
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
    # one request up front: an unknown batch is one NotFound, not a failure per file
    provider.get_batch(job.batch_id)

    listed: dict[str, int] = {}
    if job.journal is not None:
        if job.journaled:
            listed = _batch_sizes(provider, job.batch_id)
        job.journal.open()
        _abort_left_open(provider, job.journal)

    todo = job.todo
    progress = Progress(on_progress, len(todo), sum(i.known_size for i in todo))
    steps = FileSteps(
        verify=job.verify,
        progress=progress,
        journal=job.journal,
        journaled=job.journaled,
        listed=listed,
    )
    run = _Run(provider, job.batch_id, steps, todo)
    results = job.first_results()
    workers = f"batchkit-upload-{next(_calls)}"
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(job.concurrency, len(todo))), thread_name_prefix=workers
    )
    try:
        for sent in _bounded(pool, run.send, todo, 2 * job.concurrency):
            if sent is not None:
                results[sent.index] = sent
        if job.verify != "none":
            _verify(run, pool, job.items, results, job.concurrency)
    except BaseException:
        run.stop.set()
        raise
    finally:
        try:
            # cancel what has not started; let files in flight finish and reach the journal
            pool.shutdown(wait=True, cancel_futures=True)
            _join_lost_workers(workers)
        finally:  # even if a second Ctrl-C cuts the wait short
            if job.journal is not None:
                job.journal.close()
    return report(job.batch_id, results, strict=strict)


def _batch_sizes(provider: BatchProvider, batch_id: str) -> dict[str, int]:
    return {f.name: f.size for f in provider.list_files(batch_id)}


def _abort_left_open(provider: BatchProvider, journal: Journal) -> None:
    """Abort the sessions an earlier run left open (killed mid-file), best effort."""
    for session, name in journal.left_open():
        try:
            provider.abort_upload_session(session)
        except BatchkitError as e:
            log.warning(
                "could not abort the upload session %s of %r left by an earlier run: %s",
                session,
                name,
                e,
            )
            continue
        journal.aborted(session)


class _Run:
    """What the worker threads of one `upload` call do: send a file, read one back."""

    def __init__(
        self, provider: BatchProvider, batch_id: str, steps: FileSteps, items: list[Item]
    ) -> None:
        self.provider = provider
        self.batch_id = batch_id
        self.steps = steps
        self.stop = threading.Event()
        #: one lock per stream object: the files of one stream take turns, each seeking to
        #: its start and reading to its end
        self._locks = {id(i.stream): threading.Lock() for i in items if i.stream is not None}

    def send(self, item: Item) -> Sent | None:
        """Upload one file (or skip it): never raises for a failure of this file alone."""
        if self.stop.is_set():
            return None
        lock = self._locks.get(id(item.stream)) if item.stream is not None else None
        with lock or contextlib.nullcontext():
            return self._send(item)

    def _send(self, item: Item) -> Sent:
        ready = self.steps.before(item)
        if isinstance(ready, Sent):
            return ready
        try:
            with listening(self.steps.journal, ready.item.name):
                sent = self.provider.upload_file(
                    self.batch_id, ready.item.name, payload(ready.item), size=ready.item.size
                )
        except Exception as e:
            return self.steps.failed(ready.item, reason(e))
        return self.steps.after(ready, sent)

    def read_back(self, pair: tuple[Item, str | None]) -> tuple[Item, str | None]:
        """(item, why it is wrong or None): compare the batch copy's sha256 with ours."""
        item, expected = pair
        if self.stop.is_set() or expected is None:
            return item, None
        sink = HashSink()
        try:
            self.provider.download_file(self.batch_id, item.name, cast(IO[bytes], sink))
        except Exception as e:
            return item, unreadable(e)
        return item, sink.mismatch(expected)


def _verify(
    run: _Run,
    pool: ThreadPoolExecutor,
    items: list[Item],
    results: list[Sent | None],
    concurrency: int,
) -> None:
    """Mark uploaded files failed unless the batch holds them with the right size (and hash)."""
    check = Verification(items, results)
    if not check.uploaded:
        return
    if run.provider.supports(Capability.LIST_FILES):
        try:
            sizes = _batch_sizes(run.provider, run.batch_id)
        except BatchkitError as e:
            check.listing_failed(e)
        else:
            check.listed(sizes)
    else:  # trust what upload_file reported
        check.listed(check.reported_sizes())
    if run.steps.verify == "sha256":
        for item, why in _bounded(pool, run.read_back, check.to_read_back(), 2 * concurrency):
            check.read_back(item, why)
    check.apply(results, journal=run.steps.journal, progress=run.steps.progress)


def _bounded(
    pool: ThreadPoolExecutor,
    fn: Callable[[T], R],
    items: Iterable[T],
    limit: int,
) -> Iterator[R]:
    """Run `fn` over `items` in `pool` with at most `limit` submitted and unfinished.

    Results come back as they finish. An exception escaping `fn` (KeyboardInterrupt
    included) propagates here; the caller cancels the rest.
    """
    source = iter(items)
    pending: set[Future[R]] = set()
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            try:
                item = next(source)
            except StopIteration:
                exhausted = True
                break
            pending.add(pool.submit(fn, item))
        if not pending:
            return
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield future.result()


def _join_lost_workers(prefix: str) -> None:
    """Wait for workers the pool itself lost track of: a Ctrl-C that lands inside
    `pool.submit`, after a thread started but before the pool recorded it, leaves that
    thread sending a file while `pool.shutdown` returns at once (a second Ctrl-C still
    interrupts this wait)."""
    for thread in threading.enumerate():
        if thread.name.startswith(f"{prefix}_") and thread is not threading.current_thread():
            thread.join()
