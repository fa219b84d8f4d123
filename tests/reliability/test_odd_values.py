"""R4: odd values at every public entry point are a typed error or a success, never a crash.

Every neutral operation of both providers, their vendor extras, `connect` and the CLI's
commands are fed odd values: None, wrong types (lists, dicts, `object()`, bytes where text is
expected, bools where ints are), NaN and ±inf, huge (10**30) and negative numbers, empty,
1 MB, control-character, NUL and lone-surrogate (not UTF-8) strings, odd datetimes, Jobs,
Batches, JSON values and download destinations. Each call goes through a recording
transport to the in-process emulator, and:

- raises nothing but a `BatchkitError` (no TypeError, ValueError, OverflowError, OSError,
  RecursionError or UnicodeError; `InvalidInput` is a ValueError too, so the check is
  `isinstance(e, BatchkitError)`);
- sends no request when it raised `InvalidInput`, `UnsupportedOperation` or `ConfigError`;
- is refused that way (locally, nothing sent) when the value is plainly invalid for the
  parameter: each `Slot` says which values those are (`timeout=nan`, `metadata={"when":
  datetime.now()}`, a batch id AI Hub cannot have...);
- refuses `list_batches` filters at the call, not later while iterating;
- is never answered 400 by the vendor: a value the vendor cannot accept is refused locally.

The CLI exits 0, or with a batchkit exit code other than 1 (unexpected error) and one error
line, never a traceback; a usage error (exit 2) sends nothing.

The table tests try every fixed odd value on every parameter and list every violation at
once; the hypothesis tests add generated values (derandomized: CI sees the same examples).
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import re
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import platformdirs
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import batchkit
from batchkit import (
    Batch,
    BatchkitError,
    BatchState,
    Capability,
    ConfigError,
    InvalidInput,
    Job,
    ProviderError,
    UnsupportedOperation,
)
from batchkit.cli import (
    ExitCode,
    _app,  # noqa: F401 - adds the commands to the root group
)
from batchkit.cli import _root as cli_app
from batchkit.emulator import Emulator
from tests.recorder import Recorder

TOKEN = "odd-values"
DATA = b"hello"
#: what a refusal is: raised before any request
LOCAL = (InvalidInput, UnsupportedOperation, ConfigError)
#: vendor statuses that mean "this request is malformed": batchkit should have refused it
MALFORMED = frozenset({400, 413, 414, 422, 431})

# -- the vendor: the in-process emulator behind a recording transport ----------------------

_STATUSES: list[int] = []


class _Vendor:
    """Forwards to the emulator (set by the `world` fixture) and notes each status."""

    transport: httpx.BaseTransport | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert self.transport is not None
        response = self.transport.handle_request(request)
        _STATUSES.append(response.status_code)
        return response


VENDOR = _Vendor()
REC = Recorder(VENDOR)


def _clear() -> None:
    REC.clear()
    _STATUSES.clear()


# -- odd values -----------------------------------------------------------------------------


class _Object:
    """A plain object with a short repr."""

    def __repr__(self) -> str:
        return "<object>"


NAN = float("nan")
INF = float("inf")
MB = "x" * (1 << 20)

#: tried on every parameter
ODD: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    10**30,
    -(10**30),
    1.5,
    NAN,
    INF,
    -INF,
    "",
    " ",
    "\x00",
    "a\x00b.pdf",
    "\n",
    "tab\there.pdf",
    "\x1b[31mred.pdf",
    "\x7f.pdf",
    "\udcff",
    "caf\udce9.pdf",
    "\ud800.pdf",
    MB,
    "30",
    "-1",
    "nan",
    "\u0663",  # ARABIC-INDIC DIGIT THREE: isdigit(), not ASCII
    "\uff17",  # FULLWIDTH DIGIT SEVEN
    "7\n",
    b"bytes",
    b"a.pdf",
    bytearray(b"x"),
    [],
    ["a.pdf"],
    {},
    {"a": 1},
    (1, 2),
    _Object(),
)


def _deep(levels: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(levels):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _loop() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


#: JSON-ish values for metadata, params and options
JSON_ODD: tuple[Any, ...] = (
    {"when": datetime.now(UTC)},
    {"when": date(2024, 1, 1)},
    {"x": NAN},
    {"x": INF},
    {"x": [1, -INF]},
    {"k": _Object()},
    {"k": b"bytes"},
    {"k": {1, 2}},
    {"k": Decimal("1.5")},
    {"k": Path("x")},
    {"k": BatchState.OPEN},
    {"\udcff": 1},
    {"k": "caf\udce9"},
    {"k": ["\ud800"]},
    {(1, 2): "tuple key"},
    {1: "int key"},
    {"k": 10**30},
    {"k": 10**5000},
    {"k": "\x00\n"},
    {"k": MB},
    {"deep": _deep(100_000)},
    _loop(),
    {"calibration_batch": "yes"},
    {"calibration_batch": True, "self_label_batch": None},
)

#: datetimes and near-datetimes for created_after / created_before
DATES: tuple[Any, ...] = (
    datetime(2024, 1, 1),  # naive
    datetime.now(UTC),
    datetime.min,
    datetime.max,
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
    date(2024, 1, 1),
    "2024-01-01",
    1_700_000_000.0,
)


@dataclasses.dataclass(frozen=True)
class Bad:
    """An extra value the slot must refuse, whatever its predicate says."""

    value: Any


class _ShortRepr(reprlib.Repr):
    """Reprs that stay short: 1 MB strings, deep nesting and 5000-digit ints included."""

    def repr_int(self, x: int, level: int) -> str:
        return (
            super().repr_int(x, level) if x.bit_length() < 1000 else f"<{x.bit_length()}-bit int>"
        )

    def repr_Batch(self, x: Batch, level: int) -> str:
        return f"Batch(provider={x.provider!r}, id={self.repr1(x.id, level - 1)})"

    def repr_Job(self, x: Job, level: int) -> str:
        url = f", url={self.repr1(x.url, level - 1)}" if x.url is not None else ""
        return f"Job(provider={x.provider!r}, id={self.repr1(x.id, level - 1)}{url})"


_REPR = _ShortRepr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, 50, 50, 4, 4


def _short(value: Any) -> str:
    return _REPR.repr(value)


# -- what plainly invalid means -------------------------------------------------------------

_UNSENDABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def unsendable(text: str) -> bool:
    """Control characters or lone surrogates: not text a vendor can receive in a name."""
    return _UNSENDABLE.search(text) is not None


def bad_text(value: Any, limit: int = 255) -> bool:
    """Not a non-empty str of at most `limit` sendable characters."""
    return (
        not isinstance(value, str) or not value.strip() or len(value) > limit or unsendable(value)
    )


def bad_optional_text(value: Any) -> bool:
    return value is not None and bad_text(value)


def bad_workspace(value: Any) -> bool:
    """An AI Hub workspace is one path segment: not '/', '.' or '..'."""
    return value is not None and (bad_text(value) or "/" in value or value in (".", ".."))


def bad_file_name(value: Any) -> bool:
    if bad_text(value):
        return True
    stem, dot, ext = value.rpartition(".")
    return (
        any(bad in value for bad in ("/", "\\", ".."))
        or value != value.strip()
        or not dot
        or not stem.strip(".")
        or not ext.strip()
    )


def bad_aihub_ref(value: Any) -> bool:
    """AI Hub batch ids are ASCII digits (a Batch from AI Hub carries one)."""
    if isinstance(value, Batch):
        return value.provider != "aihub" or bad_aihub_ref(value.id)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return True
    text = str(value)
    return not (text.isascii() and text.isdigit())


def bad_scale_ref(value: Any) -> bool:
    if isinstance(value, Batch):
        return value.provider != "scale" or bad_scale_ref(value.id)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return True
    return bad_text(str(value))


def not_bool(value: Any) -> bool:
    return not isinstance(value, bool)


def bad_optional_bool(value: Any) -> bool:
    return value is not None and not isinstance(value, bool)


def bad_seconds(value: Any) -> bool:
    """Not a finite, non-negative number of seconds a deadline can be computed from."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or value < 0 or value > 1e7


def bad_setting_seconds(value: Any) -> bool:
    """A seconds setting: a number or, as environment variables and TOML give it, its text."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return True
    return value is not None and bad_seconds(value)


def bad_int(minimum: int, maximum: int | None = None, *, optional: bool = False) -> Any:
    def check(value: Any) -> bool:
        if value is None:
            return not optional
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return value < minimum or (maximum is not None and value > maximum)

    return check


def bad_state(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, BatchState):
        return value is BatchState.UNKNOWN
    if isinstance(value, str):
        return value.strip().upper() not in set(BatchState.__members__) - {"UNKNOWN"}
    return True


def bad_datetime(value: Any) -> bool:
    return value is not None and not isinstance(value, datetime)


def _json_trouble(value: Any, depth: int, seen: set[int]) -> bool:
    if depth > 100:  # nesting no vendor takes (and json would recurse through)
        return True
    if value is None or isinstance(value, bool | str):
        return isinstance(value, str) and _has_surrogate(value)
    if isinstance(value, int):
        return abs(value) >= 10**4300  # more digits than int-to-text conversion allows
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list | tuple):
        if id(value) in seen:
            return True
        seen = seen | {id(value)}
        return any(_json_trouble(v, depth + 1, seen) for v in value)
    if isinstance(value, Mapping):
        if id(value) in seen:
            return True
        seen = seen | {id(value)}
        for key, v in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return True
            if isinstance(key, str) and _has_surrogate(key):
                return True
            if _json_trouble(v, depth + 1, seen):
                return True
        return False
    return True  # datetime, bytes, set, Decimal, Path, Enum, object...


def _has_surrogate(text: str) -> bool:
    return re.search(r"[\ud800-\udfff]", text) is not None


def bad_json_object(value: Any, *, optional: bool = True) -> bool:
    """Not a mapping JSON carries: str keys; None, bools, finite numbers, UTF-8 text,
    lists and such mappings as values; no cycles."""
    if value is None:
        return not optional
    return not isinstance(value, Mapping) or _json_trouble(value, 0, set())


def bad_scale_options(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, Mapping):
        return True
    known = {"calibration_batch", "self_label_batch"}
    return any(k not in known or not isinstance(v, bool) for k, v in value.items())


def bad_callback(value: Any) -> bool:
    return value is not None and bad_text(value, limit=2048)


def bad_dest(value: Any) -> bool:
    """Not None, a writable path or a binary stream."""
    if value is None:
        return False
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if not isinstance(text, str) or "\x00" in text:
            return True
        try:
            raw = os.fsencode(text)
        except UnicodeEncodeError:
            return True
        return len(raw) > 4096 or any(len(part) > 255 for part in raw.split(b"/"))
    return not hasattr(value, "write") or isinstance(value, io.TextIOBase)


def bad_data(value: Any) -> bool:
    """upload_file data: bytes, an existing file's path or a binary stream."""
    if isinstance(value, bytes | bytearray | memoryview):
        return False
    if isinstance(value, str | os.PathLike):
        try:
            return not Path(value).is_file()
        except (OSError, ValueError):
            return True
    return not hasattr(value, "read") or isinstance(value, io.TextIOBase)


def bad_fs_path(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith("/") or "/fs/" not in value:
        return True
    return unsendable(value) or any(part in (".", "..") for part in value.split("/"))


def bad_fs_file(value: Any) -> bool:
    return bad_fs_path(value) or bad_file_name(value.rstrip("/").rsplit("/", 1)[-1])


def bad_job(provider: str, *, ids: bool = False) -> Any:
    def check(value: Any) -> bool:
        if ids and isinstance(value, str):
            return bad_text(value)
        if not isinstance(value, Job):
            return True
        if value.provider != provider or bad_text(value.id):
            return True
        return value.url is not None and (
            not isinstance(value.url, str) or unsendable(value.url) or "://" not in value.url
        )

    return check


def bad_flag(value: Any) -> bool:
    if isinstance(value, Capability):
        return False
    return not (isinstance(value, str) and value.strip().upper() in Capability.__members__)


def bad_source(value: Any) -> bool:
    """Upload sources: a path that exists, a (name, data) pair, or an iterable of them."""
    if value is None or isinstance(value, bool | int | float | bytes | bytearray | _Object):
        return True
    if isinstance(value, str):
        try:
            return not value or not os.path.exists(value)
        except ValueError:
            return True
    if isinstance(value, list):
        return any(bad_source(v) for v in value)
    return False


def bad_resume(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if not isinstance(value, str | os.PathLike):
        return True
    return bad_dest(value) or not os.fspath(value)


def bad_globs(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        value = [value]
    if isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        return True
    # a glob of thousands of characters is a mistake, and compiling it takes seconds
    return any(not isinstance(g, str) or not g.strip("/") or len(g) > 4096 for g in value)


def always(_: Any) -> bool:
    return True


def bad_start_app(value: Any) -> bool:
    """An AI Hub app name: text; None (with no app in the settings) is refused too."""
    return value is None or bad_text(value)


def bad_aihub_start_options(value: Any) -> bool:
    """AI Hub start takes only `owner` (text) among its options."""
    if value is None:
        return False
    if bad_json_object(value):
        return True
    return set(value) - {"owner"} != set() or bad_text(value.get("owner", "x"))


def bad_run_ref(value: Any) -> bool:
    """An AI Hub run: a Run of aihub with a path-safe id, or such an id."""
    if isinstance(value, batchkit.Run):
        return value.provider != "aihub" or bad_workspace(value.id)
    return bad_workspace(value)


def bad_scale_run(value: Any) -> bool:
    """A Scale run: a Run of scale naming a batch, or a batch (a Batch or its name)."""
    if isinstance(value, batchkit.Run):
        return value.provider != "scale" or bad_scale_ref(value.batch_id)
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return bad_scale_ref(value)


def bad_task_ref(value: Any) -> bool:
    """A task: a Task of scale, or its id as text."""
    if isinstance(value, batchkit.Task):
        return value.provider != "scale" or bad_text(value.id)
    return bad_text(value)


def bad_specs(value: Any) -> bool:
    """An iterable of TaskSpec (checked before any request), never one spec or text."""
    if isinstance(value, batchkit.TaskSpec | str | bytes | dict):
        return True
    try:
        items = list(value)
    except TypeError:
        return True
    return any(not isinstance(i, batchkit.TaskSpec) for i in items)


def bad_item_state(value: Any) -> bool:
    if value is None or isinstance(value, batchkit.ItemState):
        return False
    name = getattr(value, "name", value)
    return not (isinstance(name, str) and name.upper() in batchkit.ItemState.__members__)


def is_not_none(value: Any) -> bool:
    return value is not None


def bad_folder(value: Any) -> bool:
    """A download folder: a usable local path (str or PathLike) that is not a file."""
    if not isinstance(value, str | os.PathLike) or isinstance(value, bool):
        return True
    text = os.fspath(value)
    if not isinstance(text, str) or not text or "\x00" in text:
        return True
    try:
        path = Path(text)
        return (path.exists() and not path.is_dir()) or len(os.fsencode(path.name)) > 255
    except (OSError, ValueError):
        return True


def never(_: Any) -> bool:
    return False


def bad_method(value: Any) -> bool:
    """Not an HTTP method: letters only, 1 to 20 of them."""
    return not (isinstance(value, str) and value.isascii() and value.isalpha()
                and 1 <= len(value) <= 20)


# -- the world the calls run in -------------------------------------------------------------


class World:
    """Two recorded providers on one emulator, a batch of each with a file, and helpers that
    make fresh things for destructive calls (made without the recorder)."""

    def __init__(self, emu: Emulator, files: Path) -> None:
        direct = emu.transport()
        VENDOR.transport = direct
        self.aihub = batchkit.connect(
            "aihub", api_root=emu.aihub_api_root, token=TOKEN, transport=REC.transport
        )
        self.scale = batchkit.connect(
            "scale", api_root=emu.scale_api_root, api_key=TOKEN, transport=REC.transport
        )
        self._aihub = batchkit.connect(
            "aihub", api_root=emu.aihub_api_root, token=TOKEN, transport=direct
        )
        self._scale = batchkit.connect(
            "scale", api_root=emu.scale_api_root, api_key=TOKEN, transport=direct
        )
        self.fresh_batch()  # batch 1: "01" and other spellings of 1 may delete it
        self.batch = self.fresh_batch()
        self.folder = self._aihub.batch_path(self.batch)
        self.file = files / "a.pdf"
        self.file.write_bytes(DATA)
        self.dir = files
        self._scale.create_project("proj", type="imageannotation")
        self.scale_batch = self._scale.create_batch("odd-values", project="proj").id
        job = self._aihub.delete_file(self.fresh_batch(), "a.pdf", wait=False)
        assert job is not None
        self.job = job
        self._count = 0

    def fresh_batch(self) -> str:
        """A new AI Hub batch holding a.pdf."""
        batch = self._aihub.create_batch("fresh")
        self._aihub.upload_file(batch, "a.pdf", DATA)
        return batch.id

    def fresh_path(self) -> str:
        """A new file written through the Filesystem API."""
        self._count += 1
        path = f"{self.folder}/f{self._count}.pdf"
        self._aihub.fs_write(path, DATA)
        return path

    def close(self) -> None:
        for provider in (self.aihub, self.scale, self._aihub, self._scale):
            provider.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with Emulator(job_polls=0) as emu:
        w = World(emu, tmp_path_factory.mktemp("odd-values"))
        try:
            yield w
        finally:
            w.close()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No batchkit.toml, profile or vendor variable of the machine leaks in; files land in
    the test's own directory."""
    for name in list(os.environ):
        if name.startswith(("BATCHKIT_", "AIHUB_", "SCALE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(tmp_path / "cfg"))
    monkeypatch.chdir(tmp_path)
    _clear()


# -- the library's entry points ---------------------------------------------------------------

Extras = Callable[[World], Sequence[Any]]


@dataclasses.dataclass(frozen=True)
class Slot:
    """One parameter of one public call: how to call it with a value, which values it must
    refuse locally, and extra values worth trying there."""

    where: str
    call: Callable[[World, Any], object]
    refuse: Callable[[Any], bool] = never
    extras: Extras = lambda w: ()
    #: the call returns an iterator: refusals must come from the call, the rest from draining it
    lazy: bool = False

    def __str__(self) -> str:
        return self.where


def _aihub_batches(w: World) -> Sequence[Any]:
    return (
        Batch(provider="aihub", id=w.batch, name="b"),
        *_odd_aihub_batches(w),
    )


def _fresh_aihub_batches(w: World) -> Sequence[Any]:
    """For calls that delete: a fresh batch, not the one the other calls use."""
    return (
        Batch(provider="aihub", id=w.fresh_batch(), name="b"),
        *_odd_aihub_batches(w),
    )


def _odd_aihub_batches(w: World) -> Sequence[Any]:
    return (
        Batch(provider="scale", id=w.batch, name="b"),
        Batch(provider="aihub", id="", name=""),
        Batch(provider="aihub", id="../1", name="b"),
        Batch(provider="aihub", id="\udcff", name="b"),
        Batch(provider="aihub", id=None, name="b"),  # type: ignore[arg-type]
        " 1",
        "01",  # the sacrificial batch 1
    )


def _scale_batches(w: World) -> Sequence[Any]:
    return (
        Batch(provider="scale", id=w.scale_batch, name=w.scale_batch),
        Batch(provider="aihub", id=w.scale_batch, name="b"),
        Batch(provider="scale", id="", name=""),
        Batch(provider="scale", id="\udcff", name="b"),
        Batch(provider="scale", id=["b"], name="b"),  # type: ignore[arg-type]
        "..",
        ".",
        "a/b",
        "%2e%2e",
    )


def _names(w: World) -> Sequence[Any]:
    return ("a.pdf", ".pdf", "a.", "a..pdf", "a/b.pdf", "a\\b.pdf", " a.pdf", "x" * 252 + ".pdf")


def _json(w: World) -> Sequence[Any]:
    return JSON_ODD


def _dates(w: World) -> Sequence[Any]:
    return DATES


def _jobs(provider: str) -> Extras:
    def jobs(w: World) -> Sequence[Any]:
        return (
            w.job,
            Job(provider="scale" if provider == "aihub" else "aihub", id=w.job.id),
            Job(provider=provider, id=""),
            Job(provider=provider, id="\udcff"),
            Job(provider=provider, id="../../v2/batches/1"),
            Job(provider=provider, id=None),  # type: ignore[arg-type]
            Job(provider=provider, id=w.job.id, url="file:///etc/passwd"),
            Job(provider=provider, id=w.job.id, url="http://[::1"),
            Job(provider=provider, id=w.job.id, url="\x00"),
            Job(provider=provider, id=w.job.id, url=42),  # type: ignore[arg-type]
        )

    return jobs


def _dests(w: World) -> Sequence[Any]:
    return (
        w.dir / "out",
        str(w.dir),
        str(w.dir / "no" / "such" / "out.pdf"),
        "x" * 300,
        "a/" * 3000 + "x",
        "/" + "d/" * 5000,
        io.BytesIO(),
        Bad(io.StringIO()),
        Bad(1),
        Bad(Path("\x00")),
    )


def _fs_paths(w: World) -> Sequence[Any]:
    return (f"{w.folder}/a.pdf", *_odd_fs_paths(w))


def _fresh_fs_paths(w: World) -> Sequence[Any]:
    """For calls that delete: a fresh file, not the batch file the other calls read."""
    return (w.fresh_path(), *_odd_fs_paths(w))


def _odd_fs_paths(w: World) -> Sequence[Any]:
    f = w.folder
    return (
        f"{f}/a\x00.pdf",
        f"{f}/\udcff.pdf",
        f"{f}/../a.pdf",
        f"{f}/./a.pdf",
        f"{f}/" + "x" * 300 + ".pdf",
        f"{f}/a.pdf\n",
        f"{f}//a.pdf",
        f"{f}/%2e%2e/a.pdf",
        "/fs/",
        "//fs//a.pdf",
        "/a/b/fs/" + "d/" * 5000 + "a.pdf",
    )


def _sources(w: World) -> Sequence[Any]:
    return (
        [str(w.file)],
        [("b.pdf", DATA)],
        Bad([("a.pdf", _Object())]),
        Bad([("a.pdf",)]),
        Bad([("x/y.pdf", DATA)]),
        Bad([("a.pdf", "not bytes")]),
        Bad([("a.pdf", DATA), ("a.pdf", b"other")]),
        Bad([(b"a.pdf", DATA)]),
        Bad([(None, DATA)]),
        Bad([("a.pdf", io.StringIO("text"))]),
        Bad(["/dev/null"]),
        Bad([str(w.file) + "\x00"]),
        iter([("c.pdf", DATA)]),
        [["d.pdf", DATA]],
    )


def _globs(w: World) -> Sequence[Any]:
    return ("*.pdf", ["[", "*.pdf"], ["a\x00"], ["\udcff*"], [""], ["/"], [None], [1], b"*")


def _upload(w: World, **kwargs: Any) -> Any:
    kwargs.setdefault("sources", [str(w.file)])
    return w.aihub.upload(kwargs.pop("batch", w.batch), kwargs.pop("sources"), **kwargs)


def _connect(provider: str | None, **settings: Any) -> None:
    batchkit.connect(provider, transport=REC.transport, **settings).close()


AIHUB_ROOT = "http://batchkit-emulator.localhost/api"
SCALE_ROOT = "http://batchkit-emulator.localhost/v1"

LIB_SLOTS: list[Slot] = [
    # -- connect
    Slot("connect(provider)", lambda w, v: _connect(v, token="t"), always),
    Slot("connect(profile=)", lambda w, v: _connect(None, profile=v), always),
    Slot(
        "connect(config=)",
        lambda w, v: _connect("aihub", config=v, token="t"),
        lambda v: v is not None,
    ),
    Slot(
        "connect('aihub', token=)",
        lambda w, v: _connect("aihub", token=v),
        lambda v: bad_text(v, limit=len(MB) * 2),
    ),
    Slot(
        "connect('aihub', api_root=)",
        lambda w, v: _connect("aihub", token="t", api_root=v),
        lambda v: v is not None,
    ),
    Slot(
        "connect('aihub', ib_context=)",
        lambda w, v: _connect("aihub", token="t", ib_context=v),
        lambda v: v is not None and (not isinstance(v, str) or unsendable(v)),
    ),
    Slot(
        "connect('aihub', timeout=)",
        lambda w, v: _connect("aihub", token="t", timeout=v),
        bad_setting_seconds,
    ),
    Slot(
        "connect('scale', api_key=)",
        lambda w, v: _connect("scale", api_key=v),
        lambda v: bad_text(v, limit=len(MB) * 2),
    ),
    # -- AI Hub batches
    Slot("aihub.create_batch(name)", lambda w, v: w.aihub.create_batch(v), bad_text),
    Slot(
        "aihub.create_batch(project=)",
        lambda w, v: w.aihub.create_batch("n", project=v),
        bad_workspace,
        lambda w: ("ws", ".", "..", "a/b", "x" * 256),
    ),
    Slot(
        "aihub.create_batch(callback=)",
        lambda w, v: w.aihub.create_batch("n", callback=v),
        lambda v: v is not None,
    ),
    Slot(
        "aihub.create_batch(metadata=)",
        lambda w, v: w.aihub.create_batch("n", metadata=v),
        lambda v: v is not None,
        _json,
    ),
    Slot(
        "aihub.create_batch(options=)",
        lambda w, v: w.aihub.create_batch("n", options=v),
        lambda v: v is not None and not (isinstance(v, Mapping) and not v),
        _json,
    ),
    Slot(
        "aihub.get_batch(batch)", lambda w, v: w.aihub.get_batch(v), bad_aihub_ref, _aihub_batches
    ),
    Slot("aihub.status(batch)", lambda w, v: w.aihub.status(v), bad_aihub_ref, _aihub_batches),
    Slot(
        "aihub.list_batches(project=)",
        lambda w, v: w.aihub.list_batches(project=v),
        bad_workspace,
        lazy=True,
    ),
    Slot(
        "aihub.list_batches(state=)",
        lambda w, v: w.aihub.list_batches(state=v),
        bad_state,
        lambda w: ("open", " OPEN ", "unknown", BatchState.UNKNOWN, BatchState.STAGING),
        lazy=True,
    ),
    Slot(
        "aihub.list_batches(created_after=)",
        lambda w, v: w.aihub.list_batches(created_after=v),
        bad_datetime,
        _dates,
        lazy=True,
    ),
    Slot(
        "aihub.list_batches(created_before=)",
        lambda w, v: w.aihub.list_batches(created_before=v),
        bad_datetime,
        _dates,
        lazy=True,
    ),
    Slot(
        "aihub.list_batches(owner=)",
        lambda w, v: w.aihub.list_batches(owner=v),
        bad_optional_text,
        lazy=True,
    ),
    Slot(
        "aihub.list_batches(limit=)",
        lambda w, v: w.aihub.list_batches(limit=v),
        bad_int(1, optional=True),
        lazy=True,
    ),
    Slot(
        "aihub.delete_batch(batch)",
        lambda w, v: w.aihub.delete_batch(v),
        bad_aihub_ref,
        _fresh_aihub_batches,
    ),
    Slot(
        "aihub.delete_batch(wait=)",
        lambda w, v: w.aihub.delete_batch(w.fresh_batch(), wait=v),
        not_bool,
    ),
    Slot(
        "aihub.delete_batch(timeout=)",
        lambda w, v: w.aihub.delete_batch(w.fresh_batch(), timeout=v),
        bad_seconds,
    ),
    Slot(
        "aihub.delete_batch(wait=False, timeout=)",
        lambda w, v: w.aihub.delete_batch(w.fresh_batch(), wait=False, timeout=v),
        bad_seconds,
    ),
    Slot("aihub.finalize(batch)", lambda w, v: w.aihub.finalize(v), always),
    Slot("aihub.prioritize(priority)", lambda w, v: w.aihub.prioritize(w.batch, v), always),
    Slot(
        "aihub.wait_job(job)",
        lambda w, v: w.aihub.wait_job(v),
        bad_job("aihub", ids=True),
        _jobs("aihub"),
    ),
    Slot("aihub.wait_job(timeout=)", lambda w, v: w.aihub.wait_job(w.job, timeout=v), bad_seconds),
    # -- the labeling loop on AI Hub: runs and results; tasks are Scale's
    Slot(
        "aihub.start(batch)",
        lambda w, v: w.aihub.start(v, app="batchkit-extractor"),
        bad_aihub_ref,
        _aihub_batches,
    ),
    Slot("aihub.start(app=)", lambda w, v: w.aihub.start(w.batch, app=v), bad_start_app),
    Slot(
        "aihub.start(options=)",
        lambda w, v: w.aihub.start(w.batch, app="batchkit-extractor", options=v),
        bad_aihub_start_options,
    ),
    Slot("aihub.get_run(run)", lambda w, v: w.aihub.get_run(v), bad_run_ref),
    Slot("aihub.wait(timeout=)", lambda w, v: w.aihub.wait("no-such-run", timeout=v), bad_seconds),
    Slot("aihub.wait(run)", lambda w, v: w.aihub.wait(v, timeout=1), bad_run_ref),
    Slot("aihub.results(run)", lambda w, v: w.aihub.results(v), bad_run_ref, lazy=True),
    Slot("aihub.download(folder)", lambda w, v: w.aihub.download(w.batch, v), bad_folder),
    Slot(
        "aihub.download(concurrency=)",
        lambda w, v: w.aihub.download(w.batch, w.dir / "dl", concurrency=v),
        bad_int(1),
    ),
    Slot("aihub.add_tasks(specs)", lambda w, v: w.aihub.add_tasks(w.batch, v), always),
    Slot("aihub.get_task(task)", lambda w, v: w.aihub.get_task(v), always),
    Slot("aihub.list_tasks(batch)", lambda w, v: w.aihub.list_tasks(v), always, lazy=True),
    Slot("aihub.request(method)", lambda w, v: w.aihub.request(v, "v2/batches"), bad_method),
    Slot("aihub.request(path)", lambda w, v: w.aihub.request("GET", v),
         lambda v: bad_text(v, limit=8192)),
    Slot("scale.request(method)", lambda w, v: w.scale.request(v, "batches"), bad_method),
    Slot("scale.request(path)", lambda w, v: w.scale.request("GET", v),
         lambda v: bad_text(v, limit=8192)),
    Slot("aihub.cancel_task(task)", lambda w, v: w.aihub.cancel_task(v), always),
    Slot(
        "aihub.get_job(job)",
        lambda w, v: w.aihub.get_job(v),  # type: ignore[attr-defined]
        bad_job("aihub", ids=True),
        _jobs("aihub"),
    ),
    # -- AI Hub files
    Slot(
        "aihub.upload_file(batch)",
        lambda w, v: w.aihub.upload_file(v, "a.pdf", DATA),
        bad_aihub_ref,
        _aihub_batches,
    ),
    Slot(
        "aihub.upload_file(name)",
        lambda w, v: w.aihub.upload_file(w.batch, v, DATA),
        bad_file_name,
        _names,
    ),
    Slot(
        "aihub.upload_file(data)",
        lambda w, v: w.aihub.upload_file(w.batch, "a.pdf", v),
        bad_data,
        lambda w: (
            io.BytesIO(DATA),
            Bad(io.StringIO("text")),
            str(w.file),
            memoryview(DATA),
            Bad(str(w.dir)),
            Bad(str(w.file) + "\x00"),
        ),
    ),
    Slot(
        "aihub.upload_file(size=)",
        lambda w, v: w.aihub.upload_file(w.batch, "a.pdf", DATA, size=v),
        lambda v: (
            v is not None and (isinstance(v, bool) or v != len(DATA) or not isinstance(v, int))
        ),
    ),
    Slot(
        "aihub.list_files(batch)",
        lambda w, v: w.aihub.list_files(v),
        bad_aihub_ref,
        _aihub_batches,
        lazy=True,
    ),
    Slot(
        "aihub.list_files(page_size=)",
        lambda w, v: w.aihub.list_files(w.batch, page_size=v),
        bad_int(1, optional=True),
        lambda w: (1000, 1001),  # AI Hub pages hold at most 1000 nodes
        lazy=True,
    ),
    Slot(
        "aihub.delete_file(batch)",
        lambda w, v: w.aihub.delete_file(v, "a.pdf"),
        bad_aihub_ref,
        _fresh_aihub_batches,
    ),
    Slot(
        "aihub.delete_file(name)",
        lambda w, v: w.aihub.delete_file(w.fresh_batch(), v),
        bad_file_name,
        _names,
    ),
    Slot(
        "aihub.delete_file(wait=)",
        lambda w, v: w.aihub.delete_file(w.fresh_batch(), "a.pdf", wait=v),
        not_bool,
    ),
    Slot(
        "aihub.delete_file(timeout=)",
        lambda w, v: w.aihub.delete_file(w.fresh_batch(), "a.pdf", timeout=v),
        bad_seconds,
    ),
    Slot(
        "aihub.download_file(batch)",
        lambda w, v: w.aihub.download_file(v, "a.pdf"),
        bad_aihub_ref,
        _aihub_batches,
    ),
    Slot(
        "aihub.download_file(name)",
        lambda w, v: w.aihub.download_file(w.batch, v),
        bad_file_name,
        _names,
    ),
    Slot(
        "aihub.download_file(dest)",
        lambda w, v: w.aihub.download_file(w.batch, "a.pdf", v),
        bad_dest,
        _dests,
    ),
    Slot(
        "aihub.download_file(start=)",
        lambda w, v: w.aihub.download_file(w.batch, "a.pdf", start=v),
        bad_int(0),
    ),
    Slot(
        "aihub.download_file(end=)",
        lambda w, v: w.aihub.download_file(w.batch, "a.pdf", end=v),
        bad_int(0, optional=True),
    ),
    Slot(
        "aihub.abort_upload_session(session)",
        lambda w, v: w.aihub.abort_upload_session(v),
        lambda v: bad_text(v, limit=8192),
        lambda w: (
            f"{AIHUB_ROOT}/v2/batches/multipart-upload/sessions/nope",
            "https://elsewhere.example/v2/batches/multipart-upload/sessions/x",
            "v2/batches",
        ),
    ),
    # -- AI Hub bulk upload
    Slot("aihub.upload(batch)", lambda w, v: _upload(w, batch=v), bad_aihub_ref, _aihub_batches),
    Slot("aihub.upload(sources)", lambda w, v: _upload(w, sources=v), bad_source, _sources),
    Slot("aihub.upload(concurrency=)", lambda w, v: _upload(w, concurrency=v), bad_int(1)),
    Slot(
        "aihub.upload(on_progress=)",
        lambda w, v: _upload(w, on_progress=v),
        lambda v: v is not None and not callable(v),
        lambda w: (lambda progress: None,),
    ),
    Slot(
        "aihub.upload(resume=)",
        lambda w, v: _upload(w, resume=v),
        bad_resume,
        lambda w: (Bad(str(w.dir)), Bad(str(w.file)), str(w.dir / "new" / "journal")),
    ),
    Slot(
        "aihub.upload(verify=)",
        lambda w, v: _upload(w, verify=v),
        lambda v: v not in (None, "none", "size", "sha256"),
    ),
    Slot("aihub.upload(include=)", lambda w, v: _upload(w, include=v), bad_globs, _globs),
    Slot("aihub.upload(exclude=)", lambda w, v: _upload(w, exclude=v), bad_globs, _globs),
    Slot("aihub.upload(strict=)", lambda w, v: _upload(w, strict=v), not_bool),
    Slot(
        "aihub.upload(invalid=)",
        lambda w, v: _upload(w, invalid=v),
        lambda v: v not in ("refuse", "skip"),
    ),
    # -- capabilities
    Slot(
        "aihub.supports(flag)",
        lambda w, v: w.aihub.supports(v),
        bad_flag,
        lambda w: ("upload_files", " FINALIZE ", Capability(0), "CREATE_BATCH|FINALIZE"),
    ),
    Slot(
        "aihub.require(flag)",
        lambda w, v: w.aihub.require(v),
        always,
        lambda w: ("finalize", Capability.FINALIZE),
    ),
    Slot("aihub.require(operation=)", lambda w, v: w.aihub.require(Capability.FINALIZE, v), always),
    Slot("scale.supports(flag)", lambda w, v: w.scale.supports(v), bad_flag),
    Slot(
        "scale.require(flag)",
        lambda w, v: w.scale.require(v),
        bad_flag,
        lambda w: ("finalize", Bad(Capability.LIST_FILES)),
    ),
    # -- AI Hub Filesystem API
    Slot(
        "aihub.fs_read(path)",
        lambda w, v: w.aihub.fs_read(v),  # type: ignore[attr-defined]
        bad_fs_path,
        _fs_paths,
    ),
    Slot(
        "aihub.fs_read(dest)",
        lambda w, v: w.aihub.fs_read(f"{w.folder}/a.pdf", v),  # type: ignore[attr-defined]
        bad_dest,
        _dests,
    ),
    Slot(
        "aihub.fs_read(start=)",
        lambda w, v: w.aihub.fs_read(f"{w.folder}/a.pdf", start=v),  # type: ignore[attr-defined]
        bad_int(0),
    ),
    Slot(
        "aihub.fs_read(end=)",
        lambda w, v: w.aihub.fs_read(f"{w.folder}/a.pdf", end=v),  # type: ignore[attr-defined]
        bad_int(0, optional=True),
    ),
    Slot(
        "aihub.fs_write(path)",
        lambda w, v: w.aihub.fs_write(v, DATA),  # type: ignore[attr-defined]
        bad_fs_file,
        _fs_paths,
    ),
    Slot(
        "aihub.fs_write(data)",
        lambda w, v: w.aihub.fs_write(f"{w.folder}/w.pdf", v),  # type: ignore[attr-defined]
        bad_data,
    ),
    Slot(
        "aihub.fs_write(overwrite=)",
        lambda w, v: w.aihub.fs_write(  # type: ignore[attr-defined]
            f"{w.folder}/w.pdf", DATA, overwrite=v
        ),
        not_bool,
    ),
    Slot(
        "aihub.fs_head(path)",
        lambda w, v: w.aihub.fs_head(v),  # type: ignore[attr-defined]
        bad_fs_path,
        _fs_paths,
    ),
    Slot(
        "aihub.fs_delete(path)",
        lambda w, v: w.aihub.fs_delete(v),  # type: ignore[attr-defined]
        bad_fs_path,
        _fresh_fs_paths,
    ),
    Slot(
        "aihub.fs_delete(wait=)",
        lambda w, v: w.aihub.fs_delete(w.fresh_path(), wait=v),  # type: ignore[attr-defined]
        not_bool,
    ),
    Slot(
        "aihub.fs_delete(timeout=)",
        lambda w, v: w.aihub.fs_delete(w.fresh_path(), timeout=v),  # type: ignore[attr-defined]
        bad_seconds,
    ),
    # -- Scale batches
    Slot(
        "scale.create_batch(name)", lambda w, v: w.scale.create_batch(v, project="proj"), bad_text
    ),
    Slot(
        "scale.create_batch(project=)", lambda w, v: w.scale.create_batch("n", project=v), bad_text
    ),
    Slot(
        "scale.create_batch(callback=)",
        lambda w, v: w.scale.create_batch("n", project="proj", callback=v),
        bad_callback,
        lambda w: ("https://example.com/hook", "ops@example.com", "javascript:alert(1)"),
    ),
    Slot(
        "scale.create_batch(metadata=)",
        lambda w, v: w.scale.create_batch("n", project="proj", metadata=v),
        bad_json_object,
        _json,
    ),
    Slot(
        "scale.create_batch(options=)",
        lambda w, v: w.scale.create_batch("n", project="proj", options=v),
        bad_scale_options,
        _json,
    ),
    Slot(
        "scale.get_batch(batch)", lambda w, v: w.scale.get_batch(v), bad_scale_ref, _scale_batches
    ),
    Slot("scale.status(batch)", lambda w, v: w.scale.status(v), bad_scale_ref, _scale_batches),
    Slot("scale.finalize(batch)", lambda w, v: w.scale.finalize(v), bad_scale_ref, _scale_batches),
    # -- the labeling loop on Scale: tasks in, runs, results
    Slot("scale.add_tasks(specs)", lambda w, v: w.scale.add_tasks(w.scale_batch, v), bad_specs),
    Slot(
        "scale.add_tasks(concurrency=)",
        lambda w, v: w.scale.add_tasks(w.scale_batch, [], concurrency=v),
        bad_int(1),
    ),
    Slot("scale.get_task(task)", lambda w, v: w.scale.get_task(v), bad_task_ref),
    Slot(
        "scale.list_tasks(state=)",
        lambda w, v: w.scale.list_tasks(w.scale_batch, state=v),
        bad_item_state,
        lazy=True,
    ),
    Slot(
        "scale.list_tasks(limit=)",
        lambda w, v: w.scale.list_tasks(w.scale_batch, limit=v),
        bad_int(1, optional=True),
        lazy=True,
    ),
    Slot(
        "scale.cancel_task(clear_unique_id=)",
        lambda w, v: w.scale.cancel_task("no-such-task", clear_unique_id=v),
        not_bool,
    ),
    Slot("scale.start(batch)", lambda w, v: w.scale.start(v), bad_scale_ref, _scale_batches),
    Slot("scale.download(folder)", lambda w, v: w.scale.download(w.scale_batch, v), always),
    Slot("scale.start(app=)", lambda w, v: w.scale.start(w.scale_batch, app=v), is_not_none),
    Slot("scale.get_run(run)", lambda w, v: w.scale.get_run(v), bad_scale_run),
    Slot("scale.wait(timeout=)", lambda w, v: w.scale.wait("no-such", timeout=v), bad_seconds),
    Slot("scale.wait(run)", lambda w, v: w.scale.wait(v, timeout=1), bad_scale_run),
    Slot("scale.results(run)", lambda w, v: w.scale.results(v), bad_scale_run, lazy=True),
    Slot(
        "scale.list_batches(project=)",
        lambda w, v: w.scale.list_batches(project=v),
        bad_optional_text,
        lazy=True,
    ),
    Slot(
        "scale.list_batches(state=)",
        lambda w, v: w.scale.list_batches(state=v),
        bad_state,
        lambda w: ("staging", "open", BatchState.UNKNOWN),
        lazy=True,
    ),
    Slot(
        "scale.list_batches(created_after=)",
        lambda w, v: w.scale.list_batches(created_after=v),
        bad_datetime,
        _dates,
        lazy=True,
    ),
    Slot(
        "scale.list_batches(created_before=)",
        lambda w, v: w.scale.list_batches(created_before=v),
        bad_datetime,
        _dates,
        lazy=True,
    ),
    Slot(
        "scale.list_batches(owner=)",
        lambda w, v: w.scale.list_batches(owner=v),
        lambda v: v is not None,
        lazy=True,
    ),
    Slot(
        "scale.list_batches(limit=)",
        lambda w, v: w.scale.list_batches(limit=v),
        bad_int(1, optional=True),
        lazy=True,
    ),
    Slot(
        "scale.list_batches(detailed=)",
        lambda w, v: w.scale.list_batches(detailed=v),  # type: ignore[call-arg]
        not_bool,
        lazy=True,
    ),
    Slot(
        "scale.prioritize(batch)",
        lambda w, v: w.scale.prioritize(v, 20),
        bad_scale_ref,
        _scale_batches,
    ),
    Slot(
        "scale.prioritize(priority)",
        lambda w, v: w.scale.prioritize(w.scale_batch, v),
        bad_int(10, 30),
    ),
    Slot(
        "scale.set_metadata(batch)",
        lambda w, v: w.scale.set_metadata(v, {"k": 1}),  # type: ignore[attr-defined]
        bad_scale_ref,
        _scale_batches,
    ),
    Slot(
        "scale.set_metadata(metadata)",
        lambda w, v: w.scale.set_metadata(w.scale_batch, v),  # type: ignore[attr-defined]
        lambda v: bad_json_object(v, optional=False),
        _json,
    ),
    Slot(
        "scale.create_project(name)",
        lambda w, v: w.scale.create_project(v, type="imageannotation"),  # type: ignore[attr-defined]
        bad_text,
    ),
    Slot(
        "scale.create_project(type=)",
        lambda w, v: w.scale.create_project("p", type=v),  # type: ignore[attr-defined]
        bad_text,
    ),
    Slot(
        "scale.create_project(params=)",
        lambda w, v: w.scale.create_project(  # type: ignore[attr-defined]
            "p", type="imageannotation", params=v
        ),
        bad_json_object,
        _json,
    ),
    Slot(
        "scale.create_project(rapid=)",
        lambda w, v: w.scale.create_project(  # type: ignore[attr-defined]
            "p", type="imageannotation", rapid=v
        ),
        bad_optional_bool,
    ),
    Slot(
        "scale.create_project(studio=)",
        lambda w, v: w.scale.create_project(  # type: ignore[attr-defined]
            "p", type="imageannotation", studio=v
        ),
        bad_optional_bool,
    ),
    Slot(
        "scale.create_project(dataset_id=)",
        lambda w, v: w.scale.create_project(  # type: ignore[attr-defined]
            "p", type="imageannotation", dataset_id=v
        ),
        bad_optional_text,
    ),
    Slot(
        "scale.create_project(pipeline=)",
        lambda w, v: w.scale.create_project(  # type: ignore[attr-defined]
            "p", type="imageannotation", pipeline=v
        ),
        bad_optional_text,
    ),
    # -- Scale lacks these: UnsupportedOperation whatever the arguments
    Slot("scale.delete_batch(batch)", lambda w, v: w.scale.delete_batch(v), always),
    Slot(
        "scale.delete_batch(timeout=)",
        lambda w, v: w.scale.delete_batch(w.scale_batch, timeout=v),
        always,
    ),
    Slot(
        "scale.upload_file(name)", lambda w, v: w.scale.upload_file(w.scale_batch, v, DATA), always
    ),
    Slot(
        "scale.upload_file(data)",
        lambda w, v: w.scale.upload_file(w.scale_batch, "a.pdf", v),
        always,
    ),
    Slot("scale.list_files(batch)", lambda w, v: w.scale.list_files(v), always, lazy=True),
    Slot("scale.delete_file(name)", lambda w, v: w.scale.delete_file(w.scale_batch, v), always),
    Slot("scale.download_file(name)", lambda w, v: w.scale.download_file(w.scale_batch, v), always),
    Slot(
        "scale.download_file(dest)",
        lambda w, v: w.scale.download_file(w.scale_batch, "a.pdf", v),
        always,
        _dests,
    ),
    Slot("scale.wait_job(job)", lambda w, v: w.scale.wait_job(v), always, _jobs("scale")),
    Slot(
        "scale.abort_upload_session(session)", lambda w, v: w.scale.abort_upload_session(v), always
    ),
    Slot("scale.upload(sources)", lambda w, v: w.scale.upload(w.scale_batch, v), always, _sources),
]


def violation(slot: Slot, world: World, value: Any) -> str | None:
    """What is wrong with how `slot` handled `value`, or None."""
    must_refuse = isinstance(value, Bad) or slot.refuse(value)
    if isinstance(value, Bad):
        value = value.value
    _clear()
    error: BaseException | None = None
    lazily = False
    try:
        result = slot.call(world, value)
        if slot.lazy:
            assert isinstance(result, Iterator), f"{slot} returned {type(result).__name__}"
            lazily = True
            list(result)
    except BatchkitError as e:
        error = e
    except Exception as e:  # raw TypeError / ValueError / OSError / UnicodeError / ...
        return f"raw {type(e).__name__}: {str(e)[:160]!r} ({len(REC.requests)} request(s) sent)"
    sent = len(REC.requests)
    shown = f"{type(error).__name__}: {str(error)[:160]!r}" if error else "succeeded"
    if isinstance(error, LOCAL) and sent:
        return f"{shown} after sending {sent} request(s) {REC.lines[:2]}"
    if must_refuse and not isinstance(error, LOCAL):
        return f"not refused locally: {shown} ({sent} request(s) sent)"
    if must_refuse and lazily and error is not None:
        return f"refused only when iterated, not at the call: {shown}"
    if isinstance(error, ProviderError) and error.status in MALFORMED:
        return f"the vendor refused what batchkit sent: {shown}"
    if MALFORMED & set(_STATUSES):  # e.g. a file of a bulk upload, reported but not raised
        return f"the vendor refused a request ({sorted(_STATUSES)}) and {shown}"
    if error is not None and not str(error).strip():
        return f"{type(error).__name__} without a message"
    return None


def _table(slot: Slot, world: World) -> list[Any]:
    return [*ODD, *slot.extras(world)]


@pytest.mark.parametrize("slot", LIB_SLOTS, ids=str)
def test_every_odd_value_is_a_batchkit_error_or_a_success_and_refusals_send_nothing(
    world: World, slot: Slot
) -> None:
    """Each fixed odd value at this parameter: success or a typed error, refused locally
    (no request) when plainly invalid, never a raw exception or a 400 from the vendor."""
    problems = [
        f"  {_short(v.value if isinstance(v, Bad) else v)}: {problem}"
        for v in _table(slot, world)
        if (problem := violation(slot, world, v)) is not None
    ]
    assert [] == problems, f"{slot}:\n" + "\n".join(problems)


# -- generated values -----------------------------------------------------------------------

#: any character, lone surrogates and control characters included
_CHARS = st.one_of(st.characters(), st.characters(categories=["Cc", "Cs"]))
_TEXT = st.text(_CHARS, max_size=24)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    _TEXT,
    _TEXT.map(lambda s: s + ".pdf"),
    st.binary(max_size=8),
)
_JSONISH = st.recursive(
    st.one_of(_SCALARS, st.datetimes(), st.sampled_from([NAN, INF, _Object(), b"x"])),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(_TEXT | st.integers(), kids, max_size=3)
    ),
    max_leaves=6,
)
ODD_VALUES = st.one_of(
    st.sampled_from(ODD),
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(_TEXT, _JSONISH, max_size=3),
    st.datetimes(timezones=st.none() | st.timezones()),
)

GENERATED = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure costs no extra time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _leaves_cwd(value: Any) -> bool:
    """Text that, as a path, could name something outside the test's directory: generated
    values go to download destinations, journals and upload sources, so "/" (upload the whole
    disk) or "/x" (write at the root) must not be tried."""
    if isinstance(value, str):
        return value.startswith(("/", "\\")) or ".." in value
    if isinstance(value, list | tuple):
        return any(_leaves_cwd(v) for v in value)
    return False


@pytest.mark.parametrize("slot", LIB_SLOTS, ids=str)
@GENERATED
@given(value=ODD_VALUES)
def test_generated_odd_values_are_a_batchkit_error_or_a_success(
    world: World, slot: Slot, value: Any
) -> None:
    """Generated values (any text, number, bytes, list, JSON-ish mapping or datetime) obey
    the same rules as the fixed ones."""
    assume(not _leaves_cwd(value))
    problem = violation(slot, world, value)
    assert problem is None, f"{slot} with {_short(value)}: {problem}"


# -- the CLI --------------------------------------------------------------------------------

#: strings a shell can pass (no NUL; lone surrogates only as undecodable bytes arrive)
CLI_ODD: tuple[str, ...] = (
    "",
    " ",
    "-1",
    "0",
    "1" + "0" * 30,
    "1e3",
    "nan",
    "inf",
    "\n",
    "a\nb.pdf",
    "\x1b[2J",
    "\x7f",
    "\udcff",
    "caf\udce9.pdf",
    "x" * 100_000,  # an argument may be at most 128 KiB on Linux
    "\u0663",
    "-",
    "a.pdf",
)


@dataclasses.dataclass(frozen=True)
class Command:
    """A command line with one `{}` where the odd value goes (`{batch}`: a real batch)."""

    provider: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        prefix = "" if self.provider == "-" else f"--provider {self.provider} "
        return prefix + " ".join(self.args)

    def argv(self, world: World, value: str) -> list[str]:
        batch = world.batch if self.provider == "aihub" else world.scale_batch
        out = []
        for arg in self.args:
            if arg == "{}":
                out.append(value)
            elif arg == "{batch}":
                out.append(batch)
            elif arg == "{file}":
                out.append(str(world.file))
            else:
                out.append(arg)
        if self.provider == "-":
            return out
        return ["--provider", self.provider, *out]


_BATCH_COMMANDS: list[tuple[str, ...]] = [
    ("batches", "create", "{}"),
    ("batches", "create", "n", "--project", "{}"),
    ("batches", "create", "n", "--callback", "{}"),
    ("batches", "list", "--project", "{}"),
    ("batches", "list", "--state", "{}"),
    ("batches", "list", "--limit", "{}"),
    ("batches", "get", "{}"),
    ("batches", "status", "{}"),
    ("batches", "finalize", "{}"),
    ("batches", "prioritize", "{}", "20"),
    ("batches", "prioritize", "{batch}", "{}"),
    ("batches", "delete", "{}"),
]
_FILE_COMMANDS: list[tuple[str, ...]] = [
    ("files", "upload", "{}", "{file}"),
    ("files", "upload", "{batch}", "{}"),
    ("files", "upload", "{batch}", "{file}", "--include", "{}"),
    ("files", "upload", "{batch}", "{file}", "--exclude", "{}"),
    ("files", "upload", "{batch}", "{file}", "--concurrency", "{}"),
    ("files", "list", "{}"),
    ("files", "download", "{batch}", "{}"),
    ("files", "download", "{batch}", "a.pdf", "-o", "{}"),
    ("--json", "files", "download", "{batch}", "a.pdf", "-o", "{}"),
    ("files", "download", "{batch}", "a.pdf", "--range", "{}"),
    ("files", "delete", "{}", "a.pdf"),
    ("files", "delete", "{batch}", "{}"),
]
CLI_COMMANDS: list[Command] = [
    *(Command(p, c) for p in ("aihub", "scale") for c in _BATCH_COMMANDS),
    Command("aihub", ("--json", "batches", "create", "{}")),
    Command("scale", ("--json", "batches", "create", "{}", "--project", "proj")),
    Command("scale", ("batches", "create", "{}", "--project", "proj")),
    *(Command("aihub", c) for c in _FILE_COMMANDS),
    Command("scale", ("projects", "create", "{}", "--type", "imageannotation")),
    Command("scale", ("projects", "create", "p", "--type", "{}")),
    Command("scale", ("projects", "create", "p", "--type", "t", "--instruction", "{}")),
    Command("-", ("--provider", "{}", "batches", "list")),
    Command("-", ("--profile", "{}", "batches", "list")),
    Command("-", ("--profile", "{}", "config", "show")),
    Command("-", ("--config", "{}", "--provider", "aihub", "batches", "list")),
    Command("-", ("--config", "{}", "config", "show")),
    Command("-", ("--provider", "aihub", "--api-root", "{}", "batches", "list")),
]

#: what a failing command may exit with: every batchkit code but 1 (an unexpected error)
_EXPECTED_CODES = {code for code in ExitCode if code is not ExitCode.ERROR}


@pytest.fixture
def cli_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Credentials in the environment; every connection through the recording transport."""
    monkeypatch.setenv("AIHUB_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIHUB_API_ROOT", AIHUB_ROOT)
    monkeypatch.setenv("SCALE_API_KEY", TOKEN)
    monkeypatch.setenv("SCALE_API_ROOT", SCALE_ROOT)
    real = cli_app.connect

    def recorded(*args: Any, **kwargs: Any) -> batchkit.BatchProvider:
        return real(*args, transport=REC.transport, **kwargs)

    monkeypatch.setattr(cli_app, "connect", recorded)
    return world


def cli_violation(result: Result) -> str | None:
    """What is wrong with how a command ended, or None."""
    code = result.exit_code
    sent = len(REC.requests)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        e = result.exception
        return f"raw {type(e).__name__} escaped: {str(e)[:160]!r}"
    stderr = result.stderr
    lines = stderr.strip().splitlines()
    if "Traceback" in result.output:
        return "printed a traceback"
    if code == 0:
        return None
    if code not in _EXPECTED_CODES:
        return f"exit {code}: {stderr.strip()[:200]!r}"
    usage = bool(lines) and lines[0].startswith("Usage:") and lines[-1].startswith("Error:")
    if not usage and not (1 == len(lines) and lines[0].startswith("error: ")):
        return f"exit {code} without one error line: {stderr[:200]!r}"
    if code == ExitCode.USAGE and sent:
        return f"exit 2 after sending {sent} request(s) {REC.lines[:2]}"
    if MALFORMED & set(_STATUSES):
        return f"the vendor refused what batchkit sent: {sorted(_STATUSES)}; {lines[-1][:160]!r}"
    return None


def _invoke(argv: list[str]) -> Result:
    _clear()
    return CliRunner().invoke(cli_app.cli, argv, prog_name="batchkit")


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=str)
def test_every_odd_argument_exits_with_a_batchkit_code_and_one_error_line(
    cli_env: World, command: Command
) -> None:
    """Each odd argument: exit 0, or a batchkit exit code (not 1) with one error line and no
    traceback; a usage error sends nothing, and nothing sent is refused as malformed."""
    problems = []
    for value in CLI_ODD:
        problem = cli_violation(_invoke(command.argv(cli_env, value)))
        if problem is not None:
            problems.append(f"  {_short(value)}: {problem}")
    assert [] == problems, f"batchkit {command}:\n" + "\n".join(problems)


_ARGV_CHARS = st.one_of(
    st.characters(exclude_characters="\x00"),
    st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF),  # undecodable argv bytes
)


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=str)
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure costs no extra time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=st.text(_ARGV_CHARS, max_size=16))
def test_generated_arguments_never_crash_the_cli(
    cli_env: World, command: Command, value: str
) -> None:
    """Generated arguments (any characters a shell can pass) obey the same rules."""
    assume(not _leaves_cwd(value))
    problem = cli_violation(_invoke(command.argv(cli_env, value)))
    assert problem is None, f"batchkit {command} with {_short(value)}: {problem}"


def test_the_tables_cover_every_neutral_operation_of_both_providers() -> None:
    """Every public method of BatchProvider (and the vendor extras) has a slot per provider."""
    names = {
        name
        for name in vars(batchkit.BatchProvider)
        if not name.startswith("_")
        and callable(getattr(batchkit.BatchProvider, name))
        and name not in {"close", "from_settings", "batch_id"}
    }
    extras = {
        "aihub": {"get_job", "fs_read", "fs_write", "fs_head", "fs_delete"},
        "scale": {"set_metadata", "create_project"},
    }
    for provider in ("aihub", "scale"):
        covered = {
            s.where.split(".", 1)[1].split("(", 1)[0]
            for s in LIB_SLOTS
            if s.where.startswith(f"{provider}.")
        }
        assert set() == (names | extras[provider]) - covered, provider
