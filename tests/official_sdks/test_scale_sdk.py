"""Scale's official SDK (``scaleapi``, pinned in ``_venv.py``), unmodified, against the emulator.

The scripts in ``sdk_scripts/scale_sdk.py`` call the SDK's public methods; these tests assert
on what they observed. Each scenario runs once per module (its own tenant); its tests check
one aspect each, so a divergence names what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from batchkit.emulator import Emulator
from tests.official_sdks._venv import SdkVenv
from tests.official_sdks.conftest import SdkRun, new_runner

pytestmark = pytest.mark.official_sdks

Json = dict[str, Any]


# -- a Studio project's batch: staged, canceled, finalized, worked ------------------------


@pytest.fixture(scope="module")
def lifecycle(sdk_venv: SdkVenv, sdk_emulator: Emulator) -> Json:
    return new_runner(sdk_venv, sdk_emulator).scale("batch_lifecycle")


def test_projects_are_created_fetched_and_listed(lifecycle: Json) -> None:
    name = lifecycle["project_name"]
    assert {
        "name": name,
        "type": "imageannotation",
        "version": 0,
        "instruction": "Box every cat.",
    } == lifecycle["project"]
    assert name == lifecycle["get_project"]["name"]
    assert lifecycle["get_project"]["studio"] is True
    assert [name] == lifecycle["project_names"]
    duplicate = lifecycle["duplicate_project"]
    assert ("ScaleDuplicateResource", 409) == (duplicate["raised"], duplicate["code"])


def test_a_batch_is_created_with_its_metadata_and_staged(lifecycle: Json) -> None:
    batch = lifecycle["batch"]
    assert lifecycle["batch_name"] == batch["name"]  # a "/" and a "#" in it: quoted in paths
    assert lifecycle["project_name"] == batch["project"]
    assert "staging" == batch["status"]
    assert {"team": "qa"} == batch["metadata"]
    assert "https://example.com/done" == batch["callback"]


def test_created_tasks_keep_their_fields_and_get_task_returns_them(lifecycle: Json) -> None:
    created = lifecycle["created"]
    assert 5 == len({task["task_id"] for task in created})
    for n, task in enumerate(created):
        assert "imageannotation" == task["type"]
        assert "pending" == task["status"]
        assert lifecycle["project_name"] == task["project"]
        assert lifecycle["batch_name"] == task["batch"]
        assert task["unique_id"].endswith(f"-img-{n}")
        assert {"n": n, "source": "official-sdk-test"} == task["metadata"]
        assert ["sdk", f"n{n}"] == task["tags"]
        assert "Box every cat." == task["instruction"]  # the project's default
        assert f"https://example.com/images/cat-{n}.png" == task["params"]["attachment"]
        assert ["cat", "dog"] == task["params"]["geometries"]["box"]["objects_to_annotate"]
    assert created[1] == lifecycle["get_task"]


def test_a_reused_unique_id_raises_the_sdks_duplicate_exception(lifecycle: Json) -> None:
    duplicate = lifecycle["duplicate_unique_id"]
    assert ("ScaleDuplicateResource", 409) == (duplicate["raised"], duplicate["code"])
    assert lifecycle["created"][0]["unique_id"] in duplicate["message"]


def test_tasks_page_by_next_token_and_get_tasks_walks_every_page(lifecycle: Json) -> None:
    ids = {task["task_id"] for task in lifecycle["created"]}
    first, second = lifecycle["pages"]
    assert (2, 5, True) == (len(first["ids"]), first["total"], first["has_more"])
    assert first["next_token"]
    assert (2, True) == (len(second["ids"]), second["has_more"])
    assert not set(first["ids"]) & set(second["ids"])
    walked = lifecycle["walked"]  # the SDK's generator, 2 a page: 3 requests
    assert 5 == len(walked)
    assert ids == set(walked)
    assert first["ids"] + second["ids"] == walked[:4]
    assert 5 == lifecycle["count"]


def test_task_filters_select_by_unique_id_tag_and_creation_time(lifecycle: Json) -> None:
    created = lifecycle["created"]
    assert {created[3]["task_id"], created[4]["task_id"]} == set(lifecycle["by_unique_id"])
    assert [created[2]["task_id"]] == lifecycle["by_tag"]
    assert {task["task_id"] for task in created} == set(lifecycle["created_now"])
    assert [] == lifecycle["created_later"]
    limited = lifecycle["limited"]
    assert 5 == len(limited)
    assert all({"task_id", "status"} <= set(task) for task in limited)


def test_cancel_task_cancels_once_and_can_free_the_unique_id(lifecycle: Json) -> None:
    canceled = lifecycle["canceled"]
    assert (lifecycle["created"][0]["task_id"], "canceled") == (
        canceled["task_id"],
        canceled["status"],
    )
    again = lifecycle["cancel_again"]
    assert again["raised"] is not None, "canceling a canceled task must raise (SDK docstring)"
    assert again["code"] in range(400, 500)

    cleared = lifecycle["canceled_cleared"]
    assert "canceled" == cleared["status"]
    assert cleared.get("unique_id") is None
    reused = lifecycle["reused_unique_id"]
    assert lifecycle["created"][1]["unique_id"] == reused["unique_id"]
    assert reused["task_id"] != cleared["task_id"]


def test_batch_status_counts_tasks_while_staged_and_when_worked(lifecycle: Json) -> None:
    staged = lifecycle["staged_status"]
    assert ("staging", 4, 0, 2) == (
        staged["status"],
        staged["pending"],
        staged["completed"],
        staged["canceled"],
    )
    assert {"pending": 4, "completed": 0, "error": 0, "canceled": 2} == lifecycle["staged_counts"]
    assert "in_progress" == lifecycle["finalized"]["status"]
    final = lifecycle["final_status"]
    assert ("completed", 0, 4, 0, 2) == (
        final["status"],
        final["pending"],
        final["completed"],
        final["error"],
        final["canceled"],
    )


def test_worked_tasks_carry_responses_and_filter_by_status(lifecycle: Json) -> None:
    tasks = {task["task_id"]: task for task in lifecycle["tasks"]}
    assert 6 == len(tasks)
    completed = {i for i, task in tasks.items() if task["status"] == "completed"}
    canceled = {i for i, task in tasks.items() if task["status"] == "canceled"}
    assert completed == set(lifecycle["completed_ids"])
    assert canceled == set(lifecycle["canceled_ids"])
    assert (4, 2) == (len(completed), len(canceled))
    annotations = lifecycle["response"]["annotations"]
    assert {"cat", "dog"} == {a["label"] for a in annotations}
    assert all(a["width"] >= 10 and a["height"] >= 10 for a in annotations)


def test_batches_are_listed_and_their_metadata_replaced(lifecycle: Json) -> None:
    name = lifecycle["batch_name"]
    assert "completed" == lifecycle["get_batch"]["status"]
    assert {"names": [name], "total": 1, "limit": 1, "offset": 0, "has_more": False} == (
        lifecycle["batches_page"]
    )
    assert [name] == lifecycle["completed_batches"]
    assert {"team": "qa", "round": 2} == lifecycle["set_metadata"]["metadata"]


# -- other task types ---------------------------------------------------------------------


def test_categorization_and_textcollection_tasks_are_worked(sdk: SdkRun) -> None:
    out = sdk.scale("task_types")

    created = out["categorization_created"]
    assert ("categorization", "pending") == (created["type"], created["status"])
    assert ["big", "small"] == created["params"]["categories"]
    assert {"kind": "categorization"} == created["metadata"]
    assert "Big or small?" == created["instruction"]
    assert (1, "completed") == (
        out["categorization_status"]["completed"],
        out["categorization_status"]["status"],
    )
    done = out["categorization"]
    assert "completed" == done["status"]
    assert done["response"]["category"] in ("big", "small")

    text_created = out["textcollection_created"]
    assert ("textcollection", "pending") == (text_created["type"], text_created["status"])
    assert [{"type": "text", "content": "Le Petit Prince, 1943"}] == (
        text_created["params"]["attachments"]
    )
    assert (1, "completed") == (
        out["textcollection_status"]["completed"],
        out["textcollection_status"]["status"],
    )
    text = out["textcollection"]
    assert "completed" == text["status"]
    answers = text["response"]["annotations"]
    assert {"title", "lang", "year"} == set(answers)
    assert answers["lang"] in ("en", "fr")
    assert 1900 <= answers["year"] <= 2000


# -- files --------------------------------------------------------------------------------


def test_upload_and_import_give_files_a_task_can_name(sdk: SdkRun) -> None:
    out = sdk.scale("files")

    upload = out["upload"]
    assert upload["attachment_url"].startswith("scaledata://")
    assert upload["id"] == upload["json"]["id"]
    assert upload["sent_size"] == upload["json"]["size"]
    assert "image/png" == upload["json"]["mime_type"]
    assert {"id": "kitten0"} == upload["json"]["metadata"]
    assert [f"files-{sdk.tag}"] == upload["json"]["project_names"]
    duplicate = out["duplicate_reference_id"]
    assert ("ScaleDuplicateResource", 409) == (duplicate["raised"], duplicate["code"])

    imported = out["import"]
    assert imported["attachment_url"].startswith("scaledata://")
    assert imported["id"] != upload["id"]
    assert "https://example.com/photos/puppy.jpg" == imported["json"]["file_url"]
    assert {"id": "puppy0"} == imported["json"]["metadata"]

    assert upload["attachment_url"] == out["task_created"]["params"]["attachment"]
    assert (1, 0) == (out["status"]["completed"], out["status"]["error"])
    assert out["task"]["response"]["category"] in ("kitten", "puppy")


# -- changing a task after its creation ------------------------------------------------------


@dataclass(frozen=True)
class TaskEdit:
    """One SDK call that changes a task: what it sends, where (scaleapi 2.18.4's
    ``scaleapi/__init__.py``), and what its answer must show. Every call expects a 200
    (``scaleapi/api.py:140``) and, but ``audit_task``, the task as its body (``Task`` needs
    ``task_id``, ``scaleapi/tasks.py:65``)."""

    call: str
    sends: str
    lines: str
    shows: Callable[[Json], bool] | None = None


TASK_EDITS = [
    TaskEdit(
        "set_task_metadata",
        "POST /v1/task/<id>/setMetadata, body: the metadata object",
        "161-174",
        lambda task: {"n": 0, "x": 1} == task["metadata"],
    ),
    TaskEdit(
        "set_task_tags",
        "POST /v1/task/<id>/tags, body: a list of tags",
        "176-188",
        lambda task: {"a", "b"} == set(task["tags"]),
    ),
    TaskEdit(
        "add_task_tags",
        "PUT /v1/task/<id>/tags, body: a list of tags",
        "190-203",
        lambda task: "c" in task["tags"],
    ),
    TaskEdit(
        "delete_task_tags",
        "DELETE /v1/task/<id>/tags, body: a list of tags",
        "205-217",
        lambda task: "a" not in task["tags"],
    ),
    TaskEdit(
        "update_task_unique_id",
        'POST /v1/task/<id>/unique_id, body: {"unique_id"}',
        "130-146",
        lambda task: str(task.get("unique_id")).endswith("-renamed"),
    ),
    TaskEdit(
        "clear_task_unique_id",
        "DELETE /v1/task/<id>/unique_id, no body",
        "148-159",
        lambda task: task.get("unique_id") is None,
    ),
    TaskEdit("audit_task", 'POST /v1/task/<id>/audit, body: {"accepted", "comments"}', "113-128"),
]


@pytest.fixture(scope="module")
def task_edits(sdk_venv: SdkVenv, sdk_emulator: Emulator) -> Json:
    return new_runner(sdk_venv, sdk_emulator).scale("task_edits")


@pytest.mark.parametrize("edit", TASK_EDITS, ids=[edit.call for edit in TASK_EDITS])
def test_task_edit_calls_work(task_edits: Json, edit: TaskEdit) -> None:
    outcome = task_edits[edit.call]
    assert outcome["ok"], (
        f"ScaleClient.{edit.call} (scaleapi/__init__.py:{edit.lines}) sends {edit.sends} and"
        f" expects a 200; against the emulator it raised {outcome['raised']}"
        f" ({outcome['code']}): {outcome['message']}"
    )
    if edit.shows is not None:
        assert edit.shows(outcome["result"]), outcome["result"]
