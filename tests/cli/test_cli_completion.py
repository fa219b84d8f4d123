"""Shell completion of the `batchkit` command (docs/cli.md, Shell completion): click's, under
the program name of the `batchkit` entry point."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from batchkit.cli._app import cli

ROOT = Path(__file__).resolve().parents[2]
#: click's variable for the program name `batchkit`: _{PROG NAME, upper case}_COMPLETE
COMPLETE_VAR = "_BATCHKIT_COMPLETE"


def complete(env: dict[str, str]) -> Result:
    """Run the command as a shell's completion hook would: no arguments, only `env`."""
    return CliRunner().invoke(cli, [], prog_name="batchkit", env=env)


def test_the_documented_program_name_is_the_entry_points() -> None:
    """The docs' `_BATCHKIT_COMPLETE` holds for the `batchkit` script that pip installs."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "batchkit.cli:main" == pyproject["project"]["scripts"]["batchkit"]
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for shell in ("bash", "zsh", "fish"):
        assert f"{COMPLETE_VAR}={shell}_source batchkit" in docs


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _batchkit_completion batchkit"),
        ("zsh", "#compdef batchkit"),
        ("fish", "complete --no-files --command batchkit"),
    ],
)
def test_the_completion_script_is_printed_for_each_shell(shell: str, marker: str) -> None:
    """`_BATCHKIT_COMPLETE=<shell>_source batchkit` prints that shell's script, exit 0."""
    result = complete({COMPLETE_VAR: f"{shell}_source"})
    assert 0 == result.exit_code, result.output
    assert marker in result.stdout
    assert f"{COMPLETE_VAR}={shell}_complete" in result.stdout
    assert "" == result.stderr


def test_completing_fi_offers_files() -> None:
    """`batchkit fi<TAB>` completes to the `files` command (bash's protocol: type,value)."""
    result = complete(
        {COMPLETE_VAR: "bash_complete", "COMP_WORDS": "batchkit fi", "COMP_CWORD": "1"}
    )
    assert 0 == result.exit_code, result.output
    assert ["plain,files"] == result.stdout.split()


@pytest.mark.parametrize(
    ("shell", "cword", "expected"),
    [
        # zsh: type, value and help, a line each; fish: "type,value<TAB>help", and the word
        # being completed in COMP_CWORD (what `commandline -t` gives)
        ("zsh", "1", ["plain", "files"]),
        ("fish", "fi", ["plain,files"]),
    ],
)
def test_completing_fi_offers_files_in_zsh_and_fish(
    shell: str, cword: str, expected: list[str]
) -> None:
    """The same completion through zsh's and fish's protocols."""
    result = complete(
        {COMPLETE_VAR: f"{shell}_complete", "COMP_WORDS": "batchkit fi", "COMP_CWORD": cword}
    )
    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    first = lines[: len(expected)] if shell == "zsh" else [lines[0].split("\t")[0]]
    assert expected == first, result.stdout
    assert len(lines) == (3 if shell == "zsh" else 1), result.stdout  # `files` alone


def test_completing_a_choice_offers_its_values() -> None:
    """`--verify <TAB>` offers the option's choices, as docs/cli.md says."""
    words = "batchkit files upload 3 scans --verify "
    result = complete({COMPLETE_VAR: "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "6"})
    assert 0 == result.exit_code, result.output
    assert ["plain,size", "plain,sha256", "plain,none"] == result.stdout.split()
