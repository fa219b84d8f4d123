"""``python -m batchkit.emulator``: serve the emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m batchkit.emulator",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator on ``--host``/``--port`` until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        import uvicorn

        from batchkit.emulator._emulator import Emulator
        from batchkit.emulator._server import base_url, bind, make_config
    except ImportError as exc:
        print(f"{exc}: the emulator needs pip install 'batchkit[emulator]'", file=sys.stderr)
        return 2
    if args.job_polls < 0:
        print(f"--job-polls must not be negative, got {args.job_polls}", file=sys.stderr)
        return 2
    tokens = None
    if args.tokens is not None:
        tokens = {token.strip() for token in args.tokens.split(",") if token.strip()}
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with Emulator(tokens=tokens, job_polls=args.job_polls) as emulator:
        url = base_url(sock)
        print(f"AI Hub API root: {url}/api", flush=True)
        print(f"Scale API root: {url}/v1", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        server = uvicorn.Server(make_config(emulator.app))
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
    return 0
