"""Replay every vendor operation from vcrpy cassettes recorded against the emulator.

Re-record (after a wire change) with one command::

    BATCHKIT_RECORD_CASSETTES=1 pytest tests/cassette_tests

Recording starts a loopback emulator; replay (the default, and CI) sends nothing over the
network: record mode "none" fails any request that is not in the cassette.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr
from anyio.from_thread import BlockingPortal, start_blocking_portal

import batchkit
from batchkit.emulator import Emulator
from tests.contract.providers import Connect, async_connect, sync_connect

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
RECORDING = os.environ.get("BATCHKIT_RECORD_CASSETTES") == "1"
#: credentials used while recording; the scrub test proves they never reach a cassette
AIHUB_TOKEN = "cassette-aihub-token-3f9d2c7e1b"
SCALE_KEY = "cassette-scale-key-8a4e6b0d2f"
#: replay needs no server: requests match on method, path and query, not host or port
REPLAY_ROOT = "http://127.0.0.1:9"
MAX_BODY = 4096


def _shrink_body(request: Any) -> Any:
    """Keep cassettes small: replace big upload bodies by a marker (bodies aren't matched)."""
    body = request.body
    if isinstance(body, bytes | str) and len(body) > MAX_BODY:
        request.body = f"<{len(body)} bytes elided>".encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """filter_headers only touches requests: drop anything secret-like from responses too."""
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in ("authorization", "set-cookie", "www-authenticate"):
            del headers[name]
    return response


my_vcr = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="all" if RECORDING else "none",
    match_on=["method", "path", "query"],
    filter_headers=["authorization", "ib-context"],
    before_record_request=_shrink_body,
    before_record_response=_scrub_response,
    decode_compressed_response=True,
)


def cassette(name: str) -> Any:
    """`my_vcr.use_cassette(name)`; when recording, the old file goes first: record mode
    "all" keeps interactions the new run does not replace (stale multipart parts, with
    session ids of their own, would pile up)."""
    if RECORDING:
        (CASSETTES / name).unlink(missing_ok=True)
    return my_vcr.use_cassette(name)


@contextmanager
def roots() -> Iterator[tuple[str, str]]:
    """API roots: a live emulator while recording, a dead loopback port on replay."""
    if RECORDING:
        with Emulator(job_polls=1, part_size=16 * 1024).serve() as emu:
            yield emu.aihub_api_root, emu.scale_api_root
    else:
        yield REPLAY_ROOT + "/api", REPLAY_ROOT + "/v1"


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    """An event loop in a thread, for the async providers."""
    with start_blocking_portal() as portal:
        yield portal


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest, portal: BlockingPortal) -> Connect:
    """`batchkit.connect`, or `connect_async` seen through the portal: one cassette serves
    both, as both send the same requests (recording uses the sync client)."""
    if RECORDING and request.param == "async":
        pytest.skip("cassettes are recorded once, with the sync client")
    return sync_connect if request.param == "sync" else async_connect(portal)


def _aihub(connect: Connect, root: str) -> Any:
    p = connect(
        "aihub", api_root=root, token=AIHUB_TOKEN, multipart_threshold=32 * 1024,
        part_concurrency=1, poll_initial=0.0,
    )
    return p


def test_aihub_every_operation_replays_from_cassette(connect: Connect) -> None:
    """Batches, single and multipart upload, listing, ranged download, jobs, Filesystem API."""
    payload = bytes(range(256)) * 160  # 40 KB: multipart in three 16 KB parts
    with roots() as (aihub_root, _), cassette("aihub_operations.yaml"):
        p = _aihub(connect, aihub_root)
        batch = p.create_batch("cassette batch", project=None)
        assert batch.id.isdigit()
        fetched = p.get_batch(batch)
        assert "cassette batch" == fetched.name
        assert [batch.id] == [b.id for b in p.list_batches()]
        p.upload_file(batch, "small file.txt", b"hello cassette")
        p.upload_file(batch, "big.bin", payload)
        listed = {f.name: f.size for f in p.list_files(batch, page_size=1)}
        assert {"small file.txt": 14, "big.bin": len(payload)} == listed
        assert b"hello" == p.download_file(batch, "small file.txt", start=0, end=4)
        assert payload == p.download_file(batch, "big.bin")
        folder = p.batch_path(batch)
        info = p.fs_head(f"{folder}/small file.txt")
        assert (True, 14) == (info.is_file, info.size)
        assert p.fs_write(f"{folder}/via-fs.txt", b"fs", overwrite=False)
        with pytest.raises(batchkit.Conflict):
            p.fs_write(f"{folder}/via-fs.txt", b"again", overwrite=False)
        assert b"fs" == p.fs_read(f"{folder}/via-fs.txt")
        p.fs_delete(f"{folder}/via-fs.txt")
        p.delete_file(batch, "small file.txt")
        assert ["big.bin"] == [f.name for f in p.list_files(batch)]
        job = p.delete_batch(batch, wait=False)
        assert job is not None
        assert batchkit.JobState.COMPLETE == p.wait_job(job).state
        with pytest.raises(batchkit.NotFound):
            p.get_batch(batch)


def test_scale_every_operation_replays_from_cassette(connect: Connect) -> None:
    """Projects, batches with awkward names, status counts, finalize, list, prioritize."""
    name = "kittens 2026/11 #1?ü"
    with roots() as (_, scale_root), cassette("scale_operations.yaml"):
        p = connect("scale", api_root=scale_root, api_key=SCALE_KEY)
        project = p.create_project("cassette-project", type="imageannotation",  # type: ignore[attr-defined]
                                   params={"instruction": "label kittens"}, studio=True)
        assert "cassette-project" == project.name
        batch = p.create_batch(name, project="cassette-project", callback="https://example.com/cb",
                               metadata={"team": "a"})
        assert (name, batchkit.BatchState.STAGING) == (batch.id, batch.state)
        with pytest.raises(batchkit.Conflict):
            p.create_batch(name, project="cassette-project")
        assert name == p.get_batch(name).name
        assert batchkit.TaskCounts() == p.status(batch).counts
        assert batchkit.BatchState.IN_PROGRESS == p.finalize(batch).state
        p.prioritize(batch, 25)
        assert {"team": "b"} == p.set_metadata(batch, {"team": "b"}).raw["metadata"]  # type: ignore[attr-defined]
        listed = list(p.list_batches(project="cassette-project",
                                     state=batchkit.BatchState.IN_PROGRESS))
        assert [name] == [b.name for b in listed]
        with pytest.raises(batchkit.NotFound):
            p.get_batch("no such batch")


def test_cassettes_hold_no_credentials() -> None:
    """No recorded token, key or Authorization header is left in any cassette."""
    files = sorted(CASSETTES.glob("*.yaml"))
    assert files, "cassettes/ is empty: record them (see this module's docstring)"
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert AIHUB_TOKEN not in text, path
        assert SCALE_KEY not in text, path
        assert not re.search(r"(?i)authorization", text), path
        assert not re.search(r"Bearer\s+\S{8,}|Basic\s+[A-Za-z0-9+/=]{8,}", text), path
