"""Fault kinds the fault soak needs: slow responses, and Retry-After on any status (0 too)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest

from batchkit.emulator import Emulator, Fault, Faults

BEARER = {"Authorization": "Bearer kinds-token"}


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    """One loopback emulator for the module."""
    with Emulator() as emu, emu.serve():
        yield emu


@pytest.fixture
def emu(served: Emulator) -> Iterator[Emulator]:
    """The module's emulator with an empty log and no faults left behind."""
    served.requests.clear()
    yield served
    served.faults = None


def _recording_sleep() -> tuple[list[float], Callable[[float], Awaitable[None]]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


def _batch(client: httpx.Client) -> str:
    return str(client.post("/v2/batches", json={"name": "kinds"}).json()["id"])


def test_a_slow_fault_does_the_work_then_answers_in_full_after_its_delay() -> None:
    """Fault.slow lets the vendor act, waits its delay once, then sends the whole answer."""
    slept, sleep = _recording_sleep()
    with Emulator(sleep=sleep) as emu:
        client = httpx.Client(
            transport=emu.transport(), base_url=emu.aihub_api_root, headers=BEARER
        )
        batch = _batch(client)
        emu.faults = Faults(rules=[Fault.slow(2.5, methods={"PUT"}, times=1)])
        put = client.put(f"/v2/batches/{batch}/files/a.txt", content=b"slow bytes")
        listing = client.get(f"/v2/batches/{batch}/files").json()
        record = emu.requests[1]
    assert 204 == put.status_code
    assert [2.5] == slept
    assert [("a.txt", 10)] == [(n["name"], n["metadata"]["size"]) for n in listing["nodes"]]
    assert ("slow", 204, "PUT") == (record.fault, record.status, record.method)


def test_a_slow_fault_longer_than_the_read_timeout_times_out_after_the_work_was_done(
    emu: Emulator,
) -> None:
    """A client that stops waiting sees ReadTimeout, yet the write it sent took effect."""
    with httpx.Client(base_url=emu.aihub_api_root, headers=BEARER, timeout=10) as client:
        batch = _batch(client)
        emu.faults = Faults(rules=[Fault.slow(1.0, methods={"PUT"}, times=1)])
        with pytest.raises(httpx.ReadTimeout):
            client.put(f"/v2/batches/{batch}/files/late.txt", content=b"late", timeout=0.05)
        names = [n["name"] for n in client.get(f"/v2/batches/{batch}/files").json()["nodes"]]
    assert ["late.txt"] == names


def test_a_slow_body_response_arrives_whole() -> None:
    """A slow answer with a JSON body is the vendor's genuine, complete body."""
    slept, sleep = _recording_sleep()
    with Emulator(sleep=sleep) as emu:
        client = httpx.Client(
            transport=emu.transport(), base_url=emu.aihub_api_root, headers=BEARER
        )
        batch = _batch(client)
        plain = client.get(f"/v2/batches/{batch}").json()
        emu.faults = Faults(rules=[Fault.slow(0.5, methods={"GET"})])
        slow = client.get(f"/v2/batches/{batch}").json()
    assert plain == slow
    assert [0.5] == slept


@pytest.mark.parametrize("retry_after", [0, 2])
def test_a_status_fault_can_carry_retry_after(emu: Emulator, retry_after: int) -> None:
    """Fault.status(503, retry_after=n) sends Retry-After: n, zero included."""
    emu.faults = Faults(rules=[Fault.status(503, retry_after=retry_after)])
    response = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers=BEARER)
    assert (503, str(retry_after)) == (response.status_code, response.headers["retry-after"])


def test_a_status_fault_without_retry_after_sends_no_header(emu: Emulator) -> None:
    """Without retry_after a status fault has no Retry-After header, as before."""
    emu.faults = Faults(rules=[Fault.status(502)])
    response = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers=BEARER)
    assert (502, None) == (response.status_code, response.headers.get("retry-after"))


def test_a_rate_limit_fault_may_ask_for_no_wait(emu: Emulator) -> None:
    """Fault.rate_limit(retry_after=0) answers 429 with Retry-After: 0."""
    emu.faults = Faults(rules=[Fault.rate_limit(retry_after=0)])
    response = httpx.get(f"{emu.aihub_api_root}/v2/batches", headers=BEARER)
    assert (429, "0") == (response.status_code, response.headers["retry-after"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Fault.slow(-1),
        lambda: Fault.slow(float("nan")),
        lambda: Fault.slow(float("inf")),
        lambda: Fault("slow"),
        lambda: Fault.status(503, retry_after=-1),
    ],
)
def test_invalid_slow_delays_and_retry_afters_are_refused(make: Callable[[], Fault]) -> None:
    """A slow fault needs a finite delay >= 0; a Retry-After may not be negative."""
    with pytest.raises(ValueError, match=r"delay|retry_after"):
        make()


def test_slow_faults_are_seeded_like_the_others() -> None:
    """The same seed and requests slow down the same requests."""
    runs = []
    for _ in range(2):
        _, sleep = _recording_sleep()
        with Emulator(
            faults=Faults(seed=5, rules=[Fault.slow(0.1, rate=0.3)]),
            sleep=sleep,
        ) as emu:
            client = httpx.Client(
                transport=emu.transport(), base_url=emu.aihub_api_root, headers=BEARER
            )
            for _ in range(30):
                client.get("/v2/batches")
            runs.append([r.fault for r in emu.requests])
    assert runs[0] == runs[1]
    assert 0 < runs[0].count("slow") < 30
