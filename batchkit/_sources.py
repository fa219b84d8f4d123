"""Byte sources for uploads: bytes, a path, a binary stream or a remote file, read in
slices on demand.

Each `reader(offset, length)` returns a factory giving a fresh chunk iterator, so a retried
request re-reads its slice from the source instead of holding it in memory, and parts of
one file can be read concurrently. A remote file (an fsspec URL, or the `RemoteStream` the
bulk upload hands `upload_file`) is read in ranged requests, each part its own.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ._errors import InvalidInput
from ._models import FileUrl
from ._remote import CHUNK as REMOTE_CHUNK
from ._remote import RemoteFile, file_url_path, is_file_url, is_http, is_remote, remote_file
from ._validate import local_path, shorten

CHUNK = 1 << 20  # 1 MiB reads


class ByteSource:
    """A sized, re-readable source of bytes."""

    size: int

    def reader(self, offset: int = 0, length: int | None = None) -> Callable[[], Iterator[bytes]]:
        """A factory of chunk iterators over bytes `offset..offset+length`."""
        raise NotImplementedError

    def close(self) -> None:
        """Release anything the source opened itself."""

    def as_file(self) -> SourceFile:
        """The source as a read-only binary file (for a multipart body: httpx rewinds it
        with `seek(0)` before each attempt, and reads it in chunks, never whole)."""
        return SourceFile(self)


class SourceFile:
    """A `ByteSource` seen as a binary file: `read` and `seek(0)`, nothing more."""

    def __init__(self, source: ByteSource) -> None:
        self._source = source
        self._chunks: Iterator[bytes] = iter(())
        self._buffer = b""
        self.seek(0)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Rewind (only to the start: that is what a retried request needs)."""
        if (offset, whence) != (0, os.SEEK_SET):
            raise OSError("a SourceFile can only be rewound to its start")
        self._chunks = iter(self._source.reader()())
        self._buffer = b""
        return 0

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left for -1), b"" at the end."""
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class _Bytes(ByteSource):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        self.size = len(self._view)

    def reader(self, offset: int = 0, length: int | None = None) -> Callable[[], Iterator[bytes]]:
        end = self.size if length is None else offset + length

        def chunks() -> Iterator[bytes]:
            for pos in range(offset, end, CHUNK):
                yield bytes(self._view[pos : min(pos + CHUNK, end)])

        return chunks


class _Path(ByteSource):
    def __init__(self, path: Path) -> None:
        try:
            self.size = path.stat().st_size
        except OSError as e:
            raise InvalidInput(f"cannot read {shorten(str(path))!r}: {e.strerror or e}") from None
        if not path.is_file():
            raise InvalidInput(
                f"{shorten(str(path))!r} is not a file: pass a file path, bytes or a stream"
            )
        self.path = path

    def reader(self, offset: int = 0, length: int | None = None) -> Callable[[], Iterator[bytes]]:
        remaining_total = self.size - offset if length is None else length

        def chunks() -> Iterator[bytes]:
            remaining = remaining_total
            with self.path.open("rb") as f:
                f.seek(offset)
                while remaining > 0:
                    block = f.read(min(CHUNK, remaining))
                    if not block:
                        raise OSError(f"{self.path} shrank while being uploaded")
                    remaining -= len(block)
                    yield block

        return chunks


class _Stream(ByteSource):
    """A seekable binary stream; reads are serialised so parts can share it."""

    def __init__(self, stream: IO[bytes], *, owned: bool = False) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._start = stream.tell()
        self.size = stream.seek(0, os.SEEK_END) - self._start
        stream.seek(self._start)
        self._owned = owned

    def reader(self, offset: int = 0, length: int | None = None) -> Callable[[], Iterator[bytes]]:
        remaining_total = self.size - offset if length is None else length

        def chunks() -> Iterator[bytes]:
            pos = self._start + offset
            remaining = remaining_total
            while remaining > 0:
                with self._lock:
                    self._stream.seek(pos)
                    block = self._stream.read(min(CHUNK, remaining))
                if not block:
                    raise OSError("stream ended before its measured size")
                pos += len(block)
                remaining -= len(block)
                yield block

        return chunks

    def close(self) -> None:
        if self._owned:
            self._stream.close()


class RemoteChunks:
    """The chunk factory of a remote file's byte range: each chunk is a request, so an
    async session should read it off its event loop (`blocking`)."""

    #: reading a chunk blocks on the network (a local file's read does not, in practice)
    blocking = True

    def __init__(self, file: RemoteFile, offset: int, length: int) -> None:
        self.file = file
        self.offset = offset
        self.length = length

    def __call__(self) -> Iterator[bytes]:
        return self.file.where.chunks(self.offset, self.length)


class _Remote(ByteSource):
    """A remote file: each reader reads its own byte range, in ranged requests."""

    def __init__(self, file: RemoteFile) -> None:
        self.file = file
        self.size = file.size

    def reader(self, offset: int = 0, length: int | None = None) -> Callable[[], Iterator[bytes]]:
        return RemoteChunks(self.file, offset, self.size - offset if length is None else length)


class RemoteStream(io.RawIOBase):
    """A remote file as a seekable binary stream, read in ranged requests (nothing is
    fetched before the first read). The bulk upload hands one to `upload_file`:
    `open_source` reads each part's range on its own; an adapter that reads the stream
    itself gets its bytes too."""

    def __init__(self, file: RemoteFile) -> None:
        super().__init__()
        self.file = file
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self.file.size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self.file.size if size is None or size < 0 else min(self.file.size, self._pos + size)
        if end <= self._pos:
            return b""
        data = b"".join(self.file.where.chunks(self._pos, end - self._pos))
        self._pos = end
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: memoryview, /) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(min(len(view), REMOTE_CHUNK))
        view[: len(data)] = data
        return len(data)


def open_source(data: object, *, spool_limit: int = 16 << 20) -> ByteSource:
    """Wrap upload data: bytes, a `str`/`Path` naming a file, a binary stream, or a remote
    file (a `RemoteStream`, or a str fsspec URL such as ``s3://bucket/key``; an http(s)
    URL too, streamed through fsspec's HTTP filesystem).

    A stream that cannot seek is spooled to a temporary file (in memory up to
    `spool_limit` bytes) so it can be measured and re-read on retry.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        return _Bytes(data)
    if isinstance(data, RemoteStream):
        return _Remote(data.file)
    if isinstance(data, str) and (is_remote(data) or is_http(data)):
        return _Remote(remote_file(data))
    if isinstance(data, str) and is_file_url(data):
        return _Path(Path(file_url_path(data)))
    if isinstance(data, str | os.PathLike):
        return _Path(Path(local_path("upload path", data)))
    if hasattr(data, "read"):
        stream: IO[bytes] = data  # type: ignore[assignment]
        if not isinstance(stream.read(0), bytes):
            raise InvalidInput("upload stream must be binary: open the file with 'rb'")
        try:
            seekable = stream.seekable()
        except (AttributeError, ValueError):
            seekable = False
        if seekable:
            return _Stream(stream)
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115
        while block := stream.read(CHUNK):
            if not isinstance(block, bytes | bytearray):
                raise InvalidInput("upload stream must be binary (open it with 'rb')")
            spool.write(block)
        spool.seek(0)
        return _Stream(spool, owned=True)
    if isinstance(data, FileUrl):
        raise InvalidInput(
            f"cannot upload {data.url!r} from here: this provider fetches no URLs "
            "(Capability.IMPORT_URLS); download the file and upload it from disk"
        )
    raise InvalidInput(
        f"cannot upload a {type(data).__name__}: pass bytes, a file path or a binary stream"
    )
