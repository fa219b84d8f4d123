"""Scale AI adapter: task batches in projects (v1 API, HTTP Basic auth)."""

from ._provider import DEFAULT_API_ROOT, ScaleProvider, ScaleSettings

__all__ = ["DEFAULT_API_ROOT", "ScaleProvider", "ScaleSettings"]
