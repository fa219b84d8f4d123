"""batchkit against the official vendor SDKs, and both against raw HTTP clients on the same link.

    python benchmarks/sdks.py                   # W1..W7, 5 repetitions (~15-20 minutes)
    python benchmarks/sdks.py w1 w3             # some of them
    python benchmarks/sdks.py --quick           # smaller sizes, 1 repetition: a smoke run only
    python benchmarks/sdks.py --json out.json   # also write every run's figures
    python benchmarks/sdks.py --profile         # + cProfile of batchkit's side of W1 at 0 ms
    python benchmarks/sdks.py --venv DIR        # the SDK venv (~/.cache/batchkit-bench/sdk-venv)

The official SDKs (`instabase-aihub`, imported as `aihub`, and `scaleapi`) are never batchkit
dependencies: they are installed, pinned, into a venv of their own (created on first use) and
run there by `benchmarks/_sdk_side.py`, which imports only them and the standard library.

Every side of every workload runs in a fresh process of its own and times only its work
(connecting, creating the batch and writing the input files are not timed), so each side's
CPU time and peak RSS are its own. The emulator runs in another process on 127.0.0.1, with
`--latency` added to every request. Sides alternate within each repetition (the starting side
rotates), and each figure is the median over the repetitions. The "raw" sides are the floors:
minimal hand-written clients doing the same requests on the same link.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from _sdk_side import (
    BOXES,
    MiB,
    Result,
    Spec,
    files_in,
    host_port,
    measured,
    run_main,
)

HERE = Path(__file__).resolve().parent
#: The SDK versions measured. scaleapi 2.18.4 is the version the emulator's Scale API was
#: read from; instabase-aihub 0.14.0 is the latest release and works against the emulator.
SDK_PINS = {"instabase-aihub": "0.14.0", "scaleapi": "2.18.4"}
DEFAULT_VENV = Path.home() / ".cache" / "batchkit-bench" / "sdk-venv"
LATENCY = 0.020
CONCURRENCY = 16  # files at once: batchkit's default, and the raw floors' connections
PART_CONCURRENCY = 4  # batchkit's AI Hub default (`part_concurrency`), and the raw floor's
PAGE_SIZE = 1000  # the largest AI Hub list-files page
SIDE_TIMEOUT = 1800.0  # seconds: any one side process (the SDK's W7 loop takes ~1 minute)
LIST_TOKEN = "w5"  # the tenant whose batch the listing emulator fills

KIT = "batchkit venv"  # runs `sdks.py --side` with this interpreter
SDK = "SDK venv"  # runs `_sdk_side.py` with the SDK venv's interpreter


@dataclass(frozen=True)
class Sizes:
    reps: int
    small_files: int  # W1
    async_files: int  # W2
    calls: int  # W3, per API
    big_bytes: int  # W4
    listed_files: int  # W5
    import_runs: int  # W6
    tasks: int  # W7


FULL = Sizes(5, 500, 5000, 1000, 1024 * MiB, 100_000, 15, 2000)
QUICK = Sizes(1, 100, 500, 200, 64 * MiB, 10_000, 5, 200)


# -- the table --------------------------------------------------------------------------


@dataclass
class Row:
    """One comparison: batchkit's figure against one other side's, with the ratio."""

    workload: str
    kit: str
    other: str
    theirs: str
    ratio: str
    goal: str = ""
    met: bool | None = None  # None: no goal for this row (or not measured)


@dataclass(frozen=True)
class Goal:
    """A goal from the issue, judged on the number a row's ratio function returns."""

    text: str
    test: Callable[[float], bool]


def at_least(target: float, text: str) -> Goal:
    return Goal(text, lambda value: value >= target)


def at_most(target: float, text: str) -> Goal:
    return Goal(text, lambda value: value <= target)


def below(target: float, text: str) -> Goal:
    return Goal(text, lambda value: value < target)


# ratio functions: (batchkit's value, the other's) -> (text, the number a goal judges)


def faster(kit: float, other: float) -> tuple[str, float]:
    """Times: `other / kit`, above 1 when batchkit is faster."""
    r = other / kit
    return (f"{r:.2f}x faster" if r >= 1 else f"{1 / r:.2f}x slower"), r


def share_of_floor(kit: float, floor: float) -> tuple[str, float]:
    """batchkit's throughput as a share of a floor's (`floor time / batchkit time`)."""
    return f"{floor / kit:.1%} of its throughput", floor / kit


def less_cpu(kit: float, other: float) -> tuple[str, float]:
    """CPU seconds: `other / kit`, above 1 when batchkit uses less."""
    r = other / kit
    return (f"{r:.2f}x less CPU" if r >= 1 else f"{1 / r:.2f}x more CPU"), r


def cpu_per(count: int, unit: str) -> Callable[[float], str]:
    """Formats a side's CPU seconds as microseconds per item."""

    def text(cpu_seconds: float) -> str:
        micros = cpu_seconds / count * 1e6
        return f"{micros:,.{1 if micros < 100 else 0}f} µs CPU/{unit}"

    return text


def times_theirs(kit: float, other: float) -> tuple[str, float]:
    """Times per call: `kit / other`, above 1 when batchkit is slower."""
    return f"{kit / other:.2f}x their time", kit / other


def secs(seconds: float, count: int = 0, unit: str = "") -> str:
    rate = f" ({count / seconds:,.0f} {unit}/s)" if count else ""
    return f"{seconds:.2f} s{rate}"


def print_table(rows: list[Row]) -> None:
    header = ["", "workload", "batchkit", "compared with", "their figure", "ratio", "goal", ""]
    lines = [header, ["---"] * len(header)]
    for row in rows:
        status = "" if row.met is None else ("met" if row.met else "**missed**")
        number, what = row.workload.split(" ", 1)
        lines.append([number, what, row.kit, row.other, row.theirs, row.ratio, row.goal, status])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        print("| " + " | ".join(cells) + " |")


# -- processes --------------------------------------------------------------------------


@dataclass
class Served:
    """An emulator process: its base URL (API roots `<url>/api`, `<url>/v1`)."""

    url: str
    pid: int
    info: dict[str, str]

    @property
    def aihub(self) -> str:
        return self.url + "/api"

    @property
    def scale(self) -> str:
        return self.url + "/v1"


def cli_emulator(latency: float) -> list[str]:
    return [sys.executable, "-m", "batchkit.emulator", "--port", "0", "--latency", str(latency)]


@contextlib.contextmanager
def served(
    argv: list[str], start_timeout: float = 300.0, stdin_grace: float = 0.0
) -> Iterator[Served]:
    """Run an emulator process until the block ends: then its stdin is closed, and after
    `stdin_grace` seconds (for one that stops on that, and cleans up) it is terminated, and
    killed if need be.

    It must print `AI Hub API root: <url>/api`; `key: value` lines before that are kept
    in `info`. Its output is drained for as long as it runs (a full pipe would stall it)."""
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str | None] = queue.Queue()
    started = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not started.is_set():
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + start_timeout
        info: dict[str, str] = {}
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"emulator did not start in {start_timeout:.0f} s") from None
            if line is None:
                raise RuntimeError(f"emulator exited with {proc.wait(timeout=10)} before serving")
            key, _, value = line.partition(":")
            if key == "AI Hub API root":
                started.set()
                yield Served(value.strip().removesuffix("/api"), proc.pid, info)
                return
            if value:
                info[key.strip()] = value.strip()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=stdin_grace)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def serve_listing_emulator(files: int) -> int:
    """`sdks.py --listing-emulator N`: an emulator process whose tenant LIST_TOKEN holds one
    batch of N empty files (put through the backend, as B4 does, instead of N uploads).
    Serves until its stdin closes (sdks.py is done, or gone) or SIGTERM, then deletes its
    storage."""
    from batchkit.emulator import Emulator

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Emulator() as emu, emu.serve():
        backend = emu.aihub
        batch = backend.create_batch(LIST_TOKEN, name="w5-listing")
        for i in range(files):
            blob = backend.blobs.new_path()
            blob.write_bytes(b"")
            backend.put_batch_file(LIST_TOKEN, batch.id, f"file-{i:06d}.pdf", blob, 0)
        print(f"listing batch: {batch.id}", flush=True)
        print(f"AI Hub API root: {emu.aihub_api_root}", flush=True)
        sys.stdin.read()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up run to its end
    return 0


@dataclass
class Side:
    """One side of a workload: where it runs, and how to set up one run of it (untimed)."""

    label: str
    where: str  # KIT or SDK
    prepare: Callable[[int], Spec]  # repetition -> the side's spec
    check: Callable[[Spec, Result], None] | None = None  # after a run: did it do the work?


@dataclass
class Failure:
    workload: str
    side: str
    spec: Spec
    error: str
    traceback: str = ""


@dataclass
class Bench:
    sizes: Sizes
    sdk_python: Path
    rows: list[Row] = field(default_factory=list)
    runs: dict[str, dict[str, list[Result]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    profile: str = ""

    def run_side(self, side: Side, spec: Spec) -> Result:
        if side.where == KIT:
            argv = [sys.executable, str(HERE / "sdks.py"), "--side", json.dumps(spec)]
        else:
            argv = [str(self.sdk_python), str(HERE / "_sdk_side.py"), json.dumps(spec)]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=SIDE_TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"error": f"no answer in {SIDE_TIMEOUT:.0f} s (killed)"}
        try:
            result: Result = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            result = {"error": f"exit {proc.returncode}", "traceback": proc.stderr[-3000:]}
        if proc.returncode and "error" not in result:
            result = {"error": f"exit {proc.returncode}", "traceback": proc.stderr[-3000:]}
        return result

    def alternate(
        self, workload: str, sides: list[Side], reps: int, shift: int = 0
    ) -> dict[str, list[Result]]:
        """Run the sides in turn, `reps` times, each repetition starting one side later.
        A side that fails is recorded once and not run again in this workload."""
        print(f"   {workload}", file=sys.stderr, flush=True)
        runs: dict[str, list[Result]] = {side.label: [] for side in sides}
        failed: set[str] = set()
        for rep in range(shift, shift + reps):
            start = rep % len(sides)
            for side in sides[start:] + sides[:start]:
                if side.label in failed:
                    continue
                spec = side.prepare(rep)
                result = self.run_side(side, spec)
                if "error" not in result and side.check is not None:
                    try:
                        side.check(spec, result)
                    except Exception as exc:
                        result = {"error": f"check after the run failed: {exc!r}"}
                if "error" in result:
                    failed.add(side.label)
                    self.failures.append(
                        Failure(
                            workload,
                            side.label,
                            spec,
                            result["error"],
                            result.get("traceback", ""),
                        )
                    )
                    continue
                runs[side.label].append(result)
                print(f"      {side.label}: {result['seconds']:.3f} s", file=sys.stderr)
        self.runs.setdefault(workload, {}).update(runs)
        return runs

    def compare(
        self,
        workload: str,
        kit: tuple[str, float | None],
        other_label: str,
        other: tuple[str, float | None],
        ratio: Callable[[float, float], tuple[str, float]],
        goal: Goal | None = None,
    ) -> None:
        """Add a row. `kit` and `other` are (figure text, value or None if it failed)."""
        goal_text = goal.text if goal else ""
        if kit[1] is None or other[1] is None:
            row = Row(workload, kit[0], other_label, other[0], "not measured", goal_text)
        else:
            text, value = ratio(kit[1], other[1])
            met = goal.test(value) if goal else None
            row = Row(workload, kit[0], other_label, other[0], text, goal_text, met)
        self.rows.append(row)


def median(results: list[Result], key: str = "seconds") -> float | None:
    return statistics.median(r[key] for r in results) if results else None


def figure(value: float | None, fmt: Callable[[float], str]) -> tuple[str, float | None]:
    return (fmt(value) if value is not None else "failed", value)


# -- setup through the raw API (untimed) ------------------------------------------------


def aihub_client(root: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=root, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def aihub_batch(root: str, token: str, name: str) -> int:
    with aihub_client(root, token) as c:
        response = c.post("/v2/batches", json={"name": name})
        response.raise_for_status()
        return int(response.json()["id"])


def aihub_files(root: str, token: str, batch: int) -> dict[str, int]:
    """Every file of a batch with its size (following the page tokens)."""
    found: dict[str, int] = {}
    params: dict[str, str | int] = {"page_size": PAGE_SIZE}
    with aihub_client(root, token) as c:
        while True:
            page = c.get(f"/v2/batches/{batch}/files", params=params).raise_for_status().json()
            found.update((node["name"], node["metadata"]["size"]) for node in page["nodes"])
            if not page.get("has_more") or not page.get("next_page_token"):
                return found
            params["start_token"] = page["next_page_token"]


def scale_batch(root: str, api_key: str, project: str, batch: str) -> None:
    with httpx.Client(base_url=root, auth=(api_key, ""), timeout=60) as c:
        c.post("/projects", json={"name": project, "type": "imageannotation"}).raise_for_status()
        c.post("/batches", json={"name": batch, "project": project}).raise_for_status()


def small_files(folder: Path, count: int) -> None:
    payload = os.urandom(4096)
    for i in range(count):
        (folder / f"f{i:05d}.bin").write_bytes(payload)


def big_file(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(block)


# -- W1 / W2: many small files ----------------------------------------------------------


def upload_sides(
    root: str, folder: Path, count: int, tag: str, *, sdk: bool, engine: str = "sync"
) -> list[Side]:
    """batchkit (`engine` "sync" or "async"), the aihub SDK and raw httpx if `sdk`, and raw
    asyncio sockets, each uploading the folder into a new batch of a tenant of its own;
    checked afterwards by listing the batch."""

    def side(label: str, where: str, name: str, **extra: Any) -> Side:
        def prepare(rep: int) -> Spec:
            token = f"{tag}-{name}-{rep}"
            batch = aihub_batch(root, token, tag)
            return {"side": name, "root": root, "token": token, "batch": batch, **extra}

        return Side(label, where, prepare, check)

    def check(spec: Spec, result: Result) -> None:
        found = len(aihub_files(root, spec["token"], spec["batch"]))
        if found != count:
            raise AssertionError(f"{found} files in the batch, {count} sent")

    sides = [side("batchkit", KIT, "kit-upload", folder=str(folder), engine=engine)]
    if sdk:
        sides.append(side("aihub SDK", SDK, "aihub-upload", folder=str(folder)))
    sides.append(side("raw asyncio x16", KIT, "asyncio-upload", folder=str(folder)))
    if sdk:
        sides.append(side("raw httpx x16", KIT, "httpx-upload", folder=str(folder)))
    return sides


def w1(bench: Bench) -> None:
    """500 x 4 KB into one AI Hub batch at 20 ms and at 0 ms."""
    n = bench.sizes.small_files
    goals = {LATENCY: 12.0, 0.0: 1.5}
    with tempfile.TemporaryDirectory() as tmp:
        small_files(Path(tmp), n)
        for latency, sdk_goal in goals.items():
            ms = f"{latency * 1000:.0f} ms"
            name = f"W1 {n} x 4 KB upload, {ms}"
            with served(cli_emulator(latency)) as emu:
                sides = upload_sides(
                    emu.aihub, Path(tmp), n, f"w1-{latency * 1000:.0f}ms", sdk=True
                )
                runs = bench.alternate(name, sides, bench.sizes.reps)
            t = {label: median(results) for label, results in runs.items()}
            kit = figure(t["batchkit"], lambda s: secs(s, n, "files"))
            bench.compare(
                name,
                kit,
                "aihub SDK add_file loop",
                figure(t["aihub SDK"], lambda s: secs(s, n, "files")),
                faster,
                at_least(sdk_goal, f">= {sdk_goal:g}x faster"),
            )
            bench.compare(
                name,
                kit,
                "raw asyncio sockets x16",
                figure(t["raw asyncio x16"], lambda s: secs(s, n, "files")),
                share_of_floor,
                at_least(0.9, ">= 90% of it") if latency else None,
            )
            bench.compare(
                name,
                kit,
                "raw httpx x16 threads",
                figure(t["raw httpx x16"], lambda s: secs(s, n, "files")),
                share_of_floor,
            )
            cpu = {label: median(results, "cpu_seconds") for label, results in runs.items()}
            bench.compare(
                f"W1 client CPU, {ms}",
                figure(cpu["batchkit"], cpu_per(n, "file")),
                "aihub SDK",
                figure(cpu["aihub SDK"], cpu_per(n, "file")),
                less_cpu,
            )


def w2(bench: Bench) -> None:
    """5,000 x 4 KB at 20 ms through the async engine, against files x RTT / concurrency."""
    n = bench.sizes.async_files
    name = f"W2 {n} x 4 KB, async, {LATENCY * 1000:.0f} ms"
    limit = n * LATENCY / CONCURRENCY
    with tempfile.TemporaryDirectory() as tmp:
        small_files(Path(tmp), n)
        with served(cli_emulator(LATENCY)) as emu:
            sides = upload_sides(emu.aihub, Path(tmp), n, "w2", sdk=False, engine="async")
            runs = bench.alternate(name, sides, bench.sizes.reps)
    t_kit, t_raw = median(runs["batchkit"]), median(runs["raw asyncio x16"])
    kit = figure(t_kit, lambda s: secs(s, n, "files"))
    bench.compare(
        name,
        kit,
        f"files x RTT / {CONCURRENCY}",
        (f"{limit:.2f} s", limit),
        lambda k, lim: (f"{k / lim:.2f}x the limit", k / lim),
        at_most(1.5, "<= 1.5x the limit"),
    )
    bench.compare(
        name,
        kit,
        "raw asyncio sockets x16",
        figure(t_raw, lambda s: secs(s, n, "files") + f", {s / limit:.2f}x the limit"),
        share_of_floor,
    )
    cpu = {label: median(results, "cpu_seconds") for label, results in runs.items()}
    bench.compare(
        "W2 client CPU",
        figure(cpu["batchkit"], cpu_per(n, "file")),
        "raw asyncio sockets x16",
        figure(cpu["raw asyncio x16"], cpu_per(n, "file")),
        less_cpu,
    )


def same(spec: Spec, side: str) -> Callable[[int], Spec]:
    """A side's `prepare` when every repetition reuses one setup."""
    return lambda rep: {**spec, "side": side}


# -- W3: sequential calls ---------------------------------------------------------------


def w3(bench: Bench) -> None:
    """Per-call cost at 0 ms: Scale get_batch, and AI Hub get batch + one list-files page."""
    calls, warmup = bench.sizes.calls, 20
    with served(cli_emulator(0.0)) as emu:
        scale_batch(emu.scale, "w3", "w3", "w3-batch")
        batch = aihub_batch(emu.aihub, "w3", "w3")
        with aihub_client(emu.aihub, "w3") as c:
            for i in range(50):  # a page of 50 files, as in B3
                c.put(f"/v2/batches/{batch}/files/f{i}.txt", content=b"x" * i).raise_for_status()
        common = {"calls": calls, "warmup": warmup}
        scale = {**common, "api": "scale", "root": emu.scale, "api_key": "w3", "batch": "w3-batch"}
        aihub = {**common, "api": "aihub", "root": emu.aihub, "token": "w3", "batch": batch}
        for spec, sdk_label, sdk_side, what in (
            (scale, "scaleapi get_batch", "scale-calls", "Scale get_batch"),
            (aihub, "aihub SDK get + list_files", "aihub-calls", "AI Hub get + page"),
        ):
            name = f"W3 {calls} calls: {what}, 0 ms"
            sides = [
                Side("batchkit", KIT, same(spec, "kit-calls")),
                Side(sdk_label, SDK, same(spec, sdk_side)),
                Side("raw httpx", KIT, same(spec, "httpx-calls")),
                Side("raw urllib3", SDK, same(spec, "urllib3-calls")),
            ]
            runs = bench.alternate(name, sides, bench.sizes.reps)
            per_call = {
                label: statistics.median(r["seconds"] / r["calls"] for r in results)
                if results
                else None
                for label, results in runs.items()
            }

            def ms(seconds: float) -> str:
                return f"{seconds * 1000:.3f} ms/call"

            kit = figure(per_call["batchkit"], ms)
            bench.compare(
                name,
                kit,
                sdk_label,
                figure(per_call[sdk_label], ms),
                faster,
                at_least(2.0, ">= 2x faster"),
            )
            bench.compare(
                name,
                kit,
                "raw httpx, one keep-alive client",
                figure(per_call["raw httpx"], ms),
                times_theirs,
                at_most(1.1, "<= 1.1x their time"),
            )
            bench.compare(
                name, kit, "raw urllib3 pool", figure(per_call["raw urllib3"], ms), times_theirs
            )


# -- W4: one big file -------------------------------------------------------------------


def large_sides(root: str, path: Path, size: int) -> list[Side]:
    """batchkit, the aihub SDK and raw httpx, each sending the file into a new batch of a
    tenant of its own; checked afterwards by the file's size in the batch listing."""

    def side(label: str, where: str, name: str) -> Side:
        def prepare(rep: int) -> Spec:
            token = f"w4-{name}-{rep}"
            batch = aihub_batch(root, token, "w4")
            return {
                **{"side": name, "root": root, "token": token, "batch": batch},
                **{"path": str(path), "name": "big.bin", "size": size},
            }

        return Side(label, where, prepare, check)

    def check(spec: Spec, result: Result) -> None:
        found = aihub_files(root, spec["token"], spec["batch"]).get("big.bin")
        if found != size:
            raise AssertionError(f"big.bin is {found} bytes in the batch, not {size}")

    return [
        side("batchkit", KIT, "kit-large"),
        side("aihub SDK", SDK, "aihub-large"),
        side("raw httpx", KIT, "httpx-large"),
    ]


def w4(bench: Bench) -> None:
    """1 GiB multipart at 20 ms: throughput and the client's peak-RSS growth."""
    size = bench.sizes.big_bytes
    name = f"W4 {size // MiB} MiB multipart, {LATENCY * 1000:.0f} ms"
    runs: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.bin"
        big_file(path, size)
        # a fresh emulator per repetition: each holds three copies, deleted when it stops
        for rep in range(bench.sizes.reps):
            with served(cli_emulator(LATENCY)) as emu:
                sides = large_sides(emu.aihub, path, size)
                for label, results in bench.alternate(name, sides, 1, shift=rep).items():
                    runs.setdefault(label, []).extend(results)
    bench.runs[name] = runs
    t = {label: median(results) for label, results in runs.items()}
    growth = {label: median(results, "rss_growth_mib") for label, results in runs.items()}

    def rate(seconds: float) -> str:
        return f"{seconds:.2f} s ({size / MiB / seconds:.0f} MiB/s)"

    def mib(value: float) -> str:
        return f"{value:.0f} MiB"

    kit = figure(t["batchkit"], rate)
    bench.compare(name, kit, "aihub SDK add_large_file", figure(t["aihub SDK"], rate), faster)
    bench.compare(
        name,
        kit,
        f"raw httpx, {PART_CONCURRENCY} parts at once, streamed",
        figure(t["raw httpx"], rate),
        share_of_floor,
        at_least(0.95, ">= 95% of it"),
    )
    for label in ("aihub SDK", "raw httpx"):
        bench.compare(
            "W4 client peak RSS growth",
            figure(growth["batchkit"], mib),
            label,
            figure(growth[label], mib),
            lambda kit, other: (f"{round(kit - other):+d} MiB", kit),
            below(32, "< 32 MiB") if label == "aihub SDK" else None,
        )


# -- W5: listing ------------------------------------------------------------------------


def w5(bench: Bench) -> None:
    """Listing 100,000 files in pages of 1000 at 0 ms: time and client CPU per file."""
    n = bench.sizes.listed_files
    name = f"W5 listing {n:,} files, pages of {PAGE_SIZE}"
    print(f"   {name}: filling the emulator", file=sys.stderr, flush=True)
    listing = [sys.executable, str(HERE / "sdks.py"), "--listing-emulator", str(n)]
    with served(listing, stdin_grace=120) as emu:
        spec = {
            "root": emu.aihub,
            "token": LIST_TOKEN,
            "batch": int(emu.info["listing batch"]),
            "page_size": PAGE_SIZE,
        }

        def check(spec: Spec, result: Result) -> None:
            if result["count"] != n:
                raise AssertionError(f"listed {result['count']} files of {n}")

        sides = [
            Side("batchkit", KIT, same(spec, "kit-list"), check),
            Side("aihub SDK", SDK, same(spec, "aihub-list"), check),
            Side("raw urllib3", SDK, same(spec, "urllib3-list"), check),
        ]
        runs = bench.alternate(name, sides, bench.sizes.reps)
    t = {label: median(results) for label, results in runs.items()}
    cpu = {label: median(results, "cpu_seconds") for label, results in runs.items()}

    kit = figure(t["batchkit"], lambda s: secs(s, n, "files"))
    bench.compare(
        name,
        kit,
        "aihub SDK list_files loop",
        figure(t["aihub SDK"], lambda s: secs(s, n, "files")),
        faster,
        at_least(1.5, ">= 1.5x faster"),
    )
    bench.compare(
        name,
        kit,
        "raw urllib3 + json.loads",
        figure(t["raw urllib3"], lambda s: secs(s, n, "files")),
        share_of_floor,
    )
    for label in ("aihub SDK", "raw urllib3"):
        bench.compare(
            "W5 client CPU",
            figure(cpu["batchkit"], cpu_per(n, "file")),
            label,
            figure(cpu[label], cpu_per(n, "file")),
            less_cpu,
        )


# -- W6: import time --------------------------------------------------------------------


def w6(bench: Bench) -> None:
    """`python -c "import X"` in fresh interpreters, alternated, medians."""
    runs = bench.sizes.import_runs
    print("   W6 import time", file=sys.stderr, flush=True)
    cases = {
        "batchkit": (sys.executable, "import batchkit"),
        "aihub": (str(bench.sdk_python), "import aihub"),
        "scaleapi": (str(bench.sdk_python), "import scaleapi"),
        "python (batchkit venv)": (sys.executable, "pass"),
        "python (SDK venv)": (str(bench.sdk_python), "pass"),
    }
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, (python, code) in cases.items():
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, timeout=120)
            samples[label].append(time.perf_counter() - start)
    t = {label: statistics.median(values) for label, values in samples.items()}
    bench.runs["W6 import"] = {label: [{"seconds": s} for s in v] for label, v in samples.items()}

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    bare = f"(bare interpreter {ms(t['python (batchkit venv)'])} / {ms(t['python (SDK venv)'])})"
    for label in ("aihub", "scaleapi"):
        bench.compare(
            f"W6 python -c 'import ...' {bare}",
            figure(t["batchkit"], ms),
            f"import {label}",
            figure(t[label], ms),
            faster,
        )


# -- W7: labeling loop ------------------------------------------------------------------


def w7(bench: Bench) -> None:
    """2,000 Scale tasks added and 2,000 results read at 20 ms (B7), against the SDK loop."""
    n = bench.sizes.tasks
    name = f"W7 {n} Scale tasks added + read, {LATENCY * 1000:.0f} ms"
    with served(cli_emulator(LATENCY)) as emu:

        def prepare(side: str) -> Callable[[int], Spec]:
            def spec(rep: int) -> Spec:
                api_key = f"w7-{side}-{rep}"  # a tenant of its own: unique_ids never collide
                scale_batch(emu.scale, api_key, "w7", "w7-batch")
                return {
                    "side": side,
                    "root": emu.scale,
                    "api_key": api_key,
                    "project": "w7",
                    "batch": "w7-batch",
                    "prefix": f"t{rep}",
                    "tasks": n,
                }

            return spec

        def check(spec: Spec, result: Result) -> None:
            if result["count"] != n:
                raise AssertionError(f"read {result['count']} tasks back of {n}")

        sides = [
            Side("batchkit", KIT, prepare("kit-label"), check),
            Side("scaleapi", SDK, prepare("scale-label"), check),
        ]
        runs = bench.alternate(name, sides, bench.sizes.reps)
    t = {label: median(results) for label, results in runs.items()}
    bench.compare(
        name,
        figure(t["batchkit"], lambda s: secs(s, n, "tasks")),
        "scaleapi create_task loop + get_tasks",
        figure(t["scaleapi"], lambda s: secs(s, n, "tasks")),
        faster,
        at_least(10.0, ">= 10x faster"),
    )


# -- the profile ------------------------------------------------------------------------


def profile_w1(bench: Bench) -> None:
    """cProfile of batchkit's side of W1 at 0 ms (every thread), top entries by cumulative
    time within batchkit, httpx and httpcore."""
    n = bench.sizes.small_files
    print("   profile: batchkit's side of W1 at 0 ms", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        small_files(Path(tmp), n)
        with served(cli_emulator(0.0)) as emu:
            side = upload_sides(emu.aihub, Path(tmp), n, "profile", sdk=False)[0]
            spec = {**side.prepare(0), "profile": 15}
            result = bench.run_side(side, spec)
    bench.profile = result.get("profile") or f"profile failed: {result.get('error')}"


def profiled(fn: Callable[[], object], top: int) -> str:
    """Run `fn` under cProfile, in this thread and in every thread it starts, timing each
    thread's own CPU (`time.thread_time`): summed over threads, the figures are CPU seconds,
    not time spent waiting for the server or for a lock."""
    profiles: list[cProfile.Profile] = []

    def start_thread(*_: object) -> None:  # a new thread's first event: profile it on its own
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start_thread)
    cpu, start = time.process_time(), time.perf_counter()
    main.enable()
    try:
        fn()
    finally:
        main.disable()
        threading.setprofile(None)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = pstats.Stats(main)
    for profile in profiles:  # the pool's threads have all been joined by now
        stats.add(profile)
    stats.sort_stats("cumulative")
    lines = [
        f"{wall:.2f} s wall, {cpu:.2f} s CPU (profiled: slower than unprofiled), "
        f"{len(profiles)} threads besides the caller's; times are CPU seconds of all threads",
        f"{'ncalls':>9} {'tottime':>8} {'cumtime':>8}  function",
    ]
    wanted = ("/batchkit/", "/httpx/", "/httpcore/")
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for func in stats.fcn_list:  # type: ignore[attr-defined]
        filename, line, name = func
        if not any(part in filename for part in wanted):
            continue
        _, ncalls, tottime, cumtime, _ = entries[func]
        short = filename.rsplit("site-packages/", 1)[-1].rsplit("/main/", 1)[-1]
        lines.append(f"{ncalls:>9} {tottime:>8.3f} {cumtime:>8.3f}  {short}:{line}({name})")
        if len(lines) == top + 2:
            break
    return "\n".join(lines)


# -- the batchkit-venv sides (run as `sdks.py --side '<spec>'`) -------------------------


def kit_upload(spec: Spec) -> Result:
    """W1: `upload()` at its defaults (16 at once, then the listing that verifies sizes);
    W2: the same through `connect_async`, concurrency 16."""
    import batchkit

    folder, batch = Path(spec["folder"]), str(spec["batch"])
    if spec.get("engine") == "async":

        async def run() -> tuple[Result, batchkit.UploadReport]:
            async with batchkit.connect_async(
                "aihub", api_root=spec["root"], token=spec["token"]
            ) as p:
                with measured() as result:
                    report = await p.upload(batch, folder, concurrency=CONCURRENCY)
                return result, report

        result, report = asyncio.run(run())
    else:
        with batchkit.connect("aihub", api_root=spec["root"], token=spec["token"]) as p:
            if spec.get("profile"):
                reports: list[batchkit.UploadReport] = []
                text = profiled(lambda: reports.append(p.upload(batch, folder)), spec["profile"])
                result, report = {"seconds": 0.0, "profile": text}, reports[0]
            else:
                with measured() as result:
                    report = p.upload(batch, folder)
    if report.failed or len(report.uploaded) != len(files_in(spec["folder"])):
        raise RuntimeError(f"upload incomplete: {report}")
    return result


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response: the status and the body (Content-Length bodies only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status, length = int(status_line.split()[1]), 0
    for line in header_lines:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-length":
            length = int(value)
        elif key == "transfer-encoding" or (key == "connection" and "close" in value.lower()):
            raise RuntimeError(f"the minimal client does not handle {line!r}")
    return status, await reader.readexactly(length) if length else b""


def asyncio_upload(spec: Spec) -> Result:
    """The floor: a minimal HTTP/1.1 keep-alive client on asyncio streams, 16 connections,
    each PUTting the next file as soon as its previous answer is read."""
    host, port = host_port(spec["root"])
    prefix = f"{urlsplit(spec['root']).path}/v2/batches/{spec['batch']}/files/"
    fixed = (
        f"Host: {host}:{port}\r\nAuthorization: Bearer {spec['token']}\r\n"
        "Content-Type: application/octet-stream\r\n"
    )
    todo = iter(files_in(spec["folder"]))  # shared by the connections

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for path in todo:
                body = path.read_bytes()
                head = f"PUT {prefix}{quote(path.name, safe='')} HTTP/1.1\r\n{fixed}"
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
                status, answer = await _response(reader)
                if status >= 300:
                    raise RuntimeError(f"PUT {path.name}: {status} {answer[:200]!r}")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def run() -> None:
        await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))

    with measured() as result:
        asyncio.run(run())
    return result


def httpx_upload(spec: Spec) -> Result:
    """A floor: one httpx.Client (16 keep-alive connections) shared by 16 threads."""
    files = files_in(spec["folder"])
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Content-Type": "application/octet-stream"}
    with httpx.Client(
        base_url=spec["root"],
        headers={"Authorization": f"Bearer {spec['token']}"},
        limits=limits,
        timeout=60,
    ) as client:

        def put(path: Path) -> None:
            url = f"/v2/batches/{spec['batch']}/files/{quote(path.name, safe='')}"
            client.put(url, content=path.read_bytes(), headers=headers).raise_for_status()

        with measured() as result, ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(put, files))
    return result


def kit_calls(spec: Spec) -> Result:
    """W3: Scale `get_batch(name)`; AI Hub `get_batch(id)` + the first `list_files` page."""
    import batchkit

    batch = str(spec["batch"])
    if spec["api"] == "scale":
        p = batchkit.connect("scale", api_root=spec["root"], api_key=spec["api_key"])

        def one() -> None:
            p.get_batch(batch)

        per_round = 1
    else:
        p = batchkit.connect("aihub", api_root=spec["root"], token=spec["token"])

        def one() -> None:
            p.get_batch(batch)
            next(iter(p.list_files(batch)))

        per_round = 2
    return _calls(spec, one, per_round, p.close)


def httpx_calls(spec: Spec) -> Result:
    """W3 floor: the same GETs on one keep-alive httpx.Client, bodies through json.loads."""
    if spec["api"] == "scale":
        client = httpx.Client(base_url=spec["root"], auth=(spec["api_key"], ""))
        paths = [f"/batches/{quote(spec['batch'], safe='')}"]
    else:
        client = aihub_client(spec["root"], spec["token"])
        paths = [f"/v2/batches/{spec['batch']}", f"/v2/batches/{spec['batch']}/files"]

    def one() -> None:
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path}: {response.status_code}")
            json.loads(response.content)

    return _calls(spec, one, len(paths), client.close)


def _calls(
    spec: Spec, one: Callable[[], None], per_round: int, close: Callable[[], None]
) -> Result:
    try:
        for _ in range(spec["warmup"]):
            one()
        rounds = spec["calls"] // per_round
        with measured() as result:
            for _ in range(rounds):
                one()
        result["calls"] = rounds * per_round
        return result
    finally:
        close()


def kit_large(spec: Spec) -> Result:
    """W4: `upload_file` of the path (multipart: 4 parts at once, read as they are sent)."""
    import batchkit

    with batchkit.connect("aihub", api_root=spec["root"], token=spec["token"]) as p:
        p.get_batch(str(spec["batch"]))  # the client is set up before memory is measured
        with measured() as result:
            p.upload_file(str(spec["batch"]), spec["name"], Path(spec["path"]))
    return result


def httpx_large(spec: Spec) -> Result:
    """W4 floor: start the session, stream each part from the file in 1 MiB reads, 4 parts at
    once on one httpx.Client, commit. The same requests as batchkit, no checks."""
    path, size = Path(spec["path"]), spec["size"]

    def chunks(offset: int, length: int) -> Iterator[bytes]:
        with path.open("rb") as f:
            f.seek(offset)
            while length > 0:
                block = f.read(min(MiB, length))
                length -= len(block)
                yield block

    with aihub_client(spec["root"], spec["token"]) as client:
        client.timeout = httpx.Timeout(300)
        client.get(f"/v2/batches/{spec['batch']}").raise_for_status()  # as kit_large
        with measured() as result:
            body = {"batch_id": spec["batch"], "filename": spec["name"], "file_size": size}
            started = client.post("/v2/batches/multipart-upload", json=body).raise_for_status()
            session = f"/v2/batches/multipart-upload/sessions/{started.json()['session_id']}"
            part_size = int(started.json()["part_size"])

            def send(n: int) -> dict[str, Any]:
                offset = (n - 1) * part_size
                length = min(part_size, size - offset)
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(length),
                }
                response = client.put(
                    f"{session}/parts/{n}", content=chunks(offset, length), headers=headers
                )
                return {"part_num": n, "part_id": response.raise_for_status().json()["part_id"]}

            count = -(-size // part_size)
            with ThreadPoolExecutor(PART_CONCURRENCY) as pool:
                parts = list(pool.map(send, range(1, count + 1)))
            commit = {"action": "commit", "parts": parts}
            client.post(session, json=commit).raise_for_status()
    return result


def kit_list(spec: Spec) -> Result:
    """W5: `list_files(batch, page_size=1000)`, iterated lazily to the end."""
    import batchkit

    with (
        batchkit.connect("aihub", api_root=spec["root"], token=spec["token"]) as p,
        measured() as result,
    ):
        count = sum(1 for _ in p.list_files(str(spec["batch"]), page_size=spec["page_size"]))
    result["count"] = count
    return result


def kit_label(spec: Spec) -> Result:
    """W7: `add_tasks` (16 at once, each with its derived unique_id) + `results(batch)`."""
    import batchkit

    specs = [
        batchkit.TaskSpec(
            "imageannotation", {"attachment": f"https://img.test/{i}.png", "geometries": BOXES}
        )
        for i in range(spec["tasks"])
    ]
    with (
        batchkit.connect("scale", api_root=spec["root"], api_key=spec["api_key"]) as p,
        measured() as result,
    ):
        p.add_tasks(spec["batch"], specs)
        count = sum(1 for _ in p.results(spec["batch"]))
    result["count"] = count
    return result


KIT_SIDES: dict[str, Callable[[Spec], Result]] = {
    "kit-upload": kit_upload,
    "asyncio-upload": asyncio_upload,
    "httpx-upload": httpx_upload,
    "kit-calls": kit_calls,
    "httpx-calls": httpx_calls,
    "kit-large": kit_large,
    "httpx-large": httpx_large,
    "kit-list": kit_list,
    "kit-label": kit_label,
}


# -- the SDK venv -----------------------------------------------------------------------


def installed_pins(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "names = sys.argv[1:]\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return ''\n"
        "print(json.dumps({n: v(n) for n in names}))"
    )
    names = [*SDK_PINS, "urllib3", "requests", "pydantic"]
    out = subprocess.run(
        [str(python), "-c", code, *names], capture_output=True, text=True, timeout=60, check=True
    )
    versions: dict[str, str] = json.loads(out.stdout)
    return versions


def sdk_venv(venv: Path) -> Path:
    """The SDK venv's interpreter, creating the venv (or fixing its pins) if need be."""
    python = venv / "bin" / "python"
    if python.exists():
        versions = installed_pins(python)
        if all(versions[name] == pin for name, pin in SDK_PINS.items()):
            return python
    else:
        print(f"creating the SDK venv in {venv}", file=sys.stderr, flush=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pins = [f"{name}=={pin}" for name, pin in SDK_PINS.items()]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins],
        check=True,
        timeout=900,
    )
    return python


# -- main -------------------------------------------------------------------------------


WORKLOADS: dict[str, Callable[[Bench], None]] = {
    "w1": w1,
    "w2": w2,
    "w3": w3,
    "w4": w4,
    "w5": w5,
    "w6": w6,
    "w7": w7,
}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--side":
        return run_main(KIT_SIDES, sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--listing-emulator":
        return serve_listing_emulator(int(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="*", choices=[*WORKLOADS, []], default=[])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, 1 repetition")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--profile", action="store_true", help="profile batchkit's W1 at 0 ms")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="the SDK venv")
    args = parser.parse_args()

    import batchkit

    sizes = QUICK if args.quick else FULL
    bench = Bench(sizes, sdk_venv(args.venv.expanduser()))
    versions = installed_pins(bench.sdk_python)
    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load[0]:.2f}; "
        f"batchkit {batchkit.__version__}, httpx {httpx.__version__}; "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + f"; median of {sizes.reps}{' (quick)' if args.quick else ''}",
        flush=True,
    )
    started = time.monotonic()
    for name in args.which or list(WORKLOADS):
        WORKLOADS[name](bench)
    if args.profile:
        profile_w1(bench)
    print(f"\n{time.monotonic() - started:.0f} s, load {os.getloadavg()[0]:.2f} at the end\n")
    print_table(bench.rows)
    if bench.failures:
        print("\nFailures (an SDK call the emulator refused is a fidelity bug):")
        for failure in bench.failures:
            print(f"- {failure.workload} / {failure.side}: {failure.error}")
            if failure.traceback:
                print("  " + failure.traceback.strip().replace("\n", "\n  "))
    if bench.profile:
        print("\ncProfile of batchkit's side of W1 at 0 ms (batchkit, httpx, httpcore):")
        print(bench.profile)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "versions": versions,
                    "sizes": sizes.__dict__,
                    "runs": bench.runs,
                    "rows": [row.__dict__ for row in bench.rows],
                    "failures": [failure.__dict__ for failure in bench.failures],
                    "profile": bench.profile,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
