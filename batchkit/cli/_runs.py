"""``batchkit runs …`` and ``batchkit results …``: start processing a batch, follow it until it
is done, and read what came out, item by item."""

from __future__ import annotations

import itertools
import json
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .. import BatchProvider, Result, Run, RunFailed, RunState, RunTimeout, write_results
from ._output import cell, emit_json, print_rows, tolerant_stdout
from ._progress import LiveView
from ._root import State, json_option

#: how long `wait` waits by default, in seconds (the library's default too)
DEFAULT_TIMEOUT = 3600.0
F = TypeVar("F", bound=Callable[..., Any])
#: longest output preview in `results show`, in characters
PREVIEW = 60

TIMEOUT = click.FloatRange(min=0, min_open=True)


def again(state: State, *args: str) -> str:
    """The command line that runs `args` with the same provider choice as this one."""
    words = ["batchkit"]
    for flag, value in (
        ("--provider", state.provider_name),
        ("--profile", state.profile),
        ("--config", state.config),
        ("--api-root", state.api_root),
    ):
        if value:
            words += [flag, value]
    return shlex.join([*words, *args])


def counts_text(run: Run) -> str | None:
    """A run's task counts in words, or None where the vendor has none (AI Hub)."""
    c = run.counts
    if c is None:
        return None
    return (
        f"{c.pending} pending, {c.completed} completed, {c.error} error, "
        f"{c.canceled} canceled ({c.total} total)"
    )


def run_line(run: Run) -> str:
    """One line on a run: ``run ID of batch B: state; tasks: …: message``."""
    counts = counts_text(run)
    return (
        f"run {run.id} of batch {run.batch_id}: {run.state.value}"
        + (f"; tasks: {counts}" if counts else "")
        + (f": {run.message}" if run.message else "")
    )


def _run_rows(run: Run) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("run", run.id),
        ("provider", run.provider),
        ("batch", run.batch_id),
        ("state", run.state.value),
    ]
    counts = counts_text(run)
    if counts:
        rows.append(("tasks", counts))
    if run.message:
        rows.append(("message", run.message))
    return rows


def _run_line(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.fields[done]}", markup=False),
        TimeElapsedColumn(),
        console=console,
    )


class RunView(LiveView):
    """The ``on_update`` callback of `provider.wait`, rendering each change of the run.

    On a terminal: one live line (a spinner, the run's state and message, and for a vendor
    with task counts a bar of the tasks done). Elsewhere: one plain line per change
    (``run cats-1 of batch cats-1: running; tasks: 3 pending, 2 completed, ...``). `quiet`
    prints nothing (``--json``).
    """

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        super().__init__(console, quiet=quiet, progress=_run_line)
        #: the last state seen (None before the first poll)
        self.last: Run | None = None

    def __call__(self, run: Run) -> None:
        """Take one update of the run from `provider.wait`."""
        self.last = run
        if self.quiet:
            return
        if self._progress is None:
            self.console.print(run_line(run), markup=False, highlight=False, soft_wrap=True)
            return
        description = f"run {run.id}: {run.state.value}" + (
            f": {run.message}" if run.message else ""
        )
        total: float | None
        if run.counts is not None:
            c = run.counts
            total, completed = c.total, c.total - c.pending
            done = f"{completed}/{c.total} tasks" + (f", {c.error} error" if c.error else "")
        elif run.state.done:
            total, completed, done = 1, 1, ""
        else:
            total, completed, done = None, 0, ""  # no counts: the bar pulses
        if self._task is None:
            self._task = self._progress.add_task(description, total=total, done=done)
        self._progress.update(
            self._task, description=description, total=total, completed=completed, done=done
        )


def wait_for(
    state: State,
    provider: BatchProvider,
    run: Run | str,
    *,
    timeout: float,
    group: str = "runs",
) -> Run:
    """`provider.wait` with a `RunView`; a failure says how to go on, for a shell user
    (``batchkit <group> wait …`` again).

    With ``--json`` a run that failed, timed out or was interrupted is printed first (its
    last known state), so a script still learns its id; then the error line follows on
    stderr.
    """
    run_id = run.id if isinstance(run, Run) else run
    view = RunView(state.console, quiet=state.json)
    try:
        with view:
            return provider.wait(run, timeout=timeout, on_update=view)
    except RunTimeout as e:
        if state.json:
            emit_json(e.run)
        # the library's message tells a Python caller to call provider.wait(run) again
        head = str(e).split("; wait again", 1)[0]
        raise RunTimeout(
            f"{head}; it goes on: wait again with `{again(state, group, 'wait', e.run.id)}` "
            "(--timeout S to wait longer)",
            run=e.run,
        ) from None
    except RunFailed as e:
        if state.json:
            emit_json(e.run)
        raise
    except KeyboardInterrupt:
        last = view.last or (run if isinstance(run, Run) else None)
        if state.json and last is not None:
            emit_json(last)
        raise KeyboardInterrupt(
            f"stopped waiting for run {run_id}; it goes on: "
            f"`{again(state, group, 'wait', run_id)}` waits again"
        ) from None


def print_run(state: State, run: Run) -> None:
    if state.json:
        emit_json(run)
        return
    print_rows(state.console, _run_rows(run))


@click.group()
def runs() -> None:
    """Start the processing of a batch and follow it (AI Hub app runs, Scale task work)."""


@runs.command("start")
@click.argument("batch_id", metavar="BATCH")
@click.option("--app", metavar="NAME", help="AI Hub: the app to run (default: the app setting).")
@click.option(
    "--deployment",
    metavar="ID",
    help="AI Hub: the deployment to run instead of an app (default: the deployment setting).",
)
@click.option("--wait", "wait_", is_flag=True, help="Wait until the run is done, showing it.")
@click.option(
    "--timeout",
    type=TIMEOUT,
    metavar="S",
    help=f"With --wait: give up waiting after S seconds (default: {DEFAULT_TIMEOUT:g}); the run "
    "goes on.",
)
@json_option
@click.pass_obj
def runs_start(
    state: State,
    batch_id: str,
    app: str | None,
    deployment: str | None,
    wait_: bool,
    timeout: float | None,
) -> None:
    """Start processing the items of BATCH and print the run.

    AI Hub runs an app (--app, else the profile's app / $AIHUB_APP) or a deployment on the
    batch's files; the run id it prints is what `runs wait` and `results` take. Scale
    finalizes a staging batch so its tasks are worked; the run id is the batch name. A batch
    with nothing in it exits 2. With --wait: exits 3 if the run fails or the wait times out.
    """
    if app is not None and deployment is not None:
        raise click.UsageError("a run is of an --app or of a --deployment, not both")
    if timeout is not None and not wait_:
        raise click.UsageError("--timeout goes with --wait (runs wait RUN --timeout S otherwise)")
    provider = state.provider()
    run = provider.start(batch_id, app=app, deployment=deployment)
    if not wait_:
        if not state.json:
            state.console.print(Text(f"started run {run.id} on batch {run.batch_id}"))
        print_run(state, run)
        if not state.json:
            state.console.print(Text(f"follow it: {again(state, 'runs', 'wait', run.id)}"))
        return
    if not state.json:
        state.console.print(Text(f"started run {run.id} on batch {run.batch_id}; waiting"))
    print_run(state, wait_for(state, provider, run, timeout=timeout or DEFAULT_TIMEOUT))


@runs.command("status")
@click.argument("run_id", metavar="RUN")
@json_option
@click.pass_obj
def runs_status(state: State, run_id: str) -> None:
    """Show a run's state now (one poll): AI Hub run id, or Scale batch name."""
    print_run(state, state.provider().get_run(run_id))


def wait_timeout(what: str) -> Callable[[F], F]:
    """The ``--timeout S`` of a wait command; `what` goes on when it runs out."""
    return click.option(
        "--timeout",
        type=TIMEOUT,
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="S",
        help=f"Give up waiting after S seconds (exit 3); {what} goes on.",
    )


@runs.command("wait")
@click.argument("run_id", metavar="RUN")
@wait_timeout("the run")
@json_option
@click.pass_obj
def runs_wait(state: State, run_id: str, timeout: float) -> None:
    """Wait until RUN is done, showing its progress, and print it.

    Exits 3 if the run failed or was canceled, or is still going after --timeout (it goes
    on: wait again).
    """
    provider = state.provider()
    print_run(state, wait_for(state, provider, run_id, timeout=timeout))


@click.group()
def results() -> None:
    """Read the results of a run: one per item (file or task), with its state and output."""


def _checked_run(state: State, provider: BatchProvider, run_id: str) -> Run:
    """The run, polled once: an unknown one is an error (exit 3) before any result is read,
    and one not completed gets a warning on stderr (its results may be missing or partial)."""
    run = provider.get_run(run_id)
    if run.state is not RunState.COMPLETED:
        click.echo(
            f"warning: run {run.id} is {run.state.value}, not completed: its results may be "
            f"incomplete (wait for it: {again(state, 'runs', 'wait', run.id)})",
            err=True,
        )
    return run


@results.command("export")
@click.argument("run_id", metavar="RUN")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["jsonl", "csv"]),
    help="JSON Lines or CSV (default: csv when -o ends in .csv, else jsonl).",
)
@click.option("--raw", is_flag=True, help="Add each item's vendor JSON as `raw` (JSON Lines only).")
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Write to PATH (a directory gets results.jsonl / results.csv), atomically; "
    "default: stdout.",
)
@json_option
@click.pass_obj
def results_export(
    state: State, run_id: str, format_: str | None, raw: bool, output: str | None
) -> None:
    """Write every result of RUN as JSON Lines or CSV: item, state, error, output.

    RUN is an AI Hub run id, or a Scale batch name. With -o the file appears only once every
    result is written (a failure leaves no partial file). To stdout the results are the
    output, with or without --json.
    """
    to_file = output is not None and output != "-"
    if format_ is None:
        format_ = "csv" if to_file and str(output).lower().endswith(".csv") else "jsonl"
    if raw and format_ != "jsonl":
        raise click.UsageError("--raw goes with --format jsonl (CSV has no raw column)")
    fmt = cast(Literal["jsonl", "csv"], format_)
    provider = state.provider()

    def each() -> Iterator[Result]:
        # polled when the first result is wanted: write_results checks -o before that, so a
        # bad path is a usage error with nothing sent
        yield from provider.results(_checked_run(state, provider, run_id))

    if not to_file:
        tolerant_stdout()
        write_results(each(), sys.stdout, format=fmt, raw=raw)
        sys.stdout.flush()
        return
    assert output is not None
    path = Path(output)
    if path.is_dir():
        path = path / f"results.{fmt}"
    count = write_results(each(), output, format=fmt, raw=raw)
    if state.json:
        emit_json({"run": run_id, "path": str(path), "format": fmt, "results": count})
        return
    state.console.print(
        Text(f"wrote {count} result{'s' if count != 1 else ''} of run {run_id} to {path}")
    )


def preview(output: Any) -> str:
    """A short one-line view of a result's output: ``key=value, …``, cut at `PREVIEW`."""
    if not output:
        return ""
    parts = []
    for key, value in dict(output).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    text = " ".join(", ".join(parts).split())
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


@results.command("show")
@click.argument("run_id", metavar="RUN")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N results.")
@json_option
@click.pass_obj
def results_show(state: State, run_id: str, limit: int | None) -> None:
    """Show the results of RUN as a table: item, state, error and a preview of the output."""
    provider = state.provider()
    run = _checked_run(state, provider, run_id)
    found: list[Result] = list(
        itertools.islice(provider.results(run), None if limit is None else limit + 1)
    )
    more = limit is not None and len(found) > limit
    found = found[:limit]
    if state.json:
        emit_json(found)
        return
    table = Table()
    for column in ("item", "state", "error", "output"):
        table.add_column(column)
    for r in found:
        table.add_row(cell(r.item), r.state.value, cell(r.error), cell(preview(r.output)))
    state.console.print(table)
    by_state: dict[str, int] = {}
    for r in found:
        by_state[r.state.value] = by_state.get(r.state.value, 0) + 1
    tally = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    line = f"{len(found)} result{'s' if len(found) != 1 else ''}" + (f": {tally}" if tally else "")
    if more:
        line += f" (the first {limit}; there are more)"
    state.console.print(Text(line))
