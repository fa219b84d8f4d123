"""The emulated AI Hub Filesystem API (deprecated) over a real loopback socket."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator

import httpx
import pytest

from batchkit.emulator import Emulator

try:
    from ._aihub_helpers import (  # type: ignore[import-not-found,unused-ignore]
        batch_folder,
        create_batch,
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
        fs_url,
        list_names,
        new_client,
        poll_states,
        upload,
    )

FILE = {"expect-node-type": "file"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(clock=lambda: 1659547551.0).serve() as served:
        yield served


@pytest.fixture
def hub(emu: Emulator) -> Iterator[httpx.Client]:
    with new_client(emu) as client:
        yield client


@pytest.fixture
def other(emu: Emulator) -> Iterator[httpx.Client]:
    with new_client(emu) as client:
        yield client


@pytest.fixture
def root(hub: httpx.Client) -> str:
    """The caller's workspace drive folder: ``/<owner>/my-repo/fs/Instabase Drive``."""
    owner = hub.get(f"/v2/batches/{create_batch(hub)}").json()["repo_owner"]
    return f"/{owner}/my-repo/fs/Instabase Drive"


def assert_error(response: httpx.Response, status: int) -> None:
    assert status == response.status_code, response.text
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)


def write(hub: httpx.Client, path: str, content: bytes = b"hello world") -> None:
    response = hub.put(fs_url(path), content=content)
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("sdk_form", [True, False], ids=["encoded-segment", "literal-slashes"])
def test_batch_file_is_readable_at_its_full_path(hub: httpx.Client, sdk_form: bool) -> None:
    """A batch file reads back at ``/<owner>/<ws>/fs/<drive>/<suffix>/<name>``, both URL forms."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "hello world.txt", b"hello world")
    response = hub.get(
        fs_url(batch_folder(hub, batch_id) + "/hello world.txt", sdk_form=sdk_form), params=FILE
    )
    assert response.status_code == 200
    assert response.content == b"hello world"
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "11"
    assert "content-range" not in response.headers


def test_listed_full_path_reads_the_file(hub: httpx.Client) -> None:
    """The ``full_path`` of a list-files node is a working Filesystem API path."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a b%c ü.pdf", b"pdf")
    node = hub.get(f"/v2/batches/{batch_id}/files").json()["nodes"][0]
    assert hub.get(fs_url(node["full_path"]), params=FILE).content == b"pdf"


@pytest.mark.parametrize("params", [{}, {"expect-node-type": "folder"}, {"expect-node-type": ""}])
def test_reading_without_expect_node_type_file_is_400(
    hub: httpx.Client, root: str, params: dict[str, str]
) -> None:
    """The docs make ``expect-node-type=file`` required to read a file."""
    write(hub, f"{root}/a.txt")
    assert_error(hub.get(fs_url(f"{root}/a.txt"), params=params), 400)


def test_reading_a_folder_as_a_file_is_400(hub: httpx.Client, root: str) -> None:
    """The node must match ``expect-node-type``: a folder is not a file."""
    write(hub, f"{root}/dir/a.txt")
    assert_error(hub.get(fs_url(f"{root}/dir"), params=FILE), 400)


def test_reading_a_missing_file_is_404(hub: httpx.Client, root: str) -> None:
    """No file at the path: 404."""
    assert_error(hub.get(fs_url(f"{root}/missing.txt"), params=FILE), 404)


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-4", b"hello", "bytes 0-4/11"),
        ("bytes=6-", b"world", "bytes 6-10/11"),
        ("bytes=6-100", b"world", "bytes 6-10/11"),
        ("bytes=10-10", b"d", "bytes 10-10/11"),
        ("bytes=0-10", b"hello world", "bytes 0-10/11"),
    ],
)
def test_range_read_is_206_with_content_range_and_total_size(
    hub: httpx.Client, root: str, header: str, body: bytes, content_range: str
) -> None:
    """A single byte range answers 206 with that slice and ``Content-Range: a-b/size``."""
    write(hub, f"{root}/hello_world.txt")
    response = hub.get(fs_url(f"{root}/hello_world.txt"), params=FILE, headers={"Range": header})
    assert response.status_code == 206
    assert body == response.content
    assert content_range == response.headers["content-range"]
    assert str(len(body)) == response.headers["content-length"]
    assert response.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,3-4", "bytes=-5", "items=0-1", "bytes=5-2", "bytes=x-y", "bytes=", "0-4"]
)
def test_invalid_range_is_400(hub: httpx.Client, root: str, header: str) -> None:
    """Multiple ranges, a negative (suffix) start or malformed syntax is a 400."""
    write(hub, f"{root}/r.txt")
    assert_error(hub.get(fs_url(f"{root}/r.txt"), params=FILE, headers={"Range": header}), 400)


def test_range_past_the_end_is_416_with_the_size(hub: httpx.Client, root: str) -> None:
    """A range starting at or past the end is 416 with ``Content-Range: bytes */size``."""
    write(hub, f"{root}/s.txt")
    response = hub.get(fs_url(f"{root}/s.txt"), params=FILE, headers={"Range": "bytes=11-"})
    assert_error(response, 416)
    assert response.headers["content-range"] == "bytes */11"


def test_large_file_reads_back_byte_exact_whole_and_by_range(hub: httpx.Client, root: str) -> None:
    """A 2 MiB + 3 byte file is identical read whole and in an open-ended range."""
    content = bytes(range(256)) * 8192 + b"end"
    write(hub, f"{root}/big.bin", content)
    assert content == hub.get(fs_url(f"{root}/big.bin"), params=FILE).content
    tail = hub.get(fs_url(f"{root}/big.bin"), params=FILE, headers={"Range": "bytes=1000000-"})
    assert content[1000000:] == tail.content


def test_head_of_a_file_gives_type_size_and_last_modified(hub: httpx.Client, root: str) -> None:
    """HEAD on a file: 200, octet-stream, its length and an HTTP date."""
    write(hub, f"{root}/file.txt", b"four")
    response = hub.head(fs_url(f"{root}/file.txt"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "4"
    assert response.headers["last-modified"] == "Wed, 03 Aug 2022 17:25:51 GMT"
    assert email.utils.parsedate_to_datetime(response.headers["last-modified"])


def test_head_of_a_folder_is_json_without_length(hub: httpx.Client, root: str) -> None:
    """HEAD on a folder: 200 with ``application/json`` and no Content-Length."""
    write(hub, f"{root}/dir/file.txt")
    for path in (f"{root}/dir", root, root.split("/my-repo")[0]):
        response = hub.head(fs_url(path))
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/json"
        assert "content-length" not in response.headers
        assert "last-modified" not in response.headers


def test_head_of_a_missing_path_is_404(hub: httpx.Client, root: str) -> None:
    """HEAD where nothing is: 404."""
    assert hub.head(fs_url(f"{root}/nothing")).status_code == 404


@pytest.mark.parametrize(
    "value", ['{"retries": 2, "backoff-seconds": 1}', "{retries:2,backoff-seconds:1}"]
)
def test_ib_retry_config_is_accepted(hub: httpx.Client, root: str, value: str) -> None:
    """``IB-Retry-Config`` in the docs' bare and JSON forms is accepted (and never waits)."""
    write(hub, f"{root}/f.txt")
    headers = {"IB-Retry-Config": value}
    assert hub.head(fs_url(f"{root}/f.txt"), headers=headers).status_code == 200
    assert hub.get(fs_url(f"{root}/f.txt"), params=FILE, headers=headers).status_code == 200
    assert hub.head(fs_url(f"{root}/missing.txt"), headers=headers).status_code == 404


@pytest.mark.parametrize(
    "value",
    ["{retries:0,backoff-seconds:1}", "{retries:2}", "retries=2", "{retries:x,backoff-seconds:1}"],
)
def test_malformed_ib_retry_config_is_400(hub: httpx.Client, root: str, value: str) -> None:
    """An ``IB-Retry-Config`` not of the documented form, or with a value below 1, is a 400."""
    write(hub, f"{root}/f.txt")
    headers = {"IB-Retry-Config": value}
    assert_error(hub.get(fs_url(f"{root}/f.txt"), params=FILE, headers=headers), 400)


def test_put_creates_parent_folders_and_is_204(hub: httpx.Client, root: str) -> None:
    """PUT without If-None-Match answers 204 and creates missing parents."""
    response = hub.put(fs_url(f"{root}/a/b/c/new_file.txt"), content=b"hello world")
    assert response.status_code == 204
    assert hub.head(fs_url(f"{root}/a/b")).status_code == 200
    assert hub.get(fs_url(f"{root}/a/b/c/new_file.txt"), params=FILE).content == b"hello world"


def test_put_overwrites_an_existing_file(hub: httpx.Client, root: str) -> None:
    """A second PUT replaces the contents (204)."""
    write(hub, f"{root}/o.txt", b"first")
    write(hub, f"{root}/o.txt", b"second")
    assert hub.get(fs_url(f"{root}/o.txt"), params=FILE).content == b"second"


def test_put_if_none_match_creates_with_201_then_is_412(hub: httpx.Client, root: str) -> None:
    """``If-None-Match: *``: 201 with a Location to the new file, then 412; contents kept."""
    url = fs_url(f"{root}/dir x/n ü.txt")
    created = hub.put(url, content=b"one", headers={"If-None-Match": "*"})
    assert created.status_code == 201
    location = created.headers["location"]
    assert re.fullmatch(re.escape(str(hub.base_url)) + r"v2/files/.+", location)
    assert hub.get(location, params=FILE).content == b"one"
    assert_error(hub.put(url, content=b"two", headers={"If-None-Match": "*"}), 412)
    assert hub.get(url, params=FILE).content == b"one"


def test_if_none_match_other_than_star_is_400(hub: httpx.Client, root: str) -> None:
    """The docs allow only ``*`` as If-None-Match."""
    assert_error(
        hub.put(fs_url(f"{root}/x.txt"), content=b"", headers={"If-None-Match": "abc"}), 400
    )


def test_put_below_a_file_or_onto_a_folder_is_409(hub: httpx.Client, root: str) -> None:
    """A parent that is a file, or a folder at the target, is a 409 conflict."""
    write(hub, f"{root}/plain.txt")
    write(hub, f"{root}/folder/inner.txt")
    assert_error(hub.put(fs_url(f"{root}/plain.txt/child.txt"), content=b"x"), 409)
    assert_error(hub.put(fs_url(f"{root}/folder"), content=b"x"), 409)


def test_writing_into_a_batch_folder_adds_the_file_to_the_batch(hub: httpx.Client) -> None:
    """A file PUT into a batch's folder is listed by list-files."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    write(hub, batch_folder(hub, batch_id) + "/b.pdf", b"via fs")
    assert list_names(hub, batch_id) == ["a.pdf", "b.pdf"]
    node = hub.get(f"/v2/batches/{batch_id}/files").json()["nodes"][1]
    assert node["metadata"]["size"] == 6


def test_delete_file_is_202_with_a_delete_job_location(hub: httpx.Client, root: str) -> None:
    """DELETE answers 202, ``Location: <root>/v2/files/delete/jobs/<id>``; gone at COMPLETE."""
    write(hub, f"{root}/gone.txt")
    response = hub.delete(fs_url(f"{root}/gone.txt"))
    assert response.status_code == 202
    location = response.headers["location"]
    assert re.fullmatch(
        re.escape(str(hub.base_url)) + r"v2/files/delete/jobs/[0-9a-f-]{36}", location
    )
    assert hub.head(fs_url(f"{root}/gone.txt")).status_code == 200
    assert poll_states(hub, location) == ["PENDING", "RUNNING", "COMPLETE"]
    assert hub.head(fs_url(f"{root}/gone.txt")).status_code == 404


def test_deleting_a_batch_file_through_the_filesystem_removes_it_from_the_batch(
    hub: httpx.Client,
) -> None:
    """The two APIs share storage: deleting the path drops the file from list-files."""
    batch_id = create_batch(hub)
    upload(hub, batch_id, "a.pdf")
    location = hub.delete(fs_url(batch_folder(hub, batch_id) + "/a.pdf")).headers["location"]
    poll_states(hub, location)
    assert list_names(hub, batch_id) == []


def test_deleting_a_folder_removes_its_contents(hub: httpx.Client, root: str) -> None:
    """DELETE on a folder removes it and everything below."""
    write(hub, f"{root}/tree/a.txt")
    write(hub, f"{root}/tree/sub/b.txt")
    poll_states(hub, hub.delete(fs_url(f"{root}/tree")).headers["location"])
    assert hub.head(fs_url(f"{root}/tree")).status_code == 404
    assert hub.head(fs_url(f"{root}/tree/sub/b.txt")).status_code == 404


def test_deleting_a_missing_path_is_404(hub: httpx.Client, root: str) -> None:
    """Nothing to delete: 404."""
    assert_error(hub.delete(fs_url(f"{root}/never.txt")), 404)


def test_delete_jobs_are_also_pollable_at_the_batches_job_url(hub: httpx.Client, root: str) -> None:
    """Jobs share one table: a Filesystem deletion job polls at /v2/batches/jobs/<id> too."""
    write(hub, f"{root}/j.txt")
    job_id = hub.delete(fs_url(f"{root}/j.txt")).headers["location"].rsplit("/", 1)[1]
    assert hub.get(f"/v2/batches/jobs/{job_id}").json()["state"] == "PENDING"


@pytest.mark.parametrize(
    "path", ["/{owner}/a/../b.txt", "/{owner}/a/./b.txt", "/{owner}/a//b.txt", "/{owner}/a\x00.txt"]
)
def test_dot_empty_or_nul_segments_are_400(hub: httpx.Client, root: str, path: str) -> None:
    """``..``, ``.``, empty segments and NUL characters in a path are 400s."""
    owner = root.split("/")[1]
    assert_error(hub.put(fs_url(path.replace("{owner}", owner)), content=b"x"), 400)


def test_another_tenant_cannot_reach_my_paths(
    hub: httpx.Client, other: httpx.Client, root: str
) -> None:
    """Tenant B gets 404 for reads, HEAD, writes and deletes under A's namespace."""
    write(hub, f"{root}/mine.txt")
    url = fs_url(f"{root}/mine.txt")
    assert_error(other.get(url, params=FILE), 404)
    assert other.head(url).status_code == 404
    assert_error(other.put(url, content=b"evil"), 404)
    assert_error(other.put(fs_url(f"{root}/new.txt"), content=b"evil"), 404)
    assert_error(other.delete(url), 404)
    job = hub.delete(fs_url(f"{root}/mine.txt")).headers["location"]
    assert_error(other.get(job), 404)
    assert hub.get(url, params=FILE).content == b"hello world"


def test_paths_outside_any_namespace_are_404(hub: httpx.Client) -> None:
    """The bare API root and unknown namespaces are 404s."""
    assert_error(hub.get("/v2/files/", params=FILE), 404)
    assert_error(hub.put(fs_url("/nobody/x.txt"), content=b"x"), 404)
