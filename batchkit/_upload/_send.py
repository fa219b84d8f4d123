"""One file's steps around the engine's `upload_file` call, shared by every engine.

Before it: the file's identity read again (what is sent is the file as it is now; for a
remote file its size and version, asked of its filesystem), a skip when the journal and the
batch already hold it, a sha256 when one is needed. After it: a file changed while it was
sent is failed, never reported uploaded; the rest is journaled and reported. Nothing here
sends a request to the vendor.
"""

from __future__ import annotations

import errno
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .._errors import BatchkitError, InvalidInput
from .._models import BatchFile, FileOutcome
from ._items import Item, Stat, local_sha256, not_a_file, os_reason
from ._journal import Journal, already_sent
from ._progress import Progress


@attrs.frozen
class Sent:
    """What became of one file (uploaded, skipped, failed or invalid)."""

    index: int
    outcome: FileOutcome
    sha256: str | None = None
    #: the size the provider reported back from upload_file
    remote_size: int | None = None


@attrs.frozen
class Ready:
    """A file about to be sent: its item as the file is now, and its sha256 if computed."""

    item: Item
    sha256: str | None


def reason(error: Exception) -> str:
    """Why a file failed, from the exception its send (or read-back) raised."""
    cause: BaseException | None = error
    while cause is not None:  # out of descriptors, however wrapped: say what to do
        if isinstance(cause, OSError) and cause.errno in (errno.EMFILE, errno.ENFILE):
            return os_reason(cause)
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, BatchkitError | OSError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def _restat(item: Item, path: Path) -> Item:
    """`item` with the size and identity its file has now (OSError if it is gone)."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(not_a_file(st))
    return attrs.evolve(item, size=st.st_size, stat=Stat.of(st))


def _changed(item: Item) -> str | None:
    """Why the file sent for `item` may not be what the batch now holds, or None."""
    if item.remote is not None:
        try:
            diff = item.remote.changes(item.remote.now())
        except OSError as e:
            diff = f"it can no longer be read ({os_reason(e)})"
    elif item.path is None or item.stat is None:
        return None
    else:
        try:
            diff = item.stat.changes(Stat.of(item.path.stat()))
        except OSError as e:
            diff = f"it can no longer be read ({os_reason(e)})"
    if not diff:
        return None
    return (
        f"changed while being uploaded: {diff}; the batch copy may mix old and new bytes; "
        "rerun to send the new version"
    )


class FileSteps:
    """The decisions around sending each file of one upload, with what they record."""

    def __init__(
        self,
        *,
        verify: str,
        progress: Progress,
        journal: Journal | None,
        journaled: Mapping[str, Mapping[str, Any]],
        listed: Mapping[str, int],
    ) -> None:
        self.verify = verify
        self.progress = progress
        self.journal = journal
        self.journaled = journaled
        self.listed = listed

    def before(self, item: Item) -> Ready | Sent:
        """The file to send (its "started" event emitted); or, if it is not to be sent, its
        outcome: skipped (already in the batch) or failed (it cannot be read)."""
        sha: str | None = None
        try:
            if item.path is not None:  # the file as it is now is what gets sent and checked
                item = _restat(item, item.path)
            elif item.remote is not None:
                now = item.remote.now()
                item = attrs.evolve(item, size=now.size, remote=now)
            if self.journaled:
                skip, sha = already_sent(item, self.journaled, self.listed)
                if skip:
                    outcome = FileOutcome(item.name, item.known_size, item.label, "skipped")
                    self.progress.emit("skipped", item, done=True)
                    return Sent(item.index, outcome)
            needs_sha = item.url is None and (
                self.verify == "sha256" or (self.journal is not None and not item.fingerprinted)
            )
            if sha is None and needs_sha:
                sha = local_sha256(item)
        except Exception as e:
            return self.failed(item, reason(e))
        self.progress.emit("started", item)
        return Ready(item, sha)

    def after(self, ready: Ready, sent: BatchFile) -> Sent:
        """The outcome of a file `upload_file` accepted (as `sent`): uploaded, unless the
        local file changed meanwhile."""
        item, sha = ready.item, ready.sha256
        changed = _changed(item)
        if changed is not None:
            if self.journal is not None:  # never skip this copy on a rerun
                self.journal.rejected(item.name, changed)
            return self.failed(item, changed)
        size = item.size if item.size is not None else sent.size
        if self.journal is not None:
            self.journal.uploaded(item, size, sha)
        self.progress.emit("uploaded", item, done=True)
        outcome = FileOutcome(item.name, size, item.label, "uploaded")
        return Sent(item.index, outcome, sha, sent.size)

    def failed(self, item: Item, why: str) -> Sent:
        """The outcome of a file that did not make it, reported as failed."""
        self.progress.emit("failed", item, done=True, reason=why)
        return Sent(item.index, FileOutcome(item.name, item.known_size, item.label, "failed", why))
