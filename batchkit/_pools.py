"""The default transport of the blocking client: httpx requests sent over urllib3's pools.

httpx stays batchkit's HTTP API and its test seam: every request is an `httpx.Request` and
every answer an `httpx.Response`, so event hooks, `transport=` (mock and emulator
transports) and vcrpy cassettes work as before. What this replaces is the layer below it,
httpcore and h11, for the blocking client's own network transport only: on the same link
urllib3 (http.client underneath) spends about half their CPU per request, which is what
the small-file and sequential-call benchmarks are bound by (docs/architecture.md,
"Choices, and why", has the measurements). The async client keeps httpcore (it runs on trio
too).

What httpcore's pool gave batchkit, this keeps:

- **The call's deadline** bounds every socket operation, as `_httpcore.DeadlineBackend`
  does: each read and write waits at most what is left of it (`_Socket`), so a server
  that trickles bytes cannot stretch a call past its budget.
- **`max_connections`** in total (a semaphore; the time spent waiting for one is not
  counted against the call's budget, as `_deadline.Budget` explains), `keepalive_expiry`
  for idle connections, httpx's `timeout` (connect, read, write, pool).
- **httpx's exceptions** (`ConnectError`, `ReadTimeout`, `RemoteProtocolError`...), so the
  session's retry and error rules do not know which transport ran; a failure before the
  connection is up (a TLS handshake that stalls or fails) is a connect error, one after it
  never is (`_Phase`).
- **The request as httpx built it**: its headers in order and case, repeated ones too, and
  nothing of urllib3's own (no User-Agent, no Content-Length on an empty DELETE). urllib3
  does normalise the request target: percent-escapes in upper case (`%2f` → `%2F`, the
  same octet, RFC 3986 6.2.2.1) and `[`, `]` in a query escaped. Responses keep their
  header bytes as sent (a UTF-8 file name too); http.client refuses more than 100
  response headers, where httpx takes any number.

httpx's own transport (`_httpcore.transport`) still sends in two cases:

- a proxied client: proxy handling (CONNECT tunnels, SOCKS) is httpcore's;
- whenever a test library has patched httpx's or httpcore's sending (vcrpy, respx,
  pytest-httpx all do: `hooked`), so that every request reaches it as it always did, and
  cassettes record and replay the same.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import urllib3
from urllib3 import exceptions as u3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER

from . import _deadline
from ._network import Network

#: the size of the reads a streamed body is yielded in
CHUNK = 64 * 1024

_BUDGET_OUT = "the call's time budget (retry_timeout) ran out"

#: urllib3 neither retries nor follows redirects (the session does both): one shared
#: policy, as urllib3 would build one per request from `retries=False`
_NO_RETRIES = urllib3.Retry(False, redirect=False)


class _Socket:
    """A connection's socket whose every read and write waits at most the connection's
    timeout for it, and never past the running call's deadline (`_deadline.clamp`).

    http.client reads a response through `makefile("rb")`: the file made here reads
    through this object's `recv_into`, and counts itself on the real socket as
    `socket.makefile` does, so a `Connection: close` answer is still read whole after
    http.client closes the connection."""

    def __init__(self, sock: socket.socket, owner: _Deadlined) -> None:
        self._sock = sock
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._sock.settimeout(_deadline.clamp(self._owner.read_timeout, TimeoutError))
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._sock.settimeout(_deadline.clamp(self._owner.read_timeout, TimeoutError))
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        # since Python 3.5 a socket's timeout bounds the whole sendall
        try:
            self._sock.settimeout(_deadline.clamp(self._owner.write_timeout, TimeoutError))
            self._sock.sendall(data, flags)
        except TimeoutError:
            _phase.write_timed_out = True
            raise

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_: Any) -> Any:
        if mode != "rb":  # http.client only reads through a file
            raise ValueError(f"unsupported mode {mode!r}")
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        return io.BufferedReader(raw, buffering or io.DEFAULT_BUFFER_SIZE)

    def _decref_socketios(self) -> None:
        self._sock._decref_socketios()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._sock.close()


class _Deadlined:
    """What both connection classes add to urllib3's: the socket a `_Socket` once
    connected (for https, once the TLS handshake is done)."""

    #: this request's read and write timeouts (set as the pool hands the connection out)
    read_timeout: float | None = None
    write_timeout: float | None = None
    #: when the connection was last handed back to its pool (monotonic seconds)
    idle_since: float = 0.0
    sock: Any

    def close(self) -> None:
        super().close()  # type: ignore[misc]

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock = _Socket(self.sock, self)
        _phase.connected = True


class _Connection(_Deadlined, HTTPConnection):
    pass


class _TLSConnection(_Deadlined, HTTPSConnection):
    pass


class _Phase(threading.local):
    """Where the request this thread is sending has got to, for `_mapped`: a failure
    before the connection is up was never sent (ConnectError, ConnectTimeout: the session
    may retry even a create); one after it may have been applied."""

    #: the request's read and write timeouts, handed to the connection it gets
    timeouts: tuple[float | None, float | None] = (None, None)
    #: the connection is up (connected, TLS handshake done, or a kept-alive one reused)
    connected: bool = False
    #: a write ran out of time (urllib3 reports every socket timeout as a read timeout)
    write_timed_out: bool = False

    def start(self, read: float | None, write: float | None) -> None:
        self.timeouts = (read, write)
        self.connected = False
        self.write_timed_out = False


_phase = _Phase()


class _PoolMixin:
    """What both pools add to urllib3's: each connection handed out with the request's
    timeouts, and dropped when it sat idle past `expiry`."""

    #: seconds a connection may sit idle in the pool and still be used (None: forever)
    expiry: float | None = None

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        if isinstance(conn, _Deadlined):
            conn.read_timeout, conn.write_timeout = _phase.timeouts
            if (
                self.expiry is not None
                and conn.sock is not None
                and time.monotonic() - conn.idle_since > self.expiry
            ):
                conn.close()  # idle too long: the server may be closing it as we send
            _phase.connected = conn.sock is not None  # a kept-alive one is up already
        return conn

    def _put_conn(self, conn: Any) -> None:
        if isinstance(conn, _Deadlined):
            conn.idle_since = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class _Pool(_PoolMixin, HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(_PoolMixin, HTTPSConnectionPool):
    ConnectionCls = _TLSConnection

    def _validate_conn(self, conn: Any) -> None:
        # urllib3's, less its InsecureRequestWarning on every request: `verify=False` is
        # the user's explicit setting, and httpx never warned about it either
        HTTPConnectionPool._validate_conn(self, conn)
        if conn.is_closed:
            conn.connect()


def _tls(verify: ssl.SSLContext | bool) -> dict[str, Any]:
    """urllib3's TLS arguments for `Network.verify`: httpx's own default context (certifi,
    SSL_CERT_FILE / SSL_CERT_DIR honoured) for True, the given context, or no checks."""
    if verify is True:
        context = httpx.create_ssl_context()
    elif verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = verify
    checked = context.verify_mode != ssl.CERT_NONE
    return {
        "ssl_context": context,
        "cert_reqs": ssl.CERT_REQUIRED if checked else ssl.CERT_NONE,
        "assert_hostname": None if context.check_hostname else False,
    }


class _Chunks:
    """A request body's chunks; remembers an error raised while reading them (a local
    file that failed), so it is raised as itself and not as a network failure."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except GeneratorExit:  # urllib3 stopped sending (the server went away): not ours
            raise
        except BaseException as e:
            self.error = e
            raise


def _mapped(
    e: Exception, chunks: _Chunks | None = None, *, reading_body: bool = False
) -> Exception:
    """The httpx exception for a urllib3 / socket failure (or the body's own error).

    What `_phase` saw tells a failure before the connection was up (ConnectError,
    ConnectTimeout: never sent) from one after (urllib3 reports a TLS handshake that
    stalls as a read timeout, a TLS error at any time as SSLError, and a write that stalls
    as a read timeout too). `reading_body`: the response's body, after the request."""
    if chunks is not None and isinstance(chunks.error, Exception):
        return chunks.error
    connected = reading_body or _phase.connected
    cause: Any = e
    if isinstance(e, u3.ProtocolError) and e.args and len(e.args) > 1:
        cause = e.args[1]
    left = _deadline.remaining()
    out_of_time = left is not None and left <= 0
    timed_out = isinstance(e, u3.TimeoutError | TimeoutError) or isinstance(cause, TimeoutError)
    if isinstance(e, u3.NewConnectionError):  # (a ConnectTimeoutError too)
        return httpx.ConnectError(str(e))
    if timed_out:
        text = _BUDGET_OUT if out_of_time else str(e)
        if isinstance(e, u3.ConnectTimeoutError) or not connected:
            return httpx.ConnectTimeout(text)
        if _phase.write_timed_out and not reading_body:
            return httpx.WriteTimeout(text)
        return httpx.ReadTimeout(text)
    if isinstance(e, u3.SSLError):
        return httpx.ReadError(str(e)) if connected else httpx.ConnectError(str(e))
    if isinstance(cause, http.client.RemoteDisconnected):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(cause, http.client.IncompleteRead) or isinstance(e, u3.IncompleteRead):
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )
    if isinstance(cause, BrokenPipeError | ConnectionResetError | ConnectionAbortedError):
        return httpx.ReadError(str(cause))
    if isinstance(e, u3.ProtocolError | http.client.HTTPException | u3.HTTPError):
        return httpx.RemoteProtocolError(str(cause))
    if isinstance(e, OSError):
        return httpx.ReadError(str(e)) if connected else httpx.ConnectError(str(e))
    return e


class _Body(httpx.SyncByteStream):
    """A response body read from urllib3 as it is iterated; closing it gives the
    connection back (or drops it, when the body was not read to its end) and frees the
    transport's slot."""

    def __init__(self, response: urllib3.HTTPResponse, release: Any) -> None:
        self._response = response
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.stream(CHUNK, decode_content=False)
        except (u3.HTTPError, OSError, http.client.HTTPException) as e:
            raise _mapped(e, reading_body=True) from e

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            response = self._response
            if not response.isclosed():
                response.close()  # not read to its end: the connection cannot be reused
            response.release_conn()
        finally:
            release()


def _replaced(kind: type, module: str) -> bool:
    """Whether `kind.handle_request` is no longer the one defined in `module`: anything
    else, or a wrapper of it (`__wrapped__`), was put there by a library."""
    send = kind.__dict__.get("handle_request")
    return getattr(send, "__module__", None) != module or hasattr(send, "__wrapped__")


def hooked() -> bool:
    """True while a library has replaced httpx's or httpcore's `handle_request` (to record,
    replay or mock requests): requests must then go through them. httpcore is looked at
    only if something imported it (nothing patches a module it did not import)."""
    if _replaced(httpx.HTTPTransport, "httpx._transports.default"):
        return True
    httpcore = sys.modules.get("httpcore")
    return httpcore is not None and _replaced(
        httpcore.ConnectionPool, "httpcore._sync.connection_pool"
    )


class Urllib3Transport(httpx.BaseTransport):
    """An httpx transport that sends over urllib3 connection pools, one per origin, with
    at most `limits.max_connections` requests in flight and each call's deadline on every
    socket operation. See the module's docstring."""

    def __init__(self, limits: httpx.Limits, network: Network | None = None) -> None:
        network = network or Network()
        total = limits.max_connections
        self._slots = threading.BoundedSemaphore(total) if total else None
        keep = limits.max_keepalive_connections
        self._keep = max(1, keep if keep is not None else (total or 10))
        self._expiry = limits.keepalive_expiry
        self._tls = _tls(network.verify)
        self._pools: dict[tuple[str, str, int], HTTPConnectionPool] = {}
        self._lock = threading.Lock()
        self._network = network
        #: httpx's own transport, made when first needed (see `hooked`)
        self._httpx: httpx.BaseTransport | None = None
        #: the limits it was made with (see `max_connections`)
        self.limits = limits

    @property
    def max_connections(self) -> int | None:
        """Requests in flight at most (None: no limit)."""
        return self.limits.max_connections

    def _pool(self, url: httpx.URL) -> HTTPConnectionPool:
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    kind, extra = (_TLSPool, self._tls) if scheme == "https" else (_Pool, {})
                    pool = kind(url.host, port, maxsize=self._keep, block=False, **extra)
                    pool.expiry = self._expiry
                    self._pools[key] = pool
        return pool

    def _acquire(self, timeout: float | None) -> Any:
        """Wait for a slot (`max_connections`); the wait is not the server's: it is given
        back to the call's budget. Returns the function that frees the slot."""
        slots = self._slots
        if slots is None:
            return lambda: None
        if not slots.acquire(blocking=False):
            started = time.monotonic()
            if not slots.acquire(timeout=timeout):
                raise httpx.PoolTimeout("timed out waiting for a connection of the pool")
            budget = _deadline.current()
            if budget is not None:
                budget.waited(time.monotonic() - started)
        return slots.release  # called once: by `_Body.close`, or as the request fails

    def _fallback(self) -> httpx.BaseTransport:
        with self._lock:
            if self._httpx is None:
                from ._httpcore import transport

                self._httpx = transport(self.limits, self._network)
            return self._httpx

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if hooked():
            return self._fallback().handle_request(request)
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"the URL's scheme is not http(s): {url.scheme!r}")
        release = self._acquire(timeouts.get("pool"))
        chunks: _Chunks | None = None
        try:
            try:
                # no body at all for an empty one: httpx put the framing headers it wants
                # (Content-Length: 0 on a POST, none on a GET or DELETE); urllib3 adds none
                body: Any = request.content or None
            except httpx.RequestNotRead:
                body = chunks = _Chunks(request.stream)
            headers = urllib3.HTTPHeaderDict()
            for name, value in request.headers.raw:  # as httpx sends them: case, repeats
                headers.add(name.decode("latin-1"), value.decode("latin-1"))
            if "user-agent" not in headers:  # and no python-urllib3/x.y of urllib3's own
                headers["User-Agent"] = SKIP_HEADER
            connect = _deadline.clamp(timeouts.get("connect"), httpx.ConnectTimeout)
            _phase.start(timeouts.get("read"), timeouts.get("write"))
            try:
                answer: Any = self._pool(url).urlopen(
                    request.method,
                    url.raw_path.decode("ascii"),
                    body=body,
                    headers=headers,
                    retries=_NO_RETRIES,
                    redirect=False,
                    assert_same_host=False,
                    timeout=urllib3.Timeout(connect=connect, read=timeouts.get("read")),
                    preload_content=False,
                    decode_content=False,
                    release_conn=False,
                )
            except ValueError:
                if chunks is not None and chunks.error is not None:
                    raise
                # http.client refused a header or the URL; its message quotes the value,
                # which may be a credential: not chained
                raise httpx.LocalProtocolError("the request is not valid HTTP") from None
            except (u3.HTTPError, OSError, http.client.HTTPException) as e:
                raise _mapped(e, chunks) from e
            finally:
                _phase.timeouts = (None, None)
        except BaseException:
            release()
            raise
        try:
            return httpx.Response(
                answer.status,
                # http.client read them as latin-1: these are the bytes that came (httpx
                # would refuse a str that is not ASCII, e.g. a UTF-8 file name)
                headers=[
                    (name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in answer.headers.items()
                ],
                stream=_Body(answer, release),
                extensions={
                    "http_version": b"HTTP/1.0" if answer.version == 10 else b"HTTP/1.1",
                    "reason_phrase": (answer.reason or "").encode("latin-1", "replace"),
                },
            )
        except BaseException:
            answer.close()
            answer.release_conn()
            release()
            raise

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            fallback, self._httpx = self._httpx, None
        if fallback is not None:
            fallback.close()
        for pool in pools:
            with contextlib.suppress(Exception):
                pool.close()


def transport(limits: httpx.Limits, network: Network | None = None) -> httpx.BaseTransport:
    """The blocking client's default transport: `Urllib3Transport`, or httpx's own
    (`_httpcore.transport`) when a proxy is set."""
    if network is not None and network.proxy is not None:
        from ._httpcore import transport as httpcore_transport

        return httpcore_transport(limits, network)
    return Urllib3Transport(limits, network)
