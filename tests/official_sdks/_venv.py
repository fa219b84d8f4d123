"""A scratch virtualenv holding the vendors' official SDKs, built once and cached.

The SDKs are pinned here, never in batchkit's own dependencies: batchkit must not need them.
The venv is built in a temporary directory beside its final place and renamed into it only
once pip succeeded and the SDKs import, so a half-built venv is never reused; a later session
finds it by its key (the pins and this interpreter) and installs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The newest releases on PyPI when this suite was written (scaleapi 2.18.4 is the version the
# emulator's wire notes were read from; instabase-aihub 0.14.0 is its latest release).
# Bump a pin deliberately: the cache key changes with it, so the next run builds a new venv.
SDK_PINS: dict[str, str] = {"scaleapi": "2.18.4", "instabase-aihub": "0.14.0"}

# the modules each distribution provides, imported to prove the install works
SDK_MODULES: tuple[str, ...] = ("scaleapi", "aihub")

CACHE_ENV = "BATCHKIT_SDK_VENV_CACHE"
"""Overrides the cache directory (default ``$XDG_CACHE_HOME/batchkit-tests``, else
``~/.cache/batchkit-tests``)."""

_MARKER = "batchkit-sdk-venv.json"
_PIP_TIMEOUT = 600.0
_VENV_TIMEOUT = 180.0


class SdkVenvError(Exception):
    """The SDK venv could not be built; the message says which step failed and why."""


@dataclass(frozen=True)
class SdkVenv:
    """A venv with the pinned SDKs: its interpreter, and how long getting it took."""

    root: Path
    python: Path
    versions: dict[str, str]
    built: bool
    seconds: float


def requirements() -> list[str]:
    """The pip requirement strings of the pins, e.g. ``scaleapi==2.18.4``."""
    return [f"{name}=={version}" for name, version in sorted(SDK_PINS.items())]


def cache_key() -> str:
    """What a cached venv depends on: the pins and the interpreter that builds it."""
    identity = {
        "pins": requirements(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "machine": platform.machine(),
        "system": platform.system(),
        "base": sys.base_prefix,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def cache_dir() -> Path:
    """Where cached venvs live (see :data:`CACHE_ENV`)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "batchkit-tests"


def venv_python(root: Path) -> Path:
    """The interpreter of the venv at ``root``."""
    if sys.platform == "win32":
        return root / "Scripts" / "python.exe"
    return root / "bin" / "python"


def ensure_sdk_venv() -> SdkVenv:
    """The cached venv with the pinned SDKs; built (about 15 s, PyPI needed) if missing.

    Raises :class:`SdkVenvError` if it cannot be built.
    """
    start = time.monotonic()
    parent = cache_dir()
    root = parent / f"sdk-venv-{cache_key()}"
    versions = _installed_versions(root)
    if versions == SDK_PINS:
        return SdkVenv(root, venv_python(root), versions, False, time.monotonic() - start)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SdkVenvError(f"cannot create the SDK venv cache directory {parent}: {exc}") from exc
    scratch = Path(tempfile.mkdtemp(prefix=f"{root.name}.building-", dir=parent))
    try:
        _build(scratch)
        built = _installed_versions(scratch)
        if built != SDK_PINS:
            raise SdkVenvError(
                f"pip finished, but the venv at {scratch} has {built}, expected {SDK_PINS}"
            )
        _move_into_place(scratch, root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    versions = _installed_versions(root)
    if versions != SDK_PINS:
        raise SdkVenvError(
            f"the SDK venv at {root} has {versions} after building, expected {SDK_PINS}"
        )
    return SdkVenv(root, venv_python(root), versions, True, time.monotonic() - start)


def _build(scratch: Path) -> None:
    _run_step(
        "create the venv",
        [sys.executable, "-m", "venv", str(scratch)],
        timeout=_VENV_TIMEOUT,
    )
    _run_step(
        f"pip install {' '.join(requirements())}",
        [
            str(venv_python(scratch)),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
            *requirements(),
        ],
        timeout=_PIP_TIMEOUT,
    )
    freeze = _run_step(
        "pip freeze", [str(venv_python(scratch)), "-m", "pip", "freeze", "--all"], timeout=120
    )
    marker = {"pins": SDK_PINS, "key": cache_key(), "freeze": freeze.stdout.splitlines()}
    (scratch / _MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _run_step(what: str, command: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise SdkVenvError(f"could not {what}: no answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise SdkVenvError(f"could not {what}: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise SdkVenvError(
            f"could not {what} (exit {result.returncode}):\n  $ {' '.join(command)}\n"
            + _tail(output, 60)
        )
    return result


def _move_into_place(scratch: Path, root: Path) -> None:
    """Rename the finished venv to ``root``; a venv there that is not complete is replaced,
    and one another session completed meanwhile is kept (ours is then dropped)."""
    if root.exists() and _installed_versions(root) != SDK_PINS:
        shutil.rmtree(root, ignore_errors=True)
    try:
        scratch.rename(root)
    except OSError:
        if _installed_versions(root) != SDK_PINS:
            raise


def _installed_versions(root: Path) -> dict[str, str] | None:
    """The pinned distributions' versions in the venv at ``root``, if it is complete and its
    interpreter imports the SDKs; None otherwise."""
    python = venv_python(root)
    if not (root / _MARKER).is_file() or not python.exists():
        return None
    probe = (
        "import importlib, importlib.metadata as m, json, sys\n"
        f"for module in {SDK_MODULES!r}: importlib.import_module(module)\n"
        f"print(json.dumps({{n: m.version(n) for n in {sorted(SDK_PINS)!r}}}))\n"
    )
    try:
        result = subprocess.run(
            [str(python), "-I", "-c", probe], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        versions = json.loads(result.stdout)
    except ValueError:
        return None
    return versions if isinstance(versions, dict) else None


def _tail(text: str, lines: int) -> str:
    kept = text.splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in kept)
