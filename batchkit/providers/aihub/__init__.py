"""Instabase AI Hub adapter: file batches, multipart uploads, jobs and the Filesystem API."""

from ._adapter import DEFAULT_API_ROOT, MULTIPART_THRESHOLD, AIHubAdapter, AIHubSettings
from ._provider import AIHubProvider, AsyncAIHubProvider

__all__ = [
    "DEFAULT_API_ROOT",
    "MULTIPART_THRESHOLD",
    "AIHubAdapter",
    "AIHubProvider",
    "AIHubSettings",
    "AsyncAIHubProvider",
]
