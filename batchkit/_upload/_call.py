"""One `upload` call apart from its requests: everything it checks, plans and reads before
the first one (so bad input costs no request and sends nothing), and the report it returns."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._capabilities import Capability
from .._errors import UploadIncomplete
from .._models import FileOutcome, UploadReport
from .._remote import INSTALL
from .._validate import flag, positive_int
from ._globs import globs
from ._items import Item
from ._journal import Journal, journal_path
from ._names import NameBy
from ._plan import InvalidMode, Source, check_invalid, plan, refuse
from ._progress import ProgressCallback, check_callback
from ._send import Sent
from ._verify import VerifyMode, check_verify

if TYPE_CHECKING:
    from .._adapter import Adapter, BatchRef


@attrs.frozen
class Prepared:
    """A checked `upload` call with its plan, ready for an engine to run."""

    batch_id: str
    concurrency: int
    #: "size", "sha256" or "none"
    verify: str
    #: every entry of the sources, in order; those with a `problem` are not sent
    items: list[Item]
    journal: Journal | None
    #: what the journal says an earlier run sent (read before any request)
    journaled: Mapping[str, Mapping[str, Any]]

    @property
    def todo(self) -> list[Item]:
        """The items to send."""
        return [i for i in self.items if i.problem is None]

    def first_results(self) -> list[Sent | None]:
        """A result slot per item, the ones left out (``invalid="skip"``) already filled."""
        results: list[Sent | None] = [None] * len(self.items)
        for item in self.items:
            if item.problem is not None:
                outcome = FileOutcome(
                    item.name, item.known_size, item.label, "invalid", item.problem
                )
                results[item.index] = Sent(item.index, outcome)
        return results


def prepare(
    provider: Adapter,
    batch: BatchRef,
    sources: Source | Iterable[Source],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None,
    resume: bool | str | os.PathLike[str] | None,
    verify: VerifyMode,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
    strict: bool,
    invalid: InvalidMode,
    name_by: NameBy = "basename",
) -> Prepared:
    """Check the arguments, plan the sources and read the journal: `InvalidInput` (listing
    every file that cannot be uploaded) or `UnsupportedOperation` before any request."""
    provider.require(Capability.UPLOAD_FILES, "upload")
    batch_id = provider.batch_id(batch)
    concurrency = positive_int("concurrency", concurrency)
    mode = check_verify(verify)
    skip_invalid = check_invalid(invalid) == "skip"
    journal_file = journal_path(resume, provider.name, batch_id)
    check_callback(on_progress)
    flag("strict", strict)
    if mode == "sha256":
        provider.require(Capability.DOWNLOAD_FILES, "upload(verify='sha256')")
    if journal_file is not None:
        provider.require(Capability.LIST_FILES, "upload(resume=...)")
    fetches_urls = provider.supports(Capability.IMPORT_URLS)
    items = plan(
        sources,
        globs("include", include),
        globs("exclude", exclude),
        journal=journal_file,
        name_by=name_by,
        stream_urls=not fetches_urls,
    )
    # left as URLs only where the vendor fetches them, or nothing here can stream them
    urls = [i for i in items if i.url is not None]
    if urls and not fetches_urls:
        more = f" and {len(urls) - 1} more" if len(urls) > 1 else ""
        raise provider.unsupported(
            "upload from URLs",
            Capability.IMPORT_URLS,
            hint=f"it cannot fetch a file from a URL itself ({urls[0].label}{more}): download "
            "the files and upload them from disk, or install fsspec with its HTTP support "
            f"({INSTALL} aiohttp) to stream them through this machine",
        )
    problems = [i for i in items if i.problem is not None]
    fatal = [i for i in problems if i.fatal]
    if fatal or (problems and not skip_invalid):
        refuse(fatal if skip_invalid else problems, skippable=not fatal)
    journal: Journal | None = None
    journaled: Mapping[str, Mapping[str, Any]] = {}
    if journal_file is not None:  # read (and refused if it is not a journal) before sending
        journal = Journal(journal_file, provider.name, batch_id)
        journaled = journal.read()
    return Prepared(batch_id, concurrency, mode, items, journal, journaled)


def report(batch_id: str, results: list[Sent | None], *, strict: bool) -> UploadReport:
    """The report of a finished upload; `UploadIncomplete` instead if `strict` and a file
    failed."""
    done = UploadReport(batch_id=batch_id, files=tuple(r.outcome for r in results if r is not None))
    if strict and done.failed:
        raise UploadIncomplete(_incomplete_message(done), report=done)
    return done


def _incomplete_message(report: UploadReport) -> str:
    failed = report.failed
    shown = "; ".join(f"{f.name}: {f.reason}" for f in failed[:10])
    more = f"; and {len(failed) - 10} more" if len(failed) > 10 else ""
    return (
        f"{len(failed)} of {len(report.files)} file(s) did not make it to batch "
        f"{report.batch_id}: {shown}{more}. See the exception's report; rerun with resume= "
        "to send only what is missing"
    )
