"""Downloads to paths are atomic and their destination errors are typed (found in review:
a failed download used to truncate an existing file to 0 bytes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import batchkit
from batchkit import InvalidInput, NotFound
from batchkit.cli._app import cli
from batchkit.emulator import Emulator


@pytest.fixture
def aihub(served_emulator: Emulator, tenant: str) -> Iterator[batchkit.BatchProvider]:
    with batchkit.connect(
        "aihub", api_root=served_emulator.aihub_api_root, token=tenant
    ) as provider:
        yield provider


@pytest.fixture
def batch_id(aihub: batchkit.BatchProvider) -> str:
    batch = aihub.create_batch("downloads")
    aihub.upload_file(batch, "a.pdf", b"%PDF-1.7 abc")
    return batch.id


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_failed_download_leaves_an_existing_file_untouched(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    precious = tmp_path / "keep.pdf"
    precious.write_bytes(b"precious data")
    with pytest.raises(NotFound):
        aihub.download_file(batch_id, "missing.pdf", precious)
    assert b"precious data" == precious.read_bytes()
    assert ["keep.pdf"] == _listing(tmp_path)  # no temporary file left behind


def test_a_failed_download_creates_no_file(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        aihub.download_file(batch_id, "missing.pdf", tmp_path / "new.pdf")
    assert [] == _listing(tmp_path)


def test_a_successful_download_replaces_the_file_and_a_directory_receives_the_name(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    old = tmp_path / "out.pdf"
    old.write_bytes(b"old contents, longer than the new ones")
    assert 12 == aihub.download_file(batch_id, "a.pdf", old)
    assert b"%PDF-1.7 abc" == old.read_bytes()
    assert 12 == aihub.download_file(batch_id, "a.pdf", tmp_path)
    assert b"%PDF-1.7 abc" == (tmp_path / "a.pdf").read_bytes()
    assert ["a.pdf", "out.pdf"] == _listing(tmp_path)


@pytest.mark.parametrize("dest", ["no-such-dir/out.pdf", "no-such-dir/"])
def test_a_destination_in_a_missing_directory_is_invalid_input_before_any_request(
    aihub: batchkit.BatchProvider,
    batch_id: str,
    tmp_path: Path,
    served_emulator: Emulator,
    tenant: str,
    dest: str,
) -> None:
    before = len([r for r in served_emulator.requests if r.tenant == tenant])
    with pytest.raises(InvalidInput, match="does not exist"):
        aihub.download_file(batch_id, "a.pdf", f"{tmp_path}/{dest}")
    assert before == len([r for r in served_emulator.requests if r.tenant == tenant])
    assert [] == _listing(tmp_path)


@pytest.mark.parametrize(
    ("name", "output"),
    [("bad/name.pdf", None), ("a.pdf", "/nonexistent-dir-batchkit/x.pdf"), ("a.pdf", "nope/")],
)
def test_the_command_reports_bad_destinations_as_usage_errors(
    served_emulator: Emulator,
    tenant: str,
    batch_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    output: str | None,
) -> None:
    """A bad name or a missing directory: exit 2, one `error:` line, no file created."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    args = ["--provider", "aihub", "files", "download", batch_id, name]
    if output is not None:
        args += ["-o", output]
    result = CliRunner().invoke(cli, args, prog_name="batchkit")
    assert 2 == result.exit_code, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert [] == _listing(tmp_path)


def test_an_existing_file_keeps_its_permissions_and_a_symlink_is_followed(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    private = tmp_path / "private.pdf"
    private.write_bytes(b"old")
    private.chmod(0o600)
    aihub.download_file(batch_id, "a.pdf", private)
    assert (0o600, b"%PDF-1.7 abc") == (private.stat().st_mode & 0o777, private.read_bytes())
    link = tmp_path / "link.pdf"
    link.symlink_to(private)
    private.write_bytes(b"old")
    aihub.download_file(batch_id, "a.pdf", link)
    assert link.is_symlink()
    assert b"%PDF-1.7 abc" == private.read_bytes()


def test_a_device_is_written_to_not_replaced(aihub: batchkit.BatchProvider, batch_id: str) -> None:
    """Downloading to /dev/null discards the bytes; it must never replace the device."""
    assert 12 == aihub.download_file(batch_id, "a.pdf", "/dev/null")
    assert Path("/dev/null").is_char_device()


def test_a_name_at_the_length_limit_downloads_to_a_path(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    """The temporary file's name does not grow with the target's (255-byte names work)."""
    name = "n" * 251 + ".pdf"
    aihub.upload_file(batch_id, name, b"long")
    assert 4 == aihub.download_file(batch_id, name, tmp_path)
    assert [name] == _listing(tmp_path)


def test_a_symlink_loop_is_invalid_input(
    aihub: batchkit.BatchProvider, batch_id: str, tmp_path: Path
) -> None:
    loop = tmp_path / "loop.pdf"
    loop.symlink_to(loop)
    with pytest.raises(InvalidInput, match="cannot write"):
        aihub.download_file(batch_id, "a.pdf", loop)


def test_a_name_too_long_for_the_filesystem_is_refused_before_downloading(
    aihub: batchkit.BatchProvider,
    batch_id: str,
    tmp_path: Path,
    served_emulator: Emulator,
    tenant: str,
) -> None:
    """130 characters but 256 UTF-8 bytes: a valid batch name, too long as a local name."""
    name = "\u00e9" * 126 + ".pdf"
    aihub.upload_file(batch_id, name, b"x")
    before = len([r for r in served_emulator.requests if r.tenant == tenant])
    with pytest.raises(InvalidInput, match="longer than this filesystem allows"):
        aihub.download_file(batch_id, name, tmp_path)
    assert before == len([r for r in served_emulator.requests if r.tenant == tenant])
    assert [] == _listing(tmp_path)
