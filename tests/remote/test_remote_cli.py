"""`batchkit files upload BATCH s3://...` and `batchkit files download --all BATCH s3://...`:
the commands take storage URLs where they take paths."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batchkit.emulator import Emulator
from tests.cli._cli_helpers import run, run_json
from tests.remote._s3 import S3


@pytest.fixture
def aihub_env(
    served_emulator: Emulator, tenant: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Emulator:
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    monkeypatch.chdir(tmp_path)
    return served_emulator


def test_files_upload_from_s3_and_download_all_into_s3(aihub_env: Emulator, s3: S3) -> None:
    """A prefix goes up like a folder (hidden entries skipped, --name-by relative keeps the
    subfolder in the name); `--all BATCH URL` mirrors the batch into another prefix, and a
    rerun finds everything there."""
    files = {"scans/a.pdf": b"%PDF a", "scans/2026/b.pdf": b"%PDF b", "scans/.x/c.pdf": b"c"}
    for key, data in files.items():
        s3.put(key, data)
    batch = run_json("--provider", "aihub", "batches", "create", "cli-s3")["id"]

    up = run_json("--provider", "aihub", "files", "upload", batch, s3.url("scans/"),
                  "--name-by", "relative", "--resume")
    assert ["a.pdf", "2026%2Fb.pdf"] == [f["name"] for f in up["files"]]

    first = run("--provider", "aihub", "files", "download", "--all", batch, s3.url("out/"))
    assert 0 == first.exit_code, first.output
    assert "2 downloaded, 0 already there, 0 failed" in first.output
    assert {"out/a.pdf": b"%PDF a", "out/2026%2Fb.pdf": b"%PDF b"} == {
        k: s3.get(k) for k in s3.keys("out/")
    }
    again = run_json("--provider", "aihub", "files", "download", "--all", batch, "-o",
                     s3.url("out/"))
    assert ["skipped", "skipped"] == [f["status"] for f in again["files"]]


def test_files_download_of_one_file_to_s3(aihub_env: Emulator, s3: S3) -> None:
    batch = run_json("--provider", "aihub", "batches", "create", "cli-one")["id"]
    s3.put("in/a.pdf", b"%PDF a")
    assert 0 == run("--provider", "aihub", "files", "upload", batch, s3.url("in/a.pdf")).exit_code
    done = run_json("--provider", "aihub", "files", "download", batch, "a.pdf",
                    "-o", s3.url("copies/"))
    assert (s3.url("copies/"), 6) == (done["path"], done["bytes"])
    assert b"%PDF a" == s3.get("copies/a.pdf")


def test_files_download_all_takes_one_folder(aihub_env: Emulator) -> None:
    batch = run_json("--provider", "aihub", "batches", "create", "cli-usage")["id"]
    both = run("--provider", "aihub", "files", "download", "--all", batch, "out", "-o", "x")
    assert 2 == both.exit_code
    assert "--all takes one FOLDER" in both.output


def test_a_missing_prefix_is_a_usage_error_naming_it(aihub_env: Emulator, s3: S3) -> None:
    batch = run_json("--provider", "aihub", "batches", "create", "cli-missing")["id"]
    result = run("--provider", "aihub", "files", "upload", batch, s3.url("nothing/"))
    assert 2 == result.exit_code, result.output
    assert "does not exist: check the URL" in result.stderr
