"""Batch file names from source paths: ``name_by`` ("basename", "relative", or a callable),
and the reversible encoding of a relative path into one flat name (`relative_name`).

The encoding is percent-encoding (RFC 3986 style) of exactly what a batch file name cannot
hold, and of ``%`` itself: ``/`` becomes ``%2F``, ``%`` ``%25``, ``\\`` ``%5C``, control
characters and bytes that are not UTF-8 their ``%XX`` bytes, the second dot of ``..``
``%2E``, and whitespace at either end of the name its ``%XX`` bytes. Every other character is
kept, so ``scans/2026/a.pdf`` is ``scans%2F2026%2Fa.pdf``. ``%`` is always escaped, so every
``%`` of a name starts an escape: two paths never get one name, and
``urllib.parse.unquote(name, errors="surrogateescape")`` (`relative_path`) gives the path back.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from pathlib import PurePath, PurePosixPath
from typing import Literal, TypeAlias
from urllib.parse import unquote

from .._errors import InvalidInput

#: how `upload` names the files it finds: by base name, by the path relative to the walked
#: directory (`relative_name`), or by a function of that relative path
NameBy: TypeAlias = Literal["basename", "relative"] | Callable[[PurePosixPath], str]

#: escaped wherever they are
_ALWAYS = frozenset("%/\\")


def _escape(char: str) -> str:
    """``%XX`` for each byte of `char` (a lone surrogate from a name that is not UTF-8
    stands for its raw byte)."""
    return "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogateescape"))


def _segments(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The segments of a relative path, checked: `InvalidInput` for an absolute path, an
    empty one, or ``.`` / ``..`` segments."""
    if isinstance(path, PurePath):
        parts = path.parts if isinstance(path, PurePosixPath) else PurePosixPath(*path.parts).parts
    elif isinstance(path, str | os.PathLike):
        text = os.fspath(path)
        if not isinstance(text, str):
            raise InvalidInput(f"relative_name takes a text path, got {type(text).__name__}")
        parts = tuple(text.split("/"))
    else:
        raise InvalidInput(
            f"relative_name takes a path (str or PurePosixPath), got {type(path).__name__}"
        )
    if not parts or parts[0] in ("", "/") or any(p in (".", "..") for p in parts):
        raise InvalidInput(
            f"{os.fspath(path)!r} is not a relative path below a folder: pass one like "
            "'scans/2026/a.pdf' (not absolute, no '.' or '..' segments)"
        )
    if any(not p for p in parts):
        raise InvalidInput(f"{os.fspath(path)!r} has an empty segment ('//')")
    for p in parts:
        try:
            canonical = p.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            canonical = ""
        if canonical != p:
            raise InvalidInput(
                f"segment {p!r} is not text a file name can be read as (a lone surrogate "
                "that stands for no byte): pass the path as os.fsdecode gives it"
            )
    return parts


def relative_name(path: str | os.PathLike[str]) -> str:
    """The batch file name ``name_by="relative"`` gives the file at `path` (relative to the
    uploaded folder, ``/`` between segments): ``scans/2026/a.pdf`` -> ``scans%2F2026%2Fa.pdf``.

    Reversible (`relative_path`) and injective: two paths never share a name. Whether the
    name is a valid batch file name (an extension, at most 255 characters) is checked by
    the upload, as for any name.
    """
    text = "/".join(_segments(path))
    out: list[str] = []
    last = len(text) - 1
    for i, char in enumerate(text):
        if (
            char in _ALWAYS
            or unicodedata.category(char) in ("Cc", "Cs")
            or (char == "." and i > 0 and text[i - 1] == ".")
            or ((i == 0 or i == last) and char.isspace())
        ):
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


def relative_path(name: str) -> PurePosixPath:
    """The relative path `relative_name` encoded into `name`: its inverse."""
    if not isinstance(name, str):
        raise InvalidInput(
            f"relative_path takes a batch file name (str), got {type(name).__name__}"
        )
    return PurePosixPath(unquote(name, errors="surrogateescape"))


def _has_extension(name: str) -> bool:
    stem, dot, ext = name.rpartition(".")
    return bool(dot and stem.strip(".") and ext.strip())


def namer(name_by: object) -> Callable[[tuple[str, ...]], str]:
    """`name_by` checked, as a function of a found file's path segments (relative to the
    directory walked; a file given directly is one segment, its own name). A name it cannot
    make raises `InvalidInput` (the upload reports it for that file)."""
    if name_by == "basename":
        return lambda parts: parts[-1]
    if name_by == "relative":

        def relative(parts: tuple[str, ...]) -> str:
            if not _has_extension(parts[-1]):
                raise InvalidInput(
                    f"file name {parts[-1]!r} has no extension: vendors need one; rename the "
                    "file, or name files with a name_by function"
                )
            return relative_name(PurePosixPath(*parts))

        return relative
    if callable(name_by):
        chosen: Callable[[PurePosixPath], object] = name_by

        def called(parts: tuple[str, ...]) -> str:
            name = chosen(PurePosixPath(*parts))
            if not isinstance(name, str):
                raise InvalidInput(
                    f"name_by returned {type(name).__name__} {name!r:.80} for "
                    f"{'/'.join(parts)!r}: it must return the file's name (str)"
                )
            return name

        return called
    raise InvalidInput(
        f"name_by must be 'basename', 'relative' or a function of the file's relative path "
        f"(PurePosixPath -> str), got {type(name_by).__name__}: {name_by!r:.80}"
    )
