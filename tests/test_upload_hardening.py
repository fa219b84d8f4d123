"""Bulk upload under hostile input: symlinks, shared streams, files changing mid-upload,
special files, descriptor limits, bad names and patterns, and journal edge cases.

Every test runs against the in-process emulator (no socket, no timers).
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import batchkit
import batchkit._drive as upload_module
from batchkit import InvalidInput
from batchkit.emulator import Emulator

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file system features")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator of its own, reached in process."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def provider(emu: Emulator) -> Iterator[batchkit.BatchProvider]:
    """AI Hub through the in-process emulator."""
    with batchkit.connect(
        "aihub", transport=emu.transport(), api_root=emu.aihub_api_root, token="hardening"
    ) as p:
        yield p


@pytest.fixture
def batch(provider: batchkit.BatchProvider) -> str:
    """A fresh, empty batch."""
    return provider.create_batch("hardening").id


def write(path: Path, content: bytes = b"%PDF-1.7") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def stored(provider: batchkit.BatchProvider, batch: str) -> dict[str, bytes]:
    """Every file of the batch with its bytes, read back from the emulator."""
    return {f.name: provider.download_file(batch, f.name) for f in provider.list_files(batch)}


def refusal(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, *args: Any, **kwargs: Any
) -> str:
    """The InvalidInput message of an upload that must be refused before any request."""
    before = len(emu.requests)
    with pytest.raises(InvalidInput) as caught:
        provider.upload(batch, *args, **kwargs)
    assert before == len(emu.requests), "a refused upload must send nothing"
    return str(caught.value)


# -- symlinks (6) -------------------------------------------------------------------------


@posix_only
def test_a_symlink_to_a_file_is_uploaded_under_its_own_name_as_well_as_the_target(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """real.pdf and alias.pdf -> real.pdf: two names, two files in the batch, both reported."""
    write(tmp_path / "real.pdf", b"%PDF real")
    (tmp_path / "alias.pdf").symlink_to("real.pdf")

    report = provider.upload(batch, tmp_path)

    assert ["alias.pdf", "real.pdf"] == [f.name for f in report.uploaded]
    assert {"alias.pdf": b"%PDF real", "real.pdf": b"%PDF real"} == stored(provider, batch)


@posix_only
def test_a_symlinked_subfolder_is_followed(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """A link to a directory outside the tree is walked like a real subfolder."""
    write(tmp_path / "elsewhere" / "outside.pdf", b"%PDF outside")
    write(tmp_path / "scans" / "inside.pdf", b"%PDF inside")
    (tmp_path / "scans" / "linked").symlink_to(tmp_path / "elsewhere")

    report = provider.upload(batch, tmp_path / "scans")

    assert ["inside.pdf", "outside.pdf"] == [f.name for f in report.uploaded]
    assert str(tmp_path / "scans" / "linked" / "outside.pdf") == report.files[1].source


@posix_only
def test_a_symlink_loop_is_reported_instead_of_followed_forever(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """sub/loop -> .. is named in the refusal; skipped, it is in the report and a.pdf goes once."""
    write(tmp_path / "scans" / "a.pdf")
    write(tmp_path / "scans" / "sub" / "b.pdf")
    (tmp_path / "scans" / "sub" / "loop").symlink_to("..")

    message = refusal(emu, provider, batch, tmp_path / "scans")
    report = provider.upload(batch, tmp_path / "scans", invalid="skip")

    assert str(tmp_path / "scans" / "sub" / "loop") in message
    assert "symlink loop" in message.replace(str(tmp_path), "")
    assert ["a.pdf", "b.pdf"] == [f.name for f in report.uploaded]
    assert [str(tmp_path / "scans" / "sub" / "loop")] == [f.source for f in report.invalid]


@posix_only
def test_a_dangling_symlink_is_reported_as_such_with_its_name(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """A link whose target is gone is named in the refusal (as a broken symlink) and skippable."""
    write(tmp_path / "scans" / "a.pdf")
    (tmp_path / "scans" / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")

    message = refusal(emu, provider, batch, tmp_path / "scans")
    assert "gone.pdf" in message
    assert "broken symlink" in message.replace(str(tmp_path), "")

    report = provider.upload(batch, tmp_path / "scans", invalid="skip")

    assert ["a.pdf"] == [f.name for f in report.uploaded]
    assert ["gone.pdf"] == [f.name for f in report.invalid]


# -- one stream under several names (7) ---------------------------------------------------


class PiecewiseStream(io.BytesIO):
    """Reads in 4 KiB pieces, so other threads get the interpreter in the middle of a read."""

    def read(self, size: int | None = -1) -> bytes:
        out = bytearray()
        while size is None or size < 0 or len(out) < size:
            want = 4096 if size is None or size < 0 else min(4096, size - len(out))
            piece = super().read(want)
            if not piece:
                break
            out += piece
        return bytes(out)


def test_one_stream_under_several_names_uploads_every_copy_intact(
    provider: batchkit.BatchProvider, batch: str
) -> None:
    """[("n0.pdf", s), ("n1.pdf", s), ...] with one stream: every copy holds the stream's bytes."""
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        data = random.Random(7).randbytes(2 << 20)  # 2 MiB: several reads per copy
        shared = PiecewiseStream(data)
        report = provider.upload(batch, [(f"n{i}.pdf", shared) for i in range(8)], concurrency=8)
    finally:
        sys.setswitchinterval(old_interval)

    assert report.ok, report.failed
    assert {f"n{i}.pdf": data for i in range(8)} == stored(provider, batch)


# -- a file changed while uploading (8) -------------------------------------------------


def test_a_file_rewritten_during_its_upload_is_failed_and_sent_again_on_resume(
    provider: batchkit.BatchProvider,
    batch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file rewritten mid-send is reported failed with the reason, and a rerun resends it."""
    a = write(tmp_path / "scans" / "a.pdf", b"%PDF version 1")
    write(tmp_path / "scans" / "b.pdf", b"%PDF unchanged")
    journal = tmp_path / "journal.jsonl"
    send = provider.adapter.upload_file

    def rewriting_upload(batch_id: Any, name: str, data: Any, *, size: int | None = None) -> Any:
        if name == "a.pdf":
            a.write_bytes(b"%PDF version 2")  # same size, new content, mid-upload
        return send(batch_id, name, data, size=size)

    monkeypatch.setattr(provider.adapter, "upload_file", rewriting_upload)
    first = provider.upload(batch, tmp_path / "scans", resume=journal)
    monkeypatch.undo()
    again = provider.upload(batch, tmp_path / "scans", resume=journal)

    [failed] = first.failed
    assert "a.pdf" == failed.name
    assert "changed while being uploaded" in (failed.reason or "")
    assert "rerun" in (failed.reason or "")
    assert ["b.pdf"] == [f.name for f in first.uploaded]
    assert ["a.pdf"] == [f.name for f in again.uploaded]
    assert b"%PDF version 2" == stored(provider, batch)["a.pdf"]


# -- special files (9) ------------------------------------------------------------------


@posix_only
def test_fifos_and_sockets_in_a_folder_are_refused_by_name_before_any_request(
    emu: Emulator,
    provider: batchkit.BatchProvider,
    batch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A FIFO and a socket in a folder are both named in one InvalidInput; nothing is read."""
    folder = tmp_path / "scans"
    write(folder / "a.pdf")
    os.mkfifo(folder / "pipe.pdf")
    monkeypatch.chdir(folder)  # a short relative path: socket paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock.pdf")

        message = refusal(emu, provider, batch, folder)

    assert "pipe.pdf" in message
    assert "sock.pdf" in message
    assert "a.pdf" not in message.replace(str(tmp_path), "")


@posix_only
def test_non_regular_files_given_directly_are_all_listed_in_one_refusal(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """Two FIFOs passed by path are both named, with what to do, before any request."""
    os.mkfifo(tmp_path / "one.pdf")
    os.mkfifo(tmp_path / "two.pdf")

    message = refusal(emu, provider, batch, [tmp_path / "one.pdf", tmp_path / "two.pdf"])

    assert str(tmp_path / "one.pdf") in message
    assert str(tmp_path / "two.pdf") in message
    assert "not a regular file" in message


class LosesItsWorker(ThreadPoolExecutor):
    """A pool hit by Ctrl-C inside `submit`, right after starting a worker but before
    recording it, so its own `shutdown` knows nothing of that worker."""

    #: set as soon as someone waits for (joins) the lost worker
    joined = threading.Event()

    def _adjust_thread_count(self) -> None:
        super()._adjust_thread_count()  # type: ignore[misc]
        threads: set[threading.Thread] = self._threads  # type: ignore[attr-defined]
        if threads:
            lost = threads.pop()
            wait_for = lost.join

            def join(timeout: float | None = None) -> None:
                self.joined.set()
                wait_for(timeout)

            lost.join = join  # type: ignore[method-assign]
            raise KeyboardInterrupt


def test_ctrl_c_while_the_pool_starts_a_worker_still_waits_for_its_file(
    provider: batchkit.BatchProvider,
    batch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker a Ctrl-C orphaned is waited for: its file in flight reaches the journal."""
    write(tmp_path / "scans" / "a.pdf")
    journal = tmp_path / "journal.jsonl"
    joined = threading.Event()
    send = provider.adapter.upload_file

    def held_until_joined(batch_id: Any, name: str, data: Any, *, size: int | None = None) -> Any:
        joined.wait()  # in flight until the engine waits for this worker
        return send(batch_id, name, data, size=size)

    monkeypatch.setattr(provider, "upload_file", held_until_joined)
    monkeypatch.setattr(upload_module, "ThreadPoolExecutor", LosesItsWorker)
    monkeypatch.setattr(LosesItsWorker, "joined", joined)
    try:
        with pytest.raises(KeyboardInterrupt):
            provider.upload(batch, tmp_path / "scans", resume=journal)
        lines = journal.read_text().splitlines()
    finally:
        joined.set()  # never leave the worker blocked

    assert ["a.pdf"] == [json.loads(line)["name"] for line in lines]


# -- descriptors (10) -------------------------------------------------------------------


@posix_only
def test_name_path_pairs_upload_lazily_under_a_low_open_file_limit(tmp_path: Path) -> None:
    """400 (name, Path) pairs upload with only 96 descriptors allowed: files open when sent."""
    script = textwrap.dedent(
        """
        import resource, sys
        from pathlib import Path
        import batchkit
        from batchkit.emulator import Emulator

        folder = Path(sys.argv[1])
        pairs = []
        for i in range(400):
            path = folder / f"scan-{i}.bin"
            path.write_bytes(b"%PDF " + str(i).encode())
            pairs.append((f"page-{i:03d}.pdf", path))
        resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))
        with Emulator() as emu, batchkit.connect(
            "aihub", transport=emu.transport(), api_root=emu.aihub_api_root, token="fds"
        ) as p:
            batch = p.create_batch("many").id
            report = p.upload(batch, pairs, concurrency=4, strict=True)
            names = sorted(f.name for f in p.list_files(batch))
        assert names == [f"page-{i:03d}.pdf" for i in range(400)], names[:5]
        print(len(report.uploaded))
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert (0, "400\n") == (done.returncode, done.stdout), done.stderr


def test_running_out_of_file_descriptors_is_a_clear_per_file_reason(
    provider: batchkit.BatchProvider,
    batch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EMFILE while sending one file fails that file with what to do; the others go on."""
    write(tmp_path / "a.pdf")
    write(tmp_path / "b.pdf")
    send = provider.adapter.upload_file

    def out_of_descriptors(batch_id: Any, name: str, data: Any, *, size: int | None = None) -> Any:
        if name == "a.pdf":
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE), str(data))
        return send(batch_id, name, data, size=size)

    monkeypatch.setattr(provider.adapter, "upload_file", out_of_descriptors)
    report = provider.upload(batch, tmp_path)

    [failed] = report.failed
    assert "a.pdf" == failed.name
    assert "too many open files" in (failed.reason or "")
    assert "concurrency" in (failed.reason or "")
    assert "ulimit -n" in (failed.reason or "")
    assert ["b.pdf"] == [f.name for f in report.uploaded]


# -- bad names, all at once, or skipped (11, 12) -------------------------------------------


def test_every_bad_name_and_collision_is_listed_in_one_refusal(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """Three bad names and one duplicate base name: all four named, each with its fix."""
    write(tmp_path / "ok.pdf")
    write(tmp_path / "README")
    write(tmp_path / " lead.pdf")
    write(tmp_path / "x..y.pdf")
    write(tmp_path / "2025" / "scan.pdf")
    write(tmp_path / "2026" / "scan.pdf")

    message = refusal(emu, provider, batch, tmp_path)

    assert "has no extension" in message
    assert "starts or ends with whitespace" in message
    assert "contains '..'" in message
    assert str(tmp_path / "2025" / "scan.pdf") in message
    assert str(tmp_path / "2026" / "scan.pdf") in message
    assert "invalid='skip'" in message
    assert str(tmp_path / "ok.pdf") not in message


def test_skip_invalid_uploads_the_rest_and_lists_each_skipped_file_with_its_reason(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """invalid='skip' sends the valid files; report.invalid names each other one; strict holds."""
    write(tmp_path / "ok.pdf")
    write(tmp_path / "README")
    write(tmp_path / "2025" / "scan.pdf")
    write(tmp_path / "2026" / "scan.pdf")

    report = provider.upload(batch, [tmp_path, ("bad/name.pdf", b"x")], invalid="skip", strict=True)

    assert ["ok.pdf"] == [f.name for f in report.uploaded]
    assert ["ok.pdf"] == list(stored(provider, batch))
    reasons = {(f.source, f.status): f.reason or "" for f in report.invalid}
    assert {
        (str(tmp_path / "README"), "invalid"),
        (str(tmp_path / "2025" / "scan.pdf"), "invalid"),
        (str(tmp_path / "2026" / "scan.pdf"), "invalid"),
        ("<bytes>", "invalid"),
    } == set(reasons)
    assert "has no extension" in reasons[(str(tmp_path / "README"), "invalid")]
    assert "contains '/'" in reasons[("<bytes>", "invalid")]
    assert "more than one source" in reasons[(str(tmp_path / "2025" / "scan.pdf"), "invalid")]
    assert report.ok
    assert [] == report.failed


def test_an_unknown_invalid_mode_is_refused(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str
) -> None:
    """invalid= takes 'refuse' or 'skip'; anything else is InvalidInput naming the value."""
    message = refusal(emu, provider, batch, [("a.pdf", b"x")], invalid="ignore")

    assert "'ignore'" in message
    assert "'refuse' or 'skip'" in message


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux")
def test_a_non_utf8_file_name_is_refused_shown_escaped_and_skippable(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """A name that is not UTF-8 is listed (escaped) with the other bad names, or skipped."""
    write(tmp_path / "ok.pdf")
    write(tmp_path / "README")
    fd = os.open(os.fsencode(tmp_path) + b"/caf\xe9.pdf", os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)

    message = refusal(emu, provider, batch, tmp_path)
    assert "caf\\xe9.pdf" in message
    assert "UTF-8" in message
    assert "README" in message

    report = provider.upload(batch, tmp_path, invalid="skip")

    assert ["ok.pdf"] == [f.name for f in report.uploaded]
    assert {"caf\\xe9.pdf", "README"} == {f.name for f in report.invalid}
    json.dumps([f.source for f in report.files]).encode()  # printable, no lone surrogates
    for f in report.files:
        f.source.encode("utf-8")


@pytest.mark.parametrize("option", ["include", "exclude"])
def test_a_reversed_character_range_in_a_glob_is_invalid_input(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str, tmp_path: Path, option: str
) -> None:
    """include/exclude '[z-a].pdf' is refused as InvalidInput naming the pattern."""
    write(tmp_path / "a.pdf")

    message = refusal(emu, provider, batch, tmp_path, **{option: ["[z-a].pdf"]})

    assert f"{option} pattern '[z-a].pdf'" in message


# -- the resume journal (13) --------------------------------------------------------------


def test_the_journal_inside_the_uploaded_folder_is_never_uploaded(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """resume='scans/j.jsonl' (not hidden) never sends the journal itself, run after run."""
    write(tmp_path / "scans" / "a.pdf")
    journal = tmp_path / "scans" / "j.jsonl"

    provider.upload(batch, tmp_path / "scans", resume=journal)
    again = provider.upload(batch, tmp_path / "scans", resume=journal)

    assert ["a.pdf"] == [f.name for f in again.files]
    assert ["a.pdf"] == list(stored(provider, batch))


def test_names_with_line_separators_are_skipped_on_resume(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """Names holding U+2028 / U+2029 are journaled on one line each and skipped on a rerun."""
    journal = tmp_path / "journal.jsonl"
    sources = [("a\u2028b.pdf", b"one"), ("c\u2029d.pdf", b"two")]

    provider.upload(batch, sources, resume=journal)
    again = provider.upload(batch, sources, resume=journal)

    assert ["a\u2028b.pdf", "c\u2029d.pdf"] == [f.name for f in again.skipped]
    assert 2 == len(journal.read_bytes().split(b"\n")) - 1


@posix_only
def test_a_file_changed_with_its_mtime_restored_is_sent_again_on_resume(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """Same size, old mtime put back (cp -p, rsync -t): the changed ctime makes it resend."""
    a = write(tmp_path / "scans" / "a.pdf", b"%PDF version 1")
    journal = tmp_path / "journal.jsonl"
    provider.upload(batch, tmp_path / "scans", resume=journal)

    before = a.stat()
    a.write_bytes(b"%PDF version 2")
    os.utime(a, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = provider.upload(batch, tmp_path / "scans", resume=journal)

    assert ["a.pdf"] == [f.name for f in again.uploaded]
    assert b"%PDF version 2" == stored(provider, batch)["a.pdf"]


@posix_only
def test_an_old_journal_entry_without_ctime_is_rechecked_by_sha256_or_resent(
    provider: batchkit.BatchProvider, batch: str, tmp_path: Path
) -> None:
    """A journal line from before ctime/inode were recorded: skip on a sha256 match, else send."""
    import hashlib

    a = write(tmp_path / "scans" / "a.pdf", b"%PDF a")
    b = write(tmp_path / "scans" / "b.pdf", b"%PDF b")
    provider.upload(batch, tmp_path / "scans")
    journal = tmp_path / "old.jsonl"
    lines = [
        {
            "v": 1,
            "provider": "aihub",
            "batch_id": batch,
            "event": "uploaded",
            "name": path.name,
            "size": path.stat().st_size,
            "mtime_ns": path.stat().st_mtime_ns,
            "sha256": sha,
            "source": str(path),
            "at": "2026-01-01T00:00:00+00:00",
        }
        for path, sha in [(a, hashlib.sha256(b"%PDF a").hexdigest()), (b, None)]
    ]
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))

    report = provider.upload(batch, tmp_path / "scans", resume=journal)

    assert ["a.pdf"] == [f.name for f in report.skipped]
    assert ["b.pdf"] == [f.name for f in report.uploaded]


class OnceOnlyStream(io.RawIOBase):
    """A pipe-like binary stream: readable once, cannot seek."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_under_two_names_is_refused(
    emu: Emulator, provider: batchkit.BatchProvider, batch: str
) -> None:
    """It can be read once only: both names are refused, instead of one copy being empty."""
    once = OnceOnlyStream(b"%PDF piped")

    message = refusal(emu, provider, batch, [("a.pdf", once), ("b.pdf", once)])

    assert "'a.pdf', 'b.pdf'" in message
    assert "read only once" in message


def test_a_journal_that_cannot_be_written_stops_the_upload_with_a_clear_error(
    provider: batchkit.BatchProvider,
    batch: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk under the journal is a BatchkitError naming the journal, not a raw OSError."""
    write(tmp_path / "scans" / "a.pdf")
    journal = tmp_path / "journal.jsonl"

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(batchkit.BatchkitError) as caught:
        provider.upload(batch, tmp_path / "scans", resume=journal)

    assert f"cannot write the resume journal {str(journal)!r}" in str(caught.value)
    assert "No space left on device" in str(caught.value)
