"""How the CLI tests invoke the `batchkit` command and read what it printed."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from batchkit.cli._app import cli


def run(*args: str, input: str | None = None) -> Result:
    """Invoke the command in process, as a shell would with these arguments."""
    return CliRunner().invoke(cli, list(args), prog_name="batchkit", input=input)


def run_json(*args: str) -> Any:
    """Invoke with --json; the command must succeed and print exactly one JSON document."""
    result = run("--json", *args)
    assert 0 == result.exit_code, result.output
    return json.loads(result.stdout)


def assert_one_error_line(result: Result, code: int) -> str:
    """The command failed with `code` and said why in one `error:` line, no traceback."""
    assert code == result.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert 1 == len(lines), result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]
