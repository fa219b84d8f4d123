"""Many threads calling batchkit's entry points at once, before anything is loaded.

Each scenario runs in a fresh interpreter, so the provider registry starts empty and the
threads race to fill it (in this test process it was filled long ago). Threads start
together behind a `threading.Barrier`; no test waits on a clock.
"""

# `assert expected == actual` is the project's test style (DESIGN.md)

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THREADS = 16
RUNS = 4

#: run in the child: THREADS threads race through `body` (which defines `work()`), then the
#: child prints one line per thread: "ok <result>" or "<ExceptionType>: <message>"
HARNESS = """\
import threading

import batchkit

THREADS = {threads}
{body}
barrier = threading.Barrier(THREADS)
results = [None] * THREADS


def run(index):
    barrier.wait()
    try:
        results[index] = "ok " + str(work())
    except BaseException as exc:  # report every failure, whatever it is
        results[index] = f"{{type(exc).__name__}}: {{exc}}"


threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("\\n".join(results))
"""


def race(body: str, *, cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    """Run `work()` (defined by `body`) in THREADS threads of a fresh interpreter at once."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("BATCHKIT_", "AIHUB_", "SCALE_"))
    }
    clean["PYTHONPATH"] = str(ROOT)
    clean["XDG_CONFIG_HOME"] = str(cwd / "xdg")  # no real user config file
    clean.update(env or {})
    script = HARNESS.format(threads=THREADS, body=textwrap.dedent(body))
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("run", range(RUNS))
def test_first_connect_from_many_threads_at_once_succeeds_in_every_thread(
    tmp_path: Path, run: int
) -> None:
    """16 threads making the process's first `connect()` all get a provider (none sees a
    half-loaded registry and reports 'unknown provider')."""
    body = """
    def work():
        provider = batchkit.connect("aihub", api_root="http://127.0.0.1:9", token="t")
        return provider.name
    """
    assert ["ok aihub"] * THREADS == race(body, cwd=tmp_path)


def test_capability_matrix_and_provider_names_from_many_threads_at_once_agree(
    tmp_path: Path,
) -> None:
    """The first `capability_matrix()` / `provider_names()` calls, racing, all list both
    built-in providers."""
    body = """
    from batchkit._registry import capability_matrix, provider_class, provider_names

    def work():
        names = provider_names()
        matrix = capability_matrix()
        return (names, sorted(matrix), provider_class("scale").__name__)
    """
    expected = "ok (['aihub', 'scale'], ['aihub', 'scale'], 'ScaleProvider')"
    assert [expected] * THREADS == race(body, cwd=tmp_path)


def test_connecting_by_profile_from_many_threads_at_once_reads_the_same_config(
    tmp_path: Path,
) -> None:
    """Threads resolving profiles of one `batchkit.toml` at once each get their own
    profile's settings, and the file's default profile when they name none."""
    (tmp_path / "batchkit.toml").write_text(
        textwrap.dedent(
            """\
            default_profile = "dev"

            [profiles.dev]
            provider = "aihub"
            api_root = "http://127.0.0.1:9/dev"
            token = "dev-token"

            [profiles.labels]
            provider = "scale"
            api_root = "http://127.0.0.1:9/v1"
            api_key_env = "RACE_SCALE_KEY"
            """
        )
    )
    body = """
    import itertools

    turn = itertools.count()

    def work():
        profile = ("dev", "labels", None)[next(turn) % 3]
        provider = batchkit.connect(profile=profile)
        return (provider.name, provider.settings.api_root)
    """
    lines = race(body, cwd=tmp_path, env={"RACE_SCALE_KEY": "k"})
    answers = {
        "dev": "ok ('aihub', 'http://127.0.0.1:9/dev')",
        "labels": "ok ('scale', 'http://127.0.0.1:9/v1')",
        None: "ok ('aihub', 'http://127.0.0.1:9/dev')",
    }
    expected = [answers[("dev", "labels", None)[i % 3]] for i in range(THREADS)]
    assert sorted(expected) == sorted(lines)
