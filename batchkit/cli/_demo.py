"""``batchkit demo``: one labeling pipeline, the same code for every provider, on an emulator.

`labeling_pipeline` is written against the neutral API only and branches on capability
flags, never on the vendor: items in (`upload`), processing started (`start`) and waited
for (`wait`), results out (`results`). The one vendor-aware piece lives outside it: `setup`
(a Scale batch needs a project, made with the `create_project` of a provider that
`SupportsProjects`). What differs between the vendors otherwise is configuration, as in a
real pipeline's profile: the AI Hub app to run, the Scale task type files become.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from .. import (
    BatchkitError,
    BatchProvider,
    Capability,
    NotFound,
    SupportsProjects,
    TaskCounts,
    UploadIncomplete,
    capability_matrix,
    connect,
)
from ._exit import ExitCode, exit_code_for, one_line
from ._output import capability_table, emit_json, flag_names, human_size
from ._progress import UploadView
from ._root import State, json_option

if TYPE_CHECKING:
    from ..emulator import Emulator

#: how many small files the demo uploads, and the size of the one big (multipart) file
SMALL_FILES = 20
BIG_FILE_SIZE = 10 * 1024 * 1024 + 512 * 1024
PROJECT = "demo-labeling"

#: prints one step: (step name, what happened)
Say = Callable[[str, str], None]


def make_files(root: Path) -> Path:
    """Write the demo's files into ``root/scans``: 20 small text files and one file over 10 MB."""
    scans = root / "scans"
    scans.mkdir()
    for i in range(1, SMALL_FILES + 1):
        body = "".join(f"invoice {i:03d} line {n}: 1 x widget @ 9.99\n" for n in range(i * 8))
        (scans / f"invoice-{i:03d}.txt").write_text(body, encoding="utf-8")
    block = hashlib.sha256(b"batchkit demo").digest() * 2048  # 64 KiB
    with (scans / "scan-archive.bin").open("wb") as f:
        left = BIG_FILE_SIZE
        while left > 0:
            f.write(block[:left])
            left -= len(block)
    return scans


def setup(provider: BatchProvider) -> str | None:
    """Vendor-specific preparation; returns the project to create the batch in.

    The one vendor-specific line of the demo: Scale batches live in a project.
    """
    if isinstance(provider, SupportsProjects):  # Scale
        # a Studio project: its batches start staging, so the demo's finalize step shows
        return provider.create_project(PROJECT, type="imageannotation", studio=True).name
    return None


def labeling_pipeline(
    provider: BatchProvider,
    files: Path,
    *,
    project: str | None,
    say: Say,
    console: Console,
) -> None:
    """Create a batch, upload, start processing, wait, read the results, clean up.

    The same function for every provider: what a provider cannot do is skipped by
    capability flag, with a line saying so.
    """

    def skipped(step: str, operation: str) -> None:
        say(step, f"skipped: {provider.name} does not support {operation}")

    batch = provider.create_batch(f"{PROJECT}-{provider.name}", project=project)
    named = f" ({batch.name})" if batch.name != batch.id else ""
    where = f" in project {batch.project}" if batch.project else ""
    say("create", f"batch {batch.id}{named}{where}, state {batch.state.value}")

    if provider.supports(Capability.UPLOAD_FILES):
        started = time.perf_counter()
        with UploadView(console, quiet=not console.is_terminal, label="uploading") as view:
            report = provider.upload(batch, files, on_progress=view)
        took = time.perf_counter() - started
        parts = " (big file in parts)" if provider.supports(Capability.MULTIPART_UPLOAD) else ""
        say(
            "upload",
            f"{len(report.uploaded)} files, {human_size(report.bytes_uploaded)} in "
            f"{took:.1f}s{parts}, verified",
        )
        if not report.ok:
            raise UploadIncomplete(f"{len(report.failed)} files failed", report=report)
    else:
        skipped("upload", "upload")

    if provider.supports(Capability.LIST_FILES):
        listed = list(provider.list_files(batch))
        total = sum(f.size for f in listed)
        biggest = max(listed, key=lambda f: f.size, default=None)
        big = f"; largest {biggest.name} ({human_size(biggest.size)})" if biggest else ""
        say("list files", f"{len(listed)} files, {human_size(total)}{big}")
    else:
        skipped("list files", "list_files")

    status = provider.status(batch)
    say("status", f"{status.state.value}{_counts(status.counts)}")

    if provider.supports(Capability.PRIORITIZE):
        provider.prioritize(batch, 30)
        say("prioritize", "priority 30 (highest)")
    else:
        skipped("prioritize", "prioritize")

    if provider.supports(Capability.RUNS):
        run = provider.start(batch)
        say("start", f"run {run.id}, {run.state.value}{_counts(run.counts)}")
        run = provider.wait(
            run,
            timeout=120,
            on_update=lambda r: say(
                "wait",
                f"{r.state.value}{_counts(r.counts)}" + (f": {r.message}" if r.message else ""),
            ),
        )
    else:
        skipped("start", "start")

    if provider.supports(Capability.RESULTS) and provider.supports(Capability.RUNS):
        results = list(provider.results(run))
        by_state: dict[str, int] = {}
        for result in results:
            by_state[result.state.value] = by_state.get(result.state.value, 0) + 1
        tally = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items()))
        say("results", f"{len(results)} items: {tally}")
        for result in sorted(results, key=lambda r: r.item)[:2]:
            shown = ", ".join(f"{k}={str(v)[:24]}" for k, v in list(result.output.items())[:3])
            say("  result", f"{result.item}: {result.state.value}; {shown}")
    else:
        skipped("results", "results")

    if provider.supports(Capability.DELETE_BATCH):
        provider.delete_batch(batch)
        try:
            provider.get_batch(batch)
        except NotFound:
            say("delete", "batch and files deleted (get_batch now raises NotFound)")
        else:
            say("delete", "deleted, but the batch is still listed")
    else:
        skipped("delete", "delete_batch")


def _counts(counts: TaskCounts | None) -> str:
    if counts is None:
        return ""
    return (
        f"; tasks: {counts.pending} pending, {counts.completed} completed, {counts.error} "
        f"error, {counts.canceled} canceled ({counts.total} total)"
    )


#: what a pipeline's profile would hold: the vendor, its credentials, and what processing
#: means there (the AI Hub app to run; the Scale task each file becomes)
POLL = {"poll_initial": 0.05, "poll_max": 0.2}


def _targets(emu: Emulator) -> list[tuple[str, Mapping[str, Any]]]:
    """(provider, connect settings) for each provider the emulator serves."""
    return [
        (
            "aihub",
            {
                "api_root": emu.aihub_api_root,
                "token": "demo-token",
                "app": "batchkit-extractor",
                **POLL,
            },
        ),
        (
            "scale",
            {
                "api_root": emu.scale_api_root,
                "api_key": "demo-key",
                "task_type": "imageannotation",
                "task_fields": {
                    "instruction": "Box every widget",
                    "geometries": {"box": {"objects_to_annotate": ["widget"]}},
                },
                **POLL,
            },
        ),
    ]


@contextmanager
def _emulator() -> Iterator[Emulator]:
    # imported here for import-time speed only: Emulator loads the emulator extra
    # (starlette, uvicorn), which no other command needs
    from ..emulator import Emulator

    with Emulator(job_polls=1) as emu, emu.serve():
        yield emu


def run_demo(console: Console, *, keep_going: bool = False, json_output: bool = False) -> int:
    """Run the pipeline against every emulated provider; print each step; return an exit code.

    Stops at the first provider that fails unless `keep_going`. With `json_output` nothing
    is printed as it goes; one JSON document (each provider's steps, any error, and the
    capability matrix) goes to stdout at the end.
    """
    try:  # a probe, not a dependency: the emulator extra is optional, so say it is missing
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        console.print(
            "error: batchkit demo needs the emulator extra: "
            "pip install 'batchkit-client[emulator]'",
            markup=False,
        )
        return ExitCode.USAGE

    if json_output:
        console = Console(file=io.StringIO())
    report: dict[str, Any] = {"providers": []}
    code = ExitCode.OK

    def say(step: str, message: str) -> None:
        report["providers"][-1]["steps"].append({"step": step, "message": message})
        style = "dim" if message.startswith("skipped:") else ""
        console.print(Text.assemble((f"  {step:<11} ", "bold"), (message, style)))

    with tempfile.TemporaryDirectory(prefix="batchkit-demo-") as tmp, _emulator() as emu:
        files = make_files(Path(tmp))
        console.print(
            Text(f"batchkit demo: one pipeline, the same code for every provider, at {emu.url}"),
            soft_wrap=True,
        )
        console.print(
            Text(
                f"files: {SMALL_FILES} small text files and one of "
                f"{human_size(BIG_FILE_SIZE)} in {files}"
            ),
            soft_wrap=True,
        )
        report["emulator"] = emu.url
        for name, settings in _targets(emu):
            report["providers"].append({"name": name, "steps": [], "error": None})
            console.print()
            console.rule(Text(name))
            try:
                with connect(name, **settings) as provider:
                    project = setup(provider)
                    if project:
                        say("setup", f"project {project} (Scale adapter: create_project)")
                    labeling_pipeline(
                        provider,
                        files,
                        project=project,
                        say=say,
                        console=console,
                    )
            except BatchkitError as e:
                code = exit_code_for(e)
                report["providers"][-1]["error"] = one_line(str(e))
                console.print(Text(f"  error: {one_line(str(e))}", style="red"))
                if not keep_going:
                    break
        console.print()
        console.print(capability_table(capability_matrix()))
    console.print("demo finished" if code == ExitCode.OK else "demo failed")
    if json_output:
        matrix = capability_matrix()
        report["capabilities"] = {name: flag_names(caps) for name, caps in matrix.items()}
        report["ok"] = code == ExitCode.OK
        emit_json(report)
    return code


@click.command()
@click.option("--keep-going", is_flag=True, help="Run the next provider even if one fails.")
@json_option
@click.pass_obj
def demo(state: State, keep_going: bool) -> None:
    """Run one pipeline on both providers, offline.

    Starts the emulator on a free loopback port and runs the same labeling pipeline
    against AI Hub and Scale, printing each step and the capability matrix.
    """
    code = run_demo(state.console, keep_going=keep_going, json_output=state.json)
    raise click.exceptions.Exit(code)
