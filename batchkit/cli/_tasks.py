"""``batchkit tasks …``: add, list, inspect and cancel the tasks of a batch (Scale)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from .. import BatchProvider, Capability, InvalidInput, ItemState, Task, TaskSpec
from ._output import cell, emit_json, print_rows, when
from ._root import State, json_option

_STATES = [s.value for s in ItemState]
#: the keys a JSON Lines task may have
_LINE_KEYS = frozenset({"type", "fields", "unique_id", "metadata"})
#: task fields a spec's `fields` may not set: the batch sets project and batch, and
#: unique_id / metadata are the spec's own (the library refuses them too, after parsing)
_RESERVED = frozenset({"project", "batch", "unique_id", "metadata"})
#: how many bad lines of a JSON Lines file the error names
_SHOWN = 5


def _tasks_provider(state: State, operation: str) -> BatchProvider:
    """The provider, if it has tasks (`UnsupportedOperation`, exit 5, before anything else)."""
    provider = state.provider()
    provider.require(Capability.TASKS, operation)
    return provider


def _item(task: Task) -> str | None:
    """What a task is about: the file it was made from, else its unique_id."""
    made_from = task.metadata.get("batchkit_item")
    return made_from if isinstance(made_from, str) else task.unique_id


def _json_object(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise click.BadParameter(f"must be a JSON object ({{...}}), got {type(parsed).__name__}")
    return parsed


def _reserved(fields: Mapping[str, Any]) -> str | None:
    found = sorted(_RESERVED & set(fields))
    if not found:
        return None
    return (
        f"fields set {found}: the batch sets project and batch; unique_id and metadata go "
        "beside fields"
    )


def _line_spec(
    line: str, type_: str | None, base: Mapping[str, Any]
) -> tuple[TaskSpec | None, str | None]:
    """One JSON Lines task as a spec, or why it is not one."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e})"
    if not isinstance(record, dict):
        return None, f"must be a JSON object, got {type(record).__name__}"
    unknown = sorted(set(record) - _LINE_KEYS)
    if unknown:
        return None, f"unknown key(s) {unknown}: a task has {sorted(_LINE_KEYS)}"
    fields = record.get("fields")
    if not isinstance(fields, dict):
        return None, 'needs "fields", a JSON object'
    reserved = _reserved(fields)
    if reserved:
        return None, reserved
    kind = record.get("type", type_)
    if not isinstance(kind, str) or not kind:
        return None, 'needs "type" (a task type), or pass --type'
    unique_id = record.get("unique_id")
    if unique_id is not None and (not isinstance(unique_id, str) or not unique_id):
        return None, '"unique_id" must be a non-empty string'
    metadata = record.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return None, '"metadata" must be a JSON object'
    spec = TaskSpec(kind, {**base, **fields}, unique_id=unique_id, metadata=metadata)
    return spec, None


def read_specs(source: str, type_: str | None, base: Mapping[str, Any]) -> list[TaskSpec]:
    """The tasks of a JSON Lines file (``-``: stdin), one per non-blank line; every bad line
    is named in one `InvalidInput` (exit 2) before anything is sent."""
    with click.open_file(source, "rb") as f:
        data = f.read()
    shown = "stdin" if source == "-" else source
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{shown} is not UTF-8 text ({e}); nothing was sent") from None
    specs: list[TaskSpec] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        spec, problem = _line_spec(line, type_, base)
        if problem is not None:
            problems.append(f"line {number}: {problem}")
        elif spec is not None:
            specs.append(spec)
    if problems:
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise InvalidInput(
            f"{len(problems)} line(s) of {shown} are not tasks: "
            f"{'; '.join(problems[:_SHOWN])}{more}; fix them (one JSON object a line: "
            '{"type", "fields", "unique_id", "metadata"}); nothing was sent'
        )
    if not specs:
        raise InvalidInput(f"{shown} has no tasks (no non-blank line); nothing was sent")
    return specs


def _tasks_table(found: list[Task]) -> Table:
    table = Table()
    for column in ("id", "state", "type", "item", "created"):
        table.add_column(column)
    for t in found:
        table.add_row(cell(t.id), t.state.value, cell(t.type), cell(_item(t)), when(t.created_at))
    return table


def _plural(n: int) -> str:
    return f"{n} task{'s' if n != 1 else ''}"


@click.group()
def tasks() -> None:
    """Add, list, inspect and cancel the tasks of a batch (Scale only)."""


@tasks.command("add")
@click.argument("batch_id", metavar="BATCH")
@click.option(
    "--type",
    "type_",
    metavar="TYPE",
    help='Task type, e.g. imageannotation (a JSON Lines task\'s own "type" wins).',
)
@click.option(
    "--attachment",
    "attachments",
    multiple=True,
    metavar="URL",
    help="One task per URL, with it as the task's attachment (repeatable).",
)
@click.option(
    "--from-jsonl",
    "from_jsonl",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
    metavar="FILE",
    help='One task per line: {"type"?, "fields", "unique_id"?, "metadata"?} (- for stdin).',
)
@click.option(
    "--fields",
    "base_fields",
    callback=_json_object,
    metavar="JSON",
    help="Task fields for every task, as a JSON object (a task's own fields win).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Tasks created at once.",
)
@json_option
@click.pass_obj
def tasks_add(
    state: State,
    batch_id: str,
    type_: str | None,
    attachments: tuple[str, ...],
    from_jsonl: str | None,
    base_fields: dict[str, Any] | None,
    concurrency: int,
) -> None:
    """Add tasks to BATCH: one per --attachment URL, or one per line of --from-jsonl FILE.

    Idempotent: each task has a unique_id (its own, or one derived from the batch and the
    task), so running the same command again adds nothing twice and prints the tasks already
    there. Every input is checked before the first task is sent.
    """
    if bool(attachments) == (from_jsonl is not None):
        raise click.UsageError("give the tasks as --attachment URL ... or as --from-jsonl FILE")
    if attachments and not type_:
        raise click.UsageError("--attachment needs --type (the task type, e.g. imageannotation)")
    base = base_fields or {}
    provider = _tasks_provider(state, "add_tasks")
    reserved = _reserved(base)
    if reserved:
        raise InvalidInput(f"--fields: {reserved}")
    if from_jsonl is not None:
        specs = read_specs(from_jsonl, type_, base)
    else:
        if "attachment" in base:
            raise InvalidInput("--fields sets attachment, which --attachment gives each task")
        twice = sorted({url for url in attachments if attachments.count(url) > 1})
        if twice:
            raise InvalidInput(f"--attachment given more than once for {twice}: one task each")
        assert type_ is not None
        specs = [TaskSpec(type_, {**base, "attachment": url}) for url in attachments]
    added = provider.add_tasks(batch_id, specs, concurrency=concurrency)
    if state.json:
        emit_json(added)
        return
    state.console.print(_tasks_table(added))
    state.console.print(
        Text(f"batch {batch_id}: {_plural(len(added))} added, or already there (same unique_id)")
    )


def _iso_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (``2026-12-01``, ``2026-12-01T09:30:00+01:00``, a
    trailing ``Z``); without an offset it is UTC, as the library takes it."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or date-time (e.g. 2026-12-01 or "
            "2026-12-01T09:30:00Z)"
        ) from None


#: the time filters of `tasks list`, as (what is bounded, which side)
_TIME_FILTERS = [
    (event, side) for event in ("created", "updated", "completed") for side in ("after", "before")
]


def _time_filters(command: Callable[..., Any]) -> Callable[..., Any]:
    for event, side in reversed(_TIME_FILTERS):
        command = click.option(
            f"--{event}-{side}",
            metavar="TIME",
            callback=_iso_time,
            help=f"Only tasks {event} at or {side} TIME (ISO 8601; UTC without an offset).",
        )(command)
    return command


@tasks.command("list")
@click.argument("batch_id", metavar="BATCH")
@click.option(
    "--state",
    "state_",
    type=click.Choice(_STATES, case_sensitive=False),
    help="Only tasks in this state.",
)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Only tasks with this tag (repeat: any)."
)
@_time_filters
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N tasks.")
@json_option
@click.pass_obj
def tasks_list(
    state: State,
    /,
    batch_id: str,
    state_: str | None,
    tags: tuple[str, ...],
    limit: int | None,
    **bounds: datetime | None,
) -> None:
    """List the tasks of BATCH, newest first, filtered on the server.

    `--completed-after` with the time of the last export lists only what finished since.
    """
    provider = _tasks_provider(state, "list_tasks")
    chosen = ItemState(state_.lower()) if state_ else None
    found = list(
        provider.list_tasks(batch_id, state=chosen, limit=limit, tags=list(tags) or None, **bounds)
    )
    if state.json:
        emit_json(found)
        return
    state.console.print(_tasks_table(found))
    state.console.print(Text(_plural(len(found))))


def _compact(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@tasks.command("get")
@click.argument("task_id", metavar="TASK")
@json_option
@click.pass_obj
def tasks_get(state: State, task_id: str) -> None:
    """Show one task, with its response once it is completed."""
    task = _tasks_provider(state, "get_task").get_task(task_id)
    if state.json:
        emit_json(task)
        return
    print_rows(
        state.console,
        [
            ("id", task.id),
            ("batch", task.batch_id),
            ("state", task.state.value),
            ("type", task.type),
            ("unique_id", task.unique_id),
            ("created", when(task.created_at)),
            ("metadata", _compact(dict(task.metadata)) if task.metadata else None),
            ("response", _compact(dict(task.response)) if task.response else None),
        ],
    )


@tasks.command("cancel")
@click.argument("task_id", metavar="TASK")
@click.option(
    "--clear-unique-id",
    is_flag=True,
    help="Also free the task's unique_id, so that a new task may take it.",
)
@json_option
@click.pass_obj
def tasks_cancel(state: State, task_id: str, clear_unique_id: bool) -> None:
    """Cancel a task no one has started yet (Scale refuses the others: exit 3)."""
    provider = _tasks_provider(state, "cancel_task")
    task = provider.cancel_task(task_id, clear_unique_id=clear_unique_id)
    if state.json:
        emit_json(task)
        return
    freed = "; its unique_id is free again" if clear_unique_id else ""
    state.console.print(Text(f"task {task.id}: {task.state.value}{freed}"))


__all__ = ["read_specs", "tasks"]
