"""A multipart upload killed with SIGKILL mid-file leaves a session open at the vendor; the
resume journal records it before any part is sent, and the resumed upload aborts it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import anyio
import pytest

import batchkit
from batchkit.emulator import Emulator, Latency

DEADLINE = 60.0


#: the killed upload, with the sync client or the async one (`connect_async` on asyncio)
CHILD = {
    "sync": """
        import batchkit
        p = batchkit.connect("aihub", **{settings!r})
        p.upload({batch!r}, {path!r}, resume={journal!r})
    """,
    "async": """
        import anyio, batchkit
        async def main():
            async with batchkit.connect_async("aihub", **{settings!r}) as p:
                await p.upload({batch!r}, {path!r}, resume={journal!r})
        anyio.run(main)
    """,
}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_session_left_open_by_a_killed_upload_is_aborted_on_resume(
    tmp_path: Path, mode: str
) -> None:
    """kill -9 while parts are in flight (a sync or an async upload): a session stays open;
    the rerun with the same journal (the same kind of client) aborts it, sends the file
    again, and the batch holds it byte-exact."""
    in_flight = threading.Event()
    release = threading.Event()

    async def held(seconds: float) -> None:  # part PUTs hang until the test lets them go
        in_flight.set()
        await anyio.to_thread.run_sync(release.wait)

    data = os.urandom(300_000)
    (tmp_path / "big.bin").write_bytes(data)
    journal = tmp_path / "upload.journal"
    latency = Latency(fixed=1.0, methods={"PUT"}, paths=["*/parts/*"])
    with Emulator(part_size=64 * 1024, latency=latency, sleep=held).serve() as emu:
        settings = {"api_root": emu.aihub_api_root, "token": "killed",
                    "multipart_threshold": 100_000}
        batch = batchkit.connect("aihub", **settings).create_batch("killed")
        script = textwrap.dedent(CHILD[mode]).format(
            settings=settings, batch=batch.id, path=str(tmp_path / "big.bin"),
            journal=str(journal),
        )
        child = subprocess.Popen([sys.executable, "-c", script])
        try:
            assert in_flight.wait(DEADLINE), "the child never sent a part"
            child.send_signal(signal.SIGKILL)
            child.wait(DEADLINE)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            release.set()
        # the held parts finish at the emulator, but nothing commits or aborts the session
        assert 1 == len(emu.aihub.open_sessions())
        events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
        assert ["session_opened"] == events

        emu.latency = None
        p = batchkit.connect("aihub", **settings)
        if mode == "sync":
            report = p.upload(batch, tmp_path / "big.bin", resume=journal, strict=True)
        else:

            async def resume() -> batchkit.UploadReport:
                async with batchkit.connect_async("aihub", **settings) as a:
                    return await a.upload(batch, tmp_path / "big.bin", resume=journal,
                                          strict=True)

            report = anyio.run(resume)

        assert ["big.bin"] == [f.name for f in report.uploaded]
        assert [] == emu.aihub.open_sessions()
        assert data == p.download_file(batch, "big.bin")
        events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
        assert ["session_opened", "session_closed", "session_opened", "session_closed",
                "uploaded"] == events
