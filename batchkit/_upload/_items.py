"""One file to send, as planning hands it on: the `Item`, the identity of its local version
(`Stat`) or of its remote one (`RemoteFile`), how its bytes are read, and how a local error
is put into words."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import IO, cast

import attrs

from .._models import FileUrl
from .._remote import RemoteFile
from .._sources import RemoteStream

CHUNK = 1 << 20


@attrs.frozen
class Stat:
    """What identifies one version of a local file: any change to it changes one of these."""

    size: int
    mtime_ns: int
    #: the status-change time: moves on every write, and users cannot set it back
    ctime_ns: int
    ino: int
    dev: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def changes(self, now: Stat) -> str:
        """What differs from `now`, in words ("" if nothing)."""
        said = []
        if now.size != self.size:
            said.append(f"size {self.size} -> {now.size} bytes")
        if now.mtime_ns != self.mtime_ns:
            said.append("modification time")
        if now.ctime_ns != self.ctime_ns:
            said.append("status-change time")
        if (now.ino, now.dev) != (self.ino, self.dev):
            said.append("replaced by another file")
        return ", ".join(said)


@attrs.frozen
class Item:
    """One file to send, fully resolved before anything is sent; or one that cannot be.

    Items reading one stream object share it (`stream` is the same object): an engine lets
    one of them read it at a time.
    """

    index: int
    name: str
    #: shown in reports and messages: the local path or the URL, or "<stream>" / "<bytes>"
    label: str
    #: size in bytes; None for a stream that cannot seek
    size: int | None
    path: Path | None = None
    #: the path's identity when planned (refreshed just before sending)
    stat: Stat | None = None
    stream: IO[bytes] | None = attrs.field(default=None, eq=False)
    start: int = 0
    content: bytes | None = attrs.field(default=None, eq=False, repr=False)
    #: why this entry cannot be uploaded (refused, or skipped with invalid="skip")
    problem: str | None = None
    #: a problem skipping cannot settle: a source path that does not exist
    fatal: bool = False
    #: an http(s) URL the vendor fetches itself (`Capability.IMPORT_URLS`): no local bytes
    url: str | None = None
    #: a remote file (an fsspec URL) streamed through this machine, as planned (refreshed
    #: just before sending)
    remote: RemoteFile | None = None

    @property
    def known_size(self) -> int:
        return self.size or 0

    @property
    def fingerprinted(self) -> bool:
        """Whether a version of the file can be told from another without hashing it: a
        local file's identity (`Stat`), or a remote file's version marker."""
        if self.remote is not None:
            return self.remote.version is not None
        return self.stat is not None


def payload(item: Item) -> bytes | Path | IO[bytes] | FileUrl:
    """What `upload_file` is given for `item`: its bytes, its path, its stream at its start,
    or the URL the vendor fetches."""
    if item.url is not None:
        return FileUrl(item.url)
    if item.remote is not None:
        return cast(IO[bytes], RemoteStream(item.remote))
    if item.content is not None:
        return item.content
    if item.path is not None:
        return item.path
    assert item.stream is not None
    if item.size is not None:
        item.stream.seek(item.start)
    return item.stream


def local_sha256(item: Item) -> str | None:
    """The sha256 of the item's bytes, streamed (a remote file read in ranges); None for a
    stream that cannot seek."""
    h = hashlib.sha256()
    if item.content is not None:
        h.update(item.content)
    elif item.path is not None:
        with item.path.open("rb") as f:
            while block := f.read(CHUNK):
                h.update(block)
    elif item.remote is not None:
        for block in item.remote.where.chunks(0, item.remote.size):
            h.update(block)
    elif item.stream is not None and item.size is not None:
        item.stream.seek(item.start)
        while block := item.stream.read(CHUNK):
            h.update(block)
        item.stream.seek(item.start)
    else:
        return None
    return h.hexdigest()


def display(text: str) -> str:
    """`text` printable: bytes of a name that is not UTF-8 shown as ``\\xNN`` escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name decoded into
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def os_reason(error: OSError) -> str:
    """An OSError in words, with what to do when the process ran out of file descriptors."""
    if error.errno in (errno.EMFILE, errno.ENFILE):
        return (
            "too many open files: lower concurrency= (CLI: --concurrency) or raise the "
            "open-file limit (ulimit -n), then rerun"
        )
    return error.strerror or str(error)


_SPECIAL = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def not_a_file(st: os.stat_result) -> str:
    """Why an entry that is not a regular file cannot be uploaded, and what to do."""
    kind = _SPECIAL.get(stat.S_IFMT(st.st_mode), "something else")
    return (
        f"not a regular file but {kind}: only regular files can be uploaded; remove it, "
        "exclude it, or pass its contents as a (name, bytes) pair"
    )
