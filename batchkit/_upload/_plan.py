"""Planning: every source resolved into named `Item`s before anything is sent.

Directories are walked (symlinks followed, loops caught, hidden entries and what
`include` / `exclude` leave out skipped), and every entry that cannot be uploaded as it is
(a bad name, two sources for one name, a special file, a broken link...) is marked with its
problem and what to do, so one `InvalidInput` can list them all.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Literal, NoReturn, TypeAlias, cast

import attrs

from .._errors import InvalidInput
from .._validate import file_name, local_path, url
from ._globs import Globs
from ._items import Item, Stat, display, not_a_file, os_reason

#: one source of files: a path to a file or a directory, an ``http(s)://`` URL the vendor
#: fetches itself (`Capability.IMPORT_URLS`), or a ``(name, data)`` pair where data is a
#: binary stream (read from its current position), bytes, the path of a file (opened only
#: when it is sent) or a URL.
Source: TypeAlias = str | os.PathLike[str] | tuple[str, IO[bytes] | bytes | os.PathLike[str] | str]

_URL = re.compile(r"https?://", re.IGNORECASE)


def is_url(source: object) -> bool:
    """Whether a source is an http(s) URL (a str starting with ``http://`` / ``https://``)."""
    return isinstance(source, str) and _URL.match(source) is not None


def _url_item(index: int, name: str | None, source: str) -> Item:
    """A URL source: named by the last segment of its path, percent-decoded (or `name`)."""
    try:
        checked = url("upload source", source)
    except InvalidInput as e:
        return Item(index, display(name or source), display(source), None, problem=str(e))
    if name is None:
        path = urllib.parse.urlsplit(checked).path
        name = "" if path.endswith("/") else urllib.parse.unquote(PurePosixPath(path).name)
    if not name:
        why = "the URL names no file (its path ends in '/'): pass it as a (name, url) pair"
        return Item(index, display(checked), display(checked), None, problem=why)
    return Item(index, name, display(checked), None, url=checked)


#: accepted values of ``invalid``: what to do with files that cannot be uploaded
InvalidMode: TypeAlias = Literal["refuse", "skip"]


def check_invalid(invalid: object) -> str:
    if invalid in ("refuse", "skip"):
        return invalid
    raise InvalidInput(
        f"invalid must be 'refuse' or 'skip', got {invalid!r}: 'refuse' raises InvalidInput "
        "listing every file that cannot be uploaded; 'skip' uploads the others and reports them"
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
            f"broken symlink: it points to {display(target)!r}, which does not exist; "
            "fix or remove the link, or exclude it"
        )
    return f"cannot read it: {os_reason(error)}"


def _identity(path: Path, st: os.stat_result) -> object:
    """What tells files apart: (st_dev, st_ino), or the real path where inodes are 0."""
    return (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(path)


#: what the walk finds: a regular file with its stat, or an entry with its problem
_Found: TypeAlias = tuple[Path, os.stat_result | None, str | None]
#: a directory still to walk: its path, its path relative to the root, and the
#: `_identity` of every directory from the root down to it (to catch symlink loops)
_Frame: TypeAlias = tuple[Path, tuple[str, ...], frozenset[object]]


def _walk(
    root: Path, root_stat: os.stat_result, include: Globs, exclude: Globs
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
                raise InvalidInput(f"cannot read {display(str(here))!r}: {os_reason(e)}") from None
            yield here, None, f"cannot read this directory: {os_reason(e)}"
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
                if exclude and exclude.matches(parts, is_dir=True):
                    continue
                key = _identity(path, st)
                if key not in ancestors:
                    subdirs.append((path, parts, ancestors | {key}))
                    continue
                target = display(os.path.realpath(path))
                loop = f"symlink loop: it leads back to {target!r}, a directory above it"
                yield path, None, f"{loop}; remove the link or exclude it"
                continue
            if exclude and exclude.matches(parts, is_dir=False):
                continue
            if include and not include.matches(parts, is_dir=False):
                continue
            if error is not None:
                if error.errno in (errno.EMFILE, errno.ENFILE):
                    raise InvalidInput(
                        f"cannot read {display(str(path))!r}: {os_reason(error)}"
                    ) from None
                yield path, None, _unreadable(path, error)
            elif st is not None and not stat.S_ISREG(st.st_mode):
                yield path, None, not_a_file(st)
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
            or is_url(source[1])
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


def _stream_item(index: int, name: str, data: object) -> Item:
    if isinstance(data, bytes | bytearray | memoryview):
        content = bytes(data)
        return Item(index, name, "<bytes>", len(content), content=content)
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
        return Item(index, name, "<stream>", None, stream=stream)
    try:
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
    except OSError as e:
        raise InvalidInput(
            f"cannot measure the stream paired with {name!r}: {os_reason(e)}"
        ) from None
    return Item(index, name, "<stream>", end - start, stream=stream, start=start)


def _name_problem(name: str) -> str | None:
    """Why `name` cannot be a batch file name (with the fix), or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"file name {display(name)!r} is not valid UTF-8: batch file names are text; "
            "rename the file"
        )
    try:
        file_name(name)
    except InvalidInput as e:
        return str(e)
    return None


def plan(
    sources: object,
    include: Globs,
    exclude: Globs,
    *,
    journal: Path | None = None,
) -> list[Item]:
    """Resolve every source into named items, marking each one that cannot be uploaded
    (bad name, two sources for one name, special file...) with its problem."""
    items: list[Item] = []
    seen: set[tuple[str, object]] = set()
    journal_key: object = None
    if journal is not None:
        with contextlib.suppress(OSError):
            journal_key = _identity(journal, journal.stat())

    def problem(name: str, path: Path, why: str, *, fatal: bool = False) -> None:
        label = display(str(path))
        items.append(Item(len(items), display(name), label, None, problem=why, fatal=fatal))

    def add_file(name: str, path: Path, st: os.stat_result) -> None:
        key = (name, _identity(path, st))
        if key in seen:  # the same file under the same name (reached twice) is sent once
            return
        seen.add(key)
        label = display(str(path))
        items.append(Item(len(items), name, label, st.st_size, path=path, stat=Stat.of(st)))

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
            problem(name or path.name, path, not_a_file(st))
        else:
            add_file(name or path.name, path, st)

    for source in _iter_sources(sources):
        if _is_pair(source):
            name, data = cast(tuple[str, object], source)
            if is_url(data):
                items.append(_url_item(len(items), name, cast(str, data)))
            elif isinstance(data, os.PathLike):
                add_path(name, Path(local_path(f"the path paired with {name!r:.80}", data)))
            else:
                items.append(_stream_item(len(items), name, data))
        elif is_url(source):
            items.append(_url_item(len(items), None, cast(str, source)))
        elif isinstance(source, str | os.PathLike):
            add_path(None, Path(local_path("upload source", source)))
        else:
            raise InvalidInput(
                f"cannot upload {type(source).__name__} {source!r}: pass a file or directory "
                "path, a URL, or a (name, bytes, binary stream, path or URL) pair"
            )

    by_stream: dict[int, list[Item]] = {}
    for item in items:
        if item.stream is not None and item.size is None:
            by_stream.setdefault(id(item.stream), []).append(item)
    for group in by_stream.values():
        if len(group) > 1:
            once = (
                f"one stream that cannot seek is paired with {len(group)} names "
                f"({', '.join(repr(display(i.name)) for i in group)}): it can be read only "
                "once; pass bytes, a seekable stream or a path instead"
            )
            for item in group:
                items[item.index] = attrs.evolve(item, name=display(item.name), problem=once)
    by_name: dict[str, list[Item]] = {}
    for item in items:
        if item.problem is None:
            why = _name_problem(item.name)
            if why is not None:
                items[item.index] = attrs.evolve(item, name=display(item.name), problem=why)
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


def refuse(problems: list[Item], *, skippable: bool) -> NoReturn:
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
