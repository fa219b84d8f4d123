"""batchkit.testing's vcrpy configuration: any port replays, no credential is recorded, big
bodies are elided, and the options compose with vcrpy's and pytest-recording's."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml

import batchkit
from batchkit.emulator import Emulator
from batchkit.testing import (
    DEFAULT_MAX_BODY,
    MATCH_ON,
    SCRUBBED,
    batchkit_vcr,
    vcr_config,
)

AIHUB_TOKEN = "aihub-token-7c1e93b0d4"
SCALE_KEY = "scale-key-5f28ad61ce"
FILES = {"a.pdf": b"%PDF-1.7 a", "b.pdf": b"%PDF-1.7 b"}


def _interactions(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    interactions: list[dict[str, Any]] = data["interactions"]
    return interactions


def _headers(message: dict[str, Any]) -> dict[str, Any]:
    return {name.lower(): value for name, value in message["headers"].items()}


def _aihub_flow(provider: batchkit.BatchProvider) -> tuple[list[tuple[str, int]], bytes]:
    batch = provider.create_batch("cassette")
    provider.upload(batch, list(FILES.items()))
    listed = sorted((f.name, f.size) for f in provider.list_files(batch))
    return listed, provider.download_file(batch, "a.pdf")


def _scale_flow(provider: Any) -> tuple[str, str]:
    provider.create_project("kittens", type="imageannotation")
    batch = provider.create_batch("kittens 1/#?", project="kittens")
    return batch.name, provider.status(batch).state.value


def test_import_batchkit_imports_no_vcr_and_testing_imports_it_lazily() -> None:
    """vcrpy is a test dependency: neither `import batchkit` nor `import batchkit.testing`
    loads it (only batchkit_vcr() does); vcr_config() needs neither vcrpy nor pytest."""
    code = (
        "import sys, batchkit; assert 'vcr' not in sys.modules and 'batchkit.testing' not in"
        " sys.modules; import batchkit.testing; batchkit.testing.vcr_config();"
        " assert not {'vcr', 'pytest'} & set(sys.modules), 'vcr_config needs neither';"
        " batchkit.testing.batchkit_vcr(); assert 'vcr' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 0 == result.returncode, result.stderr


def test_the_config_is_plain_vcr_options() -> None:
    """Matching ignores scheme, host and port; no record mode or directory is imposed (so
    pytest-recording's --record-mode decides); it survives pytest-recording's deepcopy."""
    config = vcr_config()
    assert ("method", "path", "query") == MATCH_ON == config["match_on"]
    assert not {"record_mode", "cassette_library_dir"} & set(config)
    assert (*MATCH_ON, "body") == vcr_config(match_body=True)["match_on"]
    assert "all" == vcr_config(record_mode="all")["record_mode"]
    copied = copy.deepcopy(config)
    assert copied["before_record_request"] is config["before_record_request"]
    vcr.VCR(**config)  # every key is a vcrpy option


@pytest.mark.parametrize("replay_root", ["another emulator", "the vendor's root", "dead port"])
def test_a_cassette_recorded_on_one_port_replays_on_any_root(
    tmp_path: Path, replay_root: str
) -> None:
    """Recorded against an emulator on one port; replayed against another emulator (which
    sees nothing), the vendors' real API roots, or a port where nothing listens."""
    recorder = batchkit_vcr(tmp_path, record_mode="once")
    with Emulator(job_polls=1).serve() as emu, recorder.use_cassette("flow.yaml"):
        recorded_port = emu.url.rsplit(":", 1)[1]
        aihub = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=AIHUB_TOKEN)
        scale = batchkit.connect("scale", api_root=emu.scale_api_root, api_key=SCALE_KEY)
        with aihub, scale:
            expected = (_aihub_flow(aihub), _scale_flow(scale))
    assert expected[0][0] == [("a.pdf", 10), ("b.pdf", 10)]

    player = batchkit_vcr(tmp_path, record_mode="none")
    with Emulator().serve() as other, player.use_cassette("flow.yaml") as cassette:
        roots = {
            "another emulator": (other.aihub_api_root, other.scale_api_root),
            "the vendor's root": ("https://aihub.instabase.com/api", "https://api.scale.com/v1"),
            "dead port": ("http://127.0.0.1:9/api", "http://127.0.0.1:9/v1"),
        }[replay_root]
        assert recorded_port not in roots[0]
        aihub = batchkit.connect("aihub", api_root=roots[0], token="replay-token")
        scale = batchkit.connect("scale", api_root=roots[1], api_key="replay-key")
        with aihub, scale:
            assert expected == (_aihub_flow(aihub), _scale_flow(scale))
        assert cassette.all_played
        assert 0 == len(other.requests)


class _EchoingService:
    """A careless service that echoes credentials: in an error body, a cookie, a JSON token
    field, a presigned URL and a written-out Basic header."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        if request.url.path == "/api/login":
            return httpx.Response(
                200,
                json={
                    "access_token": "fresh-access-token-93a1",
                    "session": {"password": "hunter2hunter2"},
                    "download": "https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc123def456&x=1",
                    "next_token": "page-2",
                },
                headers={"Set-Cookie": f"session={AIHUB_TOKEN}; HttpOnly"},
            )
        return httpx.Response(
            401,
            json={"message": f"token {auth.removeprefix('Bearer ')} is not valid: {auth}"},
            headers={"WWW-Authenticate": f"Bearer realm={AIHUB_TOKEN}"},
        )


def test_no_credential_is_recorded_in_requests_or_responses(tmp_path: Path) -> None:
    """AI Hub's Bearer token and Scale's Basic key never reach the cassette, not even where a
    response echoes them (a 409 naming the key, a careless 401 body, a cookie, a JSON token
    field, a presigned URL's signature); IB-Context (no secret) and paging tokens stay."""
    basic = base64.b64encode(f"{SCALE_KEY}:".encode()).decode()
    recorder = batchkit_vcr(tmp_path, record_mode="once", secrets=["hunter2hunter2"])
    with Emulator(job_polls=1).serve() as emu, recorder.use_cassette("secrets.yaml"):
        with batchkit.connect("aihub", api_root=emu.aihub_api_root, token=AIHUB_TOKEN) as p:
            _aihub_flow(p)
        with batchkit.connect("scale", api_root=emu.scale_api_root, api_key=SCALE_KEY) as s:
            s.create_project(f"project of {SCALE_KEY}", type="imageannotation")
            with pytest.raises(batchkit.Conflict, match=SCALE_KEY):  # the 409 echoes the key
                s.create_project(f"project of {SCALE_KEY}", type="imageannotation")
        echo = httpx.Client(
            transport=httpx.MockTransport(_EchoingService()),
            headers={"Authorization": f"Bearer {AIHUB_TOKEN}", "IB-Context": "my-org"},
        )
        with echo:
            assert AIHUB_TOKEN in echo.get("https://aihub.example/api/v2/batches").text
            login = echo.post("https://aihub.example/api/login", params={"api_key": SCALE_KEY})
            assert "fresh-access-token-93a1" == login.json()["access_token"]

    path = tmp_path / "secrets.yaml"
    text = path.read_text(encoding="utf-8")
    for secret in (AIHUB_TOKEN, SCALE_KEY, basic, basic.rstrip("="), "fresh-access-token-93a1",
                   "hunter2hunter2", "abc123def456"):
        assert secret not in text, secret
    assert "authorization" not in text.lower()
    assert "set-cookie" not in text.lower()
    interactions = _interactions(path)
    assert all(["my-org"] == _headers(i["request"]).get("ib-context") for i in interactions[-2:])
    conflict = next(i for i in interactions if i["response"]["status"]["code"] == 409)
    assert f"project of {SCRUBBED}" in conflict["response"]["body"]["string"]
    careless = json.loads(interactions[-2]["response"]["body"]["string"])
    assert f"token {SCRUBBED} is not valid: {SCRUBBED}" == careless["message"]
    login = interactions[-1]
    assert f"api_key={SCRUBBED}" in login["request"]["uri"]
    body = json.loads(login["response"]["body"]["string"])
    assert {"access_token": SCRUBBED, "session": {"password": SCRUBBED},
            "download": f"https://bucket.s3.amazonaws.com/f?X-Amz-Signature={SCRUBBED}&x=1",
            "next_token": "page-2"} == body
    content_length = int(_headers(login["response"])["content-length"][0])
    assert len(login["response"]["body"]["string"].encode()) == content_length

    # and it replays: the scrubbed query parameter matches the one sent on replay
    with batchkit_vcr(tmp_path, record_mode="none").use_cassette("secrets.yaml"), \
            httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(599))) as c:
        replayed = c.post("https://elsewhere.example/api/login", params={"api_key": "k"})
    assert SCRUBBED == replayed.json()["access_token"]


def test_secrets_in_a_request_body_are_scrubbed(tmp_path: Path) -> None:
    """An AI Hub run's secret keys and PDF passwords (objects under secret-named keys) go
    whole; the rest of the body stays."""
    settings = {
        "keys": {"secret": {"db": "db-password-1234"}, "custom": {"team": "a"}},
        "runtime_config": {"instabase": {"pdf": {"passwords": {"a.pdf": "pdf-pass-5678"}}}},
    }
    with batchkit_vcr(tmp_path).use_cassette("run.yaml"), httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"id": "r"}))
    ) as client:
        client.post("https://aihub.example/api/v2/apps/runs",
                    json={"app_name": "x", "batch_id": 1, "settings": settings})
    (interaction,) = _interactions(tmp_path / "run.yaml")
    body = json.loads(interaction["request"]["body"])
    assert {"keys": {"secret": SCRUBBED, "custom": {"team": "a"}},
            "runtime_config": {"instabase": {"pdf": {"passwords": SCRUBBED}}}} == body["settings"]
    assert (1, "x") == (body["batch_id"], body["app_name"])


def test_a_big_upload_is_elided_and_still_replays(tmp_path: Path) -> None:
    """A 3 MiB single PUT and a 5 MiB multipart upload (parts of 2, 2 and 1 MiB) leave a
    cassette of a few kilobytes: each big body is `<N bytes elided, sha256:…>`; the replay
    uploads again, from the cassette."""
    mib = 1024 * 1024
    big = bytes(range(256)) * (3 * 4096)
    parted = b"x" * (5 * mib)

    def flow(root: str) -> list[tuple[str, int]]:
        with batchkit.connect("aihub", api_root=root, token=AIHUB_TOKEN, poll_initial=0,
                              multipart_threshold=4 * mib, part_concurrency=1) as p:
            batch = p.create_batch("big")
            p.upload_file(batch, "big.bin", big)
            p.upload_file(batch, "parted.bin", parted, size=len(parted))
            return sorted((f.name, f.size) for f in p.list_files(batch))

    with Emulator(part_size=2 * mib).serve() as emu, \
            batchkit_vcr(tmp_path, record_mode="once").use_cassette("big.yaml"):
        assert [("big.bin", len(big)), ("parted.bin", len(parted))] == flow(emu.aihub_api_root)
    path = tmp_path / "big.yaml"
    assert path.stat().st_size < 64 * 1024
    bodies = [i["request"]["body"] for i in _interactions(path)]
    assert f"<{len(big)} bytes elided" in "\n".join(str(b) for b in bodies)
    assert 1 == sum(f"<{len(big)} bytes elided" in str(b) for b in bodies)
    assert 2 == sum(f"<{2 * mib} bytes elided" in str(b) for b in bodies)
    assert 1 == sum(f"<{mib} bytes elided" in str(b) for b in bodies)
    with batchkit_vcr(tmp_path, record_mode="none").use_cassette("big.yaml") as cassette:
        assert [("big.bin", len(big)), ("parted.bin", len(parted))] == flow("http://127.0.0.1:9/api")
    assert cassette.all_played


def test_max_body_none_keeps_every_body(tmp_path: Path) -> None:
    """`max_body=None` records bodies whole (and the threshold is the documented default)."""
    assert 64 * 1024 == DEFAULT_MAX_BODY
    payload = b"y" * (DEFAULT_MAX_BODY + 1)
    with Emulator().serve() as emu, \
            batchkit_vcr(tmp_path, max_body=None).use_cassette("whole.yaml"), \
            batchkit.connect("aihub", api_root=emu.aihub_api_root, token=AIHUB_TOKEN) as p:
        p.upload_file(p.create_batch("whole"), "y.bin", payload)
    put = next(i for i in _interactions(tmp_path / "whole.yaml")
               if i["request"]["method"] == "PUT")
    assert payload.decode() == put["request"]["body"]


def _post_projects(client: httpx.Client, names: list[str]) -> list[str]:
    return [client.post("/projects", json={"name": n, "type": "imageannotation"}).json()["name"]
            for n in names]


def test_match_body_keeps_requests_to_one_path_apart(tmp_path: Path) -> None:
    """Two POSTs to one path replayed in the other order: matched on their bodies with
    `match_body`, each gets its own answer; without, answers come in recorded order."""
    with Emulator().serve() as emu, \
            batchkit_vcr(tmp_path).use_cassette("two.yaml"), \
            httpx.Client(base_url=emu.scale_api_root, auth=(SCALE_KEY, "")) as client:
        assert ["first", "second"] == _post_projects(client, ["first", "second"])

    def replay(**options: Any) -> list[str]:
        player = batchkit_vcr(tmp_path, record_mode="none", **options)
        with player.use_cassette("two.yaml"), \
                httpx.Client(base_url="http://127.0.0.1:9/v1", auth=("k", "")) as client:
            return _post_projects(client, ["second", "first"])

    assert ["second", "first"] == replay(match_body=True)
    assert ["first", "second"] == replay()


def test_multipart_bodies_record_the_same_bytes_every_time(tmp_path: Path) -> None:
    """The random multipart boundary is normalized: the same upload records the same body
    (so re-recording does not churn, and `match_body` can match it)."""
    recorded = []
    for run in range(2):
        with Emulator().serve() as emu, \
                batchkit_vcr(tmp_path).use_cassette(f"upload-{run}.yaml"), \
                httpx.Client(base_url=emu.scale_api_root, auth=(SCALE_KEY, "")) as client:
            answer = client.post("/files/upload", files={"file": ("a.png", b"\x89PNG")})
            assert 200 == answer.status_code
        (request,) = [i["request"] for i in _interactions(tmp_path / f"upload-{run}.yaml")]
        recorded.append((request["body"], _headers(request)["content-type"]))
    assert recorded[0] == recorded[1]
    assert "batchkit-boundary" in recorded[0][1][0]


def test_concurrent_scale_upload_replays_with_match_body(tmp_path: Path) -> None:
    """Scale's bulk upload sends every file to one path at once; matched on bodies, the
    concurrent replay gives each file its own recorded answers."""
    files = [(f"scan-{i}.png", f"png {i}".encode()) for i in range(8)]

    def flow(root: str) -> list[tuple[str, str]]:
        fields = {"geometries": {"box": {"objects_to_annotate": ["x"]}}}
        with batchkit.connect("scale", api_root=root, api_key=SCALE_KEY,
                              task_type="imageannotation", task_fields=fields) as p:
            p.create_project("scans", type="imageannotation")  # type: ignore[attr-defined]
            batch = p.create_batch("scans-1", project="scans")
            report = p.upload(batch, files, concurrency=8, strict=True)
            assert 8 == len(report.uploaded)
            return sorted((r.item, r.state.value) for r in p.results(batch))

    with Emulator(scale_task_seconds=None).serve() as emu, \
            batchkit_vcr(tmp_path, match_body=True).use_cassette("scale.yaml"):
        expected = flow(emu.scale_api_root)
    assert 8 == len(expected)
    player = batchkit_vcr(tmp_path, record_mode="none", match_body=True)
    for _ in range(3):  # a different interleaving each time, the same answers
        with player.use_cassette("scale.yaml"):
            assert expected == flow("http://127.0.0.1:9/v1")


def test_overrides_compose_with_the_scrubbing(tmp_path: Path) -> None:
    """A user's before_record_request runs first (here dropping a request), filter_headers
    adds headers to drop, and batchkit's scrubbing still has the last word."""
    seen: list[str] = []

    def skip_health(request: Any) -> Any:
        seen.append(request.headers.get("Authorization", ""))
        return None if request.path.endswith("/health") else request

    recorder = batchkit_vcr(tmp_path, before_record_request=skip_health,
                            filter_headers=["X-Trace", ("X-Team", "some-team")])
    with recorder.use_cassette("mine.yaml"), httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        headers={"Authorization": f"Bearer {AIHUB_TOKEN}", "X-Trace": "t-1", "X-Team": "a"},
    ) as client:
        client.get("https://aihub.example/api/health")
        client.get("https://aihub.example/api/v2/batches")
    assert f"Bearer {AIHUB_TOKEN}" in seen  # the user's hook saw the request as sent
    (interaction,) = _interactions(tmp_path / "mine.yaml")
    headers = _headers(interaction["request"])
    assert "/api/v2/batches" in interaction["request"]["uri"]
    assert {"x-team": ["some-team"]} == {k: v for k, v in headers.items() if k.startswith("x-")}
    assert "authorization" not in headers


def test_bad_max_body_is_refused() -> None:
    """A negative threshold is a mistake, said at once."""
    with pytest.raises(ValueError, match="max_body"):
        vcr_config(max_body=-1)
