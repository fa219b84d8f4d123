"""How the contract suite reaches each provider, sync and async.

Each registered provider needs an entry in `SETUPS`: a function that connects it, with the
`connect` it is given, to a service as a fresh tenant. A registered provider with no entry
fails the suite (it is not skipped). Async providers are driven through `AsyncView`, which
runs every call on an event loop in a blocking portal, so each scenario is written once and
exercises `AsyncBatchProvider` for real: its async session, driver and iterators.

The toy vendor (tests/toy_vendor) is a third-party package built on `batchkit.adapters`
alone; `toy_installed` puts it on `sys.path` with its dist-info, so batchkit's registry finds
it through its entry point, as it would after `pip install`.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
from anyio.from_thread import BlockingPortal

import batchkit
from batchkit import _registry as registry
from batchkit.emulator import Emulator

TOY_PATH = Path(__file__).resolve().parent.parent / "toy_vendor"

#: connect(name, **settings) -> a provider (sync, or an `AsyncView` of an async one)
Connect = Callable[..., Any]


class AsyncView:
    """An `AsyncBatchProvider` seen through a blocking portal: awaited methods become plain
    calls, async iterators plain iterators; everything else is the provider's own."""

    def __init__(self, provider: batchkit.AsyncBatchProvider, portal: BlockingPortal) -> None:
        self._provider = provider
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._provider, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self._portal.call(lambda: attr(*a, **kw))
        if callable(attr) and not isinstance(attr, type):
            return lambda *a, **kw: self._wrap(attr(*a, **kw))
        return attr

    def _wrap(self, result: Any) -> Any:
        if isinstance(result, AsyncIterator):
            return self._iterate(result)
        return result

    def _iterate(self, items: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._portal.call(items.__anext__)
            except StopAsyncIteration:
                return

    def __enter__(self) -> AsyncView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._portal.call(self._provider.aclose)


def sync_connect(name: str, **settings: Any) -> Any:
    return batchkit.connect(name, **settings)


def async_connect(portal: BlockingPortal) -> Connect:
    def connect(name: str, **settings: Any) -> Any:
        async def build() -> batchkit.AsyncBatchProvider:
            return batchkit.connect_async(name, **settings)

        return AsyncView(portal.call(build), portal)

    return connect


@attrs.frozen
class Setup:
    """A connected provider plus the keyword arguments its batches need."""

    provider: Any
    create_kwargs: dict[str, Any]
    #: requests the service has answered so far (to prove a call sent none)
    sent: Callable[[], int]
    #: the same provider as another tenant
    other: Callable[[str], Setup]
    #: bytes in the multipart scenario's file (cassette mode makes it small)
    big_file_size: int = 320_000


def _aihub(emu: Emulator, credential: str, connect: Connect) -> Setup:
    provider = connect(
        "aihub", api_root=emu.aihub_api_root, token=credential,
        multipart_threshold=64 * 1024, poll_initial=0.0, poll_max=0.05,
        # the emulator's built-in app: `start` runs it (a pipeline's profile names its own)
        app="batchkit-extractor",
    )
    return Setup(provider, {}, lambda: len(emu.requests),
                 lambda other: _aihub(emu, other, connect))


def _scale(emu: Emulator, credential: str, connect: Connect) -> Setup:
    provider = connect(
        "scale", api_root=emu.scale_api_root, api_key=credential, task_type="imageannotation",
        task_fields={"geometries": {"box": {"objects_to_annotate": ["cat"]}}},
        poll_initial=0.0, poll_max=0.05,
    )
    # a Studio project: its batches start staging, so finalize has work to do
    provider.create_project("contract", type="imageannotation", studio=True)
    return Setup(provider, {"project": "contract"}, lambda: len(emu.requests),
                 lambda other: _scale(emu, other, connect))


def _toy(emu: Emulator, credential: str, connect: Connect, server: Any = None) -> Setup:
    # imported here: the toy is importable only while installed (toy_installed)
    from batchkit_toy.server import ToyServer

    server = server or ToyServer()
    provider = connect("toy", token=credential, transport=server.transport())
    return Setup(provider, {}, lambda: server.requests,
                 lambda other: _toy(emu, other, connect, server))


#: the providers whose service is the batchkit emulator: they also run against it in-process
EMULATED = frozenset({"aihub", "scale"})


def in_process(connect: Connect, emu: Emulator, *, is_async: bool) -> Connect:
    """`connect` through the in-process emulator's transport (no sockets)."""
    transport = emu.async_transport() if is_async else emu.transport()
    return lambda name, **settings: connect(name, transport=transport, **settings)


SETUPS: dict[str, Callable[[Emulator, str, Connect], Setup]] = {
    "aihub": _aihub,
    "scale": _scale,
    "toy": _toy,
}


@contextlib.contextmanager
def toy_installed() -> Iterator[None]:
    """The toy vendor installed for the block: on `sys.path` with its dist-info, and the
    registry re-reading the entry points; afterwards, as before."""
    with registry._lock:
        saved = (dict(registry._targets), dict(registry._loaded), registry._discovered)
        sys.path.insert(0, str(TOY_PATH))
        importlib.invalidate_caches()
        registry._targets.clear()
        registry._loaded.clear()
        registry._discovered = False
    try:
        registry._discover()
        yield
    finally:
        with registry._lock:
            sys.path.remove(str(TOY_PATH))
            registry._targets.clear()
            registry._targets.update(saved[0])
            registry._loaded.clear()
            registry._loaded.update(saved[1])
            registry._discovered = saved[2]
