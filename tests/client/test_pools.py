"""The blocking client's default transport (`batchkit._pools`): httpx requests sent over
urllib3's pools, over real loopback sockets.

The deadline on every socket operation is pinned by the drip tests in test_hardening.py
(headers and body trickled past the budget); the cassette suites replay through it with
vcrpy's urllib3 stubs in place. Here: what the pools must keep of httpcore's behaviour.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

import batchkit
from batchkit import _deadline
from batchkit._http import never_applied
from batchkit._network import Network
from batchkit._pools import Urllib3Transport, hooked

BIG = bytes(range(256)) * 1024  # 256 KiB


class _Server(http.server.ThreadingHTTPServer):
    """GET /small, GET /big (256 KiB), GET /close (answers with Connection: close), PUT
    /echo (the body back); counts the connections it accepted."""

    daemon_threads = True

    def __init__(self) -> None:
        self.peers: set[tuple[str, int]] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that drops a connection on purpose is no error here

    @property
    def connections(self) -> int:
        return len(self.peers)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, body: bytes, *, close: bool = False) -> None:
        self.server.peers.add(self.client_address)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Seen-Auth", self.headers.get("Authorization") or "-")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.endswith("/big"):
            self._answer(BIG)
        elif self.path.endswith("/close"):
            self._answer(BIG, close=True)
        else:
            self._answer(b'{"ok": true}')

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self._answer(self.rfile.read(length))


@contextmanager
def served(tls: ssl.SSLContext | None = None) -> Iterator[_Server]:
    server = _Server()
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _root(server: _Server, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.server_port}"


def test_a_connection_close_answer_is_read_whole_and_the_next_request_reconnects():
    """http.client closes the connection as soon as a `Connection: close` answer's headers
    are read: the body must still arrive whole (the socket wrapper counts its file on the
    real socket, as `socket.makefile` does), and the next request opens a new one."""
    with served() as server:
        provider = batchkit.connect("aihub", api_root=_root(server) + "/api", token="t0k3n-1")
        first = provider.request("GET", "/close")
        second = provider.request("GET", "/close")
        provider.close()
    assert BIG == first.content == second.content
    assert 2 == server.connections


def test_keep_alive_connections_are_reused_until_idle_past_keepalive_expiry():
    """Ten sequential requests share one connection; with an expiry of 0 s each idle
    connection is dropped before reuse (the server may be closing it as we send)."""
    with served() as server:
        kept = Urllib3Transport(httpx.Limits(max_connections=4, keepalive_expiry=60))
        with httpx.Client(transport=kept) as client:
            for _ in range(10):
                assert b'{"ok": true}' == client.get(_root(server) + "/small").content
            by_urllib3 = bool(kept._pools) and kept._httpx is None  # not httpx's fallback
        reused = server.connections
        server.peers.clear()
        expiring = Urllib3Transport(httpx.Limits(max_connections=4, keepalive_expiry=0))
        with httpx.Client(transport=expiring) as client:
            for _ in range(10):
                client.get(_root(server) + "/small")
    assert 1 == reused
    assert 10 == server.connections
    assert by_urllib3


def test_nothing_hooks_httpx_in_a_plain_run():
    """Without a test library in place, the urllib3 pools send (else every other test
    here would pass through httpx's fallback and prove nothing about them)."""
    assert not hooked()


def test_a_library_that_patches_httpx_sees_every_request(monkeypatch):
    """pytest-httpx and vcrpy replace `httpx.HTTPTransport.handle_request`, respx httpcore's
    pool: while one does, requests go through httpx's transport, so the library answers
    them (here a spy; nothing listens on port 9)."""
    seen: list[str] = []

    def spy(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"spied": True})

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", spy)
    assert hooked()
    provider = batchkit.connect("aihub", api_root="http://127.0.0.1:9/api", token="t0k3n-1")
    assert {"spied": True} == provider.request("GET", "/v2/batches/7").json()
    assert ["http://127.0.0.1:9/api/v2/batches/7"] == seen


def test_vcrpy_counts_as_a_hook_while_a_cassette_is_in_use(tmp_path):
    """vcrpy wraps httpx's transport (functools.wraps keeps its module name, so the
    `__wrapped__` it leaves is what tells)."""
    import vcr

    with vcr.VCR(record_mode="none").use_cassette(str(tmp_path / "c.yaml")):
        assert hooked()
    assert not hooked()


def test_a_response_closed_before_its_end_frees_its_slot_and_drops_its_connection():
    """With one connection allowed, a streamed response closed after its first chunk gives
    its slot back (the next request does not wait for it: a 5 s pool timeout would say so)
    and its connection is not reused with unread bytes in it."""
    limits = httpx.Limits(max_connections=1)
    with served() as server, httpx.Client(
        transport=Urllib3Transport(limits), timeout=httpx.Timeout(10, pool=5)
    ) as client:
        with client.stream("GET", _root(server) + "/big") as response:
            assert next(response.iter_raw())
        assert BIG == client.get(_root(server) + "/big").content
        assert b'{"ok": true}' == client.get(_root(server) + "/small").content
    assert 2 == server.connections


def test_streamed_request_bodies_arrive_byte_exact():
    """A body given as chunks (a file read as it is sent) is framed by its Content-Length
    and arrives whole; one with no length goes chunked."""
    chunks = [BIG[i : i + 10_000] for i in range(0, len(BIG), 10_000)]
    with served() as server, httpx.Client(
        transport=Urllib3Transport(httpx.Limits(max_connections=2))
    ) as client:
        sized = client.put(
            _root(server) + "/echo",
            content=iter(chunks),
            headers={"Content-Length": str(len(BIG))},
        )
        plain = client.put(_root(server) + "/echo", content=BIG)
    assert BIG == sized.content == plain.content


def test_a_request_body_that_fails_to_read_raises_its_own_error():
    """A local file failing mid-upload is that error, not a network failure the session
    would retry or report as "may have taken effect"."""

    def body() -> Iterator[bytes]:
        yield b"x" * 1000
        raise OSError("the disk went away")

    with served() as server, httpx.Client(
        transport=Urllib3Transport(httpx.Limits(max_connections=2))
    ) as client, pytest.raises(OSError, match="the disk went away") as info:
        client.put(_root(server) + "/echo", content=body(), headers={"Content-Length": "5000"})
    assert not isinstance(info.value, httpx.HTTPError)


def test_a_header_http_client_refuses_is_a_local_protocol_error_that_quotes_nothing():
    """http.client's ValueError quotes the header value (maybe a credential): the transport
    raises httpx's LocalProtocolError (the session's "not valid HTTP", never retried)
    without the value, and without showing the original in a traceback."""
    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    request = httpx.Request(
        "GET", "http://127.0.0.1:9/x", headers={"X-Token": "Bearer s3cr3t-value\nX-Evil: 1"}
    )
    with pytest.raises(httpx.LocalProtocolError) as info:
        transport.handle_request(request)
    assert "s3cr3t-value" not in "".join(traceback.format_exception(info.value))


def test_a_refused_connection_is_a_connect_error_the_session_knows_was_never_applied():
    """Nothing listening: httpx.ConnectError, so a create is retried safely (the request
    never reached a server)."""
    with served() as server:
        port = server.server_port
    provider = batchkit.connect(
        "aihub", api_root=f"http://127.0.0.1:{port}/api", token="t0k3n-1", retry_attempts=1
    )
    with pytest.raises(batchkit.TransportError) as info:
        provider.create_batch("b")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert never_applied(info.value)
    assert "connecting to 127.0.0.1" in str(info.value)


def test_time_waiting_for_a_free_connection_is_given_back_to_the_budget():
    """With the only connection busy, a request queues; the queueing is our own
    concurrency, not the server being slow, so the call's budget does not shrink by it."""
    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    with served() as server:
        busy = transport.handle_request(httpx.Request("GET", _root(server) + "/big"))
        timer = threading.Timer(0.5, busy.close)
        timer.start()
        budget = _deadline.Budget(time.monotonic() + 0.3)
        with _deadline.deadline(budget):
            response = transport.handle_request(httpx.Request("GET", _root(server) + "/small"))
            response.read()
        left = budget.remaining()  # 0.3 s, minus the request, plus the ~0.5 s queued
        timer.join()
        transport.close()
    assert b'{"ok": true}' == response.content
    assert left > 0


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, str]:
    """A server context with a certificate for 127.0.0.1, and the path of its CA's PEM."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    bundle = ca.cert_pem.write_to_path  # a method: written per test into tmp_path
    return server, bundle  # type: ignore[return-value]


def test_https_with_the_ca_bundle_given_as_verify(tls, tmp_path):
    """`verify=<CA bundle>` trusts the server's certificate; the token goes over TLS."""
    context, write = tls
    path = tmp_path / "ca.pem"
    write(str(path))
    with served(context) as server:
        provider = batchkit.connect(
            "aihub", api_root=_root(server, "https") + "/api", token="t0k3n-tls", verify=str(path)
        )
        response = provider.request("GET", "/small")
        provider.close()
    assert b'{"ok": true}' == response.content
    assert "Bearer t0k3n-tls" == response.headers["X-Seen-Auth"]


def test_https_to_an_untrusted_certificate_is_refused_unless_verify_is_off(tls):
    """The default trust store does not know the test CA: the connection is refused before
    any request is sent (a ConnectError); `verify=False` accepts it."""
    context, _ = tls
    with served(context) as server:
        root = _root(server, "https") + "/api"
        strict = batchkit.connect("aihub", api_root=root, token="t0k3n-tls", retry_attempts=1)
        with pytest.raises(batchkit.TransportError) as info:
            strict.request("GET", "/small")
        lax = batchkit.connect("aihub", api_root=root, token="t0k3n-tls", verify=False)
        response = lax.request("GET", "/small")
        strict.close()
        lax.close()
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert b'{"ok": true}' == response.content


# -- regressions found in review: each failed on the first version of the transport -------


@contextmanager
def raw_server(answer, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """A loopback server handing each connection to `answer(conn)` on its own thread (TLS
    wrapped first when given; the handshake left to `answer`); yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            if tls is not None:
                conn = tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            threading.Thread(target=_guarded, args=(answer, conn), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


def _guarded(answer, conn: socket.socket) -> None:
    with contextlib.suppress(OSError), conn:
        answer(conn)


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


TIMEOUTS = {"timeout": {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}}


def test_a_response_header_that_is_not_ascii_arrives_as_its_bytes():
    """A UTF-8 file name in Content-Disposition: httpx refuses a str header that is not
    ASCII, so the transport hands on the bytes as they came. It used to raise a
    UnicodeEncodeError past the session, and keep the connection's slot for ever."""
    name = "résumé.pdf".encode()

    def answer(conn: socket.socket) -> None:
        while _read_head(conn):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Disposition: "
                         b'attachment; filename="' + name + b'"\r\n\r\nok')

    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    with raw_server(answer) as port:
        for _ in range(2):  # the second would wait for a slot the first never gave back
            response = transport.handle_request(
                httpx.Request("GET", f"http://127.0.0.1:{port}/x", extensions=TIMEOUTS)
            )
            response.read()
            assert b'attachment; filename="' + name + b'"' == (
                response.headers.raw[1][1]
            )
    transport.close()


def test_an_upload_the_server_cuts_off_is_an_httpx_error():
    """The server reads a little of a streamed body and hangs up: httpx's
    RemoteProtocolError (the session's TransportError), where urllib3's own ProtocolError
    used to escape because the body generator's GeneratorExit was taken for its failure."""

    def answer(conn: socket.socket) -> None:
        conn.recv(1024)

    def body() -> Iterator[bytes]:
        for _ in range(400):
            yield b"x" * 65536

    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    with raw_server(answer) as port, pytest.raises(httpx.TransportError):
        transport.handle_request(httpx.Request(
            "PUT", f"http://127.0.0.1:{port}/up", content=body(),
            headers={"Content-Length": str(400 * 65536)}, extensions=TIMEOUTS,
        ))


def test_a_write_the_server_never_takes_is_a_write_timeout():
    """A server that stops reading: the write runs out of time (urllib3 calls every socket
    timeout a read timeout; the transport says which it was)."""
    release = threading.Event()

    def answer(conn: socket.socket) -> None:
        release.wait(10)

    def body() -> Iterator[bytes]:
        for _ in range(1000):
            yield b"x" * 65536

    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    timeouts = {"timeout": {"connect": 5.0, "read": 5.0, "write": 0.3, "pool": 5.0}}
    try:
        with raw_server(answer) as port, pytest.raises(httpx.WriteTimeout):
            transport.handle_request(httpx.Request(
                "PUT", f"http://127.0.0.1:{port}/up", content=body(),
                headers={"Content-Length": str(1000 * 65536)}, extensions=timeouts,
            ))
    finally:
        release.set()


def test_a_tls_handshake_that_stalls_is_a_connect_timeout_never_applied(tls):
    """The TCP connection is accepted, the TLS handshake never answered: nothing was sent,
    so ConnectTimeout (a create may be retried), where urllib3 reports a read timeout."""
    context, _ = tls
    release = threading.Event()

    def answer(conn: socket.socket) -> None:
        release.wait(10)

    transport = Urllib3Transport(httpx.Limits(max_connections=1), Network(verify=False))
    timeouts = {"timeout": {"connect": 0.3, "read": 0.3, "write": 0.3, "pool": 5.0}}
    try:
        with raw_server(answer, context) as port, pytest.raises(httpx.ConnectTimeout):
            transport.handle_request(
                httpx.Request("POST", f"https://127.0.0.1:{port}/jobs", content=b"{}",
                              extensions=timeouts)
            )
    finally:
        release.set()


def test_a_tls_failure_after_the_request_was_sent_is_not_a_connect_error(tls):
    """The server took the POST, then its TLS layer failed (a bad record): the request may
    have been applied, so ReadError, never the ConnectError that would let the session
    send a create again."""
    context, _ = tls
    received: list[bytes] = []

    def answer(conn: socket.socket) -> None:
        conn.do_handshake()
        received.append(_read_head(conn))
        os.write(conn.fileno(), b"\x15\x03\x03\x00\x02\x02\x50")  # raw bytes inside TLS
        time.sleep(0.5)

    transport = Urllib3Transport(httpx.Limits(max_connections=1), Network(verify=False))
    with raw_server(answer, context) as port, pytest.raises(httpx.ReadError) as info:
        transport.handle_request(
            httpx.Request("POST", f"https://127.0.0.1:{port}/jobs", content=b"{}",
                          extensions=TIMEOUTS)
        )
    assert received
    assert received[0].startswith(b"POST /jobs")
    assert not isinstance(info.value, httpx.ConnectError)


def test_the_request_goes_out_as_httpx_built_it():
    """Repeated headers stay repeated, an empty DELETE gets no Content-Length, and urllib3
    adds no User-Agent of its own."""
    heads: list[bytes] = []

    def answer(conn: socket.socket) -> None:
        while head := _read_head(conn):
            heads.append(head)
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    transport = Urllib3Transport(httpx.Limits(max_connections=1))
    with raw_server(answer) as port:
        root = f"http://127.0.0.1:{port}"
        for request in (
            httpx.Request("GET", root + "/a", headers=[("X-Tag", "one"), ("X-Tag", "two")]),
            httpx.Request("DELETE", root + "/d"),
        ):
            request.extensions.update(TIMEOUTS)
            transport.handle_request(request).read()
    transport.close()
    tagged, deleted = (head.decode().lower() for head in heads)
    assert "x-tag: one\r\nx-tag: two\r\n" in tagged
    assert "content-length" not in deleted
    assert "user-agent" not in tagged + deleted


def test_a_blocking_connect_loads_only_what_it_sends_with():
    """A fresh interpreter: `connect` and a call (that fails, and is not retried) import
    urllib3, not httpcore (nor trio and anyio, which it imports when installed) and not
    stamina (nor tenacity and tornado behind it); the async client brings httpcore. Each
    costs a script's start-up 0.1-0.3 s on this machine."""
    code = (
        "import sys, batchkit\n"
        "p = batchkit.connect('aihub', api_root='http://127.0.0.1:9/api', token='t0k3n',\n"
        "                     retry_attempts=1)\n"
        "try:\n"
        "    p.get_batch('7')\n"
        "except batchkit.TransportError:\n"
        "    pass\n"
        "print(sorted({'httpcore', 'trio', 'anyio', 'stamina', 'tenacity'} & set(sys.modules)))\n"
        "batchkit.connect_async('aihub', api_root='http://127.0.0.1:9/api', token='t0k3n')\n"
        "print('httpcore' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split("\n")
    assert "[]" == out[0]
    assert "True" == out[1]
