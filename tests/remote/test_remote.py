"""Remote sources and destinations through fsspec: a prefix on S3 (moto) or memory:// is
uploaded like a local folder (streamed in ranged reads, the big file in parts), resumed by
URL + size + version, re-sent when the object changed, verified; a batch downloads into a
prefix byte-exact and atomically; and the errors say what to do."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import batchkit
import batchkit._remote as remote_module
from batchkit.emulator import Emulator, Fault, Faults
from tests.remote._s3 import S3

#: just above AI Hub's default multipart threshold (10 MiB): it goes up in parts
BIG = 10 * 1024 * 1024 + 5
PART = 4 * 1024 * 1024


@pytest.fixture
def emu() -> Emulator:
    return Emulator(job_polls=1, part_size=PART)


def _aihub(emu: Emulator, **settings: Any) -> batchkit.BatchProvider:
    return batchkit.connect(
        "aihub", api_root=emu.aihub_api_root, token="remote", transport=emu.transport(),
        **settings,
    )


def _record_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Every ranged read batchkit makes of a remote file: (url, start, end)."""
    reads: list[tuple[str, int, int]] = []
    real = remote_module.Location.read

    def read(self: remote_module.Location, start: int, end: int) -> bytes:
        reads.append((self.url, start, end))
        return real(self, start, end)

    monkeypatch.setattr(remote_module.Location, "read", read)
    return reads


def _fail_reads_of(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Reads of the remote file whose URL ends in `suffix` fail (a broken connection)."""
    real = remote_module.Location.read

    def read(self: remote_module.Location, start: int, end: int) -> bytes:
        if self.url.endswith(suffix):
            raise OSError("connection reset by peer")
        return real(self, start, end)

    monkeypatch.setattr(remote_module.Location, "read", read)


def _sent(emu: Emulator, name: str) -> int:
    """How many times the file `name` went up (a single PUT or a multipart start)."""
    return sum(
        1 for r in emu.requests
        if r.method in ("PUT", "POST") and r.status < 300 and r.path.endswith(f"/{name}")
    ) + sum(
        1 for r in emu.requests if r.method == "POST" and "multipart-upload" in r.path
        and name == "big.bin"
    )


# -- upload from S3 ------------------------------------------------------------------------


def test_an_s3_prefix_uploads_like_a_folder_byte_exact_the_big_file_in_ranged_parts(
    s3: S3, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files below the prefix, hidden ones and excluded ones left out, each named by its
    base name and reported with its URL; every byte lands; the file above the multipart
    threshold goes up in parts, each read from S3 in ranges, never whole."""
    big = os.urandom(BIG)
    files = {"scans/a.pdf": b"%PDF a", "scans/b.pdf": b"%PDF b", "scans/big.bin": big,
             "scans/2026/c.pdf": b"%PDF c", "scans/.hidden/x.pdf": b"x",
             "scans/tmp/d.pdf": b"d", "other/e.pdf": b"e"}
    for key, data in files.items():
        s3.put(key, data)
    reads = _record_reads(monkeypatch)
    p = _aihub(emu)
    batch = p.create_batch("from-s3")

    report = p.upload(batch, s3.url("scans/"), exclude=["tmp"], verify="sha256")

    assert report.ok, report
    assert ["a.pdf", "b.pdf", "big.bin", "c.pdf"] == [f.name for f in report.uploaded]
    assert [s3.url(k) for k in ("scans/a.pdf", "scans/b.pdf", "scans/big.bin",
                                "scans/2026/c.pdf")] == [f.source for f in report.uploaded]
    for key in ("scans/a.pdf", "scans/b.pdf", "scans/big.bin", "scans/2026/c.pdf"):
        assert files[key] == p.download_file(batch, key.rpartition("/")[2])
    assert 3 == sum(1 for r in emu.requests if r.method == "PUT" and "/sessions/" in r.path)
    big_reads = [(start, end) for url, start, end in reads if url.endswith("big.bin")]
    assert all(end - start <= remote_module.CHUNK for start, end in big_reads)
    covered = sorted({(start, end) for start, end in big_reads})
    assert 0 == covered[0][0]
    assert BIG == covered[-1][1]


def test_a_single_s3_object_and_a_pair_with_an_s3_url(s3: S3, emu: Emulator) -> None:
    """An object URL is one file (its base name); a (name, URL) pair names it; upload_file
    takes a URL too."""
    s3.put("in/scan.pdf", b"%PDF scan")
    p = _aihub(emu)
    batch = p.create_batch("objects")
    report = p.upload(batch, [s3.url("in/scan.pdf"), ("renamed.pdf", s3.url("in/scan.pdf"))])
    assert ["scan.pdf", "renamed.pdf"] == [f.name for f in report.uploaded]
    sent = p.upload_file(batch, "direct.pdf", s3.url("in/scan.pdf"))
    assert (9, b"%PDF scan") == (sent.size, p.download_file(batch, "direct.pdf"))


def test_resume_after_a_failure_sends_only_what_is_missing(
    s3: S3, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose reads fail is reported failed and the others journaled with their URL,
    size and S3 version (the ETag); the rerun skips those and sends only the missing one."""
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        s3.put(f"scans/{name}", f"%PDF {name}".encode())
    journal = tmp_path / "journal.jsonl"
    p = _aihub(emu)
    batch = p.create_batch("resume")
    with monkeypatch.context() as broken:
        _fail_reads_of(broken, "/b.pdf")
        first = p.upload(batch, s3.url("scans/"), resume=journal)
    assert (["a.pdf", "c.pdf"], ["b.pdf"]) == (
        [f.name for f in first.uploaded], [f.name for f in first.failed]
    )
    assert "connection reset by peer" in (first.failed[0].reason or "")
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    uploaded = {e["name"]: e for e in lines if e["event"] == "uploaded"}
    assert s3.url("scans/a.pdf") == uploaded["a.pdf"]["url"]
    assert uploaded["a.pdf"]["version"].startswith("ETag=")

    emu.requests.clear()
    again = p.upload(batch, s3.url("scans/"), resume=journal)

    assert (["a.pdf", "c.pdf"], ["b.pdf"]) == (
        [f.name for f in again.skipped], [f.name for f in again.uploaded]
    )
    assert (0, 1, 0) == (_sent(emu, "a.pdf"), _sent(emu, "b.pdf"), _sent(emu, "c.pdf"))
    assert b"%PDF b.pdf" == p.download_file(batch, "b.pdf")


def test_a_changed_object_is_sent_again_and_an_identical_rewrite_is_not(
    s3: S3, emu: Emulator, tmp_path: Path
) -> None:
    """New bytes of the same size change the ETag: the object is sent again and the batch
    holds the new bytes. The same bytes written again keep S3's ETag: still skipped."""
    for name in ("a.pdf", "b.pdf"):
        s3.put(f"scans/{name}", b"%PDF old " + name.encode())
    journal = tmp_path / "journal.jsonl"
    p = _aihub(emu)
    batch = p.create_batch("changed")
    assert 2 == len(p.upload(batch, s3.url("scans/"), resume=journal).uploaded)
    s3.put("scans/a.pdf", b"%PDF new a.pdf")  # same size, other bytes
    s3.put("scans/b.pdf", b"%PDF old b.pdf")  # rewritten as it was

    again = p.upload(batch, s3.url("scans/"), resume=journal)

    assert (["a.pdf"], ["b.pdf"]) == (
        [f.name for f in again.uploaded], [f.name for f in again.skipped]
    )
    assert b"%PDF new a.pdf" == p.download_file(batch, "a.pdf")


def test_a_missing_object_or_prefix_is_refused_before_anything_is_sent(
    s3: S3, emu: Emulator
) -> None:
    """Like a missing local path: "does not exist", fatal even with invalid="skip"."""
    s3.put("scans/a.pdf", b"%PDF a")
    p = _aihub(emu)
    batch = p.create_batch("missing")
    before = len(emu.requests)
    for source in (s3.url("nope/"), s3.url("scans/nope.pdf"), "s3://no-such-bucket-here/x/"):
        with pytest.raises(batchkit.InvalidInput, match="does not exist: check the URL"):
            p.upload(batch, [s3.url("scans/a.pdf"), source], invalid="skip")
    assert before == len(emu.requests)


def test_without_credentials_a_config_error_names_s3fs_configuration(
    s3: S3, emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No AWS credentials anywhere: `ConfigError` saying s3fs found none and how to
    configure them, for an upload source and a download folder, before anything is sent."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    # another option than the other tests', so fsspec builds a new filesystem (with no
    # credentials) instead of handing back the cached one
    monkeypatch.setitem(remote_module.importlib.import_module("fsspec").config.conf, "s3", {
        "client_kwargs": {"endpoint_url": s3.endpoint}, "config_kwargs": {"retries": {}},
    })
    p = _aihub(emu)
    batch = p.create_batch("no-credentials")
    before = len(emu.requests)
    with pytest.raises(batchkit.ConfigError) as info:
        p.upload(batch, s3.url("scans/"))
    assert "s3fs found no credentials" in str(info.value)
    assert "AWS_ACCESS_KEY_ID" in str(info.value)
    with pytest.raises(batchkit.ConfigError, match="s3fs found no credentials"):
        p.download(batch, s3.url("out/"))
    assert before == len(emu.requests)


# -- download into S3 ----------------------------------------------------------------------


def test_a_batch_downloads_into_an_s3_prefix_byte_exact_and_a_rerun_skips(
    s3: S3, emu: Emulator
) -> None:
    """Every file lands under the prefix byte-exact (the big one streamed in blocks); a
    rerun finds them there with their sizes and fetches nothing."""
    files = {"a.pdf": b"%PDF a", "big.bin": os.urandom(6 * 1024 * 1024 + 3), "e.txt": b""}
    p = _aihub(emu)
    batch = p.create_batch("to-s3")
    for name, data in files.items():
        p.upload_file(batch, name, data)

    report = p.download(batch, s3.url("out/"))

    assert report.ok, report
    assert (s3.url("out/"), sorted(files)) == (report.folder, [f.name for f in report.downloaded])
    assert files == {name: s3.get(f"out/{name}") for name in files}
    again = p.download(batch, s3.url("out/"))
    assert (sorted(files), []) == ([f.name for f in again.skipped], again.downloaded)


def test_a_failed_download_leaves_no_object_and_the_rerun_fetches_it(
    s3: S3, emu: Emulator
) -> None:
    """A file whose reads keep failing is reported failed and no object (partial or empty)
    appears; after the fault, a rerun fetches only that one."""
    p = _aihub(emu)
    batch = p.create_batch("atomic")
    p.upload_file(batch, "a.pdf", b"%PDF a")
    p.upload_file(batch, "big.bin", os.urandom(300_000))
    emu.faults = Faults(rules=[Fault.status(500, methods={"GET"}, paths=["*/big.bin"])])
    report = p.download(batch, s3.url("out/"))
    assert ["big.bin"] == [f.name for f in report.failed]
    assert ["out/a.pdf"] == s3.keys("out/")
    emu.faults = Faults()
    resumed = p.download(batch, s3.url("out/"))
    assert (["big.bin"], ["a.pdf"]) == (
        [f.name for f in resumed.downloaded], [f.name for f in resumed.skipped]
    )


def test_download_file_writes_to_an_s3_object_or_into_a_prefix(s3: S3, emu: Emulator) -> None:
    """`dest` ending in "/" (or naming a prefix that holds objects) receives the file under
    its name; any other URL is the object itself."""
    p = _aihub(emu)
    batch = p.create_batch("one-file")
    p.upload_file(batch, "a.pdf", b"%PDF a")
    s3.put("existing/other.txt", b"o")
    assert 6 == p.download_file(batch, "a.pdf", s3.url("into/"))
    assert 6 == p.download_file(batch, "a.pdf", s3.url("existing"))
    assert 6 == p.download_file(batch, "a.pdf", s3.url("exact/renamed.pdf"))
    assert ["exact/renamed.pdf", "existing/a.pdf", "existing/other.txt", "into/a.pdf"] == (
        s3.keys()
    )
    with pytest.raises(batchkit.InvalidInput, match="cannot be written to"):
        p.download_file(batch, "a.pdf", "https://example.com/up/")


# -- http(s) on a vendor that cannot fetch URLs --------------------------------------------


def test_an_http_url_is_streamed_to_ai_hub_through_fsspec(s3: S3, emu: Emulator) -> None:
    """AI Hub cannot fetch URLs: with fsspec (and aiohttp) here, batchkit streams the file
    itself (a presigned S3 URL: HEAD for its size, ranged GETs), named by the URL's last
    path segment, percent-decoded."""
    data = os.urandom(200_000)
    s3.put("pub/cat 1.png", data)
    presigned = s3.fs.url(f"{s3.bucket}/pub/cat 1.png")  # type: ignore[attr-defined]
    p = _aihub(emu)
    batch = p.create_batch("http")
    report = p.upload(batch, [presigned], verify="sha256")
    assert (["cat 1.png"], presigned) == ([f.name for f in report.uploaded],
                                          report.uploaded[0].source)
    assert data == p.download_file(batch, "cat 1.png")


def test_without_fsspec_an_http_url_on_ai_hub_is_refused_as_before(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fsspec: AI Hub still refuses URLs (UnsupportedOperation, nothing sent), and says
    how to stream them."""
    monkeypatch.setitem(sys.modules, "fsspec", None)
    p = _aihub(emu)
    batch = p.create_batch("no-fsspec")
    before = len(emu.requests)
    with pytest.raises(batchkit.UnsupportedOperation) as info:
        p.upload(batch, ["https://cdn.example.com/scans/cat.png"])
    assert "download the files and upload them from disk" in str(info.value)
    assert "pip install 'batchkit-client[fsspec]' aiohttp" in str(info.value)
    assert before == len(emu.requests)


# -- fsspec or its backends missing ---------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda p, b: p.upload(b, "s3://bucket/scans/"),
    lambda p, b: p.upload(b, [("a.pdf", "gs://bucket/a.pdf")]),
    lambda p, b: p.download(b, "s3://bucket/out/"),
    lambda p, b: p.download_file(b, "a.pdf", "s3://bucket/out/"),
    lambda p, b: p.upload_file(b, "a.pdf", "s3://bucket/a.pdf"),
], ids=["upload", "pair", "download", "download_file", "upload_file"])
def test_without_fsspec_a_remote_url_says_how_to_install_it(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch,
    call: Callable[[batchkit.BatchProvider, batchkit.Batch], object],
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    p = _aihub(emu)
    batch = p.create_batch("no-fsspec")
    p.upload_file(batch, "a.pdf", b"%PDF a")
    before = len(emu.requests)
    with pytest.raises(batchkit.InvalidInput, match=r"pip install 'batchkit-client\[fsspec\]'"):
        call(p, batch)
    assert before == len(emu.requests)


def test_an_unknown_protocol_is_invalid_input(emu: Emulator) -> None:
    p = _aihub(emu)
    batch = p.create_batch("unknown")
    with pytest.raises(batchkit.InvalidInput, match="fsspec knows no such protocol"):
        p.upload(batch, "nosuchproto://bucket/scans/")


def test_importing_batchkit_does_not_import_fsspec() -> None:
    """The core loads fsspec only when a remote URL is used."""
    code = "import sys, batchkit, batchkit.cli; assert 'fsspec' not in sys.modules"
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# -- memory:// (fast) ------------------------------------------------------------------------


def test_memory_upload_resume_change_and_download(
    memory: Any, emu: Emulator, tmp_path: Path
) -> None:
    """The same protocol on memory://: upload a folder (sha256-verified), rerun skips by
    version, a rewritten object goes again, and the batch downloads into another folder."""
    memory.pipe("/scans/a.pdf", b"%PDF a")
    memory.pipe("/scans/sub/b.pdf", b"%PDF b" * 1000)
    memory.pipe("/scans/.git/c.pdf", b"hidden")
    journal = tmp_path / "j.jsonl"
    p = _aihub(emu, multipart_threshold=1000)
    batch = p.create_batch("memory")
    first = p.upload(batch, "memory://scans", resume=journal, verify="sha256")
    assert ["a.pdf", "b.pdf"] == [f.name for f in first.uploaded]
    assert 2 == len(p.upload(batch, "memory://scans", resume=journal).skipped)
    memory.pipe("/scans/a.pdf", b"%PDF A")
    again = p.upload(batch, "memory://scans", resume=journal)
    assert (["a.pdf"], ["b.pdf"]) == ([f.name for f in again.uploaded],
                                      [f.name for f in again.skipped])
    report = p.download(batch, "memory://out/")
    assert report.ok
    assert {"/out/a.pdf": b"%PDF A", "/out/b.pdf": b"%PDF b" * 1000} == {
        k: memory.cat(k) for k in memory.find("/out")
    }


def test_a_remote_file_changed_while_it_is_sent_is_failed_not_uploaded(
    memory: Any, emu: Emulator, tmp_path: Path
) -> None:
    """Its version after the send is not the one before it: failed, with a `rejected`
    journal line, so the rerun sends the new version."""
    memory.pipe("/scans/a.pdf", b"%PDF a")
    memory.pipe("/scans/b.pdf", b"%PDF b")
    journal = tmp_path / "j.jsonl"

    def rewrite(event: batchkit.UploadProgress) -> None:
        if event.kind == "started" and event.name == "b.pdf":
            memory.pipe("/scans/b.pdf", b"%PDF B")

    p = _aihub(emu)
    batch = p.create_batch("moving")
    report = p.upload(batch, "memory://scans", on_progress=rewrite, resume=journal,
                      concurrency=1)
    assert (["a.pdf"], ["b.pdf"]) == ([f.name for f in report.uploaded],
                                      [f.name for f in report.failed])
    assert "changed while being uploaded" in (report.failed[0].reason or "")
    again = p.upload(batch, "memory://scans", resume=journal)
    assert ["b.pdf"] == [f.name for f in again.uploaded]
    assert b"%PDF B" == p.download_file(batch, "b.pdf")


def test_a_remote_directory_paired_with_a_name_and_invalid_names_are_listed(
    memory: Any, emu: Emulator
) -> None:
    """Planning problems of remote entries are listed with the local ones, all at once."""
    memory.pipe("/scans/README", b"no extension")
    memory.pipe("/scans/x/a.pdf", b"a")
    memory.pipe("/scans/y/a.pdf", b"a")
    p = _aihub(emu)
    batch = p.create_batch("problems")
    with pytest.raises(batchkit.InvalidInput) as info:
        p.upload(batch, ["memory://scans", ("d.pdf", "memory://scans/x")])
    message = str(info.value)
    assert "4 source(s) cannot be uploaded" in message
    assert "memory://scans/README: file name 'README' has no extension" in message
    assert "'a.pdf' would come from more than one source" in message
    assert "memory://scans/x: is a directory: pair a name with a file" in message


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_async_client_uploads_from_and_downloads_to_remote_folders(
    memory: Any, emu: Emulator, backend: str
) -> None:
    memory.pipe("/in/a.pdf", b"%PDF a")
    memory.pipe("/in/b/c.pdf", b"%PDF c" * 500)

    async def main() -> tuple[batchkit.UploadReport, batchkit.DownloadReport]:
        async with batchkit.connect_async(
            "aihub", api_root=emu.aihub_api_root, token="remote",
            transport=emu.async_transport(), multipart_threshold=1000,
        ) as p:
            batch = await p.create_batch("async")
            up = await p.upload(batch, "memory://in/", verify="sha256")
            down = await p.download(batch, f"memory://out-{backend}/")
            return up, down

    up, down = anyio.run(main, backend=backend)
    assert (2, 2) == (len(up.uploaded), len(down.downloaded))
    assert b"%PDF c" * 500 == memory.cat(f"/out-{backend}/c.pdf")


def test_file_urls_are_local_paths(emu: Emulator, tmp_path: Path) -> None:
    """file:// is the local filesystem, walked with everything a local folder gets."""
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "a b.pdf").write_bytes(b"%PDF a")
    p = _aihub(emu)
    batch = p.create_batch("file-url")
    url = (tmp_path / "scans").as_uri()
    report = p.upload(batch, url)
    assert ["a b.pdf"] == [f.name for f in report.uploaded]
    out = tmp_path / "out"
    assert p.download(batch, out.as_uri()).ok
    assert b"%PDF a" == (out / "a b.pdf").read_bytes()


def test_a_remote_download_that_starts_over_rewinds_its_object(s3: S3) -> None:
    """A ranged download that meets a new version rewinds its sink: the remote writer
    begins the object again, so only the new bytes are committed; discarding leaves none."""
    writer = remote_module.locate(s3.url("out/a.bin")).writer()
    writer.write(b"old version, half")
    assert 0 == writer.seek(0)
    writer.truncate()
    writer.write(b"new")
    writer.commit()
    assert b"new" == s3.get("out/a.bin")
    dropped = remote_module.locate(s3.url("out/b.bin")).writer()
    dropped.write(b"x" * (6 * 1024 * 1024))  # a part went up already
    dropped.discard()
    assert ["out/a.bin"] == s3.keys("out/")
