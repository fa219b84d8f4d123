"""The official SDKs against the emulator: a cached SDK venv, a served emulator, a runner.

Each test runs a script of ``sdk_scripts/`` with the SDK venv's interpreter (``python -I``:
only the SDK and the standard library are importable, never batchkit) against an emulator
served on a loopback port, and asserts on the JSON the script prints. Every test has its own
API key, so its own emulator tenant.

The first run builds the venv (PyPI needed, about 15 s); later runs reuse it
(see ``_venv.py``). Every module is marked ``official_sdks``: select or leave out the suite
with ``-m official_sdks`` / ``-m "not official_sdks"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchkit.emulator import Emulator
from tests.official_sdks._venv import SdkVenv, SdkVenvError, ensure_sdk_venv

SCRIPTS = Path(__file__).resolve().parent / "sdk_scripts"
SCRIPT_TIMEOUT = 60.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "official_sdks: the vendors' official SDKs (in a cached venv) against the emulator",
    )


@pytest.fixture(scope="session")
def sdk_venv() -> SdkVenv:
    """The venv with the pinned SDKs; a failure to build it fails the tests (never skips)."""
    try:
        return ensure_sdk_venv()
    except SdkVenvError as exc:
        problem = str(exc)
    pytest.fail(
        f"the official-SDK venv could not be built, so the SDKs cannot be tested against the"
        f" emulator: {problem}\n(it needs the package index, PyPI; see"
        f" tests/official_sdks/_venv.py)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def sdk_emulator() -> Iterator[Emulator]:
    """One emulator served on a free loopback port, with the settings the CLI serves."""
    with Emulator() as emulator, emulator.serve():
        yield emulator


@dataclass(frozen=True)
class SdkRun:
    """Runs one scenario of an SDK script against the emulator, as one tenant."""

    venv: SdkVenv
    emulator: Emulator
    api_key: str

    @property
    def tag(self) -> str:
        """A suffix for names, unique to this runner."""
        return self.api_key.rsplit("-", 1)[-1]

    def scale(self, scenario: str, **config: Any) -> dict[str, Any]:
        return self._run("scale_sdk.py", scenario, self.emulator.scale_api_root, config)

    def aihub(self, scenario: str, **config: Any) -> dict[str, Any]:
        return self._run("aihub_sdk.py", scenario, self.emulator.aihub_api_root, config)

    def _run(
        self, script: str, scenario: str, api_root: str, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        config = {"api_root": api_root, "api_key": self.api_key, "tag": self.tag, **extra}
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        try:
            result = subprocess.run(
                [str(self.venv.python), "-I", str(SCRIPTS / script), scenario],
                input=json.dumps(config),
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT,
                env=env,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"{script} {scenario} did not finish within {SCRIPT_TIMEOUT:.0f} s\n"
                f"{self.requests()}\nstderr:\n{exc.stderr!r}",
                pytrace=False,
            )
        if result.returncode != 0:
            pytest.fail(
                f"the official SDK failed against the emulator: {script} {scenario} exited"
                f" {result.returncode}\n--- the SDK's traceback ---\n{result.stderr.strip()}\n"
                f"--- what the emulator answered ---\n{self.requests()}",
                pytrace=False,
            )
        observed: dict[str, Any] = json.loads(result.stdout)
        return observed

    def requests(self) -> str:
        """This tenant's requests as the emulator logged them, one a line."""
        lines = [
            f"{r.method} {r.path}{'?' + r.query if r.query else ''} -> {r.status}"
            for r in self.emulator.requests
            if r.tenant == self.api_key
        ]
        return "\n".join(lines) or "(no request reached the emulator)"


def new_runner(venv: SdkVenv, emulator: Emulator) -> SdkRun:
    return SdkRun(venv, emulator, f"official-sdk-{uuid.uuid4().hex[:10]}")


@pytest.fixture
def sdk(sdk_venv: SdkVenv, sdk_emulator: Emulator) -> SdkRun:
    """Runs SDK scenarios against the emulator as a tenant of this test's own."""
    return new_runner(sdk_venv, sdk_emulator)
