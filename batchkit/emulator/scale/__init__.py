"""Emulated Scale AI: the v1 API (projects, batches, tasks, files), a simulated workforce
and task controls, offline.

Laid out like a moto service, as every emulated vendor is: `backend` holds the state of
one emulator and has a Python control API, `responses` the HTTP handlers, `urls`
the routes and ``ScaleApp`` (ASGI, serving ``/v1/…`` and ``/_emulator/scale/…``),
`errors` the error format; `tasks` the task model and the workforce's answers.
"""

from batchkit.emulator.scale.backend import ScaleBackend
from batchkit.emulator.scale.errors import ScaleError
from batchkit.emulator.scale.urls import ScaleApp

__all__ = ["ScaleApp", "ScaleBackend", "ScaleError"]
