"""Fault soak: bulk upload into an AI Hub emulator that fails, rate-limits, resets, loses
and delays responses at random (seeded), then check the batch against the local files.

    python benchmarks/soak.py                        # the CI size (160 files), seed 20261122
    python benchmarks/soak.py --files 1000 --seed 7  # a bigger run
    python benchmarks/soak.py --help                 # sizes, rates, timeouts

`tests/reliability/test_fault_soak.py` runs `run_soak()` at the CI size and asserts on the
`SoakResult`; this script prints the same result as a summary and exits 1 if any check
failed. What a run does, against a loopback emulator with small multipart parts (so files
straddle the client's lowered `multipart_threshold` while staying small):

1. upload every file under faults, `verify="sha256"`, with a resume journal;
2. delete a sample of the uploaded files under faults;
3. rerun the same upload (resume) under faults until no file fails (a few passes at most:
   an AI Hub multipart start that fails after it may have been applied is not repeated, so
   its file fails, by design, and the next pass sends it);
4. list the batch under faults, then finish every deletion job the client left unpolled.

After every pass it compares each file's report with the server's real state (read straight
from the emulator's backend, not over HTTP): a file reported uploaded or skipped must be
there byte-exact; a file reported failed must cite an error that was really injected. At the
end every file must be on the server byte-exact (sha256 of every file), with nothing extra,
no duplicate in the client's listing, no multipart session open and one batch.

Faults are decided by one seeded generator in request arrival order; with concurrent
uploads the arrival order (so which request gets which fault) varies a little between runs,
the fault mix does not.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import logging
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import batchkit
from batchkit.emulator import Emulator, Fault, Faults, Latency, RequestRecord

KiB = 1024
TENANT = "soak-tenant"

#: Every raw path except the AI Hub multipart *start* (POST /api/v2/batches/multipart-upload).
#: Faults that let the vendor act and then keep its answer from the client (lost, dropped,
#: or slower than the client's timeout) are scoped to these. A start whose answer never
#: arrives has opened a session the client never learns of, and AI Hub has no endpoint
#: listing sessions, so nobody can abort it: a documented, unavoidable leak (the client fails
#: that file without repeating the start). Every other applied-then-lost request (parts,
#: single-file PUTs, commits, aborts, deletes, reads) must be survived without a trace.
NOT_MULTIPART_START = re.compile(r"(?!/api/v2/batches/multipart-upload\Z).*")

SINGLE_FILE = re.compile(r"/api/v2/batches/[0-9]+/files/[^/]+")
SESSION = re.compile(r"/api/v2/batches/multipart-upload/sessions/[^/]+")
PART = re.compile(r"/api/v2/batches/multipart-upload/sessions/[^/]+/parts/[0-9]+")
FILESYSTEM = "/api/v2/files/*"

#: what a request was, by method and raw path (for the fault breakdown)
REQUEST_KINDS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("multipart start", "POST", re.compile(r"/api/v2/batches/multipart-upload")),
    ("part", "PUT", PART),
    ("commit/abort", "POST", SESSION),
    ("single-file PUT", "PUT", SINGLE_FILE),
    ("delete file", "DELETE", SINGLE_FILE),
    ("list files", "GET", re.compile(r"/api/v2/batches/[0-9]+/files")),
    ("job poll", "GET", re.compile(r"/api/v2/batches/jobs/.+")),
    ("read file", "GET", re.compile(r"/api/v2/files/.+")),
    ("get batch", "GET", re.compile(r"/api/v2/batches/[0-9]+")),
    ("list batches", "GET", re.compile(r"/api/v2/batches")),
)


def request_kind(record: RequestRecord) -> str:
    """What the request was: "part", "commit/abort", "read file", ..."""
    for kind, method, pattern in REQUEST_KINDS:
        if record.method == method and pattern.fullmatch(record.path):
            return kind
    return f"{record.method} {record.path}"


#: httpx errors a connection-level fault surfaces as, in failure reasons
CONNECTION_ERRORS = (
    "RemoteProtocolError",
    "ReadTimeout",
    "ReadError",
    "WriteError",
    "WriteTimeout",
    "ConnectError",
    "connection broke",
)
CONNECTION_FAULTS = frozenset({"reset", "lost_response", "drop", "slow"})


@dataclass(frozen=True)
class SoakConfig:
    """What to upload, how hard to fail, and how patient the client is."""

    files: int = 160
    seed: int = 20261122
    #: the client's multipart_threshold: files above it go up in parts
    threshold: int = 64 * KiB
    #: the emulator's multipart part size
    part_size: int = 16 * KiB
    #: the largest file (default: 4 x threshold)
    max_size: int | None = None
    concurrency: int = 16
    #: the client's HTTP timeout; the "too slow" fault waits longer than this
    timeout: float = 3.0
    #: multiplies every fault rate (1.0: about 19% of requests are faulted)
    fault_scale: float = 1.0
    #: share of the uploaded files deleted between the first and second pass
    delete_fraction: float = 0.1
    #: upload passes allowed before giving up on a complete batch
    max_passes: int = 6
    retry_attempts: int = 12

    @property
    def biggest(self) -> int:
        return self.max_size if self.max_size is not None else 4 * self.threshold


def fault_rules(config: SoakConfig) -> list[Fault]:
    """The soak's fault mix (rates are per request; the first rule that fires wins)."""
    s = config.fault_scale

    def r(rate: float) -> float:
        return min(1.0, rate * s)

    late = config.timeout + 0.5  # longer than the client waits
    # the first few of each kind of request that is rare or matters most: certain, so every
    # run has them (fault_scale 0 turns them off with the rest)
    certain = (
        [
            # applied, then the answer is lost: a deletion, a single-file PUT, a commit
            Fault.lost_response(methods={"DELETE"}, times=3),
            Fault.lost_response(methods={"PUT"}, paths=SINGLE_FILE, times=3),
            Fault.lost_response(methods={"POST"}, paths=SESSION, times=3),
            # a read cut short mid-body: the download resumes from the last byte received
            Fault.drop(methods={"GET"}, paths=FILESYSTEM, times=3),
            # a part answered after the client gave up on it (ReadTimeout): sent again
            Fault.slow(late, methods={"PUT"}, paths=PART, times=1),
        ]
        if s > 0
        else []
    )
    return [
        *certain,
        # more of the same where requests are few
        Fault.lost_response(rate=r(0.2), methods={"DELETE"}),
        Fault.lost_response(rate=r(0.05), methods={"PUT"}, paths=SINGLE_FILE),
        Fault.lost_response(rate=r(0.05), methods={"POST"}, paths=SESSION),
        Fault.drop(rate=r(0.03), methods={"GET"}, paths=FILESYSTEM),
        # refused before the vendor sees them: retried by the client, creates included
        # for 429/503 (provably never applied); a 500/502/504 on a multipart start is
        # not repeated (it may have been applied) and fails that file for this pass
        Fault.status(500, rate=r(0.015)),
        Fault.status(502, rate=r(0.015)),
        Fault.status(503, rate=r(0.015)),
        Fault.status(503, rate=r(0.005), retry_after=1),
        Fault.status(504, rate=r(0.01)),
        Fault.rate_limit(rate=r(0.02), retry_after=0),
        Fault.rate_limit(rate=r(0.01), retry_after=1),
        Fault.rate_limit(rate=r(0.005), retry_after=2),
        # connection closed before the vendor sees the request (any request)
        Fault.reset(rate=r(0.025)),
        # the vendor acted, the answer never (wholly) arrives: see NOT_MULTIPART_START
        Fault.lost_response(rate=r(0.025), paths=NOT_MULTIPART_START),
        Fault.drop(rate=r(0.02), paths=NOT_MULTIPART_START),
        # slower than the client's timeout: capped, so they land early in the first pass
        # among many files in flight rather than on the tail of every pass (each costs a
        # whole timeout of waiting)
        Fault.slow(
            late,
            rate=r(0.005),
            paths=NOT_MULTIPART_START,
            times=max(3, config.files // 50),
        ),
        # slow but within the client's timeout: harmless anywhere
        Fault.slow(0.25, rate=r(0.02)),
    ]


def file_sizes(config: SoakConfig) -> list[int]:
    """Sizes around every edge: empty, tiny, just under / at / over the threshold, exact
    multiples of the part size and one byte either side, and anything up to the biggest."""
    rng = random.Random(config.seed)
    t, p, top = config.threshold, config.part_size, max(config.biggest, config.threshold + 2)
    multiples = [k * p for k in range(t // p + 1, top // p + 1)] or [top]
    sizes = []
    for i in range(config.files):
        kind = i % 8
        if i == 0:
            size = 0
        elif kind == 0:
            size = rng.randint(1, 2 * KiB)
        elif kind == 1:
            size = rng.randint(1, t - 1)
        elif kind == 2:
            size = t - rng.randint(0, min(16, t - 1))  # single PUT, at or just under
        elif kind == 3:
            size = t + rng.randint(1, 16)  # multipart with a tiny last part
        elif kind == 4:
            size = rng.choice(multiples)  # every part exactly part_size
        elif kind == 5:
            size = rng.choice(multiples) + rng.choice((-1, 1))
        elif kind == 6:
            size = rng.randint(t + 1, top)
        else:
            size = rng.randint(0, top)
        sizes.append(min(size, top))
    return sizes


#: decorations that make names exercise percent-encoding on every path
_NAME_FORMS = ("doc-{i:05d}.bin", "scan {i:05d}.pdf", "ünïcode-{i:05d}.txt", "100%-#{i:05d}.dat")


def write_files(config: SoakConfig, folder: Path) -> dict[str, tuple[int, str]]:
    """Write the soak's files (seeded content) into `folder`: name -> (size, sha256)."""
    rng = random.Random(config.seed + 1)
    folder.mkdir(parents=True, exist_ok=True)
    local = {}
    for i, size in enumerate(file_sizes(config)):
        name = _NAME_FORMS[i % len(_NAME_FORMS)].format(i=i)
        data = rng.randbytes(size)
        (folder / name).write_bytes(data)
        local[name] = (size, hashlib.sha256(data).hexdigest())
    return local


@dataclass
class PassResult:
    """One upload pass: what the report claimed, and which claims the server contradicts."""

    number: int
    uploaded: int = 0
    skipped: int = 0
    failed: int = 0
    #: names by reported status: "uploaded", "skipped", "failed"
    names: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    #: reported uploaded or skipped, yet not byte-exact on the server: "name: what is wrong"
    false_successes: list[str] = field(default_factory=list)
    #: reported failed while the server holds the file byte-exact (fine if the reason cites
    #: a fault that really happened: an ambiguous outcome reported as a failure)
    false_failures: list[str] = field(default_factory=list)
    #: failure reasons that cite no injected fault: "name: reason"
    unexplained_failures: list[str] = field(default_factory=list)
    #: every failure: "name: reason"
    failures: list[str] = field(default_factory=list)
    #: files deleted before this pass that it skipped instead of sending again
    skipped_deleted: list[str] = field(default_factory=list)
    #: most PUTs one path got in this pass (a file or part is sent once per pass, so this
    #: counts attempts: at most retry_attempts)
    max_put_attempts: int = 0
    requests: int = 0
    seconds: float = 0.0
    #: the upload call itself raised (nothing was reported): its error
    raised: str | None = None


@dataclass
class SoakResult:
    """Everything a soak observed; the checks pass when every problem list is empty."""

    config: SoakConfig
    local: dict[str, tuple[int, str]]
    passes: list[PassResult] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: delete_file raised (its retries ran out): "name: error"; the deletion may still have
    #: been applied (a lost answer), so the file is then gone or not: both are fine
    delete_errors: list[str] = field(default_factory=list)
    #: of those, the ones whose error cites no injected fault
    unexplained_delete_errors: list[str] = field(default_factory=list)
    #: deleted (delete_file returned) yet still on the server
    undeleted: list[str] = field(default_factory=list)
    #: at the end, name -> what is wrong on the server ("missing", "12 bytes, not 13", ...)
    final_mismatches: dict[str, str] = field(default_factory=dict)
    #: on the server but not local
    unexpected_files: list[str] = field(default_factory=list)
    #: the final listing raised (its retries ran out)
    listing_error: str | None = None
    listing_duplicates: list[str] = field(default_factory=list)
    #: the client's listing (under faults) against the local names: "+name" / "-name"
    listing_differences: list[str] = field(default_factory=list)
    open_sessions: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    #: (request kind, fault) -> how often, e.g. ("commit/abort", "lost_response")
    fault_kinds: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    requests: int = 0
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        """The last pass had no failure."""
        return bool(self.passes) and self.passes[-1].failed == 0 and not self.passes[-1].raised

    def problems(self) -> list[str]:
        """Every check that failed, in words (empty: the soak passed)."""
        out = []
        for p in self.passes:
            at = f"pass {p.number}:"
            out += [f"{at} reported done, not on the server: {x}" for x in p.false_successes]
            out += [f"{at} failure cites no injected fault: {x}" for x in p.unexplained_failures]
            out += [f"{at} skipped a deleted file: {x}" for x in p.skipped_deleted]
            if p.max_put_attempts > self.config.retry_attempts:
                out.append(f"pass {p.number}: a path got {p.max_put_attempts} PUTs")
        out += [
            f"delete_file failed, citing no injected fault: {x}"
            for x in self.unexplained_delete_errors
        ]
        if self.listing_error is not None:
            out.append(f"listing the batch failed: {self.listing_error}")
        out += [f"deleted but still there: {x}" for x in self.undeleted]
        out += [f"final: {n}: {why}" for n, why in sorted(self.final_mismatches.items())]
        out += [f"final: unexpected file on the server: {n}" for n in self.unexpected_files]
        out += [f"listing: duplicate {n}" for n in self.listing_duplicates]
        out += [f"listing: {d}" for d in self.listing_differences]
        out += [f"open multipart session: {s}" for s in self.open_sessions]
        if len(self.batches) != 1:
            out.append(f"batches: expected one, found {self.batches}")
        if not self.converged:
            out.append(f"still failing after {len(self.passes)} passes")
        return out


def server_files(emu: Emulator, batch_id: str) -> dict[str, tuple[int, str]]:
    """The batch's files as the emulator holds them (no HTTP): name -> (size, sha256)."""
    backend = emu.aihub
    folder = backend.get_batch(TENANT, int(batch_id)).folder
    found: dict[str, tuple[int, str]] = {}
    token = ""
    while True:
        page = backend.list_batch_files(TENANT, int(batch_id), page_size=1000, start_token=token)
        for node in page.nodes:
            name = node["name"]
            _, handle = backend.fs_open(TENANT, (*folder, name))
            digest = hashlib.sha256()
            with handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            found[name] = (node["metadata"]["size"], digest.hexdigest())
        if not page.has_more or page.next_page_token is None:
            return found
        token = page.next_page_token


def _wrong(expected: tuple[int, str], actual: tuple[int, str] | None) -> str | None:
    if actual is None:
        return "missing"
    if actual[0] != expected[0]:
        return f"{actual[0]} bytes, not {expected[0]}"
    if actual[1] != expected[1]:
        return f"sha256 {actual[1][:12]}…, not {expected[1][:12]}…"
    return None


def explained(reason: str, log: Sequence[RequestRecord]) -> bool:
    """Whether a failure reason cites a fault that was really injected: an HTTP status some
    injected fault answered, or a connection error after a connection-level fault."""
    injected_status = {r.status for r in log if r.fault is not None and r.fault.isdigit()}
    codes = {int(c) for c in re.findall(r"\bHTTP (\d{3})\b", reason)}
    if codes:
        return codes <= injected_status
    if any(name in reason for name in CONNECTION_ERRORS):
        return any(r.fault in CONNECTION_FAULTS for r in log)
    return False


def _check_pass(
    number: int,
    report: batchkit.UploadReport,
    emu: Emulator,
    batch_id: str,
    local: dict[str, tuple[int, str]],
    log: Sequence[RequestRecord],
    deleted: set[str],
) -> PassResult:
    on_server = server_files(emu, batch_id)
    result = PassResult(number)
    for f in report.files:
        result.names[f.status].add(f.name)
        wrong = _wrong(local[f.name], on_server.get(f.name))
        if f.status in ("uploaded", "skipped"):
            if f.status == "uploaded":
                result.uploaded += 1
            else:
                result.skipped += 1
                if f.name in deleted:
                    result.skipped_deleted.append(f.name)
            if wrong is not None:
                result.false_successes.append(f"{f.name} ({f.status}): {wrong}")
        elif f.status == "failed":
            result.failed += 1
            reason = f.reason or ""
            result.failures.append(f"{f.name}: {reason}")
            if not explained(reason, log):
                result.unexplained_failures.append(f"{f.name}: {reason} (server: {wrong or 'ok'})")
            elif wrong is None:
                result.false_failures.append(f"{f.name}: {reason}")
    puts = collections.Counter(r.path for r in log if r.method == "PUT")
    result.max_put_attempts = max(puts.values(), default=0)
    result.requests = len(log)
    return result


def run_soak(config: SoakConfig, workdir: Path, *, progress: bool = False) -> SoakResult:
    """Run the whole soak in `workdir` (files and journal go there) and return what it saw."""
    say = print if progress else (lambda *a, **k: None)
    started = time.monotonic()
    folder = workdir / "files"
    journal = workdir / "journal.jsonl"
    local = write_files(config, folder)
    result = SoakResult(config, local)
    faults = Faults(seed=config.seed, rules=fault_rules(config))
    latency = Latency(jitter=0.002, seed=config.seed)
    with Emulator(job_polls=1, part_size=config.part_size, latency=latency).serve() as emu:
        p = batchkit.connect(
            "aihub",
            api_root=emu.aihub_api_root,
            token=TENANT,
            multipart_threshold=config.threshold,
            timeout=config.timeout,
            retry_attempts=config.retry_attempts,
            retry_wait_initial=0.01,
            retry_wait_max=0.05,
            retry_timeout=120.0,
            poll_initial=0.0,
            poll_max=0.05,
        )
        try:
            # an AI Hub create is not idempotent: a lost create answer is the caller's to
            # check (test_lost_responses covers it), so the batch is made before the faults
            batch = p.create_batch("soak")
            emu.faults = faults
            deleted: set[str] = set()
            for number in range(1, config.max_passes + 1):
                first = len(emu.requests)
                t0 = time.monotonic()
                try:
                    report = p.upload(
                        batch,
                        folder,
                        concurrency=config.concurrency,
                        verify="sha256",
                        resume=journal,
                    )
                except batchkit.BatchkitError as e:
                    # e.g. the resume listing ran out of retries: the whole pass failed
                    log = list(emu.requests)[first:]
                    checked = PassResult(number, raised=str(e), requests=len(log))
                    if not explained(str(e), log):
                        checked.unexplained_failures.append(f"upload raised: {e}")
                    checked.seconds = time.monotonic() - t0
                    result.passes.append(checked)
                    say(f"pass {number}: upload raised {type(e).__name__}: {e}")
                    continue
                seconds = time.monotonic() - t0
                log = list(emu.requests)[first:]
                checked = _check_pass(number, report, emu, batch.id, local, log, deleted)
                checked.seconds = seconds
                result.passes.append(checked)
                say(
                    f"pass {number}: {checked.uploaded} uploaded, {checked.skipped} skipped, "
                    f"{checked.failed} failed, {checked.requests} requests, {seconds:.1f} s"
                )
                deleted = set()
                if number == 1:
                    deleted = _delete_some(p, emu, batch.id, report, config, result)
                elif report.ok:
                    break
            try:
                listed = [f.name for f in p.list_files(batch, page_size=7)]
            except batchkit.BatchkitError as e:
                result.listing_error = str(e)
                listed = list(local)
            emu.faults = None
            counts = collections.Counter(listed)
            result.listing_duplicates = sorted(n for n, c in counts.items() if c > 1)
            result.listing_differences = [f"+{n}" for n in sorted(set(listed) - set(local))] + [
                f"-{n}" for n in sorted(set(local) - set(listed))
            ]
            # deletion jobs the client stopped polling (a DELETE whose answer was lost and
            # was sent again) still run at the vendor: they must not touch re-sent files
            emu.aihub.finish_jobs()
            on_server = server_files(emu, batch.id)
            for name, expected in local.items():
                wrong = _wrong(expected, on_server.get(name))
                if wrong is not None:
                    result.final_mismatches[name] = wrong
            result.unexpected_files = sorted(set(on_server) - set(local))
            result.open_sessions = emu.aihub.open_sessions()
            result.batches = [b.name for b in p.list_batches()]
            log = list(emu.requests)
            result.requests = len(log)
            for record in log:
                if record.fault is not None:
                    result.faults[record.fault] += 1
                    result.fault_kinds[request_kind(record), record.fault] += 1
        finally:
            emu.faults = None
            p.close()
    result.seconds = time.monotonic() - started
    return result


def _delete_some(
    p: batchkit.BatchProvider,
    emu: Emulator,
    batch_id: str,
    report: batchkit.UploadReport,
    config: SoakConfig,
    result: SoakResult,
) -> set[str]:
    """Delete a seeded sample of the uploaded files under faults; check they are gone."""
    uploaded = sorted(f.name for f in report.uploaded)
    count = min(len(uploaded), max(1, round(config.files * config.delete_fraction)))
    chosen = random.Random(config.seed + 2).sample(uploaded, count)

    def delete(name: str) -> str | None:
        try:
            p.delete_file(batch_id, name)
        except batchkit.BatchkitError as e:
            return f"{name}: {e}"
        return None

    first = len(emu.requests)
    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(pool.map(delete, chosen))
    log = list(emu.requests)[first:]
    result.delete_errors = [e for e in errors if e is not None]
    result.unexplained_delete_errors = [e for e in result.delete_errors if not explained(e, log)]
    done = {name for name, e in zip(chosen, errors, strict=True) if e is None}
    result.deleted = sorted(done)
    on_server = server_files(emu, batch_id)
    result.undeleted = sorted(n for n in done if n in on_server)
    return done


def summary(result: SoakResult) -> Iterator[str]:
    """The result in a few lines."""
    c = result.config
    sizes = [size for size, _ in result.local.values()]
    multipart = sum(1 for s in sizes if s > c.threshold)
    yield (
        f"soak seed={c.seed}: {len(sizes)} files, {sum(sizes) / 2**20:.1f} MiB "
        f"({multipart} multipart: threshold {c.threshold} B, parts of {c.part_size} B; "
        f"sizes 0..{max(sizes, default=0)} B), concurrency {c.concurrency}, "
        f"fault scale {c.fault_scale:g}"
    )
    total = sum(result.faults.values())
    share = total / result.requests if result.requests else 0.0
    mix = ", ".join(f"{k} {v}" for k, v in sorted(result.faults.items()))
    yield f"  {result.requests} requests, {total} faulted ({share:.1%}): {mix}"
    by_kind: dict[str, list[str]] = collections.defaultdict(list)
    for (kind, fault), n in sorted(result.fault_kinds.items()):
        by_kind[kind].append(f"{fault} {n}")
    for kind, faults in by_kind.items():
        yield f"    {kind}: {', '.join(faults)}"
    for p in result.passes:
        yield (
            f"  pass {p.number}: {p.uploaded} uploaded, {p.skipped} skipped, {p.failed} failed "
            f"({len(p.false_failures)} of them in fact on the server), {p.requests} requests, "
            f"max {p.max_put_attempts} PUTs to one path, {p.seconds:.1f} s"
        )
        for failure in p.failures[:5]:
            yield f"    failed: {failure[:160]}"
        if len(p.failures) > 5:
            yield f"    ... and {len(p.failures) - 5} more"
        if p.raised is not None:
            yield f"    upload raised: {p.raised[:160]}"
        if p.number == 1:
            yield f"  deleted {len(result.deleted)} files under faults"
            for error in result.delete_errors:
                yield f"    delete failed: {error[:160]}"
    problems = result.problems()
    yield f"  {result.seconds:.1f} s in all; " + (
        "every check passed" if not problems else f"{len(problems)} problem(s):"
    )
    for problem in problems:
        yield f"    {problem}"


def main(argv: Sequence[str] | None = None) -> int:
    d = SoakConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=d.files, help="number of files")
    parser.add_argument("--seed", type=int, default=d.seed, help="faults, sizes and content")
    parser.add_argument("--threshold", type=int, default=d.threshold, help="multipart above")
    parser.add_argument("--part-size", type=int, default=d.part_size, help="emulator parts")
    parser.add_argument("--max-size", type=int, default=None, help="largest file (4x threshold)")
    parser.add_argument("--concurrency", type=int, default=d.concurrency)
    parser.add_argument("--timeout", type=float, default=d.timeout, help="client timeout, s")
    parser.add_argument("--fault-scale", type=float, default=d.fault_scale, help="x all rates")
    parser.add_argument("--max-passes", type=int, default=d.max_passes)
    parser.add_argument("--retry-attempts", type=int, default=d.retry_attempts, help="client")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    # stamina logs every scheduled retry as a warning: thousands here, all expected
    logging.getLogger("stamina").setLevel(logging.ERROR)
    config = SoakConfig(
        files=args.files,
        seed=args.seed,
        threshold=args.threshold,
        part_size=args.part_size,
        max_size=args.max_size,
        concurrency=args.concurrency,
        timeout=args.timeout,
        fault_scale=args.fault_scale,
        max_passes=args.max_passes,
        retry_attempts=args.retry_attempts,
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run_soak(config, args.keep, progress=True)
    else:
        with tempfile.TemporaryDirectory(prefix="batchkit-soak-") as tmp:
            result = run_soak(config, Path(tmp), progress=True)
    for line in summary(result):
        print(line)
    return 1 if result.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
