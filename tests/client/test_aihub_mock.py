"""AI Hub adapter behaviours against small fake servers: multipart uploads, job polling,
ranged downloads and pagination."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchkit
from batchkit import BatchFile, BatchState, Job, JobFailed, JobState, JobTimeout, ProviderError
from batchkit._flow import Flow, Sleep, just
from batchkit._jobs import wait as wait_flow


def wait(poll, *, sleep, **kw) -> Job:
    """Run the job-waiting flow with `sleep` for its waits (no HTTP)."""
    flow: Flow[Job] = wait_flow(lambda: just(poll()), **kw)
    value = None
    while True:
        try:
            step = flow.send(value)
        except StopIteration as stop:
            return stop.value
        assert isinstance(step, Sleep)
        value = sleep(step.seconds)

ROOT = "https://aihub.test/api"
SESSION_PATH = "/api/v2/batches/multipart-upload/sessions/s1"
DATA = bytes(range(256)) * 4 + b"\xff"  # 1025 bytes
THRESHOLD = 1000
PART_SIZE = 300


class FakeMultipart:
    """AI Hub's multipart endpoints, with per-part failures and a record of everything."""

    def __init__(self, *, location: bool = True, int_ids: bool = False) -> None:
        self.location = location
        self.int_ids = int_ids
        self.lock = threading.Lock()
        self.starts: list[dict] = []
        self.parts: dict[int, bytes] = {}
        self.part_puts: Counter[int] = Counter()
        #: part number -> failures to answer before accepting it (int status or exception)
        self.failures: dict[int, list] = {}
        #: part number that always fails with this status
        self.broken: dict[int, int] = {}
        self.actions: list[dict] = []
        self.commit_failures: list = []
        self.single_puts: list[httpx.Request] = []

    @property
    def assembled(self) -> bytes:
        return b"".join(self.parts[n] for n in sorted(self.parts))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/api/v2/batches/multipart-upload":
            self.starts.append(json.loads(request.content))
            headers = {"Location": f"{ROOT}/v2/batches/multipart-upload/sessions/s1"}
            return httpx.Response(
                201, json={"session_id": "s1", "part_size": PART_SIZE},
                headers=headers if self.location else {},
            )
        match = re.fullmatch(SESSION_PATH + r"/parts/(\d+)", path)
        if request.method == "PUT" and match:
            n = int(match.group(1))
            with self.lock:
                self.part_puts[n] += 1
                pending = self.failures.get(n)
                failure = pending.pop(0) if pending else self.broken.get(n)
            if isinstance(failure, int):
                return httpx.Response(failure, json={"message": f"part {n} failed"})
            if failure is not None:
                raise failure("simulated", request=request)
            with self.lock:
                self.parts[n] = request.content
            part_id = 1000 + n if self.int_ids else f"part-{n}"
            return httpx.Response(201, json={"part_id": part_id, "part_num": n})
        if request.method == "POST" and path == SESSION_PATH:
            body = json.loads(request.content)
            self.actions.append(body)
            if body["action"] == "commit" and self.commit_failures:
                failure = self.commit_failures.pop(0)
                if isinstance(failure, int):
                    return httpx.Response(failure, json={"message": "commit failed"})
                raise failure("simulated", request=request)
            return httpx.Response(204)
        if request.method == "PUT" and path.startswith("/api/v2/batches/7/files/"):
            self.single_puts.append(request)
            return httpx.Response(204)
        return httpx.Response(404, json={"message": f"no route {request.method} {path}"})


def _multipart(kit, fake: FakeMultipart, **settings):
    rec = kit.Recorder(fake)
    provider = kit.aihub(rec.transport, multipart_threshold=THRESHOLD, **settings)
    return rec, provider


def _commit_parts(fake: FakeMultipart) -> list[dict]:
    commits = [a for a in fake.actions if a["action"] == "commit"]
    return commits[-1]["parts"]


# -- multipart ---------------------------------------------------------------------------


def test_upload_above_the_threshold_goes_up_in_consecutive_parts(kit):
    """1025 bytes with part_size 300: parts 1..4 of 300, 300, 300, 125, then a commit."""
    fake = FakeMultipart()
    _, provider = _multipart(kit, fake)
    assert BatchFile(name="big.pdf", size=len(DATA)) == provider.upload_file("7", "big.pdf", DATA)
    assert [{"batch_id": 7, "filename": "big.pdf", "file_size": 1025}] == fake.starts
    assert [300, 300, 300, 125] == [len(fake.parts[n]) for n in sorted(fake.parts)]
    assert DATA == fake.assembled
    assert [] == fake.single_puts


@pytest.mark.parametrize("int_ids", [True, False])
def test_commit_lists_every_part_in_order_with_ids_as_the_server_sent_them(kit, int_ids):
    """The commit body names each part number with its id in the JSON type the part
    response used: a string (the live wire) or an int (the docs' table)."""
    fake = FakeMultipart(int_ids=int_ids)
    _, provider = _multipart(kit, fake)
    provider.upload_file("7", "big.pdf", DATA)
    ids = [1000 + n if int_ids else f"part-{n}" for n in (1, 2, 3, 4)]
    expected = [{"part_num": n, "part_id": i} for n, i in zip((1, 2, 3, 4), ids, strict=True)]
    assert expected == _commit_parts(fake)
    assert ["commit"] == [a["action"] for a in fake.actions]


def test_upload_at_exactly_the_threshold_is_a_single_put(kit):
    """`multipart_threshold` bytes still go up in one PUT (multipart is for larger)."""
    fake = FakeMultipart()
    _, provider = _multipart(kit, fake)
    provider.upload_file("7", "small.pdf", DATA[:THRESHOLD])
    assert ([], 1) == (fake.starts, len(fake.single_puts))
    assert DATA[:THRESHOLD] == fake.single_puts[0].content
    assert str(THRESHOLD) == fake.single_puts[0].headers["Content-Length"]


def test_session_url_is_built_from_session_id_when_there_is_no_location(kit):
    """The SDK's form (`session_id` in the body, no Location) reaches the same session."""
    fake = FakeMultipart(location=False)
    _, provider = _multipart(kit, fake)
    provider.upload_file("7", "big.pdf", DATA)
    assert DATA == fake.assembled


def test_upload_retries_a_failed_part_without_resending_others(kit):
    """Part 2 failing once with 503 is sent twice; every other part exactly once."""
    fake = FakeMultipart()
    fake.failures[2] = [503]
    _, provider = _multipart(kit, fake)
    provider.upload_file("7", "big.pdf", DATA)
    assert {1: 1, 2: 2, 3: 1, 4: 1} == dict(fake.part_puts)
    assert DATA == fake.assembled
    assert 4 == len(_commit_parts(fake))


def test_a_part_whose_connection_breaks_is_resent_with_the_same_bytes(kit):
    """A ReadError on part 3 resends part 3's slice, re-read from the source."""
    fake = FakeMultipart()
    fake.failures[3] = [httpx.ReadError, httpx.ReadError]
    _, provider = _multipart(kit, fake)
    provider.upload_file("7", "big.pdf", io.BytesIO(DATA))
    assert {1: 1, 2: 1, 3: 3, 4: 1} == dict(fake.part_puts)
    assert DATA == fake.assembled


def test_a_part_failing_for_good_aborts_the_session_and_raises(kit):
    """When a part never succeeds the session is aborted, not committed, and the error raised."""
    fake = FakeMultipart()
    fake.broken[3] = 500
    _, provider = _multipart(kit, fake, retry_attempts=3)
    with pytest.raises(batchkit.ServerError) as info:
        provider.upload_file("7", "big.pdf", DATA)
    assert (500, "upload_part") == (info.value.status, info.value.operation)
    assert [{"action": "abort"}] == fake.actions
    assert 3 == fake.part_puts[3]


def test_a_commit_failing_for_good_aborts_the_session(kit):
    """A commit that keeps failing is followed by an abort."""
    fake = FakeMultipart()
    fake.commit_failures = [500] * 10
    _, provider = _multipart(kit, fake, retry_attempts=2)
    with pytest.raises(batchkit.ServerError):
        provider.upload_file("7", "big.pdf", DATA)
    assert ["commit", "commit", "abort"] == [a["action"] for a in fake.actions]


def test_a_commit_whose_response_was_lost_is_not_reported_as_a_failure(kit):
    """Commit applied but its response lost, retry meets 404 (session closed): success."""
    fake = FakeMultipart()
    fake.commit_failures = [httpx.ReadError, 404]
    _, provider = _multipart(kit, fake)
    assert BatchFile(name="big.pdf", size=len(DATA)) == provider.upload_file("7", "big.pdf", DATA)
    assert ["commit", "commit"] == [a["action"] for a in fake.actions]


def test_a_multipart_start_whose_response_was_lost_is_not_repeated(kit):
    """Starting a session may have worked: a ReadError is not retried (no stray session)."""
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("lost", request=request)

    rec = kit.Recorder(handle)
    provider = kit.aihub(rec.transport, multipart_threshold=THRESHOLD)
    with pytest.raises(batchkit.TransportError):
        provider.upload_file("7", "big.pdf", DATA)
    assert [("POST", "/api/v2/batches/multipart-upload")] == rec.lines


@pytest.mark.parametrize("kind", ["path", "seekable-stream", "unseekable-stream", "bytearray"])
def test_multipart_reads_every_kind_of_source(kit, tmp_path, kind):
    """Paths, seekable and unseekable streams and bytearrays upload the same bytes."""
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._inner = io.BytesIO(DATA)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    path = tmp_path / "big.pdf"
    path.write_bytes(DATA)
    source = {
        "path": path,
        "seekable-stream": io.BytesIO(DATA),
        "unseekable-stream": io.BufferedReader(Pipe()),
        "bytearray": bytearray(DATA),
    }[kind]
    fake = FakeMultipart()
    _, provider = _multipart(kit, fake, part_concurrency=2)
    provider.upload_file("7", "big.pdf", source)
    assert DATA == fake.assembled


# -- jobs --------------------------------------------------------------------------------


def _job_server(kit, states: list[str], *, message: str | None = None):
    polls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(202, json={"job_id": "job-1"})
        polls.append(request.url.path)
        state = states[min(len(polls), len(states)) - 1]
        return httpx.Response(200, json={"state": state, "message": message})

    return kit.Recorder(handle), polls


def test_delete_batch_waits_through_pending_and_running_to_complete(kit):
    """wait=True polls PENDING → RUNNING → COMPLETE, sleeping with growing waits."""
    rec, polls = _job_server(kit, ["PENDING", "RUNNING", "COMPLETE"])
    provider = kit.aihub(rec.transport)
    sleeps: list[float] = []
    provider.sleep = sleeps.append
    job = provider.delete_batch("7")
    assert Job(provider="aihub", id="job-1", state=JobState.COMPLETE) == job
    assert ["/api/v2/jobs/job-1"] * 3 == polls
    assert [0.2, 0.4] == sleeps


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_or_cancelled_job_raises_job_failed(kit, state):
    """A job ending FAILED or CANCELLED is JobFailed carrying the job and its message."""
    rec, _ = _job_server(kit, ["RUNNING", state], message="drive disconnected")
    provider = kit.aihub(rec.transport)
    provider.sleep = lambda seconds: None
    with pytest.raises(JobFailed) as info:
        provider.delete_batch("7")
    assert (JobState[state], "drive disconnected") == (info.value.job.state,
                                                       info.value.job.message)
    assert "drive disconnected" in str(info.value)


def test_a_job_that_never_finishes_times_out(kit):
    """With timeout=0 one poll is made and JobTimeout carries the last state."""
    rec, polls = _job_server(kit, ["RUNNING"])
    provider = kit.aihub(rec.transport)
    provider.sleep = lambda seconds: pytest.fail("must not sleep past the deadline")
    with pytest.raises(JobTimeout) as info:
        provider.delete_batch("7", timeout=0)
    assert (JobState.RUNNING, 1) == (info.value.job.state, len(polls))


def test_wait_times_out_on_a_fake_clock_without_sleeping_past_the_deadline():
    """Waits double from `initial`, the last one is cut to the deadline, then JobTimeout."""
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    polls = []

    def poll() -> Job:
        polls.append(now[0])
        return Job(provider="aihub", id="j", state=JobState.RUNNING)

    with pytest.raises(JobTimeout, match="still RUNNING after 2s"):
        wait(poll, timeout=2, initial=0.5, maximum=5, sleep=sleep, clock=lambda: now[0])
    assert [0.5, 1.0, 0.5] == sleeps
    assert [0.0, 0.5, 1.5, 2.0] == polls


def test_wait_never_waits_longer_than_maximum():
    """Doubling stops at `maximum`."""
    states = iter(["PENDING"] * 5 + ["COMPLETE"])
    sleeps: list[float] = []
    job = wait(
        lambda: Job(provider="p", id="j", state=JobState(next(states))),
        timeout=1000, initial=1, maximum=3, sleep=sleeps.append, clock=lambda: 0.0,
    )
    assert (JobState.COMPLETE, [1, 2, 3, 3, 3]) == (job.state, sleeps)


def test_delete_batch_without_waiting_returns_the_job_unpolled(kit):
    """wait=False returns the pending Job and sends no poll."""
    rec, polls = _job_server(kit, ["COMPLETE"])
    job = kit.aihub(rec.transport).delete_batch("7", wait=False)
    assert (Job(provider="aihub", id="job-1"), []) == (job, polls)


def test_delete_file_job_comes_from_the_location_header_and_is_polled_there(kit):
    """A relative Location is made absolute; its last segment is the job id."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(202, headers={"Location": "/api/v2/batches/jobs/j9"})
        return httpx.Response(200, json={"state": "COMPLETE"})

    rec = kit.Recorder(handle)
    provider = kit.aihub(rec.transport)
    job = provider.delete_file("7", "a.pdf", wait=False)
    assert Job(provider="aihub", id="j9", url=f"{ROOT}/v2/batches/jobs/j9") == job
    assert JobState.COMPLETE == provider.wait_job(job).state
    assert ("GET", "/api/v2/batches/jobs/j9") == rec.lines[-1]


def test_a_location_that_is_a_bare_job_id_is_polled_at_the_jobs_endpoint(kit):
    """The docs also call the Location value "<JOB_ID>": a bare id is polled at jobs/<id>,
    not resolved against the file's URL."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(202, headers={"Location": "3f2a-77"})
        return httpx.Response(200, json={"state": "COMPLETE"})

    rec = kit.Recorder(handle)
    provider = kit.aihub(rec.transport)
    job = provider.delete_file("7", "a.pdf", wait=False)
    assert ("3f2a-77", None) == (job.id, job.url)
    assert JobState.COMPLETE == provider.wait_job(job).state
    assert ("GET", "/api/v2/jobs/3f2a-77") == rec.lines[-1]


def test_a_202_without_job_id_or_location_is_a_provider_error(kit):
    """Nothing to poll is a server bug, reported as ProviderError."""
    rec = kit.Recorder(lambda request: httpx.Response(202))
    with pytest.raises(ProviderError, match="without a job id"):
        kit.aihub(rec.transport).delete_file("7", "a.pdf")


def test_an_unknown_job_state_is_a_provider_error(kit):
    """A state outside the documented five is reported, not looped on."""
    rec, _ = _job_server(kit, ["EXPLODED"])
    with pytest.raises(ProviderError, match="unknown job state 'EXPLODED'"):
        kit.aihub(rec.transport).delete_batch("7")


def test_delete_batch_retry_meeting_404_means_the_first_attempt_worked(kit):
    """DELETE's response lost, the retry meets 404: the batch is going; no error."""
    answers = iter(["lost", "gone"])

    def handle(request: httpx.Request) -> httpx.Response:
        if next(answers) == "lost":
            raise httpx.ReadError("lost", request=request)
        return httpx.Response(404, json={"message": "no such batch"})

    rec = kit.Recorder(handle)
    assert kit.aihub(rec.transport).delete_batch("7") is None
    assert 2 == len(rec.requests)


def test_get_job_accepts_a_bare_job_id(kit):
    """get_job("id") polls /v2/jobs/<id> (the spec's preferred poll) once."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json={"state": "RUNNING"}))
    job = kit.aihub(rec.transport).get_job("abc")
    assert (JobState.RUNNING, [("GET", "/api/v2/jobs/abc")]) == (job.state, rec.lines)


# -- downloads ---------------------------------------------------------------------------

BATCH = {
    "id": 7, "name": "b", "workspace": "ws", "mount_point": "Instabase Drive",
    "repo_owner": "org", "path_suffix": "file-batches/u-1",
}
FILE_PATH = "/api/v2/files/org/ws/fs/Instabase%20Drive/file-batches/u-1/doc.pdf"
CONTENT = bytes(range(97, 123)) * 3  # 78 bytes


def _fs_server(kit, *, honour_range: bool, chunk: int = 7):
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/batches/7":
            return httpx.Response(200, json=BATCH)
        assert FILE_PATH == request.url.raw_path.decode().split("?")[0]
        body, status, headers = CONTENT, 200, {}
        spec = request.headers.get("Range")
        if spec and honour_range:
            lo, _, hi = spec.removeprefix("bytes=").partition("-")
            end = int(hi) if hi else len(CONTENT) - 1
            body, status = CONTENT[int(lo) : end + 1], 206
            headers["Content-Range"] = f"bytes {lo}-{end}/{len(CONTENT)}"
        pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
        return httpx.Response(status, content=iter(pieces), headers=headers)

    return kit.Recorder(handle)


def test_ranged_download_sends_range_and_accepts_206(kit):
    """start/end become `Range: bytes=start-end` and the 206 body is returned as is."""
    rec = _fs_server(kit, honour_range=True)
    data = kit.aihub(rec.transport).download_file("7", "doc.pdf", start=2, end=5)
    assert CONTENT[2:6] == data
    assert "bytes=2-5" == rec.requests[-1].headers["Range"]


def test_whole_file_download_sends_no_range(kit):
    """Without start/end there is no Range header and the whole file comes back."""
    rec = _fs_server(kit, honour_range=True)
    assert CONTENT == kit.aihub(rec.transport).download_file("7", "doc.pdf")
    assert "Range" not in rec.requests[-1].headers


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(CONTENT) - 1), st.one_of(st.none(), st.integers(0, 100)),
       st.integers(1, 20), st.booleans())
def test_a_server_ignoring_range_still_yields_the_exact_slice(kit, start, extra, chunk, honour):
    """Whether the server answers 206 or the whole file with 200, the slice is exact."""
    end = None if extra is None else start + extra
    rec = _fs_server(kit, honour_range=honour, chunk=chunk)
    with kit.aihub(rec.transport) as provider:
        data = provider.download_file("7", "doc.pdf", start=start, end=end)
    assert CONTENT[start : None if end is None else end + 1] == data


def test_download_into_a_stream_or_path_returns_the_byte_count(kit, tmp_path):
    """With `dest` the bytes are streamed there and their number returned."""
    rec = _fs_server(kit, honour_range=False)
    provider = kit.aihub(rec.transport)
    sink = io.BytesIO()
    assert 10 == provider.download_file("7", "doc.pdf", sink, start=3, end=12)
    assert CONTENT[3:13] == sink.getvalue()
    target = tmp_path / "out.pdf"
    assert len(CONTENT) == provider.download_file("7", "doc.pdf", target)
    assert CONTENT == target.read_bytes()


def test_the_batch_folder_is_looked_up_once_per_batch(kit):
    """The batch's storage path is fetched once, then remembered."""
    rec = _fs_server(kit, honour_range=True)
    provider = kit.aihub(rec.transport)
    provider.download_file("7", "doc.pdf")
    provider.download_file("7", "doc.pdf", start=1)
    assert 1 == rec.lines.count(("GET", "/api/v2/batches/7"))


def test_a_batch_without_storage_fields_cannot_be_downloaded_from(kit):
    """No repo_owner / mount_point: a clear BatchkitError, no Filesystem request."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json={"id": 7, "name": "b"}))
    with pytest.raises(batchkit.BatchkitError, match="has no storage path"):
        kit.aihub(rec.transport).download_file("7", "doc.pdf")
    assert [("GET", "/api/v2/batches/7")] == rec.lines


# -- list_files --------------------------------------------------------------------------


def _file_pages(kit, pages: dict[str | None, tuple[list[str], str | None, bool]]):
    def handle(request: httpx.Request) -> httpx.Response:
        names, token, more = pages[request.url.params.get("start_token")]
        nodes = [{"name": n, "full_path": f"/b/{n}", "metadata": {"size": len(n),
                  "modified_timestamp": 1700000000}} for n in names]
        return httpx.Response(200, json={"nodes": nodes, "next_page_token": token,
                                         "has_more": more})

    return kit.Recorder(handle)


def test_list_files_follows_page_tokens_to_the_end(kit):
    """Every page is fetched in turn, passing the previous page's token."""
    rec = _file_pages(kit, {
        None: (["a.pdf", "b.pdf"], "t1", True),
        "t1": (["c.pdf", "d.pdf"], "t2", True),
        "t2": (["e.pdf"], None, False),
    })
    files = list(kit.aihub(rec.transport).list_files("7", page_size=2))
    assert ["a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf"] == [f.name for f in files]
    assert [None, "t1", "t2"] == [r.url.params.get("start_token") for r in rec.requests]
    assert ["2", "2", "2"] == [r.url.params["page_size"] for r in rec.requests]
    assert datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC) == files[0].modified_at


def test_list_files_raises_on_a_repeated_page_token_instead_of_looping(kit):
    """A server repeating its token is a ProviderError after the pages it did send."""
    rec = _file_pages(kit, {None: (["a.pdf"], "same", True), "same": (["b.pdf"], "same", True)})
    seen = []
    with pytest.raises(ProviderError, match="repeated page token 'same'"):
        seen.extend(f.name for f in kit.aihub(rec.transport).list_files("7"))
    assert (["a.pdf", "b.pdf"], 2) == (seen, len(rec.requests))


def test_list_files_stops_when_has_more_comes_without_a_token(kit):
    """`has_more: true` with no token cannot be followed: the listing ends."""
    rec = _file_pages(kit, {None: (["a.pdf"], None, True)})
    assert ["a.pdf"] == [f.name for f in kit.aihub(rec.transport).list_files("7")]
    assert 1 == len(rec.requests)


def test_list_files_is_lazy(kit):
    """No request is sent until the iterator is consumed; one page per need."""
    rec = _file_pages(kit, {None: (["a.pdf"], "t1", True), "t1": (["b.pdf"], None, False)})
    files = kit.aihub(rec.transport).list_files("7")
    assert 0 == len(rec.requests)
    assert "a.pdf" == next(files).name
    assert 1 == len(rec.requests)


# -- list_batches ------------------------------------------------------------------------


def _batch_server(kit, total: int, *, ignore_limit: bool = False):
    def handle(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        ids = range(total) if ignore_limit else range(offset, min(offset + limit, total))
        batches = [{"id": i, "name": f"b{i}", "created_at_ms": 1_700_000_000_000 + i * 1000}
                   for i in ids]
        return httpx.Response(200, json={"batches": batches})

    return kit.Recorder(handle)


def _pages(rec) -> list[tuple[str, str]]:
    return [(r.url.params["offset"], r.url.params["limit"]) for r in rec.requests]


@pytest.mark.parametrize(
    ("total", "pages"),
    [(250, [("0", "100"), ("100", "100"), ("200", "100")]),
     (200, [("0", "100"), ("100", "100"), ("200", "100")]),
     (0, [("0", "100")])],
)
def test_list_batches_pages_by_offset_until_a_short_page(kit, total, pages):
    """Offsets advance by the page size until a page comes back short."""
    rec = _batch_server(kit, total)
    batches = list(kit.aihub(rec.transport).list_batches())
    assert [str(i) for i in range(total)] == [b.id for b in batches]
    assert pages == _pages(rec)


def test_list_batches_with_a_limit_asks_for_no_more_than_needed(kit):
    """limit=5 asks for a page of 5 and stops there."""
    rec = _batch_server(kit, 250)
    batches = list(kit.aihub(rec.transport).list_batches(limit=5))
    assert (["0", "1", "2", "3", "4"], [("0", "5")]) == ([b.id for b in batches], _pages(rec))


def test_list_batches_with_a_limit_above_the_page_size_spans_pages(kit):
    """limit=150 reads two pages of 100 and yields 150."""
    rec = _batch_server(kit, 250)
    batches = list(kit.aihub(rec.transport).list_batches(limit=150))
    assert (150, [("0", "100"), ("100", "100")]) == (len(batches), _pages(rec))


def test_list_batches_stops_when_the_server_ignores_limit(kit):
    """A server sending everything at once is read once, not re-paged forever."""
    rec = _batch_server(kit, 250, ignore_limit=True)
    assert 250 == len(list(kit.aihub(rec.transport).list_batches()))
    assert 1 == len(rec.requests)


def test_list_batches_passes_workspace_and_owner_and_filters_times_locally(kit):
    """project → workspace, owner → username; created_after is applied client-side."""
    rec = _batch_server(kit, 10)
    after = datetime.fromtimestamp(1_700_000_007, tz=UTC)
    batches = list(kit.aihub(rec.transport).list_batches(
        project="ws", owner="me", created_after=after
    ))
    assert ["7", "8", "9"] == [b.id for b in batches]
    params = rec.requests[0].url.params
    assert ("ws", "me") == (params["workspace"], params["username"])


def test_list_batches_for_a_state_ai_hub_lacks_is_empty_without_a_request(kit):
    """AI Hub batches are always OPEN: asking for STAGING sends nothing."""
    rec = _batch_server(kit, 10)
    provider = kit.aihub(rec.transport)
    assert [] == list(provider.list_batches(state=BatchState.STAGING))
    assert [] == rec.requests
    assert 10 == len(list(provider.list_batches(state=BatchState.OPEN)))


def test_aihub_status_is_open_without_counts(kit):
    """AI Hub has no task counts: status is OPEN with counts None."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json=BATCH))
    status = kit.aihub(rec.transport).status("7")
    assert ("7", BatchState.OPEN, None) == (status.batch_id, status.state, status.counts)


@pytest.mark.parametrize("last_token", [{"next_page_token": None}, {"next_page_token": ""}, {}])
def test_the_last_file_page_may_end_with_a_null_empty_or_absent_token(kit, last_token):
    """The spec says next_page_token is a string; servers send null, "" or omit it: all end
    the listing."""
    pages = iter([
        {"nodes": [{"name": "a.pdf", "metadata": {"size": 1}}], "next_page_token": "t1",
         "has_more": True},
        {"nodes": [{"name": "b.pdf", "metadata": {"size": 2}}], "has_more": False, **last_token},
    ])
    rec = kit.Recorder(lambda request: httpx.Response(200, json=next(pages)))
    assert ["a.pdf", "b.pdf"] == [f.name for f in kit.aihub(rec.transport).list_files("7")]
    assert 2 == len(rec.requests)
