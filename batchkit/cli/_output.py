"""Output helpers: consoles, JSON documents, human sizes, masking of secrets."""

from __future__ import annotations

import contextlib
import enum
import json
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import Capability, TaskCounts, UploadReport

#: width used when stdout is not a terminal and $COLUMNS is unset (rich would use 80)
PIPE_WIDTH = 160


def tolerant_stdout() -> None:
    """Let stdout print text that is not UTF-8 escaped instead of failing.

    A file name read from bytes that are not UTF-8 holds lone surrogates (``\udce9``);
    printing one to a strict UTF-8 stdout raises UnicodeEncodeError after the command's work
    is done. With ``backslashreplace`` it prints as ``\udce9``: readable, and inside a JSON
    string exactly the escape JSON uses for it.
    """
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is None or getattr(stream, "errors", None) != "strict":
        return
    with contextlib.suppress(Exception):  # a stream that cannot change: print as it is
        reconfigure(errors="backslashreplace")


def make_console() -> Console:
    """A console on the current stdout: rich on a terminal, plain and wide in a pipe."""
    tolerant_stdout()
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


def human_size(size: int | None) -> str:
    """Bytes as a short human string: 512 B, 1.5 kB, 10.5 MB (decimal units, like rich)."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def flag_names(flags: Capability) -> list[str]:
    """The names of the single flags set in `flags`, in declaration order."""
    return [flag.name for flag in flags if flag.name]


def cell(value: object) -> Text:
    """A table cell: the value as plain text (never rich markup), or a dash for nothing."""
    return Text("—" if value is None or value == "" else str(value))


def print_rows(console: Console, rows: Iterable[tuple[str, object]]) -> None:
    """Print ``key  value`` lines, the keys bold and aligned."""
    rows = list(rows)
    width = max((len(key) for key, _ in rows), default=0)
    for key, value in rows:
        line = Text.assemble((key.ljust(width), "bold"), "  ", cell(value))
        console.print(line, soft_wrap=True)


def when(value: datetime | None) -> str:
    """A timestamp for tables (ISO 8601, seconds), or a dash."""
    return value.isoformat(timespec="seconds") if value else "—"


def mask(value: object) -> str:
    """Hide a secret: ``****`` plus its last 2 characters when it is long, else ``****``."""
    text = str(value)
    return f"****{text[-2:]}" if len(text) >= 12 else "****"


_SECRET_HINTS = ("token", "key", "secret", "password", "credential")


def is_secret(setting: str, secret_settings: frozenset[str]) -> bool:
    """Whether a setting must be masked: declared secret, or named like one."""
    lowered = setting.lower()
    return setting in secret_settings or any(hint in lowered for hint in _SECRET_HINTS)


def to_jsonable(value: Any) -> Any:
    """Neutral models, enums, datetimes and containers as plain JSON values (no `raw`)."""
    if isinstance(value, TaskCounts):
        return {**attrs.asdict(value), "total": value.total}
    if isinstance(value, Capability):
        return flag_names(value)
    if isinstance(value, UploadReport):
        return {
            "batch_id": value.batch_id,
            "ok": value.ok,
            "uploaded": len(value.uploaded),
            "skipped": len(value.skipped),
            "failed": len(value.failed),
            "bytes_uploaded": value.bytes_uploaded,
            "files": [to_jsonable(f) for f in value.files],
        }
    if attrs.has(type(value)):  # Batch, BatchFile, BatchStatus, Job, Project, FileOutcome...
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if f.name != "raw"
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(document: Any) -> None:
    """Write one JSON document to stdout (``--json`` mode), newline-terminated."""
    tolerant_stdout()
    sys.stdout.write(json.dumps(to_jsonable(document), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def capability_table(matrix: Mapping[str, Capability]) -> Table:
    """The capability matrix as a table: rows = capabilities, columns = providers, ✓ or —."""
    table = Table(title="capabilities")
    table.add_column("capability")
    for name in matrix:
        table.add_column(name, justify="center")
    for flag in Capability:
        cells = ["✓" if flag in caps else "—" for caps in matrix.values()]
        table.add_row(flag.name or str(flag.value), *cells)
    return table
