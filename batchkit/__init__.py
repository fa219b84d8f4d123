"""batchkit: one provider-neutral API for batches at Instabase AI Hub and Scale AI.

import batchkit
provider = batchkit.connect(profile="prod")        # vendor chosen by config
batch = provider.create_batch("invoices-2026-11", project="invoices")
if provider.supports(batchkit.Capability.UPLOAD_FILES):
    provider.upload(batch, "scans/")
"""

from ._capabilities import Capability
from ._errors import (
    AuthError,
    BatchkitError,
    ConfigError,
    Conflict,
    InvalidInput,
    JobFailed,
    JobTimeout,
    NoProviderChosen,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
    UnsupportedOperation,
    UploadIncomplete,
)
from ._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    FileInfo,
    FileOutcome,
    Job,
    JobState,
    Project,
    TaskCounts,
    UploadReport,
)
from ._provider import BatchProvider
from ._registry import capability_matrix, connect, provider_names, register_provider
from ._upload import InvalidMode, ProgressCallback, Source, UploadProgress, VerifyMode, upload
from ._version import __version__

__all__ = [
    "AuthError",
    "Batch",
    "BatchFile",
    "BatchProvider",
    "BatchState",
    "BatchStatus",
    "BatchkitError",
    "Capability",
    "ConfigError",
    "Conflict",
    "FileInfo",
    "FileOutcome",
    "InvalidInput",
    "InvalidMode",
    "Job",
    "JobFailed",
    "JobState",
    "JobTimeout",
    "NoProviderChosen",
    "NotFound",
    "ProgressCallback",
    "Project",
    "ProviderError",
    "RateLimited",
    "ServerError",
    "Source",
    "TaskCounts",
    "TransportError",
    "UnsupportedOperation",
    "UploadIncomplete",
    "UploadProgress",
    "UploadReport",
    "VerifyMode",
    "__version__",
    "capability_matrix",
    "connect",
    "provider_names",
    "register_provider",
    "upload",
]
