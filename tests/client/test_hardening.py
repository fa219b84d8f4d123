"""Regression tests for the HTTP-layer holes hostile testing found: retries on a zero
Retry-After, one rule for "did my earlier attempt apply?", a real per-call deadline,
pagination that cannot loop forever, no untyped exception, and no credential in a message."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import gzip
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import batchkit
from batchkit import Conflict, NotFound, ProviderError, ServerError, TransportError

AIHUB_BATCH = {"id": 7, "name": "b", "workspace": "ws"}
SCALE_BATCH = {"name": "nightly", "project": "p", "status": "staging"}


def answers(*responses: httpx.Response | type[httpx.TransportError],
            then: Callable[[httpx.Request], httpx.Response] | None = None):
    """A handler answering with each response (or raising each error) in turn, then `then`."""
    pending = list(responses)

    def handle(request: httpx.Request) -> httpx.Response:
        if pending:
            answer = pending.pop(0)
            if isinstance(answer, httpx.Response):
                return answer
            raise answer("simulated", request=request)
        assert then is not None, f"unexpected request {request.method} {request.url}"
        return then(request)

    return handle


# -- 1. a zero (or nonsensical) Retry-After is a retry with the normal backoff -----------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("retry_after", ["0", "-5", "nan", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_zero_or_past_retry_after_is_retried(kit, status, retry_after):
    """`Retry-After: 0` (or negative, NaN, a date in the past) still means "retry"."""
    rec = kit.Recorder(answers(
        httpx.Response(status, headers={"Retry-After": retry_after}),
        then=lambda request: httpx.Response(200, json=AIHUB_BATCH),
    ))
    assert "7" == kit.aihub(rec.transport).get_batch("7").id
    assert 2 == len(rec.requests)


def test_a_503_retry_after_is_honoured_like_a_429s(kit, monkeypatch):
    """A 503's `Retry-After: 2` is the wait before the next attempt."""
    import types

    import stamina
    import tenacity.nap

    waits: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", types.SimpleNamespace(sleep=waits.append))
    rec = kit.Recorder(answers(
        httpx.Response(503, headers={"Retry-After": "2"}),
        then=lambda request: httpx.Response(200, json=AIHUB_BATCH),
    ))
    with stamina.set_testing(False):
        kit.aihub(rec.transport).get_batch("7")
    assert [2.0] == waits


# -- 2. recovery shortcuts only when an earlier attempt may have applied -----------------


@pytest.mark.parametrize("first", [503, 429, httpx.ConnectError])
def test_scale_create_meeting_409_after_a_provably_unapplied_attempt_is_a_conflict(
    kit, first
):
    """After a 503 / 429 / connect error the first POST did nothing, so the 409 means the
    name was already taken: Conflict, and someone else's batch is never returned."""
    failure = httpx.Response(first) if isinstance(first, int) else first
    rec = kit.Recorder(answers(
        failure, httpx.Response(409, json={"error": "exists"}),
        then=lambda request: httpx.Response(200, json={**SCALE_BATCH, "status": "in_progress"}),
    ))
    with pytest.raises(Conflict, match="already exists"):
        kit.scale(rec.transport).create_batch("nightly", project="p")
    assert ["POST", "POST"] == [r.method for r in rec.requests]


@pytest.mark.parametrize("first", [502, 500, 504, httpx.ReadError, httpx.ReadTimeout])
def test_scale_create_meeting_409_after_a_possibly_applied_attempt_adopts_the_batch(
    kit, first
):
    """After a lost response or a 5xx other than 503 our first POST may have created the
    batch: the 409 is resolved by fetching it."""
    failure = httpx.Response(first) if isinstance(first, int) else first
    rec = kit.Recorder(answers(
        failure, httpx.Response(409, json={"error": "exists"}),
        then=lambda request: httpx.Response(200, json=SCALE_BATCH),
    ))
    assert "nightly" == kit.scale(rec.transport).create_batch("nightly", project="p").id


@pytest.mark.parametrize("operation", ["delete_batch", "delete_file"])
@pytest.mark.parametrize("first", [503, 429, httpx.ConnectError])
def test_aihub_delete_of_something_that_never_existed_is_not_found(kit, operation, first):
    """A 503 / 429 / connect error, then 404: the thing never existed; NotFound, not success."""
    failure = httpx.Response(first) if isinstance(first, int) else first
    rec = kit.Recorder(answers(failure, httpx.Response(404, json={"message": "no such"})))
    provider = kit.aihub(rec.transport)
    args = ("7",) if operation == "delete_batch" else ("7", "a.pdf")
    with pytest.raises(NotFound):
        getattr(provider, operation)(*args)


@pytest.mark.parametrize("operation", ["delete_batch", "delete_file"])
@pytest.mark.parametrize("first", [502, httpx.ReadError])
def test_aihub_delete_whose_lost_attempt_applied_succeeds_on_404(kit, operation, first):
    """A lost response, then 404: our own first DELETE did it; that is success."""
    failure = httpx.Response(first) if isinstance(first, int) else first
    rec = kit.Recorder(answers(failure, httpx.Response(404, json={"message": "no such"})))
    provider = kit.aihub(rec.transport)
    args = ("7",) if operation == "delete_batch" else ("7", "a.pdf")
    assert getattr(provider, operation)(*args) is None


# -- 3. retry_timeout is a real deadline for the whole call ------------------------------


class DripServer:
    """A loopback server that answers every connection by trickling bytes forever
    (until stopped): the headers, or a body promised by Content-Length."""

    def __init__(self, *, in_headers: bool) -> None:
        self.in_headers = in_headers
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                if not self.in_headers:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 100000\r\n\r\n")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                # drips for at most 10 s, so a client without a deadline fails (it would
                # otherwise hang the test) rather than passes
                for _ in range(200):
                    if self.stop.wait(0.05):
                        break
                    conn.sendall(b"X-Drip: y\r\n" if self.in_headers else b" ")
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(params=[False, True], ids=["body", "headers"])
def drip(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    server = DripServer(in_headers=request.param)
    yield server
    server.close()


def test_a_slow_drip_server_cannot_stretch_a_call_past_retry_timeout(drip):
    """Each byte arrives well within `timeout`, but the call ends when its `retry_timeout`
    budget runs out, and the error says so (it used to run until the server stopped)."""
    provider = batchkit.connect(
        "aihub", api_root=f"http://127.0.0.1:{drip.port}/api", token="t",
        timeout=1, retry_timeout=0.5, retry_attempts=2,
    )
    with pytest.raises(TransportError, match=r"time budget \(retry_timeout=0.5 s\) ran out"):
        provider.get_batch("7")
    assert not drip.stop.is_set()  # the server was still dripping: the client gave up


def test_a_retry_whose_wait_would_outlast_the_budget_is_not_attempted(kit):
    """A Retry-After beyond what is left of the budget ends the call at once, saying so."""
    rec = kit.Recorder(answers(httpx.Response(429, headers={"Retry-After": "30"})))
    with pytest.raises(batchkit.RateLimited, match="ran out"):
        kit.aihub(rec.transport, retry_timeout=5).get_batch("7")
    assert 1 == len(rec.requests)


# -- 4. pagination ends, whatever the server does ----------------------------------------


def endless(page: Callable[[int], object]) -> Callable[[httpx.Request], httpx.Response]:
    """A handler serving `page(n)` for the n-th request, failing the test (instead of
    hanging it) once a client has clearly fallen into an endless loop."""
    count = iter(range(10**6))

    def handle(request: httpx.Request) -> httpx.Response:
        n = next(count)
        assert n < 1000, "the client keeps asking for pages: an endless loop"
        return httpx.Response(200, json=page(n))

    return handle


def _file_page(names: list[str], token: str | None, more: bool) -> dict[str, object]:
    nodes = [{"name": n, "metadata": {"size": 1}} for n in names]
    return {"nodes": nodes, "next_page_token": token, "has_more": more}


def test_list_files_stops_on_endless_empty_pages_with_fresh_tokens(kit):
    """Empty pages that each carry a new token and say "more" end in a ProviderError."""
    rec = kit.Recorder(endless(lambda n: _file_page([], f"t{n}", True)))
    with pytest.raises(ProviderError, match=r"list_files.*empty pages"):
        list(kit.aihub(rec.transport).list_files("7"))
    assert len(rec.requests) <= 25


def test_list_files_stops_when_the_server_ignores_the_token(kit):
    """The same page again under a fresh token is a server bug, not more files."""
    rec = kit.Recorder(endless(lambda n: _file_page(["a", "b"], f"t{n}", True)))
    seen: list[str] = []
    with pytest.raises(ProviderError, match=r"list_files.*same page twice"):
        seen.extend(f.name for f in kit.aihub(rec.transport).list_files("7"))
    assert ["a", "b"] == seen


def test_aihub_list_batches_stops_when_the_server_ignores_offset(kit):
    """Full pages that repeat (offset ignored) end in a ProviderError, not forever."""
    page = {"batches": [{"id": i, "name": f"b{i}"} for i in range(100)]}
    rec = kit.Recorder(endless(lambda n: page))
    with pytest.raises(ProviderError, match=r"list_batches.*same page twice"):
        list(kit.aihub(rec.transport).list_batches())
    assert 2 == len(rec.requests)


def test_scale_list_batches_stops_when_the_server_ignores_offset(kit):
    """A Scale page repeated with has_more=true ends in a ProviderError naming the call."""
    page = {"docs": [{**SCALE_BATCH, "name": f"b{i}"} for i in range(3)], "has_more": True}
    rec = kit.Recorder(endless(lambda n: page))
    with pytest.raises(ProviderError, match="scale list_batches"):
        list(kit.scale(rec.transport).list_batches())


def test_a_listing_that_legitimately_has_a_few_empty_pages_still_completes(kit):
    """A couple of empty pages with "more" (some servers filter) are followed through."""
    pages = iter([_file_page([], "t1", True), _file_page([], "t2", True),
                  _file_page(["a"], None, False)])
    rec = kit.Recorder(lambda request: httpx.Response(200, json=next(pages)))
    assert ["a"] == [f.name for f in kit.aihub(rec.transport).list_files("7")]


# -- 5. no untyped exception escapes -----------------------------------------------------


def test_a_redirect_loop_is_a_transport_error(kit):
    """`httpx.TooManyRedirects` becomes a TransportError naming the operation."""
    rec = kit.Recorder(lambda request: httpx.Response(
        302, headers={"Location": str(request.url)}))  # httpx stops after 20
    with pytest.raises(TransportError, match=r"get_batch.*redirect"):
        kit.aihub(rec.transport).get_batch("7")


def test_an_undecodable_body_is_a_transport_error_and_not_retried(kit):
    """A body that claims gzip but is not becomes a TransportError; resending cannot fix it."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, content=b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(TransportError, match="decoded"):
        kit.aihub(rec.transport).get_batch("7")
    assert 1 == len(rec.requests)


def test_an_undecodable_error_body_is_a_transport_error(kit):
    """Also when the undecodable body comes with an error status on a streamed call."""
    ok_head = gzip.compress(b"")
    assert ok_head  # (sanity: real gzip is not what the server sends below)
    rec = kit.Recorder(lambda request: httpx.Response(
        500, content=b"garbage", headers={"Content-Encoding": "gzip"}))
    with pytest.raises(batchkit.BatchkitError):
        kit.aihub(rec.transport, retry_attempts=1).fs_read("/o/w/fs/d/a.pdf")


@pytest.mark.parametrize("stamp", [10**30, 2**63, -(10**20), 1e308])
def test_out_of_range_timestamps_in_a_listing_are_provider_errors(kit, stamp):
    """A listing node with an absurd `modified_timestamp` is a ProviderError, not OverflowError."""
    page = {"nodes": [{"name": "a", "metadata": {"size": 1, "modified_timestamp": stamp}}],
            "next_page_token": None, "has_more": False}
    rec = kit.Recorder(lambda request: httpx.Response(200, json=page))
    with pytest.raises(ProviderError, match="out of range"):
        list(kit.aihub(rec.transport).list_files("7"))


def test_an_out_of_range_batch_creation_time_is_a_provider_error(kit):
    """`created_at` of thousands of years is a ProviderError naming the field."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, json={**AIHUB_BATCH, "created_at_ms": 10**30}))
    with pytest.raises(ProviderError, match="created_at"):
        kit.aihub(rec.transport).get_batch("7")


def test_upload_verification_reports_an_unreadable_listing_instead_of_crashing(kit):
    """The verify step's listing with a bad timestamp fails the files as not verified."""
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(204)
        if request.url.path.endswith("/files"):
            return httpx.Response(200, json={
                "nodes": [{"name": "a.pdf", "metadata": {"size": 3, "modified_timestamp": 1e308}}],
                "next_page_token": None, "has_more": False})
        return httpx.Response(200, json=AIHUB_BATCH)

    rec = kit.Recorder(handle)
    report = kit.aihub(rec.transport).upload("7", [("a.pdf", b"abc")])
    assert ["a.pdf"] == [f.name for f in report.failed]
    assert "listing the batch failed" in report.failed[0].reason


@pytest.mark.parametrize("header", ["yesterday", "Mon, 99 Foo 2026 99:99:99 GMT", "\x00"])
def test_a_bad_last_modified_header_is_ignored(kit, header):
    """An unparsable Last-Modified leaves `modified_at` unknown; size and kind still come."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, headers={"Content-Length": "5", "Last-Modified": header,
                      "Content-Type": "application/pdf"}))
    info = kit.aihub(rec.transport).fs_head("/o/w/fs/d/a.pdf")
    assert (True, 5, None) == (info.is_file, info.size, info.modified_at)


class _RedirectingServer(http.server.ThreadingHTTPServer):
    """PUT /api/... answers 307 to /moved/...; PUT /moved/... stores the body it reads."""

    daemon_threads = True

    def __init__(self, status: int) -> None:
        self.status = status
        self.bodies: dict[str, bytes] = {}
        self.auth: dict[str, str | None] = {}
        super().__init__(("127.0.0.1", 0), _RedirectHandler)


class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    server: _RedirectingServer

    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path.startswith("/api/"):
            self.send_response(self.server.status)
            self.send_header("Location", "/moved/" + self.path.removeprefix("/api/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.bodies[self.path] = body
        self.server.auth[self.path] = self.headers.get("Authorization")
        self.send_response(204)
        self.end_headers()


@pytest.mark.parametrize("status", [307, 308])
def test_an_upload_redirected_over_a_real_socket_resends_its_whole_body(tmp_path, status):
    """A 307/308 on an upload PUT is followed with the body re-read from its source
    (it used to raise httpx.StreamConsumed: only MockTransport buffers bodies)."""
    server = _RedirectingServer(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = Path(tmp_path, "a.pdf")
        path.write_bytes(b"%PDF-" + bytes(range(256)) * 40)
        provider = batchkit.connect(
            "aihub", api_root=f"http://127.0.0.1:{server.server_port}/api", token="tok-123456"
        )
        provider.upload_file("7", "a.pdf", path)
    finally:
        server.shutdown()
        thread.join()
    [(where, body)] = server.bodies.items()
    assert where.startswith("/moved/v2/batches/7/files/")
    assert path.read_bytes() == body


# -- 16. no credential in any message ----------------------------------------------------


@pytest.mark.parametrize("status", [401, 403, 400, 500])
def test_a_vendor_error_echoing_the_token_does_not_put_it_in_the_error(kit, status):
    """An error body quoting the bearer token back is masked in the message and fields."""
    rec = kit.Recorder(lambda request: httpx.Response(
        status, json={"message": f"bad token {request.headers['Authorization']}"}))
    with pytest.raises(ProviderError) as info:
        kit.aihub(rec.transport, retry_attempts=1).get_batch("7")
    text = f"{info.value} {info.value.vendor_message} {info.value!r}"
    assert kit.TOKEN not in text
    assert "<redacted>" in text


def test_a_scale_error_echoing_the_basic_auth_header_is_masked(kit):
    """Scale's key, raw or in its Basic-auth base64 form, never reaches the message."""
    rec = kit.Recorder(lambda request: httpx.Response(
        401, json={"error": f"{request.headers['Authorization']} / key {kit.API_KEY}"}))
    with pytest.raises(batchkit.AuthError) as info:
        kit.scale(rec.transport).get_batch("b")
    import base64

    encoded = base64.b64encode(f"{kit.API_KEY}:".encode()).decode()
    text = f"{info.value} {info.value.vendor_message}"
    assert (False, False) == (kit.API_KEY in text, encoded in text)


def test_a_password_in_api_root_never_appears_in_a_transport_error():
    """`https://user:pass@host` in api_root: a connect failure names the host, not the pass."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = batchkit.connect(
        "aihub", api_root=f"http://user:hunter2-secret@127.0.0.1:{port}/api", token="t0k3n",
        retry_attempts=1,
    )
    with pytest.raises(TransportError) as info:
        provider.get_batch("7")
    assert "hunter2-secret" not in f"{info.value} {info.value!r} {provider.http!r}"
    assert "127.0.0.1" in str(info.value)


def test_the_deadline_backend_is_installed_on_the_default_transport():
    """Guards the one private httpx attribute the deadline relies on where httpcore still
    sends (the async client, a proxied blocking one): if an httpx release moves it, this
    fails instead of the deadline silently going away. The blocking client's own default
    sends over urllib3 with the deadline on its sockets (tests/client/test_pools.py)."""
    from batchkit._httpcore import AsyncDeadlineBackend, DeadlineBackend
    from batchkit._pools import Urllib3Transport

    provider = batchkit.connect("aihub", api_root="http://127.0.0.1:9/api", token="t0k3n")
    assert isinstance(provider.http.client._transport, Urllib3Transport)
    assert 32 == provider.http.client._transport.max_connections
    proxied = batchkit.connect(
        "aihub", api_root="http://127.0.0.1:9/api", token="t0k3n", proxy="http://127.0.0.1:8"
    )
    shards = proxied.http.client._transport.shards
    assert 32 == sum(shard._pool._max_connections for shard in shards)
    assert all(isinstance(shard._pool._network_backend, DeadlineBackend) for shard in shards)
    aprovider = batchkit.connect_async("aihub", api_root="http://127.0.0.1:9/api", token="t0k3n")
    shards = aprovider.http.client._transport.shards
    assert all(isinstance(s._pool._network_backend, AsyncDeadlineBackend) for s in shards)


def test_no_deadline_outlives_its_call(kit):
    """The deadline is per call: a later call on the same thread starts a fresh budget."""
    from batchkit import _deadline

    rec = kit.Recorder(lambda request: httpx.Response(200, json=AIHUB_BATCH))
    kit.aihub(rec.transport).get_batch("7")
    assert _deadline.remaining() is None


# -- 15. a resumed download is one version of the file, whole, never spliced -------------


class _Breaks(httpx.SyncByteStream):
    """A body that yields `data` then breaks the connection (when `break_after` is set)."""

    def __init__(self, data: bytes, break_after: int | None = None) -> None:
        self.data = data
        self.break_after = break_after

    def __iter__(self) -> Iterator[bytes]:
        if self.break_after is None:
            yield self.data
            return
        yield self.data[: self.break_after]
        raise httpx.ReadError("connection reset mid-body")


OLD = bytes(range(256)) * 8  # 2048 bytes, version 1
NEW = bytes(reversed(range(256))) * 8  # the same size, other bytes: version 2


def _ranged(version: bytes, request: httpx.Request, *, stamp: str,
            content_range_start: int | None = None) -> httpx.Response:
    """A 206 for the request's Range (or the whole file as 200), Last-Modified `stamp`."""
    wanted = request.headers.get("Range")
    if wanted is None:
        return httpx.Response(200, stream=_Breaks(version),
                              headers={"Last-Modified": stamp, "Content-Length": str(len(version))})
    first = int(wanted.removeprefix("bytes=").split("-")[0])
    if content_range_start is not None:
        first = content_range_start
    body = version[first:]
    return httpx.Response(206, stream=_Breaks(body), headers={
        "Last-Modified": stamp,
        "Content-Range": f"bytes {first}-{len(version) - 1}/{len(version)}"})


V1 = "Wed, 02 Dec 2026 01:00:00 GMT"
V2 = "Wed, 02 Dec 2026 02:00:00 GMT"


def breaks_then(resume: Callable[[httpx.Request], httpx.Response], *, at: int = 1000,
                stamp: str | None = V1) -> Callable[[httpx.Request], httpx.Response]:
    """A handler whose first answer is version 1 (Last-Modified `stamp`), broken after `at`
    bytes; every later request (the resumes) is answered by `resume`."""
    first = [True]

    def handle(request: httpx.Request) -> httpx.Response:
        if first:
            first.clear()
            headers = {"Content-Length": "2048", **({"Last-Modified": stamp} if stamp else {})}
            return httpx.Response(200, stream=_Breaks(OLD, break_after=at), headers=headers)
        return resume(request)

    return handle


def test_a_file_changed_before_a_resume_is_downloaded_again_whole(kit):
    """The first body breaks at 1000 bytes; meanwhile the file changed. The resume sends
    If-Range, the server answers 200 with the new file: the result is the new file, whole."""
    def resume(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-Range") == V2:
            return _ranged(NEW, request, stamp=V2)
        return httpx.Response(200, stream=_Breaks(NEW),
                              headers={"Last-Modified": V2, "Content-Length": "2048"})

    rec = kit.Recorder(breaks_then(resume))
    assert NEW == kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf")
    assert [None, V1] == [r.headers.get("If-Range") for r in rec.requests]


def test_a_resume_answered_by_another_version_without_if_range_support_starts_over(kit):
    """A server ignoring If-Range sends a 206 of the new version: its Last-Modified gives it
    away, so the download starts over instead of splicing old and new bytes."""
    rec = kit.Recorder(breaks_then(lambda request: _ranged(NEW, request, stamp=V2)))
    data = kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf")
    assert NEW == data
    assert ["bytes=1000-", None] == [r.headers.get("Range") for r in rec.requests[1:]]


def test_a_206_that_starts_before_the_asked_byte_does_not_duplicate_bytes(kit):
    """A resume answered with `Content-Range: bytes 0-...` is placed by its header: the
    bytes already held are skipped, not written twice."""
    rec = kit.Recorder(breaks_then(
        lambda request: _ranged(OLD, request, stamp=V1, content_range_start=0), at=700))
    assert OLD == kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf")


def test_a_resume_whose_file_size_changed_starts_over(kit):
    """No validators at all, but the total size in Content-Range differs: a new version."""
    bigger = NEW + b"more"

    def resume(request: httpx.Request) -> httpx.Response:
        response = _ranged(bigger, request, stamp="")
        del response.headers["Last-Modified"]
        return response

    rec = kit.Recorder(breaks_then(resume, stamp=None))
    assert bigger == kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf")


def test_a_changed_file_into_a_stream_that_cannot_rewind_is_an_error_not_a_splice(kit):
    """Writing to a pipe-like sink, a changed file cannot start over: ProviderError."""
    class Pipe:
        def __init__(self) -> None:
            self.data = b""

        def write(self, chunk: bytes) -> int:
            self.data += chunk
            return len(chunk)

        def seekable(self) -> bool:
            return False

    rec = kit.Recorder(breaks_then(lambda request: _ranged(NEW, request, stamp=V2)))
    with pytest.raises(ProviderError, match="changed on the server"):
        kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf", Pipe())


def test_a_changed_file_downloaded_to_a_path_is_the_new_version_whole(kit, tmp_path):
    """To a path, the temporary file is rewound and the saved file is one version."""
    rec = kit.Recorder(breaks_then(lambda request: _ranged(NEW, request, stamp=V2)))
    target = tmp_path / "a.pdf"
    assert 2048 == kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf", target)
    assert NEW == target.read_bytes()


def test_a_206_without_content_range_is_a_provider_error(kit):
    """Bytes whose place in the file is unknown are never written."""
    rec = kit.Recorder(lambda request: httpx.Response(206, content=b"abc"))
    with pytest.raises(ProviderError, match="Content-Range"):
        kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf", start=5)


# -- 17. inputs checked before any request -----------------------------------------------


@pytest.mark.parametrize("timeout", ["30", float("nan"), float("inf"), -1, None, [30]])
@pytest.mark.parametrize("operation", ["delete_batch", "delete_file", "fs_delete"])
def test_a_bad_delete_timeout_is_refused_before_the_delete_is_sent(kit, operation, timeout):
    """`timeout="30"` used to send the DELETE and then raise TypeError; NaN never timed out."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    args = {"delete_batch": ("7",), "delete_file": ("7", "a.pdf"),
            "fs_delete": ("/o/w/fs/d/a.pdf",)}[operation]
    with pytest.raises(batchkit.InvalidInput, match="timeout"):
        getattr(provider, operation)(*args, timeout=timeout)
    assert [] == rec.requests


@pytest.mark.parametrize("metadata", [
    {"when": __import__("datetime").datetime(2026, 12, 2)},
    {"score": float("nan")},
    {"nested": {"x": object()}},
    {("tuple", "key"): 1},
])
def test_scale_metadata_json_cannot_carry_is_refused_before_any_request(kit, metadata):
    """Metadata with a datetime, NaN or another non-JSON value is InvalidInput, unsent."""
    rec = kit.Recorder()
    provider = kit.scale(rec.transport)
    with pytest.raises(batchkit.InvalidInput, match="metadata"):
        provider.create_batch("b", project="p", metadata=metadata)
    with pytest.raises(batchkit.InvalidInput, match="metadata"):
        provider.set_metadata("b", metadata)
    assert [] == rec.requests


@pytest.mark.parametrize("callback", ["not a url", "ftp://x.test/hook", 42, "https://"])
def test_a_scale_callback_that_is_not_an_http_url_is_refused(kit, callback):
    """Scale can only call back an absolute http(s) URL."""
    rec = kit.Recorder()
    with pytest.raises(batchkit.InvalidInput, match="callback"):
        kit.scale(rec.transport).create_batch("b", project="p", callback=callback)
    assert [] == rec.requests


@pytest.mark.parametrize("project", [42, ["ws"], "", " ", "ws\x00", "ws\ud800"])
def test_an_aihub_workspace_the_vendor_cannot_take_is_refused(kit, project):
    """The workspace name is a string (the spec): a number, list or control text is refused."""
    rec = kit.Recorder()
    provider = kit.aihub(rec.transport)
    with pytest.raises(batchkit.InvalidInput, match="project"):
        provider.create_batch("b", project=project)
    with pytest.raises(batchkit.InvalidInput, match="project"):
        list(provider.list_batches(project=project))
    assert [] == rec.requests


@pytest.mark.parametrize("dest", ["a" * 300 + ".pdf", "d/" * 3000 + "x.pdf", "x\x00y.pdf",
                                  "a" * 300 + "/b.pdf"])
def test_a_destination_path_the_system_cannot_take_is_invalid_input_before_any_request(
    kit, tmp_path, dest
):
    """An over-long path (or one with NUL) used to raise OSError / ValueError: now it is
    InvalidInput, and nothing is downloaded."""
    rec = kit.Recorder(lambda request: httpx.Response(200, content=b"abc"))
    with pytest.raises(batchkit.InvalidInput, match="cannot save to"):
        kit.aihub(rec.transport).fs_read("/o/w/fs/d/a.pdf", str(tmp_path / dest))
    assert [] == rec.requests


@pytest.mark.parametrize("api_root", ["http://u:hunter2-secret@example.com/api",
                                      "ftp://u:hunter2-secret@example.com/"])
def test_a_password_in_a_refused_api_root_is_masked_in_the_config_error(api_root):
    """The ConfigError naming a bad api_root shows `***` where the password was."""
    with pytest.raises(batchkit.ConfigError) as info:
        batchkit.connect("aihub", api_root=api_root, token="t0k3n-abc")
    assert "hunter2-secret" not in str(info.value)
    assert "u:***@example.com" in str(info.value)


def test_time_queued_for_a_pooled_connection_does_not_use_up_the_budget(monkeypatch):
    """The budget's clock stops while a request waits for a connection of the pool (our own
    queueing: a bulk upload may queue more requests than there are connections)."""
    from batchkit import _deadline

    now = [100.0]
    monkeypatch.setattr(_deadline.time, "monotonic", lambda: now[0])
    budget = _deadline.Budget(at=105.0)
    request = httpx.Request("GET", "https://x.test/")
    budget.attempt(request)
    now[0] += 30.0  # queued behind other requests for 30 s
    request.extensions["trace"]("connection.connect_tcp.started", {})
    now[0] += 1.0  # then the request itself takes 1 s
    request.extensions["trace"]("http11.send_request_headers.started", {})
    assert 4.0 == budget.remaining()


def test_httpcore_reports_the_events_that_end_a_pool_wait(monkeypatch):
    """Guards the trace event names the budget relies on, over a real loopback socket, where
    httpcore sends (the async client; a proxied blocking one, here its transport as is)."""
    from batchkit import _deadline, _httpcore

    seen: list[str] = []
    original = _deadline.Budget._trace

    def spy(self, event, info):
        seen.append(event)
        return original(self, event, info)

    monkeypatch.setattr(_deadline.Budget, "_trace", spy)
    server = _RedirectingServer(307)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        provider = batchkit.connect(
            "aihub", api_root=f"http://127.0.0.1:{server.server_port}/api", token="tok-123456",
            transport=_httpcore.transport(httpx.Limits(max_connections=4)),
        )
        provider.upload_file("7", "a.pdf", b"%PDF-1.7")
    finally:
        server.shutdown()
        thread.join()
    assert set(seen) & _deadline._CONNECTED


def test_a_password_in_api_root_never_reaches_a_debug_log_or_the_wire(kit, caplog):
    """The user:password of an api_root is not sent (auth= sets Authorization) and so
    appears in no URL the client builds: not in DEBUG logs, not in requests."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json=AIHUB_BATCH))
    provider = batchkit.connect("aihub", api_root="https://u:hunter2-secret@aihub.test/api",
                                token=kit.TOKEN, transport=rec.transport)
    with caplog.at_level("DEBUG", logger="batchkit"):
        provider.get_batch("7")
    assert "hunter2-secret" not in caplog.text
    assert ["https://aihub.test/api/v2/batches/7"] == [str(r.url) for r in rec.requests]


def test_an_error_after_retries_says_how_many_attempts_were_made(kit):
    """The message, not only `attempts`, tells that the call was retried."""
    rec = kit.Recorder(lambda request: httpx.Response(502))
    with pytest.raises(ServerError, match=r"\(after 3 attempts\)$"):
        kit.aihub(rec.transport, retry_attempts=3).get_batch("7")


@pytest.mark.parametrize("max_connections", [1, 5, 32])
def test_the_default_transport_opens_no_more_connections_than_max_connections(
    served_emulator, max_connections
):
    """The urllib3 pools behind the blocking client's default transport open at most
    `max_connections`, and keep-alive connections are reused: 40 files at 16 at once open
    no more than that."""
    provider = batchkit.connect("aihub", api_root=served_emulator.aihub_api_root, token="pool",
                                max_connections=max_connections)
    batch = provider.create_batch("pool")
    report = provider.upload(batch, [(f"f{i}.txt", b"x" * 100) for i in range(40)],
                             concurrency=16, strict=True)
    assert 40 == len(report.uploaded)
    pools = provider.http.client._transport._pools.values()
    assert 1 <= sum(pool.num_connections for pool in pools) <= max_connections
    provider.close()


@pytest.mark.parametrize("max_connections", [1, 5, 32])
def test_httpx_transport_shards_open_no_more_connections_than_max_connections(
    served_emulator, max_connections
):
    """httpx's transports, where they send (a proxied client; the async one), are shards
    of `SHARD_CONNECTIONS` so httpcore's per-request scan stays short: together they hold
    at most `max_connections`."""
    from batchkit import _httpcore

    provider = batchkit.connect(
        "aihub", api_root=served_emulator.aihub_api_root, token="pool",
        transport=_httpcore.transport(httpx.Limits(max_connections=max_connections)),
    )
    batch = provider.create_batch("pool")
    report = provider.upload(batch, [(f"f{i}.txt", b"x" * 100) for i in range(40)],
                             concurrency=16, strict=True)
    assert 40 == len(report.uploaded)
    shards = provider.http.client._transport.shards
    assert max_connections >= sum(shard._pool._max_connections for shard in shards)
    assert max_connections >= sum(len(shard._pool.connections) for shard in shards)
    provider.close()
