"""Drives Scale's official SDK (``scaleapi``) against an API root; runs inside the SDK venv.

Imports only the SDK and the standard library: nothing of batchkit. Usage::

    python -I scale_sdk.py <scenario>   # config JSON on stdin: {"api_root", "api_key", "tag"}

Prints one JSON object (what the scenario observed) on stdout. An unexpected SDK error ends
the script with its traceback on stderr and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import scaleapi
from scaleapi.batches import BatchStatus
from scaleapi.exceptions import ScaleException
from scaleapi.tasks import TaskStatus, TaskType

Json = dict[str, Any]

WAIT_SECONDS = 20.0


def client(config: Json) -> scaleapi.ScaleClient:
    """The SDK's client, pointed at the emulator by its documented ``api_instance_url``."""
    return scaleapi.ScaleClient(config["api_key"], api_instance_url=config["api_root"])


def raised(call: Callable[[], object]) -> Json:
    """Run a call that should fail; what the SDK raised (class, status code, message)."""
    try:
        result = call()
    except ScaleException as exc:
        return {
            "raised": type(exc).__name__,
            "code": exc.code,
            "message": str(exc.message),
            "is_scale_exception": True,
        }
    return {"raised": None, "returned": repr(result)}


def attempt(call: Callable[[], Any]) -> Json:
    """Run a call that should succeed, keeping its outcome instead of stopping the script."""
    try:
        result = call()
    except ScaleException as exc:
        return {
            "ok": False,
            "raised": type(exc).__name__,
            "code": exc.code,
            "message": str(exc.message),
        }
    except Exception as exc:  # the SDK choking on an answer is an outcome too
        return {"ok": False, "raised": type(exc).__name__, "code": None, "message": str(exc)}
    as_dict = getattr(result, "as_dict", None)
    return {"ok": True, "result": as_dict() if callable(as_dict) else result}


def wait_for_batch(scale: scaleapi.ScaleClient, name: str, status: str) -> Json:
    """Poll the batch status (the SDK's ``batch_status``) until it reads ``status``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        counts: Json = scale.batch_status(name)
        if counts["status"] == status or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def image_task(batch: str, n: int, unique_id: str) -> Json:
    return {
        "batch": batch,
        "attachment": f"https://example.com/images/cat-{n}.png",
        "attachment_type": "image",
        "geometries": {
            "box": {"objects_to_annotate": ["cat", "dog"], "min_width": 10, "min_height": 10}
        },
        "unique_id": unique_id,
        "metadata": {"n": n, "source": "official-sdk-test"},
        "tags": ["sdk", f"n{n}"],
    }


def batch_lifecycle(config: Json) -> Json:
    """A Studio project's batch: staged tasks, paging, cancel, finalize, worked, counted."""
    scale = client(config)
    tag = config["tag"]
    project_name, batch_name = f"cats-{tag}", f"cats-{tag}/batch #1"
    out: Json = {"project_name": project_name, "batch_name": batch_name}

    project = scale.create_project(
        project_name,
        TaskType.ImageAnnotation,
        params={"instruction": "Box every cat."},
        studio=True,
    )
    out["project"] = {
        "name": project.name,
        "type": project.type,
        "version": project.version,
        "instruction": project.instruction,
    }
    out["get_project"] = scale.get_project(project_name).as_dict()
    out["project_names"] = [p.name for p in scale.get_projects()]
    out["duplicate_project"] = raised(
        lambda: scale.create_project(project_name, TaskType.ImageAnnotation)
    )

    batch = scale.create_batch(
        project_name, batch_name, callback="https://example.com/done", metadata={"team": "qa"}
    )
    out["batch"] = batch.as_dict()

    created = [
        scale.create_task(TaskType.ImageAnnotation, **image_task(batch_name, n, f"{tag}-img-{n}"))
        for n in range(5)
    ]
    out["created"] = [task.as_dict() for task in created]
    out["duplicate_unique_id"] = raised(
        lambda: scale.create_task(
            TaskType.ImageAnnotation, **image_task(batch_name, 9, f"{tag}-img-0")
        )
    )
    out["get_task"] = scale.get_task(created[1].id).as_dict()

    first = scale.tasks(batch=batch_name, limit=2)
    second = scale.tasks(batch=batch_name, limit=2, next_token=first.next_token)
    out["pages"] = [
        {
            "ids": [t.id for t in page.docs],
            "total": page.total,
            "limit": page.limit,
            "has_more": page.has_more,
            "next_token": page.next_token,
        }
        for page in (first, second)
    ]
    out["walked"] = [t.id for t in scale.get_tasks(batch_name=batch_name, limit=2)]
    out["count"] = scale.get_tasks_count(project_name=project_name)
    out["by_unique_id"] = [
        t.id
        for t in scale.get_tasks(
            project_name=project_name, unique_id=[f"{tag}-img-3", f"{tag}-img-4"]
        )
    ]
    out["by_tag"] = [t.id for t in scale.get_tasks(batch_name=batch_name, tags="n2")]
    # the time format of the SDK's docstrings: 'YYYY-MM-DD HH:MM:SS.mmmmmm', UTC
    now = dt.datetime.now(dt.UTC)
    window = [
        (now - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
        (now + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
    ]
    out["created_now"] = [
        t.id
        for t in scale.get_tasks(
            batch_name=batch_name, created_after=window[0], created_before=window[1]
        )
    ]
    out["created_later"] = [
        t.id for t in scale.get_tasks(batch_name=batch_name, created_after=window[1])
    ]
    out["limited"] = [
        t.as_dict() for t in scale.get_tasks(batch_name=batch_name, limited_response=True)
    ]

    out["canceled"] = scale.cancel_task(created[0].id).as_dict()
    out["cancel_again"] = raised(lambda: scale.cancel_task(created[0].id))
    cleared = scale.cancel_task(created[1].id, clear_unique_id=True)
    out["canceled_cleared"] = cleared.as_dict()
    out["reused_unique_id"] = scale.create_task(
        TaskType.ImageAnnotation, **image_task(batch_name, 1, f"{tag}-img-1")
    ).as_dict()

    staged = scale.get_batch(batch_name)
    out["staged_status"] = staged.get_status()
    out["staged_counts"] = {
        "pending": staged.tasks_pending,
        "completed": staged.tasks_completed,
        "error": staged.tasks_error,
        "canceled": staged.tasks_canceled,
    }
    finalized = staged.finalize()
    out["finalized"] = finalized.as_dict()
    out["final_status"] = wait_for_batch(scale, batch_name, "completed")

    out["tasks"] = [t.as_dict() for t in scale.get_tasks(batch_name=batch_name)]
    out["completed_ids"] = [
        t.id for t in scale.get_tasks(batch_name=batch_name, status=TaskStatus.Completed)
    ]
    out["canceled_ids"] = [
        t.id
        for t in scale.get_tasks(
            batch_name=batch_name, status=TaskStatus.Canceled, task_type=TaskType.ImageAnnotation
        )
    ]
    task = scale.get_task(created[2].id)
    out["response"] = task.response

    out["get_batch"] = scale.get_batch(batch_name).as_dict()
    listed = scale.batches(project=project_name, limit=1, offset=0, exclude_archived=True)
    out["batches_page"] = {
        "names": [b.name for b in listed.docs],
        "total": listed.total,
        "limit": listed.limit,
        "offset": listed.offset,
        "has_more": listed.has_more,
    }
    out["completed_batches"] = [
        b.name
        for b in scale.get_batches(
            project_name=project_name,
            batch_status=BatchStatus.Completed,
            created_after="2020-01-01",
        )
    ]
    out["set_metadata"] = scale.set_batch_metadata(batch_name, {"team": "qa", "round": 2}).as_dict()
    return out


def task_types(config: Json) -> Json:
    """Categorization and text collection tasks in standard projects, worked at once."""
    scale = client(config)
    tag = config["tag"]
    out: Json = {}

    scale.create_project(
        f"sizes-{tag}", TaskType.Categorization, params={"instruction": "Big or small?"}
    )
    scale.create_batch(f"sizes-{tag}", f"sizes-{tag}-b")
    categorization = scale.create_task(
        TaskType.Categorization,
        project=f"sizes-{tag}",
        batch=f"sizes-{tag}-b",
        attachment="an elephant",
        attachment_type="text",
        categories=["big", "small"],
        unique_id=f"{tag}-cat",
        metadata={"kind": "categorization"},
    )
    out["categorization_created"] = categorization.as_dict()

    fields = [
        {"type": "text", "field_id": "title", "title": "Title"},
        {
            "type": "category",
            "field_id": "lang",
            "title": "Language",
            "choices": [{"label": "English", "value": "en"}, {"label": "French", "value": "fr"}],
        },
        {"type": "number", "field_id": "year", "title": "Year", "min": 1900, "max": 2000},
    ]
    scale.create_project(
        f"forms-{tag}", TaskType.TextCollection, params={"instruction": "Transcribe the form."}
    )
    scale.create_batch(f"forms-{tag}", f"forms-{tag}-b")
    textcollection = scale.create_task(
        TaskType.TextCollection,
        batch=f"forms-{tag}-b",
        attachments=[{"type": "text", "content": "Le Petit Prince, 1943"}],
        fields=fields,
        unique_id=f"{tag}-text",
        metadata={"kind": "textcollection"},
    )
    out["textcollection_created"] = textcollection.as_dict()

    out["categorization_status"] = wait_for_batch(scale, f"sizes-{tag}-b", "completed")
    out["textcollection_status"] = wait_for_batch(scale, f"forms-{tag}-b", "completed")
    done = scale.get_task(categorization.id)
    out["categorization"] = done.as_dict()
    text_done = scale.get_task(textcollection.id)
    text_done.refresh()
    out["textcollection"] = text_done.as_dict()
    return out


def files(config: Json) -> Json:
    """Upload a file and import one by URL; a task names the upload as its attachment."""
    scale = client(config)
    tag = config["tag"]
    out: Json = {}
    project_name = f"files-{tag}"
    scale.create_project(project_name, TaskType.Categorization, params={"instruction": "Which?"})

    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    buffer = io.BytesIO(content)
    buffer.name = "kitten.png"  # requests takes the multipart file name from .name
    uploaded = scale.upload_file(
        buffer,
        project_name=project_name,
        display_name="Kitten",
        reference_id=f"{tag}-kitten",
        metadata=json.dumps({"id": "kitten0"}),
    )
    out["upload"] = {
        "id": uploaded.id,
        "attachment_url": uploaded.attachment_url,
        "json": uploaded.as_dict(),
        "sent_size": len(content),
    }
    out["duplicate_reference_id"] = raised(
        lambda: scale.upload_file(io.BytesIO(b"other"), reference_id=f"{tag}-kitten")
    )
    imported = scale.import_file(
        "https://example.com/photos/puppy.jpg",
        project_name=project_name,
        reference_id=f"{tag}-puppy",
        metadata={"id": "puppy0"},
    )
    out["import"] = {
        "id": imported.id,
        "attachment_url": imported.attachment_url,
        "json": imported.as_dict(),
    }

    scale.create_batch(project_name, f"{project_name}-b")
    task = scale.create_task(
        TaskType.Categorization,
        batch=f"{project_name}-b",
        attachment=uploaded.attachment_url,
        attachment_type="image",
        categories=["kitten", "puppy"],
        unique_id=f"{tag}-file-task",
    )
    out["task_created"] = task.as_dict()
    out["status"] = wait_for_batch(scale, f"{project_name}-b", "completed")
    out["task"] = scale.get_task(task.id).as_dict()
    return out


def task_edits(config: Json) -> Json:
    """The SDK's calls that change a task after its creation, each with its own outcome."""
    scale = client(config)
    tag = config["tag"]
    project_name = f"edits-{tag}"
    scale.create_project(
        project_name, TaskType.Categorization, params={"instruction": "Big or small?"}
    )
    scale.create_batch(project_name, f"{project_name}-b")

    def new_task(n: int) -> Any:
        return scale.create_task(
            TaskType.Categorization,
            batch=f"{project_name}-b",
            attachment=f"thing {n}",
            attachment_type="text",
            categories=["big", "small"],
            unique_id=f"{tag}-edit-{n}",
            tags=["start"],
            metadata={"n": n},
        )

    tasks = [new_task(n) for n in range(2)]
    wait_for_batch(scale, f"{project_name}-b", "completed")  # audits need completed tasks
    task_id, other_id = tasks[0].id, tasks[1].id
    return {
        "task_id": task_id,
        "set_task_metadata": attempt(lambda: scale.set_task_metadata(task_id, {"n": 0, "x": 1})),
        "set_task_tags": attempt(lambda: scale.set_task_tags(task_id, ["a", "b"])),
        "add_task_tags": attempt(lambda: scale.add_task_tags(task_id, ["c"])),
        "delete_task_tags": attempt(lambda: scale.delete_task_tags(task_id, ["a"])),
        "update_task_unique_id": attempt(
            lambda: scale.update_task_unique_id(task_id, f"{tag}-renamed")
        ),
        "clear_task_unique_id": attempt(lambda: scale.clear_task_unique_id(other_id)),
        "audit_task": attempt(lambda: scale.audit_task(task_id, True, "looks right")),
        "after": scale.get_task(task_id).as_dict(),
    }


SCENARIOS: dict[str, Callable[[Json], Json]] = {
    "batch_lifecycle": batch_lifecycle,
    "task_types": task_types,
    "files": files,
    "task_edits": task_edits,
}


def main() -> int:
    config = json.load(sys.stdin)
    result = SCENARIOS[sys.argv[1]](config)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
