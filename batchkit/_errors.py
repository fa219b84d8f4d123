"""The batchkit exception tree: one root, a branch per kind of failure a caller handles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import DownloadReport, Job, Run, UploadReport


class BatchkitError(Exception):
    """Root of every error batchkit raises on purpose."""


class ConfigError(BatchkitError):
    """Configuration is wrong or missing: unknown provider or profile, bad TOML, no token."""


class NoProviderChosen(ConfigError):
    """Neither an argument, `$BATCHKIT_PROVIDER` nor a profile names a provider."""


class InvalidInput(BatchkitError, ValueError):
    """An argument is invalid; raised before any request is sent."""


class UnsupportedOperation(BatchkitError):
    """The provider cannot do this operation; the message names the providers that can, and
    `hint` (also in the message) what to do instead, where there is something."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        supported_by: Sequence[str] = (),
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.operation = operation
        self.supported_by = tuple(supported_by)
        self.hint = hint


class ProviderError(BatchkitError):
    """The vendor answered with an error, or could not be reached.

    Carries the provider, the operation, the HTTP status (None when no response arrived),
    the vendor's own message and the request id the response named (for the vendor's
    support). Never carries a credential.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        operation: str,
        status: int | None = None,
        vendor_message: str | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        #: the provider's name, "aihub" or "scale"
        self.provider = provider
        #: the operation that failed, as the provider names it (`get_batch`, `upload_file`...)
        self.operation = operation
        #: the HTTP status of the error response; None when no response arrived (a network
        #: failure, a timeout)
        self.status = status
        #: the vendor's own error text from the response, when it gave one
        self.vendor_message = vendor_message
        #: the server's Retry-After hint in seconds (429, 503), if it gave one
        self.retry_after = retry_after
        #: the id the response gave this request (`X-Request-Id` and the like), to quote to
        #: the vendor's support; None when no response arrived or it named none
        self.request_id = request_id
        #: how many times the request was sent before this error (set by the HTTP layer)
        self.attempts = 1
        #: an earlier attempt of this call failed in a way that may have applied it at the
        #: server (its response was lost, or it timed out after being sent): only then may
        #: an adapter read a 409 as "my earlier attempt created it", or a 404 on a delete as
        #: "my earlier attempt deleted it"
        self.earlier_attempt_may_have_applied = False


class AuthError(ProviderError):
    """401 or 403: the token or API key is missing, wrong or lacks access."""


class NotFound(ProviderError):
    """404: the batch, file, job or project does not exist (or is not yours)."""


class Conflict(ProviderError):
    """409 or 412: the thing already exists (e.g. a Scale batch name is taken)."""


class RateLimited(ProviderError):
    """429: too many requests; `retry_after` is the server's hint in seconds, if any."""


class ServerError(ProviderError):
    """5xx or 408: the vendor failed; safe operations were already retried."""


class TransportError(ProviderError):
    """No usable response: connection refused, reset or timed out."""


class JobFailed(BatchkitError):
    """An asynchronous vendor job ended FAILED or CANCELLED."""

    def __init__(self, message: str, *, job: Job) -> None:
        super().__init__(message)
        self.job = job


class JobTimeout(BatchkitError):
    """An asynchronous vendor job did not finish in time; `job` is its last known state."""

    def __init__(self, message: str, *, job: Job) -> None:
        super().__init__(message)
        self.job = job


class EmptyBatch(BatchkitError):
    """`start` found nothing in the batch to process (no files, no tasks): the run would
    never produce a result. Add items first. Not an `InvalidInput`: it takes a request to
    know."""

    def __init__(self, message: str, *, provider: str, batch_id: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.batch_id = batch_id


class RunFailed(BatchkitError):
    """Processing of a batch ended without completing (an AI Hub run FAILED or CANCELLED);
    `run` is its last state, with the vendor's message."""

    def __init__(self, message: str, *, run: Run) -> None:
        super().__init__(message)
        self.run = run


class RunTimeout(BatchkitError):
    """Processing did not finish within `wait`'s timeout; `run` is its last known state
    (wait again with it: nothing was stopped)."""

    def __init__(self, message: str, *, run: Run) -> None:
        super().__init__(message)
        self.run = run


class UploadIncomplete(BatchkitError):
    """Some files of an upload did not make it; `report` lists which, and why."""

    def __init__(self, message: str, *, report: UploadReport) -> None:
        super().__init__(message)
        self.report = report


class DownloadIncomplete(BatchkitError):
    """Some files of a bulk download did not make it; `report` lists which, and why."""

    def __init__(self, message: str, *, report: DownloadReport) -> None:
        super().__init__(message)
        self.report = report
