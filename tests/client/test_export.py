"""Results to JSON Lines and CSV (`batchkit.write_results`)."""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import batchkit
from batchkit import InvalidInput, ItemState, Result

RESULTS = [
    Result("a.pdf", ItemState.COMPLETED, {"total": "12.50", "währung": "EUR"},
           raw={"documents": [1]}),
    Result("b,\"odd\".pdf", ItemState.FAILED, {}, error="unreadable page\nsecond line"),
]


def test_jsonl_is_one_object_per_result_and_raw_only_on_request(tmp_path: Path) -> None:
    """Each line is one result's item, state, error and output; `raw=True` adds the vendor's
    JSON; non-ASCII stays as is."""
    path = tmp_path / "out.jsonl"
    assert 2 == batchkit.write_results(RESULTS, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"item": "a.pdf", "state": "completed", "error": None,
         "output": {"total": "12.50", "währung": "EUR"}},
        {"item": 'b,"odd".pdf', "state": "failed", "error": "unreadable page\nsecond line",
         "output": {}},
    ]
    assert "währung" in lines[0]
    batchkit.write_results(RESULTS, path, raw=True)
    assert {"documents": [1]} == json.loads(path.read_text().splitlines()[0])["raw"]


def test_csv_quotes_what_needs_it_and_holds_the_output_as_json() -> None:
    """A header, then one row per result; commas, quotes and newlines survive a csv reader."""
    out = io.StringIO(newline="")
    batchkit.write_results(RESULTS, out, format="csv")
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert ["item", "state", "error", "output"] == rows[0]
    assert ['b,"odd".pdf', "failed", "unreadable page\nsecond line", "{}"] == rows[2]
    assert {"total": "12.50", "währung": "EUR"} == json.loads(rows[1][3])


def test_results_are_consumed_lazily() -> None:
    """A generator of results is written as it yields: nothing is read ahead."""
    pulled: list[str] = []

    def lazy() -> Iterator[Result]:
        for r in RESULTS:
            pulled.append(r.item)
            yield r

    out = io.StringIO()
    assert 2 == batchkit.write_results(lazy(), out)
    assert ["a.pdf", 'b,"odd".pdf'] == pulled


def test_a_failed_export_leaves_an_existing_file_untouched(tmp_path: Path) -> None:
    """Written atomically: results that fail half way leave the old file as it was."""
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")

    def broken() -> Iterator[Result]:
        yield RESULTS[0]
        raise batchkit.TransportError("connection lost", provider="aihub", operation="results")

    with pytest.raises(batchkit.TransportError):
        batchkit.write_results(broken(), path)
    assert "old\n" == path.read_text()
    assert [path] == list(tmp_path.iterdir())


def test_bad_arguments_are_refused() -> None:
    """An unknown format, a binary stream or a non-bool raw: InvalidInput."""
    with pytest.raises(InvalidInput, match="format"):
        batchkit.write_results(RESULTS, io.StringIO(), format="xml")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="text stream"):
        batchkit.write_results(RESULTS, io.BytesIO())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="raw"):
        batchkit.write_results(RESULTS, io.StringIO(), raw="yes")  # type: ignore[arg-type]
