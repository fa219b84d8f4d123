"""The `Emulator`: both vendors' APIs, their state, and the ways to reach them."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar

import anyio

from batchkit.emulator._app import EmulatorApp, Sleep
from batchkit.emulator._faults import Decider, Faults, Latency
from batchkit.emulator._log import RequestLog
from batchkit.emulator._transport import AsyncEmulatorTransport, EmulatorTransport, LoopThread
from batchkit.emulator.scale import ScaleApp, ScaleBackend
from batchkit.emulator.scale.backend import DEFAULT_TASK_SECONDS, DEFAULT_WORKERS, check_workforce

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from batchkit.emulator.aihub import AIHubApp, AIHubBackend


def _accept(tokens: frozenset[str] | None) -> Callable[[str], bool]:
    def accept(credential: str) -> bool:
        return bool(credential) and (tokens is None or credential in tokens)

    return accept


def _cleanup(loop: LoopThread, storage: list[Path]) -> None:
    loop.close()
    for path in storage:
        shutil.rmtree(path, ignore_errors=True)
    storage.clear()


class Emulator:
    """Instabase AI Hub and Scale AI batch APIs, offline, with state per instance.

    Reach it over a loopback socket (``with emu.serve(): …``) or in process
    (``httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root)``). Drive state
    directly through ``emu.aihub`` and ``emu.scale``; inspect traffic in ``emu.requests``;
    break things on purpose with ``emu.faults`` and slow them with ``emu.latency`` (both
    assignable at any time).

    ``tokens`` restricts the accepted AI Hub tokens / Scale API keys (default: any credential
    of visible ASCII characters, each one its own tenant). ``job_polls`` is how many polls an
    AI Hub job may stay running and ``job_seconds`` how long it may take in emulated time: it
    completes (and its deletion takes effect) at whichever comes first, polled or not
    (``None`` switches a condition off; 0 for either completes jobs at once). ``clock`` gives
    Unix seconds for timestamps and job timing (pass a fake one to move time by hand);
    ``sleep`` is the async sleep used for latency (swap it to test latency without waiting).

    Scale's simulated workforce: the pending tasks of an in-progress batch are worked in
    creation order by ``scale_workers`` workers per batch, ``scale_task_seconds`` of emulated
    time each (``None``: never by themselves; tests then move them with
    ``emu.scale.complete_tasks``). A task ends in ``error`` if it is the
    ``scale_error_every``-th of its batch, or if a hash of its ``unique_id`` (else its id)
    falls under ``scale_error_rate`` (0 to 1), or if it names a ``scaledata://`` attachment
    never uploaded; else ``completed``, with a response synthesized from its type and
    parameters.
    """

    #: Base URL that works with `transport` (no socket, so no real host). A
    #: ``.localhost`` name (RFC 6761): clients that allow plain http only to loopback accept it.
    IN_PROCESS_URL: ClassVar[str] = "http://batchkit-emulator.localhost"

    def __init__(
        self,
        *,
        faults: Faults | None = None,
        latency: Latency | float | None = None,
        tokens: Iterable[str] | None = None,
        job_polls: int | None = 2,
        job_seconds: float | None = 0.2,
        part_size: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep | None = None,
        scale_task_seconds: float | None = DEFAULT_TASK_SECONDS,
        scale_workers: int = DEFAULT_WORKERS,
        scale_error_every: int | None = None,
        scale_error_rate: float = 0.0,
    ) -> None:
        if part_size is not None and part_size < 1:
            raise ValueError(f"part_size must be >= 1, got {part_size}")
        from batchkit.emulator.aihub.backend import check_job_timing

        check_job_timing(job_polls=job_polls, job_seconds=job_seconds)
        check_workforce(
            task_seconds=scale_task_seconds,
            workers=scale_workers,
            error_every=scale_error_every,
            error_rate=scale_error_rate,
        )
        self._part_size = part_size
        self._accept = _accept(None if tokens is None else frozenset(tokens))
        self._clock = clock
        self._job_polls = job_polls
        self._job_seconds = job_seconds
        self._decider = Decider(faults, _latency(latency))
        self._requests = RequestLog()
        self._scale = ScaleBackend(
            clock=clock,
            task_seconds=scale_task_seconds,
            workers=scale_workers,
            error_every=scale_error_every,
            error_rate=scale_error_rate,
        )
        self._scale_app = ScaleApp(self._scale, accept=self._accept)
        self._lock = threading.Lock()
        self._aihub_parts: tuple[AIHubBackend, AIHubApp] | None = None
        self._storage: list[Path] = []
        self._loop = LoopThread()
        self._server_url: str | None = None
        self._app = EmulatorApp(
            aihub=self._aihub_app,
            scale=self._scale_app,
            log=self._requests,
            decider=self._decider,
            sleep=sleep or anyio.sleep,
        )
        self._finalizer = weakref.finalize(self, _cleanup, self._loop, self._storage)

    # -- state ---------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault rules in force; assign a new `Faults` (or None) to change them."""
        return self._decider.faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._decider.set_faults(faults)

    @property
    def latency(self) -> Latency | None:
        """The added latency; assign a `Latency`, seconds as a float, or None."""
        return self._decider.latency

    @latency.setter
    def latency(self, latency: Latency | float | None) -> None:
        self._decider.set_latency(_latency(latency))

    @property
    def requests(self) -> RequestLog:
        """Every request received, in the order their responses were produced."""
        return self._requests

    @property
    def scale(self) -> ScaleBackend:
        """The Scale AI state, with a Python control API (projects, batches, tasks)."""
        return self._scale

    @property
    def aihub(self) -> AIHubBackend:
        """The Instabase AI Hub state, with a Python control API."""
        return self._aihub()[0]

    def _aihub(self) -> tuple[AIHubBackend, AIHubApp]:
        with self._lock:
            if self._aihub_parts is None:
                from batchkit.emulator.aihub import AIHubApp, AIHubBackend

                storage = Path(tempfile.mkdtemp(prefix="batchkit-emulator-aihub-"))
                self._storage.append(storage)
                backend = AIHubBackend(
                    clock=self._clock,
                    storage_dir=storage,
                    job_polls=self._job_polls,
                    job_seconds=self._job_seconds,
                )
                if self._part_size is not None:
                    backend.part_size = self._part_size
                self._aihub_parts = (backend, AIHubApp(backend, accept=self._accept))
            return self._aihub_parts

    def _aihub_app(self) -> ASGIApp:
        return self._aihub()[1]

    @property
    def app(self) -> ASGIApp:
        """The root ASGI app (mount it in your own server if you like)."""
        return self._app

    # -- reaching it ---------------------------------------------------------------------

    def transport(self) -> EmulatorTransport:
        """A sync httpx transport running the emulator in process (no socket)."""
        return EmulatorTransport(self._app, self._loop)

    def async_transport(self) -> AsyncEmulatorTransport:
        """An async httpx transport running the emulator in process (no socket)."""
        return AsyncEmulatorTransport(self._app)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Emulator]:
        """Serve on ``host:port`` (0: a free port) from a background thread while in the block.

        Yields the emulator itself, whose `url` and API roots now point at the socket.
        """
        from batchkit.emulator._server import BackgroundServer

        with self._lock:
            if self._server_url is not None:
                raise RuntimeError(f"this Emulator is already served at {self._server_url}")
            server = BackgroundServer(self._app, host=host, port=port)
            self._server_url = server.url
        try:
            server.start()
            yield self
        finally:
            with self._lock:
                self._server_url = None
            server.stop()

    @property
    def served(self) -> bool:
        """Whether `serve` is running."""
        return self._server_url is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` while served, else `IN_PROCESS_URL`.

        The in-process URL only works through `transport` / `async_transport`.
        """
        return self._server_url or self.IN_PROCESS_URL

    @property
    def aihub_api_root(self) -> str:
        """The AI Hub API root, ``<url>/api``."""
        return f"{self.url}/api"

    @property
    def scale_api_root(self) -> str:
        """The Scale API root, ``<url>/v1``."""
        return f"{self.url}/v1"

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the in-process transport's loop and delete stored files. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Emulator url={self.url!r} requests={len(self._requests)}>"


def _latency(latency: Latency | float | None) -> Latency | None:
    if latency is None or isinstance(latency, Latency):
        return latency
    return Latency(fixed=float(latency))
