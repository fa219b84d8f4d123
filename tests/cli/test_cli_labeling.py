"""The labeling loop from the `batchkit` command: `runs`, `results` and `tasks`, end to end
against the served emulator on both vendors."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import batchkit
from batchkit.cli import ExitCode
from batchkit.cli._runs import RunView, preview
from batchkit.emulator import Emulator
from batchkit.providers.aihub import AIHubProvider

try:
    from ._cli_helpers import (  # type: ignore[import-not-found,unused-ignore]
        assert_one_error_line,
        run,
        run_json,
    )
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    from _cli_helpers import (  # type: ignore[no-redef,unused-ignore]
        assert_one_error_line,
        run,
        run_json,
    )

GEOMETRIES = {"box": {"objects_to_annotate": ["cat"]}}


@pytest.fixture
def emu_env(served_emulator: Emulator, tenant: str, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Both providers' settings in the environment, pointing at the served emulator, with
    what processing means there: the AI Hub app `runs start` runs, and the Scale task type
    an uploaded file becomes (categorization needs no fields besides the attachment)."""
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    monkeypatch.setenv("AIHUB_APP", "batchkit-extractor")
    monkeypatch.setenv("SCALE_API_ROOT", served_emulator.scale_api_root)
    monkeypatch.setenv("SCALE_API_KEY", tenant)
    monkeypatch.setenv("SCALE_TASK_TYPE", "categorization")
    return served_emulator


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    """Three small text files, each naming itself on its first line."""
    root = tmp_path / "scans"
    root.mkdir()
    for i in range(1, 4):
        (root / f"invoice-{i}.txt").write_text(f"invoice {i}\ntotal {i}0.00 EUR\n")
    return root


NAMES = ["invoice-1.txt", "invoice-2.txt", "invoice-3.txt"]


def sent(emu: Emulator, tenant: str) -> int:
    """How many requests the tenant has sent so far."""
    return sum(1 for r in emu.requests if r.tenant == tenant)


def aihub_batch(name: str, scans: Path | None = None) -> str:
    """An AI Hub batch made from the command, with `scans` uploaded; its id."""
    batch_id: str = run_json("--provider", "aihub", "batches", "create", name)["id"]
    if scans is not None:
        assert 0 == run("--provider", "aihub", "files", "upload", batch_id, str(scans)).exit_code
    return batch_id


def scale_batch(name: str, *, type_: str = "categorization", studio: bool = True) -> str:
    """A Scale project and a batch in it, made from the command; the batch name. A Studio
    project's batch stays staging (never worked) until `runs start` finalizes it."""
    project = ["--provider", "scale", "projects", "create", f"{name}-p", "--type", type_]
    run_json(*project, *(["--studio"] if studio else []))
    run_json("--provider", "scale", "batches", "create", name, "--project", f"{name}-p")
    return name


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the loop, end to end ------------------------------------------------------------------


def test_aihub_loop_files_in_run_waited_for_results_out(
    emu_env: Emulator, scans: Path, tmp_path: Path
) -> None:
    """Upload, `runs start --wait` (plain progress lines in a pipe), `results export -o`:
    the file holds one completed result per file, with what the app read from it."""
    batch_id = aihub_batch("loop", scans)

    started = run("--provider", "aihub", "runs", "start", batch_id, "--wait")
    assert 0 == started.exit_code, started.output
    lines = started.stdout.splitlines()
    assert lines[0].startswith("started run ")
    run_id = lines[0].split()[2]
    assert f"run {run_id} of batch {batch_id}: completed" in started.stdout
    assert f"run       {run_id}" in lines
    assert "state     completed" in lines

    out = tmp_path / "results.jsonl"
    exported = run("--provider", "aihub", "results", "export", run_id, "-o", str(out))
    assert 0 == exported.exit_code, exported.output
    assert f"wrote 3 results of run {run_id} to {out}" in exported.stdout
    records = read_jsonl(out)
    assert NAMES == sorted(r["item"] for r in records)
    assert {"completed"} == {r["state"] for r in records}
    assert {None} == {r["error"] for r in records}
    first_lines = {r["item"]: r["output"]["first_line"] for r in records}
    assert {name: f"invoice {i}" for i, name in enumerate(NAMES, start=1)} == first_lines
    assert "raw" not in records[0]


def test_scale_loop_files_become_tasks_worked_then_exported_as_csv(
    emu_env: Emulator, scans: Path, tmp_path: Path
) -> None:
    """Scale: each uploaded file becomes a task; `runs start --wait` finalizes the staging
    batch and waits until every task is done (task counts in the run); `-o x.csv` writes CSV."""
    batch = scale_batch("cats-loop")
    assert 0 == run("--provider", "scale", "files", "upload", batch, str(scans)).exit_code

    final = run_json("--provider", "scale", "runs", "start", batch, "--wait")
    assert {"provider": "scale", "id": batch, "batch_id": batch, "state": "completed"}.items() <= (
        final.items()
    )
    assert {"pending": 0, "completed": 3, "error": 0, "canceled": 0, "total": 3} == final["counts"]

    out = tmp_path / "scale.csv"
    document = run_json("--provider", "scale", "results", "export", batch, "-o", str(out))
    assert {"run": batch, "path": str(out), "format": "csv", "results": 3} == document
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert NAMES == sorted(row["item"] for row in rows)
    assert {"completed"} == {row["state"] for row in rows}
    assert all("category" in json.loads(row["output"]) for row in rows)


def test_scale_start_with_wait_shows_task_counts_as_it_goes(
    emu_env: Emulator, scans: Path
) -> None:
    """In a pipe, `runs start --wait` prints one line per change of the run, with counts."""
    batch = scale_batch("cats-lines")
    assert 0 == run("--provider", "scale", "files", "upload", batch, str(scans)).exit_code
    result = run("--provider", "scale", "runs", "start", batch, "--wait")
    assert 0 == result.exit_code, result.output
    assert f"started run {batch} on batch {batch}; waiting" in result.stdout
    assert (
        f"run {batch} of batch {batch}: completed; tasks: 0 pending, 3 completed, 0 error, "
        "0 canceled (3 total)"
    ) in result.stdout
    assert "tasks     0 pending, 3 completed, 0 error, 0 canceled (3 total)" in result.stdout


def test_batches_wait_follows_a_scale_batch_started_elsewhere_until_its_tasks_are_done(
    emu_env: Emulator, scans: Path
) -> None:
    """`batches wait` is the shell's way to block on a batch's work: started with `batches
    finalize` (no run in hand), it returns once every task is done, with the counts."""
    batch = scale_batch("cats-batch-wait")
    assert 0 == run("--provider", "scale", "files", "upload", batch, str(scans)).exit_code
    assert 0 == run("--provider", "scale", "batches", "finalize", batch).exit_code
    final = run_json("--provider", "scale", "batches", "wait", batch, "--timeout", "60")
    assert ("completed", batch) == (final["state"], final["batch_id"])
    assert {"pending": 0, "completed": 3, "error": 0, "canceled": 0, "total": 3} == final["counts"]


def test_batches_wait_that_times_out_says_to_wait_on_the_batch_again(
    emu_env: Emulator, tenant: str
) -> None:
    """A staging batch no one finalized is never worked: the wait times out (exit 3) and the
    line gives `batches wait` again, not `runs wait`."""
    batch = scale_batch("never-batch", type_="imageannotation")
    fields = json.dumps({"geometries": GEOMETRIES})
    run_json("--provider", "scale", "tasks", "add", batch, "--type", "imageannotation",
             "--attachment", "https://example.com/1.png", "--fields", fields)
    result = run("--provider", "scale", "batches", "wait", batch, "--timeout", "0.05")
    line = assert_one_error_line(result, ExitCode.PROVIDER)
    assert f"wait again with `batchkit --provider scale batches wait {batch}`" in line


def test_batches_wait_on_ai_hub_says_to_wait_for_a_run_and_sends_nothing(
    emu_env: Emulator, tenant: str
) -> None:
    """AI Hub batches have no progress of their own: exit 5, naming the commands that wait
    for the run that processes the batch, before any request."""
    line = assert_one_error_line(
        run("--provider", "aihub", "batches", "wait", "42"), ExitCode.UNSUPPORTED
    )
    assert "aihub does not support batches wait; it works with --provider scale" in line
    assert "aihub batches have no progress of their own" in line
    assert "`batchkit runs start 42 --wait`" in line
    assert 0 == sent(emu_env, tenant)


# -- runs and results, one command at a time -----------------------------------------------


def test_start_then_status_wait_and_results_as_json(emu_env: Emulator, scans: Path) -> None:
    """`runs start` returns at once with the run; `status` polls once; `wait` returns the
    completed run; `results show --json` lists {item, state, error, output}."""
    batch_id = aihub_batch("steps", scans)
    started = run_json("--provider", "aihub", "runs", "start", batch_id)
    run_id = started["id"]
    assert {"provider": "aihub", "batch_id": batch_id, "counts": None}.items() <= started.items()
    assert started["state"] in {"running", "completed"}

    status = run_json("--provider", "aihub", "runs", "status", run_id)
    assert (run_id, batch_id) == (status["id"], status["batch_id"])
    waited = run_json("--provider", "aihub", "runs", "wait", run_id, "--timeout", "60")
    assert "completed" == waited["state"]

    shown = run_json("--provider", "aihub", "results", "show", run_id)
    assert NAMES == sorted(r["item"] for r in shown)
    assert {"item", "state", "error", "output"} == set(shown[0])
    assert 1 == len(run_json("--provider", "aihub", "results", "show", run_id, "--limit", "1"))


def test_start_without_wait_says_how_to_follow_the_run(emu_env: Emulator, scans: Path) -> None:
    """The human output of `runs start` ends with the command that waits for the run."""
    batch_id = aihub_batch("follow", scans)
    result = run("--provider", "aihub", "runs", "start", batch_id, "--app", "batchkit-extractor")
    assert 0 == result.exit_code, result.output
    run_id = result.stdout.split()[2]
    assert f"follow it: batchkit --provider aihub runs wait {run_id}" in result.stdout


def test_results_show_prints_a_table_with_an_output_preview(
    emu_env: Emulator, scans: Path
) -> None:
    """`results show`: item, state, error, a short preview of the output; --limit says so
    when there are more."""
    batch_id = aihub_batch("table", scans)
    run_id = run_json("--provider", "aihub", "runs", "start", batch_id, "--wait")["id"]
    table = run("--provider", "aihub", "results", "show", run_id)
    assert 0 == table.exit_code, table.output
    header = next(line for line in table.stdout.splitlines() if "item" in line)
    assert ["item", "state", "error", "output"] == header.replace("┃", " ").split()
    assert "file_name=invoice-2.txt" in table.stdout
    assert "3 results: 3 completed" in table.stdout
    limited = run("--provider", "aihub", "results", "show", run_id, "--limit", "2")
    assert "2 results: 2 completed (the first 2; there are more)" in limited.stdout


def test_results_export_to_stdout_as_jsonl_csv_and_raw(emu_env: Emulator, scans: Path) -> None:
    """Without -o the results go to stdout: JSON Lines (with --raw, the vendor's JSON too)
    or CSV."""
    batch_id = aihub_batch("stdout", scans)
    run_id = run_json("--provider", "aihub", "runs", "start", batch_id, "--wait")["id"]

    jsonl = run("--provider", "aihub", "results", "export", run_id)
    assert 0 == jsonl.exit_code, jsonl.output
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert NAMES == sorted(r["item"] for r in records)
    assert "" == jsonl.stderr

    raw = run("--provider", "aihub", "results", "export", run_id, "--raw", "-o", "-")
    assert all("raw" in json.loads(line) for line in raw.stdout.splitlines())

    as_csv = run("--provider", "aihub", "results", "export", run_id, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert NAMES == sorted(row["item"] for row in rows)


def test_results_export_into_a_directory_names_the_file(
    emu_env: Emulator, scans: Path, tmp_path: Path
) -> None:
    """`-o DIR` writes DIR/results.jsonl (or .csv with --format csv)."""
    batch_id = aihub_batch("into-dir", scans)
    run_id = run_json("--provider", "aihub", "runs", "start", batch_id, "--wait")["id"]
    into = tmp_path / "out"
    into.mkdir()
    document = run_json(
        "--provider", "aihub", "results", "export", run_id, "-o", str(into), "--format", "csv"
    )
    assert str(into / "results.csv") == document["path"]
    assert (into / "results.csv").read_text(encoding="utf-8").startswith("item,state,error,output")


def test_results_of_a_run_still_going_warn_on_stderr(emu_env: Emulator, tenant: str) -> None:
    """Results of a run not completed are shown (Scale: pending tasks), with a warning line
    on stderr that says how to wait; the exit status is 0."""
    batch = scale_batch("staged", type_="imageannotation")
    fields = json.dumps({"geometries": GEOMETRIES})
    run_json("--provider", "scale", "tasks", "add", batch, "--type", "imageannotation",
             "--attachment", "https://example.com/1.png", "--fields", fields)
    result = run("--provider", "scale", "--json", "results", "show", batch)
    assert 0 == result.exit_code, result.output
    assert ["pending"] == [r["state"] for r in json.loads(result.stdout)]
    assert result.stderr.startswith(f"warning: run {batch} is running, not completed")
    assert f"batchkit --provider scale runs wait {batch}" in result.stderr


# -- failures and their exit codes ---------------------------------------------------------


def test_a_failed_run_exits_3_with_its_message(emu_env: Emulator, scans: Path) -> None:
    """A run that fails: `runs start --wait` exits 3 with the vendor's message; with --json
    the failed run is printed first, so a script still has its id."""
    batch_id = aihub_batch("fails", scans)
    line = assert_one_error_line(
        run("--provider", "aihub", "runs", "start", batch_id, "--app", "batchkit-fail", "--wait"),
        ExitCode.PROVIDER,
    )
    assert "ended failed" in line
    assert "this emulator app fails every run" in line

    started = run_json("--provider", "aihub", "runs", "start", batch_id, "--app", "batchkit-fail")
    waited = run("--json", "--provider", "aihub", "runs", "wait", started["id"])
    assert_one_error_line(waited, ExitCode.PROVIDER)
    assert {"id": started["id"], "state": "failed"}.items() <= json.loads(waited.stdout).items()


def test_a_wait_that_times_out_exits_3_and_says_how_to_go_on(
    emu_env: Emulator, tenant: str
) -> None:
    """A staging Scale batch is never worked until started: waiting for it times out (exit 3),
    and the line gives the command that waits again; with --json the last state comes first."""
    batch = scale_batch("never", type_="imageannotation")
    fields = json.dumps({"geometries": GEOMETRIES})
    run_json("--provider", "scale", "tasks", "add", batch, "--type", "imageannotation",
             "--attachment", "https://example.com/1.png", "--fields", fields)
    result = run("--json", "--provider", "scale", "runs", "wait", batch, "--timeout", "0.05")
    line = assert_one_error_line(result, ExitCode.PROVIDER)
    assert f"scale run {batch} of batch {batch} still running after 0.05s" in line
    assert f"wait again with `batchkit --provider scale runs wait {batch}`" in line
    assert "provider.wait" not in line
    document = json.loads(result.stdout)
    assert ("running", 1) == (document["state"], document["counts"]["pending"])


def test_ctrl_c_while_waiting_exits_130_and_says_the_run_goes_on(
    emu_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C stops the waiting, not the run: exit 130, a line with the command that waits
    again, and with --json the last state seen."""
    seen = batchkit.Run(provider="aihub", id="r-1", batch_id="7")

    def interrupted(self: object, run: object, *, timeout: float, on_update: Any) -> None:
        on_update(seen)
        raise KeyboardInterrupt

    monkeypatch.setattr(AIHubProvider, "wait", interrupted)
    result = run("--json", "--provider", "aihub", "runs", "wait", "r-1")
    line = assert_one_error_line(result, ExitCode.INTERRUPTED)
    assert "stopped waiting for run r-1; it goes on: `batchkit --provider aihub runs wait r-1`" in (
        line
    )
    assert {"id": "r-1", "batch_id": "7", "state": "running"}.items() <= json.loads(
        result.stdout
    ).items()


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "aihub", "runs", "status", "00000000-0000-4000-8000-000000000000"],
        ["--provider", "aihub", "runs", "wait", "00000000-0000-4000-8000-000000000000"],
        ["--provider", "aihub", "results", "show", "00000000-0000-4000-8000-000000000000"],
        ["--provider", "scale", "runs", "status", "no-such-batch"],
        ["--provider", "scale", "runs", "wait", "no-such-batch"],
        ["--provider", "scale", "results", "show", "no-such-batch"],
    ],
    ids=lambda args: f"{args[1]}-{args[2]}-{args[3]}",
)
def test_an_unknown_run_exits_3(emu_env: Emulator, args: list[str]) -> None:
    """A run (AI Hub) or batch (Scale) that does not exist is the vendor's 404: exit 3."""
    assert "404" in assert_one_error_line(run(*args), ExitCode.PROVIDER)


def test_exporting_an_unknown_run_to_a_file_leaves_no_file(
    emu_env: Emulator, tmp_path: Path
) -> None:
    """The export fails (exit 3) and nothing is written where -o pointed."""
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "never.jsonl"
    line = assert_one_error_line(
        run("--provider", "scale", "results", "export", "no-such-batch", "-o", str(out)),
        ExitCode.PROVIDER,
    )
    assert "no-such-batch" in line
    assert [] == list(exports.iterdir())  # not the file, nor a temporary one


def test_starting_an_empty_batch_exits_2_on_both_vendors(emu_env: Emulator) -> None:
    """EmptyBatch: an AI Hub batch without files, a Scale batch without tasks."""
    batch_id = aihub_batch("empty")
    line = assert_one_error_line(
        run("--provider", "aihub", "runs", "start", batch_id), ExitCode.USAGE
    )
    assert "has no files" in line
    batch = scale_batch("empty-cats")
    line = assert_one_error_line(
        run("--provider", "scale", "runs", "start", batch, "--wait"), ExitCode.USAGE
    )
    assert "has no tasks" in line


def test_runs_start_without_an_app_says_how_to_name_one(
    emu_env: Emulator, monkeypatch: pytest.MonkeyPatch, tenant: str
) -> None:
    """No --app and no app setting: a usage error before the run is sent."""
    monkeypatch.delenv("AIHUB_APP")
    batch_id = aihub_batch("no-app")
    before = sent(emu_env, tenant)
    line = assert_one_error_line(
        run("--provider", "aihub", "runs", "start", batch_id), ExitCode.USAGE
    )
    assert "AIHUB_APP" in line
    assert before == sent(emu_env, tenant)


# -- tasks (Scale) -------------------------------------------------------------------------


def test_tasks_add_list_get_and_cancel(emu_env: Emulator, tmp_path: Path) -> None:
    """One task per --attachment and per JSON Lines line; a rerun adds none twice; list
    filters by state; get shows one; cancel --clear-unique-id frees its unique_id."""
    batch = scale_batch("boxes", type_="imageannotation")
    fields = json.dumps({"geometries": GEOMETRIES})
    add = ["--provider", "scale", "tasks", "add", batch, "--type", "imageannotation",
           "--attachment", "https://example.com/1.png", "--attachment",
           "https://example.com/2.png", "--fields", fields]
    added = run_json(*add)
    assert 2 == len(added)
    assert {("pending", "imageannotation", batch)} == {
        (t["state"], t["type"], t["batch_id"]) for t in added
    }
    assert [t["id"] for t in added] == [t["id"] for t in run_json(*add)]  # idempotent

    lines = tmp_path / "tasks.jsonl"
    lines.write_text(
        json.dumps({"fields": {"attachment": "https://example.com/3.png"}, "unique_id": "cat-3",
                    "metadata": {"shelf": "A"}})
        + "\n\n"
        + json.dumps({"type": "imageannotation", "fields": {
            "attachment": "https://example.com/4.png", "instruction": "Box it"}})
        + "\n",
        encoding="utf-8",
    )
    from_file = run_json("--provider", "scale", "tasks", "add", batch, "--type",
                         "imageannotation", "--from-jsonl", str(lines), "--fields", fields)
    assert 2 == len(from_file)
    assert "cat-3" == from_file[0]["unique_id"]
    assert from_file[1]["unique_id"] not in (None, "cat-3")  # derived: a rerun adds it once
    assert {"shelf": "A"} == from_file[0]["metadata"]

    listed = run_json("--provider", "scale", "tasks", "list", batch)
    assert 4 == len(listed)
    assert 2 == len(run_json("--provider", "scale", "tasks", "list", batch, "--limit", "2"))
    human = run("--provider", "scale", "tasks", "list", batch, "--state", "pending")
    assert "4 tasks" in human.stdout
    assert "cat-3" in human.stdout

    task_id = from_file[0]["id"]
    got = run_json("--provider", "scale", "tasks", "get", task_id)
    assert {"id": task_id, "unique_id": "cat-3", "state": "pending"}.items() <= got.items()
    shown = run("--provider", "scale", "tasks", "get", task_id)
    assert '{"shelf": "A"}' in shown.stdout

    canceled = run_json("--provider", "scale", "tasks", "cancel", task_id, "--clear-unique-id")
    assert ("canceled", None) == (canceled["state"], canceled["unique_id"])
    in_state = run_json("--provider", "scale", "tasks", "list", batch, "--state", "canceled")
    assert [task_id] == [t["id"] for t in in_state]


def test_tasks_list_filters_by_tag_and_time(emu_env: Emulator) -> None:
    """`--tag` (repeatable: any) and the ISO 8601 time bounds go to the server; a bound in
    the future finds nothing, one in the past finds everything; a bad time exits 2."""
    batch = scale_batch("tagged", type_="imageannotation")
    lines = "".join(
        json.dumps({"fields": {"attachment": f"https://example.com/{i}.png", "tags": tags,
                               "geometries": GEOMETRIES}}) + "\n"
        for i, tags in enumerate([["cat"], ["dog"], []])
    )
    result = run("--json", "--provider", "scale", "tasks", "add", batch, "--type",
                 "imageannotation", "--from-jsonl", "-", input=lines)
    assert 0 == result.exit_code, result.output

    def listed(*args: str) -> int:
        return len(run_json("--provider", "scale", "tasks", "list", batch, *args))

    assert (1, 2) == (listed("--tag", "cat"), listed("--tag", "cat", "--tag", "dog"))
    assert 3 == listed("--created-after", "2000-01-01")
    assert 0 == listed("--created-after", "2999-01-01T00:00:00Z")
    assert 0 == listed("--completed-after", "2000-01-01T00:00:00+01:00")  # none completed
    bad = run("--provider", "scale", "tasks", "list", batch, "--created-after", "yesterday")
    assert 2 == bad.exit_code
    assert "not an ISO 8601 date" in bad.output


def test_files_upload_of_urls_on_scale_makes_tasks_and_on_ai_hub_exits_5(
    emu_env: Emulator, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL argument reaches the library as given (not as a path): Scale imports it and
    makes its task; AI Hub (without fsspec to stream it) exits 5 naming Scale, before any
    request."""
    batch = scale_batch("urls")
    url = "https://cdn.example.com/scans/cat.png"
    document = run_json("--provider", "scale", "files", "upload", batch, url)
    assert 1 == document["uploaded"], document
    tasks = run_json("--provider", "scale", "tasks", "list", batch)
    assert ["cat.png"] == [t["metadata"]["batchkit_item"] for t in tasks]
    monkeypatch.setitem(sys.modules, "fsspec", None)  # else AI Hub's upload streams it
    before = sent(emu_env, tenant)
    line = assert_one_error_line(
        run("--provider", "aihub", "files", "upload", "1", url), ExitCode.UNSUPPORTED
    )
    assert "it works with --provider scale" in line
    assert "download the files and upload them from disk" in line
    assert before == sent(emu_env, tenant)


def test_tasks_from_stdin(emu_env: Emulator) -> None:
    """`--from-jsonl -` reads the tasks from stdin."""
    batch = scale_batch("piped", studio=False)
    line = json.dumps({"fields": {"attachment": "https://example.com/a.png"}})
    result = run("--json", "--provider", "scale", "tasks", "add", batch, "--type",
                 "categorization", "--from-jsonl", "-", input=line + "\n")
    assert 0 == result.exit_code, result.output
    assert 1 == len(json.loads(result.stdout))


@pytest.mark.parametrize(
    "args",
    [
        ["tasks", "add", "1", "--type", "x", "--attachment", "https://example.com/a.png"],
        ["tasks", "list", "1"],
        ["tasks", "get", "t1"],
        ["tasks", "cancel", "t1"],
    ],
    ids=lambda args: args[1],
)
def test_tasks_on_ai_hub_exit_5_naming_scale_and_send_nothing(
    emu_env: Emulator, tenant: str, args: list[str]
) -> None:
    line = assert_one_error_line(run("--provider", "aihub", *args), ExitCode.UNSUPPORTED)
    assert "aihub does not support" in line
    assert "--provider scale" in line
    assert 0 == sent(emu_env, tenant)


def test_tasks_add_from_a_bad_file_names_every_bad_line_and_sends_nothing(
    emu_env: Emulator, tenant: str, tmp_path: Path
) -> None:
    batch = scale_batch("bad-lines")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"fields": {"attachment": "https://example.com/ok.png"}}\n'
        "not json\n"
        '{"fields": 3}\n'
        '{"fields": {"batch": "other"}}\n'
        '{"fields": {}, "priority": 1}\n'
        '["a list"]\n',
        encoding="utf-8",
    )
    before = sent(emu_env, tenant)
    line = assert_one_error_line(
        run("--provider", "scale", "tasks", "add", batch, "--type", "categorization",
            "--from-jsonl", str(bad)),
        ExitCode.USAGE,
    )
    assert "5 line(s) of" in line
    for number in (2, 3, 4, 5, 6):
        assert f"line {number}: " in line
    assert "line 1: " not in line
    assert "nothing was sent" in line
    assert before == sent(emu_env, tenant)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--provider", "aihub", "runs", "start", "1", "--app", "a", "--deployment", "d"],
         "not both"),
        (["--provider", "aihub", "runs", "start", "1", "--timeout", "5"], "--timeout goes with"),
        (["--provider", "aihub", "runs", "wait", "r", "--timeout", "0"], "--timeout"),
        (["--provider", "aihub", "runs", "status", "a/b"], "single name"),
        (["--provider", "scale", "runs", "start", "b", "--app", "x"], "drop app="),
        (["--provider", "aihub", "results", "export", "r", "--raw", "--format", "csv"],
         "--raw goes with"),
        (["--provider", "aihub", "results", "export", "r", "--format", "xml"], "xml"),
        (["--provider", "aihub", "results", "export", "r", "-o", "no/such/dir/x.jsonl"],
         "does not exist"),
        (["--provider", "aihub", "results", "show", "r", "--limit", "0"], "--limit"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t"], "--attachment URL"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--from-jsonl", "-"], "--from-jsonl FILE"),
        (["--provider", "scale", "tasks", "add", "b", "--attachment", "u"], "needs --type"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--fields", "{nope"], "not JSON"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--fields", "[1]"], "JSON object"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--fields", '{"batch": "x"}'], "['batch']"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--fields", '{"attachment": "v"}'], "sets attachment"),
        (["--provider", "scale", "tasks", "add", "b", "--type", "t", "--attachment", "u",
          "--attachment", "u"], "more than once"),
        (["--provider", "scale", "tasks", "add", "b", "--from-jsonl", "no-such.jsonl"],
         "does not exist"),
        (["--provider", "scale", "tasks", "list", "b", "--state", "done"], "done"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    emu_env: Emulator, tenant: str, args: list[str], says: str
) -> None:
    """Bad options, values and inputs are usage errors found before any request."""
    result = run(*args)
    assert ExitCode.USAGE == result.exit_code, result.output
    assert says in result.stderr
    assert "Traceback" not in result.output
    assert 0 == sent(emu_env, tenant)


def test_an_empty_task_file_is_a_usage_error(emu_env: Emulator, tenant: str) -> None:
    result = run("--provider", "scale", "tasks", "add", "b", "--type", "t", "--from-jsonl", "-",
                 input="\n  \n")
    assert "has no tasks" in assert_one_error_line(result, ExitCode.USAGE)
    assert 0 == sent(emu_env, tenant)


# -- the progress display -----------------------------------------------------------------


def _run(state: batchkit.RunState, pending: int, completed: int) -> batchkit.Run:
    return batchkit.Run(
        provider="scale",
        id="cats-1",
        batch_id="cats-1",
        state=state,
        counts=batchkit.TaskCounts(pending=pending, completed=completed),
    )


def test_run_view_draws_a_live_line_with_task_counts_on_a_terminal() -> None:
    """On a terminal: one live line with the state and a bar of tasks done, not a line each."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with RunView(console) as view:
        view(_run(batchkit.RunState.RUNNING, 3, 1))
        view(_run(batchkit.RunState.COMPLETED, 0, 4))
    rendered = out.getvalue()
    assert "run cats-1: completed" in rendered
    assert "4/4 tasks" in rendered
    assert "of batch" not in rendered


def test_run_view_prints_a_line_per_change_in_a_pipe_and_nothing_when_quiet() -> None:
    out = io.StringIO()
    with RunView(Console(file=out, width=200)) as view:
        view(_run(batchkit.RunState.RUNNING, 3, 1))
    assert (
        "run cats-1 of batch cats-1: running; tasks: 3 pending, 1 completed, 0 error, "
        "0 canceled (4 total)\n"
    ) == out.getvalue()
    quiet = io.StringIO()
    with RunView(Console(file=quiet, force_terminal=True), quiet=True) as view:
        view(_run(batchkit.RunState.RUNNING, 3, 1))
    assert "" == quiet.getvalue()
    assert view.last is not None


def test_preview_is_one_short_line() -> None:
    assert "" == preview({})
    assert 'a=x, b={"c": [1, 2]}' == preview({"a": "x", "b": {"c": [1, 2]}})
    long = preview({"text": "word " * 40})
    assert 60 == len(long)
    assert long.endswith("…")
    assert "\n" not in preview({"t": "two\nlines"})


def test_files_download_all_mirrors_the_batch_and_a_rerun_skips(
    emu_env: Emulator, tmp_path: Path
) -> None:
    """`files download BATCH --all -o DIR`: every file, byte-exact; a second run downloads
    nothing; --json gives the report; --range with --all is a usage error (exit 2); the
    folder may be given as an argument instead of -o."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(3):
        (scans / f"s{i}.txt").write_bytes(f"scan {i}\n".encode())
    batch = run_json("--provider", "aihub", "batches", "create", "mirror")
    assert 0 == run("--provider", "aihub", "files", "upload", batch["id"], str(scans)).exit_code
    out = tmp_path / "out"
    first = run("--provider", "aihub", "files", "download", batch["id"], "--all", "-o", str(out))
    assert 0 == first.exit_code, first.output
    assert "3 downloaded, 0 already there, 0 failed" in first.output
    assert {p.name: p.read_bytes() for p in scans.iterdir()} == {
        p.name: p.read_bytes() for p in out.iterdir()
    }
    again = run_json("--provider", "aihub", "files", "download", batch["id"], "--all",
                     "-o", str(out))
    assert (3, 0) == (len([f for f in again["files"] if f["status"] == "skipped"]),
                      len([f for f in again["files"] if f["status"] == "downloaded"]))
    wrong = run("--provider", "aihub", "files", "download", batch["id"], "--all", "--range",
                "0-1")
    assert ExitCode.USAGE == wrong.exit_code
    into = run("--provider", "aihub", "files", "download", "--all", batch["id"],
               str(tmp_path / "positional"))
    assert 0 == into.exit_code, into.output
    assert sorted(p.name for p in scans.iterdir()) == sorted(
        p.name for p in (tmp_path / "positional").iterdir()
    )
