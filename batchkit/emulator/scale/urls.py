"""The routes of the emulated Scale API, and the ASGI app serving them.

Batch and project names (and task ids) travel percent-encoded with no safe characters
(``a bc/def`` → ``a%20bc%2Fdef``), so a name is always exactly one raw segment, whatever it
contains (see `Router`).
"""

from __future__ import annotations

from starlette.datastructures import Headers

from batchkit.emulator._vendor import VendorApp
from batchkit.emulator.scale import responses as r
from batchkit.emulator.scale.backend import ScaleBackend
from batchkit.emulator.scale.errors import ScaleErrors

URLS = (
    ("GET", "/v1/projects", r.list_projects),
    ("POST", "/v1/projects", r.create_project),
    ("GET", "/v1/projects/{name}", r.get_project),
    ("GET", "/v1/batches", r.list_batches),
    ("POST", "/v1/batches", r.create_batch),
    ("GET", "/v1/batches/{name}", r.get_batch),
    ("POST", "/v1/batches/{name}/finalize", r.finalize_batch),
    ("GET", "/v1/batches/{name}/status", r.batch_status),
    ("POST", "/v1/batches/{name}/setMetadata", r.set_metadata),
    ("POST", "/v1/batches/{name}/prioritize", r.prioritize),
    # one path, two meanings: POST takes a task type, GET a task id (as Scale's API does)
    ("POST", "/v1/task/{task}", r.create_task),
    ("GET", "/v1/task/{task}", r.get_task),
    ("POST", "/v1/task/{task}/cancel", r.cancel_task),
    ("POST", "/v1/task/{task}/setMetadata", r.set_task_metadata),
    ("POST", "/v1/task/{task}/tags", r.set_task_tags),
    ("PUT", "/v1/task/{task}/tags", r.add_task_tags),
    ("DELETE", "/v1/task/{task}/tags", r.delete_task_tags),
    ("POST", "/v1/task/{task}/unique_id", r.update_task_unique_id),
    ("DELETE", "/v1/task/{task}/unique_id", r.clear_task_unique_id),
    ("POST", "/v1/task/{task}/audit", r.audit_task),
    ("GET", "/v1/tasks", r.list_tasks),
    ("POST", "/v1/files/upload", r.upload_file),
    ("POST", "/v1/files/import", r.import_file),
    # emulator control, not part of Scale's API
    ("POST", "/_emulator/scale/batches/{name}/tasks", r.add_tasks),
    ("POST", "/_emulator/scale/batches/{name}/tasks/complete", r.complete_tasks),
    ("POST", "/_emulator/scale/batches/{name}/archive", r.archive_batch),
)


class ScaleApp(VendorApp[ScaleBackend]):
    """The Scale AI v1 API (projects, batches, tasks, files; and the emulator's
    ``/_emulator/scale`` controls), as ASGI.

    Serves ``backend``; a customer (tenant) is its API key, sent as the HTTP Basic user name.
    """

    urls = URLS
    errors = ScaleErrors

    def authenticate(self, headers: Headers) -> str:
        return r.api_key(headers, self.accept)
