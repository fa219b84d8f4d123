"""The `batchkit` command, end to end against a served emulator."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import batchkit
from batchkit.cli import EXIT_CODES, MISSING_EXTRA, ExitCode, main
from batchkit.cli._demo import run_demo
from batchkit.cli._progress import UploadView
from batchkit.emulator import Emulator, Fault, Faults
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


@pytest.fixture
def emu_env(served_emulator: Emulator, tenant: str, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """Both providers' settings in the environment, pointing at the served emulator."""
    monkeypatch.setenv("AIHUB_API_ROOT", served_emulator.aihub_api_root)
    monkeypatch.setenv("AIHUB_API_TOKEN", tenant)
    monkeypatch.setenv("SCALE_API_ROOT", served_emulator.scale_api_root)
    monkeypatch.setenv("SCALE_API_KEY", tenant)
    return served_emulator


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A directory to upload: three text files, one PDF in a subdirectory, a hidden file."""
    root = tmp_path / "scans"
    (root / "sub").mkdir(parents=True)
    for i in range(1, 4):
        (root / f"doc-{i}.txt").write_bytes(b"x" * (100 * i))
    (root / "sub" / "form.pdf").write_bytes(b"%PDF-1.4 demo")
    (root / ".hidden").write_bytes(b"never uploaded")
    return root


def aihub(emu: Emulator, tenant: str) -> batchkit.BatchProvider:
    """The library's own view of the tenant's AI Hub state."""
    return batchkit.connect("aihub", api_root=emu.aihub_api_root, token=tenant)


# -- packaging ----------------------------------------------------------------------------


def test_importing_batchkit_does_not_import_click_or_rich() -> None:
    """`import batchkit` (and `batchkit.cli`) stays light: click and rich load only in main()."""
    code = "import sys, batchkit, batchkit.cli; print(sorted({'click', 'rich'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "[]" == out.stdout.strip()


def test_main_without_the_cli_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without click installed, main() prints the pip command and exits 2."""
    monkeypatch.setitem(sys.modules, "click", None)
    with pytest.raises(SystemExit) as exited:
        main(["providers"])
    assert ExitCode.USAGE == exited.value.code
    assert MISSING_EXTRA + "\n" == capsys.readouterr().err


def test_help_epilog_lists_every_exit_code() -> None:
    """`batchkit --help` documents the exit codes."""
    result = run("--help")
    assert 0 == result.exit_code
    for code, meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", result.stdout, re.M), code


# -- providers and config -----------------------------------------------------------------


def test_providers_table_shows_every_capability_for_both_providers() -> None:
    """`batchkit providers` prints the matrix: one row per capability, a column per provider."""
    result = run("providers")
    assert 0 == result.exit_code
    header = next(line for line in result.stdout.splitlines() if "capability" in line)
    assert "aihub" in header
    assert "scale" in header
    listing_row = next(line for line in result.stdout.splitlines() if "LIST_FILES" in line)
    assert ["✓", "—"] == re.findall("[✓—]", listing_row)
    for flag in batchkit.Capability:
        assert str(flag.name) in result.stdout


def test_providers_json_maps_each_provider_to_its_flag_names() -> None:
    """`--json providers` (or `providers --json`) gives {provider: [flag names]}."""
    document = run_json("providers")
    assert "FINALIZE" in document["scale"]
    assert "DOWNLOAD_FILES" in document["aihub"]
    assert "DOWNLOAD_FILES" not in document["scale"]
    after = run("providers", "--json")
    assert document == json.loads(after.stdout)


def test_config_show_masks_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`config show` says where each setting came from and never prints the token."""
    token = "aihub-secret-token-0123456789"
    monkeypatch.setenv("AIHUB_API_TOKEN", token)
    result = run("--provider", "aihub", "--api-root", "http://127.0.0.1:9/api", "config", "show")
    assert 0 == result.exit_code, result.output
    assert token not in result.output
    assert "****89" in result.stdout
    assert "$AIHUB_API_TOKEN" in result.stdout
    assert "--api-root" in result.stdout


def test_config_show_reports_an_unset_secret_variable_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config show` is how you find out that `api_key_env`'s variable is missing; connecting
    with that profile still fails with a ConfigError naming it."""
    monkeypatch.delenv("MY_MISSING_KEY", raising=False)
    config = tmp_path / "team.toml"
    config.write_text(
        '[profiles.labeling]\nprovider = "scale"\napi_key_env = "MY_MISSING_KEY"\n',
        encoding="utf-8",
    )
    shown = run("--config", str(config), "--profile", "labeling", "--json", "config", "show")
    assert 0 == shown.exit_code, shown.output
    document = json.loads(shown.stdout)
    assert document["settings"]["api_key"] is None
    assert "MY_MISSING_KEY" in document["sources"]["api_key"]
    assert "NOT SET" in document["sources"]["api_key"]
    failed = run("--config", str(config), "--profile", "labeling", "batches", "list")
    assert "MY_MISSING_KEY" in assert_one_error_line(failed, 2)


def test_config_show_json_masks_a_profile_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile's key read through `api_key_env` is masked in the JSON document too."""
    key = "live_scale_key_abcdefghijkl"
    monkeypatch.setenv("MY_SCALE_KEY", key)
    config = tmp_path / "team.toml"
    config.write_text(
        'default_profile = "labeling"\n'
        "[profiles.labeling]\n"
        'provider = "scale"\n'
        'api_key_env = "MY_SCALE_KEY"\n'
        "retry_attempts = 2\n",
        encoding="utf-8",
    )
    result = run("--config", str(config), "--json", "config", "show")
    assert 0 == result.exit_code, result.output
    assert key not in result.output
    document = json.loads(result.stdout)
    assert {
        "provider": "scale",
        "profile": "labeling",
        "config_file": str(config),
        "settings": {"api_key": "****kl", "retry_attempts": 2},
        "sources": {"api_key": "profile $MY_SCALE_KEY", "retry_attempts": "profile"},
    } == document


def test_config_errors_exit_2_with_one_line() -> None:
    """No provider chosen is a configuration error: exit 2, one line naming the options."""
    line = assert_one_error_line(run("batches", "list"), ExitCode.USAGE)
    assert "--provider" in line


def test_unknown_profile_exits_2(tmp_path: Path) -> None:
    """A profile missing from the config file is a configuration error."""
    config = tmp_path / "batchkit.toml"
    config.write_text('[profiles.prod]\nprovider = "aihub"\n', encoding="utf-8")
    line = assert_one_error_line(run("--profile", "prdo", "config", "show"), ExitCode.USAGE)
    assert "did you mean 'prod'" in line


# -- usage errors -------------------------------------------------------------------------


def test_usage_errors_exit_2() -> None:
    """Unknown options, missing arguments and bad values are click usage errors (exit 2)."""
    assert ExitCode.USAGE == run("batches", "get").exit_code
    assert ExitCode.USAGE == run("--token", "x", "providers").exit_code
    assert ExitCode.USAGE == run("batches", "list", "--limit", "0").exit_code
    bad_range = run("files", "download", "1", "a.txt", "--range", "9-2")
    assert ExitCode.USAGE == bad_range.exit_code
    assert "END must not be before START" in bad_range.output


def test_invalid_input_exits_2(emu_env: Emulator) -> None:
    """An AI Hub batch id that is not a number is rejected before any request (exit 2)."""
    before = len(emu_env.requests)
    line = assert_one_error_line(
        run("--provider", "aihub", "batches", "get", "abc"), ExitCode.USAGE
    )
    assert "integers" in line
    assert before == len(emu_env.requests)


# -- batches ------------------------------------------------------------------------------


def test_aihub_batch_lifecycle(emu_env: Emulator, tenant: str) -> None:
    """Create, get, list, status and delete an AI Hub batch; afterwards get is a 404 (exit 3)."""
    created = run_json("--provider", "aihub", "batches", "create", "invoices")
    assert "aihub" == created["provider"]
    assert "invoices" == created["name"]
    batch_id = created["id"]

    got = run_json("--provider", "aihub", "batches", "get", batch_id)
    assert created["name"] == got["name"]
    listed = run_json("--provider", "aihub", "batches", "list", "--limit", "10")
    assert [batch_id] == [b["id"] for b in listed]
    status = run_json("--provider", "aihub", "batches", "status", batch_id)
    assert {"batch_id": batch_id, "state": "open", "counts": None} == status

    human = run("--provider", "aihub", "batches", "list")
    assert "invoices" in human.stdout
    assert "1 batch" in human.stdout

    deleted = run_json("--provider", "aihub", "batches", "delete", batch_id)
    assert deleted["deleted"] is True
    line = assert_one_error_line(
        run("--provider", "aihub", "batches", "get", batch_id), ExitCode.PROVIDER
    )
    assert "404" in line


def test_delete_no_wait_returns_the_pending_job(emu_env: Emulator) -> None:
    """`batches delete --no-wait` returns the vendor's deletion job instead of polling it."""
    batch_id = run_json("--provider", "aihub", "batches", "create", "quick")["id"]
    document = run_json("--provider", "aihub", "batches", "delete", batch_id, "--no-wait")
    assert document["deleted"] is False
    assert document["job"]["state"] in {"PENDING", "RUNNING"}
    assert document["job"]["id"]


def test_scale_batch_status_counts_finalize_and_prioritize(emu_env: Emulator, tenant: str) -> None:
    """Scale: task counts in status, finalize moves to in_progress, list filters by state."""
    emu_env.scale.create_project(tenant, name="cats", type="imageannotation", studio=True)
    created = run_json("--provider", "scale", "batches", "create", "cats-1", "--project", "cats")
    assert {"id": "cats-1", "project": "cats", "state": "staging"}.items() <= created.items()
    emu_env.scale.add_tasks(tenant, "cats-1", 4)
    emu_env.scale.complete_tasks(tenant, "cats-1", 3)

    status = run_json("--provider", "scale", "batches", "status", "cats-1")
    expected_counts = {"pending": 1, "completed": 3, "error": 0, "canceled": 0, "total": 4}
    assert expected_counts == status["counts"]
    human = run("--provider", "scale", "batches", "status", "cats-1")
    assert re.search(r"^completed\s+3$", human.stdout, re.M), human.stdout

    finalized = run_json("--provider", "scale", "batches", "finalize", "cats-1")
    assert "in_progress" == finalized["state"]
    prioritized = run_json("--provider", "scale", "batches", "prioritize", "cats-1", "30")
    assert {"batch_id": "cats-1", "priority": 30} == prioritized
    in_progress = run_json("--provider", "scale", "batches", "list", "--state", "in_progress")
    assert ["cats-1"] == [b["id"] for b in in_progress]
    assert [] == run_json("--provider", "scale", "batches", "list", "--state", "completed")


def test_unsupported_operations_exit_5(emu_env: Emulator) -> None:
    """File listing and batch deletion on Scale exit 5, naming the provider that can; an
    upload without a task type for the files is a usage error (exit 2) saying how to set it."""
    line = assert_one_error_line(
        run("--provider", "scale", "files", "list", "some-batch"), ExitCode.UNSUPPORTED
    )
    assert "scale does not support list_files" in line
    assert "aihub" in line
    assert ExitCode.UNSUPPORTED == run("--provider", "scale", "batches", "delete", "b").exit_code
    upload = run("--provider", "scale", "files", "upload", "b", ".")
    assert ExitCode.USAGE == upload.exit_code
    assert "task_type" in upload.output
    assert ExitCode.UNSUPPORTED == run("--provider", "aihub", "batches", "finalize", "1").exit_code


def test_vendor_errors_exit_3(emu_env: Emulator) -> None:
    """A batch in a project that does not exist is Scale's 404: exit 3 with its message."""
    line = assert_one_error_line(
        run("--provider", "scale", "batches", "create", "b", "--project", "nope"),
        ExitCode.PROVIDER,
    )
    assert "nope" in line


# -- files --------------------------------------------------------------------------------


def test_upload_directory_prints_a_line_per_file_then_list_download_delete(
    emu_env: Emulator, tenant: str, tree: Path, tmp_path: Path
) -> None:
    """Upload a directory (plain progress lines in a pipe), then list, download and delete."""
    batch_id = run_json("--provider", "aihub", "batches", "create", "scans")["id"]

    result = run("--provider", "aihub", "files", "upload", batch_id, str(tree))
    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    names = ["doc-1.txt", "doc-2.txt", "doc-3.txt", "form.pdf"]
    for name in names:
        assert any(re.fullmatch(rf"\[\d/4\] uploaded {re.escape(name)} \(.+\)", x) for x in lines)
    assert f"batch {batch_id}: 4 uploaded (613 B), 0 skipped, 0 failed" in lines

    # the library sees exactly these files; the emulator saw one PUT each
    assert sorted(names) == sorted(f.name for f in aihub(emu_env, tenant).list_files(batch_id))
    puts = [r for r in emu_env.requests if r.tenant == tenant and r.method == "PUT"]
    assert sorted(names) == sorted(r.path.rsplit("/", 1)[1] for r in puts)

    listed = run_json("--provider", "aihub", "files", "list", batch_id)
    assert 200 == {f["name"]: f["size"] for f in listed}["doc-2.txt"]
    human = run("--provider", "aihub", "files", "list", batch_id)
    assert "4 files, 613 B" in human.stdout

    out = tmp_path / "copy.txt"
    downloaded = run_json(
        "--provider", "aihub", "files", "download", batch_id, "doc-3.txt", "-o", str(out)
    )
    assert {"bytes": 300, "path": str(out)}.items() <= downloaded.items()
    assert b"x" * 300 == out.read_bytes()
    ranged = run(
        "--provider",
        "aihub",
        "files",
        "download",
        batch_id,
        "form.pdf",
        "--range",
        "1-3",
        "-o",
        "-",
    )
    assert 0 == ranged.exit_code
    assert b"PDF" == ranged.stdout_bytes

    into_dir = tmp_path / "downloads"
    into_dir.mkdir()
    assert (
        run(
            "--provider", "aihub", "files", "download", batch_id, "doc-1.txt", "-o", str(into_dir)
        ).exit_code
        == 0
    )
    assert [into_dir / "doc-1.txt"] == list(into_dir.iterdir())

    assert 0 == run("--provider", "aihub", "files", "delete", batch_id, "doc-1.txt").exit_code
    left = aihub(emu_env, tenant).list_files(batch_id)
    assert ["doc-2.txt", "doc-3.txt", "form.pdf"] == sorted(f.name for f in left)


def test_upload_include_exclude_and_json_report(emu_env: Emulator, tenant: str, tree: Path) -> None:
    """--include / --exclude filter the walk; --json prints the report and no progress lines."""
    batch_id = run_json("--provider", "aihub", "batches", "create", "texts")["id"]
    report = run_json(
        "--provider",
        "aihub",
        "files",
        "upload",
        batch_id,
        str(tree),
        "--include",
        "*.txt",
        "--exclude",
        "doc-2.*",
        "--verify",
        "sha256",
    )
    assert {"ok": True, "uploaded": 2, "failed": 0}.items() <= report.items()
    assert ["doc-1.txt", "doc-3.txt"] == sorted(f["name"] for f in report["files"])


def test_upload_with_one_failing_file_exits_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tree: Path
) -> None:
    """One file answered 500 on every attempt: the rest upload, the command exits 4."""
    faults = Faults(rules=[Fault.status(500, methods="PUT", paths="*/files/doc-2.txt")])
    with Emulator(faults=faults) as emu, emu.serve():
        monkeypatch.setenv("AIHUB_API_ROOT", emu.aihub_api_root)
        monkeypatch.setenv("AIHUB_API_TOKEN", "partial")
        batch_id = run_json("--provider", "aihub", "batches", "create", "partial")["id"]

        result = run("--provider", "aihub", "files", "upload", batch_id, str(tree))
        line = assert_one_error_line(result, ExitCode.PARTIAL_UPLOAD)
        assert "1 of 4 files failed" in line
        assert "doc-2.txt" in line
        assert re.search(r"^\[\d/4\] failed doc-2\.txt: .*500", result.stdout, re.M)
        assert "3 uploaded" in result.stdout

        as_json = run("--json", "--provider", "aihub", "files", "upload", batch_id, str(tree))
        assert ExitCode.PARTIAL_UPLOAD == as_json.exit_code
        report = json.loads(as_json.stdout)
        assert ["doc-2.txt"] == [f["name"] for f in report["files"] if f["status"] == "failed"]
        stored = aihub(emu, "partial").list_files(batch_id)
        assert ["doc-1.txt", "doc-3.txt", "form.pdf"] == sorted(f.name for f in stored)


def test_upload_of_a_missing_path_exits_2(emu_env: Emulator) -> None:
    """A path that does not exist is invalid input: nothing is sent."""
    batch_id = run_json("--provider", "aihub", "batches", "create", "missing")["id"]
    line = assert_one_error_line(
        run("--provider", "aihub", "files", "upload", batch_id, "no/such/dir"), ExitCode.USAGE
    )
    assert "does not exist" in line


def test_upload_to_a_missing_batch_is_one_404_not_a_failure_per_file(
    emu_env: Emulator, tenant: str, tree: Path
) -> None:
    """The batch is checked first: a missing one exits 3 and no file is sent."""
    line = assert_one_error_line(
        run("--provider", "aihub", "files", "upload", "424242", str(tree)), ExitCode.PROVIDER
    )
    assert "404" in line
    assert [] == [r for r in emu_env.requests if r.tenant == tenant and r.method == "PUT"]


def test_upload_view_draws_a_bar_on_a_terminal() -> None:
    """On a terminal the upload shows one bar with files and bytes, not a line per file."""
    from batchkit._upload import UploadProgress

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with UploadView(console) as view:
        for done, name in enumerate(["a.txt", "b.txt"], start=1):
            view(UploadProgress("started", name, done - 1, 2, (done - 1) * 1000, 2000))
            view(UploadProgress("uploaded", name, done, 2, done * 1000, 2000))
    rendered = out.getvalue()
    assert "2/2 files" in rendered
    assert "2.0/2.0 kB" in rendered
    assert "[1/2]" not in rendered


# -- interruptions, unexpected errors, --debug --------------------------------------------


def test_ctrl_c_exits_130(emu_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during a command prints `error: interrupted` and exits 130."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(AIHubProvider, "list_files", interrupted)
    line = assert_one_error_line(
        run("--provider", "aihub", "files", "list", "1"), ExitCode.INTERRUPTED
    )
    assert "error: interrupted" == line


@pytest.mark.parametrize("resume", [True, False])
def test_an_interrupted_json_upload_prints_what_finished_and_how_to_go_on(
    emu_env: Emulator, tree: Path, monkeypatch: pytest.MonkeyPatch, resume: bool
) -> None:
    """Ctrl-C mid-upload with --json: a JSON document of the files that finished on stdout,
    one error line saying how to finish on stderr, exit 130."""
    from batchkit import UploadProgress

    def interrupted(self: object, batch: str, sources: object, *, on_progress, **kw: object):
        on_progress(UploadProgress(kind="uploaded", name="doc-1.txt", files_done=1,
                                   files_total=4, bytes_done=100, bytes_total=613))
        raise KeyboardInterrupt

    batch_id = run_json("--provider", "aihub", "batches", "create", "cut")["id"]
    monkeypatch.setattr(AIHubProvider, "upload", interrupted)
    args = ["--json", "--provider", "aihub", "files", "upload", batch_id, str(tree)]
    result = run(*args, *(["--resume"] if resume else []))
    line = assert_one_error_line(result, ExitCode.INTERRUPTED)
    document = json.loads(result.stdout)
    assert {"batch_id": batch_id, "ok": False, "interrupted": True, "uploaded": 1}.items() <= (
        document.items()
    )
    assert ["doc-1.txt"] == [f["name"] for f in document["files"] if f["status"] == "uploaded"]
    assert "interrupted" in line
    assert "only what is missing" in line
    assert ("--resume" in line) != resume


def test_upload_json_has_one_shape_whether_it_finished_or_was_interrupted(
    emu_env: Emulator, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`files upload --json` prints the same keys, and the same keys per file, when the upload
    finishes and when Ctrl-C stops it: counts as numbers, the files as a list; `interrupted`
    tells them apart, and an interrupted upload is never `ok`."""
    from batchkit import UploadProgress

    batch_id = run_json("--provider", "aihub", "batches", "create", "shapes")["id"]
    finished = run_json("--provider", "aihub", "files", "upload", batch_id, str(tree))

    def interrupted(self: object, batch: str, sources: object, *, on_progress, **kw: object):
        def event(kind: str, name: str, done: int, bytes_done: int, reason: str | None = None):
            on_progress(UploadProgress(kind, name, done, 4, bytes_done, 613, reason))

        event("started", "doc-1.txt", 0, 0)
        event("uploaded", "doc-1.txt", 1, 100)
        event("started", "doc-2.txt", 1, 100)
        event("failed", "doc-2.txt", 2, 300, reason="HTTP 500")
        raise KeyboardInterrupt

    monkeypatch.setattr(AIHubProvider, "upload", interrupted)
    result = run("--json", "--provider", "aihub", "files", "upload", batch_id, str(tree))
    assert ExitCode.INTERRUPTED == result.exit_code, result.output
    stopped = json.loads(result.stdout)

    assert list(finished) == list(stopped)
    assert ["batch_id", "ok", "interrupted", "uploaded", "skipped", "failed", "bytes_uploaded",
            "files"] == list(finished)
    assert {f_key for f in finished["files"] for f_key in f} == {
        f_key for f in stopped["files"] for f_key in f
    } == {"name", "size", "source", "status", "reason"}
    assert (True, False, 4, 0, 0, 613) == (
        finished["ok"], finished["interrupted"], finished["uploaded"], finished["skipped"],
        finished["failed"], finished["bytes_uploaded"],
    )
    assert (False, True, 1, 0, 1, 100) == (
        stopped["ok"], stopped["interrupted"], stopped["uploaded"], stopped["skipped"],
        stopped["failed"], stopped["bytes_uploaded"],
    )
    assert [
        {"name": "doc-1.txt", "size": 100, "source": None, "status": "uploaded", "reason": None},
        {"name": "doc-2.txt", "size": 200, "source": None, "status": "failed",
         "reason": "HTTP 500"},
    ] == stopped["files"]


def test_unexpected_errors_exit_1_and_debug_shows_the_traceback(
    emu_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug surfaces as one line (exit 1); --debug adds the traceback."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(AIHubProvider, "list_files", broken)
    line = assert_one_error_line(run("--provider", "aihub", "files", "list", "1"), 1)
    assert "RuntimeError: boom" in line
    debug = run("--debug", "--provider", "aihub", "files", "list", "1")
    assert 1 == debug.exit_code
    assert "Traceback" in debug.stderr
    assert debug.stderr.rstrip().endswith("error: RuntimeError: boom")


# -- emulator and demo --------------------------------------------------------------------


def test_emulator_command_takes_every_option_of_python_m_batchkit_emulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`batchkit emulator` forwards all its arguments to the emulator's own main, and its
    exit status back, so the two commands cannot drift apart."""
    calls: list[tuple[list[str] | None, str]] = []

    def fake_main(argv: list[str] | None, prog: str) -> int:
        calls.append((argv, prog))
        return 0

    monkeypatch.setattr("batchkit.cli._emulator._emulator_main", lambda: fake_main)
    args = ["--port", "9999", "--tokens", "a,b", "--job-polls", "0", "--latency", "0.02"]
    assert 0 == run("emulator", *args).exit_code
    assert [(args, "batchkit emulator")] == calls


def test_emulator_help_lists_the_same_options_as_the_module(capsys) -> None:
    """`batchkit emulator --help` is the emulator's own help, options included."""
    from batchkit.emulator._cli import main as emulator_main

    with pytest.raises(SystemExit):
        emulator_main(["--help"], "batchkit emulator")
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--tokens", "--job-polls", "--part-size", "--latency"):
        assert option in text
    assert text.startswith("usage: batchkit emulator")


def test_emulator_on_a_port_in_use_is_one_error_line_and_a_usage_exit(capsys) -> None:
    """A busy port: `error: cannot listen ...; pick another --port`, exit 2."""
    import socket

    from batchkit.emulator._cli import main as emulator_main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert 2 == emulator_main(["--port", str(port)], "batchkit emulator")
    err = capsys.readouterr().err.strip().splitlines()
    assert 1 == len(err)
    assert err[0].startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert "pick another --port" in err[0]


def test_run_demo_runs_the_pipeline_on_both_providers() -> None:
    """The whole loop on both vendors through the neutral API alone: files in (AI Hub:
    files, Scale: one task each), started, waited for, 21 results out; what a vendor lacks
    is skipped by capability."""
    out = io.StringIO()
    assert 0 == run_demo(Console(file=out, width=120))
    text = out.getvalue()
    assert re.search(r"upload\s+21 files, 11\.1 MB .*\(big file in parts\), verified", text)
    assert "skipped: aihub does not support prioritize" in text
    assert "skipped: scale does not support list_files" in text
    assert "skipped: scale does not support delete_batch" in text
    # Scale: the 21 files became 21 staged tasks, worked after start
    assert "staging; tasks: 21 pending, 0 completed, 0 error, 0 canceled (21 total)" in text
    assert "completed; tasks: 0 pending, 21 completed, 0 error, 0 canceled (21 total)" in text
    assert 2 == text.count("results     21 items: 21 completed")
    assert "invoice-001.txt: completed; file_name=invoice-001.txt" in text
    assert "batch and files deleted" in text
    assert "demo finished" in text


def test_demo_command_in_a_subprocess_exits_0() -> None:
    """`python -m batchkit.cli demo` runs to the end on its own emulator and exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIHUB_", "SCALE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "batchkit.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert 0 == done.returncode, done.stderr
    assert "demo finished" in done.stdout
    assert "scale" in done.stdout
    assert "" == done.stderr


def test_demo_with_json_prints_one_document_of_every_providers_steps() -> None:
    """`batchkit demo --json`: no tables, one JSON document with each provider's steps."""
    result = run("demo", "--json")
    assert 0 == result.exit_code, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert ["aihub", "scale"] == [p["name"] for p in document["providers"]]
    steps = {p["name"]: {s["step"] for s in p["steps"]} for p in document["providers"]}
    assert {"create", "upload", "status", "start", "wait", "results"} <= steps["aihub"]
    assert {"setup", "create", "prioritize", "start", "wait", "results"} <= steps["scale"]
    assert [None, None] == [p["error"] for p in document["providers"]]
    assert "UPLOAD_FILES" in document["capabilities"]["aihub"]


def test_the_scale_steps_run_from_the_command_alone(emu_env: Emulator) -> None:
    """projects create --studio, then batches create --project, finalize, prioritize."""
    created = run_json("--provider", "scale", "projects", "create", "cats", "--type",
                       "imageannotation", "--instruction", "Box every cat", "--studio")
    assert "cats" == created["name"]
    batch = run_json("--provider", "scale", "batches", "create", "cats-1", "--project", "cats")
    assert ("cats-1", "cats", "staging") == (batch["id"], batch["project"], batch["state"])
    assert "in_progress" == run_json(
        "--provider", "scale", "batches", "finalize", "cats-1"
    )["state"]
    assert 0 == run("--provider", "scale", "batches", "prioritize", "cats-1", "30").exit_code


def test_a_standard_project_batch_is_in_progress_at_once_and_finalize_keeps_it(
    emu_env: Emulator,
) -> None:
    """Without --rapid/--studio a Scale project is standard: no staging, finalize a no-op."""
    run_json("--provider", "scale", "projects", "create", "dogs", "--type", "imageannotation")
    batch = run_json("--provider", "scale", "batches", "create", "dogs-1", "--project", "dogs")
    assert "in_progress" == batch["state"]
    finalized = run_json("--provider", "scale", "batches", "finalize", "dogs-1")
    assert "in_progress" == finalized["state"]


def test_projects_create_refuses_rapid_and_studio_together(emu_env: Emulator) -> None:
    """A project is Rapid or Studio (or neither), never both: a usage error, nothing sent."""
    result = run("--provider", "scale", "projects", "create", "x", "--type", "imageannotation",
                 "--rapid", "--studio")
    assert ExitCode.USAGE == result.exit_code


def test_projects_on_ai_hub_is_an_unsupported_operation(emu_env: Emulator) -> None:
    line = assert_one_error_line(
        run("--provider", "aihub", "projects", "create", "p", "--type", "x"), 5
    )
    assert "scale" in line


@pytest.mark.parametrize("port", ["70000", "-5"])
def test_emulator_port_out_of_range_is_a_usage_error(port: str, capsys) -> None:
    from batchkit.emulator._cli import main as emulator_main

    assert 2 == emulator_main(["--port", port], "batchkit emulator")
    assert "--port must be from 0 to 65535" in capsys.readouterr().err
