"""``batchkit projects create``: the containers of task batches, where a provider has them."""

from __future__ import annotations

import click
from rich.text import Text

from .. import SupportsProjects, UnsupportedOperation, providers_supporting
from ._output import emit_json
from ._root import State, json_option


@click.group()
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
    if not isinstance(provider, SupportsProjects):
        # _fail words it for the shell from these fields
        raise UnsupportedOperation(
            f"{provider.name} has no projects",
            provider=provider.name,
            operation="create_project",
            supported_by=providers_supporting(SupportsProjects),
        )
    params = {"instruction": instruction} if instruction else None
    project = provider.create_project(
        name, type=type_, params=params, rapid=rapid or None, studio=studio or None
    )
    if state.json:
        emit_json(project)
        return
    state.console.print(Text(f"created project {project.name} ({project.type or type_})"))
