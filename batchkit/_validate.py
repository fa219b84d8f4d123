"""Input checks that run before any request, with messages that say what to do."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from ._errors import InvalidInput
from ._models import BatchState

MAX_NAME = 255
MIN_PRIORITY = 10
MAX_PRIORITY = 30


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def file_name(name: object) -> str:
    """Return `name` if it is a valid batch file name, else raise `InvalidInput`.

    Batch file names are flat: non-empty, at most 255 characters, with an extension,
    without `/`, `\\`, `..` or control characters, and without surrounding whitespace.
    (`..` is refused anywhere, not only as a whole name: a vendor or a downstream tool that
    joins names into paths must never see one.)
    """
    if not isinstance(name, str):
        raise InvalidInput(f"file name must be a str, got {type(name).__name__}: {name!r}")
    if not name or not name.strip():
        raise InvalidInput("file name is empty: pass a name with an extension, e.g. 'scan.pdf'")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"file name {name[:40]!r}... is {len(name)} characters: the limit is {MAX_NAME}; "
            "shorten it"
        )
    for bad in ("/", "\\"):
        if bad in name:
            raise InvalidInput(
                f"file name {name!r} contains {bad!r}: batch file names are flat; "
                "rename it or pass name="
            )
    if ".." in name:
        raise InvalidInput(f"file name {name!r} contains '..': rename it")
    if _has_control(name):
        raise InvalidInput(f"file name {name!r} contains control characters: rename it")
    if name != name.strip():
        raise InvalidInput(
            f"file name {name!r} starts or ends with whitespace: strip it "
            f"({name.strip()!r}) or rename the file"
        )
    stem, dot, ext = name.rpartition(".")
    if dot and ext and not stem.strip("."):
        raise InvalidInput(
            f"file name {name!r} is only an extension: put a name before it, "
            f"e.g. 'scan.{ext}'"
        )
    if not dot or not stem or not ext.strip():
        raise InvalidInput(
            f"file name {name!r} has no extension: vendors need one (e.g. {name.rstrip('.')}.pdf)"
        )
    return name


def batch_name(name: object, *, max_length: int = MAX_NAME) -> str:
    """Return `name` if it is a usable batch name, else raise `InvalidInput`."""
    if not isinstance(name, str):
        raise InvalidInput(f"batch name must be a str, got {type(name).__name__}: {name!r}")
    if not name.strip():
        raise InvalidInput("batch name is empty: pass a non-empty name")
    if len(name) > max_length:
        raise InvalidInput(
            f"batch name {name[:40]!r}... is {len(name)} characters: the limit is {max_length}"
        )
    if _has_control(name):
        raise InvalidInput(f"batch name {name!r} contains control characters: remove them")
    return name


def priority(value: object) -> int:
    """Return `value` if it is a priority from 10 (lowest) to 30 (highest)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"priority must be an int from 10 to 30, got {value!r}")
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise InvalidInput(
            f"priority {value} is out of range: use {MIN_PRIORITY} (lowest) to "
            f"{MAX_PRIORITY} (highest)"
        )
    return value


def byte_range(start: int, end: int | None, *, size: int | None = None) -> tuple[int, int | None]:
    """Check an inclusive byte range `start..end` (end None = to the end of the file)."""
    for label, v in (("start", start), ("end", end)):
        if (v is not None or label == "start") and (isinstance(v, bool) or not isinstance(v, int)):
            raise InvalidInput(f"byte range {label} must be an int, got {v!r}")
    if start < 0:
        raise InvalidInput(f"byte range start {start} is negative: ranges start at 0")
    if end is not None and end < start:
        raise InvalidInput(f"byte range {start}-{end} ends before it starts: pass end >= start")
    if size is not None and start >= size > 0:
        raise InvalidInput(f"byte range start {start} is past the end of a {size}-byte file")
    return start, end


def positive_int(label: str, value: object, *, minimum: int = 1) -> int:
    """Return `value` if it is an int >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{label} must be an int >= {minimum}, got {value!r}")
    return value


def list_filters(
    state: object, limit: object, created_after: object, created_before: object
) -> BatchState | None:
    """Check `list_batches` filters before any request; returns `state` as a `BatchState`.

    `state` may be a `BatchState` or its value as text (`"staging"`, as the CLI and config
    files give it); `limit` a whole number >= 1; the bounds `datetime`s.
    """
    if limit is not None:
        positive_int("limit", limit)
    for label, bound in (("created_after", created_after), ("created_before", created_before)):
        if bound is not None and not isinstance(bound, datetime):
            raise InvalidInput(
                f"{label} must be a datetime, got {type(bound).__name__}: {bound!r}"
            )
    if isinstance(state, str):
        state = BatchState.__members__.get(state.strip().upper(), state)
    if state is None or (isinstance(state, BatchState) and state is not BatchState.UNKNOWN):
        return state
    known = ", ".join(repr(s.value) for s in BatchState if s is not BatchState.UNKNOWN)
    raise InvalidInput(f"state must be a BatchState or one of {known}; got {state!r}")
