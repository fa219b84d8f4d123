"""``batchkit providers`` (the capability matrix) and ``batchkit config show``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from .. import SettingOrigin, capability_matrix, resolve_settings
from ._output import capability_table, cell, emit_json, flag_names, is_secret, mask, print_rows
from ._root import State, cli_hints, json_option


@click.command()
@json_option
@click.pass_obj
def providers(state: State) -> None:
    """Show which provider can do what (the capability matrix)."""
    matrix = capability_matrix()
    if state.json:
        emit_json({name: flag_names(caps) for name, caps in matrix.items()})
        return
    state.console.print(capability_table(matrix))


@click.group()
def config() -> None:
    """Inspect the resolved configuration."""


def _source(setting: str, origin: SettingOrigin) -> str:
    """Where a setting came from, as the ``from`` column says it."""
    if origin.kind == "argument":  # only --api-root comes from the command line
        return "--" + setting.replace("_", "-")
    if origin.kind == "environment":
        return f"${origin.variable}"
    if origin.variable is None:
        return "profile"
    return f"profile ${origin.variable}" + (" (NOT SET: export it)" if origin.unset else "")


def _chosen(what: str, name: str | None, source: str | None) -> str | None:
    """`name` and how it was chosen: "scale (from $BATCHKIT_PROVIDER)"."""
    if name is None:
        return None
    how = {
        "argument": f"from --{what}",
        "environment": f"from $BATCHKIT_{what.upper()}",
        "profile": "from the profile",
        "default_profile": "the file's default_profile",
    }.get(source or "")
    return f"{name} ({how})" if how else name


@config.command("show")
@json_option
@click.pass_obj
def config_show(state: State) -> None:
    """Show the provider and settings the options resolve to (secrets masked)."""
    with cli_hints():
        resolved = resolve_settings(
            state.provider_name,
            profile=state.profile,
            config=state.config,
            allow_unset=True,
            **state.overrides(),
        )
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in sorted(resolved.settings.items()):
        origin = resolved.origins[key]
        secret = is_secret(key, resolved.secret_settings)
        settings[key] = mask(value) if secret and not origin.unset else value
        sources[key] = _source(key, origin)
    path = resolved.config_file
    if state.json:
        emit_json(
            {
                "provider": resolved.provider,
                "profile": resolved.profile,
                "config_file": str(path) if path else None,
                "settings": settings,
                "sources": sources,
            }
        )
        return
    console = state.console
    print_rows(
        console,
        [
            ("provider", _chosen("provider", resolved.provider, resolved.provider_from)),
            ("profile", _chosen("profile", resolved.profile, resolved.profile_from)),
            ("config file", str(path) if path else "none found"),
        ],
    )
    out = Table(box=None, pad_edge=False)
    out.add_column("setting", style="bold")
    out.add_column("value")
    out.add_column("from")
    for key, value in settings.items():
        out.add_row(key, cell(value), cell(sources[key]))
    console.print()
    console.print(out if settings else Text("no settings"))
