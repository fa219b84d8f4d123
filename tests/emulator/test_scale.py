"""The Scale AI emulator, driven over real HTTP (one loopback server) and a few in process."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchkit.emulator import Emulator

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_keys = itertools.count(1)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One served emulator for the module; tests isolate themselves by API key."""
    with Emulator() as emu, emu.serve():
        yield emu


@pytest.fixture(scope="module")
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    """A plain httpx client on the Scale API root, without credentials."""
    with httpx.Client(base_url=emulator.scale_api_root, timeout=10) as client:
        yield client


@pytest.fixture
def key() -> str:
    """An API key (tenant) no other test uses."""
    return f"scale-key-{next(_keys)}"


def auth(api_key: str) -> httpx.BasicAuth:
    """HTTP Basic with the API key as user name and an empty password, as Scale wants."""
    return httpx.BasicAuth(api_key, "")


def path(name: str) -> str:
    """A batch name quoted with no safe characters, as the Scale SDK does.

    ``.`` and ``..`` are spelled ``%2E`` so that no client normalises them away as dot segments.
    """
    quoted = quote(name, safe="")
    return quoted.replace(".", "%2E") if name in (".", "..") else quoted


def make_project(http: httpx.Client, key: str, name: str = "proj", **fields: Any) -> dict[str, Any]:
    """Create a project (a standard one unless ``rapid=True`` / ``studio=True`` is passed)."""
    response = http.post(
        "/projects",
        json={
            "type": "imageannotation",
            "name": name,
            "params": {"instruction": "Label it"},
            **fields,
        },
        auth=auth(key),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def make_batch(
    http: httpx.Client, key: str, name: str, project: str = "proj", **fields: Any
) -> dict[str, Any]:
    response = http.post(
        "/batches", json={"project": project, "name": name, **fields}, auth=auth(key)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- projects ----------------------------------------------------------------------------


def test_create_project_returns_the_project_with_param_history(http: httpx.Client, key: str):
    """Creating a project answers 200 with name, type and a version-0 param_history."""
    body = make_project(http, key)
    assert body["name"] == "proj"
    assert body["type"] == "imageannotation"
    assert body["param_history"] == [{"version": 0, "instruction": "Label it"}]
    assert ISO_MS_Z.match(body["created_at"])


@pytest.mark.parametrize("key_name", ["self", "api_key", "name_", "extra"])
def test_create_project_echoes_extra_fields_whatever_their_names(
    http: httpx.Client, key: str, key_name: str
):
    """Regression: an extra body key named like a backend parameter (`self`, `api_key`) was
    passed as a keyword argument and answered 500; it is an extra field like any other."""
    body = {"name": f"p-{key_name}", "type": "imageannotation", key_name: 1}
    r = http.post("/projects", json=body, auth=(key, ""))
    assert (200, 1) == (r.status_code, r.json()[key_name])


def test_create_project_with_a_taken_name_is_409(http: httpx.Client, key: str):
    """A project name the customer already uses is a 409 with an error message."""
    make_project(http, key)
    response = http.post("/projects", json={"type": "x", "name": "proj"}, auth=auth(key))
    assert response.status_code == 409
    assert "proj" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "x"},
        {"name": "p"},
        {"name": "", "type": "x"},
        {"name": 3, "type": "x"},
        {"name": "p", "type": "x", "params": []},
        {"name": "p", "type": "x", "rapid": "yes"},
        {"name": "p", "type": "x", "studio": 1},
    ],
)
def test_create_project_without_a_valid_name_or_type_is_400(
    http: httpx.Client, key: str, body: dict[str, Any]
):
    """Missing, empty or mistyped project fields are a 400."""
    response = http.post("/projects", json=body, auth=auth(key))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]


def test_get_project_returns_the_created_project(http: httpx.Client, key: str):
    """``GET /v1/projects/<name>`` (the SDK's get_project) answers the project as created."""
    created = make_project(http, key, "a bc/def", rapid=False)
    response = http.get(f"/projects/{path('a bc/def')}", auth=auth(key))
    assert (200, created) == (response.status_code, response.json())
    assert [{"version": 0, "instruction": "Label it"}] == response.json()["param_history"]


def test_get_unknown_or_another_customers_project_is_404(http: httpx.Client, key: str):
    """An unknown project, or another API key's, is a 404 with an error message."""
    make_project(http, key)
    for api_key, name in ((key, "nope"), (key + "-other", "proj")):
        response = http.get(f"/projects/{name}", auth=auth(api_key))
        assert 404 == response.status_code
        assert name in response.json()["error"]


def test_list_projects_is_a_bare_array_of_the_customers_projects_oldest_first(
    http: httpx.Client, key: str
):
    """``GET /v1/projects`` (the SDK's projects()) answers a JSON array, unpaged."""
    first = make_project(http, key, "first")
    second = make_project(http, key, "second", studio=True)
    response = http.get("/projects", auth=auth(key))
    assert (200, [first, second]) == (response.status_code, response.json())
    assert [] == http.get("/projects", auth=auth(key + "-other")).json()


def test_projects_endpoints_refuse_other_methods_with_405(http: httpx.Client, key: str):
    """``/v1/projects`` takes GET and POST; ``/v1/projects/<name>`` only GET."""
    listing = http.delete("/projects", auth=auth(key))
    assert (405, {"GET", "POST"}) == (
        listing.status_code,
        set(listing.headers["allow"].split(", ")),
    )
    one = http.post("/projects/p", json={}, auth=auth(key))
    assert (405, "GET") == (one.status_code, one.headers["allow"])


# -- create / get ------------------------------------------------------------------------


def test_create_batch_answers_200_with_an_in_progress_batch_in_a_standard_project(
    http: httpx.Client, key: str
):
    """A created batch is 200 (never 201), shaped like the docs' batch object, and in a
    standard project (neither Rapid nor Studio) already ``in_progress``: nothing to finalize."""
    make_project(http, key)
    body = make_batch(http, key, "b1", callback="https://example.com/cb", metadata={"k": [1]})
    assert body["name"] == "b1"
    assert body["project"] == "proj"
    assert body["status"] == "in_progress"
    assert body["callback"] == "https://example.com/cb"
    assert body["metadata"] == {"k": [1]}
    assert ISO_MS_Z.match(body["created_at"])
    assert "completed_at" not in body


def test_create_batch_in_an_unknown_project_is_404(http: httpx.Client, key: str):
    """A batch naming a project the customer does not have is a 404."""
    response = http.post("/batches", json={"project": "nope", "name": "b"}, auth=auth(key))
    assert response.status_code == 404
    assert "nope" in response.json()["error"]


def test_batch_names_are_unique_per_customer_across_projects(http: httpx.Client, key: str):
    """Reusing a batch name, even in another project, is a 409."""
    make_project(http, key, "p1")
    make_project(http, key, "p2")
    make_batch(http, key, "same", project="p1")
    response = http.post("/batches", json={"project": "p2", "name": "same"}, auth=auth(key))
    assert response.status_code == 409


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b"",
        b'{"project": "proj"}',
        b'{"name": "b"}',
        b'{"project": "proj", "name": 5}',
        b'{"project": "proj", "name": "b", "metadata": [1]}',
        b'{"project": "proj", "name": "b", "callback": 7}',
        b'{"project": "proj", "name": "b", "calibration_batch": "yes"}',
        b'{"project": "proj", "name": "b", "metadata": {"x": NaN}}',
        b"\xff\xfe",
    ],
)
def test_create_batch_rejects_malformed_bodies_with_400(
    http: httpx.Client, key: str, content: bytes
):
    """Malformed JSON, wrong types and missing fields are a 400, never a 500."""
    make_project(http, key)
    response = http.post(
        "/batches", content=content, auth=auth(key), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_get_batch_returns_the_batch_and_404_for_an_unknown_name(http: httpx.Client, key: str):
    """GET /v1/batches/<name> returns the created batch; an unknown name is a 404."""
    make_project(http, key)
    created = make_batch(http, key, "b")
    assert http.get("/batches/b", auth=auth(key)).json() == created
    missing = http.get("/batches/missing", auth=auth(key))
    assert missing.status_code == 404
    assert "missing" in missing.json()["error"]


# -- finalize / status / tasks -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["rapid", "studio"])
def test_rapid_and_studio_projects_create_staging_batches(http: httpx.Client, key: str, kind: str):
    """Only Rapid and Studio projects stage their batches until finalize."""
    make_project(http, key, **{kind: True})
    assert "staging" == make_batch(http, key, "b")["status"]
    assert "staging" == http.get("/batches/b", auth=auth(key)).json()["status"]


@pytest.mark.parametrize(
    "flags", [{}, {"rapid": False, "studio": False}, {"rapid": None, "studio": None}]
)
def test_projects_with_rapid_and_studio_false_or_absent_create_in_progress_batches(
    http: httpx.Client, key: str, flags: dict[str, Any]
):
    """``rapid``/``studio`` false, null (as the SDK may send) or absent: a standard project."""
    make_project(http, key, **flags)
    assert "in_progress" == make_batch(http, key, "b")["status"]


def test_finalize_on_an_in_progress_batch_returns_it_unchanged(http: httpx.Client, key: str):
    """In a standard project finalize "will not do anything": 200 with the batch as it was."""
    make_project(http, key)
    created = make_batch(http, key, "b")
    response = http.post("/batches/b/finalize", auth=auth(key))
    assert (200, created) == (response.status_code, response.json())
    assert created == http.get("/batches/b", auth=auth(key)).json()


def test_finalize_moves_staging_to_in_progress_and_repeats_harmlessly(http: httpx.Client, key: str):
    """Finalize answers 200 with the in_progress batch, again on a second call."""
    make_project(http, key, studio=True)
    make_batch(http, key, "b")
    first = http.post("/batches/b/finalize", auth=auth(key))
    again = http.post("/batches/b/finalize", json={"batchName": "b"}, auth=auth(key))
    assert (first.status_code, first.json()["status"]) == (200, "in_progress")
    assert (again.status_code, again.json()) == (200, first.json())
    assert http.post("/batches/zz/finalize", auth=auth(key)).status_code == 404


def test_status_counts_tasks_by_state(emulator: Emulator, http: httpx.Client, key: str):
    """The status endpoint counts pending, completed, error and canceled tasks."""
    make_project(http, key)
    make_batch(http, key, "b")
    emulator.scale.add_tasks(key, "b", 5)
    emulator.scale.complete_tasks(key, "b", 1)
    emulator.scale.complete_tasks(key, "b", 1, outcome="error")
    emulator.scale.complete_tasks(key, "b", 1, outcome="canceled")
    response = http.get("/batches/b/status", auth=auth(key))
    assert response.json() == {
        "status": "in_progress",
        "pending": 2,
        "completed": 1,
        "error": 1,
        "canceled": 1,
        "tasks_pending": 2,
        "tasks_completed": 1,
    }
    assert http.get("/batches/zz/status", auth=auth(key)).status_code == 404


def test_a_finalized_batch_completes_when_its_last_task_is_done(http: httpx.Client, key: str):
    """Over the control endpoints: tasks done after finalize make the batch completed."""
    make_project(http, key, rapid=True)
    make_batch(http, key, "b c/d")
    control = f"{http.base_url.scheme}://{http.base_url.netloc.decode()}/_emulator/scale"
    added = http.post(f"{control}/batches/{path('b c/d')}/tasks", json={"count": 3}, auth=auth(key))
    assert len(added.json()["task_ids"]) == 3
    done = http.post(
        f"{control}/batches/{path('b c/d')}/tasks/complete", json={"count": 2}, auth=auth(key)
    )
    assert done.json()["status"]["completed"] == 2
    finalized = http.post(f"/batches/{path('b c/d')}/finalize", auth=auth(key)).json()
    assert finalized["status"] == "in_progress"
    http.post(f"{control}/batches/{path('b c/d')}/tasks/complete", auth=auth(key))
    batch = http.get(f"/batches/{path('b c/d')}", auth=auth(key)).json()
    assert batch["status"] == "completed"
    assert ISO_MS_Z.match(batch["completed_at"])


@pytest.mark.parametrize(
    ("endpoint", "body", "status"),
    [
        ("tasks", {"count": 0}, 400),
        ("tasks", {"count": "2"}, 400),
        ("tasks/complete", {"count": 5}, 400),
        ("tasks/complete", {"outcome": "done"}, 400),
        ("tasks/complete", [1], 400),
        ("archive", {"archived": "yes"}, 400),
    ],
)
def test_control_endpoints_reject_bad_requests(
    http: httpx.Client, key: str, endpoint: str, body: Any, status: int
):
    """The task-control endpoints validate their bodies like the API does."""
    make_project(http, key)
    make_batch(http, key, "b")
    control = f"{http.base_url.scheme}://{http.base_url.netloc.decode()}/_emulator/scale"
    response = http.post(f"{control}/batches/b/{endpoint}", json=body, auth=auth(key))
    assert response.status_code == status
    assert response.json()["error"]


def test_control_endpoints_need_auth_and_a_known_batch(http: httpx.Client, key: str):
    """Control endpoints are authenticated like Scale and 404 for unknown batches."""
    control = f"{http.base_url.scheme}://{http.base_url.netloc.decode()}/_emulator/scale"
    assert http.post(f"{control}/batches/b/tasks").status_code == 401
    assert http.post(f"{control}/batches/b/tasks", auth=auth(key)).status_code == 404


def test_no_tasks_can_be_added_to_a_completed_batch(emulator: Emulator, key: str):
    """Adding tasks to a completed batch is refused with a 409 error."""
    emulator.scale.create_project(key, name="p", type="t")
    emulator.scale.create_batch(key, project="p", name="b")
    emulator.scale.add_tasks(key, "b")
    emulator.scale.finalize_batch(key, "b")
    emulator.scale.complete_tasks(key, "b")
    assert emulator.scale.get_batch(key, "b")["status"] == "completed"
    from batchkit.emulator._errors import Conflict

    with pytest.raises(Conflict):
        emulator.scale.add_tasks(key, "b")


# -- metadata / priority -----------------------------------------------------------------


def test_set_metadata_replaces_the_metadata(http: httpx.Client, key: str):
    """setMetadata takes the metadata dict as the body and returns the batch."""
    make_project(http, key)
    make_batch(http, key, "b", metadata={"old": 1})
    response = http.post("/batches/b/setMetadata", json={"new": {"x": "ü"}}, auth=auth(key))
    assert response.status_code == 200
    assert response.json()["metadata"] == {"new": {"x": "ü"}}
    assert http.get("/batches/b", auth=auth(key)).json()["metadata"] == {"new": {"x": "ü"}}


def test_set_metadata_without_a_body_clears_it_as_the_sdk_sends_empty_metadata(
    http: httpx.Client, key: str
):
    """scaleapi's set_batch_metadata(name, {}) sends no body at all (`body or None`)."""
    make_project(http, key)
    make_batch(http, key, "b", metadata={"old": 1})
    response = http.post("/batches/b/setMetadata", auth=auth(key))
    assert (200, {}) == (response.status_code, response.json()["metadata"])


@pytest.mark.parametrize(
    ("name", "body", "status"), [("b", [1, 2], 400), ("b", "str", 400), ("zz", {}, 404)]
)
def test_set_metadata_rejects_non_objects_and_unknown_batches(
    http: httpx.Client, key: str, name: str, body: Any, status: int
):
    """setMetadata with a non-object body is a 400; on an unknown batch a 404."""
    make_project(http, key)
    make_batch(http, key, "b")
    response = http.post(f"/batches/{name}/setMetadata", json=body, auth=auth(key))
    assert response.status_code == status


@pytest.mark.parametrize("priority", [10, 20, 30])
def test_prioritize_accepts_10_to_30_and_shows_the_priority(
    http: httpx.Client, key: str, priority: int
):
    """A priority from 10 to 30 answers {"result": "success"} and appears on the batch."""
    make_project(http, key)
    make_batch(http, key, "b")
    response = http.post("/batches/b/prioritize", json={"priority": priority}, auth=auth(key))
    assert (response.status_code, response.json()) == (200, {"result": "success"})
    assert http.get("/batches/b", auth=auth(key)).json()["priority"] == priority


@pytest.mark.parametrize(
    "body",
    [
        {"priority": 1},
        {"priority": 9},
        {"priority": 31},
        {"priority": "20"},
        {"priority": True},
        {"priority": 20.5},
        {"batchName": 31},
        {},
    ],
)
def test_prioritize_rejects_out_of_range_or_mistyped_priorities(
    http: httpx.Client, key: str, body: dict[str, Any]
):
    """The docs' example priority 1, out-of-range and non-integer priorities are a 400."""
    make_project(http, key)
    make_batch(http, key, "b")
    response = http.post("/batches/b/prioritize", json=body, auth=auth(key))
    assert response.status_code == 400
    assert "priority" in response.json()["error"]


# -- list --------------------------------------------------------------------------------


def test_list_batches_pages_newest_first_to_the_last_page(http: httpx.Client, key: str):
    """Walking offset by the returned limit visits every batch once, newest first."""
    make_project(http, key)
    names = [f"b{i}" for i in range(7)]
    for name in names:
        make_batch(http, key, name)
    seen: list[str] = []
    offset = 0
    while True:
        page = http.get("/batches", params={"limit": 3, "offset": offset}, auth=auth(key)).json()
        assert page["totalDocs"] == 7
        assert page["limit"] == 3
        assert page["offset"] == offset
        seen += [doc["name"] for doc in page["docs"]]
        if not page["has_more"]:
            break
        offset += page["limit"]
    assert seen == names[::-1]
    assert len(page["docs"]) == 1


def test_list_batches_defaults_to_a_positive_limit_of_100(http: httpx.Client, key: str):
    """Without a limit the page size is 100, so an offset-walking SDK always advances."""
    page = http.get("/batches", auth=auth(key)).json()
    assert page == {"docs": [], "totalDocs": 0, "limit": 100, "offset": 0, "has_more": False}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -1},
        {"limit": "x"},
        {"offset": -1},
        {"offset": "x"},
        {"status": "done"},
        {"detailed": "yes"},
        {"exclude_archived": "2"},
        {"start_time": "yesterday"},
    ],
)
def test_list_batches_rejects_bad_query_parameters(
    http: httpx.Client, key: str, params: dict[str, Any]
):
    """An out-of-range limit, a negative offset or a malformed filter is a 400."""
    response = http.get("/batches", params=params, auth=auth(key))
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("spelling", ["true", "True", "1"])
def test_list_batches_detailed_includes_task_counts(
    emulator: Emulator, http: httpx.Client, key: str, spelling: str
):
    """detailed=true (any spelling) adds task counts to each batch."""
    make_project(http, key)
    make_batch(http, key, "b")
    emulator.scale.add_tasks(key, "b", 2)
    doc = http.get("/batches", params={"detailed": spelling}, auth=auth(key)).json()["docs"][0]
    assert (doc["pending"], doc["completed"], doc["error"], doc["canceled"]) == (2, 0, 0, 0)


@pytest.mark.parametrize("spelling", ["false", "False", "0"])
def test_list_batches_not_detailed_leaves_counts_out(http: httpx.Client, key: str, spelling: str):
    """detailed=false (any spelling) gives the plain batch objects."""
    make_project(http, key)
    make_batch(http, key, "b")
    doc = http.get("/batches", params={"detailed": spelling}, auth=auth(key)).json()["docs"][0]
    assert "pending" not in doc


def test_list_batches_filters_by_project_and_status(http: httpx.Client, key: str):
    """project and status filters narrow the list, with project names containing spaces."""
    make_project(http, key, "my proj", studio=True)
    make_project(http, key, "other")
    make_batch(http, key, "a", project="my proj")
    make_batch(http, key, "b", project="my proj")
    make_batch(http, key, "c", project="other")
    http.post("/batches/a/finalize", auth=auth(key))
    plus = http.get("/batches?project=my+proj", auth=auth(key)).json()
    pct = http.get("/batches?project=my%20proj&status=in_progress", auth=auth(key)).json()
    assert [d["name"] for d in plus["docs"]] == ["b", "a"]
    assert [d["name"] for d in pct["docs"]] == ["a"]


def test_list_batches_exclude_archived_hides_archived_batches(
    emulator: Emulator, http: httpx.Client, key: str
):
    """exclude_archived=True hides batches archived through the control API."""
    make_project(http, key)
    make_batch(http, key, "kept")
    make_batch(http, key, "gone")
    emulator.scale.archive_batch(key, "gone")
    shown = http.get("/batches", params={"exclude_archived": "True"}, auth=auth(key)).json()
    every = http.get("/batches", params={"exclude_archived": "false"}, auth=auth(key)).json()
    assert [d["name"] for d in shown["docs"]] == ["kept"]
    assert every["totalDocs"] == 2


def test_list_batches_filters_by_created_at_bounds_in_process():
    """start_time and end_time (dates or date-times) bound created_at, inclusively."""
    # the project takes the first tick, then one batch a month
    days = iter([dt.datetime(2023, m, 15, tzinfo=dt.UTC).timestamp() for m in (1, 1, 6, 12)])
    with (
        Emulator(clock=lambda: next(days, 0.0)) as emu,
        httpx.Client(
            transport=emu.transport(), base_url=emu.scale_api_root, auth=auth("k")
        ) as client,
    ):
        emu.scale.create_project("k", name="p", type="t")
        for name in ("jan", "jun", "dec"):
            client.post("/batches", json={"project": "p", "name": name})

        def names(**params: str) -> list[str]:
            return [d["name"] for d in client.get("/batches", params=params).json()["docs"]]

        assert names() == ["dec", "jun", "jan"]
        assert names(start_time="2023-06-01") == ["dec", "jun"]
        assert names(end_time="2023-06-15T00:00:00Z") == ["jun", "jan"]
        assert names(start_time="2023-02-01", end_time="2023-07-01T00:00:00+00:00") == ["jun"]


def test_list_batches_with_equal_created_at_is_newest_created_first_in_process():
    """Batches created in the same millisecond list latest-created first, every time."""
    with (
        Emulator(clock=lambda: 1_700_000_000.0) as emu,
        httpx.Client(
            transport=emu.transport(), base_url=emu.scale_api_root, auth=auth("k")
        ) as client,
    ):
        emu.scale.create_project("k", name="p", type="t")
        for name in ("x", "y", "z"):
            client.post("/batches", json={"project": "p", "name": name})
        docs = client.get("/batches").json()["docs"]
        assert [d["name"] for d in docs] == ["z", "y", "x"]
        assert docs[0]["created_at"] == "2023-11-14T22:13:20.000Z"


# -- auth and tenancy --------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer abc", "Basic", "Basic !!!notbase64", "Basic OnBhc3M=", "Digest x"],
)
def test_missing_or_malformed_credentials_are_401(http: httpx.Client, authorization: str | None):
    """No key, another scheme, bad base64 or an empty user name is a 401 JSON error."""
    headers = {} if authorization is None else {"authorization": authorization}
    response = http.get("/batches", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]


def test_a_non_empty_password_is_accepted(http: httpx.Client, key: str):
    """The key is the user name; a password, if any, is ignored."""
    assert http.get("/batches", auth=httpx.BasicAuth(key, "pw")).status_code == 200


def test_tokens_restrict_the_accepted_api_keys_in_process():
    """Emulator(tokens=…) accepts only those keys; others are a 401."""
    with (
        Emulator(tokens={"good"}) as emu,
        httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root) as client,
    ):
        assert client.get("/batches", auth=auth("good")).status_code == 200
        refused = client.get("/batches", auth=auth("bad"))
        assert refused.status_code == 401
        assert refused.json() == {"error": "Invalid API key"}


def test_customers_never_see_or_change_each_others_batches(http: httpx.Client, key: str):
    """Another API key gets 404 for a batch, an empty list, and may reuse the name."""
    other = key + "-other"
    make_project(http, key, studio=True)
    make_batch(http, key, "mine")
    assert http.get("/batches/mine", auth=auth(other)).status_code == 404
    assert http.post("/batches/mine/finalize", auth=auth(other)).status_code == 404
    assert http.post("/batches/mine/setMetadata", json={}, auth=auth(other)).status_code == 404
    assert http.get("/batches", auth=auth(other)).json()["totalDocs"] == 0
    not_theirs = http.post("/batches", json={"project": "proj", "name": "x"}, auth=auth(other))
    assert not_theirs.status_code == 404
    make_project(http, other)
    make_batch(http, other, "mine")
    assert http.get("/batches/mine", auth=auth(key)).json()["status"] == "staging"


# -- routing and names -------------------------------------------------------------------


def test_unknown_scale_endpoints_are_404_and_wrong_methods_405(http: httpx.Client, key: str):
    """Unknown paths under /v1 are a JSON 404; a known path with another method a 405."""
    missing = http.get("/no-such-endpoint", auth=auth(key))
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json")
    wrong = http.delete("/batches", auth=auth(key))
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}


@pytest.mark.parametrize(
    "name",
    ["a bc/def", "#frag?q=1&x", "ünï código 名前", "%2F", "a+b", ".", "..", "...", "~!*'();:@=$,"],
)
def test_awkward_batch_names_round_trip(http: httpx.Client, key: str, name: str):
    """Names with spaces, /, #, ?, % and non-ASCII are one quoted path segment each."""
    make_project(http, key)
    make_batch(http, key, name)
    assert http.get(f"/batches/{path(name)}", auth=auth(key)).json()["name"] == name
    status = http.post(f"/batches/{path(name)}/prioritize", json={"priority": 15}, auth=auth(key))
    assert status.status_code == 200


_ANY_NAME = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_ANY_NAME)
def test_any_batch_name_round_trips_through_the_path(http: httpx.Client, name: str):
    """Any name at all comes back intact from GET and from the status endpoint."""
    key = f"hyp-{next(_keys)}"
    make_project(http, key)
    make_batch(http, key, name)
    got = http.get(f"/batches/{path(name)}", auth=auth(key))
    assert got.json()["name"] == name
    status = http.get(f"/batches/{path(name)}/status", auth=auth(key))
    assert status.json()["status"] == "in_progress"
