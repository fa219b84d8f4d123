"""Client-side test fixtures: recording MockTransports, providers wired to them, and
isolation from the real environment (config files, AIHUB_* / SCALE_* variables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import pytest

import batchkit
from tests.recorder import Recorder

FIXTURES = Path(__file__).parent / "fixtures"

AIHUB_ROOT = "https://aihub.test/api"
SCALE_ROOT = "https://api.scale.test/v1"
#: credentials distinctive enough to search for in reprs, messages and logs
TOKEN = "tok-SECRET-4f1e9c"
API_KEY = "key-SECRET-9a2b7d"

_ENV_VARS = (
    "BATCHKIT_CONFIG",
    "BATCHKIT_PROFILE",
    "BATCHKIT_PROVIDER",
    "AIHUB_API_TOKEN",
    "AIHUB_IB_CONTEXT",
    "AIHUB_API_ROOT",
    "SCALE_API_KEY",
    "SCALE_API_ROOT",
)

def json_response(status: int, data: Any, **headers: str) -> httpx.Response:
    """A JSON response with the vendor's content type."""
    return httpx.Response(
        status, content=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


def fixture_response(name: str, status: int = 200, **headers: str) -> httpx.Response:
    """Serve a fixture file's text exactly as stored."""
    return httpx.Response(
        status, content=(FIXTURES / name).read_bytes(),
        headers={"Content-Type": "application/json", **headers},
    )


class Kit:
    """Helpers handed to tests through the `kit` fixture."""

    AIHUB_ROOT = AIHUB_ROOT
    SCALE_ROOT = SCALE_ROOT
    TOKEN = TOKEN
    API_KEY = API_KEY
    Recorder = Recorder
    json_response = staticmethod(json_response)
    fixture_response = staticmethod(fixture_response)

    @staticmethod
    def fixture_json(name: str) -> Any:
        """A fixture file parsed."""
        return json.loads((FIXTURES / name).read_text())

    @staticmethod
    def aihub(transport: httpx.BaseTransport, **settings: Any) -> Any:
        """An AI Hub provider sending through `transport`."""
        base: dict[str, Any] = {"api_root": AIHUB_ROOT, "token": TOKEN}
        return batchkit.connect("aihub", transport=transport, **{**base, **settings})

    @staticmethod
    def scale(transport: httpx.BaseTransport, **settings: Any) -> Any:
        """A Scale provider sending through `transport`."""
        base: dict[str, Any] = {"api_root": SCALE_ROOT, "api_key": API_KEY}
        return batchkit.connect("scale", transport=transport, **{**base, **settings})


@pytest.fixture
def kit() -> type[Kit]:
    """Builders for recording transports, responses and providers."""
    return Kit


@pytest.fixture
def user_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The (empty, temporary) directory standing in for the user's config dir."""
    return tmp_path_factory.mktemp("user-config")


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
    user_config_dir: Path,
) -> None:
    """No real batchkit.toml, user config dir or vendor variables leak into a test."""
    for var in _ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(user_config_dir))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
