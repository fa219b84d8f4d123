"""pytest plugin (entry point ``pytest11``): fixtures that give each test a fresh emulator.

- ``batchkit_emulator``: an :class:`~batchkit.emulator.Emulator` served on a free loopback port;
  use ``batchkit_emulator.aihub_api_root`` / ``.scale_api_root``.
- ``batchkit_emulator_inprocess``: an emulator that is not served; use its ``.transport()``
  with ``base_url=batchkit_emulator_inprocess.scale_api_root`` (or ``.aihub_api_root``).

Both are function-scoped and stopped afterwards. The emulator's dependencies are imported
only when a fixture is used, so pytest starts without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from batchkit.emulator._emulator import Emulator


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


@pytest.fixture
def batchkit_emulator() -> Iterator[Emulator]:
    """A fresh emulator served on a free loopback port for this test."""
    with _emulator_class()() as emulator, emulator.serve():
        yield emulator


@pytest.fixture
def batchkit_emulator_inprocess() -> Iterator[Emulator]:
    """A fresh, unserved emulator for this test: reach it through ``.transport()``."""
    with _emulator_class()() as emulator:
        yield emulator
