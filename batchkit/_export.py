"""Results to files: JSON Lines or CSV, streamed (results are read lazily, page by page)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from typing import IO, Any, Literal

from ._destinations import atomic_file, target_path
from ._errors import InvalidInput
from ._models import Result

#: what `write_results` writes
ExportFormat = Literal["jsonl", "csv"]

#: the CSV columns; `output` holds the item's output as JSON (its keys differ by vendor and
#: app, and a column per key would need every result read before the first row)
CSV_COLUMNS = ("item", "state", "error", "output")


def _record(result: Result, *, raw: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        "item": result.item,
        "state": result.state.value,
        "error": result.error,
        "output": dict(result.output),
    }
    if raw:
        record["raw"] = dict(result.raw)
    return record


def write_results(
    results: Iterable[Result],
    dest: str | os.PathLike[str] | IO[str],
    *,
    format: ExportFormat = "jsonl",
    raw: bool = False,
) -> int:
    """Write `results` to `dest` (a path, written atomically, or a text stream) as JSON Lines
    (one object per result: `item`, `state`, `error`, `output`, and with `raw=True` the
    vendor's JSON) or CSV (`item,state,error,output`, the output as JSON). Returns how many
    results were written. Results are consumed as they come, so memory stays flat."""
    if format not in ("jsonl", "csv"):
        raise InvalidInput(f"format must be 'jsonl' or 'csv', got {format!r}")
    if not isinstance(raw, bool):
        raise InvalidInput(f"raw must be True or False, got {raw!r}")
    if isinstance(dest, str | os.PathLike):
        path = target_path(dest, f"results.{format}")
        with atomic_file(path) as binary:
            text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
            try:
                return _write(results, text, format, raw)
            finally:
                text.flush()
                text.detach()
    if not callable(getattr(dest, "write", None)) or isinstance(dest, io.BufferedIOBase):
        raise InvalidInput(
            f"cannot write results into a {type(dest).__name__}: pass a path or a text stream "
            "(open(..., 'w', newline=''))"
        )
    return _write(results, dest, format, raw)


def _write(results: Iterable[Result], out: IO[str], format: str, raw: bool) -> int:
    count = 0
    if format == "jsonl":
        for result in results:
            out.write(json.dumps(_record(result, raw=raw), ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for result in results:
        record = _record(result, raw=False)
        writer.writerow(
            [
                record["item"],
                record["state"],
                record["error"] or "",
                json.dumps(record["output"], ensure_ascii=False, sort_keys=True),
            ]
        )
        count += 1
    return count
