"""Helpers shared by the AI Hub emulator tests: plain httpx over a real loopback socket.

Never batchkit's client code: these tests pin the emulator's wire behaviour on their own.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx

from batchkit.emulator import Emulator

#: One TLS context for every client: building one per client costs ~20 ms (unused on http).
_TLS = ssl.create_default_context()


def new_client(emu: Emulator, token: str | None = None) -> httpx.Client:
    """A client of the served emulator's AI Hub API root as a fresh tenant (or ``token``)."""
    token = token or f"tok-{uuid.uuid4().hex}"
    return httpx.Client(
        base_url=emu.aihub_api_root,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        verify=_TLS,
    )


def enc(name: str) -> str:
    """Percent-encode a path parameter with no safe characters, as the AI Hub SDK does."""
    return quote(name, safe="")


def create_batch(client: httpx.Client, name: str = "batch", **extra: str) -> int:
    """Create a batch and return its integer id."""
    response = client.post("/v2/batches", json={"name": name, **extra})
    assert response.status_code == 200, response.text
    batch_id = response.json()["id"]
    assert isinstance(batch_id, int)
    return batch_id


def upload(client: httpx.Client, batch_id: int, name: str, content: bytes = b"data") -> None:
    """Upload one file to a batch, asserting the documented 204."""
    response = client.put(f"/v2/batches/{batch_id}/files/{enc(name)}", content=content)
    assert response.status_code == 204, response.text


def list_names(client: httpx.Client, batch_id: int) -> list[str]:
    """Every file name of a batch, following pages."""
    names: list[str] = []
    params: dict[str, str | int] = {"page_size": 1000}
    while True:
        body = client.get(f"/v2/batches/{batch_id}/files", params=params).json()
        names += [node["name"] for node in body["nodes"]]
        if not body["has_more"]:
            return names
        params["start_token"] = body["next_page_token"]


def poll_states(client: httpx.Client, job_url: str, *, max_polls: int = 10) -> list[str]:
    """Poll a job until COMPLETE; return every state seen, in order."""
    states: list[str] = []
    for _ in range(max_polls):
        response = client.get(job_url)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"state", "message"}
        states.append(response.json()["state"])
        if states[-1] == "COMPLETE":
            return states
    raise AssertionError(f"job {job_url} not complete after {max_polls} polls: {states}")


def batch_folder(client: httpx.Client, batch_id: int) -> str:
    """The Filesystem API path of a batch's folder (no trailing slash)."""
    batch = client.get(f"/v2/batches/{batch_id}").json()
    return (
        f"/{batch['repo_owner']}/{batch['workspace']}/fs/{batch['mount_point']}/"
        f"{batch['path_suffix']}"
    )


def fs_url(path: str, *, sdk_form: bool = True) -> str:
    """Filesystem API URL (relative to the API root) of ``path``.

    ``sdk_form``: the whole path as one ``%2F``-encoded segment, leading slash included (the
    SDK's way); otherwise literal slashes with each segment encoded (the docs' way).
    """
    if sdk_form:
        return "/v2/files/" + quote(path, safe="")
    return "/v2/files/" + "/".join(quote(s, safe="") for s in path.strip("/").split("/"))


def chunks(total: int, *, seed: int = 0, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``total`` deterministic pseudo-random bytes, generated chunk by chunk."""
    block = uuid.UUID(int=seed).bytes * (chunk // 16)
    sent = 0
    counter = 0
    while sent < total:
        size = min(chunk, total - sent)
        piece = counter.to_bytes(8, "big") + block[8:size]
        yield piece[:size]
        sent += size
        counter += 1


#: the emulated clock's start, in Unix seconds (tests on a `FakeClock`)
START = 1_700_000_000.0


class FakeClock:
    """Unix seconds that only move when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def hub_client(emu: Emulator, token: str | None = None) -> Iterator[httpx.Client]:
    """An in-process client of the emulator's AI Hub API root as a fresh tenant."""
    with httpx.Client(
        transport=emu.transport(),
        base_url=emu.aihub_api_root,
        headers={"Authorization": f"Bearer {token or 'tok-' + uuid.uuid4().hex}"},
    ) as client:
        yield client
