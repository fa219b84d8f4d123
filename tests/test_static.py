"""The codebase stays typed and clean: mypy --strict and ruff, run as tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_mypy_strict_passes_on_the_package_and_the_public_type_pins() -> None:
    """`mypy --strict batchkit tests/typing` reports no errors."""
    result = _run("mypy", "--strict", "batchkit", "tests/typing")
    assert 0 == result.returncode, result.stdout + result.stderr


def test_ruff_passes() -> None:
    """`ruff check .` reports nothing."""
    result = _run("ruff", "check", ".")
    assert 0 == result.returncode, result.stdout + result.stderr


def test_package_ships_py_typed() -> None:
    """The package declares itself typed (PEP 561)."""
    assert (ROOT / "batchkit" / "py.typed").is_file()


def test_import_linter_contracts_hold() -> None:
    """The floors of the house (pyproject's [tool.importlinter]): layers, no cycles, no vendor
    in the core, the emulator apart from the client, the CLI on public names only."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "0 broken" in result.stdout
