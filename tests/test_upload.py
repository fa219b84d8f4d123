"""The bulk upload engine (`provider.upload`), against an in-memory fake provider."""

from __future__ import annotations

import io
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, ClassVar, Self

import httpx
import pytest

import batchkit._drive as upload_module
from batchkit import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    Capability,
    InvalidInput,
    ServerError,
    UnsupportedOperation,
    UploadIncomplete,
)
from batchkit._flow import emit, just
from batchkit._upload import UploadProgress, default_journal_path
from batchkit.adapters import (
    Adapter,
    BatchProvider,
    BatchRef,
    CommonSettings,
    FileData,
    Flow,
    HttpOptions,
)

BATCH = "b1"


class FakeAdapter(Adapter):
    """Files in a dict; per-name call counts; injectable failures, hooks and corruption.

    Its flows make no request: a fake vendor behind the real engine and drivers."""

    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capability] = (
        Capability.UPLOAD_FILES | Capability.LIST_FILES | Capability.DOWNLOAD_FILES
    )

    def __init__(self) -> None:
        self.settings = CommonSettings(api_root="http://127.0.0.1:9")
        self.files: dict[str, bytes] = {}
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.attempts = 0
        #: name -> exception raised by upload_file for that name
        self.fail: dict[str, BaseException] = {}
        #: raise KeyboardInterrupt on this upload_file call (1-based), before storing
        self.interrupt_on_call: int | None = None
        #: called with the name inside upload_file, before storing
        self.hook: Callable[[str], object] | None = None
        #: what the fake stores instead of the bytes it received
        self.mangle: Callable[[str, bytes], bytes] | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        return cls()

    def http_options(self) -> HttpOptions:
        return HttpOptions(auth=httpx.BasicAuth("fake", ""))

    def create_batch(self, name: str, **kw: Any) -> Flow[Batch]:
        return just(Batch(provider=self.name, id=name, name=name))

    def get_batch(self, batch: BatchRef) -> Flow[Batch]:
        return just(Batch(provider=self.name, id=self.batch_id(batch), name=self.batch_id(batch)))

    def list_batches(self, **kw: Any) -> Flow[None]:
        return just(None)

    def status(self, batch: BatchRef) -> Flow[BatchStatus]:
        return just(BatchStatus(batch_id=self.batch_id(batch), state=BatchState.OPEN))

    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> Flow[BatchFile]:
        self.batch_id(batch)
        with self.lock:
            self.attempts += 1
            attempt = self.attempts
        if attempt == self.interrupt_on_call:
            raise KeyboardInterrupt
        if self.hook is not None:
            self.hook(name)
        if name in self.fail:
            raise self.fail[name]
        if isinstance(data, bytes | bytearray | memoryview):
            content = bytes(data)
        elif isinstance(data, str | Path):
            content = Path(data).read_bytes()
        else:
            content = data.read()
        assert size is None or size == len(content)
        if self.mangle is not None:
            content = self.mangle(name, content)
        with self.lock:
            self.files[name] = content
            self.calls[name] += 1
        return just(BatchFile(name=name, size=len(content)))

    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Flow[None]:
        self.batch_id(batch)
        with self.lock:
            snapshot = dict(self.files)
        return emit([BatchFile(name=n, size=len(c)) for n, c in snapshot.items()])

    def download_into(
        self, batch: BatchRef, name: str, sink: IO[bytes], start: int, end: int | None
    ) -> Flow[int]:
        with self.lock:
            content = self.files[name]
        for pos in range(0, len(content), 3):  # streamed in small chunks
            sink.write(content[pos : pos + 3])
        return just(len(content))


#: the fake's state, read and set on the provider as on the adapter
_STATE = frozenset(
    {"files", "calls", "lock", "attempts", "fail", "interrupt_on_call", "hook", "mangle"}
)


class FakeProvider(BatchProvider):
    """The fake vendor's provider; its capabilities (a subclass may narrow them) are the
    adapter's, and the fake's state reads and writes through to the adapter."""

    adapter_class = FakeAdapter

    def __init__(self) -> None:
        narrowed = type(
            "Adapter", (FakeAdapter,), {"capabilities": self.capabilities, "name": self.name}
        )
        super().__init__(narrowed())

    def __getattr__(self, name: str) -> Any:
        if name in _STATE:
            return getattr(self.adapter, name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _STATE:
            setattr(self.adapter, name, value)
        else:
            super().__setattr__(name, value)


class TasksOnlyProvider(FakeProvider):
    """A Scale-like provider: batches of tasks, no file operations."""

    name: ClassVar[str] = "tasks-only"
    capabilities: ClassVar[Capability] = Capability.CREATE_BATCH | Capability.FINALIZE


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


def write(path: Path, content: bytes = b"data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def make_files(root: Path, count: int) -> list[Path]:
    return [write(root / f"f{i:02d}.pdf", f"content {i}".encode()) for i in range(count)]


# -- sources ------------------------------------------------------------------------------


def test_directory_source_recurses_and_honours_include_and_exclude(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A directory is walked recursively; include/exclude globs filter its relative paths."""
    write(tmp_path / "a.pdf")
    write(tmp_path / "notes.txt")
    write(tmp_path / "sub" / "c.pdf")
    write(tmp_path / "sub" / "deep" / "d.pdf")
    write(tmp_path / "sub" / "tmp" / "e.pdf")
    write(tmp_path / "tmp" / "f.pdf")

    report = provider.upload(BATCH, tmp_path, include=["*.pdf"], exclude=["**/tmp/*"])

    assert [f.name for f in report.uploaded] == ["a.pdf", "c.pdf", "d.pdf"]
    assert {"a.pdf", "c.pdf", "d.pdf"} == set(provider.files)
    assert str(tmp_path / "sub" / "deep" / "d.pdf") == report.files[2].source


def test_anchored_and_directory_patterns_match_relative_paths(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A pattern with '/' matches the whole relative path; one ending in '/' only directories."""
    write(tmp_path / "keep" / "a.pdf")
    write(tmp_path / "keep" / "inner" / "b.pdf")
    write(tmp_path / "other" / "c.pdf")
    write(tmp_path / "scratch" / "d.pdf")
    write(tmp_path / "scratch.pdf")

    report = provider.upload(BATCH, tmp_path, include=["keep/**", "*.pdf"], exclude=["scratch/"])

    assert [f.name for f in report.files] == ["scratch.pdf", "a.pdf", "b.pdf", "c.pdf"]


def test_hidden_files_and_directories_are_skipped(provider: FakeProvider, tmp_path: Path) -> None:
    """Dot files (.DS_Store) and dot directories (.git) in a directory source are not sent."""
    write(tmp_path / "a.pdf")
    write(tmp_path / ".DS_Store")
    write(tmp_path / ".git" / "objects.pdf")

    report = provider.upload(BATCH, tmp_path)

    assert [f.name for f in report.files] == ["a.pdf"]


def test_stream_and_bytes_sources_upload_under_their_given_names(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """(name, stream) and (name, bytes) pairs mix with paths; the report keeps their order."""
    path = write(tmp_path / "c.pdf", b"from disk")
    stream = io.BytesIO(b"skip-from stream")
    stream.seek(5)  # a stream is read from its current position

    report = provider.upload(BATCH, [("a.pdf", stream), path, ("b.pdf", b"raw bytes")])

    assert [f.name for f in report.files] == ["a.pdf", "c.pdf", "b.pdf"]
    assert ["<stream>", str(path), "<bytes>"] == [f.source for f in report.files]
    assert (provider.files) == {
        "a.pdf": b"from stream",
        "c.pdf": b"from disk",
        "b.pdf": b"raw bytes",
    }
    assert [f.size for f in report.files] == [11, 9, 9]


def test_a_single_stream_pair_is_one_source(provider: FakeProvider) -> None:
    """A bare (name, stream) pair is accepted without wrapping it in a list."""
    report = provider.upload(BATCH, ("one.pdf", io.BytesIO(b"x")))

    assert [f.name for f in report.uploaded] == ["one.pdf"]


def test_the_same_file_named_twice_is_uploaded_once(provider: FakeProvider, tmp_path: Path) -> None:
    """A file reached both through its directory and by its own path is sent once."""
    path = write(tmp_path / "a.pdf")

    report = provider.upload(BATCH, [tmp_path, path])

    assert len(report.files) == 1
    assert provider.calls == {"a.pdf": 1}


def test_name_collision_is_refused_before_any_upload(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """Two local files mapping to one flat batch name raise InvalidInput naming both paths."""
    write(tmp_path / "a.pdf")
    write(tmp_path / "2025" / "scan.pdf")
    write(tmp_path / "2026" / "scan.pdf")

    with pytest.raises(InvalidInput) as caught:
        provider.upload(BATCH, tmp_path)

    message = str(caught.value)
    assert str(tmp_path / "2025" / "scan.pdf") in message
    assert str(tmp_path / "2026" / "scan.pdf") in message
    assert provider.attempts == 0


def test_invalid_name_is_refused_before_any_upload(provider: FakeProvider, tmp_path: Path) -> None:
    """A file name without an extension raises InvalidInput naming it, and nothing is sent."""
    write(tmp_path / "a.pdf")
    write(tmp_path / "README")

    with pytest.raises(InvalidInput, match="README"):
        provider.upload(BATCH, tmp_path)

    assert provider.attempts == 0


def test_missing_path_is_refused_before_any_upload(provider: FakeProvider, tmp_path: Path) -> None:
    """A source path that does not exist raises InvalidInput, and nothing is sent."""
    write(tmp_path / "a.pdf")

    with pytest.raises(InvalidInput, match="does not exist"):
        provider.upload(BATCH, [tmp_path / "a.pdf", tmp_path / "nope.pdf"])

    assert provider.attempts == 0


def test_bad_arguments_are_refused_before_any_upload(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A zero concurrency or an unknown verify mode raises InvalidInput."""
    write(tmp_path / "a.pdf")

    with pytest.raises(InvalidInput, match="concurrency"):
        provider.upload(BATCH, tmp_path, concurrency=0)
    with pytest.raises(InvalidInput, match="verify"):
        provider.upload(BATCH, tmp_path, verify="md5")  # type: ignore[arg-type]
    assert provider.attempts == 0


def test_provider_without_upload_files_raises_unsupported_operation(tmp_path: Path) -> None:
    """A provider lacking Capability.UPLOAD_FILES (Scale) raises UnsupportedOperation."""
    provider = TasksOnlyProvider()
    write(tmp_path / "a.pdf")

    with pytest.raises(UnsupportedOperation) as caught:
        provider.upload(BATCH, tmp_path)

    assert caught.value.operation == "upload"
    assert caught.value.provider == "tasks-only"
    assert provider.attempts == 0


# -- concurrency and progress -------------------------------------------------------------


def test_files_upload_concurrently(provider: FakeProvider, tmp_path: Path) -> None:
    """With concurrency=2, two uploads are in flight at once (both reach a 2-party barrier)."""
    make_files(tmp_path, 4)
    barrier = threading.Barrier(2)
    provider.hook = lambda name: barrier.wait(timeout=30)

    report = provider.upload(BATCH, tmp_path, concurrency=2)

    assert report.ok, report.failed


def test_queued_work_is_bounded_by_twice_the_concurrency(
    provider: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most 2 × concurrency files are submitted and unfinished at any time."""
    make_files(tmp_path, 20)
    concurrency = 2
    outstanding = 0
    peak = 0
    filled = threading.Event()
    lock = threading.Lock()

    class CountingPool(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            nonlocal outstanding, peak
            with lock:
                outstanding += 1
                peak = max(peak, outstanding)
                if outstanding >= 2 * concurrency:
                    filled.set()
            future = super().submit(fn, *args, **kwargs)
            future.add_done_callback(lambda _: finished())
            return future

    def finished() -> None:
        nonlocal outstanding
        with lock:
            outstanding -= 1

    monkeypatch.setattr(upload_module, "ThreadPoolExecutor", CountingPool)
    # the first uploads wait until the engine has queued all it is allowed to
    provider.hook = lambda name: filled.wait(timeout=30)

    report = provider.upload(BATCH, tmp_path, concurrency=concurrency)

    assert report.ok
    assert 2 * concurrency == peak


def test_progress_events_count_every_file_and_byte(provider: FakeProvider, tmp_path: Path) -> None:
    """Each file gets a started and an uploaded event; the totals add up to the sources."""
    paths = make_files(tmp_path, 5)
    total = sum(p.stat().st_size for p in paths)
    events: list[UploadProgress] = []

    provider.upload(BATCH, tmp_path, concurrency=3, on_progress=events.append)

    assert len(events) == 10
    assert {p.name for p in paths} == {e.name for e in events if e.kind == "started"}
    assert {p.name for p in paths} == {e.name for e in events if e.kind == "uploaded"}
    assert {(5, total)} == {(e.files_total, e.bytes_total) for e in events}
    assert [e.files_done for e in events if e.kind == "uploaded"] == [1, 2, 3, 4, 5]
    assert (5, total) == (events[-1].files_done, events[-1].bytes_done)


def test_progress_reports_failures_with_their_reason(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A failed file gets a failed event carrying the reason, and still counts as done."""
    make_files(tmp_path, 2)
    provider.fail["f01.pdf"] = ServerError("boom", provider="fake", operation="upload_file")
    events: list[UploadProgress] = []

    provider.upload(BATCH, tmp_path, concurrency=1, on_progress=events.append)

    failed = [e for e in events if e.kind == "failed"]
    assert [(e.name, e.reason) for e in failed] == [("f01.pdf", "boom")]
    assert events[-1].files_done == 2


# -- verification -------------------------------------------------------------------------


def test_verify_size_marks_a_truncated_file_failed(provider: FakeProvider, tmp_path: Path) -> None:
    """A file the batch lists with a different size than the local one is reported failed."""
    write(tmp_path / "a.pdf", b"0123456789")
    write(tmp_path / "b.pdf", b"0123456789")
    provider.mangle = lambda name, data: data[:4] if name == "a.pdf" else data

    report = provider.upload(BATCH, tmp_path)

    assert [f.name for f in report.uploaded] == ["b.pdf"]
    [failed] = report.failed
    assert failed.name == "a.pdf"
    assert "size mismatch" in (failed.reason or "")
    assert "4 bytes" in (failed.reason or "")


def test_verify_none_trusts_the_upload(provider: FakeProvider, tmp_path: Path) -> None:
    """verify=None skips the listing check, so a truncated copy goes unnoticed."""
    write(tmp_path / "a.pdf", b"0123456789")
    provider.mangle = lambda name, data: data[:4]

    report = provider.upload(BATCH, tmp_path, verify=None)

    assert report.ok


def test_verify_sha256_catches_corrupted_content_of_the_right_size(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """verify='sha256' reads each file back and fails one whose bytes differ."""
    write(tmp_path / "a.pdf", b"0123456789")
    write(tmp_path / "b.pdf", b"abcdefghij")
    provider.mangle = lambda name, data: data[::-1] if name == "a.pdf" else data

    size_only = provider.upload(BATCH, tmp_path)
    checked = provider.upload(BATCH, tmp_path, verify="sha256")

    assert size_only.ok
    assert [f.name for f in checked.uploaded] == ["b.pdf"]
    assert [f.name for f in checked.failed] == ["a.pdf"]
    assert "sha256 mismatch" in (checked.failed[0].reason or "")


def test_verify_sha256_needs_download_capability(tmp_path: Path) -> None:
    """verify='sha256' on a provider that cannot read files back is refused up front."""

    class NoDownload(FakeProvider):
        capabilities: ClassVar[Capability] = Capability.UPLOAD_FILES | Capability.LIST_FILES

    provider = NoDownload()
    write(tmp_path / "a.pdf")

    with pytest.raises(UnsupportedOperation):
        provider.upload(BATCH, tmp_path, verify="sha256")
    assert provider.attempts == 0


# -- failures -----------------------------------------------------------------------------


def test_one_failure_does_not_stop_the_others(provider: FakeProvider, tmp_path: Path) -> None:
    """A file whose upload fails is reported with the error message; the rest are sent."""
    make_files(tmp_path, 6)
    provider.fail["f02.pdf"] = ServerError(
        "aihub upload_file failed: 503 Service Unavailable", provider="fake", operation="x"
    )
    provider.fail["f04.pdf"] = OSError("disk went away")

    report = provider.upload(BATCH, tmp_path, concurrency=2)

    assert [f.name for f in report.uploaded] == ["f00.pdf", "f01.pdf", "f03.pdf", "f05.pdf"]
    reasons = {f.name: f.reason for f in report.failed}
    assert reasons == {
        "f02.pdf": "aihub upload_file failed: 503 Service Unavailable",
        "f04.pdf": "disk went away",
    }
    assert not report.ok


def test_unexpected_exception_is_recorded_with_its_type(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A non-batchkit exception in a worker becomes a failure naming the exception type."""
    make_files(tmp_path, 2)
    provider.fail["f00.pdf"] = RuntimeError("adapter bug")

    report = provider.upload(BATCH, tmp_path)

    assert [(f.name, f.reason) for f in report.failed] == [("f00.pdf", "RuntimeError: adapter bug")]
    assert [f.name for f in report.uploaded] == ["f01.pdf"]


def test_strict_raises_upload_incomplete_naming_the_failed_file(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """strict=True raises UploadIncomplete listing the failed file and carrying the report."""
    make_files(tmp_path, 3)
    provider.fail["f01.pdf"] = ServerError("gateway timeout", provider="fake", operation="x")

    with pytest.raises(UploadIncomplete) as caught:
        provider.upload(BATCH, tmp_path, strict=True)

    assert "f01.pdf: gateway timeout" in str(caught.value)
    assert [f.name for f in caught.value.report.failed] == ["f01.pdf"]
    assert len(caught.value.report.uploaded) == 2


# -- resume -------------------------------------------------------------------------------


def test_resume_after_interrupt_uploads_only_the_rest(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """After a KeyboardInterrupt, a rerun with the same journal sends each file exactly once."""
    files = make_files(tmp_path / "src", 10)
    journal = tmp_path / "journal.jsonl"
    provider.interrupt_on_call = 4

    with pytest.raises(KeyboardInterrupt):
        provider.upload(BATCH, tmp_path / "src", concurrency=2, resume=journal)

    sent_first = sum(provider.calls.values())
    assert 3 <= sent_first < 10  # pending work was cancelled
    provider.interrupt_on_call = None

    report = provider.upload(BATCH, tmp_path / "src", concurrency=2, resume=journal)

    assert {p.name: 1 for p in files} == provider.calls
    assert sent_first == len(report.skipped)
    assert 10 - sent_first == len(report.uploaded)
    assert report.ok


def test_resume_journal_is_json_lines_with_a_fingerprint(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """Each uploaded file adds one JSON line: name, size, mtime fingerprint, batch, provider."""
    path = write(tmp_path / "src" / "a.pdf", b"12345")
    journal = tmp_path / "journal.jsonl"

    provider.upload(BATCH, tmp_path / "src", resume=journal)

    [entry] = [json.loads(line) for line in journal.read_text().splitlines()]
    assert {
        "event": "uploaded",
        "name": "a.pdf",
        "size": 5,
        "mtime_ns": path.stat().st_mtime_ns,
        "sha256": None,
        "batch_id": BATCH,
        "provider": "fake",
    }.items() <= entry.items()


def test_resume_reuploads_a_file_changed_locally(provider: FakeProvider, tmp_path: Path) -> None:
    """A journaled file whose content and mtime changed since is sent again; others skipped."""
    a = write(tmp_path / "src" / "a.pdf", b"version 1")
    write(tmp_path / "src" / "b.pdf", b"unchanged")
    journal = tmp_path / "journal.jsonl"
    provider.upload(BATCH, tmp_path / "src", resume=journal)

    a.write_bytes(b"version 2")  # same size
    stat = a.stat()
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    report = provider.upload(BATCH, tmp_path / "src", resume=journal)

    assert [f.name for f in report.uploaded] == ["a.pdf"]
    assert [f.name for f in report.skipped] == ["b.pdf"]
    assert provider.calls == {"a.pdf": 2, "b.pdf": 1}
    assert provider.files["a.pdf"] == b"version 2"


def test_resume_skips_a_touched_file_whose_sha256_still_matches(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """With a sha256 in the journal, a file whose mtime changed but content did not is skipped."""
    a = write(tmp_path / "src" / "a.pdf", b"same bytes")
    journal = tmp_path / "journal.jsonl"
    provider.upload(BATCH, tmp_path / "src", resume=journal, verify="sha256")

    stat = a.stat()
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    report = provider.upload(BATCH, tmp_path / "src", resume=journal)

    assert [f.name for f in report.skipped] == ["a.pdf"]
    assert provider.calls == {"a.pdf": 1}


def test_resume_reuploads_a_journaled_file_missing_from_the_batch(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """The batch listing is double-checked: a journaled file no longer there is sent again."""
    write(tmp_path / "src" / "a.pdf")
    write(tmp_path / "src" / "b.pdf")
    journal = tmp_path / "journal.jsonl"
    provider.upload(BATCH, tmp_path / "src", resume=journal)

    del provider.files["a.pdf"]
    report = provider.upload(BATCH, tmp_path / "src", resume=journal)

    assert [f.name for f in report.uploaded] == ["a.pdf"]
    assert provider.calls == {"a.pdf": 2, "b.pdf": 1}


def test_resume_resends_a_file_that_failed_verification(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A file journaled on upload but rejected by sha256 verification is sent again next run."""
    write(tmp_path / "src" / "a.pdf", b"0123456789")
    journal = tmp_path / "journal.jsonl"
    provider.mangle = lambda name, data: data[::-1]

    first = provider.upload(BATCH, tmp_path / "src", resume=journal, verify="sha256")
    provider.mangle = None
    second = provider.upload(BATCH, tmp_path / "src", resume=journal, verify="sha256")

    assert [f.name for f in first.failed] == ["a.pdf"]
    assert [f.name for f in second.uploaded] == ["a.pdf"]
    assert provider.files["a.pdf"] == b"0123456789"


def test_resume_skips_an_unchanged_stream_by_its_sha256(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """Stream sources are fingerprinted by sha256: the same bytes are not sent twice."""
    journal = tmp_path / "journal.jsonl"

    first = provider.upload(
        BATCH, [("a.pdf", io.BytesIO(b"alpha")), ("b.pdf", io.BytesIO(b"beta"))], resume=journal
    )
    second = provider.upload(
        BATCH, [("a.pdf", io.BytesIO(b"alpha")), ("b.pdf", io.BytesIO(b"BETA"))], resume=journal
    )

    assert len(first.uploaded) == 2
    assert [f.name for f in second.skipped] == ["a.pdf"]
    assert [f.name for f in second.uploaded] == ["b.pdf"]
    assert provider.files["b.pdf"] == b"BETA"


def test_resume_true_keeps_the_journal_in_the_current_directory(
    provider: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resume=True writes .batchkit-journal-<provider>-<batch id>.jsonl in the cwd."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "src" / "a.pdf")

    provider.upload("batch/with:odd chars", tmp_path / "src", resume=True)

    expected = tmp_path / ".batchkit-journal-fake-batch_with_odd_chars.jsonl"
    assert expected == default_journal_path("fake", "batch/with:odd chars")
    assert len(expected.read_text().splitlines()) == 1


def test_journal_tolerates_a_line_cut_short_by_a_crash(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A truncated last journal line is ignored, and new lines start on a fresh line."""
    write(tmp_path / "src" / "a.pdf")
    write(tmp_path / "src" / "b.pdf")
    journal = tmp_path / "journal.jsonl"
    provider.upload(BATCH, tmp_path / "src" / "a.pdf", resume=journal)
    with journal.open("a") as f:
        f.write('{"event": "uploaded", "name": "b.p')

    report = provider.upload(BATCH, tmp_path / "src", resume=journal)

    assert [f.name for f in report.skipped] == ["a.pdf"]
    assert [f.name for f in report.uploaded] == ["b.pdf"]
    names = []
    for line in journal.read_text().splitlines():
        try:
            names.append(json.loads(line)["name"])
        except ValueError:
            names.append(None)
    assert names == ["a.pdf", None, "b.pdf"]


def test_journal_entries_of_another_batch_are_ignored(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """One journal file shared by two batches skips files only in the batch that has them."""
    write(tmp_path / "src" / "a.pdf")
    journal = tmp_path / "journal.jsonl"
    provider.upload("first", tmp_path / "src", resume=journal)

    report = provider.upload("second", tmp_path / "src", resume=journal)

    assert [f.name for f in report.uploaded] == ["a.pdf"]


def test_the_scale_provider_refuses_upload_without_a_task_type_before_any_request(
    tmp_path: Path,
) -> None:
    """Scale makes a task of each file: with no task_type set, upload raises ConfigError at
    once (nothing listening on the port: a request would be a TransportError)."""
    import batchkit

    write(tmp_path / "a.pdf")
    scale = batchkit.connect("scale", api_root="http://127.0.0.1:9/v1", api_key="k")
    with scale, pytest.raises(batchkit.ConfigError, match="task_type"):
        scale.upload("nightly", tmp_path)


def test_an_exception_from_on_progress_stops_the_upload(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """A failing progress callback is a bug in the caller: it propagates instead of being hidden."""
    make_files(tmp_path, 5)

    def broken(event: UploadProgress) -> None:
        raise ValueError("callback bug")

    with pytest.raises(ValueError, match="callback bug"):
        provider.upload(BATCH, tmp_path, on_progress=broken)


def test_a_text_stream_is_refused_before_anything_is_sent(provider: FakeProvider) -> None:
    """("a.pdf", io.StringIO(...)) is a mistake the user can fix: InvalidInput up front."""
    with pytest.raises(InvalidInput, match=r"text stream.*'rb'"):
        provider.upload(BATCH, [("ok.pdf", io.BytesIO(b"x")), ("a.pdf", io.StringIO("x"))])
    assert {} == provider.files


def test_a_resume_path_holding_other_data_is_refused_and_left_alone(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """resume= pointing at someone else's file is refused, and the file is not appended to."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(InvalidInput, match="not a batchkit upload journal"):
        provider.upload(BATCH, [("a.pdf", b"x")], resume=notes)
    assert "my notes\n" == notes.read_text()
    assert {} == provider.files


def test_a_journal_whose_last_line_was_cut_mid_character_still_resumes(
    provider: FakeProvider, tmp_path: Path
) -> None:
    """Names are journaled as UTF-8; a crash mid-character must not make resume refuse it."""
    write(tmp_path / "src" / "ü.pdf")
    journal = tmp_path / "journal.jsonl"
    provider.upload(BATCH, tmp_path / "src", resume=journal)
    with journal.open("ab") as f:
        f.write('{"v": 1, "event": "uploaded", "name": "ü'.encode()[:-1])
    report = provider.upload(BATCH, tmp_path / "src", resume=journal)
    assert ["ü.pdf"] == [f.name for f in report.skipped]
