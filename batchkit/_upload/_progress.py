"""Progress of a bulk upload: the events the ``on_progress`` callback gets, and their counter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal, TypeAlias

import attrs

from .._errors import InvalidInput
from ._items import Item

#: what happened to a file, as reported to the progress callback
ProgressKind: TypeAlias = Literal["started", "uploaded", "skipped", "failed"]


@attrs.frozen
class UploadProgress:
    """One step of a bulk upload, passed to the ``on_progress`` callback.

    `files_done` / `bytes_done` count files finished in any way (uploaded, skipped or
    failed), so a progress bar reaches `files_total` / `bytes_total`. A file rejected by
    the final verification gets a ``"failed"`` event after its ``"uploaded"`` one.
    """

    kind: ProgressKind
    """What happened: ``"started"`` (about to send), ``"uploaded"``, ``"skipped"`` (already
    there) or ``"failed"``."""
    name: str
    """The batch file name this event is about."""
    files_done: int
    """Files finished so far, in any way (uploaded, skipped or failed)."""
    files_total: int
    """Files in the upload (the invalid ones left out with ``invalid="skip"`` not counted)."""
    bytes_done: int
    """Bytes of the files finished so far (a file counts whole when it finishes)."""
    bytes_total: int
    """Bytes of every file in the upload (0 for files whose size is not known)."""
    reason: str | None = None
    """Why the file failed (kind ``"failed"`` only); None otherwise."""


#: the ``on_progress`` callback: called once per event, never concurrently
ProgressCallback: TypeAlias = Callable[[UploadProgress], None]


def check_callback(on_progress: object) -> None:
    if on_progress is not None and not callable(on_progress):
        raise InvalidInput(
            f"on_progress must be a function taking an UploadProgress, or None; got "
            f"{type(on_progress).__name__}: {on_progress!r:.80}"
        )


class Progress:
    """Counts finished files and bytes; calls the callback under a lock."""

    def __init__(self, callback: ProgressCallback | None, files: int, total: int) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self.files_total = files
        self.bytes_total = total
        self.files_done = 0
        self.bytes_done = 0

    def emit(
        self, kind: ProgressKind, item: Item, *, done: bool = False, reason: str | None = None
    ) -> None:
        with self._lock:
            if done:
                self.files_done += 1
                self.bytes_done += item.known_size
            if self._callback is not None:
                self._callback(
                    UploadProgress(
                        kind=kind,
                        name=item.name,
                        files_done=self.files_done,
                        files_total=self.files_total,
                        bytes_done=self.bytes_done,
                        bytes_total=self.bytes_total,
                        reason=reason,
                    )
                )
