"""The emulator against the vendors' API descriptions, with schemathesis.

AI Hub: Instabase's official OpenAPI spec, narrowed to the operations the emulator serves.
Scale: ``docs/scale-v1-openapi.yaml``, batchkit's description of the v1 endpoints (Scale
publishes none). For every generated request: no 5xx, a documented status, a documented
content type and headers, a body matching the response schema, schema-valid requests
accepted and schema-violating ones refused; then stateful scenarios that chain operations
through the links schemathesis infers (create → read → delete → read answers 404, …).

The spec documents fewer statuses than the service sends. Each such difference is listed
ONCE, with why, in :data:`DEVIATIONS` below; nothing else is excluded or skipped. See
docs/conformance.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import settings

from batchkit.emulator import Emulator
from batchkit.emulator.aihub import EXTRACTOR_APP, EXTRACTOR_DEPLOYMENT_ID, FAIL_DEPLOYMENT_ID
from batchkit.emulator.scale import urls as scale_urls
from tests.conformance._harness import (
    AIHUB_NOT_EMULATED,
    AIHUB_OPERATIONS,
    AIHUB_SPEC,
    AIHUB_TOKEN,
    BIG_BUDGET,
    CI_BUDGET,
    SCALE_KEY,
    SCALE_SPEC,
    Budget,
    Deviation,
    EmulatorSwitch,
    aihub_schema,
    emulator_switch,
    load_yaml,
    operations_by_id,
    scale_schema,
)

# -- the one list of deviations --------------------------------------------------------------

#: Statuses the real AI Hub sends (and the emulator, modelled on it, answers) that the
#: official spec does not list for the operation. A 400 entry also lets the operation
#: refuse a schema-valid request with 400: the service checks more than the spec's schemas
#: say, as ``why`` tells. Scale's spec is batchkit's own and documents every status, so it
#: needs none.
DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        204,
        ("commitMultipartUploadSession",),
        "the spec says 201; Instabase's Batches API reference says 204 No Content, and the "
        "SDK takes any 2xx: the emulator answers 204 (no body), as the reference does",
        ("POST", "/v2/batches/multipart-upload/sessions/{session}", {"json": {"action": "abort"}}),
    ),
    Deviation(
        400,
        ("listBatches",),
        "limit and offset are typed `integer` with no bounds; the service refuses a negative "
        "one (and the emulator one of more than 18 digits, past any real count)",
        ("GET", "/v2/batches", {"params": {"limit": "-1"}}),
    ),
    Deviation(
        400,
        ("listFiles",),
        "page_size is typed `integer` with no bounds and start_token any string; the service "
        "takes page sizes 1-1000 and only a start_token it issued for this batch",
        ("GET", "/v2/batches/1/files", {"params": {"page_size": "0"}}),
    ),
    Deviation(
        404,
        ("pollBatchesJob", "jobStatus"),
        "the spec documents only 200, but a job id that was never issued (or is another "
        "tenant's) cannot have a state: 'does not exist, or denied access', as for batches",
        ("GET", "/v2/jobs/no-such-job", {}),
    ),
    Deviation(
        400,
        ("createBatch",),
        "name is typed any string, but its description caps it at 255 characters, and an "
        "empty name names nothing; workspace is one folder name (no '/', '.' or '..')",
        ("POST", "/v2/batches", {"json": {"name": ""}}),
    ),
    Deviation(
        400,
        ("addFileToBatch", "createMultipartUploadSession"),
        "filename is typed any string, but a batch is a flat list of files: the service takes "
        "1-255 characters with a stem and an extension, no '/'; file_size must be 0 to 1 TiB "
        "(and, in the emulator, batch_id at most 18 digits)",
        ("PUT", "/v2/batches/1/files/noext", {"content": b"x"}),
    ),
    Deviation(
        400,
        ("uploadMultipartPart",),
        "part_num is typed any integer; the service takes 1 up to the number of parts the "
        "session's file_size needs, each part at most part_size bytes",
        ("PUT", "/v2/batches/multipart-upload/sessions/{session}/parts/2", {"content": b"x"}),
    ),
    Deviation(
        400,
        ("commitMultipartUploadSession",),
        "parts is 'required when action is commit' (prose, not schema), and must list the "
        "uploaded parts 1..n in order with their ids",
        ("POST", "/v2/batches/multipart-upload/sessions/{session}", {"json": {"action": "commit"}}),
    ),
    Deviation(
        400,
        ("readFile", "getFileMetadata"),
        "IB-Retry-Config is typed any string, but its description gives the form "
        "{retries:N,backoff-seconds:S}; the emulator refuses others rather than guess",
        (
            "GET",
            "/v2/files/x",
            {"params": {"expect-node-type": "file"}, "headers": {"IB-Retry-Config": ""}},
        ),
    ),
    Deviation(
        400,
        ("runApp",),
        "every body property is optional in the schema, but the descriptions require app_name "
        "or app_id and batch_id or input_dir ('Required unless ...'; both of a pair is refused "
        "too); the input must hold a file (the spec does not say what AI Hub does with an "
        "empty batch: the emulator refuses it); output_workspace is one folder name and the "
        "tags are at most 500 characters together, as the description says",
        ("POST", "/v2/apps/runs", {"json": {"batch_id": 1}}),
    ),
    Deviation(
        400,
        ("runDeployment",),
        "batch_id, input_dir or manual_upstream_integration is required by the descriptions, "
        "not the schema; no emulated deployment has an upstream integration; the input must "
        "hold a file (batch 1 here is empty) and the tags are limited as for runApp",
        ("POST", f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs", {"json": {"batch_id": 1}}),
    ),
    Deviation(
        400,
        ("listRuns",),
        "limit, offset, from_timestamp and to_timestamp are typed `integer` with no bounds; the "
        "emulator refuses a negative one (or one of more than 18 digits)",
        ("GET", "/v2/apps/runs", {"params": {"limit": "-1"}}),
    ),
    Deviation(
        400,
        ("getRunResults",),
        "file_offset, 'the initial file index', is typed `integer` with no bounds; a negative "
        "index is refused",
        ("GET", "/v2/apps/runs/no-such-run/results", {"params": {"file_offset": "-1"}}),
    ),
)


# -- the suites ------------------------------------------------------------------------------

AIHUB_APP = emulator_switch(tokens={AIHUB_TOKEN})
SCALE_APP = emulator_switch(tokens={SCALE_KEY})


AIHUB = aihub_schema(budget=CI_BUDGET, deviations=DEVIATIONS, app=AIHUB_APP)
SCALE = scale_schema(budget=CI_BUDGET, app=SCALE_APP)
#: the long runs reuse the schemas; an explicit ``@settings`` outranks the configured budget
AT_LENGTH = settings(max_examples=BIG_BUDGET.examples)


@pytest.fixture(scope="module", autouse=True)
def _close_emulators() -> Iterator[None]:
    yield
    AIHUB_APP.close()
    SCALE_APP.close()


def _check(case: Any, app: EmulatorSwitch) -> None:
    app.reset()
    case.call_and_validate()


@AIHUB.parametrize()
def test_aihub_operation_conforms_to_the_official_spec(case: Any) -> None:
    """Every generated request to an emulated AI Hub operation gets a documented answer."""
    _check(case, AIHUB_APP)


@SCALE.parametrize()
def test_scale_operation_conforms_to_batchkits_spec(case: Any) -> None:
    """Every generated request to a Scale v1 operation gets a documented answer."""
    _check(case, SCALE_APP)


@pytest.mark.conformance_big
@AIHUB.parametrize()
@AT_LENGTH
def test_aihub_operation_conforms_at_length(case: Any) -> None:
    """The AI Hub run with many more examples (``pytest -m conformance_big``)."""
    _check(case, AIHUB_APP)


@pytest.mark.conformance_big
@SCALE.parametrize()
@AT_LENGTH
def test_scale_operation_conforms_at_length(case: Any) -> None:
    """The Scale run with many more examples (``pytest -m conformance_big``)."""
    _check(case, SCALE_APP)


def _workflows(schema: Any, app: EmulatorSwitch, budget: Budget) -> Any:
    """A unittest case running ``budget.scenarios`` stateful scenarios of up to
    ``budget.steps`` calls, each against a fresh emulator."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            app.reset()

    test_case = Workflow.TestCase
    test_case.settings = settings(
        max_examples=budget.scenarios,
        stateful_step_count=budget.steps,
        derandomize=True,
        deadline=None,
        database=None,
    )
    return test_case


TestAIHubStatefulWorkflows = _workflows(AIHUB, AIHUB_APP, CI_BUDGET)
TestScaleStatefulWorkflows = _workflows(SCALE, SCALE_APP, CI_BUDGET)
TestAIHubStatefulWorkflowsAtLength = pytest.mark.conformance_big(
    _workflows(AIHUB, AIHUB_APP, BIG_BUDGET)
)
TestScaleStatefulWorkflowsAtLength = pytest.mark.conformance_big(
    _workflows(SCALE, SCALE_APP, BIG_BUDGET)
)


# -- the deviation list stays true -----------------------------------------------------------


@pytest.mark.parametrize(
    "deviation", DEVIATIONS, ids=[f"{d.status}-{'+'.join(d.operations)}" for d in DEVIATIONS]
)
def test_each_listed_deviation_is_real_and_undocumented(deviation: Deviation) -> None:
    """The example request gets the listed status, which the official spec does not list
    for the operation (at most its ``default`` error answer covers it): no entry lingers
    once the emulator or the spec changes."""
    spec = load_yaml(AIHUB_SPEC)
    by_id = operations_by_id(spec)
    for operation_id in deviation.operations:
        assert operation_id in AIHUB_OPERATIONS
        responses = by_id[operation_id][2]["responses"]
        assert str(deviation.status) not in responses, operation_id
    app = emulator_switch(tokens={AIHUB_TOKEN})
    try:
        emu = app.emulator
        with httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": f"Bearer {AIHUB_TOKEN}"},
        ) as client:
            # the state an example may refer to: batch 1 and a one-part session in it
            assert 200 == client.post("/v2/batches", json={"name": "seed"}).status_code
            started = client.post(
                "/v2/batches/multipart-upload",
                json={"batch_id": 1, "filename": "seed.bin", "file_size": 1},
            )
            assert 201 == started.status_code, started.text
            method, path, options = deviation.example
            path = path.format(session=started.json()["session_id"])
            response = client.request(method, path, **options)
    finally:
        app.close()
    assert deviation.status == response.status_code, response.text


def test_the_suite_selects_every_aihub_operation_the_emulator_serves_and_no_other() -> None:
    """The selected AI Hub operations exist in the spec; every other one is of a family the
    emulator does not serve (secrets, audit logs) and answers 404 there, so serving one
    means selecting it here."""
    by_id = operations_by_id(load_yaml(AIHUB_SPEC))
    assert set(AIHUB_OPERATIONS) <= set(by_id)
    left_out = {(m, path) for op, (m, path, _) in by_id.items() if op not in AIHUB_OPERATIONS}
    assert all(path.startswith(AIHUB_NOT_EMULATED) for _, path in left_out), left_out
    with (
        Emulator() as emu,
        httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": "Bearer selection"},
        ) as client,
    ):
        for method, path in sorted(left_out):
            response = client.request(method, re.sub(r"\{[^}]+\}", "x", path))
            assert 404 == response.status_code, (method, path)
            assert "no AI Hub endpoint" in response.json()["message"]


def test_the_scale_spec_describes_exactly_the_routes_the_emulator_serves() -> None:
    """docs/scale-v1-openapi.yaml and the emulator's Scale route table name the same
    (method, path) pairs (the emulator's own /_emulator controls aside)."""
    served = {
        (method, re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/v1")))
        for method, path, _ in scale_urls.URLS
        if path.startswith("/v1/")
    }
    described = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for method, path, _ in operations_by_id(load_yaml(SCALE_SPEC)).values()
    }
    assert served == described


def test_every_kind_of_aihub_run_answer_conforms_to_the_official_spec() -> None:
    """Generated requests seldom meet a run that exists (its id is a uuid): this drives runs
    through their whole life — RUNNING, COMPLETE with every include flag and a second page,
    FAILED, listed, deleted, its jobs polled, refused — and validates each answer against
    its operation in the official spec (status, content type, body schema)."""
    now = [1_700_000_000.0]
    checked: list[str] = []

    def check(operation_id: str, response: httpx.Response, status: int) -> dict[str, Any]:
        assert status == response.status_code, (operation_id, response.text)
        AIHUB.find_operation_by_id(operation_id).validate_response(response)
        checked.append(operation_id)
        body: dict[str, Any] = response.json()
        return body

    with (
        Emulator(clock=lambda: now[0], tokens={AIHUB_TOKEN}) as emu,
        httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": f"Bearer {AIHUB_TOKEN}"},
        ) as client,
    ):
        batch_id = check("createBatch", client.post("/v2/batches", json={"name": "b"}), 200)["id"]
        for index in range(12):
            client.put(f"/v2/batches/{batch_id}/files/f{index:02}.txt", content=b"x\fy")
        client.put(f"/v2/batches/{batch_id}/files/empty.txt", content=b"")
        settings_ = {"keys": {"custom": {"k": "v"}}, "tags": ["t"]}
        run = check(
            "runApp",
            client.post(
                "/v2/apps/runs",
                json={"app_name": EXTRACTOR_APP, "batch_id": batch_id, "settings": settings_},
            ),
            200,
        )
        deployed = check(
            "runDeployment",
            client.post(
                f"/v2/apps/deployments/{FAIL_DEPLOYMENT_ID}/runs", json={"batch_id": batch_id}
            ),
            202,
        )
        assert (
            "RUNNING"
            == check("getRunStatus", client.get(f"/v2/apps/runs/{run['id']}"), 200)["status"]
        )
        check("getRunResults", client.get(f"/v2/apps/runs/{run['id']}/results"), 200)
        now[0] += 1
        for run_id, state in ((run["id"], "COMPLETE"), (deployed["id"], "FAILED")):
            got = check("getRunStatus", client.get(f"/v2/apps/runs/{run_id}"), 200)
            assert state == got["status"]
            check("getRunResults", client.get(f"/v2/apps/runs/{run_id}/results"), 200)
        flags = {
            "include_review_results": "true",
            "include_confidence_scores": "true",
            "include_validation_results": "true",
            "include_source_info": "true",
        }
        for offset in (0, 10):
            page = check(
                "getRunResults",
                client.get(
                    f"/v2/apps/runs/{run['id']}/results",
                    params={**flags, "file_offset": offset},
                ),
                200,
            )
            assert page["files"]
        assert 2 == len(check("listRuns", client.get("/v2/apps/runs"), 200)["runs"])
        jobs = check("deleteRun", client.delete(f"/v2/apps/runs/{run['id']}"), 202)
        for job_id in jobs.values():
            check("jobStatus", client.get(f"/v2/jobs/{job_id}"), 200)
        check("getRunStatus", client.get(f"/v2/apps/runs/{run['id']}"), 404)
        check("getRunResults", client.get(f"/v2/apps/runs/{run['id']}/results"), 404)
        check("deleteRun", client.delete(f"/v2/apps/runs/{run['id']}"), 404)
        check("runApp", client.post("/v2/apps/runs", json={}), 400)
        check("runDeployment", client.post("/v2/apps/deployments/nope/runs", json={}), 404)
    run_operations = {"runApp", "runDeployment", "getRunStatus", "getRunResults", "listRuns"}
    assert run_operations | {"deleteRun"} <= set(checked)


def test_every_kind_of_scale_task_edit_answer_conforms_to_batchkits_spec() -> None:
    """Generated requests never meet a task that exists (its id is issued by a create, which
    needs a project): this edits real tasks through every edit operation — each success, a
    bad body (400), an unknown task (404), a unique_id taken (409), an audit of a task not
    yet completed (400) — and validates each answer against its operation in
    docs/scale-v1-openapi.yaml (status, content type, body schema). No stateful link leads
    to ``auditTask``: a task just created is pending, and auditing it is a 400."""
    now = [1_700_000_000.0]
    checked: list[str] = []

    def check(operation_id: str, response: httpx.Response, status: int) -> dict[str, Any]:
        assert status == response.status_code, (operation_id, response.text)
        SCALE.find_operation_by_id(operation_id).validate_response(response)
        checked.append(operation_id)
        body: dict[str, Any] = response.json()
        return body

    with (
        Emulator(clock=lambda: now[0], tokens={SCALE_KEY}) as emu,
        httpx.Client(
            transport=emu.transport(), base_url=emu.scale_api_root, auth=(SCALE_KEY, "")
        ) as client,
    ):
        check(
            "createProject",
            client.post("/projects", json={"name": "p", "type": "categorization"}),
            200,
        )
        first, second = (
            check(
                "createTask",
                client.post(
                    "/task/categorization",
                    json={"project": "p", "unique_id": f"u{n}", "categories": ["a", "b"]},
                ),
                200,
            )["task_id"]
            for n in range(2)
        )
        check("auditTask", client.post(f"/task/{first}/audit", json={"accepted": True}), 400)
        now[0] += 60  # the workforce completes both
        task = f"/task/{first}"
        meta = check("setTaskMetadata", client.post(f"{task}/setMetadata", json={"k": 1}), 200)
        assert {"k": 1} == meta["metadata"]
        check("setTaskMetadata", client.post(f"{task}/setMetadata", json=[1]), 400)
        check("setTaskTags", client.post(f"{task}/tags", json=["a", "b"]), 200)
        check("addTaskTags", client.put(f"{task}/tags", json=["c"]), 200)
        tags = check("deleteTaskTags", client.request("DELETE", f"{task}/tags", json=["a"]), 200)
        assert ["b", "c"] == tags["tags"]
        check("setTaskTags", client.post(f"{task}/tags", json={"tags": []}), 400)
        check("addTaskTags", client.put(f"{task}/tags", json=[1]), 400)
        check("deleteTaskTags", client.request("DELETE", f"{task}/tags", json="a"), 400)
        check("updateTaskUniqueId", client.post(f"{task}/unique_id", json={"unique_id": "v"}), 200)
        check("updateTaskUniqueId", client.post(f"{task}/unique_id", json={"unique_id": ""}), 400)
        taken = {"unique_id": "u1"}
        check("updateTaskUniqueId", client.post(f"{task}/unique_id", json=taken), 409)
        cleared = check("clearTaskUniqueId", client.delete(f"/task/{second}/unique_id"), 200)
        assert "unique_id" not in cleared
        rejection = {"accepted": False, "comments": "x"}
        audited = check("auditTask", client.post(f"{task}/audit", json=rejection), 200)
        assert "rejected" == audited["audits"][-1]["audit_result"]
        check("auditTask", client.post(f"{task}/audit", json={"comments": "x"}), 400)
        unknown = "/task/000000000000000000000000"
        check("setTaskMetadata", client.post(f"{unknown}/setMetadata", json={}), 404)
        check("setTaskTags", client.post(f"{unknown}/tags", json=[]), 404)
        check("addTaskTags", client.put(f"{unknown}/tags", json=[]), 404)
        check("deleteTaskTags", client.request("DELETE", f"{unknown}/tags", json=[]), 404)
        check("updateTaskUniqueId", client.post(f"{unknown}/unique_id", json=taken), 404)
        check("clearTaskUniqueId", client.delete(f"{unknown}/unique_id"), 404)
        check("auditTask", client.post(f"{unknown}/audit", json={"accepted": True}), 404)
        listed = check(
            "listTasks", client.get("/tasks", params={"customer_review_status": "rejected"}), 200
        )
        assert [first] == [doc["task_id"] for doc in listed["docs"]]
    edits = {
        "setTaskMetadata",
        "setTaskTags",
        "addTaskTags",
        "deleteTaskTags",
        "updateTaskUniqueId",
        "clearTaskUniqueId",
        "auditTask",
    }
    assert edits <= set(checked)
