"""The bulk upload engine behind `provider.upload`: concurrent, bounded, verified, resumable.

The engine plans everything before sending anything (names validated, collisions refused),
then feeds a thread pool at most ``2 * concurrency`` files at a time through the provider's
own `upload_file`, which streams each file (and goes multipart where the vendor does).
Afterwards it checks the batch listing (and, on request, a sha256 read-back). An optional
append-only journal lets a rerun skip what an interrupted run already sent.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import itertools
import json
import logging
import os
import re
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn, TypeAlias, TypeVar, cast

import attrs

from . import _sessions
from ._capabilities import Capability
from ._errors import BatchkitError, InvalidInput, UploadIncomplete
from ._models import FileOutcome, UploadReport
from ._validate import file_name, flag, local_path, positive_int, shorten

if TYPE_CHECKING:
    from ._provider import BatchProvider, BatchRef

log = logging.getLogger("batchkit.upload")


#: one source of files: a path to a file or a directory, or a ``(name, data)`` pair where
#: data is a binary stream (read from its current position), bytes, or the path of a file
#: (opened only when it is sent).
Source: TypeAlias = str | os.PathLike[str] | tuple[str, IO[bytes] | bytes | os.PathLike[str]]

#: what happened to a file, as reported to the progress callback
ProgressKind: TypeAlias = Literal["started", "uploaded", "skipped", "failed"]

#: accepted values of ``verify``
VerifyMode: TypeAlias = Literal["size", "sha256", "none"] | None

#: accepted values of ``invalid``: what to do with files that cannot be uploaded
InvalidMode: TypeAlias = Literal["refuse", "skip"]

_CHUNK = 1 << 20
_JOURNAL_VERSION = 1
#: the longest include/exclude pattern: a longer one is a mistake (and slow to compile)
MAX_GLOB = 4096


@attrs.frozen
class UploadProgress:
    """One step of a bulk upload, passed to the ``on_progress`` callback.

    `files_done` / `bytes_done` count files finished in any way (uploaded, skipped or
    failed), so a progress bar reaches `files_total` / `bytes_total`. A file rejected by
    the final verification gets a ``"failed"`` event after its ``"uploaded"`` one.
    """

    #: "started" (about to send), "uploaded", "skipped" (already there) or "failed"
    kind: ProgressKind
    #: the batch file name this event is about
    name: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    #: why the file failed (kind "failed" only)
    reason: str | None = None


#: the ``on_progress`` callback: called once per event, never concurrently
ProgressCallback: TypeAlias = Callable[[UploadProgress], None]


# -- planning -----------------------------------------------------------------------------


@attrs.frozen
class _Stat:
    """What identifies one version of a local file: any change to it changes one of these."""

    size: int
    mtime_ns: int
    #: the status-change time: moves on every write, and users cannot set it back
    ctime_ns: int
    ino: int
    dev: int

    @classmethod
    def of(cls, st: os.stat_result) -> _Stat:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def changes(self, now: _Stat) -> str:
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
class _Item:
    """One file to send, fully resolved before anything is sent; or one that cannot be."""

    index: int
    name: str
    #: shown in reports and messages: the local path, or "<stream>" / "<bytes>"
    label: str
    #: size in bytes; None for a stream that cannot seek
    size: int | None
    path: Path | None = None
    #: the path's identity when planned (refreshed just before sending)
    stat: _Stat | None = None
    stream: IO[bytes] | None = attrs.field(default=None, eq=False)
    start: int = 0
    content: bytes | None = attrs.field(default=None, eq=False, repr=False)
    #: shared by every item reading one stream object, so one of them reads it at a time
    lock: threading.Lock | None = attrs.field(default=None, eq=False, repr=False)
    #: why this entry cannot be uploaded (refused, or skipped with invalid="skip")
    problem: str | None = None
    #: a problem skipping cannot settle: a source path that does not exist
    fatal: bool = False

    @property
    def known_size(self) -> int:
        return self.size or 0


def _display(text: str) -> str:
    """`text` printable: bytes of a name that is not UTF-8 shown as ``\\xNN`` escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no file name decoded into
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _os_reason(error: OSError) -> str:
    """An OSError in words, with what to do when the process ran out of file descriptors."""
    if error.errno in (errno.EMFILE, errno.ENFILE):
        return (
            "too many open files: lower concurrency= (CLI: --concurrency) or raise the "
            "open-file limit (ulimit -n), then rerun"
        )
    return error.strerror or str(error)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob: ``*`` and ``?`` stay inside one path segment, ``**`` crosses them."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (j := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : j]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = j + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


@attrs.frozen
class _Pattern:
    regex: re.Pattern[str]
    #: patterns with a "/" match the whole relative path, others the last segment only
    anchored: bool
    #: a trailing "/" matches directories only
    dirs_only: bool

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if self.dirs_only and not is_dir:
            return False
        target = "/".join(parts) if self.anchored else parts[-1]
        return self.regex.match(target) is not None


def _patterns(label: str, globs: Iterable[str] | str | None) -> list[_Pattern]:
    if globs is None:
        return []
    if isinstance(globs, str):
        globs = [globs]
    if isinstance(globs, bytes | bytearray | memoryview) or not isinstance(globs, Iterable):
        raise InvalidInput(
            f"{label} must be a glob (str) or a list of globs, e.g. ['*.pdf'], got "
            f"{type(globs).__name__}: {globs!r:.80}"
        )
    result = []
    for glob in globs:
        if not isinstance(glob, str) or not glob.strip("/"):
            raise InvalidInput(f"{label} patterns must be non-empty strings, got {glob!r:.80}")
        if len(glob) > MAX_GLOB:
            raise InvalidInput(
                f"{label} pattern {shorten(glob)!r} is {len(glob)} characters: the limit is "
                f"{MAX_GLOB}; use a shorter pattern, or several"
            )
        dirs_only = glob.endswith("/")
        body = glob.strip("/").removeprefix("./")
        try:
            regex = _glob_regex(body)
        except re.error as e:
            raise InvalidInput(
                f"{label} pattern {glob!r} is not a valid glob ({e.msg}): in a [...] range the "
                "first character must not come after the last, e.g. [a-z]; fix the pattern"
            ) from None
        result.append(_Pattern(regex, "/" in body, dirs_only))
    return result


def _matches_any(patterns: list[_Pattern], parts: tuple[str, ...], *, is_dir: bool) -> bool:
    """True if a pattern matches the path or (for a file) any directory above it."""
    for depth in range(1, len(parts) + 1):
        prefix_is_dir = is_dir or depth < len(parts)
        if any(p.matches(parts[:depth], prefix_is_dir) for p in patterns):
            return True
    return False


_SPECIAL = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _not_a_file(st: os.stat_result) -> str:
    kind = _SPECIAL.get(stat.S_IFMT(st.st_mode), "something else")
    return (
        f"not a regular file but {kind}: only regular files can be uploaded; remove it, "
        "exclude it, or pass its contents as a (name, bytes) pair"
    )


def _unreadable(path: Path, error: OSError) -> str:
    """Why stat(`path`) failed, for a path that exists as a directory entry."""
    if error.errno == errno.ELOOP:
        return (
            "symlink loop: the link leads back to itself (maybe through other links); "
            "remove it or exclude it"
        )
    if isinstance(error, FileNotFoundError) and path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return (
            f"broken symlink: it points to {_display(target)!r}, which does not exist; "
            "fix or remove the link, or exclude it"
        )
    return f"cannot read it: {_os_reason(error)}"


def _identity(path: Path, st: os.stat_result) -> object:
    """What tells files apart: (st_dev, st_ino), or the real path where inodes are 0."""
    return (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(path)


#: what the walk finds: a regular file with its stat, or an entry with its problem
_Found: TypeAlias = tuple[Path, os.stat_result | None, str | None]
#: a directory still to walk: its path, its path relative to the root, and the
#: `_identity` of every directory from the root down to it (to catch symlink loops)
_Frame: TypeAlias = tuple[Path, tuple[str, ...], frozenset[object]]


def _walk(
    root: Path,
    root_stat: os.stat_result,
    include: list[_Pattern],
    exclude: list[_Pattern],
) -> Iterator[_Found]:
    """Files under `root`, sorted, without hidden entries, filtered by include/exclude.

    Symlinks are followed, to files and to directories; a directory that leads back to one
    above it (a symlink loop) is reported, not entered. Special files, broken symlinks and
    unreadable entries are reported too, each with what to do.
    """
    stack: list[_Frame] = [(root, (), frozenset({_identity(root, root_stat)}))]
    while stack:
        here, rel, ancestors = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE):
                raise InvalidInput(
                    f"cannot read {_display(str(here))!r}: {_os_reason(e)}"
                ) from None
            yield here, None, f"cannot read this directory: {_os_reason(e)}"
            continue
        subdirs: list[_Frame] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            parts = (*rel, entry.name)
            try:
                st: os.stat_result | None = entry.stat()  # follows symlinks
                error: OSError | None = None
            except OSError as e:
                st, error = None, e
            if st is not None and stat.S_ISDIR(st.st_mode):
                if _matches_any(exclude, parts, is_dir=True):
                    continue
                key = _identity(path, st)
                if key not in ancestors:
                    subdirs.append((path, parts, ancestors | {key}))
                    continue
                target = _display(os.path.realpath(path))
                loop = f"symlink loop: it leads back to {target!r}, a directory above it"
                yield path, None, f"{loop}; remove the link or exclude it"
                continue
            if exclude and _matches_any(exclude, parts, is_dir=False):
                continue
            if include and not _matches_any(include, parts, is_dir=False):
                continue
            if error is not None:
                if error.errno in (errno.EMFILE, errno.ENFILE):
                    raise InvalidInput(
                        f"cannot read {_display(str(path))!r}: {_os_reason(error)}"
                    ) from None
                yield path, None, _unreadable(path, error)
            elif st is not None and not stat.S_ISREG(st.st_mode):
                yield path, None, _not_a_file(st)
            else:
                yield path, st, None
        stack.extend(reversed(subdirs))


def _is_pair(source: object) -> bool:
    return (
        isinstance(source, tuple)
        and len(source) == 2
        and isinstance(source[0], str)
        and (
            hasattr(source[1], "read")
            or isinstance(source[1], bytes | bytearray | memoryview | os.PathLike)
        )
    )


def _iter_sources(sources: object) -> Iterator[object]:
    if isinstance(sources, str | os.PathLike) or _is_pair(sources):
        yield sources
        return
    if isinstance(sources, bytes | bytearray | memoryview) or not isinstance(sources, Iterable):
        raise InvalidInput(
            f"cannot upload {type(sources).__name__} {sources!r}: pass a file or directory "
            "path, a (name, bytes, binary stream or path) pair, or a list of these"
        )
    yield from sources


def _stream_item(index: int, name: str, data: object, lock: threading.Lock) -> _Item:
    if isinstance(data, bytes | bytearray | memoryview):
        content = bytes(data)
        return _Item(index, name, "<bytes>", len(content), content=content)
    if not callable(getattr(data, "read", None)):
        raise InvalidInput(
            f"cannot upload {type(data).__name__} as {name!r}: pair a name with bytes, a "
            "binary stream (open files with 'rb') or a pathlib.Path"
        )
    if isinstance(data, io.TextIOBase):
        raise InvalidInput(
            f"{name!r} is paired with a text stream ({type(data).__name__}): open the file "
            "with 'rb', or encode the text to bytes"
        )
    stream = cast(IO[bytes], data)
    try:
        seekable = stream.seekable()
    except (AttributeError, ValueError, OSError):
        seekable = False
    if not seekable:
        return _Item(index, name, "<stream>", None, stream=stream, lock=lock)
    try:
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
    except OSError as e:
        raise InvalidInput(
            f"cannot measure the stream paired with {name!r}: {_os_reason(e)}"
        ) from None
    return _Item(index, name, "<stream>", end - start, stream=stream, start=start, lock=lock)


def _name_problem(name: str) -> str | None:
    """Why `name` cannot be a batch file name (with the fix), or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"file name {_display(name)!r} is not valid UTF-8: batch file names are text; "
            "rename the file"
        )
    try:
        file_name(name)
    except InvalidInput as e:
        return str(e)
    return None


def _plan(
    sources: object,
    include: list[_Pattern],
    exclude: list[_Pattern],
    *,
    journal: Path | None = None,
) -> list[_Item]:
    """Resolve every source into named items, marking each one that cannot be uploaded
    (bad name, two sources for one name, special file...) with its problem."""
    items: list[_Item] = []
    seen: set[tuple[str, object]] = set()
    stream_locks: dict[int, threading.Lock] = {}
    journal_key: object = None
    if journal is not None:
        with contextlib.suppress(OSError):
            journal_key = _identity(journal, journal.stat())

    def problem(name: str, path: Path, why: str, *, fatal: bool = False) -> None:
        label = _display(str(path))
        items.append(_Item(len(items), _display(name), label, None, problem=why, fatal=fatal))

    def add_file(name: str, path: Path, st: os.stat_result) -> None:
        key = (name, _identity(path, st))
        if key in seen:  # the same file under the same name (reached twice) is sent once
            return
        seen.add(key)
        label = _display(str(path))
        items.append(_Item(len(items), name, label, st.st_size, path=path, stat=_Stat.of(st)))

    def add_path(name: str | None, path: Path) -> None:
        """A path given as a source (`name` for a (name, path) pair)."""
        try:
            st = path.stat()
        except FileNotFoundError as e:
            if path.is_symlink():
                problem(name or path.name, path, _unreadable(path, e))
            else:
                problem(name or path.name, path, "does not exist: check the path", fatal=True)
            return
        except OSError as e:
            problem(name or path.name, path, _unreadable(path, e))
            return
        if _identity(path, st) == journal_key:
            problem(name or path.name, path, "is this upload's resume journal: never uploaded")
        elif stat.S_ISDIR(st.st_mode) and name is None:
            for found, found_st, why in _walk(path, st, include, exclude):
                if why is not None:
                    problem(found.name, found, why)
                elif found_st is not None and _identity(found, found_st) != journal_key:
                    add_file(found.name, found, found_st)
        elif stat.S_ISDIR(st.st_mode):
            problem(name or path.name, path, "is a directory: pair a name with a file")
        elif not stat.S_ISREG(st.st_mode):
            problem(name or path.name, path, _not_a_file(st))
        else:
            add_file(name or path.name, path, st)

    for source in _iter_sources(sources):
        if _is_pair(source):
            name, data = cast(tuple[str, object], source)
            if isinstance(data, os.PathLike):
                add_path(name, Path(local_path(f"the path paired with {name!r:.80}", data)))
            else:
                lock = stream_locks.setdefault(id(data), threading.Lock())
                items.append(_stream_item(len(items), name, data, lock))
        elif isinstance(source, str | os.PathLike):
            add_path(None, Path(local_path("upload source", source)))
        else:
            raise InvalidInput(
                f"cannot upload {type(source).__name__} {source!r}: pass a file or directory "
                "path, or a (name, bytes, binary stream or path) pair"
            )

    by_stream: dict[int, list[_Item]] = {}
    for item in items:
        if item.stream is not None and item.size is None:
            by_stream.setdefault(id(item.stream), []).append(item)
    for group in by_stream.values():
        if len(group) > 1:
            once = (
                f"one stream that cannot seek is paired with {len(group)} names "
                f"({', '.join(repr(_display(i.name)) for i in group)}): it can be read only "
                "once; pass bytes, a seekable stream or a path instead"
            )
            for item in group:
                items[item.index] = attrs.evolve(item, name=_display(item.name), problem=once)
    by_name: dict[str, list[_Item]] = {}
    for item in items:
        if item.problem is None:
            why = _name_problem(item.name)
            if why is not None:
                items[item.index] = attrs.evolve(item, name=_display(item.name), problem=why)
            else:
                by_name.setdefault(item.name, []).append(item)
    for name, group in by_name.items():
        if len(group) > 1:
            why = (
                f"{name!r} would come from more than one source "
                f"({', '.join(i.label for i in group)}): batch file names are flat, so files "
                "in different folders with one name collide; rename one, narrow "
                "include/exclude, or pass one as a (name, path) pair"
            )
            for item in group:
                items[item.index] = attrs.evolve(item, problem=why)
    return items


def _refuse(problems: list[_Item], *, skippable: bool) -> NoReturn:
    """Raise InvalidInput listing every problem of the plan, each with its fix."""
    listed = "; ".join(f"{i.label}: {i.problem}" for i in problems)
    hint = (
        "Fix or exclude them, or pass invalid='skip' (CLI: --skip-invalid) to upload the "
        "others and list these in the report"
        if skippable
        else "Fix the paths"
    )
    raise InvalidInput(
        f"{len(problems)} source(s) cannot be uploaded as they are: {listed}. {hint}; "
        "nothing was uploaded"
    )


# -- hashing ------------------------------------------------------------------------------


class _HashSink:
    """A write-only binary sink that hashes what `download_file` streams into it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush."""

    def writable(self) -> bool:
        return True


def _local_sha256(item: _Item) -> str | None:
    """The sha256 of the item's bytes, streamed; None for a stream that cannot seek."""
    h = hashlib.sha256()
    if item.content is not None:
        h.update(item.content)
    elif item.path is not None:
        with item.path.open("rb") as f:
            while block := f.read(_CHUNK):
                h.update(block)
    elif item.stream is not None and item.size is not None:
        item.stream.seek(item.start)
        while block := item.stream.read(_CHUNK):
            h.update(block)
        item.stream.seek(item.start)
    else:
        return None
    return h.hexdigest()


# -- journal ------------------------------------------------------------------------------


def default_journal_path(provider_name: str, batch_id: str) -> Path:
    """Where ``resume=True`` keeps its journal: ``.batchkit-journal-<provider>-<batch>.jsonl``
    in the current directory (characters other than letters, digits, ``._-`` become ``_``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", batch_id)
    return Path.cwd() / f".batchkit-journal-{provider_name}-{safe}.jsonl"


class _Journal:
    """Append-only JSON lines: one per file sent; each line flushed and fsynced."""

    def __init__(self, path: Path, provider: str, batch_id: str) -> None:
        self.path = path
        self.provider = provider
        self.batch_id = batch_id
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        #: sessions a run opened and never closed (read() fills it): session -> file name
        self.open_sessions: dict[str, str] = {}

    def read(self) -> dict[str, Mapping[str, Any]]:
        """The latest entry per file name for this provider and batch (bad lines ignored)."""
        entries: dict[str, Mapping[str, Any]] = {}
        try:
            # errors="replace": a line a crash cut mid-character must not make the file unreadable
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return entries
        except OSError as e:
            raise InvalidInput(
                f"cannot read the resume journal {shorten(str(self.path))!r}: {_os_reason(e)}"
            ) from None
        # lines end in "\n" only; names may hold other line breaks (U+2028...), which old
        # journals wrote raw, so never split on them
        lines = text.split("\n")
        first = next((line for line in lines if line.strip()), None)
        if first is not None and not first.startswith('{"v"'):
            # every line batchkit writes starts so (even one a crash cut short): never append
            # to someone else's file
            raise InvalidInput(
                f"resume={shorten(str(self.path))!r} is not a batchkit upload journal (it holds "
                "other data): pass a new path, or resume=True for the default journal"
            )
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            if entry.get("provider") != self.provider or entry.get("batch_id") != self.batch_id:
                continue
            event, session = entry.get("event"), entry.get("session")
            if event in ("session_opened", "session_closed"):
                if isinstance(session, str) and event == "session_opened":
                    self.open_sessions[session] = entry["name"]
                elif isinstance(session, str):
                    self.open_sessions.pop(session, None)
                continue
            if event == "uploaded":
                entries[entry["name"]] = entry
            else:  # "rejected": verification found it wrong; do not trust earlier lines
                entries.pop(entry["name"], None)
        return entries

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            f = self.path.open("a+", encoding="utf-8", errors="replace")
            # a crash may have cut the last line short: start ours on a fresh line
            if f.tell() > 0:
                f.seek(f.tell() - 1)
                last = f.read(1)
                f.seek(0, io.SEEK_END)
                if last != "\n":
                    f.write("\n")
        except OSError as e:
            raise InvalidInput(
                f"cannot open the resume journal {shorten(str(self.path))!r}: {_os_reason(e)}"
            ) from None
        self._file = f

    def _append(self, entry: dict[str, Any]) -> None:
        entry = {
            "v": _JOURNAL_VERSION,
            "provider": self.provider,
            "batch_id": self.batch_id,
            **entry,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # ASCII only: no character of a name can break the line
        line = json.dumps(entry, ensure_ascii=True) + "\n"
        with self._lock:
            if self._file is None:  # closed after an interruption: drop late lines
                return
            try:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as e:  # a full disk: resuming would be unsafe, so stop
                raise BatchkitError(
                    f"cannot write the resume journal {shorten(str(self.path))!r}: "
                    f"{_os_reason(e)}; the upload stopped after the files in flight: make room "
                    "(or pass another resume= path) and rerun"
                ) from e

    def uploaded(self, item: _Item, size: int, sha256: str | None) -> None:
        st = item.stat
        self._append(
            {
                "event": "uploaded",
                "name": item.name,
                "size": size,
                "mtime_ns": st.mtime_ns if st else None,
                "ctime_ns": st.ctime_ns if st else None,
                "ino": st.ino if st else None,
                "sha256": sha256,
                "source": item.label,
            }
        )

    def rejected(self, name: str, reason: str) -> None:
        self._append({"event": "rejected", "name": name, "reason": reason})

    def session(self, name: str, session: str, *, opened: bool) -> None:
        """A multipart session for `name` was opened (before its parts) or closed."""
        event = "session_opened" if opened else "session_closed"
        self._append({"event": event, "name": name, "session": session})

    def close_left_open(self, provider: BatchProvider) -> None:
        """Abort the sessions an earlier run left open (killed mid-file), best effort."""
        for session, name in list(self.open_sessions.items()):
            try:
                provider.abort_upload_session(session)
            except BatchkitError as e:
                log.warning(
                    "could not abort the upload session %s of %r left by an earlier run: %s",
                    session,
                    name,
                    e,
                )
                continue
            self.session(name, session, opened=False)
            del self.open_sessions[session]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _listening(journal: _Journal | None, name: str) -> contextlib.AbstractContextManager[None]:
    """While `name` is sent, journal the upload sessions it opens (with a journal only)."""
    if journal is None:
        return contextlib.nullcontext()
    return _sessions.listening(_JournalSessions(journal, name))


@attrs.frozen
class _JournalSessions:
    """Writes the sessions one file's upload opens and closes to the journal."""

    journal: _Journal
    name: str

    def opened(self, session: str) -> None:
        self.journal.session(self.name, session, opened=True)

    def closed(self, session: str) -> None:
        self.journal.session(self.name, session, opened=False)


# -- running ------------------------------------------------------------------------------


class _Progress:
    """Counts finished files and bytes; calls the callback under a lock."""

    def __init__(self, callback: ProgressCallback | None, files: int, total: int) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self.files_total = files
        self.bytes_total = total
        self.files_done = 0
        self.bytes_done = 0

    def emit(
        self, kind: ProgressKind, item: _Item, *, done: bool = False, reason: str | None = None
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


def _reason(error: Exception) -> str:
    cause: BaseException | None = error
    while cause is not None:  # out of descriptors, however wrapped: say what to do
        if isinstance(cause, OSError) and cause.errno in (errno.EMFILE, errno.ENFILE):
            return _os_reason(cause)
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, BatchkitError | OSError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


T = TypeVar("T")
R = TypeVar("R")


def _bounded(
    pool: ThreadPoolExecutor,
    fn: Callable[[T], R],
    items: Iterable[T],
    limit: int,
) -> Iterator[R]:
    """Run `fn` over `items` in `pool` with at most `limit` submitted and unfinished.

    Results come back as they finish. An exception escaping `fn` (KeyboardInterrupt
    included) propagates here; the caller cancels the rest.
    """
    source = iter(items)
    pending: set[Future[R]] = set()
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            try:
                item = next(source)
            except StopIteration:
                exhausted = True
                break
            pending.add(pool.submit(fn, item))
        if not pending:
            return
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in done:
            yield future.result()


@attrs.frozen
class _Sent:
    index: int
    outcome: FileOutcome
    sha256: str | None = None
    #: the size the provider reported back from upload_file
    remote_size: int | None = None


def _restat(item: _Item, path: Path) -> _Item:
    """`item` with the size and identity its file has now (OSError if it is gone)."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(_not_a_file(st))
    return attrs.evolve(item, size=st.st_size, stat=_Stat.of(st))


def _changed(item: _Item) -> str | None:
    """Why the file sent for `item` may not be what the batch now holds, or None."""
    if item.path is None or item.stat is None:
        return None
    try:
        diff = item.stat.changes(_Stat.of(item.path.stat()))
    except OSError as e:
        diff = f"it can no longer be read ({_os_reason(e)})"
    if not diff:
        return None
    return (
        f"changed while being uploaded: {diff}; the batch copy may mix old and new bytes; "
        "rerun to send the new version"
    )


class _Run:
    """State of one `upload` call, shared by the worker threads."""

    def __init__(
        self,
        provider: BatchProvider,
        batch_id: str,
        *,
        verify: str,
        progress: _Progress,
        journal: _Journal | None,
        journaled: Mapping[str, Mapping[str, Any]],
        listed: Mapping[str, int],
    ) -> None:
        self.provider = provider
        self.batch_id = batch_id
        self.verify = verify
        self.progress = progress
        self.journal = journal
        self.journaled = journaled
        self.listed = listed
        self.stop = threading.Event()

    def _already_there(self, item: _Item) -> tuple[bool, str | None]:
        """(skip?, local sha256 if it had to be computed) — OSError propagates."""
        entry = self.journaled.get(item.name)
        if entry is None or item.size is None:
            return False, None
        if entry.get("size") != item.size or self.listed.get(item.name) != item.size:
            return False, None
        st = item.stat
        if st is not None and (st.mtime_ns, st.ctime_ns, st.ino) == (
            entry.get("mtime_ns"),
            entry.get("ctime_ns"),
            entry.get("ino"),
        ):
            return True, None
        if not entry.get("sha256"):
            return False, None
        sha = _local_sha256(item)
        return sha == entry["sha256"], sha

    def _data(self, item: _Item) -> bytes | Path | IO[bytes]:
        if item.content is not None:
            return item.content
        if item.path is not None:
            return item.path
        assert item.stream is not None
        if item.size is not None:
            item.stream.seek(item.start)
        return item.stream

    def _failed(self, item: _Item, reason: str) -> _Sent:
        self.progress.emit("failed", item, done=True, reason=reason)
        return _Sent(
            item.index, FileOutcome(item.name, item.known_size, item.label, "failed", reason)
        )

    def send(self, item: _Item) -> _Sent | None:
        """Upload one file (or skip it): never raises for a failure of this file alone."""
        if self.stop.is_set():
            return None
        # items of one stream take turns: each seeks to its start and reads to its end
        with item.lock or contextlib.nullcontext():
            return self._send(item)

    def _send(self, item: _Item) -> _Sent:
        sha: str | None = None
        try:
            if item.path is not None:  # the file as it is now is what gets sent and checked
                item = _restat(item, item.path)
            if self.journaled:
                skip, sha = self._already_there(item)
                if skip:
                    outcome = FileOutcome(item.name, item.known_size, item.label, "skipped")
                    self.progress.emit("skipped", item, done=True)
                    return _Sent(item.index, outcome)
            needs_sha = self.verify == "sha256" or (self.journal is not None and item.stat is None)
            if sha is None and needs_sha:
                sha = _local_sha256(item)
        except Exception as e:
            return self._failed(item, _reason(e))
        self.progress.emit("started", item)
        try:
            with _listening(self.journal, item.name):
                sent = self.provider.upload_file(
                    self.batch_id, item.name, self._data(item), size=item.size
                )
        except Exception as e:
            return self._failed(item, _reason(e))
        changed = _changed(item)
        if changed is not None:
            if self.journal is not None:  # never skip this copy on a rerun
                self.journal.rejected(item.name, changed)
            return self._failed(item, changed)
        size = item.size if item.size is not None else sent.size
        if self.journal is not None:
            self.journal.uploaded(item, size, sha)
        self.progress.emit("uploaded", item, done=True)
        outcome = FileOutcome(item.name, size, item.label, "uploaded")
        return _Sent(item.index, outcome, sha, sent.size)

    def read_back(self, pair: tuple[_Item, str | None]) -> tuple[_Item, str | None]:
        """(item, why it is wrong or None): compare the batch copy's sha256 with ours."""
        item, expected = pair
        if self.stop.is_set() or expected is None:
            return item, None
        sink = _HashSink()
        try:
            self.provider.download_file(self.batch_id, item.name, cast(IO[bytes], sink))
        except Exception as e:
            return item, f"sha256 check could not read the file back: {_reason(e)}"
        actual = sink.hash.hexdigest()
        if actual != expected:
            return item, (
                f"sha256 mismatch: the batch copy ({sink.size} bytes) hashes to {actual[:12]}…, "
                f"the local file to {expected[:12]}…"
            )
        return item, None


#: numbers each upload's worker threads, so it waits for its own and no others
_calls = itertools.count(1)


def _join_lost_workers(prefix: str) -> None:
    """Wait for workers the pool itself lost track of: a Ctrl-C that lands inside
    `pool.submit`, after a thread started but before the pool recorded it, leaves that
    thread sending a file while `pool.shutdown` returns at once (a second Ctrl-C still
    interrupts this wait)."""
    for thread in threading.enumerate():
        if thread.name.startswith(f"{prefix}_") and thread is not threading.current_thread():
            thread.join()


def _batch_sizes(provider: BatchProvider, batch_id: str) -> dict[str, int]:
    return {f.name: f.size for f in provider.list_files(batch_id)}


def _check_verify(verify: object) -> str:
    if verify is None or verify == "none":
        return "none"
    if verify in ("size", "sha256"):
        return verify
    raise InvalidInput(f"verify must be 'size', 'sha256' or None, got {verify!r}")


def _check_invalid(invalid: object) -> str:
    if invalid in ("refuse", "skip"):
        return invalid
    raise InvalidInput(
        f"invalid must be 'refuse' or 'skip', got {invalid!r}: 'refuse' raises InvalidInput "
        "listing every file that cannot be uploaded; 'skip' uploads the others and reports them"
    )


def _journal_path(resume: object, provider_name: str, batch_id: str) -> Path | None:
    if resume is None or resume is False:
        return None
    if resume is True:
        return default_journal_path(provider_name, batch_id)
    if not isinstance(resume, str | os.PathLike):
        raise InvalidInput(
            f"resume must be True, False, None or a journal file path, got "
            f"{type(resume).__name__}: {resume!r:.80}"
        )
    path = Path(local_path("resume journal", resume))
    shown = shorten(str(path))
    try:
        st = path.stat()
    except FileNotFoundError:  # a new journal (its directories are made when it opens)
        return path
    except OSError as e:  # too long a name, a file where a directory should be...
        raise InvalidInput(
            f"resume journal {shown!r} cannot be used: {_os_reason(e)}; pass another path"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInput(
            f"resume journal {shown!r} is a directory: pass the path of a file in it (it need "
            "not exist yet), or resume=True for the default journal"
        )
    return path


def upload(
    provider: BatchProvider,
    batch: BatchRef,
    sources: Source | Iterable[Source],
    *,
    concurrency: int = 16,
    on_progress: ProgressCallback | None = None,
    resume: bool | str | os.PathLike[str] | None = None,
    verify: VerifyMode = "size",
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    strict: bool = False,
    invalid: InvalidMode = "refuse",
) -> UploadReport:
    """Upload many files to `batch` concurrently, verify them, and report on each.

    `sources`: a file path, a directory (walked recursively, symlinks followed, hidden
    entries skipped, filtered by `include` / `exclude` globs on the path relative to it), a
    ``(name, binary stream, bytes or pathlib.Path)`` pair, or an iterable of these. Every
    file goes into the batch under its base name (or the pair's name). Files that cannot be
    uploaded (invalid names, two sources for one name, special files, broken symlinks) are
    all listed in one `InvalidInput` before anything is sent; with ``invalid="skip"`` the
    others are uploaded and these are reported with status "invalid" (`report.invalid`).

    `concurrency` files are sent at once, each streamed by the provider's `upload_file`;
    at most ``2 * concurrency`` are queued, so memory does not grow with the file count.
    `on_progress` gets an `UploadProgress` per step. `verify` checks the batch listing
    for every file with its size ("size"), also reads each file back and compares sha256
    ("sha256"), or does nothing (None). `resume` names a journal file (True: the default,
    see `default_journal_path`): files it records, unchanged locally and present in the
    batch with their size, are skipped. A file that fails (or changes while it is sent) is
    reported and the rest go on; `strict=True` then raises `UploadIncomplete`.
    KeyboardInterrupt stops after the files in flight, with the journal up to date.
    """
    provider.require(Capability.UPLOAD_FILES, "upload")
    batch_id = provider.batch_id(batch)
    concurrency = positive_int("concurrency", concurrency)
    mode = _check_verify(verify)
    skip_invalid = _check_invalid(invalid) == "skip"
    journal_path = _journal_path(resume, provider.name, batch_id)
    if on_progress is not None and not callable(on_progress):
        raise InvalidInput(
            f"on_progress must be a function taking an UploadProgress, or None; got "
            f"{type(on_progress).__name__}: {on_progress!r:.80}"
        )
    flag("strict", strict)
    if mode == "sha256":
        provider.require(Capability.DOWNLOAD_FILES, "upload(verify='sha256')")
    if journal_path is not None:
        provider.require(Capability.LIST_FILES, "upload(resume=...)")
    items = _plan(
        sources,
        _patterns("include", include),
        _patterns("exclude", exclude),
        journal=journal_path,
    )
    problems = [i for i in items if i.problem is not None]
    fatal = [i for i in problems if i.fatal]
    if fatal or (problems and not skip_invalid):
        _refuse(fatal if skip_invalid else problems, skippable=not fatal)
    todo = [i for i in items if i.problem is None]
    journal: _Journal | None = None
    journaled: Mapping[str, Mapping[str, Any]] = {}
    if journal_path is not None:  # read (and refused if it is not a journal) before sending
        journal = _Journal(journal_path, provider.name, batch_id)
        journaled = journal.read()
    # one request up front: an unknown batch is one NotFound, not a failure per file
    provider.get_batch(batch_id)

    listed: Mapping[str, int] = {}
    if journal is not None:
        if journaled:
            listed = _batch_sizes(provider, batch_id)
        journal.open()
        journal.close_left_open(provider)

    progress = _Progress(on_progress, len(todo), sum(i.known_size for i in todo))
    run = _Run(
        provider,
        batch_id,
        verify=mode,
        progress=progress,
        journal=journal,
        journaled=journaled,
        listed=listed,
    )
    results: list[_Sent | None] = [None] * len(items)
    for item in problems:
        outcome = FileOutcome(item.name, item.known_size, item.label, "invalid", item.problem)
        results[item.index] = _Sent(item.index, outcome)
    workers = f"batchkit-upload-{next(_calls)}"
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(concurrency, len(todo))), thread_name_prefix=workers
    )
    try:
        for sent in _bounded(pool, run.send, todo, 2 * concurrency):
            if sent is not None:
                results[sent.index] = sent
        if mode != "none":
            _verify(run, pool, items, results, concurrency)
    except BaseException:
        run.stop.set()
        raise
    finally:
        try:
            # cancel what has not started; let files in flight finish and reach the journal
            pool.shutdown(wait=True, cancel_futures=True)
            _join_lost_workers(workers)
        finally:  # even if a second Ctrl-C cuts the wait short
            if journal is not None:
                journal.close()

    report = UploadReport(
        batch_id=batch_id, files=tuple(r.outcome for r in results if r is not None)
    )
    if strict and report.failed:
        raise UploadIncomplete(_incomplete_message(report), report=report)
    return report


def _verify(
    run: _Run,
    pool: ThreadPoolExecutor,
    items: list[_Item],
    results: list[_Sent | None],
    concurrency: int,
) -> None:
    """Mark uploaded files failed unless the batch holds them with the right size (and hash)."""
    uploaded = [
        (items[r.index], r) for r in results if r is not None and r.outcome.status == "uploaded"
    ]
    if not uploaded:
        return
    #: index -> (reason, whether the batch copy is known to be wrong)
    rejected: dict[int, tuple[str, bool]] = {}
    if run.provider.supports(Capability.LIST_FILES):
        try:
            sizes: Mapping[str, int] | None = _batch_sizes(run.provider, run.batch_id)
        except BatchkitError as e:
            sizes = None
            for item, _ in uploaded:
                rejected[item.index] = (f"not verified: listing the batch failed: {e}", False)
    else:  # trust what upload_file reported
        sizes = {item.name: r.remote_size for item, r in uploaded if r.remote_size is not None}
    if sizes is not None:
        for item, r in uploaded:
            remote = sizes.get(item.name)
            if remote is None:
                rejected[item.index] = ("missing from the batch listing after upload", True)
            elif remote != r.outcome.size:
                rejected[item.index] = (
                    f"size mismatch: the batch lists {remote} bytes, "
                    f"the local file has {r.outcome.size}",
                    True,
                )
    if run.verify == "sha256":
        todo = [(item, r.sha256) for item, r in uploaded if item.index not in rejected]
        for item, why in _bounded(pool, run.read_back, todo, 2 * concurrency):
            if why is not None:
                rejected[item.index] = (why, why.startswith("sha256 mismatch"))
    for index, (reason, wrong) in sorted(rejected.items()):
        item = items[index]
        old = results[index]
        assert old is not None
        results[index] = attrs.evolve(
            old, outcome=attrs.evolve(old.outcome, status="failed", reason=reason)
        )
        if wrong and run.journal is not None:
            run.journal.rejected(item.name, reason)
        run.progress.emit("failed", item, reason=reason)


def _incomplete_message(report: UploadReport) -> str:
    failed = report.failed
    shown = "; ".join(f"{f.name}: {f.reason}" for f in failed[:10])
    more = f"; and {len(failed) - 10} more" if len(failed) > 10 else ""
    return (
        f"{len(failed)} of {len(report.files)} file(s) did not make it to batch "
        f"{report.batch_id}: {shown}{more}. See the exception's report; rerun with resume= "
        "to send only what is missing"
    )


__all__ = [
    "InvalidMode",
    "ProgressCallback",
    "ProgressKind",
    "Source",
    "UploadProgress",
    "VerifyMode",
    "default_journal_path",
    "upload",
]
