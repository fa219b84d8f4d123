"""The Scale AI batch API emulator: state (backend), handlers (responses), routes (urls).

Laid out like a moto service. ``ScaleBackend`` holds the state of one emulator and has a Python
control API; ``ScaleApp`` is the ASGI app serving ``/v1/…`` and ``/_emulator/scale/…``.
"""

from batchkit.emulator.scale.backend import ScaleBackend
from batchkit.emulator.scale.errors import ScaleError
from batchkit.emulator.scale.responses import ScaleApp

__all__ = ["ScaleApp", "ScaleBackend", "ScaleError"]
