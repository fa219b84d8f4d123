"""Scale AI adapter: task batches in projects (v1 API, HTTP Basic auth)."""

from ._adapter import DEFAULT_API_ROOT, ScaleAdapter, ScaleSettings
from ._provider import AsyncScaleProvider, ScaleProvider

__all__ = [
    "DEFAULT_API_ROOT",
    "AsyncScaleProvider",
    "ScaleAdapter",
    "ScaleProvider",
    "ScaleSettings",
]
