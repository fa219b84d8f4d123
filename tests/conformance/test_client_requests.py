"""batchkit's own requests against the same specs: every request the adapters send, as sent.

The client runs every operation it has through a recording transport over the in-process
emulator (and the committed cassettes are read too); each request is validated against the
spec's parameters (path, query, headers), request body schema, media type and security
scheme. A request the spec does not describe must match an entry of :data:`OUT_OF_SCOPE`
(with why); any other is a failure.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

import batchkit
from batchkit.emulator import Emulator
from batchkit.emulator.aihub import EXTRACTOR_DEPLOYMENT_ID as BUILTIN_DEPLOYMENT
from tests.conformance._harness import (
    AIHUB_OPERATIONS,
    AIHUB_SPEC,
    ROOT,
    SCALE_SPEC,
    load_yaml,
    selected,
)
from tests.conformance._requests import Recorded, problems
from tests.recorder import Recorder

# -- what the specs do not describe --------------------------------------------------------


@dataclass(frozen=True)
class OutOfScope:
    """Requests no operation of the spec describes, on purpose."""

    methods: frozenset[str]
    #: matched against the whole raw path (API root included)
    path: re.Pattern[str]
    why: str


OUT_OF_SCOPE: tuple[OutOfScope, ...] = (
    OutOfScope(
        frozenset({"GET"}),
        re.compile(r"/api/v2/files/delete/jobs/[^/]+"),
        "the job URL a Filesystem API deletion's Location header names (its docs' form); the "
        "spec polls every job at /v2/jobs/{job_id}, which the emulator serves for any job too",
    ),
    OutOfScope(
        frozenset({"GET", "HEAD", "PUT", "DELETE"}),
        re.compile(r"/api/v2/files/[^/]+/.+"),
        "the deprecated Filesystem API as its own docs write it, with literal slashes "
        "between the path's segments (`/v2/files/<org>/<ws>/fs/<drive>/<path>`); the spec's "
        "`/v2/files/{path}` has one path parameter, which OpenAPI lets hold no '/', and its "
        "SDK sends the whole path as one %2F-encoded segment. The emulator serves both forms",
    ),
)


def _out_of_scope(request: Recorded) -> OutOfScope | None:
    """The first entry matching the request (the job URL comes before the wider path)."""
    for entry in OUT_OF_SCOPE:
        if request.method in entry.methods and entry.path.fullmatch(request.path):
            return entry
    return None


# -- the specs -------------------------------------------------------------------------------


def _schema(spec: dict[str, Any]) -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(spec)


AIHUB = _schema(selected(load_yaml(AIHUB_SPEC), AIHUB_OPERATIONS))
SCALE = _schema(load_yaml(SCALE_SPEC))
TOKEN = "client-requests-token"
KEY = "client-requests-key"


def _verdicts(requests: list[Recorded]) -> tuple[list[str], list[Recorded]]:
    """(every problem found, the requests declared out of scope)."""
    found: list[str] = []
    skipped: list[Recorded] = []
    for request in requests:
        schema, base = (AIHUB, "/api") if request.path.startswith("/api/") else (SCALE, "/v1")
        result = problems(schema, base, request)
        if result is None:
            if _out_of_scope(request) is None:
                found.append(f"{request.label}: no operation of the spec describes it")
            else:
                skipped.append(request)
            continue
        found += [f"{request.label}: {problem}" for problem in result]
    return found, skipped


# -- driving the client ----------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(job_polls=1, job_seconds=None, part_size=16 * 1024) as emu:
        yield emu


def _recording(emu: Emulator) -> tuple[Recorder, list[Recorded]]:
    """A transport that records each request as sent, then lets the emulator answer it."""
    inner = emu.transport()
    sent: list[Recorded] = []

    def forward(request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        sent.append(Recorded(request.method, path, query, dict(request.headers), request.content))
        return inner.handle_request(request)

    return Recorder(forward), sent


def _run(emu: Emulator, flow: Callable[[Recorder], None]) -> list[Recorded]:
    recorder, sent = _recording(emu)
    flow(recorder)
    assert sent, "the flow sent nothing"
    return sent


def _aihub_flow(emu: Emulator) -> Callable[[Recorder], None]:
    def flow(recorder: Recorder) -> None:
        p: Any = batchkit.connect(
            "aihub",
            api_root=emu.aihub_api_root,
            token=TOKEN,
            transport=recorder.transport,
            multipart_threshold=32 * 1024,
            part_concurrency=1,
            poll_initial=0.0,
        )
        payload = bytes(range(256)) * 160  # 40 KB: three 16 KB parts
        batch = p.create_batch("conformance batch", project="team-ws")
        other = p.create_batch("no workspace", project=None)
        p.get_batch(batch)
        list(p.list_batches())
        list(p.list_batches(project="team-ws", owner=batch.owner, limit=1))
        p.upload_file(batch, "small file #1?.txt", b"hello")
        p.upload_file(batch, "big ü.bin", payload)
        p.upload(batch, [("from-upload.pdf", io.BytesIO(b"%PDF-1.7"))])
        list(p.list_files(batch))
        list(p.list_files(batch, page_size=1))
        p.download_file(batch, "small file #1?.txt")
        p.download_file(batch, "big ü.bin", start=10, end=20)
        folder = p.batch_path(batch)
        p.fs_head(f"{folder}/small file #1?.txt")
        p.fs_write(f"{folder}/via fs.txt", b"fs", overwrite=False)
        p.fs_write(f"{folder}/via fs.txt", b"again", overwrite=True)
        p.fs_read(f"{folder}/via fs.txt")
        p.fs_delete(f"{folder}/via fs.txt")
        p.delete_file(batch, "small file #1?.txt")
        run = p.start(batch, app="batchkit-extractor")
        done = p.wait(run)
        list(p.results(done))
        deployed = p.start(batch, deployment=BUILTIN_DEPLOYMENT)
        p.get_run(deployed)
        started = httpx.Client(transport=emu.transport()).post(
            f"{emu.aihub_api_root}/v2/batches/multipart-upload",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"batch_id": int(batch.id), "filename": "abandoned.bin", "file_size": 5},
        )
        p.abort_upload_session(started.headers["Location"])
        job = p.delete_batch(other, wait=False)
        p.wait_job(job)
        p.delete_batch(batch)
        with pytest.raises(batchkit.NotFound):
            p.get_batch(batch)

    return flow


def _scale_flow(emu: Emulator) -> Callable[[Recorder], None]:
    def flow(recorder: Recorder) -> None:
        p: Any = batchkit.connect(
            "scale", api_root=emu.scale_api_root, api_key=KEY, transport=recorder.transport,
            task_type="imageannotation", poll_initial=0.0,
            task_fields={"geometries": {"box": {"objects_to_annotate": ["cat"]}}},
        )
        p.create_project("plain project", type="imageannotation")
        p.create_project(
            "studio/project ü",
            type="textcollection",
            params={"instruction": "label"},
            rapid=False,
            studio=True,
            dataset_id="ds_1",
            pipeline="standard_task",
        )
        p.get_project("studio/project ü")
        p.list_projects()
        name = "kittens 2026/11 #1?ü"
        batch = p.create_batch(
            name,
            project="studio/project ü",
            callback="https://example.com/cb",
            metadata={"team": "a"},
            options={"calibration_batch": False, "self_label_batch": False},
        )
        p.create_batch("plain", project="plain project")
        with pytest.raises(batchkit.Conflict):
            p.create_batch(name, project="studio/project ü")
        p.get_batch(batch)
        p.status(batch)
        p.finalize(batch)
        p.prioritize(batch, 30)
        p.set_metadata(batch, {"team": "b", "nested": {"n": 1}})
        # the labeling loop: files become tasks, tasks added directly, listed, canceled
        loop = p.create_batch("loop", project="plain project")
        files = p.upload(loop, [("scan #1.png", io.BytesIO(b"\x89PNG")),
                                "https://cdn.example.com/scans/scan%20%232.png?sig=a%2Bb"])
        assert files.ok, files.failed
        specs = [batchkit.TaskSpec("imageannotation", {
            "attachment": "https://example.com/a.png",
            "geometries": {"box": {"objects_to_annotate": ["cat"]}},
        })]
        (task,) = p.add_tasks(loop, specs)
        p.get_task(task)
        list(p.list_tasks(loop, state=batchkit.ItemState.PENDING, limit=1))
        p.cancel_task(task, clear_unique_id=True)
        run = p.start(loop)
        list(p.results(p.wait(run)))
        since = datetime(2020, 1, 1, tzinfo=UTC)
        list(p.list_batches())
        list(
            p.list_batches(
                project="studio/project ü",
                state=batchkit.BatchState.IN_PROGRESS,
                created_after=since,
                created_before=datetime(2100, 1, 1),
                detailed=True,
                limit=1,
            )
        )
        with pytest.raises(batchkit.NotFound):
            p.get_batch("no such batch")

    return flow


def test_every_aihub_request_the_client_sends_is_described_by_the_official_spec(
    emulator: Emulator,
) -> None:
    """Batches, files, multipart (commit and abort), jobs: each request fits its operation's
    parameters, body schema, media type and bearer scheme; only the listed Filesystem API
    forms are out of the spec's scope."""
    sent = _run(emulator, _aihub_flow(emulator))
    found, skipped = _verdicts(sent)
    assert [] == found
    methods = {(r.method, urlsplit(r.path).path.split("/")[3]) for r in sent}
    assert {("POST", "batches"), ("PUT", "batches"), ("DELETE", "batches")} <= methods
    assert {entry.why for entry in OUT_OF_SCOPE} == {_out_of_scope(r).why for r in skipped}  # type: ignore[union-attr]


def test_every_scale_request_the_client_sends_is_described_by_batchkits_spec(
    emulator: Emulator,
) -> None:
    """Projects and batches with awkward names, every list filter: each request fits
    docs/scale-v1-openapi.yaml, HTTP Basic with the key as user name included."""
    sent = _run(emulator, _scale_flow(emulator))
    found, skipped = _verdicts(sent)
    assert ([], []) == (found, skipped)
    operations = {SCALE.find_operation_by_path(r.method, r.path[3:]).label for r in sent}
    every = {op.ok().label for op in SCALE.get_all_operations()}
    assert every - NOT_CALLED_BY_THE_CLIENT == operations, every - operations


#: operations of docs/scale-v1-openapi.yaml the client never sends, and why
NOT_CALLED_BY_THE_CLIENT = {
    # editing a task after its creation: batchkit sets a task's metadata, tags and
    # unique_id when it creates it, and never audits (the SDK's edit calls are checked
    # against the emulator by tests/official_sdks)
    "POST /task/{taskId}/setMetadata",
    "POST /task/{taskId}/tags",
    "PUT /task/{taskId}/tags",
    "DELETE /task/{taskId}/tags",
    "POST /task/{taskId}/unique_id",
    "DELETE /task/{taskId}/unique_id",
    "POST /task/{taskId}/audit",
}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _cassette_requests() -> list[Recorded]:
    found = []
    for path in sorted((ROOT / "cassettes").glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            cassette = yaml.safe_load(handle)
        for interaction in cassette["interactions"]:
            request = interaction["request"]
            url = urlsplit(request["uri"])
            body = request.get("body") or b""
            if isinstance(body, str):
                body = body.encode()
            headers = {k: v[0] for k, v in request.get("headers", {}).items()}
            # the recorder strips credentials from cassettes: put a well-formed one back
            if url.path.startswith("/api/"):
                headers["authorization"] = f"Bearer {TOKEN}"
            else:
                headers["authorization"] = _basic(KEY, "")
            if body.startswith(b"<") and body.endswith(b"bytes elided>"):
                body = b"\0"  # an upload too big to keep; its bytes are not what is checked
            found.append(Recorded(request["method"], url.path, url.query, headers, body))
    return found


def test_every_request_in_the_committed_cassettes_is_described_by_its_spec() -> None:
    """The recorded requests (replayed by tests/cassette_tests) fit the specs too."""
    sent = _cassette_requests()
    assert sent
    found, _ = _verdicts(sent)
    assert [] == found


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            Recorded("GET", "/api/v2/batches", "limit=ten&sort=name", {}, b""),
            ["query 'sort' is not a parameter", "query limit = 'ten'", "Authorization"],
        ),
        (
            Recorded("POST", "/api/v2/batches", "", {"Authorization": "Bearer t"}, b""),
            ["requires a body"],
        ),
        (
            Recorded(
                "POST",
                "/api/v2/batches/multipart-upload",
                "",
                {"Authorization": "Bearer t", "Content-Type": "application/json"},
                b'{"batch_id": "7", "filename": "a.pdf", "file_size": 1}',
            ),
            ["body = "],
        ),
        (
            Recorded(
                "PUT",
                "/api/v2/batches/x/files/a.pdf",
                "",
                {"Authorization": "Bearer t", "Content-Type": "text/plain"},
                b"x",
            ),
            ["path batch_id = 'x'", "Content-Type 'text/plain'"],
        ),
        (
            Recorded(
                "POST",
                "/v1/batches/b/prioritize",
                "",
                {
                    "Authorization": _basic("k", "secret"),
                    "Content-Type": "application/json",
                },
                b'{"priority": 1}',
            ),
            ["body = ", "empty password"],
        ),
        (
            Recorded("GET", "/v1/batches", "status=done&detailed=yes&limit=0", {}, b""),
            ["query status", "query detailed", "query limit", "Authorization"],
        ),
    ],
    ids=["unknown-and-mistyped-query", "missing-body", "body-schema", "path-and-media-type",
         "scale-body-and-basic-auth", "scale-query"],
)
def test_the_request_check_reports_what_breaks_the_spec(
    request_: Recorded, expected: list[str]
) -> None:
    """Each seeded fault is reported (the check is not vacuous)."""
    found, _ = _verdicts([request_])
    for fragment in expected:
        assert any(fragment in problem for problem in found), (fragment, found)
