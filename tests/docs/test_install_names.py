"""The docs never tell anyone to install a package we do not own."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SOURCES = sorted((ROOT / "batchkit").rglob("*.py"))

#: the arguments of a `pip install` command, up to the end of that command
INSTALL = re.compile(r"pip install ([^\n`&|;]*)")


def _batchkit_requirements(text: str) -> list[str]:
    """The requirements naming batchkit (in any spelling) that `pip install` lines give."""
    found = []
    for match in INSTALL.finditer(text):
        for token in match.group(1).split():
            name = re.split(r"[\[<>=!~]", token.strip("'\""), maxsplit=1)[0]
            if name.lower().startswith("batchkit"):
                found.append(name)
    return found


def test_the_distribution_is_not_the_unrelated_batchkit_project():
    """`batchkit` on the package index is someone else's project: ours has its own name."""
    assert "batchkit-client" == DIST


def test_every_install_line_in_docs_and_messages_names_our_distribution():
    """README, docs pages and the hints batchkit prints install `batchkit-client[...]`."""
    named = {
        str(path.relative_to(ROOT)): _batchkit_requirements(path.read_text(encoding="utf-8"))
        for path in [*PAGES, *SOURCES]
    }
    wrong = {page: names for page, names in named.items() if set(names) - {DIST}}
    assert {} == wrong
    assert any(named.values())  # the check saw the install lines it is about


def test_the_test_extra_refers_to_our_own_distribution():
    """The `test` extra pulls the other extras through our own name, not `batchkit`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    self_refs = [r for r in project["optional-dependencies"]["test"] if r.startswith("batchkit")]
    assert [f"{DIST}[emulator,cli,docs,fsspec]"] == self_refs
