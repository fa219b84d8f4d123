"""``python -m batchkit.emulator``: serve the emulator in the foreground until Ctrl-C or
SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

#: the signals that stop the emulator (uvicorn's own ``HANDLED_SIGNALS`` on POSIX)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """The first SIGINT or SIGTERM, noted (`requested`) and passed on to the uvicorn server
    (`should_exit`, which it checks several times a second, as its own handlers do).

    Nothing is raised from the handler: an exception at an arbitrary point of the main
    thread can land inside code holding a lock (it did: in `logging`, as uvicorn configured
    it, and the process exited 1 instead of 0). So a signal that comes before the server
    runs keeps it from starting, one that comes while it runs stops it, and either way the
    emulator's clean-up (deleting its storage) runs on the normal way out.
    """

    def __init__(self) -> None:
        self.requested = False
        #: the server to stop, once it exists
        self.server: Any = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Inside the block, SIGINT and SIGTERM are noted by the `StopRequest` it yields; the
    previous handlers are restored on the way out. Outside the main thread (where no
    handler can be set) they are left alone.

    uvicorn's own handlers take over while it serves: the first signal starts its graceful
    shutdown, and once the server has stopped it restores the handlers it found (these) and
    raises each signal it caught again ("cooperative signal handling", uvicorn 0.29+), which
    is noted here, after the server has closed its connections.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve the batchkit emulator of the Instabase AI Hub and Scale AI APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port, 0 for a free one (default %(default)s)"
    )
    parser.add_argument(
        "--tokens",
        default=None,
        help="comma-separated AI Hub tokens / Scale API keys to accept (default: any)",
    )
    parser.add_argument(
        "--job-polls",
        type=int,
        default=2,
        help="polls an AI Hub job stays running before it completes (default %(default)s)",
    )
    parser.add_argument(
        "--part-size",
        type=int,
        default=None,
        help="AI Hub multipart part size in bytes (default 10 MiB)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds added to every request (default %(default)s)",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="up to this many extra seconds per request, seeded (default %(default)s)",
    )
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None, prog: str = "python -m batchkit.emulator") -> int:
    """Run the emulator on ``--host``/``--port`` until Ctrl-C or SIGTERM (then its storage is
    deleted and the status is 0); returns the exit status (2 for a bad option or a port that
    cannot be used: change the arguments)."""
    args = _parser(prog).parse_args(argv)
    try:
        import uvicorn

        from batchkit.emulator._emulator import Emulator
        from batchkit.emulator._server import base_url, bind, make_config
    except ImportError as exc:
        return _fail(f"{exc}: the emulator needs pip install 'batchkit-client[emulator]'")
    if args.job_polls < 0:
        return _fail(f"--job-polls must not be negative, got {args.job_polls}")
    tokens = None
    if args.tokens is not None:
        tokens = {token.strip() for token in args.tokens.split(",") if token.strip()}
    if not 0 <= args.port <= 65535:
        return _fail(f"--port must be from 0 to 65535 (0 picks a free one), got {args.port}")
    if args.part_size is not None and args.part_size < 1:
        return _fail(f"--part-size must be positive, got {args.part_size}")
    if args.latency < 0 or args.jitter < 0:
        return _fail("--latency and --jitter must not be negative")
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        return _fail(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "pick another --port (0 picks a free one)"
        )
    from batchkit.emulator._faults import Latency

    latency = (
        Latency(fixed=args.latency, jitter=args.jitter) if args.latency or args.jitter else None
    )
    with (
        stop_on_signals() as stop,
        contextlib.closing(sock),
        Emulator(
            tokens=tokens, job_polls=args.job_polls, part_size=args.part_size, latency=latency
        ) as emulator,
    ):
        # a bounded shutdown: a request still running 5 s after the signal is cancelled
        stop.server = uvicorn.Server(make_config(emulator.app, timeout_graceful_shutdown=5))
        stop.server.should_exit = stop.requested
        url = base_url(sock)
        print(f"AI Hub API root: {url}/api", flush=True)
        print(f"Scale API root: {url}/v1", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        if not stop.requested:
            stop.server.run(sockets=[sock])
    return 0
