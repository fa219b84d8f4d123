"""However the emulator stops, its storage goes with it: SIGTERM, SIGINT (Ctrl-C), the end of
the process, the ``Emulator`` context manager and the pytest fixtures.

The AI Hub file store is a temporary folder (``batchkit-emulator-aihub-*``). Each test here
points ``TMPDIR`` (or looks) at a folder of its own, so it sees only its own emulator's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
import pytest

from batchkit.emulator import Emulator

STORAGE = "batchkit-emulator-*"


def _env(tmp: Path) -> dict[str, str]:
    """This process's environment (its PYTHONPATH too), with temporary files under ``tmp``."""
    return {**os.environ, "TMPDIR": str(tmp)}


def _upload_a_file(client: httpx.Client) -> None:
    batch = client.post("/v2/batches", json={"name": "b"})
    assert batch.status_code == 200, batch.text
    put = client.put(f"/v2/batches/{batch.json()['id']}/files/a.txt", content=b"hello")
    assert put.status_code == 204, put.text


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_deletes_its_storage_and_exits_0_when_stopped_by_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """``python -m batchkit.emulator`` with a file stored and a client still connected: on
    SIGTERM (``kill``, ``Popen.terminate``, a process manager) or SIGINT (Ctrl-C) it shuts
    down, deletes its storage folder and exits 0. (SIGTERM used to kill it on the spot,
    leaving the folder behind.)"""
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchkit.emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("AI Hub API root: "), line
        api_root = line.split(": ", 1)[1].strip()
        with httpx.Client(
            base_url=api_root, headers={"Authorization": "Bearer t"}, timeout=10
        ) as client:
            _upload_a_file(client)
            assert len(list(tmp_path.glob(STORAGE))) == 1
            proc.send_signal(stop)
            code = proc.wait(timeout=30)
        _, stderr = proc.communicate(timeout=10)
        assert list(tmp_path.glob(STORAGE)) == [], stderr
        assert code == 0, stderr
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_command_stopped_before_any_request_exits_0(tmp_path: Path) -> None:
    """A SIGTERM as soon as it is up (no storage yet) is a clean stop too."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchkit.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("AI Hub API root: ")
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
        assert list(tmp_path.glob(STORAGE)) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_the_context_manager_deletes_the_storage_served_or_not() -> None:
    """Leaving ``with Emulator()`` (served or in process) deletes the storage folder."""
    with Emulator() as emu:
        storage = emu.aihub.blobs.root.parent
        with httpx.Client(
            transport=emu.transport(),
            base_url=emu.aihub_api_root,
            headers={"Authorization": "Bearer t"},
        ) as client:
            _upload_a_file(client)
        assert any(storage.rglob("*"))
    assert not storage.exists()
    with Emulator() as emu, emu.serve():
        storage = emu.aihub.blobs.root.parent
        with httpx.Client(base_url=emu.aihub_api_root, headers={"Authorization": "Bearer t"}) as c:
            _upload_a_file(c)
    assert not storage.exists()


def test_an_emulator_never_closed_is_cleaned_up_when_the_process_ends(tmp_path: Path) -> None:
    """An emulator left open (no ``with``, no ``close()``) still deletes its storage when the
    interpreter exits normally."""
    code = textwrap.dedent(
        """
        from batchkit.emulator import Emulator
        emu = Emulator()
        emu.aihub.blobs.create()
        print(emu.aihub.blobs.root)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(tmp_path),
        check=True,
    )
    assert Path(done.stdout.strip()).is_relative_to(tmp_path)
    assert list(tmp_path.glob(STORAGE)) == []


def test_the_pytest_fixtures_delete_the_storage(tmp_path: Path) -> None:
    """Both fixtures of the batchkit pytest plugin leave no storage behind."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import httpx

            def _upload(client):
                batch = client.post("/v2/batches", json={"name": "b"}).json()["id"]
                put = client.put(f"/v2/batches/{batch}/files/a.txt", content=b"x")
                assert put.status_code == 204

            def test_served(batchkit_emulator):
                with httpx.Client(base_url=batchkit_emulator.aihub_api_root,
                                  headers={"Authorization": "Bearer t"}) as client:
                    _upload(client)
                assert batchkit_emulator.aihub.blobs.root.exists()

            def test_in_process(batchkit_emulator_inprocess):
                emu = batchkit_emulator_inprocess
                with httpx.Client(transport=emu.transport(), base_url=emu.aihub_api_root,
                                  headers={"Authorization": "Bearer t"}) as client:
                    _upload(client)
                assert emu.aihub.blobs.root.exists()
            """
        )
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(temp),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert list(temp.glob(STORAGE)) == []


def test_a_signal_in_the_middle_of_start_up_is_a_clean_stop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM lands while uvicorn configures logging (inside `logging`'s handler locks):
    the command still exits 0, the server never starts, the storage goes. The handler used
    to raise there, and the exception broke `logging.shutdown` half-way (`cannot release
    un-acquired lock`): exit 1, seen in CI under load."""
    import io
    import logging

    from batchkit.emulator._cli import StopRequest, main

    original = logging.Handler.acquire
    sent: list[bool] = []

    def acquire(self: logging.Handler) -> None:
        # where it hurt: in logging.shutdown (uvicorn's dictConfig clears the handlers), and
        # only while the emulator's own handler is in place (never kill the test run)
        ours = isinstance(signal.getsignal(signal.SIGTERM), StopRequest)
        if not sent and ours and sys._getframe(1).f_code.co_name == "shutdown":
            sent.append(True)
            signal.raise_signal(signal.SIGTERM)
        original(self)

    monkeypatch.setattr(logging.Handler, "acquire", acquire)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR afresh
    # a handler with a lock of its own (a NullHandler has none) for dictConfig to shut down
    logging.getLogger("batchkit-test-stop").addHandler(logging.StreamHandler(io.StringIO()))
    assert 0 == main(["--port", "0"])
    assert sent
    assert list(tmp_path.glob(STORAGE)) == []
    assert "Press Ctrl-C to stop." in capsys.readouterr().out
