"""The emulator core: dispatch, request log, faults, latency, transports, serving, CLI, fixtures."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import anyio
import httpx
import pytest

from batchkit.emulator import Emulator, Fault, Faults, Latency, RequestRecord

BEARER = {"Authorization": "Bearer token-1"}


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    """One loopback emulator for the module."""
    with Emulator() as emu, emu.serve():
        yield emu


@pytest.fixture
def emu(served: Emulator) -> Iterator[Emulator]:
    """The module's emulator with an empty log, and no faults or latency left behind."""
    served.requests.clear()
    yield served
    served.faults = None
    served.latency = None


@pytest.fixture
def scale(emu: Emulator) -> Iterator[httpx.Client]:
    """A plain httpx client on the served Scale API, key ``core-key``, with project ``p``."""
    with httpx.Client(base_url=emu.scale_api_root, auth=("core-key", ""), timeout=10) as client:
        client.post("/projects", json={"name": "p", "type": "t"})
        emu.requests.clear()
        yield client


def in_process(emu: Emulator, api_key: str = "k") -> httpx.Client:
    """A client on ``emu``'s in-process transport, with project ``p`` created."""
    emu.scale.create_project(api_key, name="p", type="t")
    return httpx.Client(transport=emu.transport(), base_url=emu.scale_api_root, auth=(api_key, ""))


# -- dispatch ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v2/batches", "/apix", "/v1", "/api", "/_emulator/x"])
def test_paths_outside_both_apis_are_a_json_404(emu: Emulator, path: str):
    """Anything but /api/, /v1/ and the control prefixes is {"message": "no such endpoint"}."""
    response = httpx.get(emu.url + path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "no such endpoint"}


def test_api_paths_reach_ai_hub_and_v1_paths_reach_scale(emu: Emulator):
    """/api/… is answered by AI Hub (Bearer auth), /v1/… by Scale (Basic auth)."""
    aihub = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers=BEARER)
    scale = httpx.get(f"{emu.scale_api_root}/batches", auth=("key-1", ""))
    assert aihub.status_code == 200
    assert "batches" in aihub.json()
    assert scale.json()["docs"] == []
    assert [(r.vendor, r.tenant) for r in emu.requests] == [
        ("aihub", "token-1"),
        ("scale", "key-1"),
    ]


def test_served_emulator_exposes_its_url_and_api_roots(emu: Emulator):
    """While served, url and both API roots point at the loopback port."""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
    assert emu.aihub_api_root == emu.url + "/api"
    assert emu.scale_api_root == emu.url + "/v1"
    assert emu.served


def test_an_unserved_emulator_uses_the_in_process_url():
    """Before serve(), the roots use IN_PROCESS_URL, which works with transport()."""
    with Emulator() as emu:
        assert emu.url == Emulator.IN_PROCESS_URL
        assert emu.scale_api_root == "http://batchkit-emulator.localhost/v1"
        assert not emu.served


def test_serving_the_same_emulator_twice_at_once_is_an_error(emu: Emulator):
    """A second serve() while the first runs raises instead of starting another server."""
    with pytest.raises(RuntimeError, match="already served"), emu.serve():
        pass


def test_serve_stops_the_server_on_exit():
    """After the serve() block the port refuses connections and the roots fall back."""
    with Emulator() as emu:
        with emu.serve():
            url = emu.url
            assert httpx.get(url + "/").status_code == 404
        assert emu.url == Emulator.IN_PROCESS_URL
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/")


# -- request log -------------------------------------------------------------------------


def test_request_log_records_each_request_as_received(emu: Emulator, scale: httpx.Client):
    """Records keep method, raw path (%2F intact), query, status, tenant and no fault."""
    scale.post("/batches", json={"project": "p", "name": "a/b"})
    scale.get("/batches/a%2Fb")
    scale.get("/batches", params={"project": "my p", "limit": 5})
    httpx.get(f"{emu.scale_api_root}/batches")
    assert list(emu.requests) == [
        RequestRecord("POST", "/v1/batches", "", 200, "core-key", vendor="scale"),
        RequestRecord("GET", "/v1/batches/a%2Fb", "", 200, "core-key", vendor="scale"),
        RequestRecord(
            "GET", "/v1/batches", "project=my+p&limit=5", 200, "core-key", vendor="scale"
        ),
        RequestRecord("GET", "/v1/batches", "", 401, None, vendor="scale"),
    ]


def test_request_log_clear_forgets_every_record(emu: Emulator, scale: httpx.Client):
    """requests.clear() empties the log; later requests are logged again."""
    scale.get("/batches")
    emu.requests.clear()
    assert len(emu.requests) == 0
    scale.get("/batches")
    assert [r.path for r in emu.requests] == ["/v1/batches"]


def test_request_log_is_complete_when_the_client_has_the_response(
    emu: Emulator, scale: httpx.Client
):
    """A record is in the log before its response reaches the client (no race in tests)."""
    for i in range(20):
        scale.get("/batches")
        assert len(emu.requests) == i + 1


# -- faults ------------------------------------------------------------------------------


def test_a_status_fault_answers_vendor_shaped_json_without_touching_state(
    emu: Emulator, scale: httpx.Client
):
    """An injected 503 is {"error"} on /v1 and {"message"} on /api, and nothing is created."""
    emu.faults = Faults(rules=[Fault.status(503)])
    scale_reply = scale.post("/batches", json={"project": "p", "name": "never"})
    aihub_reply = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers=BEARER)
    emu.faults = None
    assert scale_reply.status_code == aihub_reply.status_code == 503
    assert set(scale_reply.json()) == {"error"}
    assert set(aihub_reply.json()) == {"message"}
    assert scale.get("/batches/never").status_code == 404
    assert [r.fault for r in emu.requests] == ["503", "503", None]


def test_a_rate_limit_fault_answers_429_with_retry_after(emu: Emulator, scale: httpx.Client):
    """Fault.rate_limit answers 429 with the configured Retry-After seconds."""
    emu.faults = Faults(rules=[Fault.rate_limit(retry_after=7)])
    response = scale.get("/batches")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert emu.requests[-1].fault == "429"


def test_a_reset_connection_is_a_transport_error_and_changes_nothing(
    emu: Emulator, scale: httpx.Client
):
    """A reset closes the connection before the vendor sees the request: nothing happens."""
    emu.faults = Faults(rules=[Fault.reset(times=1)])
    with pytest.raises(httpx.RemoteProtocolError):
        scale.post("/batches", json={"project": "p", "name": "reset"})
    assert scale.get("/batches/reset").status_code == 404
    assert [(r.fault, r.status, r.tenant) for r in emu.requests] == [
        ("reset", 0, None),
        (None, 404, "core-key"),
    ]


def test_a_dropped_response_delivers_genuine_leading_bytes_then_a_transport_error(
    emu: Emulator, scale: httpx.Client
):
    """A drop lets the vendor act and sends half its real body, then closes the connection."""
    for i in range(5):
        emu.scale.create_batch("core-key", project="p", name=f"listed-{i}")
    whole = scale.get("/batches").content
    emu.faults = Faults(rules=[Fault.drop(times=1)])
    received: list[bytes] = []
    with scale.stream("GET", "/batches") as response:
        headers = (response.status_code, response.headers["content-length"])
        with pytest.raises(httpx.RemoteProtocolError):
            received.extend(response.iter_raw())
    assert headers == (200, str(len(whole)))
    assert b"".join(received) == whole[: len(whole) // 2]
    assert [r.fault for r in emu.requests] == [None, "drop"]


def test_a_dropped_create_did_the_work(emu: Emulator, scale: httpx.Client):
    """A POST whose response is dropped mid-body still created the batch."""
    emu.faults = Faults(rules=[Fault.drop(methods={"POST"}, times=1)])
    with pytest.raises(httpx.RemoteProtocolError):
        scale.post("/batches", json={"project": "p", "name": "dropped"})
    assert scale.get("/batches/dropped").json()["name"] == "dropped"
    assert (emu.requests[0].fault, emu.requests[0].status) == ("drop", 200)


def test_a_lost_response_did_the_work_but_the_client_sees_a_transport_error(
    emu: Emulator, scale: httpx.Client
):
    """lost_response creates the batch, then closes the connection; a retry meets 409."""
    emu.faults = Faults(
        rules=[Fault.lost_response(methods={"POST"}, paths=["/v1/batches"], times=1)]
    )
    with pytest.raises(httpx.RemoteProtocolError):
        scale.post("/batches", json={"project": "p", "name": "lost"})
    assert scale.post("/batches", json={"project": "p", "name": "lost"}).status_code == 409
    assert scale.get("/batches/lost").json()["status"] == "in_progress"
    first = emu.requests[0]
    assert (first.fault, first.status, first.tenant) == ("lost_response", 200, "core-key")


@pytest.mark.parametrize("method", ["HEAD", "PUT"])
def test_a_dropped_bodiless_response_closes_before_the_status_line(emu: Emulator, method: str):
    """A HEAD or 204 answer has no body to cut short, so a drop closes it unanswered."""
    batch_id = httpx.post(
        f"{emu.aihub_api_root}/v2/batches", json={"name": "drops"}, headers=BEARER
    ).json()["id"]
    url = f"{emu.aihub_api_root}/v2/batches/{batch_id}/files/a.txt"
    httpx.put(url, content=b"hello", headers=BEARER)
    emu.requests.clear()
    emu.faults = Faults(rules=[Fault.drop(methods={method})])
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        httpx.request(method, url, content=b"hello" if method == "PUT" else None, headers=BEARER)
    assert emu.requests[0].fault == "drop"


def test_faults_over_the_transport_look_like_faults_over_a_socket():
    """Through transport(), drop and lost_response raise httpx.TransportError subclasses."""
    rules = [Fault.reset(times=1), Fault.drop(times=1), Fault.lost_response(times=1)]
    with Emulator(faults=Faults(rules=rules)) as emu:
        client = in_process(emu)
        for name in ("reset", "dropped", "lost"):
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/batches", json={"project": "p", "name": name})
        names = [doc["name"] for doc in client.get("/batches").json()["docs"]]
        assert names == ["lost", "dropped"]


def _fault_log(seed: int) -> list[str | None]:
    rules = [
        Fault.status(503, rate=0.2),
        Fault.rate_limit(rate=0.1),
        Fault.drop(rate=0.05),
        Fault.lost_response(rate=0.05),
        Fault.reset(rate=0.1),
        Fault.status(500, rate=0.3, methods={"POST"}),
    ]
    with Emulator(faults=Faults(seed=seed, rules=rules)) as emu:
        client = in_process(emu)
        for i in range(120):
            try:
                if i % 3:
                    client.get("/batches")
                else:
                    client.post("/batches", json={"project": "p", "name": f"b{i}"})
            except httpx.TransportError:
                pass
        return [r.fault for r in emu.requests]


def test_the_same_seed_and_requests_give_the_same_faults():
    """Two emulators with one seed and one request sequence inject identical faults."""
    first, second = _fault_log(7), _fault_log(7)
    assert first == second
    assert {"503", "429", "reset", "drop", "lost_response", "500", None} <= set(first)


def test_different_seeds_give_different_faults():
    """Another seed gives another fault sequence."""
    assert _fault_log(7) != _fault_log(8)


def test_fault_rules_apply_only_to_their_methods_and_paths():
    """methods and path globs / regexes scope a rule; other requests pass untouched."""
    rules = [
        Fault.status(502, methods={"post"}, paths=["/v1/batches"]),
        Fault.status(504, paths=[re.compile(r"/v1/batches/[^/]+/finalize")]),
    ]
    with Emulator(faults=Faults(rules=rules)) as emu:
        client = in_process(emu)
        emu.scale.create_batch("k", project="p", name="a b")
        assert client.post("/batches", json={}).status_code == 502
        assert client.post("/projects", json={"name": "q", "type": "t"}).status_code == 200
        assert client.get("/batches").status_code == 200
        assert client.post("/batches/a%20b/finalize").status_code == 504
        assert client.get("/batches/a%20b/status").status_code == 200


def test_times_caps_how_often_a_rule_fires():
    """A rule with times=2 fires on the first two matching requests, then never again."""
    with Emulator(faults=Faults(rules=[Fault.status(500, times=2)])) as emu:
        client = in_process(emu)
        statuses = [client.get("/batches").status_code for _ in range(4)]
        assert statuses == [500, 500, 200, 200]


def test_assigning_faults_restarts_the_sequence_and_counters():
    """Setting emu.faults again replays the same decisions from the seed."""
    faults = Faults(seed=3, rules=[Fault.status(503, rate=0.5), Fault.status(500, times=1)])
    with Emulator(faults=faults) as emu:
        client = in_process(emu)
        first = [client.get("/batches").status_code for _ in range(10)]
        emu.faults = faults
        second = [client.get("/batches").status_code for _ in range(10)]
        assert first == second


def test_control_endpoints_are_never_faulted():
    """/_emulator/ control requests bypass fault rules (they are test scaffolding)."""
    with Emulator(faults=Faults(rules=[Fault.status(503)])) as emu:
        client = in_process(emu)
        emu.scale.create_batch("k", project="p", name="b")
        added = client.post("http://batchkit-emulator/_emulator/scale/batches/b/tasks")
        assert added.status_code == 200
        assert emu.requests[-1].fault is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.status(200),
        lambda: Fault.status(503, rate=1.5),
        lambda: Fault.drop(times=0),
        lambda: Fault.rate_limit(retry_after=-1),
        lambda: Latency(fixed=-1),
    ],
)
def test_invalid_fault_and_latency_settings_are_refused(make):
    """Statuses outside 4xx/5xx, rates outside [0, 1] and negative values raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        make()


def test_a_vendor_crash_becomes_a_json_500(
    emu: Emulator, scale: httpx.Client, monkeypatch: pytest.MonkeyPatch
):
    """An exception inside a vendor app is answered with a JSON 500 naming it."""

    def boom(*args: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(emu.scale, "get_batch", boom)
    response = scale.get("/batches/x")
    assert response.status_code == 500
    assert "kaboom" in response.json()["error"]
    assert emu.requests[-1].status == 500


# -- latency -----------------------------------------------------------------------------


def _sleeps() -> tuple[list[float], object]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


def test_latency_adds_fixed_plus_seeded_jitter_per_request():
    """Each vendor request sleeps fixed + jitter; the same seed gives the same delays."""
    runs = []
    for _ in range(2):
        slept, sleep = _sleeps()
        with Emulator(latency=Latency(fixed=0.5, jitter=0.25, seed=1), sleep=sleep) as emu:
            client = in_process(emu)
            for _ in range(5):
                client.get("/batches")
            assert slept == [r.latency for r in emu.requests]
        assert all(0.5 <= s <= 0.75 for s in slept)
        runs.append(slept)
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 5


def test_latency_can_be_scoped_and_switched_at_runtime():
    """A float is a fixed latency; methods/paths scope it; None switches it off."""
    slept, sleep = _sleeps()
    with Emulator(sleep=sleep) as emu:
        client = in_process(emu)
        client.get("/batches")
        emu.latency = 0.2
        client.get("/batches")
        emu.latency = Latency(fixed=1.0, methods={"POST"})
        client.get("/batches")
        client.post("/projects", json={"name": "q", "type": "t"})
        emu.latency = None
        client.get("/batches")
        assert [r.latency for r in emu.requests] == [0.0, 0.2, 0.0, 1.0, 0.0]
        assert slept == [0.2, 1.0]


def test_the_transport_honours_the_clients_read_timeout():
    """A response slower than the client's read timeout raises httpx.ReadTimeout."""

    async def forever(seconds: float) -> None:
        await anyio.sleep_forever()

    with Emulator(latency=1.0, sleep=forever) as emu:
        client = in_process(emu)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/batches", timeout=0.05)


# -- transports --------------------------------------------------------------------------


def test_the_transport_streams_request_bodies_into_the_app():
    """A generator request body reaches the vendor app chunk by chunk, in order."""
    with Emulator() as emu:
        client = in_process(emu)
        chunks = iter([b'{"project": "p", ', b'"name": "stre', b'amed"}'])
        response = client.post("/batches", content=chunks)
        assert response.json()["name"] == "streamed"


def test_the_transport_streams_response_bodies_out():
    """A streamed response can be read incrementally and closed early."""
    with Emulator() as emu:
        client = in_process(emu)
        for i in range(30):
            emu.scale.create_batch("k", project="p", name=f"batch-{i}")
        with client.stream("GET", "/batches") as response:
            first = next(response.iter_bytes())
        assert first.startswith(b'{"docs":')
        assert client.get("/batches").json()["totalDocs"] == 30


def test_the_async_transport_serves_and_maps_lost_responses():
    """async_transport() answers requests and turns a lost response into a transport error."""

    async def main() -> None:
        with Emulator(faults=Faults(rules=[Fault.lost_response(methods={"POST"})])) as emu:
            emu.scale.create_project("k", name="p", type="t")
            async with httpx.AsyncClient(
                transport=emu.async_transport(), base_url=emu.scale_api_root, auth=("k", "")
            ) as client:
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.post("/batches", json={"project": "p", "name": "a"})
                response = await client.get("/batches/a")
                assert response.json()["name"] == "a"

    anyio.run(main)


# -- fixtures and CLI --------------------------------------------------------------------


def test_the_batchkit_emulator_fixture_is_served(batchkit_emulator: Emulator):
    """The pytest plugin's batchkit_emulator fixture is a fresh emulator on a loopback port."""
    response = httpx.get(f"{batchkit_emulator.scale_api_root}/batches", auth=("k", ""))
    assert response.status_code == 200
    assert batchkit_emulator.served
    assert len(batchkit_emulator.requests) == 1


def test_the_in_process_fixture_works_through_the_transport(
    batchkit_emulator_inprocess: Emulator,
):
    """batchkit_emulator_inprocess is an unserved emulator reached with transport()."""
    emu = batchkit_emulator_inprocess
    with httpx.Client(transport=emu.transport(), base_url=emu.aihub_api_root) as client:
        assert client.get("/v2/batches", headers=BEARER).status_code == 200
    assert not emu.served


def test_python_m_batchkit_emulator_prints_both_roots_and_stops_on_ctrl_c():
    """The command prints both API roots, serves them, and exits 0 on SIGINT."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchkit.emulator", "--port", "0", "--tokens", "a,b"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        aihub_line, scale_line = proc.stdout.readline(), proc.stdout.readline()
        assert re.fullmatch(r"AI Hub API root: http://127\.0\.0\.1:\d+/api\n", aihub_line)
        assert re.fullmatch(r"Scale API root: http://127\.0\.0\.1:\d+/v1\n", scale_line)
        scale_root = scale_line.split(": ", 1)[1].strip()
        assert httpx.get(scale_root + "/batches", auth=("a", "")).status_code == 200
        assert httpx.get(scale_root + "/batches", auth=("c", "")).status_code == 401
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_plugin_imports_without_the_emulator_extra_and_fixtures_say_what_to_install():
    """Without starlette and uvicorn the plugin still imports; a fixture names the extra."""
    code = (
        "import sys\n"
        "sys.modules['starlette'] = sys.modules['uvicorn'] = None\n"
        "import batchkit.emulator.pytest_plugin as plugin\n"
        "try:\n"
        "    plugin._emulator_class()\n"
        "except BaseException as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert "pip install 'batchkit-client[emulator]'" in result.stdout


def test_a_bodiless_response_is_logged_before_the_client_has_it():
    """A 204 is complete at its head: the log must hold it when the client returns (race)."""
    with Emulator().serve() as emu, httpx.Client(
        base_url=emu.aihub_api_root, headers={"Authorization": "Bearer race"}
    ) as client:
        batch = client.post("/v2/batches", json={"name": "race"}).json()["id"]
        for i in range(200):
            response = client.put(f"/v2/batches/{batch}/files/f{i}.txt", content=b"x")
            assert 204 == response.status_code
            assert (204, f"/api/v2/batches/{batch}/files/f{i}.txt") == (
                emu.requests[-1].status,
                emu.requests[-1].path,
            )


def test_the_in_process_transport_works_when_called_from_a_trio_program() -> None:
    """Regression: a sync client on the in-process transport, called on trio's thread, got a
    500 for file reads (the caller's context, naming trio, leaked into the emulator's
    asyncio task); the exchange runs in a fresh context now."""
    import anyio
    import httpx

    emu = Emulator()

    async def main() -> bytes:
        with httpx.Client(transport=emu.transport(), base_url=emu.aihub_api_root) as http:
            auth = {"Authorization": "Bearer trio"}
            made = http.post("/v2/batches", json={"name": "t"}, headers=auth)
            batch = made.json()["id"]
            http.put(f"/v2/batches/{batch}/files/a.txt", content=b"hi", headers=auth)
            path = http.get(f"/v2/batches/{batch}", headers=auth).json()
            folder = f"{path['repo_owner']}/{path['workspace']}/fs/{path['mount_point']}"
            read = http.get(f"/v2/files/{folder}/{path['path_suffix'].strip('/')}/a.txt",
                            params={"expect-node-type": "file"}, headers=auth)
            assert 200 == read.status_code, read.text
            return read.content

    assert b"hi" == anyio.run(main, backend="trio")
