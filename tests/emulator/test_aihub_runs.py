"""AI Hub apps, deployments, runs and results in the emulator, over plain httpx.

Every test drives the emulator's clock by hand (no sleeping): a run is RUNNING until
``run_seconds`` (by default the job setting, 0.2 s) after it started by that clock, or until
its status has been polled ``run_polls`` times (default 2) and is polled again. The expected
field values are computed here from the uploaded bytes, independently of the emulator.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchkit.emulator import Emulator
from batchkit.emulator.aihub import (
    EXTRACTOR_APP,
    EXTRACTOR_APP_ID,
    EXTRACTOR_DEPLOYMENT_ID,
    FAIL_APP,
    FAIL_APP_ID,
    FAIL_DEPLOYMENT_ID,
    AIHubBackend,
)
from tests.emulator._aihub_helpers import START, FakeClock, create_batch, hub_client, upload

START_NS = 1_700_000_000_000_000_000
RUNS = "/v2/apps/runs"
#: every status of the spec's ``run`` schema (there is no PENDING)
SPEC_STATUSES = {"CANCELLED", "COMPLETE", "FAILED", "PAUSED", "RUNNING", "STOPPED_AT_CHECKPOINT"}
RUN_KEYS = {
    "id",
    "status",
    "start_timestamp",
    "finish_timestamp",
    "msg",
    "batch_id",
    "input_dir",
    "app_id",
    "deployment_id",
    "tags",
}
ALL_FLAGS = {
    "include_review_results": "true",
    "include_confidence_scores": "true",
    "include_validation_results": "true",
    "include_source_info": "true",
}




@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    """Default timing (runs like jobs: 2 polls or 0.2 s), on the fake clock."""
    with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def hub(emu: Emulator) -> Iterator[httpx.Client]:
    with hub_client(emu) as client:
        yield client




def batch_with(hub: httpx.Client, files: dict[str, bytes]) -> int:
    batch_id = create_batch(hub)
    for name, content in files.items():
        upload(hub, batch_id, name, content)
    return batch_id


def start(
    hub: httpx.Client, batch_id: int | str | None, app: str = EXTRACTOR_APP, **body: Any
) -> dict[str, Any]:
    """Run ``app`` on a batch (or, with ``batch_id=None``, on ``input_dir=...``): 200."""
    if batch_id is not None:
        body["batch_id"] = batch_id
    response = hub.post(RUNS, json={"app_name": app, **body})
    assert 200 == response.status_code, response.text
    run: dict[str, Any] = response.json()
    return run


def status(hub: httpx.Client, run_id: str) -> dict[str, Any]:
    response = hub.get(f"{RUNS}/{run_id}")
    assert 200 == response.status_code, response.text
    run: dict[str, Any] = response.json()
    assert RUN_KEYS == set(run)
    assert run["status"] in SPEC_STATUSES
    return run


def results(hub: httpx.Client, run_id: str, **params: Any) -> dict[str, Any]:
    response = hub.get(f"{RUNS}/{run_id}/results", params=params)
    assert 200 == response.status_code, response.text
    body: dict[str, Any] = response.json()
    return body


def fields_of(document: dict[str, Any]) -> dict[str, str]:
    return {field["field_name"]: field["value"] for field in document["fields"]}


def expected_fields(name: str, content: bytes) -> dict[str, str]:
    """The extractor's documented fields, computed here from the bytes."""
    first = content.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    return {
        "file_name": name,
        "size": str(len(content)),
        "sha256": hashlib.sha256(content).hexdigest(),
        "first_line": first[:200],
        "page_count": str(content.count(b"\f") + 1),
    }


def all_results(hub: httpx.Client, run_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every file of a run's results, walked exactly as the spec's paging sample does."""
    files: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = results(hub, run_id, file_offset=offset, **params)
        files += page["files"]
        if not page["has_more"]:
            return files
        offset += len(page["files"])


# ---- starting a run ------------------------------------------------------------------------


def test_run_app_answers_200_with_a_running_run_in_the_spec_shape(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"hello"})
    response = hub.post(RUNS, json={"app_name": EXTRACTOR_APP, "batch_id": batch_id})
    assert 200 == response.status_code
    assert "application/json" == response.headers["content-type"]
    run = response.json()
    assert RUN_KEYS == set(run)
    assert isinstance(run["id"], str)
    assert run["id"]
    assert "RUNNING" == run["status"]
    assert START_NS == run["start_timestamp"]
    assert run["finish_timestamp"] is None
    assert isinstance(run["msg"], str)
    assert EXTRACTOR_APP in run["msg"]
    assert batch_id == run["batch_id"]  # an integer in the run schema
    assert (None, EXTRACTOR_APP_ID, None, []) == (
        run["input_dir"],
        run["app_id"],
        run["deployment_id"],
        run["tags"],
    )


def test_run_deployment_answers_202_and_runs_the_deployed_app(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"hello"})
    response = hub.post(
        f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs",
        # output_workspace: the SDK's DeploymentRuns.create sends it though the spec's body
        # has no such key; it is accepted
        json={"batch_id": batch_id, "output_workspace": "team"},
    )
    assert 202 == response.status_code, response.text
    run = response.json()
    assert ("RUNNING", EXTRACTOR_APP_ID, EXTRACTOR_DEPLOYMENT_ID, batch_id) == (
        run["status"],
        run["app_id"],
        run["deployment_id"],
        run["batch_id"],
    )


def test_an_app_may_be_named_by_id_and_its_owner_left_out_or_named(
    emu: Emulator, hub: httpx.Client
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    token = hub.headers["authorization"].split()[1]
    own = emu.aihub.username(token)
    for body in (
        {"app_id": EXTRACTOR_APP_ID},
        {"app_name": EXTRACTOR_APP, "owner": "instabase"},
        {"app_name": EXTRACTOR_APP, "owner": own},
        {"app_name": EXTRACTOR_APP, "version": "1.0.0"},
    ):
        response = hub.post(RUNS, json={**body, "batch_id": batch_id})
        assert 200 == response.status_code, (body, response.text)
        assert EXTRACTOR_APP_ID == response.json()["app_id"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (RUNS, {"app_name": "no-such-app"}),
        (RUNS, {"app_id": str(uuid.uuid4())}),
        (RUNS, {"app_name": EXTRACTOR_APP, "owner": "somebody-else"}),
        (RUNS, {"app_name": EXTRACTOR_APP, "version": "9.9.9"}),
        (f"/v2/apps/deployments/{uuid.uuid4()}/runs", {}),
        (f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs", {"version": "0"}),
    ],
    ids=["app-name", "app-id", "owner", "version", "deployment", "deployment-version"],
)
def test_an_unknown_app_deployment_owner_or_version_is_a_404(
    hub: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    response = hub.post(path, json={**body, "batch_id": batch_id})
    assert 404 == response.status_code, response.text
    assert "does not exist" in response.json()["message"]


def test_batch_id_may_be_a_string_of_digits_as_in_the_spec_complex_example(
    hub: httpx.Client,
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    run = start(hub, str(batch_id))
    assert batch_id == run["batch_id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"batch_id": "BATCH"},
        {"app_name": EXTRACTOR_APP, "app_id": EXTRACTOR_APP_ID, "batch_id": "BATCH"},
        {"app_name": EXTRACTOR_APP},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "input_dir": "x/y"},
        {"app_name": EXTRACTOR_APP, "batch_id": "one"},
        {"app_name": EXTRACTOR_APP, "batch_id": 1.5},
        {"app_name": EXTRACTOR_APP, "batch_id": True},
        {"app_name": 7, "batch_id": "BATCH"},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "owner": None},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": []},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": {"keys": "k"}},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": {"keys": {"custom": 1}}},
        {
            "app_name": EXTRACTOR_APP,
            "batch_id": "BATCH",
            "settings": {"keys": {"secret": {"a": 1}}},
        },
        {
            "app_name": EXTRACTOR_APP,
            "batch_id": "BATCH",
            "settings": {"runtime_config": {"generate_post_process_pdf": "yes"}},
        },
        {
            "app_name": EXTRACTOR_APP,
            "batch_id": "BATCH",
            "settings": {"runtime_config": {"instabase": {"pdf": {"passwords": {"a.pdf": 1}}}}},
        },
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": {"tags": "t"}},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": {"tags": [1]}},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "settings": {"tags": ["x" * 250] * 3}},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "output_workspace": "a/b"},
        {"app_name": EXTRACTOR_APP, "batch_id": "BATCH", "output_dir": "/"},
    ],
)
def test_a_malformed_run_request_is_a_400(hub: httpx.Client, body: dict[str, Any]) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    sent = {key: batch_id if value == "BATCH" else value for key, value in body.items()}
    response = hub.post(RUNS, json=sent)
    assert 400 == response.status_code, response.text
    assert isinstance(response.json()["message"], str)
    assert [] == hub.get(RUNS).json()["runs"]


def test_a_run_request_body_must_be_a_json_object(hub: httpx.Client) -> None:
    for content in (b"", b"[]", b"{"):
        assert 400 == hub.post(RUNS, content=content).status_code


def test_tags_of_500_characters_together_are_accepted(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    tags = ["x" * 250, "y" * 250]
    assert tags == start(hub, batch_id, settings={"tags": tags})["tags"]


def test_an_empty_batch_is_refused(hub: httpx.Client) -> None:
    """The spec does not say; the emulator refuses a run with nothing to process (400)."""
    batch_id = create_batch(hub)
    for path, body in (
        (RUNS, {"app_name": EXTRACTOR_APP, "batch_id": batch_id}),
        (f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs", {"batch_id": batch_id}),
    ):
        response = hub.post(path, json=body)
        assert 400 == response.status_code
        assert "no files" in response.json()["message"]


def test_an_unknown_or_another_tenants_batch_is_a_404(emu: Emulator, hub: httpx.Client) -> None:
    theirs = batch_with(hub, {"a.txt": b"x"})
    with hub_client(emu) as other:
        for batch_id in (theirs, theirs + 1000):
            response = other.post(RUNS, json={"app_name": EXTRACTOR_APP, "batch_id": batch_id})
            assert 404 == response.status_code, response.text


def test_a_batch_being_deleted_cannot_be_run(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    assert 202 == hub.delete(f"/v2/batches/{batch_id}").status_code
    response = hub.post(RUNS, json={"app_name": EXTRACTOR_APP, "batch_id": batch_id})
    assert 409 == response.status_code


def test_manual_upstream_integration_is_refused_no_deployment_has_one(hub: httpx.Client) -> None:
    response = hub.post(
        f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs",
        json={"manual_upstream_integration": True, "from_timestamp": 0, "to_timestamp": 1.5},
    )
    assert 400 == response.status_code
    assert "upstream integration" in response.json()["message"]


def test_the_apps_routes_take_only_their_methods(hub: httpx.Client) -> None:
    assert ("GET, POST") == hub.put(RUNS).headers["allow"]
    response = hub.post(f"{RUNS}/x")
    assert (405, "DELETE, GET") == (response.status_code, response.headers["allow"])
    assert "GET" == hub.delete(f"{RUNS}/x/results").headers["allow"]
    assert (
        "POST" == hub.get(f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs").headers["allow"]
    )


# ---- status over emulated time -------------------------------------------------------------


def test_a_run_completes_when_its_time_has_come_without_any_poll(clock: FakeClock) -> None:
    with Emulator(clock=clock, job_polls=None) as emu, hub_client(emu) as hub:
        run = start(hub, batch_with(hub, {"a.txt": b"x"}))
        clock.advance(0.19)
        assert "RUNNING" == results(hub, run["id"])["status"]
        assert "RUNNING" == status(hub, run["id"])["status"]
        clock.advance(0.01)
        done = status(hub, run["id"])
    assert "COMPLETE" == done["status"]
    # finished when it was due (start + 0.2 s), not when it was looked at
    assert START_NS + 200_000_000 == done["finish_timestamp"]
    assert START_NS == done["start_timestamp"]


def test_polls_complete_a_run_before_its_time_and_it_is_never_pending(clock: FakeClock) -> None:
    with Emulator(clock=clock, job_seconds=None) as emu, hub_client(emu) as hub:
        run = start(hub, batch_with(hub, {"a.txt": b"x"}))
        states = [status(hub, run["id"])["status"] for _ in range(4)]
    assert ["RUNNING", "RUNNING", "COMPLETE", "COMPLETE"] == states


def test_results_and_listing_do_not_count_as_polls(clock: FakeClock) -> None:
    with Emulator(clock=clock, job_seconds=None) as emu, hub_client(emu) as hub:
        run = start(hub, batch_with(hub, {"a.txt": b"x"}))
        for _ in range(5):
            results(hub, run["id"])
            hub.get(RUNS)
        assert "RUNNING" == status(hub, run["id"])["status"]


def test_run_timing_follows_the_job_settings_unless_set_apart(clock: FakeClock) -> None:
    with Emulator(clock=clock, job_polls=None, job_seconds=5) as emu, hub_client(emu) as hub:
        assert (None, 5) == (emu.aihub.run_polls, emu.aihub.run_seconds)
        batch_id = batch_with(hub, {"a.txt": b"x"})
        slow = start(hub, batch_id)
        emu.aihub.run_seconds = 1  # applies to runs started from now on
        fast = start(hub, batch_id)
        clock.advance(1)
        assert ("RUNNING", "COMPLETE") == (
            status(hub, slow["id"])["status"],
            status(hub, fast["id"])["status"],
        )
        clock.advance(4)
        assert "COMPLETE" == status(hub, slow["id"])["status"]


def test_run_seconds_zero_completes_a_run_when_it_starts(emu: Emulator, hub: httpx.Client) -> None:
    emu.aihub.run_seconds = 0
    run = start(hub, batch_with(hub, {"a.txt": b"x"}))
    assert ("COMPLETE", START_NS) == (run["status"], run["finish_timestamp"])


def test_the_backend_refuses_nonsense_run_settings(tmp_path: Any) -> None:
    for options in ({"run_polls": -1}, {"run_seconds": float("nan")}, {"results_page_size": 0}):
        with pytest.raises(ValueError, match=next(iter(options))):
            AIHubBackend(storage_dir=tmp_path, **options)


# ---- results -------------------------------------------------------------------------------


def test_results_are_derived_from_each_files_bytes(clock: FakeClock, hub: httpx.Client) -> None:
    files = {
        "b-letter.txt": b"Dear reader,\r\nsecond line\fpage two\fpage three\n",
        "a-image.bin": bytes(range(256)) * 3,
        "c-one-line.csv": "naïve,café".encode(),
    }
    batch_id = batch_with(hub, files)
    run = start(hub, batch_id)
    clock.advance(0.2)
    body = results(hub, run["id"])
    assert ("COMPLETE", run["id"], str(batch_id), False) == (
        body["status"],
        body["id"],
        body["batch_id"],  # a string in resultsResponse (the SDK's StrictStr)
        body["has_more"],
    )
    assert isinstance(body["message"], str)  # `message` here, `msg` in the run
    assert {"custom": {}} == body["keys"]  # an object, as the schema (and the SDK) have it
    assert sorted(files) == [f["original_file_name"] for f in body["files"]]
    for file in body["files"]:
        name = file["original_file_name"]
        assert file["input_file_path"].endswith("/" + name)
        assert not file["input_file_path"].startswith("/")
        [document] = file["documents"]
        assert expected_fields(name, files[name]) == fields_of(document)
        assert all(isinstance(field["value"], str) for field in document["fields"])
        assert all("error_msg" not in field for field in document["fields"])
        pages = files[name].count(b"\f") + 1
        assert list(range(1, pages + 1)) == document["page_numbers"]
    by_name = {f["original_file_name"]: f["documents"][0] for f in body["files"]}
    assert "3" == fields_of(by_name["b-letter.txt"])["page_count"]
    assert "Dear reader," == fields_of(by_name["b-letter.txt"])["first_line"]
    assert ("Text", "Binary") == (
        by_name["b-letter.txt"]["class_name"],
        by_name["a-image.bin"]["class_name"],
    )


def test_an_empty_file_gives_error_fields_in_a_complete_run(
    clock: FakeClock, hub: httpx.Client
) -> None:
    run = start(hub, batch_with(hub, {"empty.txt": b"", "full.txt": b"x"}))
    clock.advance(0.2)
    body = results(hub, run["id"], include_validation_results="true")
    assert "COMPLETE" == body["status"]
    assert "1 with errors" in body["message"]
    empty, full = (f["documents"][0] for f in body["files"])
    assert {"ERROR"} == set(fields_of(empty).values())
    assert all(field["error_msg"] for field in empty["fields"])
    assert all(not field["validations"]["valid"] for field in empty["fields"])
    assert (None, [], False) == (
        empty["class_name"],
        empty["page_numbers"],
        empty["validations"]["final_result_pass"],
    )
    assert full["validations"]["final_result_pass"]


def test_each_include_flag_adds_its_documented_keys_and_only_then(
    clock: FakeClock, hub: httpx.Client
) -> None:
    files = {"a.txt": b"one\ftwo", "b.bin": b"\xff\xfe"}
    run = start(hub, batch_with(hub, files))
    clock.advance(0.2)
    plain = results(hub, run["id"])["files"][0]["documents"][0]
    assert {"fields", "class_name", "page_numbers"} == set(plain)
    assert {"field_name", "value", "type"} == set(plain["fields"][0])

    text, binary = (f["documents"][0] for f in results(hub, run["id"], **ALL_FLAGS)["files"])
    assert {
        "fields",
        "class_name",
        "page_numbers",
        "review_completed",
        "class_edit_history",
        "classification_confidence",
        "validations",
        "page_layouts",
        "post_processed_paths",
    } == set(text)
    assert {
        "field_name",
        "value",
        "type",
        "edit_history",
        "confidence",
        "validations",
        "source_coordinates",
    } == set(text["fields"][0])
    # page_layouts: one per page, zero-indexed
    assert [0, 1] == [layout["page_number"] for layout in text["page_layouts"]]
    assert {"model": 1.0, "ocr": 1.0} == text["fields"][0]["confidence"]
    first_line = {f["field_name"]: f for f in binary["fields"]}["first_line"]
    assert {"model": 0.5, "ocr": 0.5} == first_line["confidence"]  # not UTF-8 text
    assert 0 == first_line["source_coordinates"][0]["page_number"]
    assert {"valid": True, "alerts": []} == text["fields"][0]["validations"]


def test_settings_are_echoed_custom_keys_tags_and_the_pdf_path(
    clock: FakeClock, hub: httpx.Client
) -> None:
    settings_ = {
        "keys": {"custom": {"region": "eu", "n": 2}, "secret": {"api": "vault-name"}},
        "runtime_config": {"generate_post_process_pdf": True},
        "tags": ["nightly", "team:a"],
    }
    run = start(
        hub, batch_with(hub, {"a.txt": b"x"}), settings=settings_, output_dir="/o/ws/fs/D/out/"
    )
    assert ["nightly", "team:a"] == run["tags"]
    clock.advance(0.2)
    body = results(hub, run["id"], include_source_info="true")
    assert {"custom": {"region": "eu", "n": 2}} == body["keys"]  # never the secrets
    document = body["files"][0]["documents"][0]
    assert document["post_processed_pdf_path"].startswith("o/ws/fs/D/out/")
    assert document["post_processed_paths"][0].startswith("o/ws/fs/D/out/")


def test_results_are_paged_by_file_offset_and_has_more(clock: FakeClock, hub: httpx.Client) -> None:
    names = [f"f{i:02}.txt" for i in range(23)]
    run = start(hub, batch_with(hub, {name: name.encode() for name in names}))
    clock.advance(0.2)
    pages = [results(hub, run["id"], file_offset=offset) for offset in (0, 10, 20)]
    assert [10, 10, 3] == [len(page["files"]) for page in pages]
    assert [True, True, False] == [page["has_more"] for page in pages]
    assert names == [f["original_file_name"] for f in all_results(hub, run["id"])]
    middle = results(hub, run["id"], file_offset=5)
    assert names[5:15] == [f["original_file_name"] for f in middle["files"]]
    past = results(hub, run["id"], file_offset=99)
    assert ([], False) == (past["files"], past["has_more"])


def test_the_results_page_size_is_a_backend_setting(
    emu: Emulator, clock: FakeClock, hub: httpx.Client
) -> None:
    run = start(hub, batch_with(hub, {f"{i}.txt": b"x" for i in range(5)}))
    clock.advance(0.2)
    emu.aihub.results_page_size = 2
    assert [2, 2, 1] == [
        len(results(hub, run["id"], file_offset=offset)["files"]) for offset in (0, 2, 4)
    ]
    assert 5 == len(all_results(hub, run["id"]))
    # a last page that is exactly full has no more after it
    emu.aihub.results_page_size = 5
    assert (5, False) == (
        len(results(hub, run["id"])["files"]),
        results(hub, run["id"])["has_more"],
    )
    emu.aihub.results_page_size = 4
    assert True is results(hub, run["id"])["has_more"]


@pytest.mark.parametrize(
    "params",
    [{"file_offset": "-1"}, {"file_offset": "x"}, {"include_source_info": "maybe"}],
)
def test_bad_results_parameters_are_a_400(
    clock: FakeClock, hub: httpx.Client, params: dict[str, str]
) -> None:
    run = start(hub, batch_with(hub, {"a.txt": b"x"}))
    clock.advance(0.2)
    assert 400 == hub.get(f"{RUNS}/{run['id']}/results", params=params).status_code


def test_results_of_a_running_run_are_an_empty_page_with_its_status(hub: httpx.Client) -> None:
    run = start(hub, batch_with(hub, {"a.txt": b"x"}))
    body = results(hub, run["id"])
    assert ("RUNNING", [], False, None) == (
        body["status"],
        body["files"],
        body["has_more"],
        body["finish_timestamp"],
    )


def test_inputs_are_read_when_the_run_starts(clock: FakeClock, hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"before", "b.txt": b"kept"})
    run = start(hub, batch_id)
    upload(hub, batch_id, "a.txt", b"after")
    upload(hub, batch_id, "c.txt", b"new")
    assert 202 == hub.delete(f"/v2/batches/{batch_id}/files/b.txt").status_code
    clock.advance(0.2)
    files = all_results(hub, run["id"])
    assert ["a.txt", "b.txt"] == [f["original_file_name"] for f in files]
    assert expected_fields("a.txt", b"before") == fields_of(files[0]["documents"][0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(min_size=1, max_size=2048))
def test_any_bytes_give_their_size_hash_first_line_and_pages(content: bytes) -> None:
    clock = FakeClock()
    with Emulator(clock=clock) as emu, hub_client(emu) as hub:
        run = start(hub, batch_with(hub, {"in.dat": content}))
        clock.advance(0.2)
        [file] = all_results(hub, run["id"])
    assert expected_fields("in.dat", content) == fields_of(file["documents"][0])


# ---- failure -------------------------------------------------------------------------------


def test_the_fail_app_ends_failed_with_no_results(clock: FakeClock, hub: httpx.Client) -> None:
    run = start(hub, batch_with(hub, {"a.txt": b"x"}), app=FAIL_APP)
    assert (FAIL_APP_ID, "RUNNING") == (run["app_id"], run["status"])
    clock.advance(10)  # long after: it finished when it was due, 0.2 s after its start
    failed = status(hub, run["id"])
    assert ("FAILED", START_NS + 200_000_000) == (failed["status"], failed["finish_timestamp"])
    assert FAIL_APP in failed["msg"]
    body = results(hub, run["id"])
    assert ("FAILED", [], False, failed["msg"]) == (
        body["status"],
        body["files"],
        body["has_more"],
        body["message"],
    )


def test_the_fail_deployment_fails(clock: FakeClock, hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    response = hub.post(
        f"/v2/apps/deployments/{FAIL_DEPLOYMENT_ID}/runs", json={"batch_id": batch_id}
    )
    assert 202 == response.status_code
    clock.advance(0.2)
    assert "FAILED" == status(hub, response.json()["id"])["status"]


def test_fail_runs_makes_runs_started_after_fail(
    emu: Emulator, clock: FakeClock, hub: httpx.Client
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    before = start(hub, batch_id)
    emu.aihub.fail_runs = True
    after = start(hub, batch_id)
    emu.aihub.fail_runs = False
    clock.advance(0.2)
    assert ("COMPLETE", "FAILED") == (
        status(hub, before["id"])["status"],
        status(hub, after["id"])["status"],
    )
    assert "fail_runs" in status(hub, after["id"])["msg"]


def test_deployments_can_be_added_for_tests(emu: Emulator, hub: httpx.Client) -> None:
    emu.aihub.deployments["my-deployment"] = FAIL_APP
    batch_id = batch_with(hub, {"a.txt": b"x"})
    response = hub.post("/v2/apps/deployments/my-deployment/runs", json={"batch_id": batch_id})
    assert (202, FAIL_APP_ID) == (response.status_code, response.json()["app_id"])


# ---- input_dir -----------------------------------------------------------------------------


def folder_of(hub: httpx.Client, batch_id: int) -> str:
    b = hub.get(f"/v2/batches/{batch_id}").json()
    return f"{b['repo_owner']}/{b['workspace']}/fs/{b['mount_point']}/{b['path_suffix']}"


def test_an_input_dir_run_reads_the_folders_files(clock: FakeClock, hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"alpha"})
    folder = folder_of(hub, batch_id)
    extra = quote(f"/{folder}/deeper/b.txt", safe="")
    assert 204 == hub.put(f"/v2/files/{extra}", content=b"not read: in a sub-folder").status_code
    for input_dir in (folder + "/", "/" + folder):  # the SDK example's form, and a leading /
        run = start(hub, None, input_dir=input_dir)
        assert (None, input_dir) == (run["batch_id"], run["input_dir"])
        clock.advance(0.2)
        body = results(hub, run["id"])
        assert "batch_id" not in body
        [file] = body["files"]
        assert f"{folder}/a.txt" == file["input_file_path"]
        assert expected_fields("a.txt", b"alpha") == fields_of(file["documents"][0])


def test_input_dir_refusals(emu: Emulator, hub: httpx.Client) -> None:
    folder = folder_of(hub, batch_with(hub, {"a.txt": b"x"}))
    with hub_client(emu) as other:
        other_folder = folder_of(other, batch_with(other, {"a.txt": b"x"}))
    for input_dir, expected in (
        (other_folder, 404),
        (folder + "/missing", 404),
        (folder + "/a.txt", 400),
        (folder.replace("/fs/", "//fs/"), 400),
        (folder.split("/")[0], 400),  # the namespace root: no files directly in it
    ):
        response = hub.post(RUNS, json={"app_name": EXTRACTOR_APP, "input_dir": input_dir})
        assert expected == response.status_code, (input_dir, response.text)


# ---- tenancy and lookups -------------------------------------------------------------------


def test_runs_are_private_to_their_tenant(emu: Emulator, hub: httpx.Client) -> None:
    run = start(hub, batch_with(hub, {"a.txt": b"x"}))
    with hub_client(emu) as other:
        assert 404 == other.get(f"{RUNS}/{run['id']}").status_code
        assert 404 == other.get(f"{RUNS}/{run['id']}/results").status_code
        assert 404 == other.delete(f"{RUNS}/{run['id']}").status_code
        assert [] == other.get(RUNS).json()["runs"]
    assert "RUNNING" == status(hub, run["id"])["status"]


@pytest.mark.parametrize("run_id", ["nope", str(uuid.uuid4()), "%2F..%2F"])
def test_an_unknown_run_is_a_404(hub: httpx.Client, run_id: str) -> None:
    for response in (
        hub.get(f"{RUNS}/{run_id}"),
        hub.get(f"{RUNS}/{run_id}/results"),
        hub.delete(f"{RUNS}/{run_id}"),
    ):
        assert 404 == response.status_code
        assert isinstance(response.json()["message"], str)


# ---- listing -------------------------------------------------------------------------------


def listed(hub: httpx.Client, **params: Any) -> list[str]:
    response = hub.get(RUNS, params=params)
    assert 200 == response.status_code, response.text
    return [run["id"] for run in response.json()["runs"]]


def test_list_runs_filters_sorts_and_pages(
    emu: Emulator, clock: FakeClock, hub: httpx.Client
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    failing = start(hub, batch_id, app=FAIL_APP)["id"]
    clock.advance(1)
    ok = start(hub, batch_id)["id"]
    clock.advance(1)
    deployed = hub.post(
        f"/v2/apps/deployments/{EXTRACTOR_DEPLOYMENT_ID}/runs",
        json={"batch_id": batch_id, "output_workspace": "other-ws"},
    ).json()["id"]
    # failing and ok are over (due 0.2 s after their start); deployed is still running
    assert [deployed, ok, failing] == listed(hub)  # newest first by default
    assert [failing, ok, deployed] == listed(hub, order="ASCENDING")
    assert [ok, failing, deployed] == listed(hub, sort_by="status", order="ASCENDING")
    assert [ok, deployed] == listed(hub, status=["COMPLETE", "RUNNING"], order="ASCENDING")
    assert [failing] == listed(hub, app_name=FAIL_APP)
    assert [failing] == listed(hub, app_id=FAIL_APP_ID)
    assert [deployed] == listed(hub, deployment_id=EXTRACTOR_DEPLOYMENT_ID)
    assert [deployed] == listed(hub, output_workspaces=["other-ws"])
    assert [ok] == listed(hub, run_id=ok)
    token = hub.headers["authorization"].split()[1]
    assert 3 == len(listed(hub, username=emu.aihub.username(token)))
    assert [] == listed(hub, username="someone")
    assert [ok] == listed(hub, limit=1, offset=1)
    assert [ok, deployed] == listed(hub, from_timestamp=int(START) + 1, order="ASCENDING")
    assert [failing] == listed(hub, to_timestamp=int(START))


def test_list_runs_defaults_to_the_last_24_hours(clock: FakeClock, hub: httpx.Client) -> None:
    run = start(hub, batch_with(hub, {"a.txt": b"x"}))["id"]
    clock.advance(24 * 3600)
    assert [run] == listed(hub)
    clock.advance(1)
    assert [] == listed(hub)
    assert [run] == listed(hub, from_timestamp=0)
    assert "COMPLETE" == status(hub, run)["status"]  # still there: look it up by id


@pytest.mark.parametrize(
    "params",
    [
        {"sort_by": "name"},
        {"order": "up"},
        {"limit": "-1"},
        {"offset": "x"},
        {"from_timestamp": "-5"},
    ],
)
def test_bad_list_runs_parameters_are_a_400(hub: httpx.Client, params: dict[str, str]) -> None:
    assert 400 == hub.get(RUNS, params=params).status_code


# ---- deletion ------------------------------------------------------------------------------


def test_delete_run_answers_202_with_job_ids_and_the_run_is_gone(
    clock: FakeClock, hub: httpx.Client
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    run = start(hub, batch_id)
    response = hub.delete(f"{RUNS}/{run['id']}")
    assert 202 == response.status_code
    jobs = response.json()
    assert {"delete_input_dir_job_id", "delete_output_dir_job_id", "delete_log_dir_job_id"} == set(
        jobs
    )
    assert all(isinstance(job, str) for job in jobs.values())
    assert 404 == hub.get(f"{RUNS}/{run['id']}").status_code
    assert 404 == hub.get(f"{RUNS}/{run['id']}/results").status_code
    assert [] == listed(hub)
    # the input job deletes the batch the run processed (the spec's warning)
    assert 200 == hub.get(f"/v2/batches/{batch_id}").status_code
    clock.advance(0.2)
    for job in jobs.values():
        assert "COMPLETE" == hub.get(f"/v2/jobs/{job}").json()["state"]
    assert 404 == hub.get(f"/v2/batches/{batch_id}").status_code


def test_delete_run_flags_false_start_no_job(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    run = start(hub, batch_id)
    response = hub.delete(
        f"{RUNS}/{run['id']}",
        params={
            "delete_db_data": "false",
            "delete_input": "false",
            "delete_output": "false",
            "delete_logs": "false",
        },
    )
    assert 202 == response.status_code
    assert {None} == set(response.json().values())
    assert 404 == hub.get(f"{RUNS}/{run['id']}").status_code  # the run itself goes anyway
    assert 200 == hub.get(f"/v2/batches/{batch_id}").status_code


def test_deleting_a_run_whose_batch_is_gone_has_no_input_job(
    clock: FakeClock, hub: httpx.Client
) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    run = start(hub, batch_id)
    assert 202 == hub.delete(f"/v2/batches/{batch_id}").status_code
    clock.advance(0.2)
    jobs = hub.delete(f"{RUNS}/{run['id']}").json()
    assert jobs["delete_input_dir_job_id"] is None
    assert jobs["delete_output_dir_job_id"] is not None


def test_two_runs_of_one_batch_share_its_deletion_job(hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    one, two = start(hub, batch_id), start(hub, batch_id)
    first = hub.delete(f"{RUNS}/{one['id']}").json()["delete_input_dir_job_id"]
    second = hub.delete(f"{RUNS}/{two['id']}").json()["delete_input_dir_job_id"]
    assert first == second


# ---- emulator controls ---------------------------------------------------------------------


def test_controls_complete_and_cancel_runs(emu: Emulator, hub: httpx.Client) -> None:
    batch_id = batch_with(hub, {"a.txt": b"x"})
    one, two = start(hub, batch_id), start(hub, batch_id)
    cancelled = hub.post(f"{emu.url}/_emulator/aihub/runs/{one['id']}/cancel")
    assert (200, "CANCELLED") == (cancelled.status_code, cancelled.json()["status"])
    assert 409 == hub.post(f"{emu.url}/_emulator/aihub/runs/{one['id']}/cancel").status_code
    completed = hub.post(f"{emu.url}/_emulator/aihub/runs/complete")
    assert {"completed": 1} == completed.json()
    assert ("CANCELLED", "COMPLETE") == (
        status(hub, one["id"])["status"],
        status(hub, two["id"])["status"],
    )
    assert [] == results(hub, one["id"])["files"]
    assert 0 == emu.aihub.finish_runs()
