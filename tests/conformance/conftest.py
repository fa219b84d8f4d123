"""`conformance_big` tests run only when a `-m` expression names them."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the long runs unless asked for (`pytest -m conformance_big`)."""
    if "conformance_big" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("conformance_big") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
