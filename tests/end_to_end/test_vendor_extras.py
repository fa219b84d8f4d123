"""Operations beyond the contract suite, through batchkit against the loopback emulator."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import batchkit
from batchkit.emulator import Emulator, Fault, Faults


def aihub(emu: Emulator, token: str, **settings: Any) -> Any:
    """An AI Hub provider with small multipart thresholds and instant job polling."""
    return batchkit.connect(
        "aihub", api_root=emu.aihub_api_root, token=token, poll_initial=0.0, **settings
    )


def test_multipart_that_cannot_complete_is_aborted_and_reported(tmp_path: Path) -> None:
    """Every attempt at part 2 fails: the error surfaces and no session is left open."""
    with Emulator(part_size=1024).serve() as emu:
        p = aihub(emu, "abort", multipart_threshold=2048, retry_attempts=3)
        batch = p.create_batch("abort")
        emu.faults = Faults(rules=[Fault.status(500, methods="PUT", paths="*/parts/2")])
        with pytest.raises(batchkit.ServerError) as info:
            p.upload_file(batch, "big.bin", b"x" * 5000)
        emu.faults = None
        assert 500 == info.value.status
        assert [] == emu.aihub.open_sessions()
        aborts = [r for r in emu.requests if r.method == "POST" and "/sessions/" in r.path]
        assert [204] == [r.status for r in aborts]
        assert [] == list(p.list_files(batch))


def test_parallel_parts_reassemble_byte_exact_from_a_path(tmp_path: Path) -> None:
    """A file in many parts sent four at a time arrives identical."""
    data = bytes(range(251)) * 400  # 100,400 bytes: 25 parts of 4 KiB
    path = tmp_path / "scan.tiff"
    path.write_bytes(data)
    with Emulator(part_size=4096).serve() as emu:
        p = aihub(emu, "parts", multipart_threshold=8192, part_concurrency=4)
        batch = p.create_batch("parts")
        assert len(data) == p.upload_file(batch, "scan.tiff", path).size
        parts = [r for r in emu.requests if r.method == "PUT" and "/parts/" in r.path]
        assert 25 == len(parts)
        out = tmp_path / "back.tiff"
        assert len(data) == p.download_file(batch, "scan.tiff", out)
        assert data == out.read_bytes()


def test_aihub_list_filters_by_workspace_owner_time_and_limit(
    served_emulator: Emulator, tenant: str
) -> None:
    """Workspace and owner filter on the server; creation time and limit here."""
    p = aihub(served_emulator, tenant)
    a = p.create_batch("a", project="ws-a")
    b = p.create_batch("b", project="ws-b")
    assert [a.id] == [x.id for x in p.list_batches(project="ws-a")]
    assert {a.id, b.id} == {x.id for x in p.list_batches(owner=a.owner)}
    assert [] == list(p.list_batches(owner="somebody-else"))
    assert 1 == len(list(p.list_batches(limit=1)))
    future = datetime.now(UTC) + timedelta(days=1)
    assert [] == list(p.list_batches(created_after=future))
    assert {a.id, b.id} == {x.id for x in p.list_batches(created_before=future)}
    assert [] == list(p.list_batches(state=batchkit.BatchState.COMPLETED))


def test_delete_file_without_waiting_returns_a_job_to_wait_on(
    served_emulator: Emulator, tenant: str
) -> None:
    """wait=False hands back the job; wait_job then completes it."""
    p = aihub(served_emulator, tenant)
    batch = p.create_batch("jobs")
    p.upload_file(batch, "a.txt", io.BytesIO(b"a"))
    job = p.delete_file(batch, "a.txt", wait=False)
    assert job is not None
    assert batchkit.JobState.PENDING == job.state
    assert batchkit.JobState.COMPLETE == p.wait_job(job).state
    assert [] == list(p.list_files(batch))


def test_filesystem_head_tells_folders_from_files(served_emulator: Emulator, tenant: str) -> None:
    """HEAD on the batch folder is a folder; on a file, a file with its size and date."""
    p = aihub(served_emulator, tenant)
    batch = p.create_batch("fs")
    p.upload_file(batch, "x.pdf", b"12345")
    folder = p.batch_path(batch)
    assert not p.fs_head(folder).is_file
    info = p.fs_head(f"{folder}/x.pdf")
    assert (True, 5) == (info.is_file, info.size)
    assert info.modified_at is not None
    with pytest.raises(batchkit.NotFound):
        p.fs_head(f"{folder}/missing.pdf")


def test_scale_list_filters_by_state_time_and_limit(served_emulator: Emulator, tenant: str) -> None:
    """State, creation window and limit narrow the list; newest batches come first."""
    p = batchkit.connect("scale", api_root=served_emulator.scale_api_root, api_key=tenant)
    p.create_project("filters", type="imageannotation", rapid=True)  # type: ignore[attr-defined]
    first = p.create_batch("first", project="filters")
    p.create_batch("second", project="filters")
    p.finalize(first)
    in_progress = batchkit.BatchState.IN_PROGRESS
    assert ["first"] == [b.name for b in p.list_batches(project="filters", state=in_progress)]
    assert ["second", "first"] == [b.name for b in p.list_batches(project="filters")]
    assert ["second"] == [b.name for b in p.list_batches(project="filters", limit=1)]
    future = datetime.now(UTC) + timedelta(days=1)
    assert [] == list(p.list_batches(project="filters", created_after=future))
    assert [] == list(p.list_batches(project="other"))


def test_scale_task_counts_follow_the_labelers(served_emulator: Emulator, tenant: str) -> None:
    """Tasks added and completed in the emulator show in status; all done → completed."""
    emu = served_emulator
    p = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=tenant)
    p.create_project("counts", type="imageannotation")  # type: ignore[attr-defined]
    batch = p.create_batch("counted", project="counts")
    emu.scale.add_tasks(tenant, "counted", 4)
    p.finalize(batch)
    emu.scale.complete_tasks(tenant, "counted", 3)
    assert batchkit.TaskCounts(pending=1, completed=3) == p.status(batch).counts
    emu.scale.complete_tasks(tenant, "counted", 1, outcome="error")
    status = p.status(batch)
    assert (batchkit.BatchState.COMPLETED, 4) == (status.state, status.counts.total)  # type: ignore[union-attr]


def test_scale_metadata_and_callback_round_trip(served_emulator: Emulator, tenant: str) -> None:
    """Metadata set at creation and later, and the callback, come back from get_batch."""
    p = batchkit.connect("scale", api_root=served_emulator.scale_api_root, api_key=tenant)
    p.create_project("meta", type="imageannotation")  # type: ignore[attr-defined]
    p.create_batch("m", project="meta", callback="https://example.com/hook", metadata={"k": 1},
                   options={"calibration_batch": False})
    assert {"k": 1} == p.get_batch("m").raw["metadata"]
    p.set_metadata("m", {"k": 2})  # type: ignore[attr-defined]
    fetched = p.get_batch("m")
    assert ({"k": 2}, "https://example.com/hook") == (fetched.raw["metadata"],
                                                     fetched.raw["callback"])


def test_a_standard_scale_project_runs_batches_at_once(
    served_emulator: Emulator, tenant: str
) -> None:
    """A batch of a standard project is in progress from creation; finalize returns it as is,
    and projects read back by name and in the list."""
    p = batchkit.connect("scale", api_root=served_emulator.scale_api_root, api_key=tenant)
    p.create_project("plain", type="imageannotation")  # type: ignore[attr-defined]
    batch = p.create_batch("plain-1", project="plain")
    assert batchkit.BatchState.IN_PROGRESS == batch.state
    assert batchkit.BatchState.IN_PROGRESS == p.finalize(batch).state
    assert "plain" == p.get_project("plain").name  # type: ignore[attr-defined]
    assert ["plain"] == [x.name for x in p.list_projects()]  # type: ignore[attr-defined]


def test_a_file_deleted_without_waiting_leaves_listings_once_its_job_is_due(
    tmp_path: Path,
) -> None:
    """Nobody polls the deletion job: the file still goes, on the emulator's clock."""
    now = [1_000.0]
    with Emulator(clock=lambda: now[0], job_seconds=0.5) as emu:
        p = batchkit.connect("aihub", transport=emu.transport(), api_root=emu.aihub_api_root,
                             token="t")
        batch = p.create_batch("b")
        p.upload_file(batch, "a.pdf", b"%PDF-1.7")
        p.delete_file(batch, "a.pdf", wait=False)
        assert ["a.pdf"] == [f.name for f in p.list_files(batch)]
        now[0] += 1.0
        assert [] == [f.name for f in p.list_files(batch)]
