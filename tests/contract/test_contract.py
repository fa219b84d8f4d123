"""The same neutral scenarios against every registered provider, sync and async, on loopback
and (the emulated vendors) through the in-process transports and from cassettes (see
tests/contract/cassettes.py, which also lists the scenarios cassette mode leaves out).

A scenario marked `@needs(Capability.X)` runs only for providers declaring X (chosen at
collection, so nothing is skipped); the missing ones are covered by
`test_every_missing_capability_raises_unsupported`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

import batchkit
from batchkit import Capability
from batchkit._capabilities import OPERATION_CAPABILITY
from batchkit._registry import provider_class
from batchkit.emulator import Emulator
from tests.contract.cassettes import cassette_setup, replayed
from tests.contract.providers import (
    EMULATED,
    SETUPS,
    Setup,
    async_connect,
    in_process,
    sync_connect,
    toy_installed,
)


def needs(*flags: Capability) -> pytest.MarkDecorator:
    """Run the scenario only for providers that declare every one of `flags`."""
    return pytest.mark.needs(*flags)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `setup` with every provider (the toy vendor installed) that has what the
    scenario needs, each sync and async."""
    if "setup" not in metafunc.fixturenames:
        return
    flags = [f for mark in metafunc.definition.iter_markers("needs") for f in mark.args]
    with toy_installed():
        names = [
            name
            for name in batchkit.provider_names()
            if all(f in provider_class(name).capabilities for f in flags)
        ]
    params = [(name, mode) for name in names for mode in ("sync", "async")]
    params += [(n, f"{m}-in-process") for n in names if n in EMULATED for m in ("sync", "async")]
    scenario = metafunc.definition.originalname
    params += [(n, f"{m}-cassette") for n in names if replayed(scenario, n)
               for m in ("sync", "async")]
    metafunc.parametrize("setup", params, indirect=True, ids=[f"{n}-{m}" for n, m in params])


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    """An event loop in a thread, for the async providers."""
    with start_blocking_portal() as portal:
        yield portal


@pytest.fixture(scope="module")
def inproc_emulator() -> Emulator:
    """An emulator reached through its in-process transports (no sockets)."""
    return Emulator(job_polls=1)


@pytest.fixture
def setup(
    request: pytest.FixtureRequest,
    served_emulator: Emulator,
    inproc_emulator: Emulator,
    tenant: str,
    portal: BlockingPortal,
) -> Iterator[Setup]:
    """A provider connected to its service as a fresh tenant: sync or async, on loopback or
    (the emulated vendors) in-process or from a cassette."""
    name, mode = request.param
    factory = SETUPS.get(name)
    if factory is None:
        pytest.fail(
            f"provider {name!r} is registered but the contract suite cannot set it up: add "
            "an entry to SETUPS in tests/contract/providers.py"
        )
    is_async = mode.startswith("async")
    connect = async_connect(portal) if is_async else sync_connect
    if mode.endswith("cassette"):
        with cassette_setup(name, request.node.originalname, factory, connect,
                            is_async=is_async) as s:
            yield s
        return
    emulator = served_emulator
    if mode.endswith("in-process"):
        emulator = inproc_emulator
        connect = in_process(connect, emulator, is_async=is_async)
    with toy_installed():
        s = factory(emulator, tenant, connect)
        with s.provider:
            yield s


def test_created_batch_can_be_fetched_and_listed(setup: Setup) -> None:
    """A new batch is returned by get_batch and appears in list_batches."""
    p = setup.provider
    batch = p.create_batch("contract-batch", **setup.create_kwargs)
    assert batch.provider == p.name
    fetched = p.get_batch(batch)
    assert (batch.id, "contract-batch") == (fetched.id, fetched.name)
    assert fetched.created_at is not None
    assert fetched.created_at.tzinfo is not None
    assert batch.id in [b.id for b in p.list_batches()]


def test_batch_id_string_works_like_the_batch(setup: Setup) -> None:
    """get_batch accepts the bare id as well as the Batch handle."""
    p = setup.provider
    batch = p.create_batch("by-id", **setup.create_kwargs)
    assert batch.id == p.get_batch(batch.id).id


def test_unknown_batch_is_not_found(setup: Setup) -> None:
    """Fetching a batch that does not exist raises NotFound naming the provider."""
    missing = "999999" if setup.provider.name == "aihub" else "no-such-batch"
    with pytest.raises(batchkit.NotFound) as info:
        setup.provider.get_batch(missing)
    assert setup.provider.name == info.value.provider


def test_other_tenants_batches_are_invisible(setup: Setup, tenant: str) -> None:
    """A batch made with one credential cannot be fetched with another."""
    batch = setup.provider.create_batch("private", **setup.create_kwargs)
    other = setup.other(tenant + "-other")
    with other.provider, pytest.raises(batchkit.NotFound):
        other.provider.get_batch(batch.id)


def test_status_reports_state_and_counts_where_supported(setup: Setup) -> None:
    """status() gives a state, and task counts exactly when STATUS_COUNTS is declared."""
    p = setup.provider
    batch = p.create_batch("status", **setup.create_kwargs)
    status = p.status(batch)
    assert batch.id == status.batch_id
    assert p.supports(Capability.STATUS_COUNTS) == (status.counts is not None)


@needs(Capability.UPLOAD_FILES, Capability.LIST_FILES)
def test_uploaded_files_are_listed_and_read_back_byte_exact(setup: Setup) -> None:
    """Small files from bytes, a path and a stream list with their sizes and read back."""
    p = setup.provider
    batch = p.create_batch("files", **setup.create_kwargs)
    p.upload_file(batch, "a.txt", b"alpha")
    p.upload_file(batch, "b.bin", io.BytesIO(b"\x00\x01" * 100))
    listed = {f.name: f.size for f in p.list_files(batch)}
    assert {"a.txt": 5, "b.bin": 200} == listed
    if p.supports(Capability.DOWNLOAD_FILES):
        assert b"alpha" == p.download_file(batch, "a.txt")
        assert b"lph" == p.download_file(batch, "a.txt", start=1, end=3)


@needs(Capability.MULTIPART_UPLOAD)
def test_big_file_goes_multipart_and_arrives_intact(setup: Setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file above the multipart threshold uploads in parts and reads back identical."""
    p = setup.provider
    data = hashlib.sha256(b"seed").digest() * (setup.big_file_size // 32)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    batch = p.create_batch("multipart", **setup.create_kwargs)
    p.upload_file(batch, "big.bin", path)
    assert [("big.bin", len(data))] == [(f.name, f.size) for f in p.list_files(batch)]
    assert data == p.download_file(batch, "big.bin")


@needs(Capability.DELETE_FILES)
def test_deleted_file_disappears(setup: Setup) -> None:
    """delete_file waits for the job and the file is no longer listed."""
    p = setup.provider
    batch = p.create_batch("delete-file", **setup.create_kwargs)
    p.upload_file(batch, "gone.txt", b"x")
    p.upload_file(batch, "kept.txt", b"y")
    p.delete_file(batch, "gone.txt")
    assert ["kept.txt"] == [f.name for f in p.list_files(batch)]


@needs(Capability.DELETE_BATCH)
def test_deleted_batch_is_gone(setup: Setup) -> None:
    """delete_batch(wait=True) returns after the batch is gone."""
    p = setup.provider
    batch = p.create_batch("delete-me", **setup.create_kwargs)
    p.delete_batch(batch)
    with pytest.raises(batchkit.NotFound):
        p.get_batch(batch)


@needs(Capability.FINALIZE)
def test_finalize_moves_batch_to_in_progress(setup: Setup) -> None:
    """finalize turns a staging batch into an in-progress one."""
    p = setup.provider
    batch = p.create_batch("finalize", **setup.create_kwargs)
    assert batchkit.BatchState.STAGING == batch.state
    assert batchkit.BatchState.IN_PROGRESS == p.finalize(batch).state


@needs(Capability.PRIORITIZE)
def test_prioritize_accepts_the_documented_range_only(setup: Setup) -> None:
    """Priorities 10 and 30 are accepted; 31 is refused before any request."""
    p = setup.provider
    batch = p.create_batch("prio", **setup.create_kwargs)
    p.prioritize(batch, 10)
    p.prioritize(batch, 30)
    before = setup.sent()
    with pytest.raises(batchkit.InvalidInput, match="10"):
        p.prioritize(batch, 31)
    assert before == setup.sent()


@needs(Capability.UPLOAD_FILES, Capability.RUNS, Capability.RESULTS)
def test_the_labeling_loop_items_in_processing_results_out(setup: Setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """upload -> start -> wait -> results, the same code on every vendor: each file comes
    back as one completed result, named by its file name."""
    p = setup.provider
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\n")
    batch = p.create_batch("loop", **setup.create_kwargs)
    assert p.upload(batch, tmp_path).ok
    seen: list[batchkit.RunState] = []
    done = p.wait(p.start(batch), timeout=120, on_update=lambda run: seen.append(run.state))
    assert batchkit.RunState.COMPLETED == done.state == seen[-1]
    results = {r.item: r for r in p.results(done)}
    assert {"a.txt", "b.txt"} == set(results)
    assert {batchkit.ItemState.COMPLETED} == {r.state for r in results.values()}
    assert all(r.output for r in results.values())


@needs(Capability.TASKS)
def test_tasks_are_added_once_listed_fetched_and_canceled(setup: Setup) -> None:
    """add_tasks twice adds each spec once (idempotent); the tasks list, fetch and cancel."""
    p = setup.provider
    batch = p.create_batch("tasks", **setup.create_kwargs)
    boxes = {"box": {"objects_to_annotate": ["cat"]}}
    specs = [
        batchkit.TaskSpec("imageannotation", {"attachment": f"https://img.test/{i}.png",
                                              "geometries": boxes})
        for i in range(3)
    ]
    # one at a time: in cassette mode the creates share one path, and replay matches on it
    # (concurrent adds are covered by tests/reliability/test_scale_loop_faults.py)
    tasks = p.add_tasks(batch, specs, concurrency=1)
    assert [t.id for t in tasks] == [t.id for t in p.add_tasks(batch, specs, concurrency=1)]
    assert sorted(t.id for t in tasks) == sorted(t.id for t in p.list_tasks(batch))
    assert tasks[0].id == p.get_task(tasks[0].id).id
    assert batchkit.ItemState.CANCELED == p.cancel_task(tasks[2]).state
    pending = [t.id for t in p.list_tasks(batch, state=batchkit.ItemState.PENDING)]
    assert sorted(t.id for t in tasks[:2]) == sorted(pending)


@needs(Capability.LIST_FILES, Capability.DOWNLOAD_FILES)
def test_a_batch_downloads_whole_into_a_folder(setup: Setup, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """download(batch, folder) brings every file back byte-exact; a rerun skips them."""
    p = setup.provider
    batch = p.create_batch("mirror", **setup.create_kwargs)
    p.upload_file(batch, "a.txt", b"alpha")
    p.upload_file(batch, "b.txt", b"beta")
    report = p.download(batch, tmp_path / "out")
    assert ["a.txt", "b.txt"] == [f.name for f in report.downloaded]
    assert b"beta" == (tmp_path / "out" / "b.txt").read_bytes()
    assert 2 == len(p.download(batch, tmp_path / "out").skipped)


@needs(Capability.RUNS)
def test_starting_an_empty_batch_is_refused(setup: Setup) -> None:
    """A batch with nothing in it would never complete: start raises EmptyBatch."""
    p = setup.provider
    batch = p.create_batch("empty", **setup.create_kwargs)
    with pytest.raises(batchkit.EmptyBatch, match="no "):
        p.start(batch)


def test_every_missing_capability_raises_unsupported(setup: Setup) -> None:
    """Each neutral operation the provider lacks raises UnsupportedOperation, sending nothing."""
    p = setup.provider
    batch = p.create_batch("unsupported", **setup.create_kwargs)
    calls = {
        "delete_batch": lambda: p.delete_batch(batch),
        "upload_file": lambda: p.upload_file(batch, "a.txt", b"x"),
        "list_files": lambda: p.list_files(batch),
        "delete_file": lambda: p.delete_file(batch, "a.txt"),
        "download_file": lambda: p.download_file(batch, "a.txt"),
        "finalize": lambda: p.finalize(batch),
        "prioritize": lambda: p.prioritize(batch, 20),
        "upload": lambda: p.upload(batch, []),
        "add_tasks": lambda: p.add_tasks(batch, []),
        "list_tasks": lambda: p.list_tasks(batch),
        "start": lambda: p.start(batch),
        "wait": lambda: p.wait("run-1"),
        "results": lambda: p.results("run-1"),
    }
    missing = [op for op in calls if not p.supports(OPERATION_CAPABILITY[op])]
    before = setup.sent()
    for op in missing:
        with pytest.raises(batchkit.UnsupportedOperation) as info:
            calls[op]()
        assert op == info.value.operation
        assert p.name in str(info.value)
    assert before == setup.sent()


def test_batch_from_another_provider_is_refused(setup: Setup) -> None:
    """Passing a handle from another provider is a clear InvalidInput, not a wrong request."""
    foreign = batchkit.Batch(provider="elsewhere", id="1", name="x")
    with pytest.raises(batchkit.InvalidInput, match="elsewhere"):
        setup.provider.get_batch(foreign)
