"""Scale's Files API in the emulator: upload (multipart) and import (a URL), and the
``scaledata://`` attachment URLs they give, which tasks then take as their attachment."""

from __future__ import annotations

import json
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
    )
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _scale_helpers import (  # type: ignore[no-redef,unused-ignore]
        Clock,
        client,
    )

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SCALEDATA = re.compile(r"^scaledata://([0-9a-f]{24})/(.+)$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with client(emu) as c:
        assert 200 == c.post("/projects", json={"name": "p", "type": "imageannotation"}).status_code
        yield c


def upload(
    http: httpx.Client,
    content: bytes = PNG,
    *,
    filename: str = "kitten.png",
    content_type: str | None = "image/png",
    **fields: str,
) -> httpx.Response:
    part = (filename, content) if content_type is None else (filename, content, content_type)
    return http.post("/files/upload", files={"file": part}, data=fields)


# -- upload ------------------------------------------------------------------------------


def test_upload_answers_a_file_whose_attachment_url_is_scaledata(http: httpx.Client) -> None:
    """As the SDK README's example: id, attachment_url (scaledata://), created_at,
    updated_at, mime_type, project_names and size; plus what was sent with it."""
    response = upload(
        http,
        display_name="Kitten",
        project_name="p",
        reference_id="kitten0",
        metadata=json.dumps({"id": "kitten0"}),
    )
    assert 200 == response.status_code, response.text
    assert "application/json" == response.headers["content-type"]
    body = response.json()
    assert UUID.match(body["id"])
    match = SCALEDATA.match(body["attachment_url"])
    assert match is not None
    assert body["id"] == match.group(2)
    assert {
        "created_at": "2023-11-14T22:13:20.000Z",
        "updated_at": "2023-11-14T22:13:20.000Z",
        "mime_type": "image/png",
        "project_names": ["p"],
        "size": len(PNG),
        "display_name": "Kitten",
        "reference_id": "kitten0",
        "metadata": {"id": "kitten0"},
    }.items() <= body.items()


def test_each_upload_is_a_new_file_and_the_customer_id_is_stable(http: httpx.Client) -> None:
    first, second = upload(http).json(), upload(http).json()
    assert first["id"] != second["id"]
    owner = {SCALEDATA.match(f["attachment_url"]).group(1) for f in (first, second)}  # type: ignore[union-attr]
    assert 1 == len(owner)
    assert ([], {}) == (first["project_names"], first["metadata"])
    assert "display_name" not in first
    assert "reference_id" not in first


@pytest.mark.parametrize(
    ("filename", "content_type", "mime"),
    [
        ("scan.pdf", None, "application/pdf"),
        ("scan.pdf", "application/octet-stream", "application/pdf"),
        ("noext", "application/octet-stream", "application/octet-stream"),
        ("photo.bin", "image/jpeg; charset=binary", "image/jpeg"),
    ],
)
def test_the_mime_type_is_the_parts_or_else_guessed_from_the_name(
    http: httpx.Client, filename: str, content_type: str | None, mime: str
) -> None:
    response = upload(http, filename=filename, content_type=content_type)
    assert mime == response.json()["mime_type"]


def test_an_empty_file_is_a_file_of_size_0(http: httpx.Client) -> None:
    assert 0 == upload(http, b"").json()["size"]


@pytest.mark.parametrize(
    ("request_options", "words"),
    [
        (
            {"data": {"display_name": "x"}, "files": {"other": ("a.png", b"x")}},
            "'file' is required",
        ),
        ({"json": {"file": "x"}}, "multipart/form-data"),
        (
            {
                "content": b"file=x",
                "headers": {"content-type": "application/x-www-form-urlencoded"},
            },
            "multipart",
        ),
        (
            {
                "content": b"garbage",
                "headers": {"content-type": "multipart/form-data; boundary=zz"},
            },
            "malformed",
        ),
        (
            {"content": b"--zz--\r\n", "headers": {"content-type": "multipart/form-data"}},
            "malformed",
        ),
        (
            {"files": {"file": ("a.png", b"x"), "metadata": ("m.json", b"{}")}},
            "plain form field",
        ),
        ({"files": {"file": ("a.png", b"x"), "again": ("b.png", b"y")}}, "one file"),
        ({"files": [("file", ("a.png", b"x")), ("file", ("b.png", b"y"))]}, "one file"),
    ],
)
def test_malformed_uploads_are_400(
    http: httpx.Client, request_options: dict[str, Any], words: str
) -> None:
    response = http.post("/files/upload", **request_options)
    assert 400 == response.status_code, response.text
    assert words in response.json()["error"]


def test_a_file_field_that_is_not_a_file_part_is_400(http: httpx.Client) -> None:
    """``file`` sent as a plain text field (no filename) is not a file."""
    body = b'--zz\r\nContent-Disposition: form-data; name="file"\r\n\r\nhello\r\n--zz--\r\n'
    response = http.post(
        "/files/upload", content=body, headers={"content-type": "multipart/form-data; boundary=zz"}
    )
    assert 400 == response.status_code
    assert "'file' is required" in response.json()["error"]


@pytest.mark.parametrize("metadata", ["not json", "[1, 2]", "3", "null", '{"x": NaN}'])
def test_metadata_must_be_a_json_object(http: httpx.Client, metadata: str) -> None:
    response = upload(http, metadata=metadata)
    assert 400 == response.status_code
    assert "metadata" in response.json()["error"]


def test_an_unknown_project_name_is_404(http: httpx.Client) -> None:
    response = upload(http, project_name="nope")
    assert 404 == response.status_code
    assert "nope" in response.json()["error"]


def test_a_repeated_reference_id_is_409_for_this_customer_only(
    http: httpx.Client, emu: Emulator
) -> None:
    """ "Uploading two files with the same reference_id will result in a 409 (Conflict)"."""
    first = upload(http, reference_id="r1").json()
    again = upload(http, reference_id="r1")
    assert 409 == again.status_code
    assert first["id"] in again.json()["error"]
    imported = http.post(
        "/files/import", json={"file_url": "https://x/a.png", "reference_id": "r1"}
    )
    assert 409 == imported.status_code
    with client(emu, "another") as other:
        assert 200 == upload(other, reference_id="r1").status_code


def test_a_file_over_the_size_limit_is_413(http: httpx.Client, emu: Emulator) -> None:
    """80 MB per file (the docs give no status: 413). The limit is an attribute, so a test
    need not send 80 MB; a body far beyond it is refused without being parsed."""
    emu.scale.max_file_size = 10
    assert 200 == upload(http, b"x" * 10).status_code
    too_big = upload(http, b"x" * 11)
    assert 413 == too_big.status_code
    assert "10 bytes" in too_big.json()["error"]
    streamed = upload(http, b"x" * (3 * 1024 * 1024))
    assert 413 == streamed.status_code
    assert 200 == http.get("/tasks").status_code  # the connection is still usable


def test_the_default_limit_is_80_mib(emu: Emulator) -> None:
    assert 80 * 1024 * 1024 == emu.scale.max_file_size


def test_files_endpoints_need_a_key_and_post(emu: Emulator, http: httpx.Client) -> None:
    with httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root) as anonymous:
        assert 401 == anonymous.post("/files/upload", files={"file": ("a", b"x")}).status_code
        assert 401 == anonymous.post("/files/import", json={"file_url": "https://x"}).status_code
    assert (405, "POST") == (
        http.get("/files/upload").status_code,
        http.get("/files/upload").headers["allow"],
    )
    assert 405 == http.put("/files/import").status_code


# -- import ------------------------------------------------------------------------------


def test_import_answers_a_file_for_the_url(http: httpx.Client) -> None:
    response = http.post(
        "/files/import",
        json={
            "file_url": "https://example.com/images/cat.jpg?signature=abc",
            "project_name": "p",
            "reference_id": "cat",
            "metadata": {"k": 1},
            "display_name": "Cat",
        },
    )
    assert 200 == response.status_code, response.text
    body = response.json()
    assert SCALEDATA.match(body["attachment_url"])
    assert UUID.match(body["id"])
    assert {
        "mime_type": "image/jpeg",
        "project_names": ["p"],
        "reference_id": "cat",
        "metadata": {"k": 1},
        "display_name": "Cat",
        "file_url": "https://example.com/images/cat.jpg?signature=abc",
    }.items() <= body.items()
    assert "size" not in body  # never fetched


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"file_url": ""}, 400),
        ({"file_url": 5}, 400),
        ({"file_url": "not a url"}, 400),
        ({"file_url": "https://x/a.png", "metadata": "{}"}, 400),
        ({"file_url": "https://x/a.png", "metadata": [1]}, 400),
        ({"file_url": "https://x/a.png", "project_name": 3}, 400),
        ({"file_url": "https://x/a.png", "project_name": "nope"}, 404),
        ({"file_url": "s3://bucket/key.png"}, 200),
        ({"file_url": "https://x/a.png", "project_name": None, "metadata": None}, 200),
    ],
)
def test_import_checks_its_body(http: httpx.Client, body: dict[str, Any], status: int) -> None:
    response = http.post("/files/import", json=body)
    assert status == response.status_code, response.text


# -- files become task attachments ---------------------------------------------------------


def test_an_uploaded_or_imported_file_is_a_tasks_attachment(
    http: httpx.Client, emu: Emulator, clock: Clock
) -> None:
    """A task whose attachment is one of the customer's scaledata:// URLs completes; one
    naming another customer's file ends in error, as an unfetchable attachment does."""
    geometries = {"box": {"objects_to_annotate": ["cat"]}}
    uploaded = upload(http).json()["attachment_url"]
    imported = http.post("/files/import", json={"file_url": "https://x/a.png"}).json()[
        "attachment_url"
    ]
    with client(emu, "another") as other:
        theirs = upload(other).json()["attachment_url"]
    ids = [
        http.post(
            "/task/imageannotation",
            json={"project": "p", "attachment": url, "geometries": geometries},
        ).json()["task_id"]
        for url in (uploaded, imported, theirs)
    ]
    clock.now += 1
    tasks = [http.get(f"/task/{task_id}").json() for task_id in ids]
    assert ["completed", "completed", "error"] == [t["status"] for t in tasks]
    assert uploaded == tasks[0]["params"]["attachment"]
    assert [{"statusCode": 404, "url": theirs}] == tasks[2]["response"]["attachments"]
