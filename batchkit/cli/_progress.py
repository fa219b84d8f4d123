"""Progress display for uploads and downloads: a rich bar on a terminal, plain lines in a pipe."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import IO, Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .. import UploadProgress
from ._output import human_size


def _bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.fields[files]}", markup=False),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


class LiveView:
    """A rich `Progress` shown while the block runs: on a terminal, unless `quiet`."""

    def __init__(
        self, console: Console, *, quiet: bool, progress: Callable[[Console], Progress]
    ) -> None:
        self.console = console
        self.quiet = quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if not quiet and console.is_terminal:
            self._progress = progress(console)

    def __enter__(self) -> Self:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


class UploadView(LiveView):
    """The ``on_progress`` callback of `provider.upload`, rendering as it goes.

    On a terminal: one rich bar with files and bytes done, rate and ETA; failures are
    printed above it. Elsewhere: one plain line per file finished
    (``[3/21] uploaded invoice-003.txt (1.2 kB)``). `quiet` prints nothing (``--json``).
    """

    def __init__(self, console: Console, *, quiet: bool = False, label: str = "upload") -> None:
        super().__init__(console, quiet=quiet, progress=_bar)
        self.label = label
        self._lock = threading.Lock()
        self._bytes_done = 0

    def __call__(self, event: UploadProgress) -> None:
        """Take one progress event from the upload engine."""
        with self._lock:
            size = event.bytes_done - self._bytes_done
            self._bytes_done = event.bytes_done
            if self.quiet:
                return
            if self._progress is not None:
                self._update_bar(event)
            elif event.kind != "started":
                self._plain_line(event, size)

    def _update_bar(self, event: UploadProgress) -> None:
        progress = self._progress
        assert progress is not None
        by_bytes = event.bytes_total > 0
        total = event.bytes_total if by_bytes else event.files_total
        done = event.bytes_done if by_bytes else event.files_done
        files = f"{event.files_done}/{event.files_total} files"
        if self._task is None:
            self._task = progress.add_task(self.label, total=total, files=files)
        description = event.name if event.kind == "started" else self.label
        progress.update(
            self._task, completed=done, total=total, files=files, description=description
        )
        if event.kind == "failed":
            progress.console.print(f"failed {event.name}: {event.reason}", markup=False)

    def _plain_line(self, event: UploadProgress, size: int) -> None:
        head = f"[{event.files_done}/{event.files_total}] {event.kind} {event.name}"
        if event.kind == "failed":
            line = f"{head}: {event.reason}"
        else:
            line = f"{head} ({human_size(size)})"
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


class DownloadView:
    """Counts bytes written to `dest` and shows them: a bar on a terminal, a line at the end."""

    def __init__(
        self,
        console: Console,
        dest: IO[bytes],
        *,
        name: str,
        total: int | None = None,
        quiet: bool = False,
    ) -> None:
        self.console = console
        self.dest = dest
        self.name = name
        self.total = total
        self.quiet = quiet
        self.written = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if not quiet and console.is_terminal:
            self._progress = _bar(console)
            self._task = self._progress.add_task(name, total=total, files="1 file")

    def write(self, data: bytes) -> int:
        """Write a chunk to the destination and count it."""
        n = self.dest.write(data)
        self.written += len(data)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.written)
        return n

    def __enter__(self) -> DownloadView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
