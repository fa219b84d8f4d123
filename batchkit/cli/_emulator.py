"""``batchkit emulator``: serve the offline emulator, with the options of its own command."""

from __future__ import annotations

from collections.abc import Callable

import click


def _emulator_main() -> Callable[[list[str] | None, str], int]:
    # imported when the command runs, for import-time speed only: no other command needs the
    # emulator package (and it is a package apart, which imports nothing of the client)
    from ..emulator._cli import main as emulator_main

    return emulator_main


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> None:
    """Serve the offline emulator of both vendors' APIs until Ctrl-C.

    Takes exactly the options of `python -m batchkit.emulator` (--host, --port, --tokens,
    --job-polls, --part-size, --latency, --jitter); `batchkit emulator --help` lists them.
    """
    code = _emulator_main()(list(args), "batchkit emulator")
    raise click.exceptions.Exit(code)
