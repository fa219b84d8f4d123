"""Emulated Instabase AI Hub: the Batches API, app runs and the deprecated Filesystem API,
offline.

Laid out like a moto service, as every emulated vendor is: `backend` holds the state
(per instance, never global), `responses` the HTTP handlers, `urls` the routes and
the app, `errors` the error format, `storage` the blobs on disk and the shared
folder tree, and `apps` the built-in apps, runs and their results. Written from the
vendor docs and the wire notes only; it imports nothing from batchkit's client side.

    backend = AIHubBackend(storage_dir=tmp, clock=time.time, job_polls=2, job_seconds=0.2)
    app = AIHubApp(backend, accept=lambda token: True)   # ASGI, serves /api/...
"""

from batchkit.emulator.aihub.apps import (
    EXTRACTOR_APP,
    EXTRACTOR_APP_ID,
    EXTRACTOR_DEPLOYMENT_ID,
    FAIL_APP,
    FAIL_APP_ID,
    FAIL_DEPLOYMENT_ID,
)
from batchkit.emulator.aihub.backend import DEFAULT_PART_SIZE, AIHubBackend, username_for
from batchkit.emulator.aihub.urls import AIHubApp

__all__ = [
    "DEFAULT_PART_SIZE",
    "EXTRACTOR_APP",
    "EXTRACTOR_APP_ID",
    "EXTRACTOR_DEPLOYMENT_ID",
    "FAIL_APP",
    "FAIL_APP_ID",
    "FAIL_DEPLOYMENT_ID",
    "AIHubApp",
    "AIHubBackend",
    "username_for",
]
