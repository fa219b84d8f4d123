"""What the Scale emulator tests share: a fake clock, the emulator on it, a client of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from batchkit.emulator import Emulator

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class Clock:
    """A fake clock: Unix seconds that move only when told."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def iso(seconds_after_t0: float) -> str:
    """The wire's timestamp (ISO 8601, milliseconds, `Z`) `seconds_after_t0` after T0."""
    moment = dt.datetime.fromtimestamp(T0 + seconds_after_t0, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> Iterator[Emulator]:
    with Emulator(clock=clock) as emulator:
        yield emulator


def client(emulator: Emulator, key: str = "k") -> httpx.Client:
    """An httpx client of the emulator's Scale API, in process, with `key` as the API key."""
    return httpx.Client(
        transport=emulator.transport(), base_url=emulator.scale_api_root, auth=(key, "")
    )
