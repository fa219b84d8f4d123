"""The emulated AI Hub multipart upload over a real loopback socket: start, parts, commit."""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchkit.emulator import Emulator
from batchkit.emulator.aihub.storage import FileNode

try:
    from ._aihub_helpers import (  # type: ignore[import-not-found,unused-ignore]
        batch_folder,
        chunks,
        create_batch,
        fs_url,
        list_names,
        new_client,
        poll_states,
    )
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _aihub_helpers import (  # type: ignore[no-redef,unused-ignore]
        batch_folder,
        chunks,
        create_batch,
        fs_url,
        list_names,
        new_client,
        poll_states,
    )

PART = 64 * 1024
START = "/v2/batches/multipart-upload"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    # deletions here advance by polls only: "while the deletion is pending" cannot race the
    # wall clock
    with Emulator(job_seconds=None).serve() as served:
        served.aihub.part_size = PART
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


def start(hub: httpx.Client, batch_id: int, size: int, name: str = "big.bin") -> str:
    """Start a session (SDK form) and return its URL from the Location header."""
    response = hub.post(START, json={"batch_id": batch_id, "filename": name, "file_size": size})
    assert response.status_code == 201, response.text
    return str(response.headers["location"])


def put_parts(hub: httpx.Client, session: str, data: bytes) -> list[dict[str, Any]]:
    """Upload ``data`` in part_size pieces; return the commit's part list."""
    parts = []
    for num, offset in enumerate(range(0, len(data), PART), start=1):
        response = hub.put(f"{session}/parts/{num}", content=data[offset : offset + PART])
        assert response.status_code == 201, response.text
        parts.append(response.json())
    return parts


def read(hub: httpx.Client, batch_id: int, name: str) -> bytes:
    path = batch_folder(hub, batch_id) + "/" + name
    return hub.get(fs_url(path), params={"expect-node-type": "file"}).content


DATA = os.urandom(3 * PART + 1234)


def test_start_returns_201_with_location_and_session_body(hub: httpx.Client) -> None:
    """Start answers 201, a Location to the session, and ``{"session_id", "part_size"}``."""
    batch_id = create_batch(hub)
    response = hub.post(START, json={"batch_id": batch_id, "filename": "a.bin", "file_size": 10})
    assert response.status_code == 201
    body = response.json()
    assert {"session_id", "part_size"} == set(body)
    assert isinstance(body["session_id"], str)
    assert body["part_size"] == PART
    expected = str(hub.base_url.join(f"v2/batches/multipart-upload/sessions/{body['session_id']}"))
    assert expected == response.headers["location"]


def test_multipart_upload_over_a_mebibyte_is_byte_exact(hub: httpx.Client) -> None:
    """Parts commit (204) into one file, identical to the source, listed with its size."""
    data = os.urandom(16 * PART + 777)
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(data))
    parts = put_parts(hub, session, data)
    commit = hub.post(session, json={"action": "commit", "parts": parts})
    assert commit.status_code == 204, commit.text
    assert data == read(hub, batch_id, "big.bin")
    node = hub.get(f"/v2/batches/{batch_id}/files").json()["nodes"][0]
    assert ("big.bin", len(data)) == (node["name"], node["metadata"]["size"])


def test_part_response_has_a_string_part_id_and_the_part_num(hub: httpx.Client) -> None:
    """A part answers 201 ``{"part_id": <str>, "part_num": n}``."""
    session = start(hub, create_batch(hub), len(DATA))
    response = hub.put(f"{session}/parts/1", content=DATA[:PART])
    assert response.status_code == 201
    assert isinstance(response.json()["part_id"], str)
    assert response.json()["part_num"] == 1


def test_commit_accepts_integer_part_ids(hub: httpx.Client) -> None:
    """The docs type part_id as int: numeric ids sent back as integers also commit."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = [
        {"part_num": p["part_num"], "part_id": int(p["part_id"])}
        for p in put_parts(hub, session, DATA)
    ]
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert read(hub, batch_id, "big.bin") == DATA


def test_docs_path_form_accepts_the_full_batch_file_path(hub: httpx.Client) -> None:
    """``{"path": "/<owner>/<ws>/fs/<drive>/<suffix>/<name>", "file_size"}`` starts a session."""
    batch_id = create_batch(hub)
    path = batch_folder(hub, batch_id) + "/from-path.bin"
    response = hub.post(START, json={"path": path, "file_size": len(DATA)})
    assert response.status_code == 201, response.text
    session = response.headers["location"]
    parts = put_parts(hub, session, DATA)
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert list_names(hub, batch_id) == ["from-path.bin"]


def test_docs_path_form_accepts_the_path_suffix_and_name(hub: httpx.Client) -> None:
    """``{"path": "<path_suffix>/<name>"}`` also names the batch file."""
    batch_id = create_batch(hub)
    suffix = hub.get(f"/v2/batches/{batch_id}").json()["path_suffix"]
    response = hub.post(START, json={"path": f"{suffix}/x.bin", "file_size": 0})
    assert response.status_code == 201, response.text


def test_empty_file_commits_with_no_parts(hub: httpx.Client) -> None:
    """A zero-byte file commits with an empty part list."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, 0, "empty.txt")
    assert hub.post(session, json={"action": "commit", "parts": []}).status_code == 204
    assert read(hub, batch_id, "empty.txt") == b""


def test_commit_replaces_an_existing_file(hub: httpx.Client) -> None:
    """Committing a name the batch already has overwrites that file."""
    batch_id = create_batch(hub)
    hub.put(f"/v2/batches/{batch_id}/files/big.bin", content=b"old")
    session = start(hub, batch_id, len(DATA))
    hub.post(session, json={"action": "commit", "parts": put_parts(hub, session, DATA)})
    assert read(hub, batch_id, "big.bin") == DATA


def test_reuploading_a_part_replaces_it_and_voids_its_old_id(hub: httpx.Client) -> None:
    """A retried part gets a new id; committing with the old id is a 400, the new one works."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    retry = hub.put(f"{session}/parts/2", content=DATA[PART : 2 * PART])
    assert retry.status_code == 201
    assert retry.json()["part_id"] != parts[1]["part_id"]
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 400)
    parts[1] = retry.json()
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert read(hub, batch_id, "big.bin") == DATA


def test_parts_may_arrive_in_any_order_and_commit_in_order(hub: httpx.Client) -> None:
    """By default parts may arrive out of order (concurrent senders); the commit orders them."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    ids = {}
    for num in (4, 2, 1, 3):
        piece = DATA[(num - 1) * PART : num * PART]
        ids[num] = hub.put(f"{session}/parts/{num}", content=piece).json()["part_id"]
    parts = [{"part_num": num, "part_id": ids[num]} for num in (1, 2, 3, 4)]
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert read(hub, batch_id, "big.bin") == DATA


def test_strict_part_order_makes_a_part_out_of_order_400(emu: Emulator) -> None:
    """With ``strict_part_order``, part 3 before part 2 is a 400; a retried part 1 is not."""
    emu.aihub.strict_part_order = True
    try:
        with new_client(emu) as hub:
            session = start(hub, create_batch(hub), len(DATA))
            assert hub.put(f"{session}/parts/1", content=DATA[:PART]).status_code == 201
            assert_error(hub.put(f"{session}/parts/3", content=DATA[:PART]), 400)
            assert hub.put(f"{session}/parts/1", content=DATA[:PART]).status_code == 201
            assert hub.put(f"{session}/parts/2", content=DATA[:PART]).status_code == 201
    finally:
        emu.aihub.strict_part_order = False


def test_part_zero_is_400(hub: httpx.Client) -> None:
    """Part numbers start at 1."""
    session = start(hub, create_batch(hub), len(DATA))
    assert_error(hub.put(f"{session}/parts/0", content=DATA[:PART]), 400)


@pytest.mark.parametrize("num", ["x", "-1", "1.0", "%20"])
def test_a_non_integer_part_number_is_400(hub: httpx.Client, num: str) -> None:
    """The part number in the URL must be an integer."""
    session = start(hub, create_batch(hub), len(DATA))
    assert_error(hub.put(f"{session}/parts/{num}", content=b"x"), 400)


def test_a_part_larger_than_part_size_is_400(hub: httpx.Client) -> None:
    """No part may exceed part_size."""
    session = start(hub, create_batch(hub), len(DATA))
    assert_error(hub.put(f"{session}/parts/1", content=DATA[: PART + 1]), 400)


def test_a_part_beyond_the_end_of_the_file_is_400(hub: httpx.Client) -> None:
    """A 10-byte file has one part: part 2 is a 400."""
    session = start(hub, create_batch(hub), 10)
    assert hub.put(f"{session}/parts/1", content=b"0123456789").status_code == 201
    assert_error(hub.put(f"{session}/parts/2", content=b"x"), 400)


@pytest.mark.parametrize(
    ("case", "mangle"),
    [
        ("unknown part id", lambda p: [p[0], {**p[1], "part_id": "999999999"}, p[2], p[3]]),
        ("missing part", lambda p: [p[0], p[2], p[3]]),
        ("out of order", lambda p: [p[1], p[0], p[2], p[3]]),
        ("duplicate part", lambda p: [p[0], p[0], p[1], p[2], p[3]]),
        ("too few bytes", lambda p: p[:3]),
        ("part never uploaded", lambda p: [*p, {"part_num": 5, "part_id": "1"}]),
        ("parts not a list", lambda p: {"1": p[0]}),
        ("part not an object", lambda p: [1, 2, 3, 4]),
        ("bool part_num", lambda p: [{**p[0], "part_num": True}, *p[1:]]),
        ("null part_id", lambda p: [{**p[0], "part_id": None}, *p[1:]]),
        ("missing part_num", lambda p: [{"part_id": p[0]["part_id"]}, *p[1:]]),
    ],
)
def test_commit_errors_are_400_and_keep_the_session(
    hub: httpx.Client, case: str, mangle: Any
) -> None:
    """A bad part list is a 400; the session survives, so a correct commit still works."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    assert_error(hub.post(session, json={"action": "commit", "parts": mangle(parts)}), 400)
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204


def test_commit_before_all_parts_are_uploaded_is_400(hub: httpx.Client) -> None:
    """Sizes must add up to file_size."""
    session = start(hub, create_batch(hub), len(DATA))
    parts = put_parts(hub, session, DATA[: 2 * PART])
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 400)


def test_a_short_part_that_is_not_the_last_fails_the_commit(hub: httpx.Client) -> None:
    """Every part but the last must be exactly part_size."""
    session = start(hub, create_batch(hub), PART + 10)
    first = hub.put(f"{session}/parts/1", content=b"x" * 10).json()
    second = hub.put(f"{session}/parts/2", content=b"x" * PART).json()
    assert_error(hub.post(session, json={"action": "commit", "parts": [first, second]}), 400)


def test_abort_is_204_and_the_session_is_gone(emu: Emulator, hub: httpx.Client) -> None:
    """After abort, parts, commit and abort on the session are 404s; no file appears."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    assert hub.post(session, json={"action": "abort"}).status_code == 204
    assert_error(hub.put(f"{session}/parts/1", content=b"x"), 404)
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 404)
    assert_error(hub.post(session, json={"action": "abort"}), 404)
    assert list_names(hub, batch_id) == []
    assert session.rsplit("/", 1)[1] not in emu.aihub.open_sessions()


def test_a_committed_session_is_gone(emu: Emulator, hub: httpx.Client) -> None:
    """A second commit of the same session is a 404; the backend lists it as open no more."""
    session = start(hub, create_batch(hub), len(DATA))
    assert session.rsplit("/", 1)[1] in emu.aihub.open_sessions()
    parts = put_parts(hub, session, DATA)
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 404)


@pytest.mark.parametrize("body", [b'{"action": "finish"}', b"{}", b'{"action": 1}', b"nope", b"[]"])
def test_unknown_action_or_bad_body_is_400(hub: httpx.Client, body: bytes) -> None:
    """``action`` must be "commit" or "abort" in a JSON object."""
    session = start(hub, create_batch(hub), 1)
    assert_error(hub.post(session, content=body), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "a.bin", "file_size": 1},
        {"batch_id": "{id}", "file_size": 1},
        {"batch_id": "{id}", "filename": "a.bin"},
        {"batch_id": "{id}", "filename": "a.bin", "file_size": -1},
        {"batch_id": "{id}", "filename": "a.bin", "file_size": "10"},
        {"batch_id": "{id}", "filename": "a.bin", "file_size": True},
        {"batch_id": "{id}", "filename": "a.bin", "file_size": 1.5},
        {"batch_id": True, "filename": "a.bin", "file_size": 1},
        {"batch_id": [1], "filename": "a.bin", "file_size": 1},
        {"batch_id": "{id}", "filename": 7, "file_size": 1},
        {"batch_id": "{id}", "filename": "noext", "file_size": 1},
        {"batch_id": "{id}", "filename": "a/b.bin", "file_size": 1},
        {"batch_id": "{id}", "filename": "x" * 256 + ".bin", "file_size": 1},
        {"path": 5, "file_size": 1},
        {"path": "nofolder.bin", "file_size": 1},
        {"path": "x/a.bin", "batch_id": "{id}", "file_size": 1},
    ],
)
def test_start_validation_errors_are_400(hub: httpx.Client, body: dict[str, Any]) -> None:
    """Missing or mistyped fields, a negative size or an invalid file name are 400s."""
    batch_id = create_batch(hub)
    body = {k: batch_id if v == "{id}" else v for k, v in body.items()}
    assert_error(hub.post(START, json=body), 400)


def test_start_accepts_a_string_batch_id(hub: httpx.Client) -> None:
    """``batch_id`` may be a string of digits (the SDK passes ids as text)."""
    batch_id = create_batch(hub)
    body = {"batch_id": str(batch_id), "filename": "a.bin", "file_size": 1}
    assert hub.post(START, json=body).status_code == 201


def test_start_for_an_unknown_batch_or_path_is_404(hub: httpx.Client) -> None:
    """An unknown batch id, or a path that is no batch folder of the caller, is a 404."""
    body = {"batch_id": 987654321, "filename": "a.bin", "file_size": 1}
    assert_error(hub.post(START, json=body), 404)
    body = {"path": "/someone/my-repo/fs/Instabase Drive/x/a.bin", "file_size": 1}
    assert_error(hub.post(START, json=body), 404)


def test_deleting_the_batch_ends_its_sessions(hub: httpx.Client) -> None:
    """Once the batch's deletion completes, its open sessions are 404s."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    poll_states(hub, hub.delete(f"/v2/batches/{batch_id}").headers["location"])
    assert_error(hub.put(f"{session}/parts/1", content=DATA[:PART]), 404)


def test_another_tenant_cannot_use_a_session(hub: httpx.Client, other: httpx.Client) -> None:
    """Tenant B cannot start into A's batch, upload, commit or abort A's session."""
    batch_id = create_batch(hub)
    body = {"batch_id": batch_id, "filename": "a.bin", "file_size": len(DATA)}
    assert_error(other.post(START, json=body), 404)
    session = start(hub, batch_id, len(DATA))
    assert_error(other.put(f"{session}/parts/1", content=DATA[:PART]), 404)
    parts = put_parts(hub, session, DATA)
    assert_error(other.post(session, json={"action": "commit", "parts": parts}), 404)
    assert_error(other.post(session, json={"action": "abort"}), 404)
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204


def test_upload_memory_stays_far_below_the_file_size(emu: Emulator) -> None:
    """A 64 MiB multipart upload and read-back allocate at most a few MiB (streaming)."""
    size = 64 * 1024 * 1024
    old_part_size = emu.aihub.part_size
    emu.aihub.part_size = 16 * 1024 * 1024
    expected = hashlib.sha256()
    for piece in chunks(size):
        expected.update(piece)
    tracemalloc.start()
    try:
        with new_client(emu) as hub:
            batch_id = create_batch(hub)
            response = hub.post(
                START, json={"batch_id": batch_id, "filename": "huge.bin", "file_size": size}
            )
            session, part_size = response.headers["location"], response.json()["part_size"]
            source = chunks(size)
            parts = []
            for num in range(1, size // part_size + 1):
                body = (next(source) for _ in range(part_size // (1 << 20)))
                parts.append(hub.put(f"{session}/parts/{num}", content=body).json())
            assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
            got = hashlib.sha256()
            path = batch_folder(hub, batch_id) + "/huge.bin"
            with hub.stream("GET", fs_url(path), params={"expect-node-type": "file"}) as stream:
                for piece in stream.iter_bytes():
                    got.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        emu.aihub.part_size = old_part_size
    assert expected.hexdigest() == got.hexdigest()
    assert peak < 12 * 1024 * 1024, f"peak {peak} bytes"


def blob_files(emu: Emulator) -> set[Path]:
    """Every blob file the emulator holds on disk right now."""
    return set(emu.aihub.blobs.root.iterdir())


def start_with_file(emu: Emulator, hub: httpx.Client, batch_id: int, size: int) -> tuple[str, Path]:
    """Start a session; return its URL and the one data file it created."""
    before = blob_files(emu)
    session = start(hub, batch_id, size)
    (path,) = blob_files(emu) - before
    return session, path


def trickle(data: bytes, piece: int = 4096) -> Iterator[bytes]:
    """``data`` as many small chunks, so concurrent bodies interleave on the server."""
    for offset in range(0, len(data), piece):
        yield data[offset : offset + piece]


def test_parts_uploaded_concurrently_in_any_order_commit_byte_exact(emu: Emulator) -> None:
    """Parts sent at once from several connections, shuffled, land in their own regions."""
    data = os.urandom(12 * PART + 4321)
    token = "tok-concurrent-parts"
    nums = list(range(1, 14))
    random.Random(7).shuffle(nums)
    with new_client(emu, token) as hub:
        batch_id = create_batch(hub)
        session = start(hub, batch_id, len(data))

        def send(num: int) -> dict[str, Any]:
            piece = data[(num - 1) * PART : num * PART]
            with new_client(emu, token) as client:
                response = client.put(f"{session}/parts/{num}", content=trickle(piece))
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        with ThreadPoolExecutor(max_workers=4) as pool:
            parts = sorted(pool.map(send, nums), key=lambda p: int(p["part_num"]))
        assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
        assert data == read(hub, batch_id, "big.bin")


def test_replacing_parts_after_larger_or_smaller_uploads_commits_byte_exact(
    hub: httpx.Client,
) -> None:
    """A re-upload overwrites its part's region whatever was there before: a short part 2
    and a full-size last part are both replaced by the right bytes, and the file is exact."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    assert hub.put(f"{session}/parts/2", content=b"short").status_code == 201
    assert hub.put(f"{session}/parts/4", content=b"\xff" * PART).status_code == 201
    for num in (2, 4):
        retry = hub.put(f"{session}/parts/{num}", content=DATA[(num - 1) * PART : num * PART])
        assert retry.status_code == 201, retry.text
        parts[num - 1] = retry.json()
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert DATA == read(hub, batch_id, "big.bin")


def test_an_oversized_part_is_400_and_a_correct_reupload_completes(hub: httpx.Client) -> None:
    """An oversized part counts for nothing: it voids the part's earlier upload (its region was
    overwritten), spills nothing into the next part, and a correct re-upload commits exactly."""
    batch_id = create_batch(hub)
    session = start(hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    assert_error(hub.put(f"{session}/parts/2", content=b"\x00" * (PART + 1)), 400)
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 400)
    retry = hub.put(f"{session}/parts/2", content=DATA[PART : 2 * PART])
    assert retry.status_code == 201, retry.text
    parts[1] = retry.json()
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert DATA == read(hub, batch_id, "big.bin")


def test_the_commit_hands_over_the_session_file_without_a_copy(emu: Emulator) -> None:
    """The parts are written into one session file, which becomes the batch file: same path,
    same inode, and no other blob is left behind."""
    token = "tok-no-copy"
    with new_client(emu, token) as hub:
        batch_id = create_batch(hub)
        before = blob_files(emu)
        session, path = start_with_file(emu, hub, batch_id, len(DATA))
        inode = path.stat().st_ino
        parts = put_parts(hub, session, DATA)
        assert blob_files(emu) - before == {path}
        assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
        assert blob_files(emu) - before == {path}
        segments = (batch_folder(hub, batch_id) + "/big.bin").strip("/").split("/")
        node = emu.aihub.fs_stat(token, segments)
        assert isinstance(node, FileNode)
        assert (path, inode, len(DATA)) == (node.blob, node.blob.stat().st_ino, node.size)
        assert DATA == path.read_bytes()


def test_abort_deletes_the_session_file(emu: Emulator, hub: httpx.Client) -> None:
    """Aborting removes the session's data file from disk."""
    session, path = start_with_file(emu, hub, create_batch(hub), len(DATA))
    put_parts(hub, session, DATA)
    assert hub.post(session, json={"action": "abort"}).status_code == 204
    assert not path.exists()


def test_a_commit_blocked_by_a_folder_keeps_the_session(emu: Emulator, hub: httpx.Client) -> None:
    """A folder at the file's path makes the commit a 409; the session and its parts survive,
    so once the folder is gone the same commit succeeds."""
    batch_id = create_batch(hub)
    session, path = start_with_file(emu, hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    folder = batch_folder(hub, batch_id) + "/big.bin"
    assert hub.put(fs_url(folder + "/inner.txt"), content=b"x").status_code == 204
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 409)
    assert path.exists()
    poll_states(hub, hub.delete(fs_url(folder)).headers["location"])
    assert hub.post(session, json={"action": "commit", "parts": parts}).status_code == 204
    assert DATA == read(hub, batch_id, "big.bin")


def test_a_commit_into_a_batch_being_deleted_is_409_and_may_be_aborted(
    emu: Emulator, hub: httpx.Client
) -> None:
    """While the batch's deletion is pending the commit is a 409; the session can be aborted."""
    batch_id = create_batch(hub)
    session, path = start_with_file(emu, hub, batch_id, len(DATA))
    parts = put_parts(hub, session, DATA)
    assert hub.delete(f"/v2/batches/{batch_id}").status_code == 202
    assert_error(hub.post(session, json={"action": "commit", "parts": parts}), 409)
    assert hub.post(session, json={"action": "abort"}).status_code == 204
    assert not path.exists()


def test_an_upload_overtaken_by_a_newer_upload_of_its_part_is_409(emu: Emulator) -> None:
    """Part 1 is re-sent while a first upload of it is still streaming: the newer one wins,
    the older one writes nothing more and answers 409, and the file holds the newer bytes."""
    token = "tok-overtaken"
    old, new = b"\x01" * PART, b"\x02" * PART
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield old[:4096]
        release.wait(30)
        yield from trickle(old[4096:])

    with new_client(emu, token) as hub, new_client(emu, token) as slow:
        batch_id = create_batch(hub)
        session, path = start_with_file(emu, hub, batch_id, PART)
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(slow.put, f"{session}/parts/1", content=slow_body())
            deadline = time.monotonic() + 30
            while path.read_bytes()[:4096] != old[:4096]:  # the old upload is writing
                assert time.monotonic() < deadline, "the first upload never started"
                time.sleep(0.01)
            second = hub.put(f"{session}/parts/1", content=new)
            release.set()
            assert_error(first.result(), 409)
        assert second.status_code == 201, second.text
        commit = hub.post(session, json={"action": "commit", "parts": [second.json()]})
        assert commit.status_code == 204, commit.text
        assert new == read(hub, batch_id, "big.bin")
