"""The ``batchkit`` command: the root group (`_root`) with one module per command group."""

from __future__ import annotations

from ._batches import batches
from ._config import config, providers
from ._demo import demo
from ._emulator import emulator
from ._files import files
from ._projects import projects
from ._root import cli
from ._runs import results, runs
from ._tasks import tasks

for command in (providers, config, projects, batches, files, tasks, runs, results, emulator, demo):
    cli.add_command(command)

__all__ = ["cli"]
