"""``batchkit batches …``: create, list, inspect, finalize, prioritize and delete batches."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from .. import (
    Batch,
    BatchState,
    BatchStatus,
    Capability,
    UnsupportedOperation,
    providers_supporting,
)
from ._output import cell, emit_json, print_rows, when
from ._root import State, json_option
from ._runs import print_run, wait_for, wait_timeout

_STATES = [s.value for s in BatchState if s is not BatchState.UNKNOWN]


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


@click.group()
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
    print_rows(state.console, _batch_rows(batch))


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
        table.add_row(cell(b.id), cell(b.name), cell(b.project), b.state.value, when(b.created_at))
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
    print_rows(state.console, _batch_rows(batch))


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
    print_rows(state.console, _status_rows(status, provider.name))


@batches.command("wait")
@click.argument("batch_id", metavar="ID")
@wait_timeout("the work")
@json_option
@click.pass_obj
def batches_wait(state: State, batch_id: str, timeout: float) -> None:
    """Wait until the work on batch ID is done, showing its task counts, and print it.

    For vendors whose batches count their own tasks (Scale: the batch is its run). AI Hub
    batches are processed by runs instead: `runs start ID --wait`, or `runs wait RUN`.
    Exits 3 if the batch's work failed or is still going after --timeout.
    """
    provider = state.provider()
    if not provider.supports(Capability.STATUS_COUNTS):
        raise UnsupportedOperation(
            f"{provider.name} batches have no task counts to wait on",
            provider=provider.name,
            operation="batches wait",
            supported_by=providers_supporting(Capability.STATUS_COUNTS),
            hint=f"{provider.name} batches have no progress of their own: their work is a run; "
            f"start one and wait for it with `batchkit runs start {batch_id} --wait`, or "
            "`batchkit runs wait RUN` for a run already started",
        )
    print_run(state, wait_for(state, provider, batch_id, timeout=timeout, group="batches"))


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
