"""The emulated AI Hub Batches API over a real loopback socket: batches, files, jobs, tenancy."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchkit.emulator import Emulator

try:
    from ._aihub_helpers import (  # type: ignore[import-not-found,unused-ignore]
        batch_folder,
        create_batch,
        enc,
        fs_url,
        list_names,
        new_client,
        poll_states,
        upload,
    )
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _aihub_helpers import (  # type: ignore[no-redef,unused-ignore]
        batch_folder,
        create_batch,
        enc,
        fs_url,
        list_names,
        new_client,
        poll_states,
        upload,
    )

BATCH_KEYS = {
    "id",
    "name",
    "workspace",
    "mount_point",
    "repo_owner",
    "batch_owner",
    "created_at_ms",
    "updated_at_ms",
    "path_suffix",
}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # Jobs here advance by polls only (job_seconds=None), so the poll-by-poll lifecycle
    # tests cannot race the wall clock; jobs completing in emulated time are tested with a
    # fake clock in test_aihub_jobs.py.
    with Emulator(job_seconds=None).serve() as served:
        yield served


@pytest.fixture
def hub(emu: Emulator) -> Iterator[httpx.Client]:
    with new_client(emu) as client:
        yield client


@pytest.fixture
def other(emu: Emulator) -> Iterator[httpx.Client]:
    with new_client(emu) as client:
        yield client


def assert_error(response: httpx.Response, status: int) -> None:
    assert status == response.status_code, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)


# ---- authentication ------------------------------------------------------------------------


def test_request_without_authorization_is_401_with_a_message(emu: Emulator) -> None:
    """No Authorization header at all is a 401 with a JSON message."""
    response = httpx.get(f"{emu.aihub_api_root}/v2/batches")
    assert_error(response, 401)


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "tok"])
def test_malformed_authorization_header_is_401(emu: Emulator, header: str) -> None:
    """Anything but ``Bearer <token>`` is a 401."""
    response = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers={"Authorization": header})
    assert_error(response, 401)


def test_token_the_emulator_does_not_accept_is_401() -> None:
    """With a token allow-list, an unlisted token is a 401 and a listed one works."""
    with Emulator(tokens=["good"]).serve() as emu:
        with new_client(emu, "bad") as bad:
            assert_error(bad.get("/v2/batches"), 401)
        with new_client(emu, "good") as good:
            assert good.get("/v2/batches").status_code == 200


def test_accepted_token_is_recorded_as_the_request_tenant(emu: Emulator) -> None:
    """The app puts the accepted token in the scope, so the request log names the tenant."""
    with new_client(emu, "tenant-xyz") as client:
        client.get("/v2/batches")
    assert emu.requests[-1].tenant == "tenant-xyz"


def test_ib_context_header_is_accepted_and_does_not_change_the_tenant(hub: httpx.Client) -> None:
    """``IB-Context`` is optional and ignored: the token alone decides the tenant."""
    batch_id = create_batch(hub)
    response = hub.get(f"/v2/batches/{batch_id}", headers={"IB-Context": "some-org"})
    assert response.status_code == 200


# ---- create / get / list -------------------------------------------------------------------


def test_create_batch_returns_200_with_an_integer_id(hub: httpx.Client) -> None:
    """Create answers exactly 200 and ``{"id": <int>}`` as JSON."""
    response = hub.post("/v2/batches", json={"name": "test"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == ["id"]
    assert isinstance(response.json()["id"], int)


def test_get_batch_returns_every_documented_field() -> None:
    """A fresh batch has the docs' fields, the default workspace and ms timestamps."""
    with Emulator(clock=lambda: 1709592306.0).serve() as emu, new_client(emu, "secret") as hub:
        batch_id = create_batch(hub, "my new batch")
        batch = hub.get(f"/v2/batches/{batch_id}").json()
    assert set(batch) == BATCH_KEYS
    assert batch_id == batch["id"]
    assert batch["name"] == "my new batch"
    assert batch["workspace"] == "my-repo"
    assert batch["mount_point"] == "Instabase Drive"
    assert batch["repo_owner"] == batch["batch_owner"]
    assert "secret" not in batch["repo_owner"]
    assert 1709592306000 == batch["created_at_ms"] == batch["updated_at_ms"]
    assert re.fullmatch(r"file-batches/[0-9a-f-]{36}", batch["path_suffix"])
    uuid.UUID(batch["path_suffix"].split("/")[1])


def test_owner_name_is_stable_for_a_token_and_differs_between_tokens(emu: Emulator) -> None:
    """The user name is derived from the token: same token same owner, other token other."""
    owners = []
    for token in ("alpha", "alpha", "beta"):
        with new_client(emu, token) as client:
            owners.append(client.get(f"/v2/batches/{create_batch(client)}").json()["repo_owner"])
    assert owners[0] == owners[1] != owners[2]


def test_create_batch_in_a_workspace(hub: httpx.Client) -> None:
    """The optional workspace is stored on the batch."""
    batch_id = create_batch(hub, workspace="team-ws")
    assert hub.get(f"/v2/batches/{batch_id}").json()["workspace"] == "team-ws"


def test_create_batch_accepts_a_255_character_name(hub: httpx.Client) -> None:
    """255 characters is the documented maximum, and allowed."""
    batch_id = create_batch(hub, "n" * 255)
    assert hub.get(f"/v2/batches/{batch_id}").json()["name"] == "n" * 255


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b'"name"',
        b"{}",
        b'{"name": ""}',
        b'{"name": null}',
        b'{"name": 5}',
        b'{"name": ["x"]}',
        json.dumps({"name": "n" * 256}).encode(),
        b'{"name": "x", "workspace": 3}',
        b'{"name": "x", "workspace": ""}',
        b'{"name": "x", "workspace": "a/b"}',
        b'{"name": "x", "workspace": ".."}',
    ],
)
def test_create_batch_rejects_a_bad_body_with_400(hub: httpx.Client, body: bytes) -> None:
    """Malformed JSON, a missing, empty, over-long or non-string name, a bad workspace: 400."""
    assert_error(hub.post("/v2/batches", content=body), 400)


@pytest.mark.parametrize("batch_id", ["999999999", "abc", "-1", "1.5", "%C3%BC", "0x10"])
def test_get_unknown_or_non_integer_batch_is_404(hub: httpx.Client, batch_id: str) -> None:
    """An id that is unknown or not an integer is a 404 "does not exist, or denied access"."""
    response = hub.get(f"/v2/batches/{batch_id}")
    assert_error(response, 404)
    assert "does not exist" in response.json()["message"]


def test_list_batches_orders_by_id_and_filters(hub: httpx.Client) -> None:
    """The list is by ascending id; ``workspace`` and ``username`` filter it."""
    first = create_batch(hub, "a", workspace="w1")
    second = create_batch(hub, "b", workspace="w2")
    third = create_batch(hub, "c", workspace="w1")
    everything = hub.get("/v2/batches").json()["batches"]
    assert [first, second, third] == [b["id"] for b in everything]
    assert all(set(b) == BATCH_KEYS for b in everything)
    by_ws = hub.get("/v2/batches", params={"workspace": "w1"}).json()["batches"]
    assert [first, third] == [b["id"] for b in by_ws]
    owner = everything[0]["batch_owner"]
    assert len(hub.get("/v2/batches", params={"username": owner}).json()["batches"]) == 3
    assert hub.get("/v2/batches", params={"username": "someone"}).json()["batches"] == []


def test_list_batches_pages_with_limit_and_offset(hub: httpx.Client) -> None:
    """``limit`` and ``offset`` slice the id-ordered list; past the end is empty."""
    ids = [create_batch(hub, str(i)) for i in range(5)]

    def page(**params: int) -> list[int]:
        return [b["id"] for b in hub.get("/v2/batches", params=params).json()["batches"]]

    assert ids[:2] == page(limit=2)
    assert ids[2:4] == page(limit=2, offset=2)
    assert ids[4:] == page(limit=2, offset=4)
    assert page(offset=5) == []
    assert page(limit=0) == []


@pytest.mark.parametrize(
    "params", [{"limit": "x"}, {"limit": "-1"}, {"offset": "-3"}, {"offset": "1.5"}, {"limit": ""}]
)
def test_list_batches_rejects_bad_limit_or_offset(
    hub: httpx.Client, params: dict[str, str]
) -> None:
    """A limit or offset that is not a non-negative integer is a 400."""
    assert_error(hub.get("/v2/batches", params=params), 400)


# ---- delete batch and jobs -----------------------------------------------------------------


def test_delete_batch_is_202_with_job_id_under_both_keys_and_location(hub: httpx.Client) -> None:
    """Delete answers 202, ``job_id`` (SDK) and ``job-id`` (docs), and the job URL."""
    response = hub.delete(f"/v2/batches/{create_batch(hub)}")
    assert response.status_code == 202
    body = response.json()
    assert isinstance(body["job_id"], str)
    assert body["job_id"] == body["job-id"]
    assert (
        str(hub.base_url.join(f"v2/batches/jobs/{body['job_id']}")) == response.headers["location"]
    )


def test_batch_deletion_job_completes_after_the_configured_polls(hub: httpx.Client) -> None:
    """The job is PENDING, RUNNING, then COMPLETE; the batch and its files exist until then."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    path = batch_folder(hub, batch_id) + "/a.pdf"
    job_id = hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
    assert hub.get(f"/v2/batches/jobs/{job_id}").json()["state"] == "PENDING"
    assert hub.get(f"/v2/batches/{batch_id}").status_code == 200
    assert hub.get(f"/v2/batches/jobs/{job_id}").json()["state"] == "RUNNING"
    assert hub.get(f"/v2/batches/{batch_id}").status_code == 200
    assert hub.get(f"/v2/batches/jobs/{job_id}").json()["state"] == "COMPLETE"
    assert_error(hub.get(f"/v2/batches/{batch_id}"), 404)
    assert_error(hub.get(f"/v2/batches/{batch_id}/files"), 404)
    assert hub.head(fs_url(path)).status_code == 404
    assert batch_id not in [b["id"] for b in hub.get("/v2/batches").json()["batches"]]
    assert hub.get(f"/v2/batches/jobs/{job_id}").json()["state"] == "COMPLETE"


def test_job_polls_zero_completes_at_the_first_poll() -> None:
    """With ``job_polls=0`` the first poll already says COMPLETE and the batch is gone."""
    with Emulator(job_polls=0).serve() as emu, new_client(emu) as hub:
        batch_id = create_batch(hub)
        job_url = hub.delete(f"/v2/batches/{batch_id}").headers["location"]
        assert poll_states(hub, job_url) == ["COMPLETE"]
        assert_error(hub.get(f"/v2/batches/{batch_id}"), 404)


def test_deleting_a_batch_being_deleted_returns_the_same_job(hub: httpx.Client) -> None:
    """A repeated delete (a retry) gets the same job; once complete the batch is a 404."""
    batch_id = create_batch(hub)
    first = hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
    assert first == hub.delete(f"/v2/batches/{batch_id}").json()["job_id"]
    poll_states(hub, f"/v2/batches/jobs/{first}")
    assert_error(hub.delete(f"/v2/batches/{batch_id}"), 404)


def test_uploading_into_a_batch_being_deleted_is_409(hub: httpx.Client) -> None:
    """Files cannot be added to a batch whose deletion was requested."""
    batch_id = create_batch(hub)
    hub.delete(f"/v2/batches/{batch_id}")
    assert_error(hub.put(f"/v2/batches/{batch_id}/files/a.pdf", content=b"x"), 409)


def test_emulator_control_endpoint_completes_pending_jobs(hub: httpx.Client) -> None:
    """``POST /_emulator/aihub/jobs/complete`` finishes the caller's jobs without polling."""
    batch_id = create_batch(hub)
    hub.delete(f"/v2/batches/{batch_id}")
    response = hub.post(str(hub.base_url).removesuffix("/api/") + "/_emulator/aihub/jobs/complete")
    assert response.json() == {"completed": 1}
    assert_error(hub.get(f"/v2/batches/{batch_id}"), 404)


@pytest.mark.parametrize("job_id", ["nope", str(uuid.uuid4())])
def test_polling_an_unknown_job_is_404(hub: httpx.Client, job_id: str) -> None:
    """An unknown job id is a 404."""
    assert_error(hub.get(f"/v2/batches/jobs/{job_id}"), 404)


# ---- files ---------------------------------------------------------------------------------


def test_uploaded_file_is_listed_with_documented_node_fields() -> None:
    """Upload answers 204; the listing shows name, full path, size, seconds and perms."""
    with Emulator(clock=lambda: 1647532800.75).serve() as emu, new_client(emu) as hub:
        batch_id = create_batch(hub)
        response = hub.put(f"/v2/batches/{batch_id}/files/document1.pdf", content=b"x" * 1024)
        assert response.status_code == 204
        assert response.content == b""
        body = hub.get(f"/v2/batches/{batch_id}/files").json()
        folder = batch_folder(hub, batch_id)
    assert {"nodes", "next_page_token", "has_more"} <= set(body)
    assert body["has_more"] is False
    assert "" == body["next_page_token"]
    assert [
        {
            "full_path": f"{folder}/document1.pdf",
            "name": "document1.pdf",
            "metadata": {"node_type": "file", "size": 1024, "modified_timestamp": 1647532800},
            "perms": {"can_read": True, "can_write": True, "can_delete": True},
        }
    ] == body["nodes"]


def test_uploading_the_same_name_replaces_the_file(hub: httpx.Client) -> None:
    """A second PUT of a name overwrites its contents; the batch keeps one file."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.txt", b"first version")
    upload(hub, batch_id, "a.txt", b"v2")
    assert list_names(hub, batch_id) == ["a.txt"]
    path = batch_folder(hub, batch_id) + "/a.txt"
    assert hub.get(fs_url(path), params={"expect-node-type": "file"}).content == b"v2"


def test_upload_updates_the_batch_updated_at_ms() -> None:
    """Adding a file moves ``updated_at_ms`` to the clock's time; ``created_at_ms`` stays."""
    now = [1000.0]
    with Emulator(clock=lambda: now[0]).serve() as emu, new_client(emu) as hub:
        batch_id = create_batch(hub)
        now[0] = 2000.5
        upload(hub, batch_id, "a.txt")
        batch = hub.get(f"/v2/batches/{batch_id}").json()
    assert (batch["created_at_ms"], batch["updated_at_ms"]) == (1000000, 2000500)


def test_upload_to_an_unknown_batch_is_404(hub: httpx.Client) -> None:
    """The documented 404 for an unknown batch id."""
    assert_error(hub.put("/v2/batches/987654321/files/a.pdf", content=b"x"), 404)


@pytest.mark.parametrize(
    "name",
    ["noextension", ".hidden", "trailingdot.", "a/b.pdf", "dir a/ü b.pdf", "x" * 252 + ".pdf"],
)
def test_upload_rejects_an_invalid_file_name_with_400(hub: httpx.Client, name: str) -> None:
    """No extension, a decoded ``/`` (names are flat) or over 255 characters: 400."""
    batch_id = create_batch(hub)
    assert_error(hub.put(f"/v2/batches/{batch_id}/files/{enc(name)}", content=b"x"), 400)
    assert list_names(hub, batch_id) == []


def test_upload_with_an_empty_file_name_is_400(hub: httpx.Client) -> None:
    """``.../files/`` (an empty name) is a 400."""
    batch_id = create_batch(hub)
    assert_error(hub.put(f"/v2/batches/{batch_id}/files/", content=b"x"), 400)


def test_upload_accepts_a_255_character_name(hub: httpx.Client) -> None:
    """255 characters including the extension is allowed."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "x" * 251 + ".pdf")
    assert list_names(hub, batch_id) == ["x" * 251 + ".pdf"]


def test_large_upload_round_trips_byte_exact(hub: httpx.Client) -> None:
    """A 1.5 MiB single-request upload reads back identical through the Filesystem API."""
    content = bytes(range(256)) * (6 * 1024) + b"tail"
    batch_id = create_batch(hub)
    upload(hub, batch_id, "big.bin", content)
    path = batch_folder(hub, batch_id) + "/big.bin"
    assert content == hub.get(fs_url(path), params={"expect-node-type": "file"}).content


_NAME_CHARS = st.characters(
    exclude_categories=["Cs"], exclude_characters="/\x00", max_codepoint=0x2FFFF
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stem=st.text(_NAME_CHARS, min_size=1, max_size=60).filter(lambda s: s not in (".", "..")),
    extension=st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=5),
)
def test_any_flat_file_name_round_trips(emu: Emulator, stem: str, extension: str) -> None:
    """Names with spaces, ``%``, unicode, ``+``, ``?`` or ``#`` survive upload, list and read."""
    name = f"{stem}.{extension}"
    content = name.encode("utf-8")
    with new_client(emu, "hypothesis-names") as hub:
        batch_id = create_batch(hub)
        upload(hub, batch_id, name, content)
        nodes = hub.get(f"/v2/batches/{batch_id}/files").json()["nodes"]
        assert [name] == [node["name"] for node in nodes]
        for sdk_form in (True, False):
            read = hub.get(
                fs_url(nodes[0]["full_path"], sdk_form=sdk_form),
                params={"expect-node-type": "file"},
            )
            assert content == read.content
        delete = hub.delete(f"/v2/batches/{batch_id}/files/{enc(name)}")
        assert delete.status_code == 202


def test_delete_file_is_202_with_a_full_job_url_and_no_body(hub: httpx.Client) -> None:
    """Delete-file answers 202, a Location on this server, and the file goes at COMPLETE."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    upload(hub, batch_id, "b.pdf")
    response = hub.delete(f"/v2/batches/{batch_id}/files/a.pdf")
    assert response.status_code == 202
    location = response.headers["location"]
    assert re.fullmatch(
        re.escape(str(hub.base_url)) + r"v2/batches/jobs/[0-9a-f-]{36}", location
    ), location
    assert list_names(hub, batch_id) == ["a.pdf", "b.pdf"]
    assert poll_states(hub, location) == ["PENDING", "RUNNING", "COMPLETE"]
    assert list_names(hub, batch_id) == ["b.pdf"]


def test_a_file_replaced_after_its_deletion_was_requested_survives(hub: httpx.Client) -> None:
    """The deletion removes the file as it was when requested, not a newer upload."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf", b"old")
    location = hub.delete(f"/v2/batches/{batch_id}/files/a.pdf").headers["location"]
    upload(hub, batch_id, "a.pdf", b"new")
    poll_states(hub, location)
    assert list_names(hub, batch_id) == ["a.pdf"]


def test_delete_unknown_file_or_batch_is_404(hub: httpx.Client) -> None:
    """Deleting a file that is not in the batch, or from an unknown batch, is a 404."""
    batch_id = create_batch(hub)
    assert_error(hub.delete(f"/v2/batches/{batch_id}/files/missing.pdf"), 404)
    assert_error(hub.delete("/v2/batches/987654321/files/a.pdf"), 404)


# ---- list files pagination -----------------------------------------------------------------


def test_list_files_pages_by_name_to_the_last_page(hub: httpx.Client) -> None:
    """page_size 3 over 7 files: pages of 3, 3, 1 in name order; the last has no token."""
    batch_id = create_batch(hub)
    names = [f"f{i}.txt" for i in (5, 1, 6, 0, 3, 2, 4)]
    for name in names:
        upload(hub, batch_id, name)
    pages: list[list[str]] = []
    params: dict[str, str | int] = {"page_size": 3}
    while True:
        body = hub.get(f"/v2/batches/{batch_id}/files", params=params).json()
        pages.append([node["name"] for node in body["nodes"]])
        if not body["has_more"]:
            assert "" == body["next_page_token"]
            break
        assert isinstance(body["next_page_token"], str)
        params["start_token"] = body["next_page_token"]
    assert pages == [["f0.txt", "f1.txt", "f2.txt"], ["f3.txt", "f4.txt", "f5.txt"], ["f6.txt"]]


def test_exactly_full_last_page_says_no_more(hub: httpx.Client) -> None:
    """When the files fill the page exactly, ``has_more`` is false on that page."""
    batch_id = create_batch(hub)
    for name in ("a.txt", "b.txt"):
        upload(hub, batch_id, name)
    body = hub.get(f"/v2/batches/{batch_id}/files", params={"page_size": 2}).json()
    assert (2, False, "") == (len(body["nodes"]), body["has_more"], body["next_page_token"])


def test_list_files_default_page_size_is_100(hub: httpx.Client) -> None:
    """Without page_size a page holds 100 files."""
    batch_id = create_batch(hub)
    for i in range(101):
        upload(hub, batch_id, f"{i:03}.txt", b"")
    body = hub.get(f"/v2/batches/{batch_id}/files").json()
    assert (len(body["nodes"]), body["has_more"]) == (100, True)


def test_page_token_stays_valid_when_files_are_added_mid_listing(hub: httpx.Client) -> None:
    """The token remembers the last name seen, so new files neither repeat nor break pages."""
    batch_id = create_batch(hub)
    for name in ("b.txt", "d.txt", "f.txt", "h.txt"):
        upload(hub, batch_id, name)
    first = hub.get(f"/v2/batches/{batch_id}/files", params={"page_size": 2}).json()
    assert [node["name"] for node in first["nodes"]] == ["b.txt", "d.txt"]
    for name in ("a.txt", "c.txt", "e.txt"):
        upload(hub, batch_id, name)
    second = hub.get(
        f"/v2/batches/{batch_id}/files",
        params={"page_size": 10, "start_token": first["next_page_token"]},
    ).json()
    assert [node["name"] for node in second["nodes"]] == ["e.txt", "f.txt", "h.txt"]
    assert second["has_more"] is False


@pytest.mark.parametrize("page_size", ["0", "-1", "x", "1001", "2.5", ""])
def test_list_files_rejects_a_bad_page_size(hub: httpx.Client, page_size: str) -> None:
    """page_size must be an integer from 1 to 1000."""
    batch_id = create_batch(hub)
    params = {"page_size": page_size}
    assert_error(hub.get(f"/v2/batches/{batch_id}/files", params=params), 400)


def test_list_files_rejects_forged_or_foreign_tokens(hub: httpx.Client) -> None:
    """Garbage, hand-made and other batches' tokens are 400s."""
    batch_id = create_batch(hub)
    other_id = create_batch(hub)
    for batch in (batch_id, other_id):
        for name in ("a.txt", "b.txt"):
            upload(hub, batch, name)
    foreign = hub.get(f"/v2/batches/{other_id}/files", params={"page_size": 1}).json()
    forged = base64.urlsafe_b64encode(json.dumps({"batch": batch_id, "after": "a.txt"}).encode())
    for token in ("garbage", "eyJwYWdlIjogMn0=", forged.decode(), foreign["next_page_token"]):
        response = hub.get(f"/v2/batches/{batch_id}/files", params={"start_token": token})
        assert_error(response, 400)


def test_list_files_of_an_unknown_batch_is_404(hub: httpx.Client) -> None:
    """Listing the files of a batch that does not exist is a 404."""
    assert_error(hub.get("/v2/batches/987654321/files"), 404)


# ---- tenancy -------------------------------------------------------------------------------


def test_another_tenant_cannot_see_or_touch_a_batch(hub: httpx.Client, other: httpx.Client) -> None:
    """Tenant B gets 404 for A's batch on every endpoint and never sees it listed."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    job_url = hub.delete(f"/v2/batches/{create_batch(hub)}").headers["location"]
    assert other.get("/v2/batches").json()["batches"] == []
    assert_error(other.get(f"/v2/batches/{batch_id}"), 404)
    assert_error(other.get(f"/v2/batches/{batch_id}/files"), 404)
    assert_error(other.put(f"/v2/batches/{batch_id}/files/b.pdf", content=b"x"), 404)
    assert_error(other.delete(f"/v2/batches/{batch_id}/files/a.pdf"), 404)
    assert_error(other.delete(f"/v2/batches/{batch_id}"), 404)
    assert_error(other.get(job_url), 404)
    assert [hub.get(job_url).json()["state"]] == ["PENDING"]
    assert list_names(hub, batch_id) == ["a.pdf"]
    assert hub.get(f"/v2/batches/{batch_id}").status_code == 200


# ---- robustness ----------------------------------------------------------------------------


def test_unknown_endpoint_is_404_and_wrong_method_is_405(hub: httpx.Client) -> None:
    """Paths the API lacks are JSON 404s; a known path with the wrong method is a 405."""
    assert_error(hub.get("/v3/whatever"), 404)
    assert_error(hub.get("/v2/batches/1/files/a.pdf/extra"), 404)
    response = hub.put("/v2/batches")
    assert_error(response, 405)
    assert response.headers["allow"] == "GET, POST"


_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"])
_PREFIXES = st.sampled_from(
    [
        "",
        "v2/batches",
        "v2/batches/{batch}",
        "v2/batches/{batch}/files",
        "v2/batches/multipart-upload",
        "v2/batches/multipart-upload/sessions",
        "v2/batches/jobs",
        "v2/jobs",
        "v2/files",
        "v2/files/{owner}",
        "v2/files/{owner}/my-repo/fs/Instabase%20Drive",
        "v2/files/delete/jobs",
    ]
)
_SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "files",
                "jobs",
                "sessions",
                "parts",
                "1",
                "0",
                "-1",
                "%2F",
                "%FF",
                "%",
                "..",
                "a.pdf",
                "{batch}",
                "{owner}",
                "%2F{owner}%2Fx.txt",
                "",
            ]
        ),
        st.text(min_size=0, max_size=8).map(enc),
    ),
    max_size=4,
)
_BODIES = st.one_of(
    st.binary(max_size=64),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda kids: (
            st.lists(kids, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "workspace",
                        "batch_id",
                        "filename",
                        "file_size",
                        "path",
                        "action",
                        "parts",
                        "part_num",
                        "part_id",
                    ]
                ),
                kids,
                max_size=4,
            )
        ),
        max_leaves=8,
    ).map(lambda value: json.dumps(value).encode()),
)
_HEADERS = st.dictionaries(
    st.sampled_from(["Range", "If-None-Match", "IB-Retry-Config", "IB-Context"]),
    st.sampled_from(
        ["*", "bytes=0-1", "bytes=-1", "bytes=5-", "{retries:1,backoff-seconds:1}", "{}", "x", ""]
    ),
    max_size=2,
)


@pytest.fixture(scope="module")
def fuzz(emu: Emulator) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with new_client(emu, "fuzz") as hub:
        batch_id = create_batch(hub)
        upload(hub, batch_id, "a.pdf")
        owner = hub.get(f"/v2/batches/{batch_id}").json()["repo_owner"]
        yield hub, {"{batch}": str(batch_id), "{owner}": owner}


@settings(max_examples=300, deadline=None)
@given(
    method=_METHODS,
    prefix=_PREFIXES,
    segments=_SEGMENTS,
    body=_BODIES,
    query=st.text(max_size=12),
    headers=_HEADERS,
)
def test_no_request_ever_causes_a_server_error(
    fuzz: tuple[httpx.Client, dict[str, str]],
    method: str,
    prefix: str,
    segments: list[str],
    body: bytes,
    query: str,
    headers: dict[str, str],
) -> None:
    """Random paths, methods, queries, headers and bodies get a 2xx-4xx answer, never a 5xx."""
    hub, names = fuzz
    path = "/".join([prefix, *segments])
    for placeholder, value in names.items():
        path = path.replace(placeholder, value)
    url = httpx.URL(str(hub.base_url) + path).copy_with(query=enc(query).encode())
    response = hub.request(method, url, content=body, headers=headers)
    assert response.status_code < 500, (method, path, body, response.text)
    if response.status_code >= 400 and method != "HEAD":
        assert isinstance(response.json()["message"], str)
