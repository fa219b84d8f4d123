"""The `batchkit_emulator` marker and the `batchkit_emulator_factory` fixture configure the
emulator per test; the fixtures without a marker are as they were."""

from __future__ import annotations

import pytest

import batchkit
from batchkit.emulator import Emulator, Fault, Faults, Latency
from batchkit.testing import EmulatorFactory

pytest_plugins = ["pytester"]

KIB = 1024
slept: list[float] = []


async def fake_sleep(seconds: float) -> None:
    """The emulator's latency, recorded instead of waited."""
    slept.append(seconds)


def _parts(emu: Emulator) -> int:
    return sum(1 for r in emu.requests if r.method == "PUT" and "/parts/" in r.path)


def _upload(emu: Emulator, size: int, **settings: object) -> None:
    with batchkit.connect("aihub", api_root=emu.aihub_api_root, token="options-token",
                          multipart_threshold=16 * KIB, part_concurrency=1, **settings) as p:
        p.upload_file(p.create_batch("parts"), "big.bin", b"z" * size)


@pytest.mark.batchkit_emulator(part_size=64 * KIB)
def test_part_size_from_the_marker_sets_the_part_count(batchkit_emulator: Emulator) -> None:
    """200 KiB in parts of 64 KiB: four parts."""
    _upload(batchkit_emulator, 200 * KIB)
    assert 4 == _parts(batchkit_emulator)


@pytest.mark.batchkit_emulator(part_size=128 * KIB)
def test_another_part_size_another_count(batchkit_emulator_inprocess: Emulator) -> None:
    """The same file in parts of 128 KiB (in-process fixture): two parts."""
    emu = batchkit_emulator_inprocess
    _upload(emu, 200 * KIB, transport=emu.transport())
    assert 2 == _parts(emu)


@pytest.mark.batchkit_emulator(faults=[Fault.status(503, methods="POST", paths="/api/v2/batches")])
def test_faults_from_the_marker_fail_requests(batchkit_emulator: Emulator) -> None:
    """A list of Fault is the rules: every batch creation answers 503."""
    assert Faults(rules=[Fault.status(503, methods="POST", paths="/api/v2/batches")]) == (
        batchkit_emulator.faults
    )
    with batchkit.connect("aihub", api_root=batchkit_emulator.aihub_api_root,
                          token="options-token") as p, pytest.raises(batchkit.ServerError):
        p.create_batch("never")
    assert {"503"} == {r.fault for r in batchkit_emulator.requests}


@pytest.mark.batchkit_emulator(faults=Fault.status(503, times=1))
def test_one_fault_is_retried_through(batchkit_emulator_inprocess: Emulator) -> None:
    """A single Fault is a rule too; a 503 that fires once is retried by the client."""
    emu = batchkit_emulator_inprocess
    with batchkit.connect("aihub", api_root=emu.aihub_api_root, token="options-token",
                          transport=emu.transport()) as p:
        p.create_batch("after one 503")
    faults = [r.fault for r in emu.requests]
    assert ["503", None] == faults[:2]
    assert {None} == set(faults[1:])


@pytest.mark.batchkit_emulator(latency=0.25, sleep=fake_sleep)
def test_latency_from_the_marker(batchkit_emulator_inprocess: Emulator) -> None:
    """The configured latency (not a timing): 0.25 s per request, slept by the fake."""
    emu = batchkit_emulator_inprocess
    assert Latency(fixed=0.25) == emu.latency
    slept.clear()
    with batchkit.connect("aihub", api_root=emu.aihub_api_root, token="options-token",
                          transport=emu.transport()) as p:
        p.create_batch("slow")
    assert {0.25} == set(slept)
    assert slept == [r.latency for r in emu.requests]


@pytest.mark.batchkit_emulator(tokens=["only-this-token"], job_polls=1, job_seconds=None,
                               scale_task_seconds=None)
def test_tokens_and_timing_from_the_marker(batchkit_emulator: Emulator) -> None:
    """Other credentials are refused; job and task timing are as marked."""
    with batchkit.connect("aihub", api_root=batchkit_emulator.aihub_api_root,
                          token="another-token") as p, pytest.raises(batchkit.AuthError):
        p.create_batch("refused")
    assert (1, None) == (batchkit_emulator.aihub.job_polls, batchkit_emulator.aihub.job_seconds)
    assert batchkit_emulator.scale.task_seconds is None


def test_without_a_marker_the_fixtures_are_the_defaults(
    batchkit_emulator: Emulator, batchkit_emulator_inprocess: Emulator
) -> None:
    """No faults, no latency, default timing; one served, one not."""
    for emu in (batchkit_emulator, batchkit_emulator_inprocess):
        assert (Faults(), None) == (emu.faults, emu.latency)
        assert (2, 0.2) == (emu.aihub.job_polls, emu.aihub.job_seconds)
    assert (True, False) == (batchkit_emulator.served, batchkit_emulator_inprocess.served)


@pytest.mark.batchkit_emulator(part_size=64 * KIB, latency=0.5, sleep=fake_sleep)
def test_the_factory_makes_emulators_over_the_marker(
    batchkit_emulator_factory: EmulatorFactory,
) -> None:
    """Each call a new emulator: the marker's options, the call's own on top; served unless
    serve=False."""
    marked = batchkit_emulator_factory()
    other = batchkit_emulator_factory(serve=False, part_size=128 * KIB, latency=None)
    assert (True, False) == (marked.served, other.served)
    assert Emulator.IN_PROCESS_URL == other.url
    assert (Latency(fixed=0.5), None) == (marked.latency, other.latency)
    _upload(marked, 200 * KIB, poll_initial=0)
    _upload(other, 200 * KIB, transport=other.transport())
    assert (4, 2) == (_parts(marked), _parts(other))
    assert 0 == len(batchkit_emulator_factory(faults=Fault.reset()).requests)


def test_the_factory_refuses_an_unknown_option(
    batchkit_emulator_factory: EmulatorFactory,
) -> None:
    """A typo is named, with the options there are."""
    with pytest.raises(pytest.fail.Exception, match=r"part_sise.*the options are.*part_size"):
        batchkit_emulator_factory(part_sise=1)


def test_the_factory_stops_its_emulators(pytester: pytest.Pytester) -> None:
    """Every emulator the factory made is stopped (served ones closed) when the test ends."""
    pytester.makepyfile(
        """
        made = []

        def test_make(batchkit_emulator_factory):
            made.append(batchkit_emulator_factory())
            made.append(batchkit_emulator_factory(serve=False))
            assert made[0].served

        def test_stopped():
            assert not made[0].served
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_marker_is_registered_and_merges_module_class_and_function(
    pytester: pytest.Pytester,
) -> None:
    """Under --strict-markers; the closest marker wins per option, the others still apply."""
    pytester.makepyfile(
        """
        import pytest
        from batchkit.emulator import Latency

        pytestmark = pytest.mark.batchkit_emulator(job_polls=5, latency=0.1)

        @pytest.mark.batchkit_emulator(job_polls=7)
        class TestMerged:
            @pytest.mark.batchkit_emulator(part_size=1024)
            def test_options(self, batchkit_emulator_inprocess):
                emu = batchkit_emulator_inprocess
                assert (7, 1024) == (emu.aihub.job_polls, emu.aihub.part_size)
                assert Latency(fixed=0.1) == emu.latency

        def test_module_only(batchkit_emulator):
            assert 5 == batchkit_emulator.aihub.job_polls
        """
    )
    result = pytester.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    markers = pytester.runpytest_inprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.batchkit_emulator(**options)*"])


def test_bad_markers_are_reported(pytester: pytest.Pytester) -> None:
    """An unknown option or a positional argument is a setup error naming the problem."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.batchkit_emulator(part_sise=1024)
        def test_typo(batchkit_emulator_inprocess):
            pass

        @pytest.mark.batchkit_emulator(1024)
        def test_positional(batchkit_emulator):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        "*unknown Emulator option(s) part_sise; the options are*part_size*",
        "*takes keyword arguments only*",
    ])
