"""Names in URL paths travel as one percent-encoded segment and decode back exactly."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_AWKWARD = st.sampled_from(list(" /#?%&+=;:@,'\"<>[]{}|^`~!$*()ü€漢😀\u00a0"))
_PRINTABLE = st.characters(exclude_categories=["Cc", "Cs"])


@st.composite
def scale_names(draw: st.DrawFn) -> str:
    """Batch names mixing URL-special characters with anything printable."""
    parts = draw(st.lists(st.one_of(_AWKWARD, st.text(_PRINTABLE, max_size=4)), min_size=1,
                          max_size=12))
    name = "".join(parts)[:255]
    assume(name.strip() and name not in (".", ".."))
    return name


def _segments(request: httpx.Request) -> list[str]:
    return request.url.raw_path.decode("ascii").split("?")[0].split("/")


SCALE_BATCH = {"name": "x", "project": "p", "status": "staging"}


@SETTINGS
@given(scale_names())
def test_scale_batch_name_is_one_encoded_segment_that_decodes_back(kit, name):
    """GET /v1/batches/<name>: the name is one segment; unquoting it gives the name."""
    rec = kit.Recorder(lambda request: kit.json_response(200, SCALE_BATCH))
    with kit.scale(rec.transport) as provider:
        provider.get_batch(name)
    segments = _segments(rec.requests[0])
    assert ["", "v1", "batches"] == segments[:3]
    assert 4 == len(segments)
    assert name == unquote(segments[3])


@SETTINGS
@given(scale_names(), st.sampled_from(["status", "finalize", "prioritize", "setMetadata"]))
def test_scale_batch_name_before_an_action_stays_one_segment(kit, name, action):
    """/v1/batches/<name>/<action>: the action is the last segment, the name decodes back."""
    def handle(request: httpx.Request) -> httpx.Response:
        if action == "status":
            return kit.json_response(200, {"status": "staging"})
        if action == "prioritize":
            return kit.json_response(200, {"result": "success"})
        return kit.json_response(200, SCALE_BATCH)

    rec = kit.Recorder(handle)
    with kit.scale(rec.transport) as provider:
        {
            "status": lambda: provider.status(name),
            "finalize": lambda: provider.finalize(name),
            "prioritize": lambda: provider.prioritize(name, 20),
            "setMetadata": lambda: provider.set_metadata(name, {"k": 1}),
        }[action]()
    segments = _segments(rec.requests[0])
    assert ["", "v1", "batches", action] == [*segments[:3], segments[-1]]
    assert 5 == len(segments)
    assert name == unquote(segments[3])


@pytest.mark.parametrize("name", [".", ".."])
def test_scale_batch_named_with_dots_only_stays_in_its_own_segment(kit, name):
    """A batch named "." or ".." must not be resolved as a dot-segment (→ another path)."""
    rec = kit.Recorder(lambda request: kit.json_response(200, SCALE_BATCH))
    provider = kit.scale(rec.transport)
    provider.finalize(name)
    segments = _segments(rec.requests[0])
    assert ["", "v1", "batches", "finalize"] == [*segments[:3], segments[-1]]
    assert name == unquote(segments[3])


def test_scale_name_with_reserved_characters_is_encoded_as_the_wire_notes_show(kit):
    """The wire notes' example: 'a bc/def' is sent as a%20bc%2Fdef."""
    rec = kit.Recorder(lambda request: kit.json_response(200, SCALE_BATCH))
    kit.scale(rec.transport).get_batch("a bc/def")
    assert b"/v1/batches/a%20bc%2Fdef" == rec.requests[0].url.raw_path


_FILE_CHARS = st.characters(exclude_categories=["Cc", "Cs"], exclude_characters="/\\.")


@st.composite
def file_names(draw: st.DrawFn) -> str:
    """Valid flat file names with URL-special characters in the stem."""
    stem = "".join(draw(st.lists(
        st.one_of(_AWKWARD.filter(lambda c: c != "/"), st.text(_FILE_CHARS, max_size=3)),
        min_size=1, max_size=10,
    )))
    assume(stem.strip() and stem == stem.strip())
    return f"{stem[:200]}.pdf"


@SETTINGS
@given(file_names())
def test_aihub_file_name_is_one_encoded_segment_of_the_upload_put(kit, name):
    """PUT /v2/batches/<id>/files/<name>: one segment that unquotes to the name."""
    rec = kit.Recorder(lambda request: httpx.Response(204))
    with kit.aihub(rec.transport) as provider:
        provider.upload_file("42", name, b"data")
    request = rec.requests[0]
    segments = _segments(request)
    assert ("PUT", ["", "api", "v2", "batches", "42", "files"]) == (request.method, segments[:6])
    assert 7 == len(segments)
    assert name == unquote(segments[6])
    assert b"data" == request.content


@SETTINGS
@given(file_names())
def test_aihub_file_name_is_one_encoded_segment_of_the_delete(kit, name):
    """DELETE /v2/batches/<id>/files/<name> encodes the name the same way."""
    rec = kit.Recorder(lambda request: httpx.Response(204))
    with kit.aihub(rec.transport) as provider:
        provider.delete_file("42", name)
    segments = _segments(rec.requests[0])
    assert 7 == len(segments)
    assert name == unquote(segments[6])


def test_aihub_file_name_with_spaces_and_unicode_matches_the_wire_notes(kit):
    """The wire notes' example `ü b.pdf` arrives as `%C3%BC%20b.pdf`."""
    rec = kit.Recorder(lambda request: httpx.Response(204))
    kit.aihub(rec.transport).upload_file("42", "ü b.pdf", b"x")
    assert b"/api/v2/batches/42/files/%C3%BC%20b.pdf" == rec.requests[0].url.raw_path


def test_aihub_download_path_quotes_each_segment_of_the_batch_folder(kit):
    """The Filesystem API read quotes each path segment (drive names have spaces)."""
    batch = {
        "id": 42, "name": "b", "workspace": "my ws", "mount_point": "Instabase Drive",
        "repo_owner": "org#1", "path_suffix": "file-batches/abc",
    }

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/v2/batches/"):
            return kit.json_response(200, batch)
        return httpx.Response(200, content=b"hello")

    rec = kit.Recorder(handle)
    assert b"hello" == kit.aihub(rec.transport).download_file(42, "a b?.pdf")
    expected = b"/api/v2/files/org%231/my%20ws/fs/Instabase%20Drive/file-batches/abc/a%20b%3F.pdf"
    assert expected == rec.requests[1].url.raw_path.split(b"?")[0]
    assert "file" == rec.requests[1].url.params["expect-node-type"]
