"""R3 through the command: SIGINT to `batchkit files upload --resume`, then a rerun completes it."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

import batchkit
from batchkit.emulator import Emulator, Latency

FILES = 40
#: PUTs the server must have answered before the command is interrupted
INTERRUPT_AFTER = 8
#: generous bounds: only a hung process ever gets near them
START_DEADLINE = 60.0
EXIT_TIMEOUT = 60.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX-only")


@pytest.fixture
def slow_puts() -> Iterator[Emulator]:
    """An emulator of its own whose PUTs take 50 ms each, so the upload lasts a while."""
    with Emulator(latency=Latency(fixed=0.05, methods={"PUT"})).serve() as emu:
        yield emu


def _files(folder: Path) -> dict[str, int]:
    folder.mkdir()
    sizes = {}
    for i in range(FILES):
        data = f"scan {i:02d} ".encode() * (i + 3)
        (folder / f"scan-{i:02d}.txt").write_bytes(data)
        sizes[f"scan-{i:02d}.txt"] = len(data)
    return sizes


def _env(emu: Emulator, token: str, home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BATCHKIT_", "AIHUB_", "SCALE_"))
    }
    env.update(
        AIHUB_API_ROOT=emu.aihub_api_root,
        AIHUB_API_TOKEN=token,
        BATCHKIT_PROVIDER="aihub",
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _puts(emu: Emulator) -> list[str]:
    return [r.path for r in emu.requests if r.method == "PUT"]


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait (bounded) for the process; kill it if it hangs, and fail."""
    try:
        out, err = proc.communicate(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the command did not exit within {EXIT_TIMEOUT}s:\n{out}\n{err}")
    return proc.returncode, out, err


def test_sigint_mid_upload_exits_130_and_a_resumed_rerun_sends_each_file_exactly_once(
    slow_puts: Emulator, tmp_path: Path
) -> None:
    """SIGINT after 8 PUTs: exit 130; the --resume rerun completes with every file PUT once."""
    emu = slow_puts
    token = "tenant-cli-interrupt"
    sizes = _files(tmp_path / "scans")
    cwd = tmp_path / "work"  # where the resume journal goes
    cwd.mkdir()
    batch = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=token).create_batch(
        "interrupted-cli"
    )
    command = [
        sys.executable,
        "-m",
        "batchkit.cli",
        "files",
        "upload",
        batch.id,
        str(tmp_path / "scans"),
        "--resume",
        "--concurrency",
        "2",
    ]
    env = _env(emu, token, tmp_path)

    first = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + START_DEADLINE
        while len(_puts(emu)) < INTERRUPT_AFTER:
            if first.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        puts_at_signal = len(_puts(emu))
        if first.poll() is None:
            first.send_signal(signal.SIGINT)
        code, out, err = _finish(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    assert INTERRUPT_AFTER <= puts_at_signal < FILES, (out, err)
    assert 130 == code, (out, err)
    assert "interrupted" in err
    sent_first = collections.Counter(_puts(emu))
    assert FILES > len(sent_first)
    assert {1} == set(sent_first.values())
    assert [f".batchkit-journal-aihub-{batch.id}.jsonl"] == [p.name for p in cwd.iterdir()]

    second = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    code, out, err = _finish(second)

    assert 0 == code, (out, err)
    assert f"{FILES - len(sent_first)} uploaded" in out
    assert f"{len(sent_first)} skipped, 0 failed" in out
    puts = collections.Counter(_puts(emu))
    assert {f"/api/v2/batches/{batch.id}/files/{name}" for name in sizes} == set(puts)
    assert {1} == set(puts.values())
    listed = batchkit.connect("aihub", api_root=emu.aihub_api_root, token=token).list_files(batch)
    assert sizes == {f.name: f.size for f in listed}
    assert sizes.keys() == {unquote(p.rsplit("/", 1)[1]) for p in puts}
