"""Instabase AI Hub adapter: file batches, multipart uploads, jobs and the Filesystem API."""

from ._provider import DEFAULT_API_ROOT, MULTIPART_THRESHOLD, AIHubProvider, AIHubSettings

__all__ = ["DEFAULT_API_ROOT", "MULTIPART_THRESHOLD", "AIHubProvider", "AIHubSettings"]
