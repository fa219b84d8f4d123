"""R3: an upload killed midway resumes to completion, sending nothing twice."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

import batchkit
from batchkit.emulator import Emulator

FILES = 40


def _files(folder: Path) -> dict[str, bytes]:
    contents = {f"page-{i:02d}.txt": f"page {i} ".encode() * (i + 1) for i in range(FILES)}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return contents


def test_interrupted_upload_resumes_and_sends_each_file_once(
    served_emulator: Emulator, tenant: str, tmp_path: Path
) -> None:
    """Ctrl-C after 10 files, then a rerun with the journal: every file once, all present."""
    emu = served_emulator
    folder = tmp_path / "scans"
    folder.mkdir()
    contents = _files(folder)
    journal = tmp_path / "upload.journal"
    p = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=tenant)
    batch = p.create_batch("interrupted")

    def stop_after_ten(event: batchkit.UploadProgress) -> None:
        if event.kind == "uploaded" and event.files_done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        p.upload(batch, folder, resume=journal, on_progress=stop_after_ten, concurrency=2)
    done_first = {f.name for f in p.list_files(batch)}
    assert 10 <= len(done_first) < FILES

    report = p.upload(batch, folder, resume=journal, concurrency=4, strict=True)

    assert FILES == len(report.uploaded) + len(report.skipped)
    assert done_first <= {f.name for f in report.skipped}
    puts = collections.Counter(
        r.path for r in emu.requests if r.method == "PUT" and r.tenant == tenant
    )
    assert FILES == len(puts)
    assert {1} == set(puts.values())
    assert {n: len(d) for n, d in contents.items()} == {f.name: f.size for f in p.list_files(batch)}
