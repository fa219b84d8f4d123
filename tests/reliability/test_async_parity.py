"""Sync/async parity: every operation of `BatchProvider` (and of the vendor façades) has an
awaited twin on `AsyncBatchProvider` with the same parameters, and both backends (asyncio,
trio) run every neutral operation end to end, answering what the sync client answers."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import collections.abc
import inspect
import os
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import batchkit
from batchkit import (
    AsyncBatchProvider,
    BatchProvider,
    BatchState,
    ItemState,
    JobState,
    NotFound,
    RunState,
    TaskSpec,
)
from batchkit._registry import async_provider_class, provider_class
from batchkit.emulator import Emulator
from batchkit.providers.aihub import AIHubProvider, AsyncAIHubProvider
from batchkit.providers.aihub import _protocol as aihub_wire
from batchkit.providers.scale import AsyncScaleProvider, ScaleProvider

PAIRS = [
    (BatchProvider, AsyncBatchProvider),
    (AIHubProvider, AsyncAIHubProvider),
    (ScaleProvider, AsyncScaleProvider),
]
PAIR_IDS = [sync.__name__ for sync, _ in PAIRS]
#: sync name -> its async twin's name, where they differ
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
#: on the sync class only: the async class to build (`batchkit.connect_async` uses it)
SYNC_ONLY = {"async_class"}
#: methods that do no I/O, plain functions on both clients
LOCAL = {"supports", "require", "batch_id", "from_settings"}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No batchkit.toml, profile or vendor variable of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.chdir(tmp_path)


def public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def methods(cls: type) -> set[str]:
    """Public names of `cls` that are functions or classmethods (not properties or data)."""
    return {
        name
        for name in public(cls)
        if isinstance(inspect.getattr_static(cls, name), types.FunctionType | classmethod)
    }


def shape(fn: Callable[..., Any]) -> list[tuple[str, str, object, object]]:
    """(name, kind, default, annotation) of every parameter."""
    return [
        (p.name, p.kind.name, p.default, p.annotation)
        for p in inspect.signature(fn).parameters.values()
    ]


def is_listing(fn: Callable[..., Any]) -> bool:
    """A sync listing returns an Iterator of items."""
    return str(inspect.signature(fn).return_annotation).startswith("Iterator[")


# -- the surface -------------------------------------------------------------------------


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=PAIR_IDS)
def test_every_public_name_of_the_sync_provider_has_an_async_twin_of_the_same_kind(
    sync: type[BatchProvider], async_: type[AsyncBatchProvider]
) -> None:
    """Methods, classmethods, properties and class attributes: the same names (close is
    aclose), each of the same kind, and nothing the sync client lacks."""
    twins = {RENAMED.get(name, name) for name in public(sync) - SYNC_ONLY}
    assert sorted(twins) == sorted(public(async_))
    kinds = {
        name: type(inspect.getattr_static(sync, name)).__name__ for name in public(sync) - SYNC_ONLY
    }
    async_kinds = {
        name: type(inspect.getattr_static(async_, RENAMED.get(name, name))).__name__
        for name in kinds
    }
    assert kinds == async_kinds
    assert not issubclass(async_, BatchProvider)


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=PAIR_IDS)
def test_every_async_twin_takes_the_same_parameters(
    sync: type[BatchProvider], async_: type[AsyncBatchProvider]
) -> None:
    """Names, kinds (positional / keyword-only), defaults and annotations of every
    parameter are the sync method's."""
    differences = {
        name: (shape(getattr(sync, name)), shape(getattr(async_, RENAMED.get(name, name))))
        for name in methods(sync)
        if shape(getattr(sync, name)) != shape(getattr(async_, RENAMED.get(name, name)))
    }
    assert {} == differences
    assert len(methods(sync)) >= 18


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=PAIR_IDS)
def test_async_operations_are_coroutines_and_listings_return_async_iterators(
    sync: type[BatchProvider], async_: type[AsyncBatchProvider]
) -> None:
    """Every operation that talks to the vendor is a coroutine function returning what the
    sync one returns; a listing is a plain method returning an AsyncIterator of the same
    items; local helpers stay plain functions on both."""
    kinds: dict[str, str] = {}
    returns: dict[str, tuple[str, str]] = {}
    for name in methods(sync) - LOCAL:
        sync_fn, async_fn = getattr(sync, name), getattr(async_, RENAMED.get(name, name))
        sync_returns = str(inspect.signature(sync_fn).return_annotation)
        async_returns = str(inspect.signature(async_fn).return_annotation)
        assert not inspect.iscoroutinefunction(sync_fn), name
        if is_listing(sync_fn):
            kinds[name] = "coroutine" if inspect.iscoroutinefunction(async_fn) else "listing"
            returns[name] = ("Async" + sync_returns, async_returns)
        else:
            kinds[name] = "coroutine" if inspect.iscoroutinefunction(async_fn) else "plain"
            returns[name] = (sync_returns, async_returns)
    listings = {"list_batches", "list_files", "list_tasks", "results"}
    expected = {name: "listing" if name in listings else "coroutine" for name in kinds}
    assert expected == kinds
    assert {name: pair[0] for name, pair in returns.items()} == {
        name: pair[1] for name, pair in returns.items()
    }
    for name in LOCAL:
        assert not inspect.iscoroutinefunction(getattr(async_, name)), name


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=PAIR_IDS)
def test_overloads_of_the_async_twins_match_the_sync_ones(
    sync: type[BatchProvider], async_: type[AsyncBatchProvider]
) -> None:
    """download_file and fs_read return bytes without `dest` and a count with one, typed by
    overloads on both clients: the same overloads, parameter for parameter."""
    overloaded = {}
    for name in methods(sync):
        sync_overloads = typing.get_overloads(getattr(sync, name))
        if sync_overloads:
            async_overloads = typing.get_overloads(getattr(async_, name))
            overloaded[name] = (
                [(shape(f), inspect.signature(f).return_annotation) for f in sync_overloads],
                [(shape(f), inspect.signature(f).return_annotation) for f in async_overloads],
            )
    assert {name: pair[0] for name, pair in overloaded.items()} == {
        name: pair[1] for name, pair in overloaded.items()
    }
    assert "download_file" in overloaded


@pytest.mark.parametrize(("sync", "async_"), PAIRS, ids=PAIR_IDS)
def test_every_async_twin_is_documented(
    sync: type[BatchProvider], async_: type[AsyncBatchProvider]
) -> None:
    """No async operation without a docstring (the reference docs are generated)."""
    undocumented = [
        name for name in methods(async_) if not (getattr(async_, name).__doc__ or "").strip()
    ]
    assert [] == undocumented


@pytest.mark.parametrize(
    ("name", "settings", "expected"),
    [
        ("aihub", {"token": "t"}, AsyncAIHubProvider),
        ("scale", {"api_key": "k"}, AsyncScaleProvider),
    ],
)
def test_connect_async_builds_the_vendors_own_async_class(
    name: str, settings: dict[str, str], expected: type[AsyncBatchProvider]
) -> None:
    """connect_async("aihub") is an AsyncAIHubProvider (with the vendor extras), over the
    adapter the sync provider uses, with the same name and capabilities."""
    sync = provider_class(name)
    provider = batchkit.connect_async(name, api_root="http://127.0.0.1:9/x", **settings)

    assert expected is type(provider)
    assert expected is sync.async_class
    assert expected is async_provider_class(name)
    assert sync.adapter_class is type(provider.adapter)
    assert (sync.name, sync.capabilities) == (provider.name, provider.capabilities)
    assert (sync.env_settings, sync.secret_settings) == (
        provider.env_settings,
        provider.secret_settings,
    )


def test_every_registered_provider_connects_async() -> None:
    """For each registered provider, its async class is an AsyncBatchProvider over the same
    adapter class (its own async class where it declares one)."""
    pairs = {}
    for name in batchkit.provider_names():
        sync, made = provider_class(name), async_provider_class(name)
        pairs[name] = (
            issubclass(made, AsyncBatchProvider),
            made.adapter_class is sync.adapter_class,
            sync.async_class in (None, made),
        )
    assert dict.fromkeys(batchkit.provider_names(), (True, True, True)) == pairs


# -- one round trip of every operation, on asyncio and trio ---------------------------------


class Recording:
    """A provider whose operations used are recorded by name."""

    def __init__(self, provider: AsyncBatchProvider) -> None:
        self.provider = provider
        self.used: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.used.add(name)
        return getattr(self.provider, name)


def operations(cls: type[AsyncBatchProvider]) -> set[str]:
    """The operations of `cls` that talk to the vendor (coroutines and listings)."""
    return methods(cls) - LOCAL - {"aclose"}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(job_polls=1, part_size=64 * 1024) as emu:
        yield emu


async def blocking(call: Callable[[], Any]) -> Any:
    """A call of the sync client, in a worker thread (the event loop keeps running)."""
    return await anyio.to_thread.run_sync(call)


async def _collect(listing: object) -> list[Any]:
    """The items of an async listing, which must be an async iterator and no awaitable."""
    assert isinstance(listing, collections.abc.AsyncIterator)
    assert not inspect.isawaitable(listing)
    return [item async for item in listing]


@pytest.mark.anyio
async def test_every_operation_round_trips_on_both_backends_as_on_the_sync_client(
    emu: Emulator, tmp_path: Path
) -> None:
    """AI Hub and Scale, awaited: every neutral operation and vendor extra is called once
    (the test checks none is left out) and answers as the sync client does on the same
    emulator state."""
    big = os.urandom(200_000)  # multipart: 64 KiB parts
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "one.pdf").write_bytes(b"%PDF one")
    (folder / "two.pdf").write_bytes(b"%PDF two")
    sync_hub = batchkit.connect(
        "aihub", api_root=emu.aihub_api_root, token="parity", transport=emu.transport()
    )
    sync_scale = batchkit.connect(
        "scale", api_root=emu.scale_api_root, api_key="parity", transport=emu.transport()
    )
    async with (
        batchkit.connect_async(
            "aihub",
            api_root=emu.aihub_api_root,
            token="parity",
            transport=emu.async_transport(),
            multipart_threshold=64 * 1024,
            poll_initial=0.0,
        ) as hub_provider,
        batchkit.connect_async(
            "scale", api_root=emu.scale_api_root, api_key="parity", transport=emu.async_transport()
        ) as scale_provider,
    ):
        hub, scale = Recording(hub_provider), Recording(scale_provider)

        # AI Hub: batches, files, sessions, jobs, the Filesystem API
        batch = await hub.create_batch("parity")
        assert await blocking(lambda: sync_hub.get_batch(batch.id)) == await hub.get_batch(batch)
        listed = await blocking(lambda: [b.id for b in sync_hub.list_batches()])
        assert listed == [b.id for b in await _collect(hub.list_batches())]
        assert await blocking(lambda: sync_hub.status(batch)) == await hub.status(batch.id)
        small = await hub.upload_file(batch, "small.pdf", b"%PDF-1.7")
        multipart = await hub.upload_file(batch, "big.bin", big)
        assert [("small.pdf", 8), ("big.bin", len(big))] == [
            (f.name, f.size) for f in (small, multipart)
        ]
        report = await hub.upload(batch, folder, verify="sha256")
        assert ["one.pdf", "two.pdf"] == [f.name for f in report.uploaded]
        files = await blocking(lambda: list(sync_hub.list_files(batch)))
        assert files == await _collect(hub.list_files(batch))
        assert big == await hub.download_file(batch, "big.bin")
        assert big[10:20] == await hub.download_file(batch, "big.bin", start=10, end=19)
        assert 8 == await hub.download_file(batch, "small.pdf", tmp_path / "copy.pdf")
        read = await blocking(lambda: sync_hub.download_file(batch, "small.pdf"))
        assert read == (tmp_path / "copy.pdf").read_bytes()
        deleted = await hub.delete_file(batch, "small.pdf")
        assert deleted is not None
        assert JobState.COMPLETE == deleted.state
        left = sorted(f.name for f in await _collect(hub.list_files(batch)))
        assert ["big.bin", "one.pdf", "two.pdf"] == left
        start = await hub_provider.http.send(aihub_wire.start_multipart(batch.id, "s.bin", 4))
        session, _ = aihub_wire.parse_session(start, hub_provider.http.api_root)
        assert 1 == len(emu.aihub.open_sessions())
        await hub.abort_upload_session(session)
        assert [] == emu.aihub.open_sessions()
        path = await hub.batch_path(batch)
        assert await blocking(lambda: sync_hub.batch_path(batch)) == path
        created_sync = await blocking(lambda: sync_hub.fs_write(f"{path}/sync.txt", b"sync"))
        assert created_sync == await hub.fs_write(f"{path}/fs.txt", b"via fs")
        head = await blocking(lambda: sync_hub.fs_head(f"{path}/fs.txt"))
        assert head == await hub.fs_head(f"{path}/fs.txt")
        assert b"via fs" == await hub.fs_read(f"{path}/fs.txt")
        fs_job = await hub.fs_delete(f"{path}/fs.txt", wait=False)
        assert fs_job is not None
        assert JobState.COMPLETE == (await hub.wait_job(fs_job)).state
        # AI Hub's labeling loop: a run of the emulator's built-in app, its results
        run = await hub.start(batch, app="batchkit-extractor")
        assert run.id == (await hub.get_run(run)).id
        done = await hub.wait(run, timeout=60)
        assert RunState.COMPLETED == done.state
        results = await _collect(hub.results(done))
        assert results == await blocking(lambda: list(sync_hub.results(done)))
        # sync.txt went into the batch's folder through the Filesystem API: a file of it
        assert {"big.bin", "one.pdf", "two.pdf", "sync.txt"} == {r.item for r in results}
        # an endpoint batchkit does not wrap, through the same session: the raw response
        raw = await hub.request("GET", f"v2/apps/runs/{done.id}", ok={200})
        assert raw.json() == (await blocking(
            lambda: sync_hub.request("GET", f"v2/apps/runs/{done.id}"))).json()
        mirror = await hub.download(batch, tmp_path / "mirror")
        assert mirror.ok
        assert big == (tmp_path / "mirror" / "big.bin").read_bytes()
        job = await hub.delete_batch(batch, wait=False)
        assert job is not None
        assert job.id == (await hub.get_job(job)).id
        assert JobState.COMPLETE == (await hub.wait_job(job)).state
        with pytest.raises(NotFound):
            await hub.get_batch(batch)

        # Scale: projects, batch lifecycle, metadata, priority, counts
        await scale.create_project("parity", type="imageannotation", studio=True)
        fetched = await blocking(lambda: sync_scale.get_project("parity"))
        assert fetched == await scale.get_project("parity")
        assert ["parity"] == [p.name for p in await scale.list_projects()]
        created = await scale.create_batch("parity-batch", project="parity")
        assert BatchState.STAGING == created.state
        tagged = await scale.set_metadata(created, {"team": "ops"})
        assert {"team": "ops"} == tagged.raw["metadata"]
        assert await scale.prioritize(created, 25) is None
        assert BatchState.IN_PROGRESS == (await scale.finalize(created)).state
        got = await blocking(lambda: sync_scale.get_batch("parity-batch"))
        assert got == await scale.get_batch("parity-batch")
        state = await blocking(lambda: sync_scale.status("parity-batch"))
        assert state == await scale.status("parity-batch")
        names = await blocking(lambda: [b.name for b in sync_scale.list_batches(project="parity")])
        detailed = await _collect(scale.list_batches(project="parity", detailed=True))
        assert names == [b.name for b in detailed]

        # Scale's labeling loop: tasks in (as specs, and from files), worked, results out
        await scale.create_project("loop", type="imageannotation")
        loop = await scale.create_batch("loop-batch", project="loop")
        specs = [
            TaskSpec(
                "imageannotation",
                {
                    "attachment": f"https://img.test/{i}.png",
                    "geometries": {"box": {"objects_to_annotate": ["cat"]}},
                },
            )
            for i in range(2)
        ]
        tasks = await scale.add_tasks(loop, specs)
        assert [t.id for t in tasks] == [t.id for t in await scale.add_tasks(loop, specs)]
        assert tasks[0] == await scale.get_task(tasks[0].id)
        listed_tasks = await _collect(scale.list_tasks(loop))
        assert sorted(t.id for t in tasks) == sorted(t.id for t in listed_tasks)
        assert ItemState.CANCELED == (await scale.cancel_task(tasks[1])).state
        run = await scale.start(loop)
        assert run.batch_id == (await scale.get_run(run)).batch_id
        done = await scale.wait(run, timeout=60)
        assert RunState.COMPLETED == done.state
        results = await _collect(scale.results(done))
        assert results == await blocking(lambda: list(sync_scale.results(done)))
        assert {ItemState.COMPLETED, ItemState.CANCELED} == {r.state for r in results}

    used = hub.used | scale.used
    neutral = operations(AsyncBatchProvider)
    extras = (operations(AsyncAIHubProvider) | operations(AsyncScaleProvider)) - neutral
    assert set() == neutral - used
    assert set() == extras - used
    assert len(neutral) >= 14
