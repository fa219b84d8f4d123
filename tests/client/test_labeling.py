"""The labeling loop on a fake server: tasks in (Scale), runs started and waited for, results
read back (AI Hub and Scale), parsed from the vendors' documented examples."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import json
import sys
import time
from typing import Any

import httpx
import pytest

import batchkit
from batchkit import (
    Conflict,
    InvalidInput,
    ItemState,
    Result,
    Run,
    RunFailed,
    RunState,
    RunTimeout,
    TaskSpec,
    UnsupportedOperation,
)

# -- AI Hub ----------------------------------------------------------------------------


def _hub(kit, handle, **settings: Any):
    rec = kit.Recorder(handle)
    return kit.aihub(rec.transport, **settings), rec


def _one_file_batch(request: httpx.Request) -> httpx.Response | None:
    """GET /v2/batches/7/files: a batch holding one file."""
    if request.method == "GET" and request.url.path.endswith("/v2/batches/7/files"):
        return httpx.Response(200, json={"nodes": [{"name": "a.pdf", "size": 3}],
                                         "next_page_token": ""})
    return None


def test_aihub_results_parse_the_documented_example(kit):
    """The spec's results example: one Result per file, its fields by name, completed."""
    provider, rec = _hub(kit, lambda r: kit.fixture_response("aihub_run_results_docs.json"))
    results = list(provider.results("a1b2c3d4-e5f6-7890-abcd-ef1234567890"))
    assert ["test.png", "test2.png"] == [r.item for r in results]
    address = "123 STREET RD ANYWHERE, USA,12345"
    assert {"employers_address_and_ZIP_code": address} == results[0].output
    assert {"sex": "Male"} == results[1].output
    assert [ItemState.COMPLETED] * 2 == [r.state for r in results]
    assert "Wage And Tax Statement" == results[0].raw["documents"][0]["class_name"]
    (request,) = rec.requests
    assert "/api/v2/apps/runs/a1b2c3d4-e5f6-7890-abcd-ef1234567890/results" == request.url.path
    assert ("0", "true") == (request.url.params["file_offset"],
                             request.url.params["include_confidence_scores"])


def test_aihub_results_follow_file_offset_while_has_more(kit):
    """Pages are asked from file_offset 0, then after the files received, until has_more
    is false."""
    def handle(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["file_offset"])
        names = [f"f{i}.pdf" for i in range(offset, min(offset + 2, 5))]
        files = [{"original_file_name": n, "documents": [{"fields": [
            {"field_name": "n", "value": n}]}]} for n in names]
        return httpx.Response(200, json={"status": "COMPLETE", "files": files,
                                         "has_more": offset + 2 < 5})

    provider, rec = _hub(kit, handle)
    assert [f"f{i}.pdf" for i in range(5)] == [r.item for r in provider.results("run-1")]
    assert ["0", "2", "4"] == [r.url.params["file_offset"] for r in rec.requests]


def test_an_aihub_file_whose_every_field_failed_is_a_failed_result(kit):
    """AI Hub has no per-file status: a file whose fields all carry error_msg / ERROR
    failed, with the messages; one good field keeps it completed."""
    files = [
        {"original_file_name": "bad.pdf", "documents": [{"fields": [
            {"field_name": "a", "value": "ERROR", "error_msg": "unreadable page"},
            {"field_name": "b", "value": "ERROR"}]}]},
        {"original_file_name": "mixed.pdf", "documents": [{"fields": [
            {"field_name": "a", "value": "ERROR", "error_msg": "x"},
            {"field_name": "b", "value": "42"}]}]},
    ]
    provider, _ = _hub(kit, lambda r: httpx.Response(200, json={
        "status": "COMPLETE", "files": files, "has_more": False}))
    bad, mixed = provider.results("r")
    assert (ItemState.FAILED, "unreadable page") == (bad.state, bad.error)
    assert ItemState.COMPLETED == mixed.state


def test_aihub_start_without_an_app_is_refused_before_any_request(kit):
    """No app= / deployment= and none in the settings: InvalidInput saying how to give one."""
    provider, rec = _hub(kit, lambda r: httpx.Response(500))
    with pytest.raises(InvalidInput, match="app="):
        provider.start("7")
    with pytest.raises(InvalidInput, match="not both"):
        provider.start("7", app="a", deployment="d")
    assert [] == rec.requests


def test_aihub_start_runs_the_app_on_the_batch_with_an_integer_batch_id(kit):
    """POST /v2/apps/runs {"app_name", "batch_id": 7} (an integer, as the spec's schema and
    the SDK say); the run comes back RUNNING, with its id."""
    def handle(request: httpx.Request) -> httpx.Response:
        found = _one_file_batch(request)
        if found is not None:
            return found
        assert "/api/v2/apps/runs" == request.url.path
        return httpx.Response(200, json={"id": "run-9", "status": "RUNNING", "batch_id": 7})

    provider, rec = _hub(kit, handle, app="invoices")
    run = provider.start("7")
    assert ("run-9", "7", RunState.RUNNING) == (run.id, run.batch_id, run.state)
    assert {"app_name": "invoices", "batch_id": 7} == json.loads(rec.requests[-1].content)


def test_aihub_start_a_deployment_posts_to_its_runs_and_takes_202(kit):
    """A deployment run: POST /v2/apps/deployments/{deployment-id}/runs, answered 202."""
    def handle(request: httpx.Request) -> httpx.Response:
        found = _one_file_batch(request)
        if found is not None:
            return found
        assert "/api/v2/apps/deployments/dep%201/runs" == request.url.raw_path.decode()
        return httpx.Response(202, json={"id": "run-d"})

    provider, rec = _hub(kit, handle)
    assert "run-d" == provider.start("7", deployment="dep 1").id
    assert {"batch_id": 7} == json.loads(rec.requests[-1].content)


def test_aihub_start_refuses_a_batch_without_files_and_starts_nothing(kit):
    """An empty batch would run on nothing: InvalidInput, and no run is created."""
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET", "no run may be started"
        return httpx.Response(200, json={"nodes": [], "next_page_token": ""})

    provider, _ = _hub(kit, handle, app="invoices")
    with pytest.raises(batchkit.EmptyBatch, match="has no files"):
        provider.start("7")


def _run_states(*states: str, msg: str | None = None):
    answers = iter(states)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "r", "status": next(answers), "batch_id": 7,
                                         "msg": msg})
    return handle


def test_aihub_wait_polls_until_complete_reporting_each_change(kit):
    """wait() polls the run, calls on_update once per change (RUNNING, then
    NEEDS_REVIEW, then COMPLETED) and returns the completed run."""
    provider, rec = _hub(kit, _run_states("RUNNING", "RUNNING", "STOPPED_AT_CHECKPOINT",
                                          "COMPLETE"))
    provider.sleep = lambda seconds: None
    seen: list[RunState] = []
    done = provider.wait("r", on_update=lambda run: seen.append(run.state))
    assert RunState.COMPLETED == done.state
    assert [RunState.RUNNING, RunState.NEEDS_REVIEW, RunState.COMPLETED] == seen
    assert 4 == len(rec.requests)


def test_aihub_a_failed_run_raises_run_failed_with_its_message(kit):
    """FAILED ends the wait with RunFailed carrying the run and AI Hub's msg."""
    provider, _ = _hub(kit, _run_states("RUNNING", "FAILED", msg="app crashed"))
    provider.sleep = lambda seconds: None
    with pytest.raises(RunFailed, match="app crashed") as info:
        provider.wait(Run(provider="aihub", id="r", batch_id="7"))
    assert RunState.FAILED == info.value.run.state


def test_wait_times_out_with_the_last_state_and_never_sleeps_past_the_timeout(kit):
    """A run still going after `timeout` raises RunTimeout with its last state; the waits
    add up to the timeout, not more."""
    provider, _ = _hub(kit, lambda r: httpx.Response(200, json={"id": "r", "status": "RUNNING"}))
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # really waits: the timeout is on the real clock
        slept.append(seconds)
        time.sleep(seconds)

    provider.sleep = sleep
    with pytest.raises(RunTimeout) as info:
        provider.wait("r", timeout=0.5)
    assert RunState.RUNNING == info.value.run.state
    assert sum(slept) <= 0.5


def test_wait_checks_its_arguments_before_any_request(kit):
    """A bad timeout, callback or run is InvalidInput with nothing sent."""
    provider, rec = _hub(kit, lambda r: httpx.Response(500))
    with pytest.raises(InvalidInput):
        provider.wait("r", timeout=float("nan"))
    with pytest.raises(InvalidInput):
        provider.wait("r", on_update="print")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        provider.wait(Run(provider="scale", id="b", batch_id="b"))
    assert [] == rec.requests


# -- Scale -----------------------------------------------------------------------------


class FakeScale:
    """Tasks by unique_id, a 409 with Scale's documented body on a reused one."""

    def __init__(self, *, batch_status: str = "staging", project_type: str = "studio") -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.batch_status = batch_status
        self.created = 0
        self.finalized = 0
        self.files: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if request.method == "GET" and path == "batches/b1":
            return httpx.Response(200, json={"name": "b1", "project": "p",
                                             "status": self.batch_status})
        if request.method == "GET" and path == "batches/b1/status":
            counts: dict[str, int] = {}
            for t in self.tasks.values():
                counts[t["status"]] = counts.get(t["status"], 0) + 1
            return httpx.Response(200, json={"status": self.batch_status, **counts})
        if request.method == "POST" and path == "batches/b1/finalize":
            self.finalized += 1
            self.batch_status = "in_progress"
            return httpx.Response(200, json={"name": "b1", "status": "in_progress"})
        if request.method == "POST" and path.startswith("task/"):
            body = json.loads(request.content)
            uid = body["unique_id"]
            if uid in self.tasks:
                return httpx.Response(409, json={"status_code": 409, "error": (
                    f'The unique_id ("{uid}") is already used for a different task '
                    f'({self.tasks[uid]["task_id"]}).')})
            self.created += 1
            task = {"task_id": f"t{self.created}", "status": "pending",
                    "type": path.split("/")[1], **body}
            self.tasks[uid] = task
            return httpx.Response(200, json=task)
        if request.method == "POST" and path == "files/upload":
            body = request.read()
            assert b'name="file"' in body
            assert b'name="display_name"' in body
            self.files.append(body)
            return httpx.Response(200, json={"id": f"f{len(self.files)}",
                                             "attachment_url": f"scaledata://x/f{len(self.files)}"})
        if request.method == "GET" and path == "tasks":
            params = request.url.params
            docs = [t for t in self.tasks.values()
                    if params.get("unique_id") in (None, t["unique_id"])
                    and params.get("batch") in (None, t["batch"])
                    and params.get("status") in (None, t["status"])]
            start = int(params.get("next_token") or 0)
            limit = int(params.get("limit", 100))
            page = docs[start:start + limit]
            more = start + limit < len(docs)
            return httpx.Response(200, json={
                "docs": page, "total": len(docs), "limit": limit, "offset": start,
                "has_more": more, "next_token": str(start + limit) if more else None})
        return httpx.Response(404, json={"error": f"no route {request.method} {path}"})


def _scale(kit, fake: FakeScale):
    rec = kit.Recorder(fake.handle)
    return kit.scale(rec.transport), rec


SPECS = [TaskSpec("imageannotation", {"attachment": f"https://img/{i}.png",
                                      "geometries": {"box": {"objects_to_annotate": ["cat"]}}})
         for i in range(3)]


def test_add_tasks_twice_creates_each_task_once(kit):
    """The same specs added again (a rerun) return the tasks already there: each unique_id
    is derived from the batch and the spec, and the 409 it meets is resolved by a lookup."""
    fake = FakeScale()
    provider, _ = _scale(kit, fake)
    first = provider.add_tasks("b1", SPECS)
    again = provider.add_tasks("b1", SPECS)
    assert 3 == fake.created
    assert [t.id for t in first] == [t.id for t in again]
    assert all(t.unique_id and t.unique_id.startswith("batchkit-") for t in first)
    assert len({t.unique_id for t in first}) == 3
    assert {"b1"} == {t.batch_id for t in first}
    sent = next(iter(fake.tasks.values()))
    assert ("b1", "p") == (sent["batch"], sent["project"])


def test_a_callers_unique_id_taken_by_another_task_is_a_conflict_naming_it(kit):
    """A spec's own unique_id already used elsewhere, met on a first attempt, is someone
    else's task: Conflict, with the id Scale names, not that task adopted."""
    fake = FakeScale()
    fake.tasks["mine"] = {"task_id": "other-7", "unique_id": "mine", "batch": "elsewhere",
                          "status": "pending", "type": "imageannotation"}
    provider, _ = _scale(kit, fake)
    spec = TaskSpec("imageannotation", {"attachment": "https://img/x.png"}, unique_id="mine")
    with pytest.raises(Conflict, match="other-7"):
        provider.add_tasks("b1", [spec])
    assert 0 == fake.created


def test_add_tasks_refuses_bad_specs_before_any_request(kit):
    """Two identical specs, a reserved key, a non-spec: InvalidInput, nothing sent."""
    provider, rec = _scale(kit, FakeScale())
    with pytest.raises(InvalidInput, match="same task"):
        provider.add_tasks("b1", [SPECS[0], SPECS[0]])
    with pytest.raises(InvalidInput, match="batch"):
        provider.add_tasks("b1", [TaskSpec("imageannotation", {"batch": "other"})])
    with pytest.raises(InvalidInput, match="TaskSpec"):
        provider.add_tasks("b1", [{"type": "imageannotation"}])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="iterable"):
        provider.add_tasks("b1", SPECS[0])  # type: ignore[arg-type]
    assert [] == rec.requests


def test_list_tasks_follows_next_token_and_filters_by_state(kit):
    """Pages follow next_token until has_more is false; state= goes to the server."""
    fake = FakeScale()
    provider, rec = _scale(kit, fake)
    provider.add_tasks("b1", [TaskSpec("imageannotation", {"attachment": f"u{i}"})
                              for i in range(250)])
    start = len(rec.requests)
    assert 250 == len(list(provider.list_tasks("b1")))
    pages = rec.requests[start:]
    assert [None, "100", "200"] == [r.url.params.get("next_token") for r in pages]
    list(provider.list_tasks("b1", state=ItemState.COMPLETED))
    assert "completed" == rec.requests[-1].url.params["status"]
    assert 7 == len(list(provider.list_tasks("b1", limit=7)))


def test_scale_start_refuses_an_empty_batch_and_finalizes_a_staging_one(kit):
    """No tasks: InvalidInput and no finalize. With tasks: a staging batch is finalized once
    and the run is RUNNING with its counts."""
    fake = FakeScale()
    provider, _ = _scale(kit, fake)
    with pytest.raises(batchkit.EmptyBatch, match="no tasks"):
        provider.start("b1")
    assert 0 == fake.finalized
    provider.add_tasks("b1", SPECS)
    run = provider.start("b1")
    assert (1, RunState.RUNNING, 3) == (fake.finalized, run.state, run.counts.pending)


def test_scale_start_of_a_batch_already_in_progress_changes_nothing(kit):
    """A standard project's batch is worked from creation: start sends no finalize."""
    fake = FakeScale(batch_status="in_progress")
    provider, _ = _scale(kit, fake)
    provider.add_tasks("b1", SPECS)
    assert RunState.RUNNING == provider.start("b1").state
    assert 0 == fake.finalized


def test_scale_start_takes_no_app(kit):
    """app= means nothing to Scale: InvalidInput saying so."""
    provider, rec = _scale(kit, FakeScale())
    with pytest.raises(InvalidInput, match="workforce"):
        provider.start("b1", app="x")
    assert [] == rec.requests


def test_scale_wait_completes_when_no_task_is_pending_and_results_name_each_item(kit):
    """The run completes once no task is pending; results give one Result per task, its
    item the file it came from (metadata) or its unique_id, errors failed."""
    fake = FakeScale(batch_status="in_progress")
    provider, _ = _scale(kit, fake)
    provider.sleep = lambda s: None
    specs = [TaskSpec("imageannotation", {"attachment": "u1"}, metadata={"batchkit_item": "a.png"}),
             TaskSpec("imageannotation", {"attachment": "u2"}, unique_id="uid-2")]
    provider.add_tasks("b1", specs)
    run = provider.start("b1")
    a, b = fake.tasks.values()
    a.update(status="completed", response={"annotations": [{"label": "cat"}]})
    b.update(status="error", response={"error": "attachment unreachable"})
    assert RunState.COMPLETED == provider.wait(run).state
    results = {r.item: r for r in provider.results(run)}
    assert {"a.png", "uid-2"} == set(results)
    assert (ItemState.COMPLETED, {"annotations": [{"label": "cat"}]}) == (
        results["a.png"].state, results["a.png"].output)
    assert (ItemState.FAILED, "attachment unreachable") == (
        results["uid-2"].state, results["uid-2"].error)


def test_scale_upload_makes_one_task_per_file_once(kit, tmp_path):
    """upload() on Scale: each file goes up through the Files API (a multipart form with its
    bytes) and becomes one task of the profile's task_type, its attachment the file's
    scaledata:// URL and its item the file name; uploading again makes no second task."""
    fake = FakeScale(batch_status="in_progress")
    rec = kit.Recorder(fake.handle)
    provider = kit.scale(rec.transport, task_type="imageannotation",
                         task_fields={"geometries": {"box": {"objects_to_annotate": ["cat"]}}})
    for i in range(3):
        (tmp_path / f"img{i}.png").write_bytes(b"PNG" + bytes([i]) * 10)
    report = provider.upload("b1", tmp_path)
    assert report.ok
    assert 3 == len(report.uploaded)
    again = provider.upload("b1", tmp_path)
    assert again.ok
    assert 3 == fake.created
    items = sorted(t["metadata"]["batchkit_item"] for t in fake.tasks.values())
    assert ["img0.png", "img1.png", "img2.png"] == items
    task = next(iter(fake.tasks.values()))
    assert task["attachment"].startswith("scaledata://")
    assert {"box": {"objects_to_annotate": ["cat"]}} == task["geometries"]
    assert any(b"PNG" + bytes([1]) * 10 in body for body in fake.files)


def test_scale_upload_without_a_task_type_is_a_config_error_before_any_request(kit, tmp_path):
    """Files become tasks of a type the profile names: none set is a ConfigError saying
    where to set it, with nothing sent."""
    (tmp_path / "a.png").write_bytes(b"x")
    provider, rec = _scale(kit, FakeScale())
    with pytest.raises(batchkit.ConfigError, match="task_type"):
        provider.upload_file("b1", "a.png", b"x")
    assert [] == rec.requests


def test_the_documented_task_example_parses(kit):
    """Scale's task object example: id, state, response, unique_id, created_at."""
    provider, _ = _scale_get_task(kit)
    task = provider.get_task("576ba74eec471ff9b01557cc")
    assert ("576ba74eec471ff9b01557cc", ItemState.COMPLETED) == (task.id, task.state)
    assert ({"category": "big"}, "product_experiment_dg3d9x83") == (task.response, task.unique_id)
    assert 2016 == task.created_at.year


def _scale_get_task(kit):
    rec = kit.Recorder(lambda r: kit.fixture_response("scale_task_docs.json"))
    return kit.scale(rec.transport), rec


def test_tasks_are_unsupported_on_aihub_naming_who_has_them(kit):
    """add_tasks on AI Hub: UnsupportedOperation naming scale, before any request."""
    provider, rec = _hub(kit, lambda r: httpx.Response(500))
    with pytest.raises(UnsupportedOperation, match="scale"):
        provider.add_tasks("7", SPECS)
    assert [] == rec.requests


def test_a_result_is_a_plain_value(kit):
    """Results compare by value (raw excluded), so pipelines can test them."""
    assert Result("a", ItemState.COMPLETED, {"x": 1}) == Result("a", ItemState.COMPLETED, {"x": 1})
    assert batchkit.Capability.RESULTS in batchkit.capability_matrix()["aihub"]


def test_a_scale_batch_shows_its_priority(kit):
    """Batch.priority is the batch's priority once set (None before, and on AI Hub)."""
    answers = iter([{"name": "b1", "project": "p", "status": "staging"},
                    {"name": "b1", "project": "p", "status": "staging", "priority": 25}])
    rec = kit.Recorder(lambda r: httpx.Response(200, json=next(answers)))
    provider = kit.scale(rec.transport)
    assert (None, 25) == (provider.get_batch("b1").priority, provider.get_batch("b1").priority)


def test_list_tasks_filters_on_tags_and_time_bounds_against_the_emulator():
    """Tags (any of them) and the bounds on created / completed time reach the server and
    select exactly the tasks they should: the emulator filters independently of the client,
    on a clock moved by hand. A naive datetime is UTC."""
    from datetime import UTC, datetime

    from batchkit.emulator import Emulator

    now = [1_800_000_000.0]
    emu = Emulator(clock=lambda: now[0], scale_task_seconds=None)
    p = batchkit.connect("scale", api_key="k", api_root=emu.scale_api_root,
                         transport=emu.transport())
    p.create_project("f", type="imageannotation")
    p.create_batch("fb", project="f")

    def spec(i: int, tags: list[str]) -> TaskSpec:
        return TaskSpec("imageannotation", {"attachment": f"https://img/{i}.png", "tags": tags,
                                            "geometries": {"box": {"objects_to_annotate": ["c"]}}})

    early = p.add_tasks("fb", [spec(0, ["cat"]), spec(1, ["dog"])], concurrency=1)
    now[0] += 3600
    late = p.add_tasks("fb", [spec(2, ["cat", "night"]), spec(3, [])], concurrency=1)
    assert [early[0].id] == emu.scale.complete_tasks("k", "fb", 1)  # the oldest, an hour on

    def ids(**filters: Any) -> set[str]:
        return {t.id for t in p.list_tasks("fb", **filters)}

    boundary = datetime.fromtimestamp(1_800_000_000.0 + 1800, UTC)
    assert {early[0].id, late[0].id} == ids(tags="cat")
    assert {early[0].id, late[0].id, early[1].id} == ids(tags=["cat", "dog"])
    assert {t.id for t in late} == ids(created_after=boundary)
    assert {t.id for t in early} == ids(created_before=boundary.replace(tzinfo=None))
    assert {early[0].id} == ids(completed_after=boundary)
    assert set() == ids(completed_before=boundary)
    assert {early[0].id} == ids(tags="cat", created_before=boundary, state="completed")
    assert set() == ids(tags="night", state="completed")


def test_list_tasks_refuses_bad_filters_before_any_request(kit):
    provider, rec = _scale(kit, FakeScale())
    with pytest.raises(InvalidInput, match="created_after must be a datetime"):
        provider.list_tasks("b1", created_after="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="tags must"):
        provider.list_tasks("b1", tags=[""])
    with pytest.raises(InvalidInput, match="tags must be a str or a list"):
        provider.list_tasks("b1", tags=7)  # type: ignore[arg-type]
    assert [] == rec.requests


def _scale_on(emu: Any) -> batchkit.BatchProvider:
    p = batchkit.connect("scale", api_key="k", api_root=emu.scale_api_root,
                         transport=emu.transport(), task_type="categorization",
                         task_fields={"categories": ["cat", "dog"]})
    p.create_project("u", type="categorization")
    p.create_batch("ub", project="u")
    return p


def test_scale_upload_of_urls_imports_each_and_makes_one_task_once():
    """http(s) URLs as upload sources: Scale fetches each itself (`POST /v1/files/import`,
    no byte through the client), and each becomes one task named by the URL's last path
    segment, percent-decoded, or by the name paired with it. A rerun makes no second task."""
    from batchkit.emulator import Emulator

    emu = Emulator(scale_task_seconds=None)
    p = _scale_on(emu)
    assert p.supports(batchkit.Capability.IMPORT_URLS)
    sources = ["https://cdn.example.com/scans/cat%201.png?sig=abc",
               ("dog.png", "HTTPS://cdn.example.com/x/7")]
    report = p.upload("ub", sources)
    assert ["cat 1.png", "dog.png"] == [f.name for f in report.uploaded]
    assert [s if isinstance(s, str) else s[1] for s in sources] == [
        f.source for f in report.uploaded]
    sent = [(r.method, r.path) for r in emu.requests]
    assert 2 == sent.count(("POST", "/v1/files/import"))
    assert ("POST", "/v1/files/upload") not in sent
    tasks = list(p.list_tasks("ub"))
    assert {"cat 1.png", "dog.png"} == {t.metadata["batchkit_item"] for t in tasks}
    assert all(t.raw["params"]["attachment"].startswith("scaledata://") for t in tasks)

    p.upload("ub", sources)
    assert 2 == len(list(p.list_tasks("ub")))


def test_a_url_without_a_file_name_is_refused_before_any_request():
    from batchkit.emulator import Emulator

    emu = Emulator(scale_task_seconds=None)
    p = _scale_on(emu)
    before = len(emu.requests)
    with pytest.raises(InvalidInput, match="names no file") as caught:
        p.upload("ub", ["https://cdn.example.com/scans/", "https://cdn.example.com/ok.png"])
    assert "https://cdn.example.com/scans/" in str(caught.value)
    assert before == len(emu.requests)


def test_ai_hub_refuses_url_sources_naming_who_fetches_urls_before_any_request(
    kit, monkeypatch
):
    """AI Hub fetches no URLs: without fsspec to stream them here (tests/remote covers that),
    UnsupportedOperation naming Scale and what to do instead, before any request; a FileUrl
    handed to upload_file directly is refused too."""
    monkeypatch.setitem(sys.modules, "fsspec", None)
    provider, rec = _hub(kit, lambda request: None)
    assert not provider.supports(batchkit.Capability.IMPORT_URLS)
    with pytest.raises(UnsupportedOperation, match="providers that support it: scale") as e:
        provider.upload("7", ["https://cdn.example.com/a.png", "https://cdn.example.com/b"])
    assert "https://cdn.example.com/a.png and 1 more): download the files" in str(e.value)
    assert e.value.hint
    with pytest.raises(InvalidInput, match="fetches no URLs"):
        provider.upload_file("7", "a.png", batchkit.FileUrl("https://cdn.example.com/a.png"))
    assert [] == rec.requests


def test_a_rerun_with_the_callers_own_unique_ids_returns_the_tasks_its_first_run_added():
    """add_tasks twice with the same specs carrying the caller's unique_ids (a pipeline
    rerun): the second call meets 409s and returns the tasks the first one added (same
    batch, type, attachment and metadata); a different attachment under a taken id is a
    Conflict naming the task."""
    from batchkit.emulator import Emulator

    emu = Emulator(scale_task_seconds=None)
    p = _scale_on(emu)
    specs = [TaskSpec("categorization", {"attachment": f"https://img/{i}.png",
                                         "categories": ["a", "b"]},
                      unique_id=f"mine-{i}", metadata={"row": i}) for i in range(3)]
    first = p.add_tasks("ub", specs)
    again = p.add_tasks("ub", specs)
    assert [t.id for t in first] == [t.id for t in again]
    assert 3 == len(list(p.list_tasks("ub")))
    other = TaskSpec("categorization", {"attachment": "https://img/other.png",
                                        "categories": ["a", "b"]}, unique_id="mine-0")
    with pytest.raises(Conflict, match=first[0].id):
        p.add_tasks("ub", [other])


def test_a_cancel_whose_answer_was_lost_is_not_an_error_when_retried(kit):
    """The first cancel takes effect but its answer is lost (a 502); the retry meets Scale's
    400 "not pending": batchkit looks the task up, finds it canceled, and returns it."""
    state = {"status": "pending", "cancels": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/task/t1/cancel"):
            state["cancels"] += 1
            if state["status"] == "pending":
                state["status"] = "canceled"
                return httpx.Response(502)
            return httpx.Response(400, json={"status_code": 400, "error":
                                             "Only a pending task can be canceled."})
        if request.url.path.endswith("/task/t1"):
            return httpx.Response(200, json={"task_id": "t1", "status": state["status"],
                                             "type": "categorization", "batch": "b1"})
        return httpx.Response(404)

    provider, _ = _scale(kit, type("H", (), {"handle": staticmethod(handle)})())
    assert batchkit.ItemState.CANCELED == provider.cancel_task("t1").state
    assert 2 == state["cancels"]
    state["status"] = "completed"
    with pytest.raises(batchkit.ProviderError, match="pending"):
        provider.cancel_task("t1")  # a first attempt refused: the refusal stands


def test_scale_upload_looks_the_batch_up_once_whatever_the_concurrency(tmp_path):
    from batchkit.emulator import Emulator

    emu = Emulator(scale_task_seconds=None)
    p = _scale_on(emu)
    for i in range(20):
        (tmp_path / f"f{i}.png").write_bytes(b"png %d" % i)
    before = len(emu.requests)
    assert 20 == len(p.upload("ub", tmp_path, concurrency=16).uploaded)
    gets = [r for r in emu.requests[before:] if (r.method, r.path) == ("GET", "/v1/batches/ub")]
    assert 1 == len(gets)
