"""Planning: every source resolved into named `Item`s before anything is sent.

Directories are walked (symlinks followed, loops caught, hidden entries and what
`include` / `exclude` leave out skipped), remote directories (fsspec URLs) listed and
filtered the same way, files named by ``name_by``, and every entry that cannot be uploaded
as it is (a bad name, two sources for one name, a special file, a broken link...) is marked
with its problem and what to do, so one `InvalidInput` can list them all.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Literal, NoReturn, TypeAlias, cast

import attrs

from .._errors import InvalidInput
from .._remote import (
    Location,
    RemoteFile,
    file_url_path,
    http_streaming,
    is_file_url,
    is_http,
    is_remote,
    locate,
)
from .._validate import file_name, local_path, url
from ._globs import Globs
from ._items import Item, Stat, display, not_a_file, os_reason
from ._names import namer

#: one source of files: a path to a file or a directory, a remote file or directory (an
#: fsspec URL such as ``s3://bucket/scans/``), an ``http(s)://`` URL (fetched by the vendor
#: itself where it can, `Capability.IMPORT_URLS`), or a ``(name, data)`` pair where data is
#: a binary stream (read from its current position), bytes, the path of a file (opened only
#: when it is sent) or a URL.
Source: TypeAlias = str | os.PathLike[str] | tuple[str, IO[bytes] | bytes | os.PathLike[str] | str]


def is_url(source: object) -> bool:
    """Whether a source is a URL: http(s), ``file://`` or one fsspec opens."""
    return is_http(source) or is_remote(source) or is_file_url(source)


def _url_name(checked: str) -> str:
    """The name of an http(s) URL: the last segment of its path, percent-decoded."""
    path = urllib.parse.urlsplit(checked).path
    return "" if path.endswith("/") else urllib.parse.unquote(PurePosixPath(path).name)


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


def _remote_reason(error: OSError) -> str:
    """Why a remote source could not be read, with what to check."""
    if isinstance(error, PermissionError):
        return (
            f"cannot read it: {error or 'permission denied'}; check the credentials and "
            "permissions fsspec uses for it"
        )
    return f"cannot read it: {os_reason(error)}"


def _identity(path: Path, st: os.stat_result) -> object:
    """What tells files apart: (st_dev, st_ino), or the real path where inodes are 0."""
    return (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(path)


#: what the walk finds: a regular file (its path, its path segments relative to the root,
#: its stat), or an entry with its problem
_Found: TypeAlias = tuple[Path, tuple[str, ...], os.stat_result | None, str | None]
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
            yield here, rel, None, f"cannot read this directory: {os_reason(e)}"
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
                yield path, parts, None, f"{loop}; remove the link or exclude it"
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
                yield path, parts, None, _unreadable(path, error)
            elif st is not None and not stat.S_ISREG(st.st_mode):
                yield path, parts, None, not_a_file(st)
            else:
                yield path, parts, st, None
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
    name_by: object = "basename",
    stream_urls: bool = False,
) -> list[Item]:
    """Resolve every source into named items, marking each one that cannot be uploaded
    (bad name, two sources for one name, special file...) with its problem.

    `name_by` names each file found from its path relative to the directory walked (see
    `_names`); `stream_urls`: http(s) URLs are streamed through this machine (fsspec's HTTP
    filesystem) when it can, for a vendor that cannot fetch them itself.
    """
    naming = namer(name_by)
    items: list[Item] = []
    seen: set[tuple[str, object]] = set()
    journal_key: object = None
    if journal is not None:
        with contextlib.suppress(OSError):
            journal_key = _identity(journal, journal.stat())

    def problem(name: str, label: str, why: str, *, fatal: bool = False) -> None:
        shown = display(label)
        items.append(Item(len(items), display(name), shown, None, problem=why, fatal=fatal))

    def named(parts: tuple[str, ...], label: str) -> str | None:
        """The name of a found file (None, with its problem listed, if it cannot have one)."""
        try:
            return naming(parts)
        except InvalidInput as e:
            problem(parts[-1], label, str(e))
            return None

    def add_file(name: str, path: Path, st: os.stat_result) -> None:
        key = (name, _identity(path, st))
        if key in seen:  # the same file under the same name (reached twice) is sent once
            return
        seen.add(key)
        label = display(str(path))
        items.append(Item(len(items), name, label, st.st_size, path=path, stat=Stat.of(st)))

    def add_path(name: str | None, path: Path) -> None:
        """A path given as a source (`name` for a (name, path) pair)."""
        label = str(path)
        try:
            st = path.stat()
        except FileNotFoundError as e:
            if path.is_symlink():
                problem(name or path.name, label, _unreadable(path, e))
            else:
                problem(name or path.name, label, "does not exist: check the path", fatal=True)
            return
        except OSError as e:
            problem(name or path.name, label, _unreadable(path, e))
            return
        if _identity(path, st) == journal_key:
            problem(name or path.name, label, "is this upload's resume journal: never uploaded")
        elif stat.S_ISDIR(st.st_mode) and name is None:
            for found, parts, found_st, why in _walk(path, st, include, exclude):
                if why is not None:
                    problem(found.name, str(found), why)
                elif found_st is not None and _identity(found, found_st) != journal_key:
                    as_name = named(parts, str(found))
                    if as_name is not None:
                        add_file(as_name, found, found_st)
        elif stat.S_ISDIR(st.st_mode):
            problem(name or path.name, label, "is a directory: pair a name with a file")
        elif not stat.S_ISREG(st.st_mode):
            problem(name or path.name, label, not_a_file(st))
        else:
            as_name = name if name is not None else named((path.name,), label)
            if as_name is not None:
                add_file(as_name, path, st)

    def add_remote_file(name: str, where: Location, size: int | None, version: str | None) -> None:
        if size is None:
            why = "its size is unknown (the server sends no Content-Length): download it first"
            problem(name, where.url, why)
            return
        key = (name, where.key)
        if key in seen:
            return
        seen.add(key)
        remote = RemoteFile(where, size, version)
        items.append(Item(len(items), name, display(where.url), size, remote=remote))

    def add_remote(name: str | None, url: str, *, http: bool = False) -> None:
        """A remote URL given as a source: a file, or a directory walked like a local one
        (only files: an http(s) URL is never listed)."""
        where = locate(url)  # InvalidInput: fsspec or the protocol's backend missing
        base = name or where.name or url
        try:
            info = where.info(fresh=True)
        except FileNotFoundError:
            problem(base, url, "does not exist: check the URL", fatal=True)
            return
        except OSError as e:
            problem(base, url, _remote_reason(e))
            return
        if info.kind == "directory" and name is None and not http:
            try:
                found = where.files()
            except (FileNotFoundError, OSError) as e:
                problem(base, url, _remote_reason(e))
                return
            for parts, entry in found:
                if any(p.startswith(".") for p in parts):
                    continue  # hidden, as in a local walk
                if exclude and exclude.matches(parts, is_dir=False):
                    continue
                if include and not include.matches(parts, is_dir=False):
                    continue
                child = where.child("/".join(parts))
                as_name = named(parts, child.url)
                if as_name is not None:
                    add_remote_file(as_name, child, entry.size, entry.version)
        elif info.kind == "directory":
            problem(base, url, "is a directory: pair a name with a file")
        elif info.kind != "file":
            problem(base, url, f"is not a file but a {info.kind!r}: only files can be uploaded")
        else:
            as_name = name
            if as_name is None:
                as_name = named((_url_name(url) if http else where.name,), url)
            if as_name is not None:
                add_remote_file(as_name, where, info.size, info.version)

    def add_url(name: str | None, source: str) -> None:
        """An http(s) URL: for the vendor to fetch, or streamed (`stream_urls`)."""
        try:
            checked = url("upload source", source)
        except InvalidInput as e:
            problem(name or source, source, str(e))
            return
        if name is None and not _url_name(checked):
            why = "the URL names no file (its path ends in '/'): pass it as a (name, url) pair"
            problem(checked, checked, why)
            return
        if stream_urls and http_streaming():
            add_remote(name, checked, http=True)
            return
        as_name = name if name is not None else named((_url_name(checked),), checked)
        if as_name is not None:
            items.append(Item(len(items), as_name, display(checked), None, url=checked))

    for source in _iter_sources(sources):
        if _is_pair(source):
            pair_name, data = cast(tuple[str, object], source)
            if isinstance(data, str) and is_http(data):
                add_url(pair_name, data)
            elif isinstance(data, str) and is_remote(data):
                add_remote(pair_name, data)
            elif isinstance(data, str) and is_file_url(data):
                add_path(pair_name, Path(file_url_path(data)))
            elif isinstance(data, os.PathLike):
                label = f"the path paired with {pair_name!r:.80}"
                add_path(pair_name, Path(local_path(label, data)))
            else:
                items.append(_stream_item(len(items), pair_name, data))
        elif isinstance(source, str) and is_http(source):
            add_url(None, source)
        elif isinstance(source, str) and is_remote(source):
            add_remote(None, source)
        elif isinstance(source, str) and is_file_url(source):
            add_path(None, Path(file_url_path(source)))
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
                "include/exclude, pass one as a (name, path) pair, or name files by their "
                "relative path (name_by='relative'; CLI: --name-by relative)"
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
