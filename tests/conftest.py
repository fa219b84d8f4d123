"""Shared fixtures: no real waiting in retries, one loopback emulator per session."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import stamina

from batchkit.emulator import Emulator


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Retries still happen (up to each provider's own attempt count) but never sleep."""
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture(scope="session")
def served_emulator() -> Iterator[Emulator]:
    """One emulator on a loopback port for the whole session; tests isolate by tenant."""
    with Emulator(job_polls=1).serve() as emu:
        yield emu


_tenants = itertools.count(1)


@pytest.fixture
def tenant() -> str:
    """A credential no other test uses: its own emulator tenant."""
    return f"tenant-{next(_tenants)}"
