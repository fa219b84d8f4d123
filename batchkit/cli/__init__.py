"""The ``batchkit`` command: batches, files, the capability matrix and a demo, from a shell.

Needs the ``cli`` extra (click, rich). Importing this package does not import them: they are
loaded by `main`, so ``import batchkit`` stays light. Exit codes are listed in `EXIT_CODES`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._exit import EXIT_CODES, ExitCode

MISSING_EXTRA = "the batchkit command needs the cli extra: pip install 'batchkit-client[cli]'"

__all__ = ["EXIT_CODES", "MISSING_EXTRA", "ExitCode", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``batchkit`` command with `argv` (default: ``sys.argv[1:]``); exits the process."""
    try:  # a probe, not a dependency: click and rich are the optional cli extra
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    # imported here so that `import batchkit.cli` works without the cli extra (and stays light)
    from ._app import cli

    cli.main(args=list(argv) if argv is not None else None, prog_name="batchkit")
