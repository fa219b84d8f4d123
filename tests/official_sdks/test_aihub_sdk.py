"""Instabase's official AI Hub SDK (``aihub`` of ``instabase-aihub``, pinned in ``_venv.py``),
unmodified, against the emulator.

The scripts in ``sdk_scripts/aihub_sdk.py`` call the SDK's public methods; these tests assert
on what they observed. Each scenario runs once per module (its own tenant); its tests check
one aspect each, so a divergence names what broke.
"""

from __future__ import annotations

from typing import Any

import pytest

from batchkit.emulator import Emulator
from batchkit.emulator.aihub import (
    EXTRACTOR_APP,
    EXTRACTOR_APP_ID,
    EXTRACTOR_DEPLOYMENT_ID,
    FAIL_APP,
)
from tests.official_sdks._venv import SdkVenv
from tests.official_sdks.conftest import SdkRun, new_runner

pytestmark = pytest.mark.official_sdks

Json = dict[str, Any]


# -- a batch's files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch_files(sdk_venv: SdkVenv, sdk_emulator: Emulator) -> Json:
    return new_runner(sdk_venv, sdk_emulator).aihub("batch_files", ib_context="my-org")


def test_a_batch_is_created_fetched_and_listed(batch_files: Json) -> None:
    batch_id = batch_files["batch_id"]
    assert isinstance(batch_id, int)
    batch = batch_files["get"]
    assert (batch_id, "invoices") == (batch["id"], batch["name"].split(" ")[0])
    assert [batch_id] == [b["id"] for b in batch_files["list"]]
    assert [batch_id] == batch_files["list_page"]


def test_uploads_small_and_multipart_are_listed_with_their_sizes(batch_files: Json) -> None:
    assert [None, None, None] == batch_files["add_file"]  # 204: the SDK returns nothing
    assert batch_files["add_large_file"] is None  # the commit's 204
    assert batch_files["add_large_file_path"] is None
    assert batch_files["session"]["session_id"]
    assert batch_files["session"]["part_size"] > 0
    assert 1 == batch_files["part"]["part_num"]
    assert batch_files["part"]["part_id"]
    assert batch_files["abort"] is None

    listed = {node["name"]: node for node in batch_files["listed"]}
    sent = batch_files["sent"]
    assert set(sent) == set(listed)  # the aborted upload left nothing behind
    assert len(listed) == len(batch_files["listed"])  # paging (2 a page) repeated nothing
    for name, node in listed.items():
        assert sent[name]["size"] == node["metadata"]["size"]
        assert "file" == node["metadata"]["node_type"]
        assert node["full_path"].endswith(f"/{name}")
    first_page = batch_files["first_page"]
    assert (2, True) == (len(first_page["names"]), first_page["has_more"])
    assert first_page["token"]


def test_uploaded_bytes_read_back_through_the_files_api(batch_files: Json) -> None:
    assert "hello\nworld\n" == batch_files["read"]
    assert "first page" == batch_files["read_range"]
    assert batch_files["sent"]["scan.bin"]["sha256"] == batch_files["read_large_sha256"]
    assert {"status": 200, "length": str(batch_files["sent"]["c.csv"]["size"])} == (
        batch_files["metadata"]
    )


def test_files_written_and_deleted_show_in_the_batch(batch_files: Json) -> None:
    assert batch_files["write"] is None
    assert sorted([*batch_files["sent"], "notes.txt"]) == batch_files["names_after_write"]
    assert (None, None) == (batch_files["delete_file"], batch_files["delete_path"])
    assert sorted(set(batch_files["sent"]) - {"b.txt"}) == batch_files["names_after_delete"]


# -- app runs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(sdk_venv: SdkVenv, sdk_emulator: Emulator) -> Json:
    return new_runner(sdk_venv, sdk_emulator).aihub(
        "runs",
        app_name=EXTRACTOR_APP,
        app_id=EXTRACTOR_APP_ID,
        deployment_id=EXTRACTOR_DEPLOYMENT_ID,
        fail_app_name=FAIL_APP,
    )


def test_a_run_starts_running_and_completes(runs: Json) -> None:
    started, finished = runs["started"], runs["finished"]
    assert "RUNNING" == started["status"]
    assert started["id"] == finished["id"]
    assert "COMPLETE" == finished["status"]
    assert finished["finish_timestamp"] >= finished["start_timestamp"]


def test_results_page_by_file_offset_and_name_every_uploaded_file(runs: Json) -> None:
    sent = runs["sent"]
    files = {f["original_file_name"]: f for f in runs["files"]}
    assert set(sent) == set(files)
    assert len(sent) == len(runs["files"])
    assert len(runs["pages"]) > 1, "13 files should take more than one results page"
    first = runs["first_page"]
    assert (runs["started"]["id"], "COMPLETE", True) == (
        first["id"],
        first["status"],
        first["has_more"],
    )
    assert str(runs["batch_id"]) == first["batch_id"]


def test_results_hold_each_files_extracted_fields(runs: Json) -> None:
    files = {f["original_file_name"]: f for f in runs["files"]}
    for name, facts in runs["sent"].items():
        (document,) = files[name]["documents"]
        fields = {field["field_name"]: field["value"] for field in document["fields"]}
        if facts["size"] == 0:  # nothing to read: every field failed, the run still completes
            assert {"ERROR"} == set(fields.values())
            continue
        assert name == fields["file_name"]
        assert str(facts["size"]) == fields["size"]
        assert facts["sha256"] == fields["sha256"]
    pages = {name: f["documents"][0]["page_numbers"] for name, f in files.items()}
    assert [1, 2] == pages["two-pages.txt"]


def test_results_with_every_include_flag_parse(runs: Json) -> None:
    document = runs["detailed_first_file"]["documents"][0]
    field = document["fields"][0]
    assert {"model", "ocr"} <= set(field["confidence"])
    assert "valid" in field["validations"]
    assert document["page_layouts"]


def test_runs_are_listed_by_app_and_status(runs: Json) -> None:
    run_id = runs["started"]["id"]
    assert run_id in [r["id"] for r in runs["listed_runs"]]
    assert run_id in runs["listed_complete"]


def test_runs_by_app_id_with_settings_and_by_deployment_complete(runs: Json) -> None:
    assert "COMPLETE" == runs["by_app_id"]["status"]
    assert {"custom": {"team": "qa"}} == runs["by_app_id_keys"]  # the run's settings.keys
    assert "COMPLETE" == runs["deployment_run"]["status"]


def test_a_failing_app_ends_failed_without_results(runs: Json) -> None:
    assert "FAILED" == runs["failed"]["status"]
    assert {"status": "FAILED", "files": 0} == runs["failed_results"]


def test_a_deleted_run_is_gone_and_its_kept_input_stays(runs: Json) -> None:
    deletion = runs["run_delete"]
    assert deletion["delete_output_dir_job_id"]
    assert deletion.get("delete_input_dir_job_id") is None  # delete_input=False
    gone = runs["status_after_delete"]
    assert ("NotFoundException", 404) == (gone["raised"], gone["status"])
    assert runs["batch_id"] == runs["batch_after_run_delete"]["id"]


# -- deleting a batch ---------------------------------------------------------------------


def test_deleting_a_batch_is_a_job_both_sdk_polls_follow(sdk: SdkRun) -> None:
    out = sdk.aihub("delete_batch")
    job_id = out["delete"]["job_id"]
    assert job_id
    assert out["first_poll"]["state"] in ("PENDING", "RUNNING", "COMPLETE")
    assert "COMPLETE" == out["job"]["state"]
    assert "COMPLETE" == out["poll_job"]["state"]
    assert ("NotFoundException", 404) == (out["get_after"]["raised"], out["get_after"]["status"])
    assert ("NotFoundException", 404) == (out["add_after"]["raised"], out["add_after"]["status"])
    assert [] == out["listed_after"]
