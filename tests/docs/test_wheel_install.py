"""The install line the docs give works: the checkout builds a wheel named as our
distribution, and a fresh venv installs it with the documented command (its dependencies
from the package index, as a user's would come) and runs `batchkit` from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)
    assert 0 == done.returncode, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_documented_install_command_installs_the_built_wheel(tmp_path: Path) -> None:
    quickstart = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    documented = re.search(r"pip install '([^']+)'", quickstart)
    assert documented is not None
    requirement = documented.group(1)
    assert requirement.startswith(f"{DIST}[")

    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, ROOT)
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name.startswith(DIST.replace("-", "_") + "-")

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", "--find-links", wheels, requirement)
    shown = _run(python, "-m", "pip", "show", DIST)
    assert f"Name: {DIST}" in shown
    imported = _run(python, "-c", "import batchkit, batchkit.emulator; print(batchkit.__file__)",
                    cwd=tmp_path)
    assert str(env) in imported  # the wheel's copy, not this checkout
    assert "demo" in _run(env / "bin" / "batchkit", "--help", cwd=tmp_path)
