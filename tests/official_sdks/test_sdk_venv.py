"""The SDK venv holds exactly the pinned SDKs, and batchkit neither needs nor reaches them."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.official_sdks._venv import SDK_PINS, SdkVenv

pytestmark = pytest.mark.official_sdks

ROOT = Path(__file__).resolve().parents[2]


def test_the_sdk_venv_has_the_pinned_sdks_and_no_batchkit(sdk_venv: SdkVenv) -> None:
    assert SDK_PINS == sdk_venv.versions
    probe = "import importlib.util as u; print(u.find_spec('batchkit') is None)"
    result = subprocess.run(
        [str(sdk_venv.python), "-I", "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert "True" == result.stdout.strip(), "the SDK scripts must not be able to import batchkit"


def test_the_sdks_are_no_dependency_of_batchkit() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    named = [r for r in requirements if any(sdk in r.lower() for sdk in SDK_PINS)]
    assert [] == named
