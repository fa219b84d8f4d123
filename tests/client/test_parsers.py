"""The vendors' documented example responses, served verbatim, parse into neutral objects."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

import batchkit
from batchkit import Batch, BatchFile, BatchState, Job, JobState, TaskCounts

GET_BATCH = "aihub_get_batch.json"
JOB_UUID = "4cf36c71-de8a-46c7-b05e-b86947319331"


def serve(kit, routes):
    """A recorder answering (method, raw path) from `routes`; 404 for anything else."""

    def handle(request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.raw_path.decode().split("?")[0])
        answer = routes.get(key)
        if answer is None:
            return kit.json_response(404, {"message": f"no route {key}"})
        return answer(request) if callable(answer) else answer

    return kit.Recorder(handle)


# -- AI Hub ------------------------------------------------------------------------------


def test_aihub_create_batch_example_gives_the_integer_id_as_text(kit):
    """The docs' `{"id":231}` becomes a Batch whose id is the string "231"."""
    rec = serve(kit, {("POST", "/api/v2/batches"): kit.fixture_response("aihub_create_batch.json")})
    batch = kit.aihub(rec.transport).create_batch("test")
    assert Batch(provider="aihub", id="231", name="test", state=BatchState.OPEN) == batch
    assert "231" == batch.id
    assert {"name": "test"} == json.loads(rec.requests[0].content)


def test_aihub_get_batch_example_parses_every_documented_field(kit):
    """The docs' get-batch example gives id as str, workspace, owner and an aware UTC time."""
    rec = serve(kit, {("GET", "/api/v2/batches/2465"): kit.fixture_response(GET_BATCH)})
    batch = kit.aihub(rec.transport).get_batch("2465")
    expected = Batch(
        provider="aihub",
        id="2465",
        name="my new batch",
        project="my-repo",
        state=BatchState.OPEN,
        created_at=datetime(2024, 3, 4, 22, 45, 6, tzinfo=UTC),
        owner="test_admin",
    )
    assert expected == batch
    assert UTC == batch.created_at.tzinfo


def test_aihub_get_batch_keeps_the_vendor_json_in_raw(kit):
    """Keys the neutral model does not cover stay available in `raw`."""
    rec = serve(kit, {("GET", "/api/v2/batches/2465"): kit.fixture_response(GET_BATCH)})
    batch = kit.aihub(rec.transport).get_batch(2465)
    assert kit.fixture_json(GET_BATCH) == dict(batch.raw)
    assert "Instabase Drive" == batch.raw["mount_point"]
    assert 1709592306000 == batch.raw["updated_at_ms"]


def test_aihub_get_batch_accepts_the_id_as_a_digit_string_as_the_docs_table_says(kit):
    """The docs' table types the id as string; "2465" parses like 2465."""
    data = {**kit.fixture_json(GET_BATCH), "id": "2465"}
    rec = serve(kit, {("GET", "/api/v2/batches/2465"): kit.json_response(200, data)})
    assert "2465" == kit.aihub(rec.transport).get_batch("2465").id


def test_aihub_get_batch_keeps_unknown_keys_in_raw(kit):
    """A key the docs never mention is ignored by the parser but kept in `raw`."""
    data = {**kit.fixture_json(GET_BATCH), "brand_new_field": [1, 2]}
    rec = serve(kit, {("GET", "/api/v2/batches/2465"): kit.json_response(200, data)})
    batch = kit.aihub(rec.transport).get_batch("2465")
    assert [1, 2] == batch.raw["brand_new_field"]


def test_aihub_list_batches_example_gives_one_batch_equal_to_the_get_example(kit):
    """The docs' list example holds the same batch as the get example."""
    rec = serve(kit, {
        ("GET", "/api/v2/batches"): kit.fixture_response("aihub_list_batches.json"),
        ("GET", "/api/v2/batches/2465"): kit.fixture_response(GET_BATCH),
    })
    provider = kit.aihub(rec.transport)
    batches = list(provider.list_batches())
    assert [provider.get_batch("2465")] == batches
    assert "my-repo" == batches[0].raw["workspace"]


@pytest.mark.parametrize(
    "fixture", ["aihub_delete_batch_docs.json", "aihub_delete_batch_wire.json"]
)
def test_aihub_delete_batch_reads_the_job_id_in_either_spelling(kit, fixture):
    """`{"job-id": ...}` (docs) and `{"job_id": ...}` (SDK) both name the job."""
    rec = serve(kit, {("DELETE", "/api/v2/batches/2465"): kit.fixture_response(fixture, 202)})
    job = kit.aihub(rec.transport).delete_batch("2465", wait=False)
    assert Job(provider="aihub", id=JOB_UUID) == job


def test_aihub_delete_batch_polls_the_documented_job_until_complete(kit):
    """With wait=True the job from the docs' example is polled at /v2/jobs/<id>."""
    rec = serve(kit, {
        ("DELETE", "/api/v2/batches/2465"): kit.fixture_response(
            "aihub_delete_batch_docs.json", 202
        ),
        ("GET", f"/api/v2/jobs/{JOB_UUID}"): kit.fixture_response(
            "aihub_poll_job_wire.json"
        ),
    })
    provider = kit.aihub(rec.transport)
    job = provider.delete_batch("2465")
    assert Job(provider="aihub", id=JOB_UUID, state=JobState.COMPLETE,
               message="Batch deleted") == job


def test_aihub_list_files_example_parses_names_sizes_times_and_follows_the_token(kit):
    """The docs' list-files page gives BatchFiles and its `next_page_token` is followed."""
    tokens = []

    def files(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("start_token")
        tokens.append(token)
        if token is None:
            return kit.fixture_response("aihub_list_files.json")
        return kit.json_response(200, {"nodes": [], "next_page_token": None, "has_more": False})

    rec = serve(kit, {("GET", "/api/v2/batches/7/files"): files})
    found = list(kit.aihub(rec.transport).list_files("7"))
    expected = [
        BatchFile(
            name="document1.pdf", size=1024, path="/path/to/document1.pdf",
            modified_at=datetime(2022, 3, 17, 16, 0, tzinfo=UTC),
        ),
        BatchFile(
            name="document2.pdf", size=2048, path="/path/to/document2.pdf",
            modified_at=datetime(2022, 3, 18, 16, 0, tzinfo=UTC),
        ),
    ]
    assert expected == found
    assert [None, "eyJwYWdlIjogMn0="] == tokens
    assert {"can_read": True, "can_write": False, "can_delete": False} == found[1].raw["perms"]


@pytest.mark.parametrize(
    ("part_fixture", "expected_id"),
    [("aihub_upload_part_docs.json", 1), ("aihub_upload_part_wire.json", "1")],
)
def test_aihub_part_id_int_or_str_is_committed_in_the_type_it_came_in(
    kit, part_fixture, expected_id
):
    """A part answer with int `part_id` (docs: "parts/part_id int") commits an int; a str
    (the live wire) commits the same string."""
    session = "/api/v2/batches/multipart-upload/sessions/sess-1"
    rec = serve(kit, {
        ("POST", "/api/v2/batches/multipart-upload"): kit.fixture_response(
            "aihub_multipart_start_wire.json", 201
        ),
        ("PUT", f"{session}/parts/1"): kit.fixture_response(part_fixture, 201),
        ("POST", session): httpx.Response(204),
    })
    provider = kit.aihub(rec.transport, multipart_threshold=100)
    assert BatchFile(name="big.pdf", size=250) == provider.upload_file("7", "big.pdf", b"x" * 250)
    commit = json.loads(rec.requests[-1].content)
    assert {"action": "commit", "parts": [{"part_num": 1, "part_id": expected_id}]} == commit


# -- Scale -------------------------------------------------------------------------------


def test_scale_finalize_example_gives_an_in_progress_batch(kit):
    """The docs' finalize response: id = name, project, state and a `Z` time made aware."""
    rec = serve(kit, {
        ("POST", "/v1/batches/BATCH-NAME/finalize"): kit.fixture_response(
            "scale_finalize_batch.json"
        ),
    })
    batch = kit.scale(rec.transport).finalize("BATCH-NAME")
    expected = Batch(
        provider="scale", id="BATCH-NAME", name="BATCH-NAME", project="TEST-PROJECT",
        state=BatchState.IN_PROGRESS,
        created_at=datetime(2023, 8, 1, 23, 4, 12, 168000, tzinfo=UTC),
    )
    assert expected == batch
    assert "[email\u00a0protected]" == batch.raw["callback"]  # NBSP as printed


def test_scale_get_batch_example_parses(kit):
    """The docs' batch retrieval example parses into a neutral Batch with raw kept."""
    rec = serve(kit, {("GET", "/v1/batches/BATCH_NAME"): kit.fixture_response(
        "scale_get_batch.json"
    )})
    batch = kit.scale(rec.transport).get_batch("BATCH_NAME")
    expected = Batch(
        provider="scale", id="BATCH_NAME", name="BATCH_NAME", project="PROJECT-NAME",
        state=BatchState.IN_PROGRESS,
        created_at=datetime(2023, 5, 16, 19, 2, 23, 149000, tzinfo=UTC),
    )
    assert expected == batch
    assert kit.fixture_json("scale_get_batch.json") == dict(batch.raw)


def test_scale_list_example_of_one_bare_batch_parses_as_a_one_item_list(kit):
    """The docs' list example is a single batch object: it is read as a page of one."""
    rec = serve(kit, {("GET", "/v1/batches"): kit.fixture_response(
        "scale_list_batches_docs.json"
    )})
    batches = list(kit.scale(rec.transport).list_batches())
    expected = [Batch(
        provider="scale", id="BATC_NAME", name="BATC_NAME", project="PROJECT_NAME",
        state=BatchState.IN_PROGRESS,
        created_at=datetime(2023, 2, 2, 10, 17, 35, 379000, tzinfo=UTC),
    )]
    assert expected == batches
    assert "2023-02-02T10:17:35.379Z" == batches[0].raw["completed_at"]
    assert 1 == len(rec.requests)


def test_scale_list_wire_envelope_parses_every_doc(kit):
    """The paged `{"docs": [...], "has_more": false}` envelope gives each batch in order."""
    rec = serve(kit, {("GET", "/v1/batches"): kit.fixture_response(
        "scale_list_batches_wire.json"
    )})
    batches = list(kit.scale(rec.transport).list_batches())
    assert ["BATCH-B", "BATCH-A"] == [b.id for b in batches]
    assert [BatchState.STAGING, BatchState.COMPLETED] == [b.state for b in batches]
    assert {"k": "v"} == batches[1].raw["metadata"]


def test_scale_status_docs_example_reads_the_sdk_derived_counts(kit):
    """`tasks_pending` / `tasks_completed` (docs) become counts; absent ones are 0."""
    rec = serve(kit, {("GET", "/v1/batches/BATCH_NAME/status"): kit.fixture_response(
        "scale_status_docs.json"
    )})
    status = kit.scale(rec.transport).status("BATCH_NAME")
    assert "BATCH_NAME" == status.batch_id
    assert BatchState.IN_PROGRESS == status.state
    assert TaskCounts(pending=9, completed=1, error=0, canceled=0) == status.counts
    assert 10 == status.counts.total


def test_scale_status_wire_form_treats_absent_counts_as_zero(kit):
    """The wire form without `error` / `canceled` gives zeros for them."""
    rec = serve(kit, {("GET", "/v1/batches/b/status"): kit.fixture_response(
        "scale_status_wire.json"
    )})
    status = kit.scale(rec.transport).status("b")
    assert TaskCounts(pending=3, completed=2, error=0, canceled=0) == status.counts


def test_scale_status_wire_form_with_every_count(kit):
    """All four wire counts are read."""
    data = {"status": "completed", "pending": 0, "completed": 5, "error": 2, "canceled": 1}
    rec = serve(kit, {("GET", "/v1/batches/b/status"): kit.json_response(200, data)})
    status = kit.scale(rec.transport).status("b")
    assert (BatchState.COMPLETED, TaskCounts(0, 5, 2, 1)) == (status.state, status.counts)


def test_scale_prioritize_example_answer_is_success(kit):
    """`{"result":"success"}` ends prioritize quietly, after sending `{"priority": n}`."""
    rec = serve(kit, {("POST", "/v1/batches/BATCH_NAME/prioritize"): kit.fixture_response(
        "scale_prioritize.json"
    )})
    assert kit.scale(rec.transport).prioritize("BATCH_NAME", 30) is None
    assert {"priority": 30} == json.loads(rec.requests[0].content)


def test_scale_unknown_status_word_is_state_unknown(kit):
    """A status the docs do not list maps to BatchState.UNKNOWN, raw kept."""
    data = {**kit.fixture_json("scale_get_batch.json"), "status": "paused"}
    rec = serve(kit, {("GET", "/v1/batches/BATCH_NAME"): kit.json_response(200, data)})
    batch = kit.scale(rec.transport).get_batch("BATCH_NAME")
    assert (BatchState.UNKNOWN, "paused") == (batch.state, batch.raw["status"])


def test_scale_naive_iso_time_is_taken_as_utc(kit):
    """An ISO time without offset is made aware as UTC, never left naive."""
    data = {**kit.fixture_json("scale_get_batch.json"), "created_at": "2023-05-16T19:02:23"}
    rec = serve(kit, {("GET", "/v1/batches/BATCH_NAME"): kit.json_response(200, data)})
    batch = kit.scale(rec.transport).get_batch("BATCH_NAME")
    assert datetime(2023, 5, 16, 19, 2, 23, tzinfo=UTC) == batch.created_at


# -- wrong shapes ------------------------------------------------------------------------


def _aihub_batch(kit, **changes):
    return {**kit.fixture_json(GET_BATCH), **changes}


WRONG_AIHUB = [
    pytest.param("get_batch", lambda kit: _aihub_batch(kit, id=True), id="id-true"),
    pytest.param("get_batch", lambda kit: _aihub_batch(kit, id="abc"), id="id-letters"),
    pytest.param("get_batch", lambda kit: _aihub_batch(kit, id=2.5), id="id-float"),
    pytest.param("get_batch", lambda kit: _aihub_batch(kit, name=7), id="name-int"),
    pytest.param("get_batch", lambda kit: _aihub_batch(kit, created_at_ms="1709592306000"),
                 id="created-str"),
    pytest.param("get_batch", lambda kit: {"name": "x"}, id="id-missing"),
    pytest.param("get_batch", lambda kit: [1, 2], id="a-list"),
    pytest.param("get_batch", lambda kit: "a string", id="a-string"),
    pytest.param("list_batches", lambda kit: {"batches": {"id": 1}}, id="batches-object"),
    pytest.param("list_batches", lambda kit: {}, id="batches-missing"),
    pytest.param("list_batches", lambda kit: {"batches": [{"id": 1}]}, id="batch-no-name"),
    pytest.param("list_files", lambda kit: {"nodes": [
        {"name": "a.pdf", "metadata": {"size": "12"}}]}, id="size-str"),
    pytest.param("list_files", lambda kit: {"nodes": [
        {"name": "a.pdf", "metadata": {"size": True}}]}, id="size-bool"),
    pytest.param("list_files", lambda kit: {"nodes": [{"name": "a.pdf"}],
                                            "has_more": "yes"}, id="has-more-str"),
    pytest.param("list_files", lambda kit: {"nodes": None}, id="nodes-null"),
    pytest.param("list_files", lambda kit: {"next_page_token": "t"}, id="nodes-missing"),
    pytest.param("create_batch", lambda kit: {"id": True}, id="created-id-true"),
    pytest.param("create_batch", lambda kit: {"id": None}, id="created-id-null"),
    pytest.param("create_batch", lambda kit: {}, id="created-empty"),
]


@pytest.mark.parametrize(("operation", "body"), WRONG_AIHUB)
def test_aihub_response_of_wrong_documented_types_is_a_provider_error(kit, operation, body):
    """A documented field of the wrong type is `ProviderError("unexpected response shape")`."""
    rec = kit.Recorder(lambda request: kit.json_response(200, body(kit)))
    provider = kit.aihub(rec.transport)
    calls = {
        "get_batch": lambda: provider.get_batch("2465"),
        "list_batches": lambda: list(provider.list_batches()),
        "list_files": lambda: list(provider.list_files("2465")),
        "create_batch": lambda: provider.create_batch("b"),
    }
    with pytest.raises(batchkit.ProviderError) as info:
        calls[operation]()
    assert type(info.value) is batchkit.ProviderError
    assert "unexpected response shape" in str(info.value)
    assert (info.value.provider, info.value.operation) == ("aihub", operation)


WRONG_SCALE = [
    pytest.param("get_batch", {"name": 5}, id="name-int"),
    pytest.param("get_batch", {"name": "b", "created_at": 1700000000}, id="created-number"),
    pytest.param("get_batch", {"name": "b", "created_at": "yesterday"}, id="created-garbage"),
    pytest.param("get_batch", {"name": "b", "metadata": [1]}, id="metadata-list"),
    pytest.param("get_batch", {"name": "b", "status": 3}, id="status-int"),
    pytest.param("get_batch", {"project": "p"}, id="name-missing"),
    pytest.param("get_batch", None, id="null"),
    pytest.param("status", {"status": "in_progress", "pending": "3"}, id="pending-str"),
    pytest.param("status", {"status": "in_progress", "completed": 1.5}, id="completed-float"),
    pytest.param("status", {"status": "in_progress", "tasks_pending": True}, id="pending-bool"),
    pytest.param("list_batches", {"docs": [{"name": 1}]}, id="doc-name-int"),
    pytest.param("list_batches", {"docs": "x"}, id="docs-str"),
    pytest.param("list_batches", {"totalDocs": 3}, id="docs-missing"),
    pytest.param("list_batches", {"docs": [], "has_more": 1}, id="has-more-int"),
]


@pytest.mark.parametrize(("operation", "body"), WRONG_SCALE)
def test_scale_response_of_wrong_documented_types_is_a_provider_error(kit, operation, body):
    """A Scale answer we cannot read is a `ProviderError`, never a cattrs/KeyError traceback."""
    rec = kit.Recorder(lambda request: kit.json_response(200, body))
    provider = kit.scale(rec.transport)
    calls = {
        "get_batch": lambda: provider.get_batch("b"),
        "status": lambda: provider.status("b"),
        "list_batches": lambda: list(provider.list_batches()),
    }
    with pytest.raises(batchkit.ProviderError) as info:
        calls[operation]()
    assert type(info.value) is batchkit.ProviderError
    assert "unexpected response shape" in str(info.value)
    assert (info.value.provider, info.value.operation) == ("scale", operation)


def test_aihub_part_answer_without_part_id_is_a_provider_error_and_the_session_is_aborted(kit):
    """A part answer missing `part_id` is a shape error, and the session is aborted."""
    session = "/api/v2/batches/multipart-upload/sessions/sess-1"
    rec = serve(kit, {
        ("POST", "/api/v2/batches/multipart-upload"): kit.fixture_response(
            "aihub_multipart_start_wire.json", 201
        ),
        ("PUT", f"{session}/parts/1"): kit.json_response(201, {"part_num": 1}),
        ("POST", session): httpx.Response(204),
    })
    provider = kit.aihub(rec.transport, multipart_threshold=100)
    with pytest.raises(batchkit.ProviderError, match="unexpected response shape"):
        provider.upload_file("7", "big.pdf", b"x" * 250)
    assert {"action": "abort"} == json.loads(rec.requests[-1].content)


def test_non_json_success_body_is_a_provider_error_naming_the_content_type(kit):
    """An HTML page where JSON was expected is a `ProviderError`, not a JSONDecodeError."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, content=b"<html>login</html>", headers={"Content-Type": "text/html"}
    ))
    with pytest.raises(batchkit.ProviderError, match="expected JSON, got 'text/html'"):
        kit.aihub(rec.transport).get_batch("1")


def test_aihub_a_commit_answered_with_any_2xx_completes_the_upload(kit):
    """WIRE-NOTES: the SDK accepts any 2xx for a commit; a 202 is success, not an abort."""
    session = "/api/v2/batches/multipart-upload/sessions/sess-1"
    rec = serve(kit, {
        ("POST", "/api/v2/batches/multipart-upload"): kit.fixture_response(
            "aihub_multipart_start_wire.json", 201
        ),
        ("PUT", f"{session}/parts/1"): kit.fixture_response("aihub_upload_part_wire.json", 201),
        ("POST", session): httpx.Response(202),
    })
    provider = kit.aihub(rec.transport, multipart_threshold=100)
    provider.upload_file("7", "big.pdf", b"x" * 250)
    assert ["commit"] == [
        json.loads(r.content)["action"] for r in rec.requests if r.url.path == session
    ]


def test_aihub_fs_head_accepts_any_2xx(kit):
    """The Filesystem docs: "A 2XX status code indicates the request was successful"."""
    head = httpx.Response(204, headers={"Content-Type": "application/octet-stream",
                                        "Content-Length": "5"})
    rec = kit.Recorder(lambda request: head)
    info = kit.aihub(rec.transport).fs_head("/u/ws/fs/Drive/x.txt")
    assert 5 == info.size
