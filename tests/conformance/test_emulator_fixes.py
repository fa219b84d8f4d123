"""Emulator behaviour the conformance suites brought in, pinned by plain requests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from batchkit.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(job_seconds=0) as emulator:
        yield emulator


@pytest.fixture
def aihub(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emu.transport(),
        base_url=emu.aihub_api_root,
        headers={"Authorization": "Bearer fixes"},
    ) as client:
        yield client


@pytest.fixture
def scale(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emu.transport(), base_url=emu.scale_api_root, auth=("fixes", "")
    ) as client:
        yield client


@pytest.mark.parametrize("method", ["GET", "DELETE", "OPTIONS"])
def test_aihub_multipart_start_path_allows_only_post(aihub: httpx.Client, method: str) -> None:
    """`multipart-upload` is not a batch id: another method is a 405 with `Allow: POST`
    (the batch route no longer adds its GET and DELETE)."""
    response = aihub.request(method, "/v2/batches/multipart-upload")
    assert (405, "POST") == (response.status_code, response.headers["Allow"])


def test_aihub_batch_routes_still_answer_their_methods(aihub: httpx.Client) -> None:
    """Routing by first match leaves the parametrised routes as they were."""
    assert 200 == aihub.post("/v2/batches", json={"name": "b"}).status_code
    assert 200 == aihub.get("/v2/batches/1").status_code
    response = aihub.put("/v2/batches/1")
    assert (405, "DELETE, GET") == (response.status_code, response.headers["Allow"])
    assert 202 == aihub.delete("/v2/batches/1").status_code


@pytest.mark.parametrize(
    ("offset", "status"),
    [("9223372036854775807", 200), ("0009223372036854775807", 200),
     ("9223372036854775808", 400), ("-1", 400), ("１", 400)],
)
def test_scale_list_offset_takes_any_64_bit_count(
    scale: httpx.Client, offset: str, status: int
) -> None:
    """`offset` runs to 2**63 - 1 (an empty page past the end); beyond, or not ASCII
    digits, is a 400."""
    response = scale.get("/batches", params={"offset": offset})
    assert status == response.status_code, response.text
    if status == 200:
        assert ([], 2**63 - 1) == (response.json()["docs"], response.json()["offset"])


@pytest.mark.parametrize(
    "bound",
    ["2000-01-01t00:00:00z", "2000-01-01T23:59:60Z", "2000-01-01T23:59:60.5+01:00",
     "2000-01-01 00:00:00.123456", "2000-01-01"],
)
def test_scale_time_filters_take_every_rfc3339_form(scale: httpx.Client, bound: str) -> None:
    """Lower-case `t` / `z` and a leap second are RFC 3339 date-times: accepted."""
    response = scale.get("/batches", params={"start_time": bound, "end_time": bound})
    assert 200 == response.status_code, response.text


def test_scale_leap_second_bound_is_the_minutes_last_instant(
    emu: Emulator, scale: httpx.Client
) -> None:
    """A batch created during the leap minute's last second falls inside ``end_time=…:60``."""
    emu.scale.create_project("fixes", name="p", type="imageannotation")
    emu.scale.create_batch("fixes", project="p", name="b")
    created = emu.scale.get_batch("fixes", "b")["created_at"]
    minute = created[:16]
    listed = scale.get("/batches", params={"start_time": f"{minute}:00Z",
                                           "end_time": f"{minute}:60Z"})
    assert ["b"] == [batch["name"] for batch in listed.json()["docs"]]


@pytest.mark.parametrize("key", ["datasetId", "pipeline"])
@pytest.mark.parametrize("value", [{}, 1, True, ["x"]])
def test_scale_project_dataset_and_pipeline_must_be_strings(
    scale: httpx.Client, key: str, value: object
) -> None:
    """`datasetId` (the SDK's) and `pipeline` (the reference example's) are strings or
    null; anything else is a 400 rather than a value echoed back."""
    response = scale.post("/projects", json={"name": "p", "type": "t", key: value})
    assert 400 == response.status_code
    assert key in response.json()["error"]
    ok = scale.post("/projects", json={"name": "p", "type": "t", key: None})
    assert 200 == ok.status_code
