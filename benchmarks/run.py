"""batchkit benchmarks: each prints its figures and the ratio against a baseline, one run.

    python benchmarks/run.py            # all of B1..B7
    python benchmarks/run.py b1 b3      # some
    python benchmarks/run.py --quick    # smaller sizes (a smoke run, not the reported figures)

Everything runs against the loopback emulator (B3: its in-process transport). Memory figures
are peak RSS (VmHWM) of the process in question; timings are wall-clock medians.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import batchkit
from batchkit.emulator import Emulator

MiB = 1024 * 1024


def rss_peak_mib(pid: int | None = None) -> float:
    """Peak resident memory (VmHWM) of a process, MiB."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_rss_peak() -> None:
    """Reset VmHWM for this process (Linux: write 5 to clear_refs)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_now_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def emulator_process(*args: str) -> Iterator[tuple[str, int]]:
    """The emulator as a separate process (so its memory is measured apart from the client)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchkit.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    try:
        url = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "AI Hub API root:" in line:
                url = line.split("AI Hub API root:", 1)[1].strip().removesuffix("/api")
                break
        if not url:
            raise RuntimeError("emulator did not start")
        # keep reading its log, or a full pipe would stall the server
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(name: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {name}")
    for label, value in rows:
        print(f"   {label:<44} {value}")


RESULTS: dict[str, dict[str, float]] = {}


# -- B1 --------------------------------------------------------------------------------


def b1(quick: bool) -> None:
    """500 files of 4 KB, 20 ms latency per request: batchkit upload vs a sequential loop."""
    n = 100 if quick else 500
    payload = os.urandom(4096)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(n):
            (folder / f"f{i:04d}.bin").write_bytes(payload)
        # the server runs in its own process, as a real vendor would
        with emulator_process("--latency", "0.020") as (url, _):
            root = url + "/api"
            p = batchkit.connect("aihub", api_root=root, token="b1")
            batch = p.create_batch("b1-batchkit")
            t_kit = timed(lambda: p.upload(batch, folder, strict=True))
            raw_batch = p.create_batch("b1-raw")
            headers = {"Authorization": "Bearer b1", "Content-Type": "application/octet-stream"}

            def raw() -> None:
                with httpx.Client(base_url=root, headers=headers) as c:
                    for f in sorted(folder.iterdir()):
                        r = c.put(f"/v2/batches/{raw_batch.id}/files/{f.name}",
                                  content=f.read_bytes())
                        r.raise_for_status()

            t_raw = timed(raw)
            assert n == sum(1 for _ in p.list_files(raw_batch))
    ratio = t_raw / t_kit
    RESULTS["B1"] = {"files": n, "batchkit_s": t_kit, "raw_s": t_raw, "speedup": ratio}
    report("B1 many small files, 20 ms latency", [
        ("batchkit upload (defaults, incl. verify)", f"{t_kit:.2f} s  {n / t_kit:.0f} files/s"),
        ("sequential httpx PUT loop", f"{t_raw:.2f} s  {n / t_raw:.0f} files/s"),
        ("speedup (target >= 8x)", f"{ratio:.1f}x"),
    ])


# -- B2 --------------------------------------------------------------------------------


def _big_file(path: Path, size: int) -> None:
    block = os.urandom(MiB)
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(block)


def b2(quick: bool) -> None:
    """1 GiB: batchkit multipart vs one raw streaming PUT; client and emulator peak memory."""
    size = (128 if quick else 1024) * MiB
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.bin"
        _big_file(path, size)
        with emulator_process() as (url, emu_pid):
            p = batchkit.connect("aihub", api_root=url + "/api", token="b2")
            batch = p.create_batch("b2")
            gc.collect()
            before = rss_now_mib()
            reset_rss_peak()
            t_kit = timed(lambda: p.upload_file(batch, "big.bin", path))
            client_growth = rss_peak_mib() - before
            emu_peak = rss_peak_mib(emu_pid)
            listed = {f.name: f.size for f in p.list_files(batch)}
            assert size == listed["big.bin"], listed

            def raw() -> None:
                def chunks() -> Iterator[bytes]:
                    with path.open("rb") as f:
                        while block := f.read(MiB):
                            yield block

                with httpx.Client(timeout=300) as c:
                    r = c.put(f"{url}/api/v2/batches/{batch.id}/files/raw.bin", content=chunks(),
                              headers={"Authorization": "Bearer b2",
                                       "Content-Length": str(size)})
                    r.raise_for_status()

            t_raw = timed(raw)
    ratio = t_raw / t_kit
    RESULTS["B2"] = {"bytes": size, "batchkit_s": t_kit, "raw_s": t_raw,
                     "throughput_ratio": ratio, "client_growth_mib": client_growth,
                     "emulator_peak_mib": emu_peak}
    report(f"B2 one {size // MiB} MiB file", [
        ("batchkit multipart upload", f"{t_kit:.2f} s  {size / MiB / t_kit:.0f} MiB/s"),
        ("raw httpx streaming PUT", f"{t_raw:.2f} s  {size / MiB / t_raw:.0f} MiB/s"),
        ("throughput ratio (target >= 0.7x)", f"{ratio:.2f}x"),
        ("client peak RSS growth (target < 150 MB)", f"{client_growth:.0f} MiB"),
        ("emulator peak RSS during the upload", f"{emu_peak:.0f} MiB"),
    ])


# -- B3 --------------------------------------------------------------------------------


def b3(quick: bool) -> None:
    """Per-call overhead: get_batch and one list_files page, batchkit vs raw httpx + json."""
    rounds = 200 if quick else 1000
    emu = Emulator()
    transport = emu.transport()
    root = Emulator.IN_PROCESS_URL + "/api"
    p = batchkit.connect("aihub", api_root=root, token="b3", transport=transport,
                         allow_insecure_http=True)
    batch = p.create_batch("b3")
    for i in range(50):
        p.upload_file(batch, f"f{i}.txt", b"x" * i)
    raw = httpx.Client(base_url=root, transport=transport, headers={"Authorization": "Bearer b3"})

    def kit() -> None:
        p.get_batch(batch.id)
        next(iter(p.list_files(batch)))

    def baseline() -> None:
        json.loads(raw.get(f"/v2/batches/{batch.id}").content)
        json.loads(raw.get(f"/v2/batches/{batch.id}/files").content)

    def one(fn: Callable[[], None]) -> float:
        n = rounds // 5
        return timed(lambda: [fn() for _ in range(n)]) / n

    for _ in range(20):  # warm up both
        kit()
        baseline()
    # alternate A/B rounds so both see the same machine noise; keep each side's best
    kit_samples, raw_samples = [], []
    for _ in range(7):
        kit_samples.append(one(kit))
        raw_samples.append(one(baseline))
    t_kit, t_raw = min(kit_samples), min(raw_samples)
    ratio = t_kit / t_raw
    RESULTS["B3"] = {"batchkit_ms": t_kit * 1000, "raw_ms": t_raw * 1000, "ratio": ratio}
    report("B3 per-call overhead (in-process transport)", [
        ("batchkit get_batch + list_files page", f"{t_kit * 1000:.2f} ms"),
        ("raw httpx + json.loads", f"{t_raw * 1000:.2f} ms"),
        ("ratio (target <= 1.3x)", f"{ratio:.2f}x"),
    ])
    p.close()
    raw.close()


# -- B4 --------------------------------------------------------------------------------


def b4(quick: bool) -> None:
    """100,000 files: lazy pagination, memory flat, time vs a raw pagination loop."""
    n = 10_000 if quick else 100_000
    with Emulator().serve() as emu:
        p = batchkit.connect("aihub", api_root=emu.aihub_api_root, token="b4")
        batch = p.create_batch("b4")
        backend = emu.aihub
        tenant = "b4"
        for i in range(n):
            blob = backend.blobs.new_path()
            blob.write_bytes(b"")
            backend.put_batch_file(tenant, int(batch.id), f"file-{i:06d}.pdf", blob, 0)

        def kit() -> int:
            return sum(1 for _ in p.list_files(batch, page_size=1000))

        def raw() -> int:
            count, token = 0, None
            with httpx.Client(base_url=emu.aihub_api_root,
                              headers={"Authorization": "Bearer b4"}) as c:
                while True:
                    params: dict[str, str | int] = {"page_size": 1000}
                    if token:
                        params["start_token"] = token
                    page = c.get(f"/v2/batches/{batch.id}/files", params=params).json()
                    count += len(page["nodes"])
                    token = page.get("next_page_token")
                    if not page.get("has_more") or not token:
                        return count

        # alternate, best of three each; memory measured in a separate pass (tracemalloc
        # slows every allocation, so it must not be on while timing)
        t_kit = t_raw = float("inf")
        for _ in range(3):
            t_raw = min(t_raw, timed(raw))
            t_kit = min(t_kit, timed(kit))
        tracemalloc.start()
        assert n == kit()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    ratio = t_kit / t_raw
    RESULTS["B4"] = {"files": n, "batchkit_s": t_kit, "raw_s": t_raw, "ratio": ratio,
                     "peak_traced_mib": peak / MiB}
    report(f"B4 listing {n:,} files (pages of 1000)", [
        ("batchkit list_files (lazy)", f"{t_kit:.2f} s"),
        ("raw pagination loop", f"{t_raw:.2f} s"),
        ("ratio (target <= 1.2x)", f"{ratio:.2f}x"),
        ("peak Python allocations while listing", f"{peak / MiB:.1f} MiB (one page at a time)"),
    ])


# -- B5 --------------------------------------------------------------------------------


def b5(quick: bool) -> None:
    """`import batchkit` vs `import httpx`, fresh interpreters, median of runs."""
    runs = 5 if quick else 15

    def cost(module: str) -> float:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    bare = cost("sys")
    t_httpx = cost("httpx")
    t_kit = cost("batchkit")
    ratio = t_kit / t_httpx
    RESULTS["B5"] = {"batchkit_ms": t_kit * 1000, "httpx_ms": t_httpx * 1000,
                     "python_ms": bare * 1000, "ratio": ratio}
    report("B5 import time (whole interpreter start)", [
        ("python -c 'import batchkit'", f"{t_kit * 1000:.0f} ms"),
        ("python -c 'import httpx'", f"{t_httpx * 1000:.0f} ms"),
        ("python -c 'import sys' (interpreter alone)", f"{bare * 1000:.0f} ms"),
        ("ratio (target <= 1.5x)", f"{ratio:.2f}x"),
    ])


# -- B6 --------------------------------------------------------------------------------


def _b6_side(mode: str, root: str, folder: str, concurrency: int) -> None:
    """One side of B6, in its own process: upload `folder`, print seconds and memory."""
    import anyio  # the side process only: batchkit itself does not import it

    files = sorted(Path(folder).iterdir())
    before = rss_now_mib()
    reset_rss_peak()
    if mode == "sync":
        with batchkit.connect("aihub", api_root=root, token="b6") as p:
            batch = p.create_batch(f"b6-{mode}")
            start = time.perf_counter()
            report_ = p.upload(batch, files, concurrency=concurrency, strict=True)
            seconds = time.perf_counter() - start
    else:

        async def run() -> tuple[float, batchkit.UploadReport]:
            async with batchkit.connect_async("aihub", api_root=root, token="b6") as p:
                batch = await p.create_batch(f"b6-{mode}")
                start = time.perf_counter()
                done = await p.upload(batch, files, concurrency=concurrency, strict=True)
                return time.perf_counter() - start, done

        seconds, report_ = anyio.run(run)
    assert len(files) == len(report_.uploaded)
    print(json.dumps({"seconds": seconds, "rss_mib": rss_peak_mib(), "rss_before": before}))


def b6(quick: bool) -> None:
    """5,000 files of 4 KB at 20 ms: the async engine vs the sync one vs the physical limit
    (files x RTT / concurrency), each side in its own process (its peak RSS), alternated."""
    n = 500 if quick else 5000
    concurrency, latency, rounds = 16, 0.020, 1 if quick else 3
    payload = os.urandom(4096)
    results: dict[str, list[dict[str, float]]] = {"sync": [], "async": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(n):
            (folder / f"f{i:05d}.bin").write_bytes(payload)
        with emulator_process("--latency", str(latency)) as (url, _):
            for _ in range(rounds):
                for mode in ("async", "sync"):
                    out = subprocess.run(
                        [sys.executable, __file__, "--b6-side", mode, url + "/api", str(folder),
                         str(concurrency)],
                        check=True, capture_output=True, text=True,
                    ).stdout
                    results[mode].append(json.loads(out.strip().splitlines()[-1]))
    floor = n * latency / concurrency
    t = {m: statistics.median(r["seconds"] for r in results[m]) for m in results}
    mem = {m: max(r["rss_mib"] for r in results[m]) for m in results}
    RESULTS["B6"] = {"files": n, "async_s": t["async"], "sync_s": t["sync"], "floor_s": floor,
                     "async_rss_mib": mem["async"], "sync_rss_mib": mem["sync"],
                     "async_vs_sync": t["sync"] / t["async"], "async_vs_floor": t["async"] / floor}
    report(f"B6 {n} files of 4 KB, {latency * 1000:.0f} ms latency, concurrency {concurrency}", [
        ("async upload (connect_async)", f"{t['async']:.2f} s  {n / t['async']:.0f} files/s"),
        ("sync upload (connect)", f"{t['sync']:.2f} s  {n / t['sync']:.0f} files/s"),
        ("physical limit (files x RTT / concurrency)", f"{floor:.2f} s"),
        ("async vs sync (higher: async faster)", f"{t['sync'] / t['async']:.2f}x"),
        ("async vs the limit (1.0 = at the limit)", f"{t['async'] / floor:.2f}x"),
        ("client peak RSS: async / sync", f"{mem['async']:.0f} MiB / {mem['sync']:.0f} MiB"),
    ])


# -- B7 --------------------------------------------------------------------------------


def b7(quick: bool) -> None:
    """2,000 Scale tasks added and 2,000 results read at 20 ms latency: `add_tasks` +
    `results` vs a sequential loop of the same calls (POST /task, then GET /tasks pages)."""
    n = 200 if quick else 2000
    boxes = {"box": {"objects_to_annotate": ["cat"]}}
    with emulator_process("--latency", "0.020") as (url, _):
        root = url + "/v1"
        p = batchkit.connect("scale", api_root=root, api_key="b7")
        p.create_project("b7", type="imageannotation")
        kit_batch = p.create_batch("b7-kit", project="b7")
        p.create_batch("b7-raw", project="b7")
        specs = [
            batchkit.TaskSpec("imageannotation", {"attachment": f"https://img.test/{i}.png",
                                                  "geometries": boxes})
            for i in range(n)
        ]
        reset_rss_peak()
        before = rss_now_mib()

        def kit() -> int:
            p.add_tasks(kit_batch, specs)
            return sum(1 for _ in p.results(kit_batch))

        def raw() -> int:
            with httpx.Client(base_url=root, auth=("b7", "")) as c:
                for i in range(n):
                    c.post("/task/imageannotation", json={
                        "project": "b7", "batch": "b7-raw", "unique_id": f"raw-{i}",
                        "attachment": f"https://img.test/{i}.png", "geometries": boxes,
                    }).raise_for_status()
                count, token = 0, None
                while True:
                    params: dict[str, str | int] = {"batch": "b7-raw", "limit": 100}
                    if token:
                        params["next_token"] = token
                    page = c.get("/tasks", params=params).json()
                    count += len(page["docs"])
                    token = page.get("next_token")
                    if not page.get("has_more") or not token:
                        return count

        counts: dict[str, int] = {}
        t_kit = timed(lambda: counts.__setitem__("kit", kit()))
        growth = rss_peak_mib() - before
        t_raw = timed(lambda: counts.__setitem__("raw", raw()))
        assert {"kit": n, "raw": n} == counts
    ratio = t_raw / t_kit
    RESULTS["B7"] = {"tasks": n, "batchkit_s": t_kit, "raw_s": t_raw, "speedup": ratio,
                     "client_rss_growth_mib": growth}
    report(f"B7 {n} Scale tasks added and {n} results read, 20 ms latency", [
        ("batchkit add_tasks + results", f"{t_kit:.2f} s  {n / t_kit:.0f} tasks/s"),
        ("sequential POST /task + GET /tasks loop", f"{t_raw:.2f} s  {n / t_raw:.0f} tasks/s"),
        ("speedup", f"{ratio:.1f}x"),
        ("client peak RSS growth", f"{growth:.0f} MiB"),
    ])


BENCHMARKS = {"b1": b1, "b2": b2, "b3": b3, "b4": b4, "b5": b5, "b6": b6, "b7": b7}


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--b6-side":
        _b6_side(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="*", choices=[*BENCHMARKS, []], default=[])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, batchkit "
          f"{batchkit.__version__}{' (quick)' if args.quick else ''}")
    for name in args.which or list(BENCHMARKS):
        BENCHMARKS[name](args.quick)
    if args.json:
        args.json.write_text(json.dumps(RESULTS, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
