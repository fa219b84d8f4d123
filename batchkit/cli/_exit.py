"""Exit codes of the ``batchkit`` command and the mapping from batchkit errors to them."""

from __future__ import annotations

import enum

from .. import (
    BatchkitError,
    ConfigError,
    EmptyBatch,
    InvalidInput,
    JobFailed,
    JobTimeout,
    ProviderError,
    RunFailed,
    RunTimeout,
    UnsupportedOperation,
    UploadIncomplete,
)


class ExitCode(enum.IntEnum):
    """What the process exit status means (documented in ``docs/cli.md`` and ``--help``)."""

    OK = 0
    #: an unexpected error (a bug, or a local I/O problem batchkit does not classify)
    ERROR = 1
    #: bad command line, `InvalidInput` or `ConfigError`
    USAGE = 2
    #: the vendor answered with an error or could not be reached; a job or run failed or
    #: timed out
    PROVIDER = 3
    #: an upload (or a download --all) finished but some files did not make it
    PARTIAL_UPLOAD = 4
    #: the provider does not support the operation
    UNSUPPORTED = 5
    #: interrupted with Ctrl-C
    INTERRUPTED = 130


#: (code, meaning) rows for the docs and the ``--help`` epilog
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (ExitCode.OK, "success"),
    (ExitCode.ERROR, "unexpected error (run with --debug for the traceback)"),
    (
        ExitCode.USAGE,
        "usage error: bad option or argument, invalid input, configuration error, "
        "nothing in the batch to start",
    ),
    (
        ExitCode.PROVIDER,
        "vendor / HTTP error (not found, auth, server), job or run failed or timed out",
    ),
    (
        ExitCode.PARTIAL_UPLOAD,
        "partial upload or download --all: some files failed (the others made it)",
    ),
    (ExitCode.UNSUPPORTED, "the provider does not support the operation"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit status for an error that ended a command."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, UploadIncomplete):
        return ExitCode.PARTIAL_UPLOAD
    if isinstance(error, UnsupportedOperation):
        return ExitCode.UNSUPPORTED
    if isinstance(error, InvalidInput | ConfigError | EmptyBatch):
        return ExitCode.USAGE
    if isinstance(error, ProviderError | JobFailed | JobTimeout | RunFailed | RunTimeout):
        return ExitCode.PROVIDER
    if isinstance(error, BatchkitError):
        return ExitCode.ERROR
    return ExitCode.ERROR


def one_line(message: str) -> str:
    """Collapse a message onto one line (errors print as exactly one line)."""
    return " ".join(message.split())
