"""Every Python example in README.md and docs/ runs, as written, against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
#: blocks that need a real vendor account; everything else must run
NEEDS_ACCOUNT = "batchkit.connect(profile=\"prod\")"


def _examples() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        if page.name.startswith("_"):
            continue
        text = page.read_text(encoding="utf-8")
        for n, match in enumerate(FENCE.finditer(text), start=1):
            code = match.group(1)
            if NEEDS_ACCOUNT in code:
                continue
            found.append((page.name, n, code))
    return found


EXAMPLES = _examples()


@pytest.mark.parametrize(("page", "n", "code"), EXAMPLES, ids=[f"{p}#{n}" for p, n, _ in EXAMPLES])
def test_doc_example_runs(page: str, n: int, code: str, tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The example executes without error (each page's blocks share one namespace)."""
    monkeypatch.chdir(tmp_path)
    for var in ("BATCHKIT_CONFIG", "BATCHKIT_PROFILE", "BATCHKIT_PROVIDER"):
        monkeypatch.delenv(var, raising=False)
    namespace: dict[str, object] = {"__name__": f"doc_{page}_{n}"}
    exec(compile(code, f"{page} example {n}", "exec"), namespace)


def test_docs_capability_matrix_is_generated_from_the_registry() -> None:
    """docs/providers.md shows exactly the table capability_matrix() produces."""
    from batchkit._registry import capability_matrix_markdown

    text = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    table = text.split("<!-- matrix:start -->\n", 1)[1].split("<!-- matrix:end -->", 1)[0]
    assert capability_matrix_markdown() == table
