"""CLI test isolation: no config file, profile or credentials leak in from the machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_ISOLATED_PREFIXES = ("BATCHKIT_", "AIHUB_", "SCALE_")


@pytest.fixture(autouse=True)
def _isolated_cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each CLI test runs in its own directory with no batchkit settings in the environment."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.chdir(tmp_path)
