"""The routes of the emulated AI Hub, and the ASGI app serving them.

Rows are tried in order (see `Router`): literal routes come
before the parametrised ones they overlap, so ``GET /api/v2/batches/multipart-upload`` is a 405
with ``Allow: POST``, not a batch id. The vendor API lives under ``/api``, the emulator's own
controls under ``/_emulator/aihub``.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from batchkit.emulator._vendor import VendorApp
from batchkit.emulator.aihub import responses as r
from batchkit.emulator.aihub.backend import AIHubBackend
from batchkit.emulator.aihub.errors import AIHubErrors

URLS = (
    ("POST", "/_emulator/aihub/jobs/complete", r.complete_jobs),
    ("POST", "/_emulator/aihub/runs/complete", r.complete_runs),
    ("POST", "/_emulator/aihub/runs/{run_id}/cancel", r.cancel_run),
    ("GET", "/api/v2/batches", r.list_batches),
    ("POST", "/api/v2/batches", r.create_batch),
    ("POST", "/api/v2/batches/multipart-upload", r.start_multipart),
    ("POST", "/api/v2/batches/multipart-upload/sessions/{session_id}", r.finish_multipart),
    (
        "PUT",
        "/api/v2/batches/multipart-upload/sessions/{session_id}/parts/{part_num}",
        r.upload_part,
    ),
    ("GET", "/api/v2/batches/jobs/{job_id}", r.poll_job),
    ("GET", "/api/v2/batches/{batch_id}", r.get_batch),
    ("DELETE", "/api/v2/batches/{batch_id}", r.delete_batch),
    ("GET", "/api/v2/batches/{batch_id}/files", r.list_files),
    ("PUT", "/api/v2/batches/{batch_id}/files/{filename}", r.upload_file),
    ("DELETE", "/api/v2/batches/{batch_id}/files/{filename}", r.delete_file),
    ("GET", "/api/v2/files/delete/jobs/{job_id}", r.poll_job),
    ("GET", "/api/v2/jobs/{job_id}", r.poll_job),
    # apps: runs of an app or of a deployment, their status and results
    ("POST", "/api/v2/apps/runs", r.run_app),
    ("GET", "/api/v2/apps/runs", r.list_runs),
    ("POST", "/api/v2/apps/deployments/{deployment_id}/runs", r.run_deployment),
    ("GET", "/api/v2/apps/runs/{run_id}", r.get_run_status),
    ("DELETE", "/api/v2/apps/runs/{run_id}", r.delete_run),
    ("GET", "/api/v2/apps/runs/{run_id}/results", r.get_run_results),
    # the deprecated Filesystem API: the rest of the path is the file's
    ("GET", "/api/v2/files/{*}", r.fs_read),
    ("HEAD", "/api/v2/files/{*}", r.fs_head),
    ("PUT", "/api/v2/files/{*}", r.fs_write),
    ("DELETE", "/api/v2/files/{*}", r.fs_delete),
)


class AIHubApp(VendorApp[AIHubBackend]):
    """The emulated AI Hub API (Batches, app runs and the deprecated Filesystem API) as an
    ASGI app.

    Serves every path under ``/api/`` from ``backend``; a tenant is its bearer token.
    """

    urls = URLS
    errors = AIHubErrors

    def authenticate(self, headers: Headers) -> str:
        return r.bearer_token(headers, self.accept)
