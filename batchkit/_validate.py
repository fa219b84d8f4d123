"""Input checks that run before any request, with messages that say what to do."""

from __future__ import annotations

import json
import math
import os
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

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
    without `/`, `\\`, `..`, control characters or lone surrogates (text that is not UTF-8),
    and without surrounding whitespace.
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
    if not _encodable(name):
        raise InvalidInput(
            f"file name {name!r} is not valid UTF-8 (a lone surrogate: the name was read from "
            "bytes that are not UTF-8): rename the file or pass name="
        )
    if name != name.strip():
        raise InvalidInput(
            f"file name {name!r} starts or ends with whitespace: strip it "
            f"({name.strip()!r}) or rename the file"
        )
    stem, dot, ext = name.rpartition(".")
    if dot and ext and not stem.strip("."):
        raise InvalidInput(
            f"file name {name!r} is only an extension: put a name before it, e.g. 'scan.{ext}'"
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
    if not _encodable(name):
        raise InvalidInput(
            f"batch name {name!r} is not valid UTF-8 (a lone surrogate, as text decoded from "
            "bytes that are not UTF-8 holds): pass the name as proper text"
        )
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
    time_bounds(created_after=created_after, created_before=created_before)
    if isinstance(state, str):
        state = BatchState.__members__.get(state.strip().upper(), state)
    if state is None or (isinstance(state, BatchState) and state is not BatchState.UNKNOWN):
        return state
    known = ", ".join(repr(s.value) for s in BatchState if s is not BatchState.UNKNOWN)
    raise InvalidInput(f"state must be a BatchState or one of {known}; got {state!r}")


def time_bounds(**bounds: object) -> dict[str, datetime]:
    """Check time filters (``created_after=...``) before any request: each None or a
    `datetime` that exists in UTC. Returns the ones given, as aware UTC datetimes (a naive one
    means UTC, as the vendors take them)."""
    checked: dict[str, datetime] = {}
    for label, bound in bounds.items():
        if bound is None:
            continue
        if not isinstance(bound, datetime):
            raise InvalidInput(f"{label} must be a datetime, got {type(bound).__name__}: {bound!r}")
        try:
            checked[label] = (bound if bound.tzinfo else bound.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise InvalidInput(
                f"{label} {bound.isoformat()} is out of range in UTC: pass a datetime "
                "between years 1 and 9999 in UTC"
            ) from None
    return checked


def strings(label: str, value: object) -> list[str]:
    """A list of non-empty texts (tags, ids) from a str (one) or an iterable of str."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise InvalidInput(f"{label} must be a str or a list of str, got {type(value).__name__}")
    found = list(items)
    for item in found:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"{label} must hold non-empty strings, got {item!r:.80}")
        text(label, item)
    return found


def as_utc(value: datetime | None) -> datetime | None:
    """A (checked) bound as an aware datetime: naive ones are UTC, as the vendors take them."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def flag(label: str, value: object) -> bool:
    """Return `value` if it is True or False (not 0, "yes" or None)."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{label} must be True or False, got {value!r}")
    return value


def options(value: object) -> dict[str, Any]:
    """`options=` as a dict: None (no options) or a mapping with str keys."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(
            f"options must be a mapping of option names to values, or None; got "
            f"{type(value).__name__}: {value!r:.80}"
        )
    return dict(value)


def path_segment(label: str, value: object) -> str:
    """Return `value` if it is a name that is one path segment (a workspace, say)."""
    text(label, value)
    assert isinstance(value, str)
    if "/" in value or value in (".", ".."):
        raise InvalidInput(f"{label} {value!r} must be a single name: no '/', not '.' or '..'")
    return value


#: the longest wait a caller may ask for: a day (a larger one is a unit mistake)
MAX_WAIT_SECONDS = 86_400.0


def seconds(label: str, value: object, *, allow_zero: bool = True) -> float:
    """Return `value` if it is a finite number of seconds from 0 (or just above, without
    `allow_zero`) to a day."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(
            f"{label} must be a number of seconds, got {type(value).__name__}: {value!r}"
        )
    low_ok = value >= 0 if allow_zero else value > 0
    if not (math.isfinite(value) and low_ok and value <= MAX_WAIT_SECONDS):
        low = "from 0" if allow_zero else "more than 0 and"
        raise InvalidInput(
            f"{label} must be {low} up to {MAX_WAIT_SECONDS:g} seconds, got {value!r}"
        )
    return float(value)


def text(label: str, value: object, *, max_length: int = MAX_NAME) -> str:
    """Return `value` if it is a non-empty str of printable characters, at most `max_length`
    long (workspace, project, owner and similar names sent to a vendor)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be a str, got {type(value).__name__}: {value!r}")
    if not value.strip():
        raise InvalidInput(f"{label} is empty: pass a name, or leave it out")
    if len(value) > max_length:
        raise InvalidInput(
            f"{label} {value[:40]!r}... is {len(value)} characters: the limit is {max_length}"
        )
    if _has_control(value) or not _encodable(value):
        raise InvalidInput(f"{label} {value!r} contains control or invalid characters")
    return value


def url(label: str, value: object) -> str:
    """Return `value` if it is an absolute http(s) URL (a callback, say)."""
    from urllib.parse import urlsplit

    text(label, value, max_length=2048)
    assert isinstance(value, str)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parses the port: ValueError if it is not one
    except ValueError:  # "Invalid IPv6 URL", a bad port...
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise InvalidInput(
            f"{label} {value!r} must be an absolute http(s) URL, e.g. https://example.com/hook"
        )
    return value


def json_object(label: str, value: object) -> dict[str, Any]:
    """Return `value` as a dict if it is a mapping JSON can carry exactly: str keys, and
    values that are None, bool, finite numbers, str, lists or such mappings."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{label} must be a mapping, got {type(value).__name__}: {value!r}")
    try:
        # allow_nan=False refuses NaN/inf; default= names what JSON cannot hold; encoded as
        # httpx sends it, so text that is not UTF-8 (a lone surrogate) is caught here too
        json.dumps(
            value, ensure_ascii=False, allow_nan=False, default=_not_json, check_circular=True
        ).encode("utf-8")
    except UnicodeEncodeError as e:
        bad = e.object[e.start : e.end]
        raise InvalidInput(
            f"{label} holds text that is not valid UTF-8 ({bad!r}, a lone surrogate): JSON "
            "cannot carry it; pass proper text"
        ) from None
    except _NotJSON as e:
        raise InvalidInput(
            f"{label} holds {e}: JSON cannot carry it; convert it (e.g. a datetime to isoformat())"
        ) from None
    except (ValueError, TypeError, RecursionError) as e:
        raise InvalidInput(f"{label} cannot be sent as JSON: {e}") from None
    return dict(value)


class _NotJSON(Exception):
    pass


def _not_json(value: object) -> object:
    raise _NotJSON(f"a {type(value).__name__} ({value!r:.60})")


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text any vendor can receive
        return False
    return True


def shorten(value: str, limit: int = 80) -> str:
    """`value` cut to about `limit` characters for a message, saying how long it was."""
    if len(value) <= limit:
        return value
    return f"{value[: limit - 20]}... ({len(value)} characters)"


def local_path(label: str, value: object) -> str:
    """Return `value` as text if it can name a local file: a non-empty str or os.PathLike
    (of text), without NUL characters, encodable as a file name on this system."""
    if not isinstance(value, str | os.PathLike):
        raise InvalidInput(
            f"{label} must be a path (a str or os.PathLike), got {type(value).__name__}: "
            f"{value!r:.80}"
        )
    try:
        path = os.fspath(value)
    except TypeError as e:  # __fspath__ returned something other than str or bytes
        raise InvalidInput(f"{label} {value!r:.80} is not a usable path: {e}") from None
    if not isinstance(path, str):
        raise InvalidInput(
            f"{label} must name the path as text (str), got {type(path).__name__}: {path!r:.80}"
        )
    if not path:
        raise InvalidInput(f"{label} is an empty path: pass a file path ('.' is this directory)")
    if "\x00" in path:
        raise InvalidInput(
            f"{label} {shorten(path)!r} contains a NUL character, which no path can hold: "
            "pass another path"
        )
    try:
        os.fsencode(path)
    except UnicodeEncodeError as e:
        raise InvalidInput(
            f"{label} {shorten(path)!r} holds {e.object[e.start : e.end]!r}, which this "
            "system cannot encode in a file name (a lone surrogate is not text): pass "
            "another path"
        ) from None
    return path
