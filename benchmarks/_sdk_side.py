"""The vendor-SDK side of `benchmarks/sdks.py`, run in the SDK venv (never batchkit's).

    <sdk-venv>/bin/python benchmarks/_sdk_side.py '{"side": "aihub-upload", ...}'

runs one side of one workload and prints one JSON line: its wall seconds, CPU seconds and
peak-RSS growth over the timed part only, plus what it counted. A failure prints
`{"error": ...}` (the exception and the traceback that names the SDK call) and exits 1.

At module level this file imports the standard library only, so `sdks.py` imports the
measuring helpers below from batchkit's venv. The SDKs (`aihub`, `scaleapi`) and urllib3 (the
HTTP library both send with: aihub directly, scaleapi through requests; it comes with them)
are imported inside the functions that use them. Each workload is written as the SDK's own
README shows it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

Spec = dict[str, Any]
Result = dict[str, Any]

MiB = 1024 * 1024
#: what every Scale task of the labeling workload asks for (B7 in run.py)
BOXES = {"box": {"objects_to_annotate": ["cat"]}}


# -- measuring (shared with sdks.py) ------------------------------------------------------


def _status_mib(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mib() -> float:
    """Resident memory of this process now (VmRSS), MiB."""
    return _status_mib("VmRSS:")


def rss_peak_mib() -> float:
    """Peak resident memory of this process (VmHWM), MiB."""
    return _status_mib("VmHWM:")


def reset_rss_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@contextlib.contextmanager
def measured() -> Iterator[Result]:
    """Time the block: wall seconds, CPU seconds of the whole process (every thread), and
    the growth of peak RSS over the RSS at its start. Fills the yielded dict on exit."""
    result: Result = {}
    gc.collect()
    before = rss_now_mib()
    reset_rss_peak()
    cpu = time.process_time()
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start
    result["cpu_seconds"] = time.process_time() - cpu
    result["rss_growth_mib"] = max(0.0, rss_peak_mib() - before)


def files_in(folder: str) -> list[Path]:
    """The workload's files, in name order (every side sends them in the same order)."""
    return sorted(Path(folder).iterdir())


def host_port(root: str) -> tuple[str, int]:
    """Host and port of an API root such as `http://127.0.0.1:8765/api`."""
    parts = urlsplit(root)
    return parts.hostname or "127.0.0.1", parts.port or 80


def run_main(sides: dict[str, Callable[[Spec], Result]], spec_text: str) -> int:
    """`main` of a side process: run the side the JSON spec names; one JSON line goes to
    stdout."""
    spec: Spec = json.loads(spec_text)
    try:
        result = sides[spec["side"]](spec)
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        print(json.dumps({"error": error, "traceback": traceback.format_exc(limit=-6)}))
        return 1
    print(json.dumps(result))
    return 0


# -- Instabase AI Hub SDK (`pip install instabase-aihub`, `import aihub`) -----------------


def _aihub(spec: Spec) -> Any:
    from aihub import AIHub

    # the SDK's own setting for the server: `api_root` (default https://aihub.instabase.com/api)
    return AIHub(api_key=spec["token"], api_root=spec["root"])


def aihub_upload(spec: Spec) -> Result:
    """W1: the README's loop, one `batches.add_file` per file. (The README passes the batch
    as `id=batch.id`, which 0.14.0's `add_file(batch_id, file_name, file)` refuses with a
    TypeError: the arguments are passed by position here.)"""
    client = _aihub(spec)
    files = files_in(spec["folder"])
    with measured() as result:
        for path in files:
            with path.open("rb") as file:
                client.batches.add_file(spec["batch"], path.name, file)
    result["count"] = len(files)
    return result


def aihub_calls(spec: Spec) -> Result:
    """W3: `batches.get` + `batches.list_files` (one page): `calls` requests in all."""
    client = _aihub(spec)
    batch = spec["batch"]

    def one() -> None:
        client.batches.get(batch)
        client.batches.list_files(batch)

    for _ in range(spec["warmup"]):
        one()
    rounds = spec["calls"] // 2
    with measured() as result:
        for _ in range(rounds):
            one()
    result["calls"] = 2 * rounds
    return result


def aihub_large(spec: Spec) -> Result:
    """W4: `batches.add_large_file` (the SDK's multipart helper: one part at a time, each
    read whole into memory)."""
    client = _aihub(spec)
    with measured() as result:
        client.batches.add_large_file(spec["batch"], spec["name"], spec["path"])
    return result


def aihub_list(spec: Spec) -> Result:
    """W5: `batches.list_files` page after page, following `next_page_token`."""
    client = _aihub(spec)
    count = 0
    with measured() as result:
        token = None
        while True:
            page = client.batches.list_files(
                spec["batch"], page_size=spec["page_size"], start_token=token
            )
            count += len(page.nodes or [])
            token = page.next_page_token
            if not page.has_more or not token:
                break
    result["count"] = count
    return result


# -- Scale SDK (`pip install scaleapi`) ---------------------------------------------------


def _scale(spec: Spec) -> Any:
    import scaleapi

    # the SDK's own setting for the server: `api_instance_url` (default api.scale.com/v1)
    return scaleapi.ScaleClient(spec["api_key"], api_instance_url=spec["root"])


def scale_calls(spec: Spec) -> Result:
    """W3: `get_batch(name)`, `calls` times (the SDK opens a new `requests.Session`, so a
    new connection, for every request)."""
    client = _scale(spec)
    for _ in range(spec["warmup"]):
        client.get_batch(spec["batch"])
    with measured() as result:
        for _ in range(spec["calls"]):
            client.get_batch(spec["batch"])
    result["calls"] = spec["calls"]
    return result


def scale_label(spec: Spec) -> Result:
    """W7: the README's `create_task` (with a `unique_id`) once per task, then every task
    back through `get_tasks` (a generator over the pages)."""
    from scaleapi.tasks import TaskType

    client = _scale(spec)
    project, batch, prefix = spec["project"], spec["batch"], spec["prefix"]
    with measured() as result:
        for i in range(spec["tasks"]):
            client.create_task(
                TaskType.ImageAnnotation,
                project=project,
                batch=batch,
                unique_id=f"{prefix}-{i}",
                attachment=f"https://img.test/{i}.png",
                geometries=BOXES,
            )
        tasks = list(client.get_tasks(project_name=project, batch_name=batch))
    result["count"] = len(tasks)
    return result


# -- raw urllib3 (the floor under both SDKs' stacks) --------------------------------------


def urllib3_calls(spec: Spec) -> Result:
    """W3: the same GETs as the SDKs through one keep-alive `HTTPConnectionPool`, each body
    decoded with `json.loads`."""
    import urllib3

    host, port = host_port(spec["root"])
    pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
    prefix = urlsplit(spec["root"]).path
    if spec["api"] == "scale":
        headers = urllib3.make_headers(basic_auth=f"{spec['api_key']}:")
        paths = [f"{prefix}/batches/{quote(spec['batch'], safe='')}"]
    else:
        headers = {"Authorization": f"Bearer {spec['token']}"}
        paths = [
            f"{prefix}/v2/batches/{spec['batch']}",
            f"{prefix}/v2/batches/{spec['batch']}/files",
        ]

    def one() -> None:
        for path in paths:
            response = pool.request("GET", path, headers=headers)
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {response.data[:200]!r}")
            json.loads(response.data)

    for _ in range(spec["warmup"]):
        one()
    rounds = spec["calls"] // len(paths)
    with measured() as result:
        for _ in range(rounds):
            one()
    result["calls"] = rounds * len(paths)
    return result


def urllib3_list(spec: Spec) -> Result:
    """W5: the listing loop on one keep-alive `HTTPConnectionPool` + `json.loads`."""
    import urllib3

    host, port = host_port(spec["root"])
    pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
    path = f"{urlsplit(spec['root']).path}/v2/batches/{spec['batch']}/files"
    headers = {"Authorization": f"Bearer {spec['token']}"}
    count = 0
    with measured() as result:
        fields: dict[str, str | int] = {"page_size": spec["page_size"]}
        while True:
            response = pool.request("GET", path, fields=fields, headers=headers)
            page = json.loads(response.data)
            count += len(page["nodes"])
            token = page.get("next_page_token")
            if not page.get("has_more") or not token:
                break
            fields["start_token"] = token
    result["count"] = count
    return result


SIDES: dict[str, Callable[[Spec], Result]] = {
    "aihub-upload": aihub_upload,
    "aihub-calls": aihub_calls,
    "aihub-large": aihub_large,
    "aihub-list": aihub_list,
    "scale-calls": scale_calls,
    "scale-label": scale_label,
    "urllib3-calls": urllib3_calls,
    "urllib3-list": urllib3_list,
}


if __name__ == "__main__":
    raise SystemExit(run_main(SIDES, sys.argv[1]))
