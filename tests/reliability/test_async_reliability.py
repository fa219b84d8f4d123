"""Async reliability: the async client (`batchkit.connect_async`) keeps the sync client's
promises, on asyncio and on trio.

- a cancelled multipart upload (scope cancelled, deadline, asyncio task.cancel, trio
  cancel scope) aborts its session at the vendor, and the cancellation goes on; a cleanup
  may take several steps, and one cut short by `CLEANUP_SECONDS` is not taken for done;
- a cancelled download to a path leaves the old file and no partial one;
- a cancelled bulk upload leaves its journal and files closed, the journal valid, and the
  rerun sends only what is missing;
- a small fault soak: every file byte-exact or reported failed with a real cause, nothing
  duplicated;
- no credential in any error, repr or log line;
- bad input is refused at the call (a listing: before it is iterated), before any request.

Requests are held deterministically (the emulator's latency `sleep`, or a transport that
holds matching requests until cancelled), never by timing.
"""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import base64
import collections
import inspect
import json
import logging
import math
import os
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import httpx
import pytest
import stamina
from anyio.streams.memory import MemoryObjectReceiveStream

import batchkit
import batchkit._adrive as adrive
from batchkit import BatchkitError, ConfigError, InvalidInput, UnsupportedOperation
from batchkit._flow import Flow, Sleep
from batchkit.emulator import Emulator, Fault, Faults, Latency
from benchmarks.soak import (
    TENANT,
    SoakConfig,
    explained,
    fault_rules,
    server_files,
    write_files,
)

if TYPE_CHECKING:
    from batchkit._http import AsyncHttpSession

pytestmark = pytest.mark.anyio

KiB = 1024
#: the emulator's multipart part size, and the client's threshold: 300 KB is five parts
PART = 64 * KiB
BIG = 300_000

linux_fds = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="counts open descriptors through /proc"
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every test runs on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No batchkit.toml, profile or vendor variable of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator of its own, reached in process, with 64 KiB multipart parts."""
    with Emulator(job_polls=1, part_size=PART) as emu:
        yield emu


def hub(
    emu: Emulator, transport: httpx.AsyncBaseTransport | None = None, **settings: Any
) -> batchkit.AsyncBatchProvider:
    """Async AI Hub through the in-process emulator (or `transport` in front of it)."""
    options: dict[str, Any] = {
        "api_root": emu.aihub_api_root,
        "token": "async-reliability",
        "transport": transport or Gate(emu.async_transport()),
        "multipart_threshold": PART,
        "poll_initial": 0.0,
        **settings,
    }
    return batchkit.connect_async("aihub", **options)


class Gate(httpx.AsyncBaseTransport):
    """A transport in front of the emulator that holds every request `hold` picks (it never
    reaches the vendor) until the request is cancelled; each held request's (method, path)
    is announced on `arrivals`. Every request it lets through passes a checkpoint first, as
    one over a socket would (the in-process transport may run a request without any), so a
    request sent unshielded in a cancelled scope is cancelled."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        hold: Callable[[httpx.Request], bool] = lambda request: False,
    ) -> None:
        self.inner = inner
        self.hold = hold
        self._announce, self.arrivals = anyio.create_memory_object_stream[tuple[str, str]](math.inf)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.hold(request):
            self._announce.send_nowait((request.method, request.url.path))
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self._announce.close()
        self.arrivals.close()
        await self.inner.aclose()


@pytest.fixture
def holding() -> Iterator[tuple[Emulator, MemoryObjectReceiveStream[None]]]:
    """An emulator whose latency holds each delayed request (before the vendor sees it)
    until the request is cancelled, and the stream announcing each one as it is held. It
    has no latency until a test sets one."""
    announce, arrivals = anyio.create_memory_object_stream[None](math.inf)

    async def hold(seconds: float) -> None:
        announce.send_nowait(None)
        await anyio.sleep_forever()

    with Emulator(part_size=PART, sleep=hold) as emu:
        yield emu, arrivals


async def arrivals_of(stream: MemoryObjectReceiveStream[Any], count: int) -> list[Any]:
    """The next `count` announcements (waits for them)."""
    return [await stream.receive() for _ in range(count)]


class Outcome:
    """How a call run as a task ended: "returned", or the exception it raised."""

    def __init__(self) -> None:
        self.ended: str | BaseException | None = None

    def run(self, call: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        async def task() -> None:
            try:
                await call()
            except BaseException as e:
                self.ended = e
                raise
            self.ended = "returned"

        return task


def events(journal: Path) -> list[tuple[str, str]]:
    """(event, file name) of every journal line; each line must be a whole JSON object."""
    text = journal.read_text(encoding="utf-8")
    assert text.endswith("\n")  # no line cut short
    entries = [json.loads(line) for line in text.splitlines()]
    assert [1] * len(entries) == [e["v"] for e in entries]
    return [(e["event"], e["name"]) for e in entries]


def open_descriptors(path: Path) -> int:
    """How many file descriptors of this process are open on `path`."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir itself used, closed since
            continue
        count += target == str(path)
    return count


# -- 1. cancellation leaves no multipart session open ---------------------------------------


@pytest.mark.parametrize("how", ["cancel-scope", "deadline"])
async def test_cancelling_a_multipart_upload_file_aborts_its_session(
    holding: tuple[Emulator, MemoryObjectReceiveStream[None]], how: str
) -> None:
    """Parts 1-2 landed, parts 3-4 in flight: a cancelled scope (or a deadline that
    passes) aborts the session at the vendor, the call raises the cancellation (or
    TimeoutError) instead of returning, and nothing of the file is in the batch."""
    emu, arrivals = holding
    data = os.urandom(BIG)
    outcome = Outcome()
    async with hub(emu, part_concurrency=2) as p:
        batch = await p.create_batch("cancelled")
        emu.latency = Latency(fixed=1.0, methods="PUT", paths="*/parts/[3-9]")
        upload = outcome.run(lambda: p.upload_file(batch, "big.bin", data))
        open_while_held: list[str] = []
        timed_out = False
        if how == "cancel-scope":
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(upload)
                await arrivals_of(arrivals, 2)  # parts 3 and 4: 1 and 2 are done
                open_while_held = emu.aihub.open_sessions()
                tasks.cancel_scope.cancel()
        else:
            try:
                with anyio.fail_after(3600) as deadline:
                    async with anyio.create_task_group() as tasks:
                        tasks.start_soon(upload)
                        await arrivals_of(arrivals, 2)
                        open_while_held = emu.aihub.open_sessions()
                        deadline.deadline = anyio.current_time()  # the deadline passes now
            except TimeoutError:
                timed_out = True
        emu.latency = None
        files = [f.name async for f in p.list_files(batch)]

    assert 1 == len(open_while_held)
    assert isinstance(outcome.ended, anyio.get_cancelled_exc_class())
    assert (how == "deadline") == timed_out
    assert [] == emu.aihub.open_sessions()
    parts = [r for r in emu.requests if r.method == "PUT" and r.status == 201]
    assert ["1", "2"] == sorted(r.path.rsplit("/", 1)[1] for r in parts)
    session = f"/api/v2/batches/multipart-upload/sessions/{open_while_held[0]}"
    assert [("POST", 204)] == [(r.method, r.status) for r in emu.requests if r.path == session]
    assert [] == files


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_native_asyncio_task_cancel_aborts_the_session(
    holding: tuple[Emulator, MemoryObjectReceiveStream[None]],
) -> None:
    """`task.cancel()` on an asyncio task awaiting upload_file: the session is aborted and
    the task ends cancelled."""
    import asyncio

    emu, arrivals = holding
    async with hub(emu) as p:
        batch = await p.create_batch("asyncio-cancel")
        emu.latency = Latency(fixed=1.0, methods="PUT", paths="*/parts/*")
        task = asyncio.ensure_future(p.upload_file(batch, "big.bin", os.urandom(BIG)))
        await arrivals_of(arrivals, 1)
        open_while_held = emu.aihub.open_sessions()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        emu.latency = None

    assert 1 == len(open_while_held)
    assert task.cancelled()
    assert [] == emu.aihub.open_sessions()


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_a_native_trio_cancel_scope_aborts_the_session(
    holding: tuple[Emulator, MemoryObjectReceiveStream[None]],
) -> None:
    """A trio.CancelScope (not anyio's) cancelled around upload_file: the session is
    aborted and the scope caught its cancellation."""
    import trio

    emu, arrivals = holding
    outcome = Outcome()
    async with hub(emu) as p:
        batch = await p.create_batch("trio-cancel")
        emu.latency = Latency(fixed=1.0, methods="PUT", paths="*/parts/*")
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(outcome.run(lambda: p.upload_file(batch, "b.bin", b"x" * BIG)))
                await arrivals_of(arrivals, 1)
                open_while_held = emu.aihub.open_sessions()
                scope.cancel()
        emu.latency = None

    assert 1 == len(open_while_held)
    assert scope.cancelled_caught
    assert isinstance(outcome.ended, trio.Cancelled)
    assert [] == emu.aihub.open_sessions()


async def test_a_flows_cleanup_may_take_several_steps_after_a_cancellation() -> None:
    """The driver runs every step a cancelled flow takes to clean up (say, close a stream,
    then abort a session), shielded, then the cancellation goes on: on trio as on asyncio."""
    started = anyio.Event()

    async def sleep(seconds: float) -> None:  # the flow's first step waits until cancelled
        if seconds:
            started.set()
            await anyio.sleep_forever()
        await anyio.lowlevel.checkpoint()

    done: list[str] = []

    def flow() -> Flow[None]:
        try:
            yield Sleep(1.0)
        except BaseException:
            for step in ("close the stream", "abort the session"):
                yield Sleep(0.0)
                done.append(step)
            raise

    driver = adrive.AsyncDriver(cast("AsyncHttpSession", None), sleep=sleep)  # no requests
    outcome = Outcome()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(outcome.run(lambda: driver.run(flow())))
        await started.wait()
        tasks.cancel_scope.cancel()

    assert ["close the stream", "abort the session"] == done
    assert isinstance(outcome.ended, anyio.get_cancelled_exc_class())


async def test_a_cleanup_cut_short_leaves_the_session_journaled_open_for_the_resume(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the abort cannot finish within CLEANUP_SECONDS (here it is held forever), the
    cancellation still goes on, and the journal must not claim the session closed: it
    still shows it open, so the resumed upload aborts it and sends the file again."""
    monkeypatch.setattr(adrive, "CLEANUP_SECONDS", 0.05)
    data = os.urandom(BIG)
    (tmp_path / "big.bin").write_bytes(data)
    journal = tmp_path / "upload.journal"
    gate = Gate(
        emu.async_transport(),
        lambda r: "/multipart-upload/sessions/" in r.url.path,  # parts, commit, abort
    )
    outcome = Outcome()
    with anyio.fail_after(60):  # a cleanup that is never cut short would hang here
        async with hub(emu, transport=gate) as p:
            batch = await p.create_batch("cut-short")
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(
                    outcome.run(lambda: p.upload(batch, tmp_path / "big.bin", resume=journal))
                )
                await gate.arrivals.receive()  # a part is in flight
                tasks.cancel_scope.cancel()

    assert isinstance(outcome.ended, anyio.get_cancelled_exc_class())
    assert 1 == len(emu.aihub.open_sessions())  # the abort never reached the vendor
    assert [("session_opened", "big.bin")] == events(journal)

    async with hub(emu) as p:
        report = await p.upload(batch, tmp_path / "big.bin", resume=journal, strict=True)
        stored = await p.download_file(batch, "big.bin")

    assert ["big.bin"] == [f.name for f in report.uploaded]
    assert [] == emu.aihub.open_sessions()
    assert data == stored


async def test_a_cancelled_download_to_a_path_leaves_the_old_file_and_no_partial_one(
    emu: Emulator, tmp_path: Path
) -> None:
    """download_file(..., dest) cancelled while the read is in flight: the cancellation goes
    on, the file already at `dest` is untouched and no temporary file is left beside it."""
    gate = Gate(
        emu.async_transport(), lambda r: r.method == "GET" and r.url.path.endswith("/a.pdf")
    )
    dest = tmp_path / "a.pdf"
    dest.write_bytes(b"the old copy")
    outcome = Outcome()
    async with hub(emu, transport=gate) as p:
        batch = await p.create_batch("download")
        await p.upload_file(batch, "a.pdf", b"%PDF new")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(outcome.run(lambda: p.download_file(batch, "a.pdf", dest)))
            await gate.arrivals.receive()
            tasks.cancel_scope.cancel()

    assert isinstance(outcome.ended, anyio.get_cancelled_exc_class())
    assert ["a.pdf"] == sorted(path.name for path in tmp_path.iterdir())
    assert b"the old copy" == dest.read_bytes()


# -- 2. a cancelled bulk upload resumes ------------------------------------------------------


@linux_fds
async def test_a_cancelled_bulk_upload_closes_its_journal_and_the_rerun_sends_only_the_rest(
    emu: Emulator, tmp_path: Path
) -> None:
    """Ten files, two at a time: f00-f02 done, f03 (multipart) and f04 in flight, f05-f09
    not started, when the upload is cancelled. The journal and the files in flight are
    closed, the journal is whole and names what was done; the session of f03 is aborted;
    the rerun skips f00-f02, sends each other file once, and the batch holds every file
    byte-exact."""
    folder = tmp_path / "scans"
    folder.mkdir()
    contents = {f"f{i:02d}.bin": os.urandom(BIG if i == 3 else 1000 + i * 37) for i in range(10)}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    journal = tmp_path / "upload.journal"

    def in_flight(request: httpx.Request) -> bool:
        path = request.url.path
        return request.method == "PUT" and ("/parts/" in path or path.endswith("/f04.bin"))

    gate = Gate(emu.async_transport(), in_flight)
    outcome = Outcome()
    async with hub(emu, transport=gate) as p:
        batch = await p.create_batch("cancelled-bulk")
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(
                outcome.run(lambda: p.upload(batch, folder, concurrency=2, resume=journal))
            )
            held: set[str] = set()
            async for _, path in gate.arrivals:
                held.add("f03 part" if "/parts/" in path else path.rsplit("/", 1)[1])
                if held == {"f03 part", "f04.bin"}:
                    break
            descriptors_while_running = open_descriptors(journal)
            tasks.cancel_scope.cancel()
        descriptors_after = open_descriptors(journal)
        sources_open = [open_descriptors(folder / name) for name in ("f03.bin", "f04.bin")]
        first_run = sorted([f.name async for f in p.list_files(batch)])

    done = ["f00.bin", "f01.bin", "f02.bin"]
    rest = sorted(set(contents) - set(done))
    assert isinstance(outcome.ended, anyio.get_cancelled_exc_class())
    assert (1, 0) == (descriptors_while_running, descriptors_after)
    assert [0, 0] == sources_open  # the files in flight were closed too
    assert done == first_run
    assert [] == emu.aihub.open_sessions()
    # files finish in any order: the journal is compared as a set of lines
    assert sorted(
        [
            *[("uploaded", name) for name in done],
            ("session_opened", "f03.bin"),
            ("session_closed", "f03.bin"),
        ]
    ) == sorted(events(journal))

    sent_before = len(emu.requests)
    async with hub(emu) as p:
        report = await p.upload(batch, folder, concurrency=2, resume=journal, strict=True)
        stored = {f.name: await p.download_file(batch, f.name) async for f in p.list_files(batch)}
    rerun = emu.requests[sent_before:]

    assert done == [f.name for f in report.skipped]
    assert rest == [f.name for f in report.uploaded]
    single_puts = collections.Counter(
        r.path.rsplit("/", 1)[1] for r in rerun if r.method == "PUT" and "/parts/" not in r.path
    )
    assert dict.fromkeys(set(rest) - {"f03.bin"}, 1) == dict(single_puts)
    starts = [r for r in rerun if r.path == "/api/v2/batches/multipart-upload"]
    assert 1 == len(starts)
    assert contents == stored
    assert [] == emu.aihub.open_sessions()


# -- 3. a fault soak on the async client ----------------------------------------------------

SOAK = SoakConfig(files=32, seed=20261203, timeout=1.0, concurrency=8)


@pytest.mark.slow
async def test_async_fault_soak_ends_byte_exact_with_nothing_duplicated(
    tmp_path: Path,
) -> None:
    """Upload under ~20% faulted requests (5xx, 503 with Retry-After, 429, resets, lost,
    cut and late answers) through connect_async, resuming until complete. In every pass a
    file reported uploaded or skipped is on the server byte-exact and a failed one cites an
    injected fault; at the end every file is there byte-exact, listed once, no session is
    open, one batch exists, and no request was retried past retry_attempts."""
    local = write_files(SOAK, tmp_path / "files")
    journal = tmp_path / "upload.journal"
    rules = [
        Fault.status(503, retry_after=1, times=1),  # the first request waits out a Retry-After
        Fault.lost_response(methods="PUT", paths="*/parts/*", times=2),
        # one of each kind the soak must have seen, certain: this soak's ~150 requests
        # would otherwise miss a kind at these rates about one run in ten
        Fault.status(500, methods="GET", times=1),
        Fault.rate_limit(methods="GET", retry_after=0, times=1),
        Fault.reset(methods="GET", times=1),
        *fault_rules(SOAK),
    ]
    false_successes: list[str] = []
    unexplained: list[str] = []
    most_puts = 0
    passes = 0
    with (
        stamina.set_testing(False),  # retries wait as a real client's do, Retry-After included
        Emulator(job_polls=1, part_size=SOAK.part_size).serve() as emu,
    ):
        async with batchkit.connect_async(
            "aihub",
            api_root=emu.aihub_api_root,
            token=TENANT,
            multipart_threshold=SOAK.threshold,
            timeout=SOAK.timeout,
            retry_attempts=SOAK.retry_attempts,
            retry_wait_initial=0.01,
            retry_wait_max=0.05,
            retry_timeout=60.0,
        ) as p:
            batch = await p.create_batch("soak")  # AI Hub creates are not idempotent
            emu.faults = Faults(seed=SOAK.seed, rules=rules)
            report: batchkit.UploadReport | None = None
            while passes < SOAK.max_passes and (report is None or not report.ok):
                passes += 1
                first = len(emu.requests)
                report = await p.upload(
                    batch,
                    tmp_path / "files",
                    concurrency=SOAK.concurrency,
                    verify="sha256",
                    resume=journal,
                )
                log = emu.requests[first:]
                on_server = server_files(emu, batch.id)
                for f in report.files:
                    if (
                        f.status in ("uploaded", "skipped")
                        and on_server.get(f.name) != local[f.name]
                    ):
                        false_successes.append(f"pass {passes}: {f.name}")
                    if f.status == "failed" and not explained(f.reason or "", log):
                        unexplained.append(f"pass {passes}: {f.name}: {f.reason}")
                puts = collections.Counter(r.path for r in log if r.method == "PUT")
                most_puts = max([most_puts, *puts.values()])
            listed = [f.name async for f in p.list_files(batch, page_size=7)]
            emu.faults = None
            batches = [b.name async for b in p.list_batches()]
        final = server_files(emu, batch.id)
        faults = {r.fault for r in emu.requests if r.fault is not None}
        open_sessions = emu.aihub.open_sessions()

    assert report is not None
    assert (True, []) == (report.ok, report.failed)
    assert [] == false_successes
    assert [] == unexplained
    assert local == final
    assert sorted(local) == sorted(listed)  # every file listed, and listed once
    assert [] == open_sessions
    assert ["soak"] == batches
    assert most_puts <= SOAK.retry_attempts
    assert set() == {"503", "429", "500", "reset", "lost_response", "drop", "slow"} - faults


# -- 4. no credential leaks from the async client ------------------------------------------

TOKEN = "tok-async-secret-0123456789"
SECRETS = (
    TOKEN,
    base64.b64encode(f"{TOKEN}:".encode()).decode(),
    base64.b64encode(TOKEN.encode()).decode(),
)


def assert_clean(text: str) -> None:
    """No form of the credential appears in `text`."""
    for secret in SECRETS:
        assert secret not in text


def error_text(error: BaseException) -> str:
    """Everything an exception shows: str, repr, args, its chain and the traceback."""
    return "\n".join(
        [str(error), repr(error), repr(error.args), *traceback.format_exception(error)]
    )


@asynccontextmanager
async def caught(errors: list[BaseException]) -> AsyncIterator[None]:
    """The block must fail with a BatchkitError; keep it."""
    with pytest.raises(BatchkitError) as info:
        yield
    errors.append(info.value)


@pytest.fixture
def served() -> Iterator[tuple[Emulator, Emulator]]:
    """Over loopback: an emulator accepting any token, and one accepting only "other"."""
    with Emulator(job_polls=1).serve() as open_emu, Emulator(tokens={"other"}).serve() as closed:
        yield open_emu, closed


async def test_async_errors_reprs_and_logs_never_show_the_token(
    served: tuple[Emulator, Emulator], caplog: pytest.LogCaptureFixture
) -> None:
    """Retries, 404s, a 409, retries run out, 401s, a multipart upload: every error (with
    its chain and traceback), every repr and every DEBUG log line is free of the token."""
    emu, closed = served
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    async with (
        batchkit.connect_async(
            "aihub",
            api_root=emu.aihub_api_root,
            token=TOKEN,
            poll_initial=0.0,
            multipart_threshold=PART,
        ) as hub_p,
        batchkit.connect_async("scale", api_root=emu.scale_api_root, api_key=TOKEN) as scale_p,
    ):
        emu.faults = Faults(rules=[Fault.status(503, times=2), Fault.rate_limit(times=1)])
        batch = await hub_p.create_batch("secrets")
        await hub_p.upload_file(batch, "a.pdf", b"%PDF-1.7 secret-free")
        await hub_p.upload_file(batch, "big.bin", b"x" * BIG)
        await scale_p.create_project("secrets", type="imageannotation")  # type: ignore[attr-defined]
        emu.faults = None
        await scale_p.create_batch("secrets-batch", project="secrets")
        async with caught(errors):
            await hub_p.get_batch("999999")
        async with caught(errors):
            await hub_p.download_file(batch, "missing.pdf")
        async with caught(errors):
            await hub_p.delete_file(batch, "missing.pdf")
        async with caught(errors):
            await scale_p.get_batch("missing")
        async with caught(errors):
            await scale_p.create_batch("secrets-batch", project="secrets")  # 409
        emu.faults = Faults(rules=[Fault.status(503)])
        async with caught(errors):
            await hub_p.get_batch(batch)  # retries run out
        async with caught(errors):
            _ = [b async for b in scale_p.list_batches()]
        emu.faults = None
        shown = [hub_p, scale_p, hub_p.settings, scale_p.settings, hub_p.http, scale_p.http]
    for name, secret in (("aihub", "token"), ("scale", "api_key")):
        root = closed.aihub_api_root if name == "aihub" else closed.scale_api_root
        async with batchkit.connect_async(name, api_root=root, **{secret: TOKEN}) as rejected:
            async with caught(errors):
                _ = [b async for b in rejected.list_batches()]
            assert isinstance(errors[-1], batchkit.AuthError)
            shown.append(rejected)

    assert 401 in {r.status for r in closed.requests}
    assert {"503", "429"} <= {r.fault for r in emu.requests}
    assert 9 == len(errors)
    for error in errors:
        assert_clean(error_text(error))
    for thing in shown:
        assert_clean(repr(thing))
        assert_clean(str(thing))
    assert any(r.name.startswith("batchkit") for r in caplog.records)
    assert_clean(caplog.text)
    for record in caplog.records:
        assert_clean(repr(vars(record)))


async def test_a_password_in_api_root_never_appears_in_an_async_transport_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`http://user:pass@127.0.0.1:<closed port>`: the connect failure names the host, and
    neither the password nor the token is in the error, its chain or the logs."""
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = "hunter2-async-secret"
    async with batchkit.connect_async(
        "aihub",
        api_root=f"http://user:{password}@127.0.0.1:{port}/api",
        token=TOKEN,
        retry_attempts=2,
    ) as p:
        with pytest.raises(batchkit.TransportError) as info:
            await p.get_batch("7")
        shown = error_text(info.value) + repr(p.http) + caplog.text

    assert "127.0.0.1" in str(info.value)
    assert password not in shown
    assert_clean(shown)


@pytest.mark.parametrize(("provider", "status"), [("aihub", 401), ("aihub", 500), ("scale", 403)])
async def test_a_vendor_error_echoing_the_credential_is_masked_in_the_async_error(
    provider: str, status: int
) -> None:
    """An error body quoting the Authorization header (AI Hub's bearer token, Scale's Basic
    form) and the raw credential is masked in the error's message, fields and chain."""

    def echo(request: httpx.Request) -> httpx.Response:
        text = f"bad credential {request.headers['Authorization']} ({TOKEN})"
        return httpx.Response(status, json={"message": text, "error": text})

    settings: dict[str, Any] = (
        {"api_root": "https://aihub.test/api", "token": TOKEN}
        if provider == "aihub"
        else {"api_root": "https://api.scale.test/v1", "api_key": TOKEN}
    )
    async with batchkit.connect_async(
        provider, transport=httpx.MockTransport(echo), retry_attempts=2, **settings
    ) as p:
        with pytest.raises(batchkit.ProviderError) as info:
            await p.get_batch("7")

    assert status == info.value.status
    assert_clean(f"{error_text(info.value)} {info.value.vendor_message}")


@pytest.mark.parametrize("suffix", ["\n", "\r\n"])
async def test_an_async_token_with_its_trailing_newline_is_never_echoed(
    served: tuple[Emulator, Emulator], caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    """A token read from a file with its newline fails cleanly, without the token."""
    emu, _ = served
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BatchkitError) as info:
        async with batchkit.connect_async(
            "aihub", api_root=emu.aihub_api_root, token=TOKEN + suffix
        ) as p:
            await p.get_batch("1")
    assert_clean(error_text(info.value))
    assert_clean(caplog.text)


# -- 5. bad input is refused at the call, before any request --------------------------------


def _aihub_refusals(folder: Path) -> dict[str, tuple[Callable[[Any], Any], type[BatchkitError]]]:
    """Label -> (a call with bad input on an async AI Hub provider, the error it must raise)."""
    path = "/me/ws/fs/drive/a.pdf"
    job = batchkit.Job(provider="aihub", id="j1")
    return {
        "create_batch name": (lambda p: p.create_batch(123), InvalidInput),
        "request method": (lambda p: p.request("G ET", "v2/batches"), InvalidInput),
        "create_batch project": (lambda p: p.create_batch("b", project=[1]), InvalidInput),
        "get_batch": (lambda p: p.get_batch("not-a-number"), InvalidInput),
        "list_batches state": (lambda p: p.list_batches(state="bogus"), InvalidInput),
        "list_batches limit": (lambda p: p.list_batches(limit=-1), InvalidInput),
        "list_batches date": (lambda p: p.list_batches(created_after="2024"), InvalidInput),
        "status": (lambda p: p.status(True), InvalidInput),
        "delete_batch": (lambda p: p.delete_batch("7", timeout=-1), InvalidInput),
        "upload_file name": (lambda p: p.upload_file("7", "a/b.pdf", b"x"), InvalidInput),
        "upload_file size": (lambda p: p.upload_file("7", "a.pdf", b"x", size=5), InvalidInput),
        "list_files batch": (lambda p: p.list_files(None), InvalidInput),
        "list_files page_size": (lambda p: p.list_files("7", page_size=0), InvalidInput),
        "delete_file": (lambda p: p.delete_file("7", ".."), InvalidInput),
        "download_file range": (
            lambda p: p.download_file("7", "a.pdf", start=5, end=2),
            InvalidInput,
        ),
        "download_file dest": (
            lambda p: p.download_file("7", "a.pdf", folder / "no-such-dir" / "a.pdf"),
            InvalidInput,
        ),
        "abort_upload_session": (lambda p: p.abort_upload_session("nope"), InvalidInput),
        "finalize": (lambda p: p.finalize("7"), UnsupportedOperation),
        "prioritize": (lambda p: p.prioritize("7", 20), UnsupportedOperation),
        "wait_job": (lambda p: p.wait_job(job, timeout=-1), InvalidInput),
        "upload missing": (lambda p: p.upload("7", folder / "missing.pdf"), InvalidInput),
        "upload concurrency": (lambda p: p.upload("7", folder, concurrency=0), InvalidInput),
        "upload verify": (lambda p: p.upload("7", folder, verify="md5"), InvalidInput),
        "upload resume": (lambda p: p.upload("7", folder, resume=folder), InvalidInput),
        "upload invalid": (lambda p: p.upload("7", folder, invalid="ignore"), InvalidInput),
        "get_job": (lambda p: p.get_job(5), InvalidInput),
        "batch_path": (lambda p: p.batch_path("x"), InvalidInput),
        "fs_read path": (lambda p: p.fs_read("relative.pdf"), InvalidInput),
        "fs_read range": (lambda p: p.fs_read(path, start=-1), InvalidInput),
        "fs_write": (lambda p: p.fs_write(path, b"x", overwrite="yes"), InvalidInput),
        "fs_head": (lambda p: p.fs_head("no-slash"), InvalidInput),
        "fs_delete": (lambda p: p.fs_delete(path, timeout=-1), InvalidInput),
        "add_tasks": (lambda p: p.add_tasks("7", []), UnsupportedOperation),
        "get_task": (lambda p: p.get_task("t1"), UnsupportedOperation),
        "list_tasks": (lambda p: p.list_tasks("7"), UnsupportedOperation),
        "cancel_task": (lambda p: p.cancel_task("t1"), UnsupportedOperation),
        "start no app": (lambda p: p.start("7"), InvalidInput),
        "start options": (lambda p: p.start("7", app="a", options={"x": 1}), InvalidInput),
        "get_run": (lambda p: p.get_run(5), InvalidInput),
        "wait timeout": (lambda p: p.wait("r1", timeout=-1), InvalidInput),
        "wait run": (lambda p: p.wait(batchkit.Run("scale", "b", "b")), InvalidInput),
        "results": (lambda p: p.results(["r1"]), InvalidInput),
        "download folder": (lambda p: p.download("7", "x\0"), InvalidInput),
        "download concurrency": (lambda p: p.download("7", folder, concurrency=0), InvalidInput),
    }


def _scale_refusals(folder: Path) -> dict[str, tuple[Callable[[Any], Any], type[BatchkitError]]]:
    """Label -> (a call with bad input on an async Scale provider, the error it must raise)."""
    job = batchkit.Job(provider="scale", id="j1")
    return {
        "create_batch": (lambda p: p.create_batch(5, project="p"), InvalidInput),
        "request path": (lambda p: p.request("GET", "tasks\r\n"), InvalidInput),
        "get_batch": (lambda p: p.get_batch(""), InvalidInput),
        "status": (lambda p: p.status(None), InvalidInput),
        "finalize": (lambda p: p.finalize([]), InvalidInput),
        "prioritize range": (lambda p: p.prioritize("b", 31), InvalidInput),
        "prioritize type": (lambda p: p.prioritize("b", "20"), InvalidInput),
        "list_batches state": (lambda p: p.list_batches(state="bogus"), InvalidInput),
        "list_batches limit": (lambda p: p.list_batches(limit=0), InvalidInput),
        "list_batches date": (lambda p: p.list_batches(created_before=5), InvalidInput),
        "list_batches detailed": (lambda p: p.list_batches(detailed="yes"), InvalidInput),
        "delete_batch": (lambda p: p.delete_batch("b"), UnsupportedOperation),
        "upload_file": (lambda p: p.upload_file("b", "a.pdf", b"x"), ConfigError),
        "list_files": (lambda p: p.list_files("b"), UnsupportedOperation),
        "delete_file": (lambda p: p.delete_file("b", "a.pdf"), UnsupportedOperation),
        "download_file": (lambda p: p.download_file("b", "a.pdf"), UnsupportedOperation),
        "abort_upload_session": (
            lambda p: p.abort_upload_session("https://x.test/s/1"),
            UnsupportedOperation,
        ),
        "wait_job": (lambda p: p.wait_job(job), UnsupportedOperation),
        "upload": (lambda p: p.upload("b", folder), ConfigError),
        "set_metadata": (lambda p: p.set_metadata("b", "not a mapping"), InvalidInput),
        "get_project": (lambda p: p.get_project(5), InvalidInput),
        "create_project": (lambda p: p.create_project("p", type=5), InvalidInput),
        "add_tasks specs": (lambda p: p.add_tasks("b", [{"type": "x"}]), InvalidInput),
        "add_tasks concurrency": (lambda p: p.add_tasks("b", [], concurrency=0), InvalidInput),
        "get_task": (lambda p: p.get_task(5), InvalidInput),
        "list_tasks state": (lambda p: p.list_tasks("b", state="bogus"), InvalidInput),
        "cancel_task": (lambda p: p.cancel_task("t1", clear_unique_id="yes"), InvalidInput),
        "start app": (lambda p: p.start("b", app="x"), InvalidInput),
        "get_run": (lambda p: p.get_run(None), InvalidInput),
        "wait": (lambda p: p.wait("b", timeout=float("inf")), InvalidInput),
        "results": (lambda p: p.results(""), InvalidInput),
        "download": (lambda p: p.download("b", folder), UnsupportedOperation),
    }


async def _refused(
    emu: Emulator,
    p: batchkit.AsyncBatchProvider,
    calls: dict[str, tuple[Callable[[Any], Any], type[BatchkitError]]],
) -> dict[str, str]:
    """Label -> "refused" if the call raised its error with a message at the call (a
    listing: before it is iterated) and sent nothing, else what happened."""
    outcomes: dict[str, str] = {}
    for label, (call, kind) in calls.items():
        before = len(emu.requests)
        try:
            started = call(p)
            if isinstance(started, AsyncIterator):
                outcomes[label] = "a listing that did not raise at the call"
                await started.aclose()  # type: ignore[attr-defined]
                continue
            await started
        except kind as e:
            sent = len(emu.requests) - before
            outcomes[label] = f"sent {sent} requests" if sent else "refused" if str(e) else "empty"
        except Exception as e:
            outcomes[label] = f"{type(e).__module__}.{type(e).__name__}: {e}"
        else:
            outcomes[label] = "accepted"
    return outcomes


async def test_every_async_aihub_operation_refuses_bad_input_before_any_request(
    emu: Emulator, tmp_path: Path
) -> None:
    """Each operation (and vendor extra) with bad input: InvalidInput, or UnsupportedOperation
    for what AI Hub lacks, when awaited (a listing: when called), and no request sent."""
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    calls = _aihub_refusals(tmp_path)
    async with hub(emu) as p:
        outcomes = await _refused(emu, p, calls)
    assert dict.fromkeys(calls, "refused") == outcomes
    assert 0 == len(emu.requests)


async def test_every_async_scale_operation_refuses_bad_input_before_any_request(
    emu: Emulator, tmp_path: Path
) -> None:
    """The same for Scale, whose file operations are all UnsupportedOperation."""
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    calls = _scale_refusals(tmp_path)
    async with batchkit.connect_async(
        "scale", api_root=emu.scale_api_root, api_key="k", transport=emu.async_transport()
    ) as p:
        outcomes = await _refused(emu, p, calls)
    assert dict.fromkeys(calls, "refused") == outcomes
    assert 0 == len(emu.requests)


def test_the_refusal_tables_cover_every_async_operation() -> None:
    """Each public operation of the async providers has at least one bad-input case."""
    from batchkit.providers.aihub import AsyncAIHubProvider
    from batchkit.providers.scale import AsyncScaleProvider

    local = {"supports", "require", "batch_id", "from_settings", "aclose"}
    for cls, calls, no_input in (
        (AsyncAIHubProvider, _aihub_refusals(Path()), set()),
        (AsyncScaleProvider, _scale_refusals(Path()), {"list_projects"}),
    ):
        operations = (
            {
                name
                for name in dir(cls)
                if not name.startswith("_") and inspect.isroutine(getattr(cls, name))
            }
            - local
            - no_input
        )
        covered = {label.split()[0] for label in calls}
        assert set() == operations - covered, cls.__name__
