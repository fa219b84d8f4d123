"""The contract suite's cassette mode: each scenario replayed from a vcrpy cassette.

One cassette per (scenario, vendor), `cassettes/contract/<vendor>-<scenario>.yaml`, recorded
with the sync client against a fresh emulator per scenario (so ids are deterministic)::

    BATCHKIT_RECORD_CASSETTES=1 pytest tests/contract -k cassette

and replayed by both the sync and the async client with nothing listening (record mode
"none", a dead loopback root). The VCR configuration, scrubbing, credentials and dead root
are those of tests/cassette_tests/test_cassettes.py, imported from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from batchkit.emulator import Emulator
from tests.cassette_tests.test_cassettes import (
    AIHUB_TOKEN,
    CASSETTES,
    RECORDING,
    REPLAY_ROOT,
    SCALE_KEY,
    my_vcr,
)
from tests.contract.providers import Connect, Setup

__all__ = ["AIHUB_TOKEN", "CONTRACT_CASSETTES", "NOT_REPLAYED", "RECORDING", "SCALE_KEY",
           "cassette_setup", "replayed"]

CONTRACT_CASSETTES = CASSETTES / "contract"
#: the vendors run from cassettes (their service is the emulator)
VENDORS = ("aihub", "scale")
#: the scenarios left out of cassette mode, and why: the one place exclusions are listed
NOT_REPLAYED: dict[str, str] = {
    "test_other_tenants_batches_are_invisible": (
        "two tenants: the cassette drops Authorization and does not match on it, so replay "
        "would answer 404 whoever asks and prove nothing about tenancy"
    ),
}
#: the multipart scenario's file in cassette mode: 3 parts of 8 KiB, a small cassette
BIG_FILE = 20_000
PART_SIZE = 8 * 1024
_CREDENTIALS = {"aihub": AIHUB_TOKEN, "scale": SCALE_KEY}


def replayed(scenario: str, vendor: str) -> bool:
    """Whether the scenario runs in cassette mode for the vendor."""
    return vendor in VENDORS and scenario not in NOT_REPLAYED


class _DeadService:
    """Stands in for the emulator on replay: API roots where nothing listens."""

    aihub_api_root = REPLAY_ROOT + "/api"
    scale_api_root = REPLAY_ROOT + "/v1"
    requests: tuple[()] = ()


def _no_waits(name: str, connect: Connect) -> Connect:
    """`connect` with poll waits of 0 (replay answers each poll at once) and, for aihub,
    8 KiB multipart parts sent one at a time."""
    extra: dict[str, Any] = {"poll_initial": 0.0, "poll_max": 0.0}
    if name == "aihub":
        extra |= {"multipart_threshold": PART_SIZE, "part_concurrency": 1}
    return lambda vendor, **settings: connect(vendor, **(settings | extra))


class _OneAtATime:
    """The provider with bulk uploads sending one file at a time (unless told otherwise):
    concurrent files race for the same requests (Scale's once-per-batch project lookup, its
    task POSTs to one path), so only a sequential upload replays the recorded sequence."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)

    def upload(self, *args: Any, **options: Any) -> Any:
        return self._provider.upload(*args, **{"concurrency": 1} | options)

    def __enter__(self) -> _OneAtATime:
        self._provider.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._provider.__exit__(*exc)


@contextlib.contextmanager
def cassette_setup(
    name: str, scenario: str, factory: Any, connect: Connect, *, is_async: bool
) -> Iterator[Setup]:
    """A Setup whose every request is recorded to (or replayed from) the scenario's
    cassette; on replay `sent()` counts the answers the cassette has played."""
    if RECORDING and is_async:
        pytest.skip("contract cassettes are recorded once, with the sync client")
    path = CONTRACT_CASSETTES / f"{name}-{scenario.removeprefix('test_')}.yaml"
    if not RECORDING and not path.exists():
        pytest.fail(f"no cassette {path.relative_to(CASSETTES.parent)}: record it (see "
                    "tests/contract/cassettes.py)")
    with contextlib.ExitStack() as stack:
        service: Any = _DeadService()
        if RECORDING:
            # record mode "all" keeps a file's old interactions the new ones don't replace
            # (those with fresh session ids): start each cassette from nothing
            path.unlink(missing_ok=True)
            # jobs done on their first poll and Scale tasks at once: no timing in the
            # recorded sequence, so a re-recording changes only timestamps and random ids
            emulator = Emulator(job_polls=1, job_seconds=None, scale_task_seconds=0,
                                part_size=PART_SIZE)
            service = stack.enter_context(emulator.serve())
        cassette = stack.enter_context(
            my_vcr.use_cassette(str(path.relative_to(CASSETTES)))
        )
        s = factory(service, _CREDENTIALS[name], _no_waits(name, connect))
        s = attrs.evolve(s, provider=_OneAtATime(s.provider), big_file_size=BIG_FILE)
        if not RECORDING:
            s = attrs.evolve(s, sent=lambda: cassette.play_count)
        with s.provider:
            yield s
        if not RECORDING:
            unplayed = [f"{r.method} {r.path}" for i, (r, _) in enumerate(cassette.data)
                        if not cassette.play_counts[i]]
            assert not unplayed, f"{path.name}: recorded but not replayed: {unplayed}"
    if RECORDING and not path.exists():  # a scenario sending nothing still gets its file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("interactions: []\nversion: 1\n", encoding="utf-8")
