"""Scale tasks in the emulator: create, get, list, cancel, the batch counts they make, and the
simulated workforce that works them over emulated time.

Each test gets its own in-process emulator on a fake clock (nothing waits, nothing races),
driven through plain httpx as a client of Scale would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batchkit.emulator import Emulator

try:
    from ._scale_helpers import (  # type: ignore[import-not-found,unused-ignore]
        Clock,
        client,
        clock,  # noqa: F401 (a pytest fixture)
        emu,  # noqa: F401 (a pytest fixture)
        iso,
    )
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _scale_helpers import (  # type: ignore[no-redef,unused-ignore]
        Clock,
        client,
        iso,
    )

TASK_ID = re.compile(r"^[0-9a-f]{24}$")
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BOXES = {"box": {"objects_to_annotate": ["cat", "dog"], "min_width": 20, "min_height": 30}}


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with client(emu) as c:
        yield c


def project(http: httpx.Client, name: str = "p", type_: str = "imageannotation", **extra: Any):
    body = {"name": name, "type": type_, "params": {"instruction": "Box the animals"}, **extra}
    response = http.post("/projects", json=body)
    assert 200 == response.status_code, response.text


def batch(http: httpx.Client, name: str = "b", project_name: str = "p") -> dict[str, Any]:
    response = http.post("/batches", json={"project": project_name, "name": name})
    assert 200 == response.status_code, response.text
    return dict(response.json())


def image_task(**fields: Any) -> dict[str, Any]:
    return {"attachment": "https://example.com/cat.png", "geometries": BOXES, **fields}


def create(http: httpx.Client, type_: str = "imageannotation", **body: Any) -> dict[str, Any]:
    response = http.post(f"/task/{type_}", json=body)
    assert 200 == response.status_code, response.text
    return dict(response.json())


def status_counts(http: httpx.Client, name: str = "b") -> dict[str, Any]:
    body = dict(http.get(f"/batches/{name}/status").json())
    return {k: body[k] for k in ("status", "pending", "completed", "error", "canceled")}


# -- create --------------------------------------------------------------------------------


def test_create_answers_200_with_the_documented_task_object(http: httpx.Client) -> None:
    """The task object: id, times, type, status, instruction (the project's by default),
    params (the type-specific keys), callback_url, metadata, unique_id, tags, project, batch;
    no completed_at or response while pending."""
    project(http)
    batch(http)
    task = create(
        http,
        **image_task(
            batch="b",
            callback_url="https://example.com/cb",
            metadata={"item": "cat.png"},
            unique_id="u-1",
            tags=["experiment_1"],
            priority=20,
            context_attachments=[{"attachment": "https://example.com/ctx.png"}],
        ),
    )
    assert TASK_ID.match(task["task_id"])
    assert {
        "created_at": iso(0),
        "updated_at": iso(0),
        "type": "imageannotation",
        "status": "pending",
        "instruction": "Box the animals",
        "params": {
            "attachment": "https://example.com/cat.png",
            "geometries": BOXES,
            "context_attachments": [{"attachment": "https://example.com/ctx.png"}],
        },
        "callback_url": "https://example.com/cb",
        "metadata": {"item": "cat.png"},
        "unique_id": "u-1",
        "tags": ["experiment_1"],
        "priority": 20,
        "project": "p",
        "batch": "b",
    }.items() <= task.items()
    assert "completed_at" not in task
    assert "response" not in task


def test_a_task_names_its_project_or_its_batch_or_both(http: httpx.Client) -> None:
    """With only a batch the task takes the batch's project; with only a project it has no
    batch; an explicit instruction overrides the project's."""
    project(http)
    batch(http)
    by_batch = create(http, **image_task(batch="b"))
    by_project = create(http, **image_task(project="p", instruction="Only cats"))
    both = create(http, **image_task(project="p", batch="b"))
    assert ("p", "b") == (by_batch["project"], by_batch["batch"])
    assert ("p", None, "Only cats") == (
        by_project["project"],
        by_project["batch"],
        by_project["instruction"],
    )
    assert ("p", "b") == (both["project"], both["batch"])


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (image_task(), 400, "project"),
        (image_task(project=""), 400, "project"),
        (image_task(project="nope"), 404, "nope"),
        (image_task(batch="nope"), 404, "nope"),
        (image_task(project="other", batch="b"), 400, "belongs to project"),
    ],
)
def test_project_and_batch_must_exist_and_agree(
    http: httpx.Client, body: dict[str, Any], status: int, words: str
) -> None:
    project(http)
    project(http, "other")
    batch(http)
    response = http.post("/task/imageannotation", json=body)
    assert status == response.status_code, response.text
    assert words in response.json()["error"]


def test_the_task_type_must_be_known_and_the_projects(http: httpx.Client) -> None:
    """An unknown type is a 400 naming the known ones; a known type other than the
    project's is a 400 (our choice: a project has one task type)."""
    project(http)
    unknown = http.post("/task/catannotation", json=image_task(project="p"))
    assert 400 == unknown.status_code
    assert "imageannotation" in unknown.json()["error"]
    body = {"project": "p", "attachments": [{"type": "text", "content": "x"}]}
    other = http.post("/task/textcollection", json=body)
    assert 400 == other.status_code
    assert "does not match" in other.json()["error"]


def test_a_rapid_project_needs_a_batch(http: httpx.Client) -> None:
    """ "For Scale Rapid projects specifying a batch is required"."""
    project(http, rapid=True)
    response = http.post("/task/imageannotation", json=image_task(project="p"))
    assert 400 == response.status_code
    assert "batch is required" in response.json()["error"]


@pytest.mark.parametrize("kind", ["rapid", "studio"])
def test_a_finalized_rapid_or_studio_batch_refuses_new_tasks_with_400(
    http: httpx.Client, kind: str
) -> None:
    """Tasks go into a staging batch; once finalized "no tasks may be added" (the status is
    undocumented: 400)."""
    project(http, **{kind: True})
    assert "staging" == batch(http)["status"]
    create(http, **image_task(batch="b"))
    http.post("/batches/b/finalize")
    refused = http.post("/task/imageannotation", json=image_task(batch="b"))
    assert 400 == refused.status_code
    assert "staging" in refused.json()["error"]
    assert 1 == status_counts(http)["pending"]


def test_a_completed_standard_batch_takes_more_tasks_and_reopens(
    http: httpx.Client, clock: Clock
) -> None:
    """A standard project's batch takes tasks at any time: one added after it completed
    puts it back in progress until that task is done too."""
    project(http)
    batch(http)
    create(http, **image_task(batch="b"))
    clock.advance(1)
    assert "completed" == http.get("/batches/b").json()["status"]
    create(http, **image_task(batch="b"))
    reopened = http.get("/batches/b").json()
    assert ("in_progress", None) == (reopened["status"], reopened.get("completed_at"))
    clock.advance(1)
    done = http.get("/batches/b").json()
    assert ("completed", iso(1.05)) == (done["status"], done["completed_at"])


@pytest.mark.parametrize(
    ("type_", "params", "words"),
    [
        ("imageannotation", {"geometries": BOXES}, '"attachment" is required'),
        ("imageannotation", {"attachment": "https://x/a.png"}, '"geometries" is required'),
        ("imageannotation", {"attachment": 7, "geometries": BOXES}, "URL string"),
        ("imageannotation", {"attachment": "", "geometries": BOXES}, "URL string"),
        ("imageannotation", {"attachment": "https://x", "geometries": {}}, "geometries"),
        ("imageannotation", {"attachment": "https://x", "geometries": {"blob": {}}}, "blob"),
        ("imageannotation", {"attachment": "https://x", "geometries": {"box": []}}, "box"),
        (
            "imageannotation",
            {"attachment": "https://x", "geometries": {"box": {"objects_to_annotate": "cat"}}},
            "objects_to_annotate",
        ),
        ("textcollection", {}, '"attachments" is required'),
        ("textcollection", {"attachments": "https://x"}, "array"),
        ("textcollection", {"attachments": ["https://x"]}, '"type", "content"'),
        (
            "textcollection",
            {
                "attachments": [{"type": "website", "content": "https://x"}],
                "fields": [{"type": "text", "field_id": "a", "title": "A"}] * 2,
            },
            "repeats",
        ),
        (
            "textcollection",
            {"attachments": [{"type": "website", "content": "https://x"}], "fields": [{}]},
            "field_id",
        ),
        (
            "documenttranscription",
            {},
            "Please include an attachment or attachments parameter.",
        ),
    ],
)
def test_type_specific_parameters_are_checked_as_documented(
    http: httpx.Client, type_: str, params: dict[str, Any], words: str
) -> None:
    project(http, type_=type_)
    response = http.post(f"/task/{type_}", json={"project": "p", **params})
    assert 400 == response.status_code, response.text
    assert words in response.json()["error"]


def test_types_without_documented_parameters_take_what_they_are_sent(http: httpx.Client) -> None:
    project(http, type_="chat")
    task = create(http, "chat", project="p", model="x", turns=[{"role": "user"}])
    assert {"model": "x", "turns": [{"role": "user"}]} == task["params"]


def test_textcollection_and_documenttranscription_take_their_documented_forms(
    http: httpx.Client,
) -> None:
    project(http, "text", type_="textcollection")
    project(http, "docs", type_="documenttranscription")
    fields = [
        {
            "type": "category",
            "field_id": "c",
            "title": "C",
            "choices": [{"label": "A", "value": "a"}],
        }
    ]
    text = create(
        http,
        "textcollection",
        project="text",
        attachments=[{"type": "website", "content": "https://example.com"}],
        fields=fields,
    )
    one = create(http, "documenttranscription", project="docs", attachment="https://x/a.pdf")
    many = create(http, "documenttranscription", project="docs", attachments=["https://x/a.pdf"])
    assert fields == text["params"]["fields"]
    assert ["https://x/a.pdf"] == many["params"]["attachments"]
    assert "https://x/a.pdf" == one["params"]["attachment"]


@pytest.mark.parametrize(
    "fields",
    [
        {"metadata": [1]},
        {"metadata": "x"},
        {"unique_id": ""},
        {"unique_id": 5},
        {"priority": 5},
        {"priority": 31},
        {"priority": "20"},
        {"priority": True},
        {"tags": "a"},
        {"tags": [1]},
        {"callback_url": 7},
        {"instruction": ["x"]},
        {"clear_unique_id_on_error": "yes"},
        {"batch": 3},
    ],
)
def test_common_fields_of_the_wrong_type_are_400(
    http: httpx.Client, fields: dict[str, Any]
) -> None:
    project(http)
    response = http.post("/task/imageannotation", json=image_task(project="p", **fields))
    assert 400 == response.status_code, response.text
    assert response.json()["error"]


@pytest.mark.parametrize("body", [b"", b"[]", b"{nope", b'{"project": NaN}'])
def test_a_body_that_is_not_a_json_object_is_400(http: httpx.Client, body: bytes) -> None:
    response = http.post("/task/imageannotation", content=body)
    assert 400 == response.status_code
    assert response.json()["error"]


def test_a_repeated_unique_id_is_409_with_the_documented_body_across_projects_and_types(
    http: httpx.Client, emu: Emulator
) -> None:
    """unique_id is "global across all projects and task types"; the 409 names the task
    that has it, with status_code, as the idempotency page shows (as valid JSON)."""
    project(http)
    project(http, "words", type_="categorization")
    first = create(http, **image_task(project="p", unique_id='s3://bucket/"file".png'))
    again = http.post(
        "/task/categorization", json={"project": "words", "unique_id": first["unique_id"]}
    )
    assert 409 == again.status_code
    assert {
        "status_code": 409,
        "error": f'The unique_id ("s3://bucket/"file".png") is already used for a different'
        f" task ({first['task_id']}).",
    } == again.json()
    with client(emu, "another-customer") as other:
        project(other)
        assert (
            200
            == other.post(
                "/task/imageannotation", json=image_task(project="p", unique_id=first["unique_id"])
            ).status_code
        )


def test_a_repeated_idempotency_key_is_409(http: httpx.Client) -> None:
    project(http)
    headers = {"Idempotency-Key": "key-1"}
    first = http.post("/task/imageannotation", json=image_task(project="p"), headers=headers)
    again = http.post("/task/imageannotation", json=image_task(project="p"), headers=headers)
    assert 200 == first.status_code
    assert 409 == again.status_code
    assert first.json()["task_id"] in again.json()["error"]
    assert 409 == again.json()["status_code"]


# -- get ---------------------------------------------------------------------------------


def test_get_returns_the_task_and_404_for_an_unknown_or_foreign_id(
    http: httpx.Client, emu: Emulator
) -> None:
    project(http)
    task = create(http, **image_task(project="p"))
    assert task == http.get(f"/task/{task['task_id']}").json()
    assert 404 == http.get("/task/000000000000000000000000").status_code
    # a task type in the path of a GET is just an id that does not exist
    assert 404 == http.get("/task/imageannotation").status_code
    with client(emu, "other") as other:
        assert 404 == other.get(f"/task/{task['task_id']}").status_code
        assert 404 == other.post(f"/task/{task['task_id']}/cancel").status_code
        assert 0 == other.get("/tasks").json()["total"]


def test_task_paths_refuse_other_methods(http: httpx.Client, emu: Emulator) -> None:
    one = http.delete("/task/abc")
    assert (405, {"GET", "POST"}) == (one.status_code, set(one.headers["allow"].split(", ")))
    assert (405, "POST") == (
        http.get("/task/abc/cancel").status_code,
        http.get("/task/abc/cancel").headers["allow"],
    )
    assert 405 == http.post("/tasks", json={}).status_code
    with httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root) as anonymous:
        assert 401 == anonymous.get("/tasks").status_code
        assert 401 == anonymous.post("/task/imageannotation", json={}).status_code


# -- list --------------------------------------------------------------------------------

ENVELOPE = {"docs", "total", "limit", "offset", "has_more", "next_token"}


def test_list_pages_with_next_token_newest_first(http: httpx.Client, clock: Clock) -> None:
    """Every answer has the keys the SDK reads; next_token chains pages until has_more is
    false (next_token null); total counts all matches, offset those before the page."""
    project(http)
    ids = []
    for _ in range(7):
        ids.append(create(http, **image_task(project="p"))["task_id"])
        clock.advance(0.001)
    pages, token = [], None
    while True:
        params: dict[str, Any] = {"project": "p", "limit": 3}
        if token:
            params["next_token"] = token
        page = http.get("/tasks", params=params).json()
        assert ENVELOPE == set(page)
        pages.append(page)
        token = page["next_token"]
        if not page["has_more"]:
            break
    assert [(3, 0, True), (3, 3, True), (1, 6, False)] == [
        (len(p["docs"]), p["offset"], p["has_more"]) for p in pages
    ]
    assert {7} == {p["total"] for p in pages}
    assert {3} == {p["limit"] for p in pages}
    assert pages[-1]["next_token"] is None
    assert ids[::-1] == [t["task_id"] for p in pages for t in p["docs"]]


def test_the_next_token_stays_valid_when_tasks_are_added_between_pages(
    http: httpx.Client, clock: Clock
) -> None:
    project(http)
    for _ in range(4):
        create(http, **image_task(project="p"))
        clock.advance(0.001)
    first = http.get("/tasks", params={"project": "p", "limit": 2}).json()
    create(http, **image_task(project="p"))
    second = http.get(
        "/tasks", params={"project": "p", "limit": 2, "next_token": first["next_token"]}
    ).json()
    seen = [t["task_id"] for t in first["docs"] + second["docs"]]
    assert 4 == len(set(seen))
    # offset: the matches before this page, the task added since included
    assert (5, 3, False) == (second["total"], second["offset"], second["has_more"])


def test_list_filters(http: httpx.Client, clock: Clock, emu: Emulator) -> None:
    """project, batch, status, type, unique_id and tags (repeatable: any of them), and the
    created / completed / updated time bounds, inclusive."""
    project(http)
    project(http, "words", type_="categorization")
    batch(http)
    a = create(http, **image_task(batch="b", unique_id="a", tags=["x"]))
    clock.advance(10)
    b = create(http, **image_task(project="p", unique_id="b", tags=["y", "z"]))
    c = create(http, "categorization", project="words", unique_id="c", categories=["big"])
    http.post(f"/task/{c['task_id']}/cancel")
    clock.advance(10)  # a and b are done by now (0.05 s each)

    def ids(**params: Any) -> list[str]:
        found = http.get("/tasks", params=params).json()["docs"]
        return sorted(t["unique_id"] for t in found)

    assert ["a", "b", "c"] == ids()
    assert ["a", "b"] == ids(project="p")
    assert ["a"] == ids(batch="b")
    assert ["c"] == ids(status="canceled")
    assert ["a", "b"] == ids(status="completed")
    assert [] == ids(status="pending")
    assert ["c"] == ids(type="categorization")
    assert ["a", "c"] == ids(unique_id=["a", "c"])
    assert ["b"] == ids(unique_id="b")
    assert ["a", "b"] == ids(tags=["x", "z"])
    assert ["b", "c"] == ids(start_time=iso(10))
    assert ["a"] == ids(end_time=iso(5))
    assert ["b", "c"] == ids(start_time="2023-11-14 22:13:30.000000")
    assert ["a"] == ids(completed_before=iso(1))
    assert ["b"] == ids(completed_after=iso(10.01))
    assert ["b", "c"] == ids(updated_after=iso(10))
    assert [] == ids(customer_review_status="accepted,rejected")
    assert ["a", "b", "c"] == ids(include_attachment_url="True", limited_response="False")
    limited = http.get("/tasks", params={"unique_id": "a", "limited_response": "true"}).json()
    assert [
        {"task_id": a["task_id"], "status": "completed", "metadata": {}, "project": "p"}
    ] == limited["docs"]
    assert b["task_id"] in [
        t["task_id"] for t in http.get("/tasks", params={"type": "imageannotation"}).json()["docs"]
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "101"}, 400),
        ({"limit": "ten"}, 400),
        ({"status": "done"}, 400),
        ({"next_token": "not-a-token"}, 400),
        ({"next_token": "0123456789abcdef01234567"}, 404),
        ({"customer_review_status": "pending,bogus"}, 400),
        ({"start_time": "yesterday"}, 400),
        ({"completed_after": "2023-13-01"}, 400),
        ({"limited_response": "maybe"}, 400),
        ({"include_attachment_url": "maybe"}, 400),
    ],
)
def test_list_refuses_bad_parameters(
    http: httpx.Client, params: dict[str, str], status: int
) -> None:
    response = http.get("/tasks", params=params)
    assert status == response.status_code, response.text
    assert response.json()["error"]


def test_an_empty_list_and_the_sdks_unique_id_lookup(http: httpx.Client) -> None:
    """No match: an empty page with has_more false and no next_token. The SDK's 409
    recovery lists by unique_id alone and takes docs[0]."""
    empty = http.get("/tasks", params={"project": "none"}).json()
    assert {
        "docs": [],
        "total": 0,
        "limit": 100,
        "offset": 0,
        "has_more": False,
        "next_token": None,
    } == empty
    project(http)
    task = create(http, **image_task(project="p", unique_id="item-7"))
    assert task == http.get("/tasks?unique_id=item-7").json()["docs"][0]


# -- cancel ------------------------------------------------------------------------------


def test_cancel_a_pending_task_then_never_again(http: httpx.Client, clock: Clock) -> None:
    """A pending task is canceled (200, the task); canceling it again, or canceling a done
    task, is a 400 (undocumented status; never a 409); an unknown id is a 404."""
    project(http)
    task = create(http, **image_task(project="p"))
    clock.advance(0.01)
    canceled = http.post(f"/task/{task['task_id']}/cancel")
    assert 200 == canceled.status_code
    assert ("canceled", iso(0.01)) == (canceled.json()["status"], canceled.json()["updated_at"])
    assert "completed_at" not in canceled.json()
    again = http.post(f"/task/{task['task_id']}/cancel")
    assert 400 == again.status_code
    assert "canceled" in again.json()["error"]
    done = create(http, **image_task(project="p"))
    clock.advance(1)
    assert 400 == http.post(f"/task/{done['task_id']}/cancel").status_code
    assert 404 == http.post("/task/000000000000000000000000/cancel").status_code
    clock.advance(10)
    assert "canceled" == http.get(f"/task/{task['task_id']}").json()["status"]


def test_clear_unique_id_frees_it_for_a_new_task(http: httpx.Client) -> None:
    project(http)
    kept = create(http, **image_task(project="p", unique_id="kept"))
    freed = create(http, **image_task(project="p", unique_id="freed"))
    assert (
        "kept"
        == http.post(f"/task/{kept['task_id']}/cancel", params={"clear_unique_id": "false"}).json()[
            "unique_id"
        ]
    )
    cleared = http.post(
        f"/task/{freed['task_id']}/cancel", params={"clear_unique_id": "true"}
    ).json()
    assert "unique_id" not in cleared
    assert (
        409
        == http.post(
            "/task/imageannotation", json=image_task(project="p", unique_id="kept")
        ).status_code
    )
    assert "freed" == create(http, **image_task(project="p", unique_id="freed"))["unique_id"]


def test_canceling_the_last_pending_task_completes_the_batch(
    http: httpx.Client, clock: Clock
) -> None:
    project(http, studio=True)
    batch(http)
    task = create(http, **image_task(batch="b"))
    create(http, **image_task(batch="b"))
    http.post(f"/task/{task['task_id']}/cancel")
    assert {
        "status": "staging",
        "pending": 1,
        "completed": 0,
        "error": 0,
        "canceled": 1,
    } == status_counts(http)
    http.post("/batches/b/finalize")
    clock.advance(0.05)
    assert {
        "status": "completed",
        "pending": 0,
        "completed": 1,
        "error": 0,
        "canceled": 1,
    } == status_counts(http)


# -- the simulated workforce -------------------------------------------------------------


def test_a_standard_batchs_tasks_are_worked_one_after_another(
    http: httpx.Client, clock: Clock
) -> None:
    """Default: one worker per batch, 0.05 s of emulated time per task, in creation order;
    each task is stamped with the moment it was done, and the batch with its last."""
    project(http)
    batch(http)
    ids = [create(http, **image_task(batch="b"))["task_id"] for _ in range(3)]
    assert {
        "status": "in_progress",
        "pending": 3,
        "completed": 0,
        "error": 0,
        "canceled": 0,
    } == status_counts(http)
    clock.advance(0.05)
    assert (2, 1) == (status_counts(http)["pending"], status_counts(http)["completed"])
    clock.advance(1)
    assert {
        "status": "completed",
        "pending": 0,
        "completed": 3,
        "error": 0,
        "canceled": 0,
    } == status_counts(http)
    done = [http.get(f"/task/{i}").json() for i in ids]
    assert [iso(0.05), iso(0.1), iso(0.15)] == [t["completed_at"] for t in done]
    assert [iso(0.05), iso(0.1), iso(0.15)] == [t["updated_at"] for t in done]
    assert iso(0.15) == http.get("/batches/b").json()["completed_at"]
    detailed = http.get("/batches", params={"detailed": "true"}).json()["docs"][0]
    assert (3, 0) == (detailed["completed"], detailed["pending"])


@pytest.mark.parametrize("kind", ["rapid", "studio"])
def test_rapid_and_studio_tasks_wait_for_finalize(
    http: httpx.Client, clock: Clock, kind: str
) -> None:
    project(http, **{kind: True})
    batch(http)
    task = create(http, **image_task(batch="b"))
    clock.advance(100)
    assert "pending" == http.get(f"/task/{task['task_id']}").json()["status"]
    http.post("/batches/b/finalize")
    clock.advance(0.049)
    assert 1 == status_counts(http)["pending"]
    clock.advance(0.001)
    done = http.get(f"/task/{task['task_id']}").json()
    assert ("completed", iso(100.05)) == (done["status"], done["completed_at"])
    assert "completed" == status_counts(http)["status"]


def test_tasks_without_a_batch_are_worked_too(http: httpx.Client, clock: Clock) -> None:
    project(http)
    task = create(http, **image_task(project="p"))
    clock.advance(0.05)
    assert "completed" == http.get(f"/task/{task['task_id']}").json()["status"]


def test_workforce_options_seconds_workers_and_error_every() -> None:
    """scale_task_seconds, scale_workers (tasks of a batch worked at once) and
    scale_error_every (every Nth task of a batch, in creation order, ends in error)."""
    clock = Clock()
    with (
        Emulator(clock=clock, scale_task_seconds=2, scale_workers=2, scale_error_every=3) as emu,
        client(emu) as http,
    ):
        project(http)
        batch(http)
        ids = [
            create(http, **image_task(batch="b", unique_id=f"u{n}"))["task_id"] for n in range(5)
        ]
        clock.advance(2)
        assert (3, 2) == (status_counts(http)["pending"], status_counts(http)["completed"])
        clock.advance(4)
        tasks = [http.get(f"/task/{i}").json() for i in ids]
        assert ["completed", "completed", "error", "completed", "completed"] == [
            t["status"] for t in tasks
        ]
        assert [iso(2), iso(2), iso(4), iso(4), iso(6)] == [t["completed_at"] for t in tasks]
        assert {
            "error": "One or more attachments could not be downloaded.",
            "attachments": [{"statusCode": 403, "url": "https://example.com/cat.png"}],
        } == tasks[2]["response"]
        assert "u2" == tasks[2]["unique_id"]  # kept: clear_unique_id_on_error was not asked
        assert {
            "status": "completed",
            "pending": 0,
            "completed": 4,
            "error": 1,
            "canceled": 0,
        } == status_counts(http)


def test_clear_unique_id_on_error_frees_an_errored_tasks_unique_id() -> None:
    clock = Clock()
    with Emulator(clock=clock, scale_error_every=1) as emu, client(emu) as http:
        project(http)
        task = create(http, **image_task(project="p", unique_id="u", clear_unique_id_on_error=True))
        clock.advance(1)
        errored = http.get(f"/task/{task['task_id']}").json()
        assert ("error", None) == (errored["status"], errored.get("unique_id"))
        assert (
            200
            == http.post(
                "/task/imageannotation", json=image_task(project="p", unique_id="u")
            ).status_code
        )


def _statuses(error_rate: float) -> list[str]:
    clock = Clock()
    with Emulator(clock=clock, scale_error_rate=error_rate) as emu, client(emu) as http:
        project(http)
        for n in range(40):
            create(http, **image_task(project="p", unique_id=f"item-{n}"))
        clock.advance(100)
        docs = http.get("/tasks", params={"project": "p"}).json()["docs"]
        return [t["status"] for t in sorted(docs, key=lambda t: t["unique_id"])]


def test_the_error_rate_is_a_deterministic_share_by_unique_id() -> None:
    """scale_error_rate: a hash of the unique_id decides, so the same items fail on every
    run, whatever order they are created in; 0 and 1 are none and all."""
    half = _statuses(0.5)
    assert half == _statuses(0.5)
    assert 8 <= half.count("error") <= 32
    assert {"completed", "error"} == set(half)
    assert {"completed"} == set(_statuses(0.0))
    assert {"error"} == set(_statuses(1.0))


def test_no_workforce_leaves_tasks_to_the_control_api() -> None:
    """scale_task_seconds=None: tasks stay pending however long; complete_tasks moves them,
    with the same responses the workforce would give."""
    clock = Clock()
    with Emulator(clock=clock, scale_task_seconds=None) as emu, client(emu) as http:
        project(http)
        batch(http)
        task = create(http, **image_task(batch="b"))
        clock.advance(1e6)
        assert "pending" == http.get(f"/task/{task['task_id']}").json()["status"]
        assert [task["task_id"]] == emu.scale.complete_tasks("k", "b")
        done = http.get(f"/task/{task['task_id']}").json()
        assert ("completed", 2) == (done["status"], len(done["response"]["annotations"]))


def test_zero_seconds_finishes_a_task_as_it_is_created() -> None:
    with Emulator(clock=Clock(), scale_task_seconds=0) as emu, client(emu) as http:
        project(http)
        batch(http)
        task = create(http, **image_task(batch="b"))
        assert ("completed", iso(0)) == (task["status"], task["completed_at"])
        assert "completed" == http.get("/batches/b").json()["status"]


@pytest.mark.parametrize(
    "options",
    [
        {"scale_task_seconds": -1},
        {"scale_task_seconds": float("nan")},
        {"scale_task_seconds": True},
        {"scale_workers": 0},
        {"scale_workers": 1.5},
        {"scale_error_every": 0},
        {"scale_error_rate": 1.5},
        {"scale_error_rate": -0.1},
    ],
)
def test_bad_workforce_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Emulator(**options)


def test_an_attachment_never_uploaded_ends_the_task_in_error(
    http: httpx.Client, clock: Clock
) -> None:
    """ "Attachment problems do not fail the create": a scaledata:// URL this customer was
    never given makes the task end in error, naming it (404)."""
    project(http)
    url = "scaledata://000000000000000000000000/nope"
    task = create(http, project="p", attachment=url, geometries=BOXES)
    clock.advance(1)
    done = http.get(f"/task/{task['task_id']}").json()
    assert "error" == done["status"]
    assert {
        "error": "One or more attachments could not be downloaded.",
        "attachments": [{"statusCode": 404, "url": url}],
    } == done["response"]


# -- synthesized responses ---------------------------------------------------------------


def _completed(type_: str, params: dict[str, Any], project_params: dict[str, Any] | None = None):
    clock = Clock()
    with Emulator(clock=clock) as emu, client(emu) as http:
        response = http.post(
            "/projects", json={"name": "p", "type": type_, "params": project_params or {}}
        )
        assert 200 == response.status_code
        task = create(http, type_, project="p", **params)
        clock.advance(1)
        done = http.get(f"/task/{task['task_id']}").json()
        assert "completed" == done["status"]
        return done["response"]


def test_imageannotation_response_has_an_annotation_per_label_and_geometry() -> None:
    geometries = {
        "box": {
            "objects_to_annotate": [
                "cat",
                {"choice": "vehicle", "subchoices": ["car", {"choice": "truck"}]},
            ],
            "min_width": 50,
        },
        "polygon": {"objects_to_annotate": ["lake"]},
        "point": {"objects_to_annotate": ["eye"]},
        "ellipse": {"objects_to_annotate": ["ball"]},
        "line": {"objects_to_annotate": ["road"]},
    }
    attributes = {
        "parked": {"type": "category", "choices": ["Yes", "No"]},
        "count": {"type": "number", "min": 1, "max": 3},
    }
    params = {
        "attachment": "https://x/street.png",
        "geometries": geometries,
        "annotation_attributes": attributes,
    }
    response = _completed("imageannotation", params)
    assert response == _completed("imageannotation", params)  # deterministic
    annotations = response["annotations"]
    assert ["box", "box", "polygon", "line", "point", "ellipse"] == [a["type"] for a in annotations]
    box, vehicle, polygon, line, point, ellipse = annotations
    assert "cat" == box["label"]
    assert vehicle["label"] in {"car", "truck"}
    for a in (box, vehicle):
        assert a["width"] >= 50
        assert 0 <= a["left"] <= a["left"] + a["width"] <= 1000
        assert 0 <= a["top"] <= a["top"] + a["height"] <= 1000
    assert 4 == len(polygon["vertices"])
    assert 2 == len(line["vertices"])
    assert {"x", "y"} <= set(point)
    assert {"x", "y", "rx", "ry", "rotation"} <= set(ellipse)
    assert 6 == len({a["uuid"] for a in annotations})
    for a in annotations:
        assert a["attributes"]["parked"] in {"Yes", "No"}
        assert 1 <= a["attributes"]["count"] <= 3
    other = _completed("imageannotation", {**params, "attachment": "https://x/other.png"})
    assert other != response  # another image, other boxes


def test_textcollection_response_answers_each_field_by_its_id() -> None:
    fields = [
        {
            "type": "category",
            "field_id": "kind",
            "title": "Kind",
            "choices": [
                {"label": "Correct", "value": "correct"},
                {"label": "Wrong", "value": "wrong"},
            ],
        },
        {"type": "number", "field_id": "price", "title": "Price", "min": 5, "max": 9},
        {"type": "text", "field_id": "names", "title": "Names", "max_responses_required": 2},
        {"type": "datetime", "field_id": "when", "title": "When"},
        {
            "type": "fieldset",
            "field_id": "more",
            "title": "More",
            "fields": [{"type": "boolean", "field_id": "ok", "title": "OK"}],
        },
    ]
    params = {
        "attachments": [{"type": "website", "content": "https://example.com"}],
        "fields": fields,
    }
    answers = _completed("textcollection", params)["annotations"]
    assert {"kind", "price", "names", "when", "more"} == set(answers)
    assert answers["kind"] in {"correct", "wrong"}
    assert 5 <= answers["price"] <= 9
    assert 2 == len(answers["names"])
    assert all(isinstance(n, str) for n in answers["names"])
    assert dt.date.fromisoformat(answers["when"])
    assert isinstance(answers["more"]["ok"], bool)
    # a Rapid project defines its fields once: the task's response answers them
    from_project = _completed(
        "textcollection", {"attachments": params["attachments"]}, {"fields": fields}
    )
    assert set(answers) == set(from_project["annotations"])


def test_categorization_and_other_types() -> None:
    assert _completed("categorization", {"attachment": "car", "categories": ["big", "small"]})[
        "category"
    ] in {"big", "small"}
    assert {"annotations": []} == _completed("namedentityrecognition", {"text": "Ada Lovelace"})


# -- the control API, now over real tasks --------------------------------------------------


def test_control_api_tasks_are_real_tasks_held_for_complete_tasks(
    http: httpx.Client, emu: Emulator, clock: Clock
) -> None:
    """add_tasks makes real tasks (listed and fetched like created ones, of the project's
    type), which the workforce leaves alone; complete_tasks moves them (oldest first),
    counts come from them, and add_tasks(worked=True) hands them to the workforce."""
    project(http)
    batch(http)
    held = emu.scale.add_tasks("k", "b", 3)
    clock.advance(100)
    listed = http.get("/tasks", params={"batch": "b"}).json()
    assert (3, {"pending"}) == (listed["total"], {t["status"] for t in listed["docs"]})
    assert {"imageannotation"} == {t["type"] for t in listed["docs"]}
    assert held[:2] == emu.scale.complete_tasks("k", "b", 2)
    assert held[2:] == emu.scale.complete_tasks("k", "b", outcome="error")
    assert {
        "status": "completed",
        "pending": 0,
        "completed": 2,
        "error": 1,
        "canceled": 0,
    } == status_counts(http)
    batch(http, "w")
    worked = emu.scale.add_tasks("k", "w", 2, worked=True)
    clock.advance(0.05)
    assert 1 == emu.scale.advance_tasks()  # one worker: the second is done 0.05 s later
    clock.advance(0.05)
    assert ["completed", "completed"] == [http.get(f"/task/{i}").json()["status"] for i in worked]
