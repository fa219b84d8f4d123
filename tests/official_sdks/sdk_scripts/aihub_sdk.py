"""Drives Instabase's official AI Hub SDK (``aihub``, from ``instabase-aihub``) against an API
root; runs inside the SDK venv.

Imports only the SDK and the standard library: nothing of batchkit. Usage::

    python -I aihub_sdk.py <scenario>   # config JSON on stdin: {"api_root", "api_key", "tag", …}

Prints one JSON object (what the scenario observed) on stdout. An unexpected SDK error ends
the script with its traceback on stderr and exit status 1.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from aihub import AIHub
from aihub.exceptions import ApiException

Json = dict[str, Any]

WAIT_SECONDS = 20.0
MiB = 1024 * 1024


def client(config: Json, ib_context: str | None = None) -> AIHub:
    """The SDK's client, pointed at the emulator by its documented ``api_root``."""
    return AIHub(api_key=config["api_key"], api_root=config["api_root"], ib_context=ib_context)


def raised(call: Callable[[], object]) -> Json:
    """Run a call that should fail; what the SDK raised (class, HTTP status, body)."""
    try:
        result = call()
    except ApiException as exc:
        return {"raised": type(exc).__name__, "status": exc.status, "body": exc.body}
    return {"raised": None, "returned": repr(result)}


def dumped(model: Any) -> Any:
    """A model the SDK parsed, as JSON (its own ``to_dict``)."""
    return None if model is None else model.to_dict()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_until(fetch: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Call ``fetch`` until ``done`` holds of its answer (or time is up); the last answer."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        answer = fetch()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def all_files(hub: AIHub, batch_id: int, page_size: int | None = None) -> list[Any]:
    """Every file of the batch, following ``next_page_token`` while ``has_more``."""
    nodes: list[Any] = []
    token = None
    while True:
        page = hub.batches.list_files(batch_id, page_size=page_size, start_token=token)
        nodes.extend(page.nodes or [])
        if not page.has_more:
            return nodes
        token = page.next_page_token


def all_results(hub: AIHub, run_id: str) -> tuple[list[Any], list[int]]:
    """Every file's results of the run, paged by ``file_offset`` as the spec's sample does;
    and the page sizes seen."""
    files: list[Any] = []
    pages: list[int] = []
    while True:
        page = hub.apps.runs.results(run_id, file_offset=len(files))
        files.extend(page.files or [])
        pages.append(len(page.files or []))
        if not page.has_more:
            return files, pages


def wait_for_run(hub: AIHub, run_id: str) -> Any:
    return wait_until(lambda: hub.apps.runs.status(run_id), lambda run: run.status != "RUNNING")


def batch_files(config: Json) -> Json:
    """A batch: small and multipart uploads, paged listing, reads, deletions of files."""
    hub = client(config, ib_context=config.get("ib_context"))
    out: Json = {}
    batch = hub.batches.create(f"invoices {config['tag']}")
    batch_id = batch.id
    out["batch_id"] = batch_id

    small = {
        "a.txt": b"hello\nworld\n",
        "b.txt": b"first page\fsecond page",
        "c.csv": b"x,y\n1,2\n",
    }
    out["add_file"] = [
        hub.batches.add_file(batch_id, "a.txt", small["a.txt"]),  # bytes
        hub.batches.add_file(batch_id, "b.txt", io.BytesIO(small["b.txt"])),  # a file object
        hub.batches.add_file(batch_id, "c.csv", small["c.csv"]),
    ]

    # more than one part of the default 10 MiB part size: two parts through the SDK's helper
    large = (bytes(range(256)) * (4 * 1024))[: 10 * MiB + 1000]
    out["add_large_file"] = hub.batches.add_large_file(batch_id, "scan.bin", large)
    on_disk = b"%PDF-1.4 a small file, uploaded from its path\n"
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/report.pdf"
        with open(path, "wb") as file:
            file.write(on_disk)
        out["add_large_file_path"] = hub.batches.add_large_file(batch_id, "report.pdf", path)
    session = hub.batches.create_multipart_upload_session(batch_id, "abandoned.bin", 5)
    out["session"] = dumped(session)
    part = hub.batches.upload_multipart_part(session.session_id, 1, b"12345")
    out["part"] = dumped(part)
    out["abort"] = hub.batches.commit_multipart_upload_session(session.session_id, "abort")
    out["sent"] = {
        name: {"size": len(data), "sha256": sha256(data)}
        for name, data in {**small, "scan.bin": large, "report.pdf": on_disk}.items()
    }

    nodes = all_files(hub, batch_id, page_size=2)
    out["listed"] = [dumped(node) for node in nodes]
    first_page = hub.batches.list_files(batch_id, page_size=2)
    out["first_page"] = {
        "names": [n.name for n in first_page.nodes or []],
        "has_more": first_page.has_more,
        "token": first_page.next_page_token,
    }

    out["get"] = dumped(hub.batches.get(batch_id))
    out["list"] = [dumped(b) for b in hub.batches.list().batches or []]
    out["list_page"] = [b.id for b in hub.batches.list(limit=1, offset=0).batches or []]

    paths = {node.name: node.full_path for node in nodes}
    out["read"] = hub.files.read(paths["a.txt"]).decode()
    out["read_range"] = hub.files.read(paths["b.txt"], range="bytes=0-9").decode()
    out["read_large_sha256"] = sha256(hub.files.read(paths["scan.bin"]))
    metadata = hub.files.get_file_metadata(paths["c.csv"])
    out["metadata"] = {
        "status": metadata.status_code,
        "length": dict(metadata.headers or {}).get("content-length"),
    }

    folder = paths["a.txt"].rsplit("/", 1)[0]
    out["write"] = hub.files.write(f"{folder}/notes.txt", b"written through the Files API")
    out["names_after_write"] = sorted(n.name for n in all_files(hub, batch_id))

    out["delete_file"] = hub.batches.delete_file(batch_id, "b.txt")
    out["delete_path"] = hub.files.delete(f"{folder}/notes.txt")
    # neither deletion can be polled through the SDK (it drops the 202's Location): a user
    # lists until the files are gone
    remaining = wait_until(
        lambda: sorted(n.name for n in all_files(hub, batch_id)),
        lambda names: "b.txt" not in names and "notes.txt" not in names,
    )
    out["names_after_delete"] = remaining
    return out


def runs(config: Json) -> Json:
    """Run the emulator's extractor app on a batch (by name, by id and by deployment), wait
    for it, read its results; a failing app; delete a run."""
    hub = client(config)
    out: Json = {}
    batch_id = hub.batches.create(f"run input {config['tag']}").id
    out["batch_id"] = batch_id
    contents = {f"doc-{n:02d}.txt": f"document {n}\nbody of {n}\n".encode() for n in range(11)}
    contents["two-pages.txt"] = b"page one\fpage two"
    contents["empty.txt"] = b""
    for name, data in contents.items():
        hub.batches.add_file(batch_id, name, data)
    out["sent"] = {
        name: {"size": len(data), "sha256": sha256(data)} for name, data in contents.items()
    }

    started = hub.apps.runs.create(app_name=config["app_name"], batch_id=batch_id)
    out["started"] = dumped(started)
    out["finished"] = dumped(wait_for_run(hub, started.id))
    files, pages = all_results(hub, started.id)
    out["pages"] = pages
    out["files"] = [dumped(f) for f in files]
    first = hub.apps.runs.results(started.id)
    out["first_page"] = {key: value for key, value in dumped(first).items() if key != "files"}
    detailed = hub.apps.runs.results(
        started.id,
        include_confidence_scores=True,
        include_source_info=True,
        include_review_results=True,
        include_validation_results=True,
    )
    out["detailed_first_file"] = dumped((detailed.files or [None])[0])
    out["listed_runs"] = [
        dumped(r) for r in hub.apps.runs.list(app_name=config["app_name"]).runs or []
    ]
    out["listed_complete"] = [r.id for r in hub.apps.runs.list(status=["COMPLETE"]).runs or []]

    by_id = hub.apps.runs.create(
        app_id=config["app_id"],
        batch_id=batch_id,
        version="1.0.0",
        settings={"keys": {"custom": {"team": "qa"}}},
    )
    out["by_app_id"] = dumped(wait_for_run(hub, by_id.id))
    out["by_app_id_keys"] = dumped(hub.apps.runs.results(by_id.id).keys)
    deployed = hub.apps.deployments.runs.create(config["deployment_id"], batch_id=batch_id)
    out["deployment_run"] = dumped(wait_for_run(hub, deployed.id))

    failing = hub.apps.runs.create(app_name=config["fail_app_name"], batch_id=batch_id)
    out["failed"] = dumped(wait_for_run(hub, failing.id))
    failed_results = hub.apps.runs.results(failing.id)
    out["failed_results"] = {
        "status": failed_results.status,
        "files": len(failed_results.files or []),
    }

    deleted = hub.apps.runs.delete(by_id.id, delete_input=False)
    out["run_delete"] = dumped(deleted)
    out["status_after_delete"] = raised(lambda: hub.apps.runs.status(by_id.id))
    out["batch_after_run_delete"] = dumped(hub.batches.get(batch_id))
    return out


def delete_batch(config: Json) -> Json:
    """Delete a batch: the async job, polled at both of the SDK's job calls."""
    hub = client(config)
    out: Json = {}
    batch_id = hub.batches.create(f"short-lived {config['tag']}").id
    hub.batches.add_file(batch_id, "only.txt", b"soon gone")
    job = hub.batches.delete(batch_id)
    out["delete"] = dumped(job)
    out["first_poll"] = dumped(hub.batches.poll_job(job.job_id))
    out["job"] = dumped(
        wait_until(lambda: hub.jobs.status(job.job_id), lambda s: s.state == "COMPLETE")
    )
    out["poll_job"] = dumped(hub.batches.poll_job(job.job_id))
    out["get_after"] = raised(lambda: hub.batches.get(batch_id))
    out["add_after"] = raised(lambda: hub.batches.add_file(batch_id, "late.txt", b"late"))
    out["listed_after"] = [b.id for b in hub.batches.list().batches or []]
    return out


SCENARIOS: dict[str, Callable[[Json], Json]] = {
    "batch_files": batch_files,
    "runs": runs,
    "delete_batch": delete_batch,
}


def main() -> int:
    config = json.load(sys.stdin)
    result = SCENARIOS[sys.argv[1]](config)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
