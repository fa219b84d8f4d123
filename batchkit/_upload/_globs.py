"""`include` / `exclude`: glob patterns on a file's path relative to its directory source.

wcmatch does the matching: ``*`` and ``?`` stay within one path segment, a ``**`` segment
crosses them (GLOBSTAR), a pattern without ``/`` matches the last segment (MATCHBASE), and
``[...]`` / ``[!...]`` are character classes; every character may match (DOTGLOB: hidden
entries are left out by the walk, not here), ``/`` is the separator on every platform and
matching is case-sensitive (FORCEUNIX). On top, batchkit's own rules: a trailing ``/`` matches
directories only, a file matches when a directory above it does, a backslash is an ordinary
character, and a pattern that is too long or holds a backwards range is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs
from wcmatch import glob as wcglob

from .._errors import InvalidInput
from .._validate import shorten

#: the longest include/exclude pattern: a longer one is a mistake (and slow to compile)
MAX_GLOB = 4096

_FLAGS = wcglob.GLOBSTAR | wcglob.DOTGLOB | wcglob.MATCHBASE | wcglob.FORCEUNIX

#: a POSIX class, which wcmatch reads as one member of a character class: "[:alpha:]"
_POSIX = (
    r"\[:(?:alnum|alpha|ascii|blank|cntrl|digit|graph|lower|print|punct|space|upper|word"
    r"|xdigit):\]"
)
#: a character class as wcmatch reads one: "[", maybe "!" or "^", maybe a leading "]", then
#: POSIX classes and characters but "]" and "/" (a "[" with a "/" before its "]" is an
#: ordinary character), then "]"
_CLASS = re.compile(rf"\[[!^]?(\]?(?:{_POSIX}|[^\]/])*+)\]")
#: one member of a character class
_ATOM = re.compile(rf"{_POSIX}|.", re.DOTALL)


@attrs.frozen
class Globs:
    """The compiled `include` or `exclude` patterns (false when there are none)."""

    #: patterns matching files and directories alike
    entries: wcglob.WcMatcher[str] | None = None
    #: patterns that ended in "/": directories only
    dirs: wcglob.WcMatcher[str] | None = None

    def __bool__(self) -> bool:
        return self.entries is not None or self.dirs is not None

    def matches(self, parts: tuple[str, ...], *, is_dir: bool) -> bool:
        """True if a pattern matches the path or (for a file) any directory above it."""
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            if self.entries is not None and self.entries.match(path):
                return True
            if (is_dir or depth < len(parts)) and self.dirs is not None and self.dirs.match(path):
                return True
        return False


def globs(label: str, value: Iterable[str] | str | None) -> Globs:
    """`include=` or `exclude=` checked and compiled (`label` names it in errors)."""
    if value is None:
        return Globs()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, bytes | bytearray | memoryview) or not isinstance(value, Iterable):
        raise InvalidInput(
            f"{label} must be a glob (str) or a list of globs, e.g. ['*.pdf'], got "
            f"{type(value).__name__}: {value!r:.80}"
        )
    entries: list[str] = []
    dirs: list[str] = []
    for glob in value:
        if not isinstance(glob, str) or not glob.strip("/"):
            raise InvalidInput(f"{label} patterns must be non-empty strings, got {glob!r:.80}")
        if len(glob) > MAX_GLOB:
            raise InvalidInput(
                f"{label} pattern {shorten(glob)!r} is {len(glob)} characters: the limit is "
                f"{MAX_GLOB}; use a shorter pattern, or several"
            )
        body = glob.strip("/").removeprefix("./")
        backwards = _backwards_range(body)
        if backwards is not None:
            raise InvalidInput(
                f"{label} pattern {glob!r} is not a valid glob (bad character range "
                f"{backwards}): in a [...] range the first character must not come after the "
                "last, e.g. [a-z]; fix the pattern"
            )
        # wcmatch reads a backslash as an escape; in batchkit's globs it is a character
        (dirs if glob.endswith("/") else entries).append(body.replace("\\", "\\\\"))
    return Globs(_compile(entries), _compile(dirs))


def _compile(patterns: list[str]) -> wcglob.WcMatcher[str] | None:
    # limit=0: no cap on the number of patterns (none expands: BRACE and SPLIT are off)
    return wcglob.compile(patterns, flags=_FLAGS, limit=0) if patterns else None


def _backwards_range(pattern: str) -> str | None:
    """The first ``[...]`` range written backwards (``z-a``). wcmatch would quietly drop it,
    matching something other than what was written, so it is refused as the mistake it is."""
    for found in _CLASS.finditer(pattern):
        atoms, i = _ATOM.findall(found.group(1)), 0
        while i + 2 < len(atoms):
            first, dash, last = atoms[i : i + 3]
            if dash != "-" or len(first) > 1:
                i += 1
                continue
            if len(last) == 1 and last < first:
                return "".join(atoms[i : i + 3])
            i += 3
    return None
