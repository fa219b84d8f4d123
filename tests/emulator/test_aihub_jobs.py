"""AI Hub jobs: the spec's ``/v2/jobs/<id>`` poll, and jobs completing in emulated time.

Every test drives the emulator's clock by hand (no sleeping): a job is due ``job_seconds``
after its creation by that clock, and state is settled lazily on every request.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from batchkit.emulator import Emulator
from tests.emulator._aihub_helpers import FakeClock, create_batch, hub_client, upload


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    """Default job timing (2 polls, 0.2 s), on the fake clock."""
    with Emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def hub(emu: Emulator) -> Iterator[httpx.Client]:
    with hub_client(emu) as client:
        yield client




def names(hub: httpx.Client, batch_id: int) -> list[str]:
    body = hub.get(f"/v2/batches/{batch_id}/files").json()
    return [node["name"] for node in body["nodes"]]


def fs_path(hub: httpx.Client, batch_id: int, name: str = "") -> str:
    """The Filesystem API URL of a batch's folder (or of one of its files), SDK form."""
    b = hub.get(f"/v2/batches/{batch_id}").json()
    path = f"/{b['repo_owner']}/{b['workspace']}/fs/{b['mount_point']}/{b['path_suffix']}"
    return "/v2/files/" + quote(path + (f"/{name}" if name else ""), safe="")


def job_id_of(response: httpx.Response) -> str:
    """The job id a 202 names (its Location's last segment)."""
    assert 202 == response.status_code, response.text
    return response.headers["location"].rsplit("/", 1)[1]


# ---- GET /v2/jobs/<id> ---------------------------------------------------------------------


def test_spec_job_status_path_answers_state_and_message(hub: httpx.Client) -> None:
    """``GET /v2/jobs/<id>`` (the SDK's jobs.status) answers 200 JSON ``{"state", "message"}``."""
    job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
    response = hub.get(f"/v2/jobs/{job_id}")
    assert 200 == response.status_code
    assert "application/json" == response.headers["content-type"]
    assert {"state", "message"} == set(response.json())
    assert "PENDING" == response.json()["state"]
    assert isinstance(response.json()["message"], str)


def test_both_job_paths_poll_the_same_job(hub: httpx.Client) -> None:
    """Polls through ``/v2/jobs`` and ``/v2/batches/jobs`` count towards one job."""
    job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
    states = [
        hub.get(f"/v2/jobs/{job_id}").json()["state"],
        hub.get(f"/v2/batches/jobs/{job_id}").json()["state"],
        hub.get(f"/v2/jobs/{job_id}").json()["state"],
        hub.get(f"/v2/batches/jobs/{job_id}").json()["state"],
    ]
    assert ["PENDING", "RUNNING", "COMPLETE", "COMPLETE"] == states


def test_spec_job_status_path_polls_file_and_filesystem_deletions(hub: httpx.Client) -> None:
    """File deletions (batch and Filesystem API) are jobs at ``/v2/jobs/<id>`` too."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    upload(hub, batch_id, "b.pdf")
    file_job = job_id_of(hub.delete(f"/v2/batches/{batch_id}/files/a.pdf"))
    fs_job = job_id_of(hub.delete(fs_path(hub, batch_id, "b.pdf")))
    for job_id in (file_job, fs_job):
        assert "PENDING" == hub.get(f"/v2/jobs/{job_id}").json()["state"]


@pytest.mark.parametrize("job_id", ["nope", str(uuid.uuid4())])
def test_spec_job_status_path_of_an_unknown_job_is_404(hub: httpx.Client, job_id: str) -> None:
    """An unknown job id at ``/v2/jobs`` is a JSON 404."""
    response = hub.get(f"/v2/jobs/{job_id}")
    assert 404 == response.status_code
    assert isinstance(response.json()["message"], str)


def test_spec_job_status_path_hides_another_tenants_job(emu: Emulator, hub: httpx.Client) -> None:
    """Another token's job is a 404, as if it did not exist."""
    job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
    with hub_client(emu) as other:
        assert 404 == other.get(f"/v2/jobs/{job_id}").status_code


def test_spec_job_status_path_takes_only_get(hub: httpx.Client) -> None:
    """Another method on ``/v2/jobs/<id>`` is a 405 naming GET."""
    response = hub.delete(f"/v2/jobs/{uuid.uuid4()}")
    assert (405, "GET") == (response.status_code, response.headers["allow"])


# ---- jobs complete in emulated time --------------------------------------------------------


def test_a_deleted_file_leaves_the_listing_when_its_job_is_due_without_any_poll(
    clock: FakeClock, hub: httpx.Client
) -> None:
    """Delete, never poll, only list: the file is listed until 0.2 s later, then gone."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    upload(hub, batch_id, "b.pdf")
    job_id_of(hub.delete(f"/v2/batches/{batch_id}/files/a.pdf"))
    clock.advance(0.19)
    assert ["a.pdf", "b.pdf"] == names(hub, batch_id)
    clock.advance(0.01)
    assert ["b.pdf"] == names(hub, batch_id)
    assert (
        404
        == hub.get(fs_path(hub, batch_id, "a.pdf"), params={"expect-node-type": "file"}).status_code
    )


def test_a_deleted_batch_is_gone_everywhere_when_its_job_is_due_without_any_poll(
    clock: FakeClock, hub: httpx.Client
) -> None:
    """Once due, a batch is a 404, unlisted, and its folder gone from the Filesystem API."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    folder = fs_path(hub, batch_id)
    assert 202 == hub.delete(f"/v2/batches/{batch_id}").status_code
    clock.advance(0.1)
    assert 200 == hub.get(f"/v2/batches/{batch_id}").status_code
    clock.advance(0.1)
    assert 404 == hub.get(f"/v2/batches/{batch_id}").status_code
    assert 404 == hub.get(f"/v2/batches/{batch_id}/files").status_code
    assert [] == hub.get("/v2/batches").json()["batches"]
    assert 404 == hub.head(folder).status_code
    assert 404 == hub.delete(f"/v2/batches/{batch_id}").status_code


def test_a_due_job_polls_complete_at_its_first_poll(clock: FakeClock, hub: httpx.Client) -> None:
    """A job whose time has passed answers COMPLETE at once, on either path."""
    job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
    clock.advance(0.2)
    assert "COMPLETE" == hub.get(f"/v2/jobs/{job_id}").json()["state"]
    assert "COMPLETE" == hub.get(f"/v2/batches/jobs/{job_id}").json()["state"]


def test_polls_complete_a_job_before_its_time_when_they_come_first(
    clock: FakeClock, hub: httpx.Client
) -> None:
    """Whichever comes first wins: poll ``job_polls + 1`` completes a job not yet due."""
    batch_id = create_batch(hub)
    job_id = hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
    states = [hub.get(f"/v2/jobs/{job_id}").json()["state"] for _ in range(3)]
    assert ["PENDING", "RUNNING", "COMPLETE"] == states
    assert 404 == hub.get(f"/v2/batches/{batch_id}").status_code


def test_time_completes_a_job_before_its_polls_when_it_comes_first(clock: FakeClock) -> None:
    """With many polls allowed, the due time completes the job between two polls."""
    with Emulator(clock=clock, job_polls=10, job_seconds=5) as emu, hub_client(emu) as hub:
        job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
        first = [hub.get(f"/v2/jobs/{job_id}").json()["state"] for _ in range(2)]
        clock.advance(5)
        assert ["PENDING", "RUNNING", "COMPLETE"] == [
            *first,
            hub.get(f"/v2/jobs/{job_id}").json()["state"],
        ]


def test_job_polls_none_leaves_completion_to_time_alone(clock: FakeClock) -> None:
    """``job_polls=None``: polling never completes a job; its due time does."""
    with Emulator(clock=clock, job_polls=None, job_seconds=1) as emu, hub_client(emu) as hub:
        job_id = hub.delete(f"/v2/batches/{create_batch(hub)}").json()["job_id"]
        states = [hub.get(f"/v2/jobs/{job_id}").json()["state"] for _ in range(20)]
        assert ["PENDING"] + ["RUNNING"] * 19 == states
        clock.advance(1)
        assert "COMPLETE" == hub.get(f"/v2/jobs/{job_id}").json()["state"]


def test_job_seconds_none_leaves_completion_to_polls_alone(clock: FakeClock) -> None:
    """``job_seconds=None``: however much time passes, a job waits for its polls."""
    with Emulator(clock=clock, job_seconds=None) as emu, hub_client(emu) as hub:
        batch_id = create_batch(hub)
        job_id = hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
        clock.advance(10_000)
        assert 200 == hub.get(f"/v2/batches/{batch_id}").status_code
        states = [hub.get(f"/v2/jobs/{job_id}").json()["state"] for _ in range(3)]
        assert ["PENDING", "RUNNING", "COMPLETE"] == states


def test_job_seconds_zero_completes_a_deletion_when_it_is_requested(clock: FakeClock) -> None:
    """``job_seconds=0``: the deletion has taken effect before the next request."""
    with Emulator(clock=clock, job_seconds=0, job_polls=None) as emu, hub_client(emu) as hub:
        batch_id = create_batch(hub)
        upload(hub, batch_id, "a.pdf")
        job_id = job_id_of(hub.delete(f"/v2/batches/{batch_id}/files/a.pdf"))
        assert [] == names(hub, batch_id)
        assert "COMPLETE" == hub.get(f"/v2/jobs/{job_id}").json()["state"]


def test_neither_polls_nor_time_complete_a_job_when_both_are_off(clock: FakeClock) -> None:
    """``job_polls=None, job_seconds=None``: only ``finish_jobs`` completes a job."""
    with Emulator(clock=clock, job_polls=None, job_seconds=None) as emu, hub_client(emu) as hub:
        batch_id = create_batch(hub)
        job_id = hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
        clock.advance(10_000)
        for _ in range(10):
            hub.get(f"/v2/jobs/{job_id}")
        assert 200 == hub.get(f"/v2/batches/{batch_id}").status_code
        assert 1 == emu.aihub.finish_jobs()
        assert 404 == hub.get(f"/v2/batches/{batch_id}").status_code


def test_a_file_uploaded_after_its_deletion_was_due_survives(
    clock: FakeClock, hub: httpx.Client
) -> None:
    """A deletion due before a later upload took effect first, even though nobody looked:
    the upload after it creates the file anew."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf", b"old")
    job_id_of(hub.delete(f"/v2/batches/{batch_id}/files/a.pdf"))
    clock.advance(1)
    upload(hub, batch_id, "a.pdf", b"new")
    assert ["a.pdf"] == names(hub, batch_id)
    read = hub.get(fs_path(hub, batch_id, "a.pdf"), params={"expect-node-type": "file"})
    assert b"new" == read.content


def test_an_upload_into_a_batch_whose_deletion_is_due_is_404_not_409(
    clock: FakeClock, hub: httpx.Client
) -> None:
    """While pending, uploads into a batch being deleted are 409s; once due, the batch is gone."""
    batch_id = create_batch(hub)
    hub.delete(f"/v2/batches/{batch_id}")
    assert 409 == hub.put(f"/v2/batches/{batch_id}/files/a.pdf", content=b"x").status_code
    clock.advance(0.2)
    assert 404 == hub.put(f"/v2/batches/{batch_id}/files/a.pdf", content=b"x").status_code


def test_a_due_batch_deletion_closes_its_multipart_sessions(
    clock: FakeClock, emu: Emulator, hub: httpx.Client
) -> None:
    """Once the deletion is due, the batch's open sessions are gone (404), unpolled."""
    batch_id = create_batch(hub)
    started = hub.post(
        "/v2/batches/multipart-upload",
        json={"batch_id": batch_id, "filename": "a.bin", "file_size": 3},
    )
    session_id = started.json()["session_id"]
    hub.delete(f"/v2/batches/{batch_id}")
    clock.advance(0.2)
    part = hub.put(f"/v2/batches/multipart-upload/sessions/{session_id}/parts/1", content=b"abc")
    assert 404 == part.status_code
    assert [] == emu.aihub.open_sessions()


def test_advance_jobs_settles_due_jobs_without_a_request(clock: FakeClock, emu: Emulator) -> None:
    """The Python API's advance_jobs completes what is due and says how many."""
    batch = emu.aihub.create_batch("tok", name="b")
    emu.aihub.delete_batch("tok", batch.id)
    assert 0 == emu.aihub.advance_jobs()
    clock.advance(0.2)
    assert 1 == emu.aihub.advance_jobs()
    assert [] == emu.aihub.list_batches("tok")


@pytest.mark.parametrize(
    "options",
    [
        {"job_seconds": -0.1},
        {"job_seconds": math.nan},
        {"job_seconds": math.inf},
        {"job_seconds": "1"},
        {"job_polls": -1},
        {"job_polls": 1.5},
        {"job_polls": True},
    ],
)
def test_nonsensical_job_timing_is_refused(options: dict[str, object]) -> None:
    """Negative, infinite, NaN or mistyped job timing raises ValueError naming the option."""
    (name,) = options
    with pytest.raises(ValueError, match=name):
        Emulator(**options)  # type: ignore[arg-type]
