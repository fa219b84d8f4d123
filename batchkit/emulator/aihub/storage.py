"""On-disk blobs and the in-memory folder tree of the emulated AI Hub filesystem.

File *contents* live on disk as opaque blob files under the emulator's storage directory, so
names with spaces, ``%``, unicode or any length never meet the host filesystem's rules, and
large uploads never sit in memory. The *tree* (folders, names, sizes, timestamps) lives in
memory: one `FolderNode` root whose children are the tenants' namespaces
(``/<repo_owner>/<workspace>/fs/<mount_point>/...``). Batches and the deprecated Filesystem
API share this one tree, which is what makes a batch's files readable as plain paths.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from batchkit.emulator._errors import Conflict
from batchkit.emulator._index import SortedIndex

#: Bytes read per chunk when streaming blobs.
CHUNK_SIZE = 1024 * 1024


@dataclass(eq=False)
class FileNode:
    """A file: its contents are the blob at ``blob``; ``modified`` is Unix seconds."""

    blob: Path
    size: int
    modified: float


def _name(name: str) -> str:
    return name


def _file_names() -> SortedIndex[str]:
    return SortedIndex(_name)


@dataclass(eq=False)
class FolderNode:
    """A folder: children by name (files and folders); ``modified`` is Unix seconds.

    ``file_names`` indexes the names of the children that are files, in Python string order
    (a batch's file listing pages through it). Only `FileTree` changes ``children``,
    and it keeps the two in step.
    """

    modified: float
    children: dict[str, Node] = field(default_factory=dict)
    file_names: SortedIndex[str] = field(default_factory=_file_names, repr=False)


Node = FileNode | FolderNode


@dataclass(frozen=True)
class Spooled:
    """A request body written to disk: where, and how many bytes."""

    path: Path
    size: int


class BlobStore:
    """Creates, fills and removes the blob files of one emulator instance."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def new_path(self) -> Path:
        """A fresh, unused blob path (the file does not exist yet)."""
        return self.root / uuid.uuid4().hex

    def create(self) -> Path:
        """A new, empty blob file."""
        path = self.new_path()
        path.touch(exist_ok=False)
        return path

    async def spool(self, chunks: AsyncIterator[bytes]) -> Spooled:
        """Write an async stream of chunks to a new blob, never holding more than one chunk.

        If the caller stops early (e.g. the client disconnects), the partial blob is removed.
        """
        path = self.new_path()
        size = 0
        try:
            with path.open("wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            self.discard(path)
            raise
        return Spooled(path=path, size=size)

    @staticmethod
    def discard(path: Path) -> None:
        """Remove a blob if it exists (open readers keep reading: POSIX unlink semantics)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def write_at(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset`` of the open file ``fd`` (``pwrite``: the file
    position is neither used nor moved, so requests may write other regions concurrently)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


class FileTree:
    """The folder tree over all tenants; paths are sequences of decoded name segments.

    Tenancy is not enforced here: the handlers only ever pass paths that start with the
    caller's own ``repo_owner`` segment.
    """

    def __init__(self, blobs: BlobStore, *, now: float) -> None:
        self.blobs = blobs
        self.root = FolderNode(modified=now)

    def lookup(self, path: Sequence[str]) -> Node | None:
        """The node at ``path``, or ``None`` when nothing (or a file on the way) is there."""
        node: Node = self.root
        for name in path:
            if not isinstance(node, FolderNode):
                return None
            child = node.children.get(name)
            if child is None:
                return None
            node = child
        return node

    def ensure_folder(self, path: Sequence[str], *, now: float) -> FolderNode:
        """The folder at ``path``, creating it and any missing parents.

        Raises `Conflict` when a file sits where a folder is needed.
        """
        node = self.root
        for depth, name in enumerate(path):
            child = node.children.get(name)
            if child is None:
                child = FolderNode(modified=now)
                node.children[name] = child
                node.modified = now
            elif isinstance(child, FileNode):
                where = "/" + "/".join(path[: depth + 1])
                raise Conflict(f"{where!r} is a file, not a folder: cannot create a path below it")
            node = child
        return node

    def put_file(self, path: Sequence[str], blob: Path, size: int, *, now: float) -> FileNode:
        """Create or replace the file at ``path`` with ``blob`` (which the tree now owns).

        Parent folders are created as needed. Raises `Conflict` if a parent is a file
        or a folder sits at ``path``; the blob stays the caller's then.
        """
        parent = self.ensure_folder(path[:-1], now=now)
        old = parent.children.get(path[-1])
        if isinstance(old, FolderNode):
            where = "/" + "/".join(path)
            raise Conflict(f"{where!r} is a folder: delete it before writing a file there")
        node = FileNode(blob=blob, size=size, modified=now)
        parent.children[path[-1]] = node
        if old is None:
            parent.file_names.add(path[-1])
        parent.modified = now
        if old is not None:
            self.blobs.discard(old.blob)
        return node

    def remove(self, path: Sequence[str], expected: Node, *, now: float) -> bool:
        """Remove ``expected`` from ``path`` if it is still the node there; free its blobs.

        Returns whether something was removed. Comparing by identity means a file replaced
        after a deletion was requested survives that deletion.
        """
        if not path:
            return False
        parent = self.lookup(path[:-1])
        if not isinstance(parent, FolderNode) or parent.children.get(path[-1]) is not expected:
            return False
        del parent.children[path[-1]]
        if isinstance(expected, FileNode):
            parent.file_names.remove(path[-1])
        parent.modified = now
        for blob in _blobs_under(expected):
            self.blobs.discard(blob)
        return True


def _blobs_under(node: Node) -> Iterator[Path]:
    """Every blob in the subtree rooted at ``node``."""
    if isinstance(node, FileNode):
        yield node.blob
        return
    for child in node.children.values():
        yield from _blobs_under(child)
