"""Bulk download (`provider.download`): every file of a batch into a folder, concurrent,
atomic per file, resumable, verified; sync and async."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

import batchkit
from batchkit.emulator import Emulator, Fault, Faults


@pytest.fixture
def emu() -> Emulator:
    return Emulator(job_polls=1)


def _aihub(emu: Emulator) -> batchkit.BatchProvider:
    return batchkit.connect("aihub", api_root=emu.aihub_api_root, token="dl",
                            transport=emu.transport(), multipart_threshold=64 * 1024)


def _batch(p: batchkit.BatchProvider, files: dict[str, bytes]) -> batchkit.Batch:
    batch = p.create_batch("dl")
    for name, data in files.items():
        p.upload_file(batch, name, data)
    return batch


FILES = {"a.pdf": b"%PDF a", "big.bin": os.urandom(200_000), "empty.txt": b"",
         "ünïcode name.txt": b"u"}


def test_every_file_arrives_byte_exact_and_a_rerun_skips_them(emu: Emulator,
                                                               tmp_path: Path) -> None:
    """All files land in the folder (made if missing), byte-exact; a second run downloads
    nothing and reports every file skipped."""
    p = _aihub(emu)
    batch = _batch(p, FILES)
    out = tmp_path / "out" / "nested"
    report = p.download(batch, out)
    assert report.ok
    assert sorted(FILES) == [f.name for f in report.downloaded]
    assert FILES == {f.name: (out / f.name).read_bytes() for f in report.files}
    again = p.download(batch, out)
    assert (sorted(FILES), []) == ([f.name for f in again.skipped], again.downloaded)


def test_a_file_that_fails_leaves_nothing_partial_and_the_rest_go_on(
    emu: Emulator, tmp_path: Path
) -> None:
    """A file whose reads keep failing is reported failed with its reason, leaves no file
    (nor temporary file) behind, and the others arrive; strict=True raises with the report."""
    p = _aihub(emu)
    batch = _batch(p, FILES)
    emu.faults = Faults(rules=[Fault.status(500, methods={"GET"}, paths=["*/big.bin"])])
    report = p.download(batch, tmp_path)
    assert ["big.bin"] == [f.name for f in report.failed]
    assert "500" in (report.failed[0].reason or "")
    assert sorted(set(FILES) - {"big.bin"}) == sorted(f.name for f in report.downloaded)
    assert sorted(set(FILES) - {"big.bin"}) == sorted(x.name for x in tmp_path.iterdir())
    with pytest.raises(batchkit.DownloadIncomplete) as info:
        p.download(batch, tmp_path, strict=True)
    assert ["big.bin"] == [f.name for f in info.value.report.failed]
    emu.faults = Faults()
    resumed = p.download(batch, tmp_path)
    assert (["big.bin"], 3) == ([f.name for f in resumed.downloaded], len(resumed.skipped))


def test_a_file_of_another_size_in_the_folder_is_downloaded_again(
    emu: Emulator, tmp_path: Path
) -> None:
    """Only a file with the batch's size counts as already there: a stale copy is replaced."""
    p = _aihub(emu)
    batch = _batch(p, {"a.pdf": b"%PDF new"})
    (tmp_path / "a.pdf").write_bytes(b"old")
    report = p.download(batch, tmp_path)
    assert ["a.pdf"] == [f.name for f in report.downloaded]
    assert b"%PDF new" == (tmp_path / "a.pdf").read_bytes()


def test_bad_input_and_missing_capabilities_send_nothing(emu: Emulator, tmp_path: Path) -> None:
    """A file as the folder, bad concurrency, or Scale (no listing): refused before any
    request."""
    p = _aihub(emu)
    (tmp_path / "file").write_bytes(b"x")
    before = len(emu.requests)
    with pytest.raises(batchkit.InvalidInput, match="not a folder"):
        p.download("1", tmp_path / "file")
    with pytest.raises(batchkit.InvalidInput, match="concurrency"):
        p.download("1", tmp_path, concurrency=0)
    scale = batchkit.connect("scale", api_root=emu.scale_api_root, api_key="k",
                             transport=emu.transport())
    with pytest.raises(batchkit.UnsupportedOperation, match="aihub"):
        scale.download("b", tmp_path)
    assert before == len(emu.requests)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_async_client_downloads_the_same(emu: Emulator, tmp_path: Path,
                                             backend: str) -> None:
    """connect_async: the same files, byte-exact, files in flight as tasks."""
    batch = _batch(_aihub(emu), FILES)

    async def main() -> batchkit.DownloadReport:
        async with batchkit.connect_async(
            "aihub", api_root=emu.aihub_api_root, token="dl", transport=emu.async_transport()
        ) as p:
            return await p.download(batch, tmp_path, concurrency=3)

    report = anyio.run(main, backend=backend)
    assert report.ok
    assert FILES == {name: (tmp_path / name).read_bytes() for name in FILES}
