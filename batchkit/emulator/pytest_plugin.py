"""pytest plugin (entry point ``pytest11``): fixtures that give each test a fresh emulator.

- ``batchkit_emulator``: an `Emulator` served on a free loopback port;
  use ``batchkit_emulator.aihub_api_root`` / ``.scale_api_root``.
- ``batchkit_emulator_inprocess``: an emulator that is not served; use its ``.transport()``
  with ``base_url=batchkit_emulator_inprocess.scale_api_root`` (or ``.aihub_api_root``).
- ``batchkit_emulator_factory``: a function making emulators (``factory(**options)``, served
  unless ``serve=False``), any number per test, each with its own options.

Options for all three come from the ``batchkit_emulator`` marker, the keyword arguments of
`Emulator` (``part_size``, ``latency``, ``faults``, ``job_polls``,
``job_seconds``, ``tokens``, ``scale_task_seconds``, …):

    @pytest.mark.batchkit_emulator(part_size=64 * 1024, faults=[Fault.status(503, times=1)])
    def test_upload(batchkit_emulator): ...

Markers on the module, class and function merge, the closest winning per option; the
factory's own arguments win over them. ``faults`` may also be one `Fault` or a list of
them (as ``Faults(rules=...)``). Every emulator is function-scoped and stopped afterwards.
The emulator's dependencies are imported only when a fixture is used, so pytest starts
without them.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from batchkit.emulator._emulator import Emulator

__all__ = [
    "MARKER",
    "EmulatorFactory",
    "batchkit_emulator",
    "batchkit_emulator_factory",
    "batchkit_emulator_inprocess",
    "emulator_options",
]

#: the marker giving a test's emulators their options
MARKER = "batchkit_emulator"


class EmulatorFactory(Protocol):
    """The type of the ``batchkit_emulator_factory`` fixture."""

    def __call__(self, *, serve: bool = True, **options: Any) -> Emulator:
        """A new emulator with ``options`` (over the marker's), served unless ``serve=False``;
        stopped when the test ends."""
        ...


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` suites may use it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): Emulator options (part_size, latency, faults, job_polls,"
        " job_seconds, tokens, scale_task_seconds, ...) for the test's batchkit emulator"
        " fixtures",
    )


def _emulator_class() -> type[Emulator]:
    try:
        from batchkit.emulator._emulator import Emulator
    except ImportError as exc:
        pytest.fail(
            f"the batchkit emulator fixtures need the emulator extra ({exc}):"
            " pip install 'batchkit-client[emulator]'",
            pytrace=False,
        )
    return Emulator


def _option_names(cls: type[Emulator]) -> list[str]:
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _checked(cls: type[Emulator], options: dict[str, Any], where: str) -> dict[str, Any]:
    """`options`, whose names must be Emulator arguments, with a Fault or a list of them
    given as Faults."""
    known = _option_names(cls)
    unknown = sorted(set(options) - set(known))
    if unknown:
        pytest.fail(
            f"{where}: unknown Emulator option(s) {', '.join(unknown)};"
            f" the options are {', '.join(known)}",
            pytrace=False,
        )
    return _faults_shorthand(options)


def _faults_shorthand(options: dict[str, Any]) -> dict[str, Any]:
    faults = options.get("faults")
    if faults is not None:
        from batchkit.emulator._faults import Fault, Faults

        if isinstance(faults, Fault):
            return options | {"faults": Faults(rules=[faults])}
        if isinstance(faults, list | tuple) and all(isinstance(f, Fault) for f in faults):
            return options | {"faults": Faults(rules=faults)}
    return options


class _Marked(Protocol):
    def iter_markers(self, name: str | None = None) -> Iterator[pytest.Mark]: ...


def emulator_options(node: _Marked) -> dict[str, Any]:
    """The options the ``batchkit_emulator`` markers give a test item (``request.node``):
    module, class, then function markers merged, the closest winning. For fixtures of your
    own: ``Emulator(**emulator_options(request.node))``."""
    options: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keyword arguments only (Emulator options),"
                f" got {mark.args!r}",
                pytrace=False,
            )
        options |= mark.kwargs
    return _faults_shorthand(options)


def _marked(request: pytest.FixtureRequest) -> tuple[type[Emulator], dict[str, Any]]:
    cls = _emulator_class()
    return cls, _checked(cls, emulator_options(request.node), f"@pytest.mark.{MARKER}")


@pytest.fixture
def batchkit_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh emulator served on a free loopback port for this test (options: the
    ``batchkit_emulator`` marker)."""
    cls, options = _marked(request)
    with cls(**options) as emulator, emulator.serve():
        yield emulator


@pytest.fixture
def batchkit_emulator_inprocess(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A fresh, unserved emulator for this test: reach it through ``.transport()`` (options:
    the ``batchkit_emulator`` marker)."""
    cls, options = _marked(request)
    with cls(**options) as emulator:
        yield emulator


@pytest.fixture
def batchkit_emulator_factory(request: pytest.FixtureRequest) -> Iterator[EmulatorFactory]:
    """Make emulators in the test: ``batchkit_emulator_factory(**options)`` returns a new
    one, served on a free loopback port unless ``serve=False``, with the ``batchkit_emulator``
    marker's options under ``options``. All are stopped when the test ends."""
    cls, defaults = _marked(request)
    with contextlib.ExitStack() as stack:

        def factory(*, serve: bool = True, **options: Any) -> Emulator:
            checked = _checked(cls, options, "batchkit_emulator_factory")
            emulator = stack.enter_context(cls(**(defaults | checked)))
            if serve:
                stack.enter_context(emulator.serve())
            return emulator

        yield factory
