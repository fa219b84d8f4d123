"""batchkit: one provider-neutral API for batches at Instabase AI Hub and Scale AI.

import batchkit
provider = batchkit.connect(profile="prod")        # vendor chosen by config
batch = provider.create_batch("invoices-2026-11", project="invoices")
if provider.supports(batchkit.Capability.UPLOAD_FILES):
    provider.upload(batch, "scans/")

async with batchkit.connect_async(profile="prod") as provider:   # asyncio or trio
    batch = await provider.create_batch("invoices-2026-11", project="invoices")
"""

from ._aprovider import AsyncBatchProvider
from ._capabilities import Capability
from ._config import ResolvedSettings, SettingOrigin, connect, connect_async, resolve_settings
from ._errors import (
    AuthError,
    BatchkitError,
    ConfigError,
    Conflict,
    DownloadIncomplete,
    EmptyBatch,
    InvalidInput,
    JobFailed,
    JobTimeout,
    NoProviderChosen,
    NotFound,
    ProviderError,
    RateLimited,
    RunFailed,
    RunTimeout,
    ServerError,
    TransportError,
    UnsupportedOperation,
    UploadIncomplete,
)
from ._export import write_results
from ._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    DownloadReport,
    FileInfo,
    FileOutcome,
    FileUrl,
    ItemState,
    Job,
    JobState,
    Project,
    Result,
    Run,
    RunState,
    Task,
    TaskCounts,
    TaskSpec,
    UploadReport,
)
from ._provider import BatchProvider, SupportsProjects, upload
from ._registry import (
    capability_matrix,
    provider_names,
    providers_supporting,
    register_provider,
)
from ._save import save_to
from ._upload import (
    InvalidMode,
    NameBy,
    ProgressCallback,
    Source,
    UploadProgress,
    VerifyMode,
    relative_name,
    relative_path,
)
from ._version import __version__

__all__ = [
    "AsyncBatchProvider",
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
    "DownloadIncomplete",
    "DownloadReport",
    "EmptyBatch",
    "FileInfo",
    "FileOutcome",
    "FileUrl",
    "InvalidInput",
    "InvalidMode",
    "ItemState",
    "Job",
    "JobFailed",
    "JobState",
    "JobTimeout",
    "NameBy",
    "NoProviderChosen",
    "NotFound",
    "ProgressCallback",
    "Project",
    "ProviderError",
    "RateLimited",
    "ResolvedSettings",
    "Result",
    "Run",
    "RunFailed",
    "RunState",
    "RunTimeout",
    "ServerError",
    "SettingOrigin",
    "Source",
    "SupportsProjects",
    "Task",
    "TaskCounts",
    "TaskSpec",
    "TransportError",
    "UnsupportedOperation",
    "UploadIncomplete",
    "UploadProgress",
    "UploadReport",
    "VerifyMode",
    "__version__",
    "capability_matrix",
    "connect",
    "connect_async",
    "provider_names",
    "providers_supporting",
    "register_provider",
    "relative_name",
    "relative_path",
    "resolve_settings",
    "save_to",
    "upload",
    "write_results",
]
