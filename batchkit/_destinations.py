"""Download destinations: where `download_file` puts the bytes (returned, a path, a stream,
or a remote URL).

A path is written atomically (`atomic_file`): a hidden temporary file beside it, renamed over
it on success, so a failed download never truncates or creates a file. A remote URL (an
fsspec URL: ``s3://bucket/out/``) is streamed into an uncommitted object, committed when the
download completes and discarded when it fails (`remote_target`, `_remote.RemoteWriter`).
"""

from __future__ import annotations

import io
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from ._errors import InvalidInput
from ._flow import Flow, blocking
from ._remote import Location, file_url_path, is_file_url, is_http, is_remote, locate
from ._validate import shorten

#: where a download goes: None (return the bytes), a path (or a remote URL, as a str), a
#: writable binary stream, or a remote `Location` (exactly that object)
Dest = str | Path | IO[bytes] | Location | None


def remote_target(dest: str, name: str) -> Location:
    """Where a download of `name` to the remote URL `dest` goes: into `dest` if it ends in
    ``/`` or is a directory (a prefix holding objects), else `dest` itself. An http(s) URL
    cannot be written: `InvalidInput`."""
    if is_http(dest):
        raise InvalidInput(
            f"cannot save to {shorten(dest)!r}: an http(s) URL cannot be written to; pass a "
            "local path or a storage URL (s3://, gs://, az://...)"
        )
    where = locate(dest)
    if dest.endswith("/"):
        return where.child(name)
    try:
        kind = where.info(fresh=True).kind
    except FileNotFoundError:
        return where
    except OSError as e:
        raise InvalidInput(f"cannot save to {shorten(dest)!r}: {e}") from None
    return where.child(name) if kind == "directory" else where


def target_path(dest: str | os.PathLike[str], name: str) -> Path:
    """Where a download of `name` to `dest` goes: into `dest` if it is a directory (or ends
    with a separator), else `dest` itself. `InvalidInput` if the directory does not exist,
    or the path is one the system cannot take (too long, a NUL byte)."""
    try:
        return _target_path(dest, name)
    except (OSError, ValueError) as e:  # ENAMETOOLONG, ELOOP, "embedded null byte"...
        if isinstance(e, InvalidInput):
            raise
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        shown = shorten(os.fspath(dest))
        raise InvalidInput(f"cannot save to {shown!r}: {reason}; pass another path") from None


def _target_path(dest: str | os.PathLike[str], name: str) -> Path:
    text = os.fspath(dest)
    if not isinstance(text, str):
        raise InvalidInput(f"cannot save to {text!r:.80}: a path must be text (str); pass one")
    if "\x00" in text:
        raise ValueError("a path cannot hold a NUL character")
    try:
        os.fsencode(text)
    except UnicodeEncodeError as e:
        raise ValueError(
            f"it holds {e.object[e.start : e.end]!r}, which this system cannot encode in a "
            "file name (a lone surrogate is not text)"
        ) from None
    path = Path(text)
    if path.is_dir():
        path = path / name
    elif text.endswith(("/", os.sep)):
        raise InvalidInput(f"cannot save to {text!r}: that directory does not exist; create it")
    if not path.parent.is_dir():
        raise InvalidInput(
            f"cannot save to {str(path)!r}: the directory {str(path.parent)!r} does not exist; "
            "create it first"
        )
    return path


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A file that becomes `path` only if the block completes.

    The bytes go to a hidden temporary file beside `path` (same filesystem), renamed over it
    on success and removed on failure, so a failed download never leaves a truncated file
    and never wipes an existing one. A symlink is followed (the file it points to is
    replaced); an existing file keeps its permission bits, a new one gets the umask's; and
    something that is not a regular file (`/dev/null`, a FIFO) is written to directly, as
    `open(path, "wb")` would.
    """
    path = Path(os.path.realpath(path))
    name_max = _name_max(path.parent)
    if len(os.fsencode(path.name)) > name_max:
        raise InvalidInput(
            f"cannot write to {str(path)!r}: the name is longer than this filesystem allows "
            f"({name_max} bytes); pass a shorter path"
        )
    try:
        existing: os.stat_result | None = path.stat()
    except FileNotFoundError:
        existing = None
    except OSError as e:  # a symlink loop, a directory we may not search...
        raise InvalidInput(f"cannot write to {str(path)!r}: {e.strerror}") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        try:
            direct = path.open("wb")
        except OSError as e:
            raise InvalidInput(f"cannot write to {str(path)!r}: {e.strerror}") from None
        with direct:
            yield direct
        return
    if existing is not None and not os.access(path, os.W_OK):
        raise InvalidInput(f"cannot write to {str(path)!r}: it is read-only")
    # a short name of its own: `path`'s name may already be at the filesystem's limit
    temp = path.with_name(f".batchkit-{uuid.uuid4().hex[:16]}.part")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise InvalidInput(f"cannot write to {str(path.parent)!r}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if existing is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(existing.st_mode))
            yield f
        try:
            os.replace(temp, path)
        except OSError as e:
            raise InvalidInput(f"cannot write to {str(path)!r}: {e.strerror}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _name_max(directory: Path) -> int:
    """The longest file name (bytes) the filesystem of `directory` takes (255 if unknown)."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def deliver(dest: Dest, name: str, write: Callable[[IO[bytes]], Flow[int]]) -> Flow[bytes | int]:
    """Run the flow `write(sink)` into `dest`: bytes back for None, else the count written.

    A path (or a directory, which receives `name`) is written atomically (`atomic_file`),
    a remote URL (or a prefix, which receives `name`) committed only on success.
    `dest` is checked before `write` runs, so a destination that cannot take the bytes
    sends no request: call this eagerly, it returns the flow to run.
    """
    if dest is None:
        return _into_bytes(write)
    if isinstance(dest, Location):
        return _into_remote(dest, write)
    if isinstance(dest, str) and (is_remote(dest) or is_http(dest)):
        return _into_remote(remote_target(dest, name), write)
    if isinstance(dest, str) and is_file_url(dest):
        return _into_file(target_path(file_url_path(dest), name), write)
    if isinstance(dest, str | os.PathLike):
        return _into_file(target_path(dest, name), write)
    return write(_binary_sink(dest))


def _into_bytes(write: Callable[[IO[bytes]], Flow[int]]) -> Flow[bytes | int]:
    buffer = io.BytesIO()
    yield from write(buffer)
    return buffer.getvalue()


def _into_file(path: Path, write: Callable[[IO[bytes]], Flow[int]]) -> Flow[bytes | int]:
    with atomic_file(path) as f:
        count: int = yield from write(f)
        return count


def _into_remote(where: Location, write: Callable[[IO[bytes]], Flow[int]]) -> Flow[bytes | int]:
    """Stream into an uncommitted remote object; it appears only if `write` completes."""
    sink = yield from blocking(where.writer)
    try:
        count: int = yield from write(cast(IO[bytes], sink))
        yield from blocking(sink.commit)
    except BaseException:
        sink.discard()
        raise
    return count


def _binary_sink(dest: object) -> IO[bytes]:
    """`dest` if it is an open, writable binary stream, else `InvalidInput` saying why."""
    if not callable(getattr(dest, "write", None)):
        raise InvalidInput(
            f"cannot download into a {type(dest).__name__} ({dest!r:.60}): pass None (to get "
            "the bytes), a file path, or a binary stream open for writing (open(..., 'wb'))"
        )
    if isinstance(dest, io.TextIOBase):
        raise InvalidInput(
            f"cannot download into a text stream ({type(dest).__name__}): downloads are "
            "bytes; open the file with 'wb' or pass an io.BytesIO"
        )
    if getattr(dest, "closed", False) is True:
        raise InvalidInput(
            f"cannot download into a closed {type(dest).__name__}: pass an open stream"
        )
    writable = getattr(dest, "writable", None)
    if callable(writable):
        try:
            can_write = writable()
        except (OSError, ValueError):  # closed underneath, or a stream that cannot tell
            can_write = True
        if can_write is False:
            raise InvalidInput(
                f"cannot download into a {type(dest).__name__} opened for reading only: "
                "open it with 'wb' (or 'ab')"
            )
    return cast(IO[bytes], dest)
