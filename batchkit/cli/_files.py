"""``batchkit files …``: upload, list, download and delete the files of a batch."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import IO, Any, cast

import click
from rich.table import Table
from rich.text import Text

from .. import (
    Capability,
    ProgressCallback,
    UploadIncomplete,
    UploadProgress,
    UploadReport,
    save_to,
)
from ._exit import ExitCode
from ._output import cell, emit_json, human_size, to_jsonable, when
from ._progress import DownloadView, UploadView
from ._root import State, json_option


@click.group()
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


def _upload_document(
    batch_id: str, files: list[dict[str, Any]], *, interrupted: bool
) -> dict[str, Any]:
    """The ``--json`` document of ``files upload``, one shape whether it finished or was
    interrupted: ``{"batch_id", "ok", "interrupted", "uploaded", "skipped", "failed",
    "bytes_uploaded", "files": [{"name", "size", "source", "status", "reason"}]}``, where
    ``uploaded`` / ``skipped`` / ``failed`` are counts of `files`, and `ok` is false when a
    file failed or the upload was interrupted (docs/cli.md, ``--json``)."""
    counts = {status: sum(1 for f in files if f["status"] == status) for status in _COUNTED}
    return {
        "batch_id": batch_id,
        "ok": counts["failed"] == 0 and not interrupted,
        "interrupted": interrupted,
        **counts,
        "bytes_uploaded": sum(f["size"] for f in files if f["status"] == "uploaded"),
        "files": files,
    }


#: the statuses `_upload_document` counts (an "invalid" file has no count of its own)
_COUNTED = ("uploaded", "skipped", "failed")


def _report_document(report: UploadReport) -> dict[str, Any]:
    """`_upload_document` of a finished upload."""
    files: list[dict[str, Any]] = to_jsonable(list(report.files))
    return _upload_document(report.batch_id, files, interrupted=False)


class _FinishedFiles:
    """The ``on_progress`` callback of ``files upload``: passes each event on to `show` and
    keeps the files that finished, as `_upload_document` lists them, for an upload that is
    interrupted (and so returns no report). The engine calls it for one event at a time."""

    def __init__(self, show: ProgressCallback) -> None:
        self.show = show
        self.files: dict[str, dict[str, Any]] = {}
        self._bytes_done = 0

    def __call__(self, event: UploadProgress) -> None:
        self.show(event)
        size = event.bytes_done - self._bytes_done
        self._bytes_done = event.bytes_done
        if event.kind == "started":
            return
        known = self.files.get(event.name)
        if known is not None:  # failed verification after its "uploaded" event: same size
            known.update(status=event.kind, reason=event.reason)
            return
        self.files[event.name] = {
            "name": event.name,
            "size": size,
            # the events do not carry the source: null, documented (docs/cli.md, --json)
            "source": None,
            "status": event.kind,
            "reason": event.reason,
        }


@files.command("upload")
@click.argument("batch_id", metavar="BATCH")
# plain text, not click.Path: a URL source must reach upload() as given ("https://a/b" as a
# Path would lose a slash)
@click.argument("paths", nargs=-1, required=True, metavar="PATH_OR_URL...")
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
@click.option(
    "--name-by",
    type=click.Choice(["basename", "relative"]),
    default="basename",
    show_default=True,
    help="Name each file by its base name, or by its path relative to the folder given "
    "(scans/2026/a.pdf -> 2026%2Fa.pdf: '/' and '%' percent-encoded, reversible).",
)
@json_option
@click.pass_obj
def files_upload(
    state: State,
    batch_id: str,
    paths: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    concurrency: int,
    resume: bool,
    verify: str,
    skip_invalid: bool,
    name_by: str,
) -> None:
    """Upload files and directories (walked recursively) to BATCH.

    A storage URL (s3://bucket/scans/, gs://..., az://..., read through fsspec: pip install
    'batchkit-client[fsspec]' and the protocol's package, such as s3fs) is a file or a folder
    like a local one, streamed through this machine. An http(s) URL is fetched by the vendor
    itself where it can (Scale: each becomes a task with no byte through this machine; see
    `batchkit providers` for IMPORT_URLS), and streamed through this machine elsewhere when
    fsspec is installed.

    Exits 4 when some files failed; the others stay in the batch, and a rerun with
    --resume sends only what is missing. Files that cannot be uploaded at all are listed
    up front and nothing is sent, unless --skip-invalid. Ctrl-C finishes the files in
    flight; a second Ctrl-C quits at once.
    """
    provider = state.provider()
    provider.require(Capability.UPLOAD_FILES, "upload")
    # no get_batch here: upload() checks the paths first (a bad one is a usage error with
    # nothing sent), then fetches the batch once (a missing one is one 404, not one per file)
    view = UploadView(state.console, quiet=state.json)
    finished = _FinishedFiles(view)
    try:
        with view, _second_ctrl_c_quits(batch_id):
            report = provider.upload(
                batch_id,
                list(paths),
                concurrency=concurrency,
                on_progress=finished,
                resume=resume,
                verify=cast(Any, verify),
                include=include or None,
                exclude=exclude or None,
                invalid="skip" if skip_invalid else "refuse",
                name_by=cast(Any, name_by),
            )
    except KeyboardInterrupt:
        if state.json:
            done = list(finished.files.values())
            emit_json(_upload_document(batch_id, done, interrupted=True))
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
        emit_json(_report_document(report))
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
        table.add_row(cell(f.name), human_size(f.size), when(f.modified_at))
    state.console.print(table)
    total = sum(f.size for f in found)
    state.console.print(f"{len(found)} file{'s' if len(found) != 1 else ''}, {human_size(total)}")


_RANGE = re.compile(r"(\d+)-(\d*)")
#: a URL (``s3://...``): a download destination fsspec writes, not a local path
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


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
@click.argument("name", required=False, metavar="[NAME | FOLDER]")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every file of BATCH into FOLDER (or -o; default: .), concurrently; files already "
    "there with their size are skipped, so a rerun resumes.",
)
@click.option("--concurrency", type=int, default=16, show_default=True, help="With --all.")
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write (default: ./NAME; '-' for stdout; with --all, the folder). A "
    "storage URL (s3://bucket/out/) works too, through fsspec.",
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
    name: str | None,
    everything: bool,
    concurrency: int,
    output: str | None,
    byte_range: tuple[int, int | None] | None,
) -> None:
    """Download the file NAME of BATCH, or with --all every file of it into FOLDER.

    FOLDER (or -o) may be a storage URL, such as s3://bucket/out/ (through fsspec).
    """
    if everything:
        if byte_range is not None or output == "-" or (name is not None and output is not None):
            raise click.UsageError(
                "--all takes one FOLDER (as an argument or -o), and no --range or '-o -'"
            )
        _download_all(state, batch_id, name or output or ".", concurrency)
        return
    if name is None:
        raise click.UsageError("give the file's NAME, or --all for every file of BATCH")
    provider = state.provider()
    start, end = byte_range or (0, None)
    if output == "-":
        provider.download_file(
            batch_id, name, cast(IO[bytes], sys.stdout.buffer), start=start, end=end
        )
        sys.stdout.flush()
        return
    if output is not None and _URL.match(output):  # a storage URL: fsspec writes it
        written = provider.download_file(batch_id, name, output, start=start, end=end)
        if state.json:
            emit_json({"batch_id": batch_id, "name": name, "path": output, "bytes": written})
            return
        state.console.print(Text(f"downloaded {name} to {output} ({human_size(written)})"))
        return
    total = end - start + 1 if end is not None else None
    # a bad name or destination is a usage error before any file is created
    with (
        save_to(output or ".", name) as (dest, f),
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


def _download_all(state: State, batch_id: str, folder: str, concurrency: int) -> None:
    """`files download --all`: the batch into `folder`; exit 4 if a file did not make it."""
    report = state.provider().download(batch_id, folder, concurrency=concurrency)
    if state.json:
        emit_json(report)
    else:
        for failed in report.failed:
            state.console.print(Text(f"failed: {failed.name}: {failed.reason}", style="red"))
        state.console.print(
            Text(
                f"{len(report.downloaded)} downloaded, {len(report.skipped)} already there, "
                f"{len(report.failed)} failed, into {report.folder}"
            )
        )
    if not report.ok:
        raise click.exceptions.Exit(ExitCode.PARTIAL_UPLOAD)
