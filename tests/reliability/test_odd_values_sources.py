"""Odd values for download destinations, upload sources, upload options and connect():
refused with a typed error that says what was wrong, before any request is sent.

(The table-driven suite in test_odd_values.py checks every value is refused; these pin the
cases it does not reach and what the messages say.)
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import batchkit
from batchkit import ConfigError, InvalidInput
from batchkit.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def provider(emu: Emulator) -> Iterator[batchkit.BatchProvider]:
    with batchkit.connect(
        "aihub", transport=emu.transport(), api_root=emu.aihub_api_root, token="odd"
    ) as p:
        yield p


@pytest.fixture
def batch(provider: batchkit.BatchProvider) -> str:
    batch = provider.create_batch("odd").id
    provider.upload_file(batch, "a.pdf", b"%PDF-1.7")
    return batch


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.7")
    return path


def refused(emu: Emulator, call: Any, error: type[Exception] = InvalidInput) -> str:
    """The message of `call()`'s typed refusal, checking it sent nothing."""
    before = len(emu.requests)
    with pytest.raises(error) as caught:
        call()
    assert len(emu.requests) == before, "a refused call must send nothing"
    return str(caught.value)


# -- download destinations ------------------------------------------------------------------


@pytest.mark.parametrize("dest", [True, 0, 1.5, b"out.pdf", ["out.pdf"], {}, object()])
def test_a_download_into_something_that_is_not_a_path_or_stream_sends_nothing(
    emu, provider, batch, dest
):
    message = refused(emu, lambda: provider.download_file(batch, "a.pdf", dest))
    assert "pass None (to get the bytes), a file path, or a binary stream" in message


def test_a_download_into_a_text_stream_sends_nothing(emu, provider, batch):
    message = refused(emu, lambda: provider.download_file(batch, "a.pdf", io.StringIO()))
    assert "text stream (StringIO)" in message


def test_a_download_into_a_closed_stream_sends_nothing(emu, provider, batch):
    closed = io.BytesIO()
    closed.close()
    assert "closed BytesIO" in refused(emu, lambda: provider.download_file(batch, "a.pdf", closed))


def test_a_download_into_a_stream_open_for_reading_sends_nothing(emu, provider, batch, pdf):
    with pdf.open("rb") as read_only:
        message = refused(emu, lambda: provider.download_file(batch, "a.pdf", read_only))
    assert "opened for reading only" in message


@pytest.mark.parametrize("name", ["\ud800.pdf", "a\x00b.pdf"])
def test_a_download_to_a_path_the_system_cannot_name_sends_nothing(
    emu, provider, batch, tmp_path, name
):
    dest = str(tmp_path / name)
    assert "cannot save to" in refused(emu, lambda: provider.download_file(batch, "a.pdf", dest))


# -- upload_file / fs_write data ------------------------------------------------------------


@pytest.mark.parametrize("data", ["\x00", "a\x00b.pdf", "\ud800.pdf"])
def test_upload_data_naming_an_impossible_path_is_invalid_input(emu, provider, batch, data):
    message = refused(emu, lambda: provider.upload_file(batch, "b.pdf", data))
    assert message.startswith("upload path ")


# -- upload(...) ----------------------------------------------------------------------------


def test_an_empty_source_path_is_refused_not_taken_as_the_current_directory(
    emu, provider, batch
):
    assert "empty path" in refused(emu, lambda: provider.upload(batch, ""))


@pytest.mark.parametrize("source", ["a\x00b.pdf", "\ud800.pdf"])
def test_a_source_path_the_system_cannot_name_is_refused(emu, provider, batch, source):
    assert refused(emu, lambda: provider.upload(batch, [source])).startswith("upload source ")


@pytest.mark.parametrize("on_progress", ["print", 0, True])
def test_an_on_progress_that_cannot_be_called_is_refused_up_front(
    emu, provider, batch, pdf, on_progress
):
    message = refused(emu, lambda: provider.upload(batch, pdf, on_progress=on_progress))
    assert "on_progress must be a function" in message


@pytest.mark.parametrize("strict", [None, 0, 1, "yes"])
def test_strict_must_be_a_bool(emu, provider, batch, pdf, strict):
    message = refused(emu, lambda: provider.upload(batch, pdf, strict=strict))
    assert "strict must be True or False" in message


@pytest.mark.parametrize("globs", [True, 3, 1.5, object(), b"*.pdf"])
def test_include_that_is_not_globs_is_refused(emu, provider, batch, pdf, globs):
    message = refused(emu, lambda: provider.upload(batch, pdf, include=globs))
    assert "include must be a glob (str) or a list of globs" in message


def test_a_glob_longer_than_the_limit_is_refused_without_compiling_it(emu, provider, batch, pdf):
    message = refused(emu, lambda: provider.upload(batch, pdf, exclude="x" * 1_000_000))
    assert "1000000 characters: the limit is 4096" in message
    assert len(message) < 300


def test_a_resume_journal_that_is_a_directory_is_refused_before_any_request(
    emu, provider, batch, pdf, tmp_path
):
    message = refused(emu, lambda: provider.upload(batch, pdf, resume=str(tmp_path)))
    assert "is a directory" in message


@pytest.mark.parametrize("resume", ["", "a\x00b", "\ud800.jsonl", "x" * 1_000_000])
def test_a_resume_path_that_cannot_be_a_journal_is_refused_before_any_request(
    emu, provider, batch, pdf, resume
):
    message = refused(emu, lambda: provider.upload(batch, pdf, resume=resume))
    assert "resume journal" in message
    assert len(message) < 300


def test_a_resume_file_that_is_not_a_journal_is_refused_before_any_request(
    emu, provider, batch, pdf, tmp_path
):
    other = tmp_path / "notes.txt"
    other.write_text("not a journal\n")
    message = refused(emu, lambda: provider.upload(batch, pdf, resume=other))
    assert "is not a batchkit upload journal" in message
    assert other.read_text() == "not a journal\n"


# -- connect() ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [True, 1, 1.5, ["prod"], {"a": 1}, object()])
def test_a_profile_that_is_not_a_name_is_a_config_error(profile):
    with pytest.raises(ConfigError, match="profile must be a name"):
        batchkit.connect(profile=profile)


@pytest.mark.parametrize("provider", [1, ["aihub"], object()])
def test_a_provider_that_is_not_a_name_is_a_config_error(provider):
    with pytest.raises(ConfigError, match="provider must be a name"):
        batchkit.connect(provider, token="t")


@pytest.mark.parametrize("config", [True, 0, b"batchkit.toml", ["batchkit.toml"], object()])
def test_a_config_that_is_not_a_path_is_a_config_error(config):
    with pytest.raises(ConfigError, match=r"^config \(the path of a batchkit\.toml.*must be"):
        batchkit.connect("aihub", config=config, token="t")


def test_an_empty_config_path_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^config \(.*\) is an empty path"):
        batchkit.connect("aihub", config="", token="t")
