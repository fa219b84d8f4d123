"""`batchkit files upload` with bad names, bad globs, and a Ctrl-C that must not wait forever."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio.to_thread
import pytest

import batchkit
from batchkit.cli import ExitCode
from batchkit.emulator import Emulator, Latency

try:
    from ._cli_helpers import run  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _cli_helpers import run  # type: ignore[no-redef,unused-ignore]

#: generous bounds: only a hung process ever gets near them
DEADLINE = 30.0


@pytest.fixture
def aihub_env(
    served_emulator: Emulator, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> batchkit.BatchProvider:
    """AI Hub settings in the environment, pointing at the served emulator; the library view."""
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    monkeypatch.setenv("BATCHKIT_PROVIDER", "aihub")
    return batchkit.connect("aihub", api_root=served_emulator.aihub_api_root, token=tenant)


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """Two good files, a name without extension and one with '..'."""
    root = tmp_path / "messy"
    root.mkdir()
    for name in ["a.pdf", "b.pdf", "README", "x..y.pdf"]:
        (root / name).write_bytes(b"%PDF " + name.encode())
    return root


def test_without_skip_invalid_every_bad_name_is_one_usage_error(
    aihub_env: batchkit.BatchProvider, messy: Path
) -> None:
    """Both bad names are in the one error line, which says how to skip them; exit 2."""
    batch = aihub_env.create_batch("messy")

    result = run("files", "upload", batch.id, str(messy))

    assert ExitCode.USAGE == result.exit_code, result.output
    assert "README" in result.stderr
    assert "x..y.pdf" in result.stderr
    assert "--skip-invalid" in result.stderr
    assert [] == list(aihub_env.list_files(batch))


def test_skip_invalid_uploads_the_rest_and_names_each_skipped_file(
    aihub_env: batchkit.BatchProvider, messy: Path
) -> None:
    """--skip-invalid sends the good files, exits 0 and lists each skipped file with why."""
    batch = aihub_env.create_batch("messy")

    result = run("files", "upload", batch.id, str(messy), "--skip-invalid")

    assert 0 == result.exit_code, result.output
    assert ["a.pdf", "b.pdf"] == sorted(f.name for f in aihub_env.list_files(batch))
    assert "2 uploaded" in result.stdout
    assert "2 invalid" in result.stdout
    assert "README: file name 'README' has no extension" in result.stderr
    assert "x..y.pdf: file name 'x..y.pdf' contains '..'" in result.stderr


def test_a_reversed_range_in_a_glob_is_a_usage_error(
    aihub_env: batchkit.BatchProvider, messy: Path
) -> None:
    """--include '[z-a].pdf' exits 2 with one line naming the pattern, not a crash."""
    batch = aihub_env.create_batch("globs")

    result = run("files", "upload", batch.id, str(messy), "--include", "[z-a].pdf")

    assert ExitCode.USAGE == result.exit_code, result.output
    assert "'[z-a].pdf'" in result.stderr
    assert "Traceback" not in result.output


def _read_until(proc: subprocess.Popen[bytes], needle: bytes, deadline: float) -> bytes:
    """Read the process's stderr until `needle` shows up, it closes, or the deadline passes."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    seen = b""
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")
def test_a_second_ctrl_c_quits_at_once_while_a_file_is_still_in_flight(tmp_path: Path) -> None:
    """The first SIGINT says it waits for the file in flight; the second exits 130 at once."""
    in_flight = threading.Event()
    release = threading.Event()

    async def held(seconds: float) -> None:  # every PUT hangs until the test lets it go
        in_flight.set()
        await anyio.to_thread.run_sync(release.wait)

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(b"%PDF a")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATCHKIT_", "AIHUB_"))}
    with Emulator(latency=Latency(fixed=1.0, methods={"PUT"}), sleep=held).serve() as emu:
        env.update(
            AIHUB_API_ROOT=emu.aihub_api_root,
            AIHUB_API_TOKEN="held",
            BATCHKIT_PROVIDER="aihub",
            XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
            PYTHONUNBUFFERED="1",
        )
        batch = batchkit.connect("aihub", api_root=emu.aihub_api_root, token="held").create_batch(
            "held"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchkit.cli", "files", "upload", batch.id, str(folder)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert in_flight.wait(DEADLINE), "the upload never started"
            proc.send_signal(signal.SIGINT)
            first = _read_until(proc, b"Ctrl-C again", time.monotonic() + DEADLINE)
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"a second Ctrl-C did not end the command:\n{first!r}\n{err!r}")
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    assert b"Ctrl-C again" in first, first
    assert ExitCode.INTERRUPTED == proc.returncode, (out, first + err)
    assert b"interrupted again" in err, (first, err)
