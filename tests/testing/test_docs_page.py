"""docs/testing.md's files run as the pytest project they describe: recorded, then replayed.

The page's blocks titled with a file name (```python title="test_x.py"```) are the files of a
small project; tests/docs/test_doc_examples.py runs its other (untitled) blocks. Here the
project's tests run under pytest: with pytest-recording, once with --record-mode=once
against an emulator standing in for AI Hub, then offline from the cassettes recorded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batchkit.emulator import Emulator

pytest_plugins = ["pytester"]

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
TITLED = re.compile(r'^```python title="(?P<name>[^"]+)"\n(?P<code>.*?)^```', re.S | re.M)
#: the page's recorded tests: each gets one cassette
RECORDED = "test_recorded.py"
SECRET = "real-aihub-token-for-the-docs-6e2f"
#: the plugins the page's project uses, named (the others installed here, such as
#: schemathesis's, would only slow every run's start-up)
PLUGINS = ("-p", "no:cacheprovider", "-p", "batchkit.emulator.pytest_plugin",
           "-p", "anyio.pytest_plugin")


def _files() -> dict[str, str]:
    files = {m.group("name"): m.group("code") for m in TITLED.finditer(PAGE.read_text("utf-8"))}
    assert {"pipeline.py", "conftest.py", "test_pipeline.py", "test_options.py",
            "test_async.py", RECORDED} <= set(files)
    return files


@pytest.fixture(autouse=True)
def _only_named_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _project(pytester: pytest.Pytester, *, recorded: bool) -> None:
    for name, code in _files().items():
        if recorded or name != RECORDED:
            pytester.path.joinpath(name).write_text(code, encoding="utf-8")


def test_the_pages_emulator_tests_pass(pytester: pytest.Pytester) -> None:
    """The fixtures, the marker, the factory and the async tests, as written, under
    --strict-markers."""
    _project(pytester, recorded=False)
    result = pytester.runpytest_subprocess("--strict-markers", *PLUGINS)
    result.assert_outcomes(passed=9)


def test_the_pages_recorded_tests_record_then_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded with the page's command against an emulator (the vendor's stand-in), no
    credential in the cassettes; replayed with plain `pytest`, the emulator gone."""
    pytest.importorskip("pytest_recording")
    plugins = (*PLUGINS, "-p", "pytest_recording.plugin")
    _project(pytester, recorded=True)
    with Emulator().serve() as vendor:
        monkeypatch.setenv("AIHUB_API_ROOT", vendor.aihub_api_root)
        monkeypatch.setenv("AIHUB_TOKEN", SECRET)
        recording = pytester.runpytest_subprocess(
            "--record-mode=once", *plugins, RECORDED
        )
        outcomes = recording.parseoutcomes()
        assert vendor.requests
    # one cassette per test, and per event loop for the async one (anyio's plugin runs it on
    # every backend installed)
    cassettes = sorted((pytester.path / "cassettes" / "test_recorded").glob("*.yaml"))
    names = [c.name for c in cassettes]
    assert "test_ingest_on_aihub.yaml" in names
    assert "test_ingest_async_on_aihub[asyncio].yaml" in names
    tests = len(names)
    recording.assert_outcomes(passed=tests)
    assert {"passed": tests} == {k: v for k, v in outcomes.items() if v}
    for cassette in cassettes:
        text = cassette.read_text(encoding="utf-8")
        assert SECRET not in text
        assert "authorization" not in text.lower()

    monkeypatch.delenv("AIHUB_API_ROOT")
    monkeypatch.delenv("AIHUB_TOKEN")
    replay = pytester.runpytest_subprocess(*plugins, RECORDED)
    replay.assert_outcomes(passed=tests)
    # a request the cassette lacks (a file of another name: another path) fails, rather than
    # going out (record mode "none")
    code = _files()[RECORDED]
    assert '"a.pdf": b' in code
    pytester.path.joinpath(RECORDED).write_text(
        code.replace('"a.pdf": b', '"c.pdf": b'), encoding="utf-8"
    )
    changed = pytester.runpytest_subprocess(*plugins, RECORDED)
    changed.assert_outcomes(failed=tests)
    changed.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])
