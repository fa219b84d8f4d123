"""Scale adapter behaviours against a fake server: offset pagination, server-side filters,
create options, metadata and projects."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

import batchkit
from batchkit import BatchState, Conflict, Project


def _paged(kit, total: int, *, page_limit: int | None = None):
    """GET /v1/batches answering the wire envelope over `total` batches, newest first."""
    def handle(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        limit = page_limit or int(request.url.params.get("limit", 100))
        docs = [{"name": f"b{i}", "project": "p", "status": "staging",
                 "created_at": "2024-01-01T00:00:00.000Z"}
                for i in range(offset, min(offset + limit, total))]
        return httpx.Response(200, json={
            "docs": docs, "totalDocs": total, "limit": limit, "offset": offset,
            "has_more": offset + limit < total,
        })

    return kit.Recorder(handle)


def _offsets(rec) -> list[tuple[str, str]]:
    return [(r.url.params["offset"], r.url.params["limit"]) for r in rec.requests]


def test_list_batches_pages_by_offset_while_has_more(kit):
    """Offsets advance by the items received until `has_more` is false."""
    rec = _paged(kit, 230)
    batches = list(kit.scale(rec.transport).list_batches())
    assert [f"b{i}" for i in range(230)] == [b.id for b in batches]
    assert [("0", "100"), ("100", "100"), ("200", "100")] == _offsets(rec)


def test_list_batches_advances_by_what_the_server_actually_sent(kit):
    """A server capping pages at 30 is paged by 30s, nothing skipped."""
    rec = _paged(kit, 70, page_limit=30)
    batches = list(kit.scale(rec.transport).list_batches())
    assert 70 == len({b.id for b in batches})
    assert ["0", "30", "60"] == [o for o, _ in _offsets(rec)]


def test_list_batches_with_a_limit_yields_that_many(kit):
    """limit=150 yields exactly 150 batches."""
    rec = _paged(kit, 500)
    assert 150 == len(list(kit.scale(rec.transport).list_batches(limit=150)))


def test_list_batches_with_a_limit_sends_no_request_past_it(kit):
    """limit=5 with more batches on the server: one page of 5, no second request."""
    rec = _paged(kit, 500)
    batches = list(kit.scale(rec.transport).list_batches(limit=5))
    assert (5, [("0", "5")]) == (len(batches), _offsets(rec))


def test_list_batches_with_a_limit_spanning_pages_stops_at_the_limit(kit):
    """limit=200 reads exactly two full pages and asks for no third."""
    rec = _paged(kit, 500)
    batches = list(kit.scale(rec.transport).list_batches(limit=200))
    assert (200, [("0", "100"), ("100", "100")]) == (len(batches), _offsets(rec))


def test_list_batches_sends_the_filters_to_the_server(kit):
    """project, state, created_after/before (ISO with Z, in UTC) and detailed are query params."""
    rec = _paged(kit, 1)
    after = datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    before = datetime(2024, 2, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    list(kit.scale(rec.transport).list_batches(
        project="proj a", state=BatchState.IN_PROGRESS, created_after=after,
        created_before=before, detailed=True,
    ))
    params = dict(rec.requests[0].url.params)
    expected = {
        "offset": "0", "limit": "100", "project": "proj a", "status": "in_progress",
        "start_time": "2024-01-02T03:04:05.600Z", "end_time": "2024-02-01T10:00:00.000Z",
        "detailed": "true",
    }
    assert expected == params


def test_list_batches_for_a_state_scale_lacks_is_empty_without_a_request(kit):
    """Scale has no OPEN state: nothing to ask for."""
    rec = _paged(kit, 3)
    assert [] == list(kit.scale(rec.transport).list_batches(state=BatchState.OPEN))
    assert [] == rec.requests


def test_create_batch_sends_project_name_callback_metadata_and_options(kit):
    """Every documented create field the caller gives is in the body, nothing else."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, json={"name": "b", "project": "p", "status": "staging"}
    ))
    kit.scale(rec.transport).create_batch(
        "b", project="p", callback="https://hooks.test/x", metadata={"k": [1]},
        options={"calibration_batch": True},
    )
    body = json.loads(rec.requests[0].content)
    assert {"project": "p", "name": "b", "callback": "https://hooks.test/x",
            "metadata": {"k": [1]}, "calibration_batch": True} == body


def test_set_metadata_posts_the_metadata_itself(kit):
    """setMetadata's body is the metadata dict; the updated batch is returned."""
    rec = kit.Recorder(lambda request: httpx.Response(
        200, json={"name": "b", "metadata": {"a": 1}}
    ))
    batch = kit.scale(rec.transport).set_metadata("b", {"a": 1})
    assert ({"a": 1}, {"a": 1}) == (json.loads(rec.requests[0].content), batch.raw["metadata"])
    assert [("POST", "/v1/batches/b/setMetadata")] == rec.lines


def test_create_project_returns_the_project(kit):
    """POST /v1/projects → Project with name and type."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json={
        "name": "proj", "type": "imageannotation",
        "param_history": [{"version": 0, "instruction": "i"}],
    }))
    project = kit.scale(rec.transport).create_project(
        "proj", type="imageannotation", params={"instruction": "i"}
    )
    assert Project(name="proj", type="imageannotation") == project
    assert {"type": "imageannotation", "name": "proj", "params": {"instruction": "i"}} == (
        json.loads(rec.requests[0].content)
    )


def test_create_project_name_taken_is_a_conflict(kit):
    """A repeated project name is Conflict naming it."""
    rec = kit.Recorder(lambda request: httpx.Response(409, json={"error": "exists"}))
    with pytest.raises(Conflict, match="'proj' already exists"):
        kit.scale(rec.transport).create_project("proj", type="imageannotation")


def test_get_project_reads_the_project_by_its_quoted_name(kit):
    """GET /v1/projects/<name>, the name quoted like the SDK's quote_string (no safe chars)."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json={
        "name": "a bc/def", "type": "imageannotation", "param_history": []}))
    project = kit.scale(rec.transport).get_project("a bc/def")
    assert Project(name="a bc/def", type="imageannotation") == project
    assert [("GET", "/v1/projects/a%20bc%2Fdef")] == rec.lines


def test_get_project_of_an_unknown_name_is_not_found(kit):
    """A 404 is NotFound naming the operation."""
    rec = kit.Recorder(lambda request: httpx.Response(404, json={"error": "no such project"}))
    with pytest.raises(batchkit.NotFound, match="get_project"):
        kit.scale(rec.transport).get_project("nope")


def test_list_projects_reads_the_bare_array_scale_answers(kit):
    """GET /v1/projects answers a JSON array of projects (the SDK's projects())."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json=[
        {"name": "a", "type": "imageannotation", "param_history": []},
        {"name": "b", "type": "textcollection", "param_history": []},
    ]))
    projects = kit.scale(rec.transport).list_projects()
    assert [("a", "imageannotation"), ("b", "textcollection")] == [
        (p.name, p.type) for p in projects]
    assert [("GET", "/v1/projects")] == rec.lines


def test_a_project_list_that_is_not_an_array_is_a_provider_error(kit):
    """Any other shape is a ProviderError naming list_projects."""
    rec = kit.Recorder(lambda request: httpx.Response(200, json={"docs": []}))
    with pytest.raises(batchkit.ProviderError, match="list_projects"):
        kit.scale(rec.transport).list_projects()
