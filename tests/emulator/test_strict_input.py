"""Inputs that once made the emulator answer 500 (found in review), each now a 4xx/507 with
nothing stored — and the documented alternative forms both vendors' docs show."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batchkit.emulator import Emulator

AIHUB = {"Authorization": "Bearer strict"}
SCALE = httpx.BasicAuth("strict", "")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with (
        Emulator(job_polls=0) as emu,
        httpx.Client(transport=emu.transport(), base_url=emu.url) as client,
    ):
        client.post("/v1/projects", json={"name": "proj", "type": "t"}, auth=SCALE)
        yield client


def _aihub_batch(http: httpx.Client) -> int:
    response = http.post("/api/v2/batches", json={"name": "b"}, headers=AIHUB)
    assert 200 == response.status_code
    return int(response.json()["id"])


@pytest.mark.parametrize(
    "body",
    [b'{"name": "a\\ud800"}', b'{"name": "ok", "workspace": "\\udc00"}', b'{"name": 1e999}'],
)
def test_aihub_refuses_json_it_could_not_send_back_and_stores_nothing(
    http: httpx.Client, body: bytes
) -> None:
    """A lone surrogate or an overflowing number is a 400; listing still works after."""
    response = http.post("/api/v2/batches", content=body, headers=AIHUB)
    assert 400 == response.status_code
    assert "message" in response.json()
    listing = http.get("/api/v2/batches", headers=AIHUB)
    assert (200, []) == (listing.status_code, listing.json()["batches"])


def test_aihub_multipart_refuses_a_surrogate_file_name(http: httpx.Client) -> None:
    batch_id = _aihub_batch(http)
    body = b'{"batch_id": %d, "filename": "x\\udc00.bin", "file_size": 1}' % batch_id
    response = http.post("/api/v2/batches/multipart-upload", content=body, headers=AIHUB)
    assert 400 == response.status_code
    assert 200 == http.get(f"/api/v2/batches/{batch_id}/files", headers=AIHUB).status_code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/batches", b'{"project": "proj", "name": "a\\ud800"}'),
        ("/v1/batches", b'{"project": "proj", "name": "inf", "metadata": {"x": 1e999}}'),
        ("/v1/batches", b'{"project": "proj", "name": "nan", "metadata": {"x": NaN}}'),
        ("/v1/projects", b'{"name": "p2", "type": "t", "params": {"instruction": 1e999}}'),
    ],
)
def test_scale_refuses_json_it_could_not_send_back_and_stores_nothing(
    http: httpx.Client, path: str, body: bytes
) -> None:
    response = http.post(path, content=body, auth=SCALE)
    assert 400 == response.status_code
    assert "error" in response.json()
    listing = http.get("/v1/batches", auth=SCALE)
    assert (200, 0) == (listing.status_code, listing.json()["totalDocs"])


@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "-1", "1.5", "9" * 5000])
def test_scale_list_refuses_non_ascii_digits(http: httpx.Client, param: str, value: str) -> None:
    """'²' passes str.isdigit() but not int(): a 400, not a 500."""
    response = http.get("/v1/batches", params={param: value}, auth=SCALE)
    assert 400 == response.status_code


def test_aihub_multipart_file_size_beyond_the_limit_is_a_400(http: httpx.Client) -> None:
    batch_id = _aihub_batch(http)
    body: dict[str, Any] = {"batch_id": batch_id, "filename": "h.bin", "file_size": 10**15}
    response = http.post("/api/v2/batches/multipart-upload", json=body, headers=AIHUB)
    assert 400 == response.status_code
    assert "1 TiB" in response.json()["message"]


def test_a_full_disk_is_a_507_not_a_500(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storage failing (ENOSPC, EFBIG) answers 507 with a JSON message."""
    batch_id = _aihub_batch(http)
    start = http.post(
        "/api/v2/batches/multipart-upload",
        json={"batch_id": batch_id, "filename": "f.bin", "file_size": 3},
        headers=AIHUB,
    )

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("batchkit.emulator.aihub.backend.write_at", full)
    response = http.put(start.headers["location"] + "/parts/1", content=b"abc", headers=AIHUB)
    assert 507 == response.status_code
    assert "No space left" in response.json()["message"]


def test_head_error_responses_have_no_body_in_process_as_over_a_socket(
    http: httpx.Client,
) -> None:
    response = http.head("/api/v2/files/nobody/ws/fs/x.txt", headers=AIHUB)
    assert 404 == response.status_code
    assert b"" == response.content


def test_scale_status_serves_the_wire_keys_and_the_docs_example_keys(
    http: httpx.Client,
) -> None:
    http.post("/v1/batches", json={"project": "proj", "name": "s"}, auth=SCALE)
    status = http.get("/v1/batches/s/status", auth=SCALE).json()
    assert {"status", "pending", "completed", "error", "canceled"} <= status.keys()
    assert (status["pending"], status["completed"]) == (
        status["tasks_pending"],
        status["tasks_completed"],
    )


def test_scale_prioritize_accepts_the_docs_batchname_field(http: httpx.Client) -> None:
    """The docs' body table calls the priority field `batchName`: accepted, range-checked."""
    http.post("/v1/batches", json={"project": "proj", "name": "p"}, auth=SCALE)
    ok = http.post("/v1/batches/p/prioritize", json={"batchName": 20}, auth=SCALE)
    bad = http.post("/v1/batches/p/prioritize", json={"batchName": 1}, auth=SCALE)
    assert (200, 400) == (ok.status_code, bad.status_code)
