"""The Scale leg of the labeling loop under faults: exactly one task per item, every result
accounted for.

Task creation is retried on lost answers and 5xx (a task's `unique_id` turns a repeat into a
409, which the client resolves by looking the task up), so a file upload (Files API, then a
task) or a batch of `add_tasks` that meets faults and is rerun ends with one task per file
or spec, never two; the run then completes and `results` names every item once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import batchkit
from batchkit import ItemState, RunState, TaskSpec
from batchkit.emulator import Emulator, Fault, Faults

TASK = "/v1/task/*"  # a glob: task creates (get/cancel are GET / .../cancel)
FAULTS = Faults(
    seed=20261202,
    rules=[
        # the create was applied, its answer lost: the retry meets a 409 on the unique_id
        Fault.lost_response(methods={"POST"}, paths=[TASK], times=4),
        Fault.lost_response(rate=0.15, methods={"POST"}, paths=[TASK]),
        Fault.lost_response(rate=0.1, methods={"POST"}, paths=["/v1/files/upload"]),
        Fault.status(500, rate=0.05, methods={"POST"}),
        Fault.status(502, rate=0.05),
        Fault.status(503, rate=0.05, retry_after=0),
        Fault.rate_limit(rate=0.05, retry_after=0),
        Fault.reset(rate=0.03, methods={"GET"}),
    ],
)


@pytest.fixture
def emu() -> Emulator:
    return Emulator(job_polls=1, faults=FAULTS)


def _connect(emu: Emulator) -> batchkit.BatchProvider:
    return batchkit.connect(
        "scale", api_root=emu.scale_api_root, api_key="soak", transport=emu.transport(),
        task_type="imageannotation", poll_initial=0.0, poll_max=0.05, retry_attempts=8,
        task_fields={"geometries": {"box": {"objects_to_annotate": ["cat"]}}},
    )


def _tasks_by_item(emu: Emulator, batch: str) -> Counter[str]:
    """The tasks the server holds for the batch, counted by the item they were made from
    (read with the faults off: the server's truth, not the client's)."""
    faults, emu.faults = emu.faults, Faults()
    try:
        with batchkit.connect("scale", api_root=emu.scale_api_root, api_key="soak",
                              transport=emu.transport()) as truth:
            return Counter(
                t.metadata.get("batchkit_item") or t.unique_id or t.id
                for t in truth.list_tasks(batch)
            )
    finally:
        emu.faults = faults


def test_uploads_under_faults_rerun_until_done_make_one_task_per_file(
    emu: Emulator, tmp_path: Path
) -> None:
    """Upload 40 files under ~30% faulted requests, rerunning what failed: the batch ends with
    exactly one task per file; the run completes and every file has one completed result."""
    folder = tmp_path / "scans"
    folder.mkdir()
    names = {f"scan-{i:02d}.png" for i in range(40)}
    for name in names:
        (folder / name).write_bytes(b"\x89PNG" + name.encode())
    with _connect(emu) as p:
        p.create_project("soak", type="imageannotation", studio=True)
        batch = p.create_batch("soak-batch", project="soak")
        for _ in range(6):  # reruns: the resume of a Scale upload
            report = p.upload(batch, folder)
            if report.ok:
                break
        assert report.ok, report.failed
        assert dict.fromkeys(names, 1) == dict(_tasks_by_item(emu, batch.id))
        assert any(r.method == "POST" and r.status == 409 for r in emu.requests), (
            "no retried create met its own task: the faults did not exercise adoption"
        )
        done = p.wait(p.start(batch), timeout=120)
        assert RunState.COMPLETED == done.state
        results = list(p.results(done))
    assert names == {r.item for r in results}
    assert len(names) == len(results)
    assert {ItemState.COMPLETED} == {r.state for r in results}


def test_add_tasks_under_lost_answers_adds_each_spec_once(emu: Emulator) -> None:
    """30 specs whose creates lose answers and fail with 5xx: the returned tasks are the
    server's, one per spec, in order; adding them again returns the same tasks."""
    specs = [
        TaskSpec("imageannotation", {"attachment": f"https://img.test/{i}.png",
                                     "geometries": {"box": {"objects_to_annotate": ["cat"]}}})
        for i in range(30)
    ]
    with _connect(emu) as p:
        p.create_project("soak-tasks", type="imageannotation")
        batch = p.create_batch("soak-tasks-batch", project="soak-tasks")
        tasks = p.add_tasks(batch, specs, concurrency=8)
        again = p.add_tasks(batch, specs, concurrency=8)
    held = _tasks_by_item(emu, batch.id)
    assert 30 == len(held)
    assert {1} == set(held.values())
    assert [t.id for t in tasks] == [t.id for t in again]
    assert [s.fields["attachment"] for s in specs] == [t.raw["params"]["attachment"]
                                                       if "params" in t.raw
                                                       else t.raw["attachment"] for t in tasks]
