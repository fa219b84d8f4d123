"""The root ``batchkit`` group and what every command shares: the global options (`State`),
``--json`` after a command name, and one ``error:`` line and exit code for any failure."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from .. import (
    BatchkitError,
    BatchProvider,
    ConfigError,
    NoProviderChosen,
    UnsupportedOperation,
    __version__,
    connect,
    provider_names,
)
from ._exit import EXIT_CODES, ExitCode, exit_code_for, one_line
from ._output import make_console

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES)


def no_provider() -> str:
    """The "no provider chosen" message, for a shell user (the library's names `connect`)."""
    return (
        f"no provider chosen: pass --provider {'|'.join(provider_names())}, set "
        "BATCHKIT_PROVIDER, or pick a profile (--profile NAME) whose table has provider = ..."
    )


@contextlib.contextmanager
def cli_hints() -> Iterator[None]:
    """Reword library errors that tell a Python caller what to pass, for a shell user."""
    try:
        yield
    except NoProviderChosen:
        raise ConfigError(no_provider()) from None
    except ConfigError as e:
        # "chosen by the provider argument" is the flag here
        message = str(e)
        flags = message.replace("the provider argument", "--provider")
        flags = flags.replace("the profile argument", "--profile")
        if flags == message:
            raise
        raise ConfigError(flags) from None


class State:
    """What the global options chose; connects to the provider on first use."""

    def __init__(
        self,
        *,
        provider: str | None = None,
        profile: str | None = None,
        config: str | None = None,
        api_root: str | None = None,
        json_output: bool = False,
        debug: bool = False,
    ) -> None:
        self.provider_name = provider
        self.profile = profile
        self.config = config
        self.api_root = api_root
        self.json = json_output
        self.debug = debug
        self._provider: BatchProvider | None = None
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The stdout console (made on first use, so it writes to the current stdout)."""
        if self._console is None:
            self._console = make_console()
        return self._console

    def overrides(self) -> dict[str, Any]:
        """Settings given on the command line (only ``--api-root``: secrets never are)."""
        return {"api_root": self.api_root} if self.api_root else {}

    def provider(self) -> BatchProvider:
        """The connected provider (closed when the command ends)."""
        if self._provider is None:
            with cli_hints():
                self._provider = connect(
                    self.provider_name,
                    profile=self.profile,
                    config=self.config,
                    **self.overrides(),
                )
            click.get_current_context().find_root().call_on_close(self._provider.close)
        return self._provider


def _fail(error: BaseException, *, debug: bool) -> NoReturn:
    """Print one ``error:`` line (and the traceback with ``--debug``), then exit."""
    code = exit_code_for(error)
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, KeyboardInterrupt):
        message = str(error) or "interrupted"
    elif isinstance(error, UnsupportedOperation):
        # the library's message tells a Python caller to check provider.supports(...)
        others = ", ".join(f"--provider {name}" for name in error.supported_by)
        message = (
            f"{error.provider} does not support {error.operation}"
            + (f"; it works with {others}" if others else "")
            + (f"; {error.hint}" if error.hint else "")
            + " (see `batchkit providers`)"
        )
    elif isinstance(error, BatchkitError):
        message = str(error) or type(error).__name__
    else:
        message = f"{type(error).__name__}: {error}"
        if not debug:
            message += " (run with --debug for the traceback)"
    click.echo(f"error: {one_line(message)}", err=True)
    raise click.exceptions.Exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


class _Group(click.Group):
    """The root group: turns batchkit errors and Ctrl-C into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`batchkit ... | head`): stop quietly, like other tools
            _silence_stdout()
            raise click.exceptions.Exit(ExitCode.ERROR) from None
        except (Exception, KeyboardInterrupt) as e:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            _fail(e, debug=bool(state and state.debug))


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).json = True


def json_option(f: F) -> F:
    """Accept ``--json`` after the command name too (``batchkit providers --json``)."""
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print one JSON document on stdout instead of tables.",
    )(f)


@click.group(
    cls=_Group,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--profile",
    metavar="NAME",
    help="Profile from batchkit.toml (default: $BATCHKIT_PROFILE, then default_profile if it "
    "is for the chosen provider).",
)
@click.option(
    "--provider",
    metavar="NAME",
    help="Provider: aihub or scale (default: $BATCHKIT_PROVIDER, then the profile's).",
)
@click.option(
    "--config",
    metavar="PATH",
    help="Config file (default: $BATCHKIT_CONFIG, ./batchkit.toml, the user config dir).",
)
@click.option(
    "--api-root",
    metavar="URL",
    help="Override the provider's API root. Tokens and keys come from env or profiles only.",
)
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print one JSON document on stdout instead of tables.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs on stderr.")
@click.version_option(__version__, prog_name="batchkit")
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    provider: str | None,
    config: str | None,
    api_root: str | None,
    json_output: bool,
    debug: bool,
) -> None:
    """batchkit: batches at Instabase AI Hub and Scale AI from one command.

    Credentials come from the environment (AIHUB_API_TOKEN, SCALE_API_KEY, ...) or from
    batchkit.toml profiles, never from the command line. Try `batchkit demo`.
    """
    ctx.obj = State(
        provider=provider,
        profile=profile,
        config=config,
        api_root=api_root,
        json_output=json_output,
        debug=debug,
    )
    _configure_logging(ctx, debug=debug)


def _configure_logging(ctx: click.Context, *, debug: bool) -> None:
    """``--debug``: library logs on stderr. Otherwise retry notices stay quiet, so an
    error is one line (the retries already happened by the time it prints)."""
    stamina_log = logging.getLogger("stamina")
    root = logging.getLogger()
    if debug:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        batchkit_log = logging.getLogger("batchkit")
        saved = (root.level, batchkit_log.level)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        batchkit_log.setLevel(logging.DEBUG)

        def undo() -> None:
            root.removeHandler(handler)
            root.setLevel(saved[0])
            batchkit_log.setLevel(saved[1])

    else:
        handler = logging.NullHandler()
        propagate = stamina_log.propagate
        stamina_log.addHandler(handler)
        stamina_log.propagate = False

        def undo() -> None:
            stamina_log.removeHandler(handler)
            stamina_log.propagate = propagate

    ctx.call_on_close(undo)


__all__ = ["EPILOG", "State", "cli", "cli_hints", "json_option", "no_provider"]
