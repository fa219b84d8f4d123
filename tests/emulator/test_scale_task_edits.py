"""Scale task edits in the emulator: setMetadata, tags (set, add, delete), unique_id (update,
clear) and audit — the official SDK's calls that change a task after its creation
(scaleapi 2.18.4 ``__init__.py:113-217``).

Each test gets its own in-process emulator on a fake clock, driven through plain httpx as a
client of Scale would.
"""

from __future__ import annotations

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

UNKNOWN = "000000000000000000000000"


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with client(emu) as c:
        c.post("/projects", json={"name": "p", "type": "categorization"}).raise_for_status()
        c.post("/batches", json={"project": "p", "name": "b"}).raise_for_status()
        yield c


def create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post(
        "/task/categorization", json={"batch": "b", "categories": ["big", "small"], **body}
    )
    assert 200 == response.status_code, response.text
    return dict(response.json())


def ok(response: httpx.Response) -> dict[str, Any]:
    assert 200 == response.status_code, response.text
    return dict(response.json())


def refused(response: httpx.Response, status: int) -> str:
    assert status == response.status_code, response.text
    message = response.json()["error"]
    assert isinstance(message, str)
    assert message
    return message


def listed(http: httpx.Client, **params: Any) -> list[str]:
    return [task["task_id"] for task in http.get("/tasks", params=params).json()["docs"]]


# -- setMetadata -----------------------------------------------------------------------------


def test_set_metadata_replaces_the_metadata_and_stamps_updated_at(
    http: httpx.Client, clock: Clock
) -> None:
    """The body is the new metadata object itself; it replaces the old one (no merge:
    "Sets a task's metadata"), and the answer is the task, as GET then shows it."""
    task = create(http, metadata={"old": 1, "kept?": True})
    clock.advance(2)
    edited = ok(http.post(f"/task/{task['task_id']}/setMetadata", json={"new": {"x": "ü"}}))
    assert {"new": {"x": "ü"}} == edited["metadata"]
    assert (iso(0), iso(2)) == (edited["created_at"], edited["updated_at"])
    assert edited == http.get(f"/task/{task['task_id']}").json()
    unchanged = ("task_id", "type", "params", "tags", "project", "batch", "instruction")
    assert [task[k] for k in unchanged] == [edited[k] for k in unchanged]


def test_set_metadata_without_a_body_empties_it(http: httpx.Client) -> None:
    """The SDK sends no body for ``{}`` (``body = body or None``): read as ``{}``."""
    task = create(http, metadata={"old": 1})
    assert {} == ok(http.post(f"/task/{task['task_id']}/setMetadata"))["metadata"]


@pytest.mark.parametrize("body", [b"[1]", b'"text"', b"null", b"3", b"{nope", b'{"a": NaN}'])
def test_set_metadata_refuses_a_body_that_is_not_an_object(http: httpx.Client, body: bytes) -> None:
    task = create(http, metadata={"old": 1})
    refused(http.post(f"/task/{task['task_id']}/setMetadata", content=body), 400)
    assert {"old": 1} == http.get(f"/task/{task['task_id']}").json()["metadata"]


# -- tags ------------------------------------------------------------------------------------


def test_set_add_and_delete_tags(http: httpx.Client, clock: Clock) -> None:
    """POST sets the list (a tag given twice is kept once); PUT appends the tags the task
    does not have, in order, ignoring present ones; DELETE removes the listed ones, ignoring
    absent ones, the others keeping their order. Each answers the task, updated now."""
    task = create(http, tags=["start"])
    path = f"/task/{task['task_id']}/tags"
    clock.advance(1)
    assert ["b", "a"] == ok(http.post(path, json=["b", "a", "b"]))["tags"]
    clock.advance(1)
    added = ok(http.put(path, json=["a", "c", "d", "c"]))
    assert (["b", "a", "c", "d"], iso(2)) == (added["tags"], added["updated_at"])
    clock.advance(1)
    deleted = ok(http.request("DELETE", path, json=["a", "nope", "d"]))
    assert (["b", "c"], iso(3)) == (deleted["tags"], deleted["updated_at"])
    assert ["b", "c"] == http.get(f"/task/{task['task_id']}").json()["tags"]


def test_tag_edits_show_in_the_tags_filter(http: httpx.Client) -> None:
    one = create(http, tags=["x"])
    two = create(http)
    ok(http.post(f"/task/{one['task_id']}/tags", json=["y"]))
    ok(http.put(f"/task/{two['task_id']}/tags", json=["x"]))
    assert [two["task_id"]] == listed(http, tags="x")
    assert [one["task_id"]] == listed(http, tags="y")
    ok(http.request("DELETE", f"/task/{two['task_id']}/tags", json=["x"]))
    assert [] == listed(http, tags="x")


def test_tag_calls_without_a_body_take_an_empty_list(http: httpx.Client) -> None:
    """The SDK sends no body for ``[]``: set clears the tags, add and delete change
    nothing."""
    task = create(http, tags=["a", "b"])
    path = f"/task/{task['task_id']}/tags"
    assert ["a", "b"] == ok(http.put(path))["tags"]
    assert ["a", "b"] == ok(http.delete(path))["tags"]
    assert [] == ok(http.post(path))["tags"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize(
    "body", [b'{"tags": ["a"]}', b'["a", 1]', b'"a"', b"null", b"[null]", b"[nope"]
)
def test_tag_calls_refuse_a_body_that_is_not_a_list_of_strings(
    http: httpx.Client, method: str, body: bytes
) -> None:
    task = create(http, tags=["a"])
    message = refused(http.request(method, f"/task/{task['task_id']}/tags", content=body), 400)
    assert "JSON" in message
    assert ["a"] == http.get(f"/task/{task['task_id']}").json()["tags"]


# -- unique_id -------------------------------------------------------------------------------


def test_update_unique_id_moves_the_lookup_and_frees_the_old_one(
    http: httpx.Client, clock: Clock
) -> None:
    """The task takes the new unique_id (listed by it, not by the old one, which a new task
    may then use); updated_at is now."""
    task = create(http, unique_id="old")
    clock.advance(1)
    edited = ok(http.post(f"/task/{task['task_id']}/unique_id", json={"unique_id": "new"}))
    assert ("new", iso(1)) == (edited["unique_id"], edited["updated_at"])
    assert [task["task_id"]] == listed(http, unique_id="new")
    assert [] == listed(http, unique_id="old")
    reuse = create(http, unique_id="old")
    assert [reuse["task_id"]] == listed(http, unique_id="old")
    # the new one is taken now: a create with it is the duplicate 409
    assert (
        409
        == http.post("/task/categorization", json={"batch": "b", "unique_id": "new"}).status_code
    )


def test_update_to_a_unique_id_in_use_is_409_with_the_duplicate_body(
    http: httpx.Client, emu: Emulator
) -> None:
    """ "Raises a ScaleDuplicateResource exception if unique_id is already in use": the
    create's documented 409 body, naming the task holding it. Nothing changes. The task's
    own unique_id is a no-op 200; another customer's is no conflict."""
    holder = create(http, unique_id="taken")
    task = create(http, unique_id="mine")
    response = http.post(f"/task/{task['task_id']}/unique_id", json={"unique_id": "taken"})
    assert 409 == response.status_code
    assert {
        "status_code": 409,
        "error": f'The unique_id ("taken") is already used for a different task'
        f" ({holder['task_id']}).",
    } == response.json()
    assert "mine" == http.get(f"/task/{task['task_id']}").json()["unique_id"]
    assert [holder["task_id"]] == listed(http, unique_id="taken")
    same = ok(http.post(f"/task/{task['task_id']}/unique_id", json={"unique_id": "mine"}))
    assert "mine" == same["unique_id"]
    assert [task["task_id"]] == listed(http, unique_id="mine")
    with client(emu, "another-customer") as other:
        other.post("/projects", json={"name": "p", "type": "categorization"}).raise_for_status()
        theirs = ok(other.post("/task/categorization", json={"project": "p"}))
        moved = ok(other.post(f"/task/{theirs['task_id']}/unique_id", json={"unique_id": "taken"}))
        assert "taken" == moved["unique_id"]


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"unique_id": ""}', b'{"unique_id": null}', b'{"unique_id": 7}', b'["u"]'],
)
def test_update_unique_id_refuses_a_missing_or_mistyped_one(
    http: httpx.Client, body: bytes
) -> None:
    task = create(http, unique_id="u")
    refused(http.post(f"/task/{task['task_id']}/unique_id", content=body), 400)
    assert "u" == http.get(f"/task/{task['task_id']}").json()["unique_id"]


def test_clear_unique_id_frees_it(http: httpx.Client, clock: Clock) -> None:
    """DELETE (no body) removes the task's unique_id, which a new task may then take;
    clearing a task that has none is a no-op 200."""
    task = create(http, unique_id="u")
    clock.advance(1)
    cleared = ok(http.delete(f"/task/{task['task_id']}/unique_id"))
    assert "unique_id" not in cleared
    assert iso(1) == cleared["updated_at"]
    assert [] == listed(http, unique_id="u")
    again = create(http, unique_id="u")
    assert [again["task_id"]] == listed(http, unique_id="u")
    assert "unique_id" not in ok(http.delete(f"/task/{task['task_id']}/unique_id"))
    # clearing the task that lost it does not free the one a new task holds
    assert [again["task_id"]] == listed(http, unique_id="u")


# -- audit -----------------------------------------------------------------------------------


def test_audit_a_completed_task_records_it(http: httpx.Client, clock: Clock) -> None:
    """An audit of a completed task is appended to its ``audits`` in the task object
    example's shape (``audit_source: customer``, the comments kept); the latest one is the
    task's review status, which ``customer_review_status`` filters on."""
    task = create(http)
    other = create(http)
    clock.advance(10)  # the workforce completes both
    path = f"/task/{task['task_id']}/audit"
    accepted = ok(http.post(path, json={"accepted": True, "comments": None}))
    assert "completed" == accepted["status"]
    assert iso(10) == accepted["updated_at"]
    assert [
        {
            "audited_by": accepted["audits"][0]["audited_by"],
            "audited_at": iso(10),
            "audit_time_secs": 0,
            "audit_result": "accepted",
            "audit_source": "customer",
        }
    ] == accepted["audits"]
    assert [task["task_id"]] == listed(http, customer_review_status="accepted")
    assert [] == listed(http, customer_review_status="rejected,pending")
    clock.advance(1)
    rejected = ok(http.post(path, json={"accepted": False, "comments": "the cat is a dog"}))
    assert ["accepted", "rejected"] == [a["audit_result"] for a in rejected["audits"]]
    assert "the cat is a dog" == rejected["audits"][1]["comments"]
    assert rejected == http.get(f"/task/{task['task_id']}").json()
    assert [task["task_id"]] == listed(http, customer_review_status="rejected")
    assert [] == listed(http, customer_review_status="accepted")
    assert [task["task_id"]] == listed(http, customer_review_status="accepted,rejected")
    assert "audits" not in http.get(f"/task/{other['task_id']}").json()


def test_only_a_completed_task_can_be_audited(clock: Clock) -> None:
    """ "Submit an audit to a completed task": pending, canceled and errored tasks are a
    400 (undocumented status; never a 409, as for cancel)."""
    with Emulator(clock=clock, scale_error_every=3) as errors, client(errors) as http:
        http.post("/projects", json={"name": "p", "type": "categorization"}).raise_for_status()
        http.post("/batches", json={"project": "p", "name": "b"}).raise_for_status()
        pending = create(http)
        body = {"accepted": True, "comments": "ok"}
        assert "pending" in refused(http.post(f"/task/{pending['task_id']}/audit", json=body), 400)
        canceled = create(http)
        ok(http.post(f"/task/{canceled['task_id']}/cancel"))
        errored = create(http)  # the 3rd of its batch: error_every=3
        clock.advance(10)
        assert "error" == http.get(f"/task/{errored['task_id']}").json()["status"]
        for task in (canceled, errored):
            refused(http.post(f"/task/{task['task_id']}/audit", json=body), 400)
            assert "audits" not in http.get(f"/task/{task['task_id']}").json()
        assert "audits" in ok(http.post(f"/task/{pending['task_id']}/audit", json=body))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b'{"accepted": null}',
        b'{"accepted": "true"}',
        b'{"accepted": 1}',
        b'{"accepted": true, "comments": 5}',
        b"[true]",
    ],
)
def test_audit_refuses_a_bad_body(http: httpx.Client, clock: Clock, body: bytes) -> None:
    task = create(http)
    clock.advance(10)
    refused(http.post(f"/task/{task['task_id']}/audit", content=body), 400)
    assert "audits" not in http.get(f"/task/{task['task_id']}").json()


# -- every edit ------------------------------------------------------------------------------

EDITS = [
    ("POST", "setMetadata", b"{}"),
    ("POST", "tags", b"[]"),
    ("PUT", "tags", b"[]"),
    ("DELETE", "tags", b"[]"),
    ("POST", "unique_id", b'{"unique_id": "u"}'),
    ("DELETE", "unique_id", b""),
    ("POST", "audit", b'{"accepted": true}'),
]


@pytest.mark.parametrize(("method", "route", "body"), EDITS)
def test_an_unknown_or_foreign_task_is_404_whatever_the_body(
    http: httpx.Client, emu: Emulator, method: str, route: str, body: bytes
) -> None:
    """As GET /v1/task/<id>: an unknown id, or another customer's task, is a 404, checked
    before the body (a bad one too)."""
    task = create(http)
    for bad in (body, b"{nope"):
        refused(http.request(method, f"/task/{UNKNOWN}/{route}", content=bad), 404)
    with client(emu, "other") as other:
        refused(other.request(method, f"/task/{task['task_id']}/{route}", content=body), 404)


def test_edit_paths_refuse_other_methods_and_anonymous_calls(
    http: httpx.Client, emu: Emulator
) -> None:
    expected = {
        "setMetadata": {"POST"},
        "tags": {"POST", "PUT", "DELETE"},
        "unique_id": {"POST", "DELETE"},
        "audit": {"POST"},
    }
    for route, allowed in expected.items():
        response = http.get(f"/task/{UNKNOWN}/{route}")
        assert 405 == response.status_code, route
        assert allowed == set(response.headers["allow"].split(", ")), route
    with httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root) as anonymous:
        for method, route, body in EDITS:
            assert (
                401
                == anonymous.request(method, f"/task/{UNKNOWN}/{route}", content=body).status_code
            )


def test_edits_keep_status_listings_counts_and_the_workforce_consistent(
    http: httpx.Client, clock: Clock
) -> None:
    """No edit changes a task's status: a pending task edited every way is still listed as
    pending, counted so by its batch, and worked by the workforce as before; edits show in
    the ``updated_after`` filter, not in the creation order of listings."""
    first = create(http, unique_id="a", tags=["t"])
    second = create(http, unique_id="b")
    clock.advance(0.01)  # nothing done yet (0.05 s a task)
    task_id = first["task_id"]
    ok(http.post(f"/task/{task_id}/setMetadata", json={"m": 1}))
    ok(http.post(f"/task/{task_id}/tags", json=["u"]))
    ok(http.put(f"/task/{task_id}/tags", json=["v"]))
    ok(http.request("DELETE", f"/task/{task_id}/tags", json=["u"]))
    ok(http.post(f"/task/{task_id}/unique_id", json={"unique_id": "c"}))
    ok(http.delete(f"/task/{second['task_id']}/unique_id"))
    assert [second["task_id"], task_id] == listed(http, status="pending")
    assert [second["task_id"], task_id] == listed(http, batch="b", status="pending")
    assert [second["task_id"], task_id] == listed(http, updated_after=iso(0.005))
    assert [] == listed(http, updated_before=iso(0.005))
    status = http.get("/batches/b/status").json()
    assert ("in_progress", 2, 0) == (status["status"], status["pending"], status["completed"])
    clock.advance(10)
    done = http.get(f"/task/{task_id}").json()
    assert ("completed", iso(0.05)) == (done["status"], done["completed_at"])
    assert ({"m": 1}, ["v"], "c") == (done["metadata"], done["tags"], done["unique_id"])
    assert [second["task_id"], task_id] == listed(http, status="completed")
    assert [] == listed(http, status="pending")
    assert "completed" == http.get("/batches/b/status").json()["status"]
