"""The click commands of ``batchkit``: providers, config, batches, files, emulator, demo."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO, Any, NoReturn, TypeVar, cast

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import (
    Batch,
    BatchkitError,
    BatchProvider,
    BatchState,
    BatchStatus,
    Capability,
    ConfigError,
    UnsupportedOperation,
    UploadIncomplete,
    __version__,
    capability_matrix,
    connect,
)
from .._capabilities import flag_names
from .._errors import NoProviderChosen
from .._sources import atomic_file, target_path
from .._validate import file_name
from ._exit import EXIT_CODES, ExitCode, exit_code_for, one_line
from ._output import (
    capability_table,
    emit_json,
    human_size,
    is_secret,
    make_console,
    mask,
    when,
)
from ._progress import DownloadView, UploadView

F = TypeVar("F", bound=Callable[..., Any])

EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES)

NO_PROVIDER = (
    "no provider chosen: pass --provider aihub|scale, set BATCHKIT_PROVIDER, or pick a "
    "profile (--profile NAME) whose table has provider = ..."
)

_STATES = [s.value for s in BatchState if s is not BatchState.UNKNOWN]


@contextlib.contextmanager
def _cli_hints() -> Iterator[None]:
    """Reword library errors that tell a Python caller what to pass, for a shell user."""
    try:
        yield
    except NoProviderChosen:
        raise ConfigError(NO_PROVIDER) from None


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
            with _cli_hints():
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


def _text(value: object) -> Text:
    return Text("—" if value is None or value == "" else str(value))


def _kv(console: Console, rows: Iterable[tuple[str, object]]) -> None:
    rows = list(rows)
    width = max((len(key) for key, _ in rows), default=0)
    for key, value in rows:
        line = Text.assemble((key.ljust(width), "bold"), "  ", _text(value))
        console.print(line, soft_wrap=True)


def _batch_rows(batch: Batch) -> list[tuple[str, object]]:
    return [
        ("id", batch.id),
        ("name", batch.name),
        ("provider", batch.provider),
        ("project", batch.project),
        ("state", batch.state.value),
        ("created", when(batch.created_at)),
        ("owner", batch.owner),
    ]


def _status_rows(status: BatchStatus, provider: str) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [("batch", status.batch_id), ("state", status.state.value)]
    if status.counts is None:
        rows.append(("tasks", f"no task counts at {provider}"))
    else:
        c = status.counts
        rows += [
            ("pending", c.pending),
            ("completed", c.completed),
            ("error", c.error),
            ("canceled", c.canceled),
            ("total", c.total),
        ]
    return rows


# -- the root group -----------------------------------------------------------------------


@click.group(
    cls=_Group,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--profile",
    metavar="NAME",
    help="Profile from batchkit.toml (default: $BATCHKIT_PROFILE, then default_profile).",
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


# -- providers and config -----------------------------------------------------------------


@cli.command()
@json_option
@click.pass_obj
def providers(state: State) -> None:
    """Show which provider can do what (the capability matrix)."""
    matrix = capability_matrix()
    if state.json:
        emit_json({name: flag_names(caps) for name, caps in matrix.items()})
        return
    state.console.print(capability_table(matrix))


@cli.group()
def config() -> None:
    """Inspect the resolved configuration."""


@config.command("show")
@json_option
@click.pass_obj
def config_show(state: State) -> None:
    """Show the provider and settings the options resolve to (secrets masked)."""
    from .._config import UnsetVariable, load_config, resolve
    from .._registry import provider_class

    overrides = state.overrides()
    with _cli_hints():
        name, values = resolve(
            state.provider_name,
            profile=state.profile,
            config=state.config,
            overrides=overrides,
            lenient=True,
        )
    cls = provider_class(name)
    profile = state.profile or os.environ.get("BATCHKIT_PROFILE") or None
    path: Path | None = None
    table: dict[str, Any] = {}
    if profile is not None or state.config is not None or state.provider_name is None:
        data, path = load_config(state.config)
        profile = profile or data.get("default_profile")
        profiles = data.get("profiles")
        if profile and isinstance(profiles, dict) and isinstance(profiles.get(profile), dict):
            table = profiles[profile]
    env_for = {setting: var for var, setting in cls.env_settings.items()}
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in sorted(values.items()):
        secret = is_secret(key, cls.secret_settings)
        if isinstance(value, UnsetVariable):
            settings[key] = None
            sources[key] = f"profile ${value} (NOT SET: export it)"
            continue
        settings[key] = mask(value) if secret else value
        if key in overrides:
            sources[key] = "--api-root"
        elif key in env_for and os.environ.get(env_for[key]):
            sources[key] = f"${env_for[key]}"
        elif f"{key}_env" in table:
            sources[key] = f"profile ${table[f'{key}_env']}"
        else:
            sources[key] = "profile"
    if state.json:
        emit_json(
            {
                "provider": name,
                "profile": profile,
                "config_file": str(path) if path else None,
                "settings": settings,
                "sources": sources,
            }
        )
        return
    console = state.console
    _kv(
        console,
        [
            ("provider", name),
            ("profile", profile),
            ("config file", str(path) if path else "none found"),
        ],
    )
    out = Table(box=None, pad_edge=False)
    out.add_column("setting", style="bold")
    out.add_column("value")
    out.add_column("from")
    for key, value in settings.items():
        out.add_row(key, _text(value), _text(sources[key]))
    console.print()
    console.print(out if settings else Text("no settings"))


# -- batches ------------------------------------------------------------------------------


@cli.group()
def projects() -> None:
    """Create projects, the containers of Scale task batches (Scale only)."""


@projects.command("create")
@click.argument("name")
@click.option(
    "--type", "type_", required=True, metavar="TYPE", help="Task type, e.g. imageannotation."
)
@click.option("--instruction", metavar="TEXT", help="Instructions shown to labelers.")
@click.option(
    "--rapid", is_flag=True, help="A Scale Rapid project: its batches start staging (finalize)."
)
@click.option(
    "--studio", is_flag=True, help="A Scale Studio project: its batches start staging (finalize)."
)
@json_option
@click.pass_obj
def projects_create(
    state: State, name: str, type_: str, instruction: str | None, rapid: bool, studio: bool
) -> None:
    """Create a project called NAME (a Scale batch needs one: batches create --project).

    Batches of a standard project are in progress at once; those of a --rapid or --studio
    project start staging, until `batches finalize`.
    """
    if rapid and studio:
        raise click.UsageError("a project is --rapid or --studio, not both")
    provider = state.provider()
    create = getattr(provider, "create_project", None)
    if create is None:
        # _fail words it for the shell from these fields
        raise UnsupportedOperation(
            f"{provider.name} has no projects",
            provider=provider.name,
            operation="create_project",
            supported_by=["scale"],
        )
    params = {"instruction": instruction} if instruction else None
    project = create(name, type=type_, params=params, rapid=rapid or None, studio=studio or None)
    if state.json:
        emit_json(project)
        return
    state.console.print(Text(f"created project {project.name} ({project.type or type_})"))


@cli.group()
def batches() -> None:
    """Create, list, inspect, finalize, prioritize and delete batches."""


@batches.command("create")
@click.argument("name")
@click.option("--project", metavar="P", help="Scale project / AI Hub workspace.")
@click.option("--callback", metavar="URL", help="Callback URL (needs Capability.CALLBACKS).")
@json_option
@click.pass_obj
def batches_create(state: State, name: str, project: str | None, callback: str | None) -> None:
    """Create a batch called NAME."""
    batch = state.provider().create_batch(name, project=project, callback=callback)
    if state.json:
        emit_json(batch)
        return
    state.console.print(Text(f"created batch {batch.id}"))
    _kv(state.console, _batch_rows(batch))


@batches.command("list")
@click.option("--project", metavar="P", help="Only batches of this project / workspace.")
@click.option(
    "--state",
    "state_",
    type=click.Choice(_STATES, case_sensitive=False),
    help="Only batches in this state.",
)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N batches.")
@json_option
@click.pass_obj
def batches_list(state: State, project: str | None, state_: str | None, limit: int | None) -> None:
    """List batches, newest first where the vendor orders them."""
    found = list(
        state.provider().list_batches(
            project=project,
            state=BatchState(state_) if state_ else None,
            limit=limit,
        )
    )
    if state.json:
        emit_json(found)
        return
    table = Table()
    for column in ("id", "name", "project", "state", "created"):
        table.add_column(column)
    for b in found:
        table.add_row(
            _text(b.id), _text(b.name), _text(b.project), b.state.value, when(b.created_at)
        )
    state.console.print(table)
    state.console.print(f"{len(found)} batch{'es' if len(found) != 1 else ''}")


@batches.command("get")
@click.argument("batch_id", metavar="ID")
@json_option
@click.pass_obj
def batches_get(state: State, batch_id: str) -> None:
    """Show one batch."""
    batch = state.provider().get_batch(batch_id)
    if state.json:
        emit_json(batch)
        return
    _kv(state.console, _batch_rows(batch))


@batches.command("status")
@click.argument("batch_id", metavar="ID")
@json_option
@click.pass_obj
def batches_status(state: State, batch_id: str) -> None:
    """Show a batch's state and, where the vendor has them, its task counts."""
    provider = state.provider()
    status = provider.status(batch_id)
    if state.json:
        emit_json(status)
        return
    _kv(state.console, _status_rows(status, provider.name))


@batches.command("finalize")
@click.argument("batch_id", metavar="ID")
@json_option
@click.pass_obj
def batches_finalize(state: State, batch_id: str) -> None:
    """Mark a staging batch ready to be worked on."""
    batch = state.provider().finalize(batch_id)
    if state.json:
        emit_json(batch)
        return
    state.console.print(Text(f"finalized batch {batch.id}: {batch.state.value}"))


@batches.command("prioritize")
@click.argument("batch_id", metavar="ID")
@click.argument("priority", type=int)
@json_option
@click.pass_obj
def batches_prioritize(state: State, batch_id: str, priority: int) -> None:
    """Set a batch's PRIORITY, 10 (lowest) to 30 (highest)."""
    state.provider().prioritize(batch_id, priority)
    if state.json:
        emit_json({"batch_id": batch_id, "priority": priority})
        return
    state.console.print(Text(f"batch {batch_id}: priority {priority}"))


@batches.command("delete")
@click.argument("batch_id", metavar="ID")
@click.option("--no-wait", is_flag=True, help="Return once the deletion job has started.")
@json_option
@click.pass_obj
def batches_delete(state: State, batch_id: str, no_wait: bool) -> None:
    """Delete a batch and its files (waits for the vendor's job unless --no-wait)."""
    job = state.provider().delete_batch(batch_id, wait=not no_wait)
    if state.json:
        emit_json({"batch_id": batch_id, "deleted": not no_wait, "job": job})
        return
    if no_wait and job is not None:
        state.console.print(Text(f"deleting batch {batch_id}: job {job.id} {job.state.value}"))
    else:
        state.console.print(Text(f"deleted batch {batch_id}"))


# -- files --------------------------------------------------------------------------------


@cli.group()
def files() -> None:
    """Upload, list, download and delete the files of a batch."""


def _to_stderr(line: str) -> None:
    """Write one line straight to fd 2: safe inside a signal handler (no Python buffer)."""
    with contextlib.suppress(OSError):
        os.write(2, (line + "\n").encode("utf-8", "replace"))


@contextlib.contextmanager
def _second_ctrl_c_quits(batch_id: str) -> Iterator[None]:
    """While an upload runs: the first Ctrl-C says so at once and stops the upload as usual
    (KeyboardInterrupt: files in flight finish and reach the journal); a second one exits
    130 without waiting for them, since a read or a request in flight may never return and
    the interpreter would wait for its thread at exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupts = 0

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            _to_stderr(
                "interrupted: finishing the files in flight, then stopping "
                "(press Ctrl-C again to quit now)"
            )
            raise KeyboardInterrupt
        _to_stderr(
            f"error: upload to batch {batch_id} interrupted again: quit without waiting for "
            "the files in flight; run the same command again to finish (with --resume it "
            "sends only what is missing)"
        )
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(ExitCode.INTERRUPTED)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        if not interrupts:  # once interrupted, any later Ctrl-C quits at once until exit
            signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


@files.command("upload")
@click.argument("batch_id", metavar="BATCH")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching (repeatable).")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Files sent at once.",
)
@click.option(
    "--resume/--no-resume",
    default=False,
    show_default=True,
    help="Keep a journal in the current directory and skip files an earlier run sent.",
)
@click.option(
    "--verify",
    type=click.Choice(["size", "sha256", "none"]),
    default="size",
    show_default=True,
    help="Check each file in the batch afterwards.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Upload the other files when some cannot be (bad names, special files...) and list "
    "those, instead of refusing the whole upload.",
)
@json_option
@click.pass_obj
def files_upload(
    state: State,
    batch_id: str,
    paths: tuple[Path, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    concurrency: int,
    resume: bool,
    verify: str,
    skip_invalid: bool,
) -> None:
    """Upload files and directories (walked recursively) to BATCH.

    Exits 4 when some files failed; the others stay in the batch, and a rerun with
    --resume sends only what is missing. Files that cannot be uploaded at all are listed
    up front and nothing is sent, unless --skip-invalid. Ctrl-C finishes the files in
    flight; a second Ctrl-C quits at once.
    """
    provider = state.provider()
    provider.require(Capability.UPLOAD_FILES, "upload")
    # no get_batch here: upload() checks the paths first (a bad one is a usage error with
    # nothing sent), then fetches the batch once (a missing one is one 404, not one per file)
    try:
        with UploadView(state.console, quiet=state.json) as view, _second_ctrl_c_quits(batch_id):
            report = provider.upload(
                batch_id,
                list(paths),
                concurrency=concurrency,
                on_progress=view,
                resume=resume,
                verify=cast(Any, verify),
                include=include or None,
                exclude=exclude or None,
                invalid="skip" if skip_invalid else "refuse",
            )
    except KeyboardInterrupt:
        if state.json:
            emit_json({"batch_id": batch_id, "interrupted": True, **view.finished})
        again = (
            "run the same command again to send only what is missing"
            if resume
            else "run it again to finish (it sends every file again; with --resume a rerun "
            "sends only what is missing)"
        )
        raise KeyboardInterrupt(
            f"upload to batch {batch_id} interrupted after the files in flight finished; {again}"
        ) from None
    if state.json:
        emit_json(report)
    else:
        console = state.console
        if not report.files:
            console.print("nothing to upload: no files matched")
        console.print(
            Text(
                f"batch {report.batch_id}: {len(report.uploaded)} uploaded "
                f"({human_size(report.bytes_uploaded)}), {len(report.skipped)} skipped, "
                f"{len(report.failed)} failed"
                + (f", {len(report.invalid)} invalid (not sent)" if report.invalid else "")
            )
        )
    for f in report.invalid:
        click.echo(f"not sent: {f.source}: {f.reason}", err=True)
    if report.failed:
        names = ", ".join(f.name for f in report.failed[:5])
        more = f" and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
        raise UploadIncomplete(
            f"{len(report.failed)} of {len(report.files)} files failed to upload to batch "
            f"{report.batch_id}: {names}{more}; run the upload again to retry them "
            "(--resume skips files an earlier run with --resume sent)",
            report=report,
        )


@files.command("list")
@click.argument("batch_id", metavar="BATCH")
@json_option
@click.pass_obj
def files_list(state: State, batch_id: str) -> None:
    """List the files of BATCH."""
    found = list(state.provider().list_files(batch_id))
    if state.json:
        emit_json(found)
        return
    table = Table()
    table.add_column("name")
    table.add_column("size", justify="right")
    table.add_column("modified")
    for f in found:
        table.add_row(_text(f.name), human_size(f.size), when(f.modified_at))
    state.console.print(table)
    total = sum(f.size for f in found)
    state.console.print(f"{len(found)} file{'s' if len(found) != 1 else ''}, {human_size(total)}")


_RANGE = re.compile(r"(\d+)-(\d*)")


def _parse_range(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    m = _RANGE.fullmatch(value.strip())
    if m is None:
        raise click.BadParameter(f"{value!r} is not START-END or START- (bytes, inclusive)")
    start, end = int(m[1]), int(m[2]) if m[2] else None
    if end is not None and end < start:
        raise click.BadParameter(f"{value!r}: END must not be before START")
    return (start, end)


@files.command("download")
@click.argument("batch_id", metavar="BATCH")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write (default: ./NAME; '-' for stdout).",
)
@click.option(
    "--range",
    "byte_range",
    metavar="START-END",
    callback=_parse_range,
    help="Only bytes START to END, inclusive (END may be left out).",
)
@json_option
@click.pass_obj
def files_download(
    state: State,
    batch_id: str,
    name: str,
    output: str | None,
    byte_range: tuple[int, int | None] | None,
) -> None:
    """Download the file NAME of BATCH."""
    provider = state.provider()
    start, end = byte_range or (0, None)
    if output == "-":
        provider.download_file(
            batch_id, name, cast(IO[bytes], sys.stdout.buffer), start=start, end=end
        )
        sys.stdout.flush()
        return
    file_name(name)  # a bad name is a usage error before any file is created
    dest = target_path(output or ".", name)
    total = end - start + 1 if end is not None else None
    with (
        atomic_file(dest) as f,
        DownloadView(state.console, f, name=name, total=total, quiet=state.json) as view,
    ):
        written = provider.download_file(
            batch_id, name, cast(IO[bytes], view), start=start, end=end
        )
    if state.json:
        emit_json({"batch_id": batch_id, "name": name, "path": str(dest), "bytes": written})
        return
    state.console.print(Text(f"downloaded {name} to {dest} ({human_size(written)})"))


@files.command("delete")
@click.argument("batch_id", metavar="BATCH")
@click.argument("name")
@json_option
@click.pass_obj
def files_delete(state: State, batch_id: str, name: str) -> None:
    """Delete the file NAME from BATCH."""
    state.provider().delete_file(batch_id, name)
    if state.json:
        emit_json({"batch_id": batch_id, "name": name, "deleted": True})
        return
    state.console.print(Text(f"deleted {name} from batch {batch_id}"))


# -- emulator and demo --------------------------------------------------------------------


def _emulator_main() -> Callable[[list[str] | None, str], int]:
    from ..emulator._cli import main as emulator_main

    return emulator_main


@cli.command(
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


@cli.command()
@click.option("--keep-going", is_flag=True, help="Run the next provider even if one fails.")
@json_option
@click.pass_obj
def demo(state: State, keep_going: bool) -> None:
    """Run one pipeline on both providers, offline.

    Starts the emulator on a free loopback port and runs the same labeling pipeline
    against AI Hub and Scale, printing each step and the capability matrix.
    """
    from ._demo import run_demo

    code = run_demo(state.console, keep_going=keep_going, json_output=state.json)
    raise click.exceptions.Exit(code)


__all__ = ["EPILOG", "State", "cli", "json_option"]
