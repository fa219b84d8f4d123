"""State of one emulated AI Hub: batches, their files, deletion jobs, multipart sessions and
app runs.

Everything lives on an `AIHubBackend` instance (never in module globals), so two
emulators never share state. Each bearer token is a tenant: every lookup takes the tenant and
answers 404 for anything another tenant owns, exactly as for something that does not exist.
The methods here speak Python values, not HTTP; `responses` does the wire.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import heapq
import hmac
import json
import math
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from batchkit.emulator._errors import BadRequest, Conflict, PreconditionFailed
from batchkit.emulator._index import SortedIndex, newest_first, window
from batchkit.emulator._input import excerpt
from batchkit.emulator.aihub import apps
from batchkit.emulator.aihub.apps import (
    App,
    Extracted,
    ResultFlags,
    ResultsPage,
    Run,
    RunDeletion,
    RunOptions,
)
from batchkit.emulator.aihub.errors import not_found
from batchkit.emulator.aihub.storage import (
    BlobStore,
    FileNode,
    FileTree,
    FolderNode,
    Node,
    write_at,
)

MIB = 1024 * 1024
#: Part size announced by a multipart session unless the backend is built with another.
DEFAULT_PART_SIZE = 10 * MIB
#: Workspace of a batch created without one (the docs' examples use ``my-repo``).
DEFAULT_WORKSPACE = "my-repo"
#: The drive every emulated batch is stored on.
MOUNT_POINT = "Instabase Drive"
#: Longest batch name, file name, workspace name or path segment accepted.
MAX_NAME_LENGTH = 255

PENDING = "PENDING"
RUNNING = "RUNNING"
COMPLETE = "COMPLETE"

#: Emulated seconds an asynchronous job takes (by the backend's clock) unless built otherwise.
DEFAULT_JOB_SECONDS = 0.2
#: Polls a job answers PENDING/RUNNING before it completes, unless built otherwise.
DEFAULT_JOB_POLLS = 2
#: A job is due once the clock is within this many seconds of its due time, so that a fake
#: clock advanced by 0.1 twice reaches a 0.2 s job despite floating-point rounding.
DUE_TOLERANCE = 1e-6
#: Results files per page of get-run-results unless built otherwise (the spec leaves the page
#: size to the server; a small one makes clients exercise ``file_offset`` paging).
DEFAULT_RESULTS_PAGE_SIZE = 10
#: list-runs without ``from_timestamp`` lists runs started in the last 24 hours (the spec)
LIST_RUNS_WINDOW = 24 * 60 * 60


class _LikeJobs(enum.Enum):
    LIKE_JOBS = "like jobs"


#: Default of ``run_polls`` / ``run_seconds``: the same as ``job_polls`` / ``job_seconds``.
LIKE_JOBS = _LikeJobs.LIKE_JOBS


def username_for(tenant: str) -> str:
    """The stable user name (and ``repo_owner``) of a tenant: derived from, never equal to, it."""
    return "user-" + hashlib.sha256(tenant.encode()).hexdigest()[:12]


def check_segment(value: str, what: str) -> str:
    """Validate one path segment (a workspace, a file or folder name); return it unchanged."""
    if not value:
        raise BadRequest(f"{what} must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        raise BadRequest(
            f"{what} is {len(value)} characters long; the maximum is {MAX_NAME_LENGTH}"
        )
    if "/" in value:
        raise BadRequest(f"{what} {value!r} contains '/': names are flat, use another name")
    if "\x00" in value:
        raise BadRequest(f"{what} {value!r} contains a NUL character")
    if value in (".", ".."):
        raise BadRequest(f"{what} {value!r} is not a valid name")
    return value


def check_job_timing(
    *, job_polls: int | None, job_seconds: float | None, what: str = "job"
) -> None:
    """Refuse job (or run) timing settings that make no sense (``ValueError`` naming the
    value)."""
    if job_polls is not None and (
        isinstance(job_polls, bool) or not isinstance(job_polls, int) or job_polls < 0
    ):
        raise ValueError(f"{what}_polls must be an integer >= 0 or None, got {job_polls!r}")
    if job_seconds is not None and (
        isinstance(job_seconds, bool)
        or not isinstance(job_seconds, int | float)
        or not math.isfinite(job_seconds)
        or job_seconds < 0
    ):
        raise ValueError(
            f"{what}_seconds must be a finite number >= 0 or None, got {job_seconds!r}"
        )


def _ns(seconds: float) -> int:
    """Unix seconds as Unix nanoseconds (the run timestamps' unit)."""
    return round(seconds * 1_000_000_000)


def check_batch_file_name(name: str) -> str:
    """Validate a batch file name: a flat segment with a non-empty stem and extension."""
    check_segment(name, "file name")
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension):
        raise BadRequest(
            f"file name {name!r} has no file extension: batch file names must include one, "
            "e.g. 'invoice.pdf'"
        )
    return name


@dataclass(eq=False)
class Batch:
    """One batch; its files are the files directly inside its folder of the shared tree."""

    id: int
    tenant: str
    name: str
    workspace: str
    owner: str
    created_at_ms: int
    updated_at_ms: int
    path_suffix: str
    mount_point: str = MOUNT_POINT
    deletion: Job | None = None

    @property
    def folder(self) -> tuple[str, ...]:
        """Path segments of the batch's folder in the tree."""
        return (self.owner, self.workspace, "fs", self.mount_point, *self.path_suffix.split("/"))

    def full_path(self, name: str) -> str:
        """The Filesystem API path of the batch file ``name`` (as in list-files ``full_path``)."""
        return "/" + "/".join((*self.folder, name))

    def to_json(self) -> dict[str, Any]:
        """The batch object exactly as get/list return it."""
        return {
            "id": self.id,
            "name": self.name,
            "workspace": self.workspace,
            "mount_point": self.mount_point,
            "repo_owner": self.owner,
            "batch_owner": self.owner,
            "created_at_ms": self.created_at_ms,
            "updated_at_ms": self.updated_at_ms,
            "path_suffix": self.path_suffix,
        }


@dataclass(eq=False)
class Job:
    """An asynchronous deletion; it completes (and takes effect) at ``due`` by the backend's
    clock or after ``job_polls`` polls, whichever comes first (see `AIHubBackend`)."""

    id: str
    tenant: str
    description: str
    action: Callable[[], str] | None
    created: float = 0.0
    due: float | None = None
    state: str = PENDING
    message: str = ""
    polls: int = 0

    def to_json(self) -> dict[str, Any]:
        """The poll response body."""
        return {"state": self.state, "message": self.message}


@dataclass(frozen=True)
class FilePage:
    """One page of a batch's file listing."""

    nodes: list[dict[str, Any]]
    #: ``""`` on the last page
    next_page_token: str
    has_more: bool

    def to_json(self) -> dict[str, Any]:
        """The list-files response body; on the last page ``next_page_token`` is ``""``.

        The spec types ``next_page_token`` as a (non-nullable, optional) string: ``""`` keeps
        the key a string on every page, and is falsy for clients that loop ``while token``.
        """
        return {
            "nodes": self.nodes,
            "next_page_token": self.next_page_token,
            "has_more": self.has_more,
        }


@dataclass(eq=False)
class Part:
    """The last complete upload of one part: its bytes are in its region of the session file."""

    num: int
    part_id: str
    size: int


@dataclass(eq=False)
class Session:
    """A multipart upload session writing ``filename`` of ``file_size`` bytes into a batch.

    Every part is written straight into one session file, part *n* at ``(n - 1) * part_size``,
    so committing hands that file to the batch (truncated to ``file_size``) without a copy.
    ``parts`` holds the last complete upload of each part. ``writers`` maps a part number to
    the ticket of the one upload allowed to write its region now (the latest started); an
    upload checks its ticket under ``lock`` before each write, so once a newer upload of the
    same part has started, an older one writes nothing more.
    """

    id: str
    tenant: str
    batch_id: int
    filename: str
    file_size: int
    part_size: int
    path: Path
    parts: dict[int, Part] = field(default_factory=dict)
    writers: dict[int, int] = field(default_factory=dict)
    highest_started: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def expected_parts(self) -> int:
        """How many parts the file takes (at least one, so an empty file may send one part)."""
        return max(1, math.ceil(self.file_size / self.part_size))


#: the largest file a multipart session may announce (the emulator's own limit)
MAX_FILE_SIZE = 1 << 40


@dataclass(eq=False)
class PartUpload:
    """One part request writing its body into its region of the session file.

    ``received`` counts every byte of the body; bytes past ``part_size`` are not written
    (``overflowed``), so an oversized part never spills into the next part's region.
    """

    session: Session
    num: int
    ticket: int
    fd: int
    received: int = 0
    overflowed: bool = False

    def write(self, chunk: bytes) -> None:
        """Write the next chunk of the body at its place in the part's region."""
        session = self.session
        if not self.overflowed and self.received + len(chunk) > session.part_size:
            self.overflowed = True
        if not self.overflowed:
            offset = (self.num - 1) * session.part_size + self.received
            with session.lock:
                if session.writers.get(self.num) == self.ticket:
                    write_at(self.fd, chunk, offset)
        self.received += len(chunk)


class AIHubBackend:
    """The state of one emulated AI Hub, shared by the Batches and the Filesystem API.

    ``clock`` gives Unix seconds, for timestamps and job timing; nothing ever waits on it.
    ``storage_dir`` is a directory this backend may fill with blob files (the caller creates
    and removes it).

    Jobs (deletions) complete, and take effect, when the first of two things happens:
    ``job_seconds`` of emulated time (by ``clock``) have passed since the job was created, or
    the job has been polled ``job_polls`` times and is polled again. ``None`` switches a
    condition off; 0 for either completes a job at once. Time is checked lazily, on every
    operation (no thread): a job nobody polls still completes, and the deleted batch or file
    disappears from every read once ``clock`` passes the job's due time.

    ``part_size`` is what multipart sessions announce (the attribute may be changed later; it
    applies to sessions started after).
    ``strict_part_order`` makes part *n* a 400 unless parts ``1..n-1`` were started first
    (re-sending a started part is always allowed); off by default, because a client sending
    parts concurrently, or retrying one after an injected fault, cannot promise arrival
    order. Either way a commit must list parts ``1..n`` in order, with no gaps.

    App runs (see `apps`) are timed like jobs: a run is ``RUNNING`` until ``run_seconds``
    of emulated time have passed since it started, or until it has been polled
    (get-run-status) ``run_polls`` times and is polled again; then ``COMPLETE``, or
    ``FAILED`` for the ``batchkit-fail`` app or while ``fail_runs`` is true. Both default to
    the job settings (`LIKE_JOBS`); ``None`` switches a condition off, 0 completes a
    run when it starts. The attributes ``run_polls``, ``run_seconds``, ``fail_runs`` and
    ``results_page_size`` may be changed later; each run keeps the values it started with
    (the page size applies at once). ``apps`` (name → `App`) and
    ``deployments`` (deployment id → app name) hold the built-in apps and their deployments;
    a test may add deployments.
    """

    def __init__(
        self,
        *,
        storage_dir: Path,
        clock: Callable[[], float] = time.time,
        job_polls: int | None = DEFAULT_JOB_POLLS,
        job_seconds: float | None = DEFAULT_JOB_SECONDS,
        part_size: int = DEFAULT_PART_SIZE,
        default_page_size: int = 100,
        max_page_size: int = 1000,
        strict_part_order: bool = False,
        run_polls: int | _LikeJobs | None = LIKE_JOBS,
        run_seconds: float | _LikeJobs | None = LIKE_JOBS,
        fail_runs: bool = False,
        results_page_size: int = DEFAULT_RESULTS_PAGE_SIZE,
    ) -> None:
        check_job_timing(job_polls=job_polls, job_seconds=job_seconds)
        if run_polls is LIKE_JOBS:
            run_polls = job_polls
        if run_seconds is LIKE_JOBS:
            run_seconds = job_seconds
        check_job_timing(job_polls=run_polls, job_seconds=run_seconds, what="run")
        if results_page_size < 1:
            raise ValueError(f"results_page_size must be >= 1, got {results_page_size}")
        if part_size < 1:
            raise ValueError(f"part_size must be >= 1, got {part_size}")
        if not 1 <= default_page_size <= max_page_size:
            raise ValueError("need 1 <= default_page_size <= max_page_size")
        self.clock = clock
        self.job_polls = job_polls
        self.job_seconds = job_seconds
        self.part_size = part_size
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.strict_part_order = strict_part_order
        self.run_polls: int | None = run_polls
        self.run_seconds: float | None = run_seconds
        self.fail_runs = fail_runs
        self.results_page_size = results_page_size
        self.apps: dict[str, App] = {app.name: app for app in apps.BUILTIN_APPS}
        self.deployments: dict[str, str] = dict(apps.BUILTIN_DEPLOYMENTS)
        self.blobs = BlobStore(Path(storage_dir) / "aihub-blobs")
        self.tree = FileTree(self.blobs, now=clock())
        self._lock = threading.RLock()
        self._batches: dict[int, Batch] = {}
        #: by ascending id: a tenant's batches under (tenant, None), those of one of its
        #: workspaces under (tenant, workspace)
        self._batch_index: dict[tuple[str, str | None], SortedIndex[Batch]] = {}
        self._jobs: dict[str, Job] = {}
        #: pending jobs and running runs with a due time: (due, sequence, job or run),
        #: earliest first
        self._due: list[tuple[float, int, Job | Run]] = []
        self._runs: dict[str, Run] = {}
        #: each tenant's runs by (start_ns, start order)
        self._run_index: dict[str, SortedIndex[Run]] = {}
        self._next_run_seq = 0
        self._next_job_seq = 0
        self._settling = False
        self._sessions: dict[str, Session] = {}
        self._next_batch_id = 1
        self._next_part_id = 1
        self._next_ticket = 1
        self._token_key = secrets.token_bytes(32)

    # ---- tenants -------------------------------------------------------------------------

    def username(self, tenant: str) -> str:
        """The user name, ``repo_owner`` and Filesystem API namespace of ``tenant``."""
        return username_for(tenant)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---- batches -------------------------------------------------------------------------

    def create_batch(self, tenant: str, *, name: str, workspace: str | None = None) -> Batch:
        """Create an empty batch (and its folder) owned by ``tenant``."""
        if not name:
            raise BadRequest("'name' must not be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise BadRequest(
                f"'name' is {len(name)} characters long; the maximum is {MAX_NAME_LENGTH}"
            )
        workspace = DEFAULT_WORKSPACE if workspace is None else workspace
        check_segment(workspace, "workspace")
        with self._lock:
            now_ms = self._now_ms()
            batch = Batch(
                id=self._next_batch_id,
                tenant=tenant,
                name=name,
                workspace=workspace,
                owner=self.username(tenant),
                created_at_ms=now_ms,
                updated_at_ms=now_ms,
                path_suffix=f"file-batches/{uuid.uuid4()}",
            )
            self._next_batch_id += 1
            self.tree.ensure_folder(batch.folder, now=self.clock())
            self._batches[batch.id] = batch
            for key in ((tenant, None), (tenant, workspace)):
                self._batch_index.setdefault(key, SortedIndex(_batch_id)).add(batch)
            return batch

    def get_batch(self, tenant: str, batch_id: int) -> Batch:
        """The tenant's batch ``batch_id``; 404 when unknown or another tenant's."""
        with self._lock:
            self._settle()
            batch = self._batches.get(batch_id)
            if batch is None or batch.tenant != tenant:
                raise not_found(f"batch {batch_id}")
            return batch

    def _writable_batch(self, tenant: str, batch_id: int) -> Batch:
        batch = self.get_batch(tenant, batch_id)
        if batch.deletion is not None:
            raise Conflict(f"batch {batch_id} is being deleted: no files can be added to it")
        return batch

    def list_batches(
        self,
        tenant: str,
        *,
        workspace: str | None = None,
        username: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Batch]:
        """The tenant's batches by ascending id, filtered, then sliced by offset and limit."""
        with self._lock:
            self._settle()
            # every batch of a tenant is owned by the tenant's user name
            if username is not None and username != self.username(tenant):
                return []
            found = self._batch_index.get((tenant, workspace))
            if found is None:
                return []
            if offset >= 0 and (limit is None or limit >= 0):
                return found.slice(offset, len(found) if limit is None else offset + limit)
            end = None if limit is None else offset + limit
            return list(found)[offset:end]

    def delete_batch(self, tenant: str, batch_id: int) -> Job:
        """Start deleting a batch and its files; deleting it again returns the same job."""
        with self._lock:
            batch = self.get_batch(tenant, batch_id)
            if batch.deletion is None:

                def action() -> str:
                    self._drop_batch(batch)
                    return f"batch {batch_id} and its files were deleted"

                batch.deletion = self._new_job(tenant, f"delete batch {batch_id}", action)
            return batch.deletion

    def _drop_batch(self, batch: Batch) -> None:
        if self._batches.pop(batch.id, None) is not None:
            for key in ((batch.tenant, None), (batch.tenant, batch.workspace)):
                self._batch_index[key].remove(batch)
        node = self.tree.lookup(batch.folder)
        if node is not None:
            self.tree.remove(batch.folder, node, now=self.clock())
        for session in [s for s in self._sessions.values() if s.batch_id == batch.id]:
            self._drop_session(session)

    def _touch_batch(self, folder: Sequence[str]) -> None:
        folder = tuple(folder)
        for batch in self._batches.values():
            if batch.folder == folder:
                batch.updated_at_ms = self._now_ms()

    # ---- batch files ---------------------------------------------------------------------

    def check_can_upload(self, tenant: str, batch_id: int, name: str) -> Batch:
        """Everything an upload is checked for before its body is read (404/409/400)."""
        batch = self._writable_batch(tenant, batch_id)
        check_batch_file_name(name)
        return batch

    def put_batch_file(self, tenant: str, batch_id: int, name: str, blob: Path, size: int) -> None:
        """Create or replace the file ``name`` of a batch with ``blob`` (ownership passes; the
        blob is discarded if the file cannot be written)."""
        with self._lock:
            try:
                self._place_batch_file(tenant, batch_id, name, blob, size)
            except Exception:
                self.blobs.discard(blob)
                raise

    def _place_batch_file(
        self, tenant: str, batch_id: int, name: str, blob: Path, size: int
    ) -> None:
        """`put_batch_file`, but on failure the blob stays the caller's."""
        batch = self.check_can_upload(tenant, batch_id, name)
        self.tree.put_file((*batch.folder, name), blob, size, now=self.clock())
        batch.updated_at_ms = self._now_ms()

    def delete_batch_file(self, tenant: str, batch_id: int, name: str) -> Job:
        """Start deleting one file of a batch; 404 when the batch or the file is unknown."""
        with self._lock:
            batch = self.get_batch(tenant, batch_id)
            path = (*batch.folder, name)
            node = self.tree.lookup(path)
            if not isinstance(node, FileNode):
                raise not_found(f"file {name!r} in batch {batch_id}")

            def action() -> str:
                if self.tree.remove(path, node, now=self.clock()):
                    batch.updated_at_ms = self._now_ms()
                    return f"file {name!r} was deleted from batch {batch_id}"
                return f"file {name!r} of batch {batch_id} was already deleted or replaced"

            return self._new_job(tenant, f"delete file {name!r} of batch {batch_id}", action)

    def list_batch_files(
        self, tenant: str, batch_id: int, *, page_size: int | None = None, start_token: str = ""
    ) -> FilePage:
        """One page of the batch's files, ordered by name (Python string order).

        ``start_token`` is an opaque, signed token naming the last file of the previous page,
        so it stays valid when files are added or removed between pages.
        """
        if page_size is None:
            page_size = self.default_page_size
        if not 1 <= page_size <= self.max_page_size:
            raise BadRequest(
                f"page_size must be between 1 and {self.max_page_size}, got {page_size}"
            )
        with self._lock:
            batch = self.get_batch(tenant, batch_id)
            after = self._decode_page_token(start_token, batch_id) if start_token else None
            folder = self.tree.lookup(batch.folder)
            page: list[str] = []
            nodes: list[dict[str, Any]] = []
            has_more = False
            if isinstance(folder, FolderNode):
                # the folder's sorted index of file names: a bisection and a slice, never a
                # pass over every file
                names = folder.file_names
                start = 0 if after is None else names.bisect_right(after)
                page = names.slice(start, start + page_size)
                has_more = start + page_size < len(names)
                for name in page:
                    node = folder.children[name]
                    assert isinstance(node, FileNode)
                    nodes.append(self._file_json(batch, name, node))
        token = self._encode_page_token(batch_id, page[-1]) if has_more else ""
        return FilePage(nodes=nodes, next_page_token=token, has_more=has_more)

    @staticmethod
    def _file_json(batch: Batch, name: str, node: FileNode) -> dict[str, Any]:
        return {
            "full_path": batch.full_path(name),
            "name": name,
            "metadata": {
                "node_type": "file",
                "size": node.size,
                "modified_timestamp": int(node.modified),
            },
            "perms": {"can_read": True, "can_write": True, "can_delete": True},
        }

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._token_key, payload, hashlib.sha256).digest()[:16]

    def _encode_page_token(self, batch_id: int, last_name: str) -> str:
        payload = json.dumps({"batch": batch_id, "after": last_name}).encode()
        return ".".join(
            base64.urlsafe_b64encode(p).decode().rstrip("=") for p in (payload, self._sign(payload))
        )

    def _decode_page_token(self, token: str, batch_id: int) -> str:
        invalid = BadRequest(
            f"start_token {excerpt(token)} is not a token this listing returned: pass the "
            "next_page_token of the previous page unchanged"
        )
        try:
            payload_b64, _, sig_b64 = token.partition(".")
            payload = _b64decode(payload_b64)
            if not hmac.compare_digest(_b64decode(sig_b64), self._sign(payload)):
                raise invalid
            data = json.loads(payload)
        except (ValueError, binascii.Error):
            raise invalid from None
        if (
            not isinstance(data, dict)
            or data.get("batch") != batch_id
            or not isinstance(data.get("after"), str)
        ):
            raise invalid
        after: str = data["after"]
        return after

    # ---- jobs ----------------------------------------------------------------------------

    def _new_job(self, tenant: str, description: str, action: Callable[[], str]) -> Job:
        now = self.clock()
        job = Job(
            id=str(uuid.uuid4()),
            tenant=tenant,
            description=description,
            action=action,
            created=now,
            due=None if self.job_seconds is None else now + self.job_seconds,
            message=f"queued: {description}",
        )
        self._jobs[job.id] = job
        if self.job_polls == 0 or self.job_seconds == 0:
            self._complete(job)
        elif job.due is not None:
            heapq.heappush(self._due, (job.due, self._next_job_seq, job))
            self._next_job_seq += 1
        return job

    def _complete(self, job: Job) -> None:
        action, job.action = job.action, None
        job.state = COMPLETE
        job.message = action() if action is not None else f"done: {job.description}"

    def _settle(self) -> int:
        """Complete, in due order, every pending job and running run whose due time ``clock``
        has reached; return how many.

        Called (under the lock) at the start of every operation, so emulated time alone
        moves jobs along: what a completed deletion removed is gone from every later read.
        """
        if not self._due or self._settling:
            return 0
        self._settling = True
        completed = 0
        try:
            now = self.clock()
            while self._due and self._due[0][0] <= now + DUE_TOLERANCE:
                due, _, item = heapq.heappop(self._due)
                if isinstance(item, Run):
                    if self._runs.get(item.id) is item and item.status == apps.RUNNING:
                        self._finish_run(item, at=due)
                        completed += 1
                elif item.state != COMPLETE:
                    self._complete(item)
                    completed += 1
        finally:
            self._settling = False
        return completed

    def advance_jobs(self) -> int:
        """Complete every job (and run) whose due time has passed by ``clock``; return how
        many.

        Every operation does this first; call it to settle state after moving a fake clock
        without making a request.
        """
        with self._lock:
            return self._settle()

    def poll_job(self, tenant: str, job_id: str) -> Job:
        """Poll a job: ``COMPLETE`` once due by the clock or on poll ``job_polls + 1``;
        before that ``PENDING`` on the first poll and ``RUNNING`` on later ones."""
        with self._lock:
            self._settle()
            job = self._jobs.get(job_id)
            if job is None or job.tenant != tenant:
                raise not_found(f"job {job_id!r}")
            if job.state == COMPLETE:
                return job
            job.polls += 1
            if self.job_polls is not None and job.polls > self.job_polls:
                self._complete(job)
            elif job.polls == 1:
                job.state, job.message = PENDING, f"queued: {job.description}"
            else:
                job.state, job.message = RUNNING, f"running: {job.description}"
            return job

    def finish_jobs(self, tenant: str | None = None) -> int:
        """Complete every pending job (of ``tenant``, or of everyone) now; return how many.

        Same effect as letting each one run to the end (in creation order), whether or not it
        is due yet: handy with ``job_seconds=None`` or a fake clock.
        """
        with self._lock:
            pending = [
                job
                for job in self._jobs.values()
                if job.state != COMPLETE and (tenant is None or job.tenant == tenant)
            ]
            for job in pending:
                self._complete(job)
            return len(pending)

    # ---- multipart -----------------------------------------------------------------------

    def start_multipart(
        self, tenant: str, *, batch_id: int, filename: str, file_size: int
    ) -> Session:
        """Open a multipart session that will write ``filename`` into the batch on commit."""
        if not 0 <= file_size <= MAX_FILE_SIZE:
            raise BadRequest(
                f"file_size must be from 0 to {MAX_FILE_SIZE} (1 TiB, the emulator's limit), "
                f"got {file_size}"
            )
        with self._lock:
            self._writable_batch(tenant, batch_id)
            check_batch_file_name(filename)
            session = Session(
                id=str(uuid.uuid4()),
                tenant=tenant,
                batch_id=batch_id,
                filename=filename,
                file_size=file_size,
                part_size=self.part_size,
                path=self.blobs.create(),
            )
            self._sessions[session.id] = session
            return session

    def batch_file_for_path(self, tenant: str, path: str) -> tuple[int, str]:
        """Resolve the docs' ``{"path": ...}`` form to ``(batch_id, filename)``.

        Accepted: the batch file's full path ``/<repo_owner>/<workspace>/fs/<mount_point>/
        <path_suffix>/<filename>`` (leading slash optional) or its tail
        ``<path_suffix>/<filename>``.
        """
        folder_text, slash, filename = path.strip("/").rpartition("/")
        if not slash or not filename:
            raise BadRequest(f"path {path!r} must be a batch folder path followed by '/<filename>'")
        with self._lock:
            self._settle()
            for batch in self._batches.values():
                if batch.tenant == tenant and folder_text in (
                    "/".join(batch.folder),
                    batch.path_suffix,
                ):
                    return batch.id, filename
        raise not_found(f"batch folder {folder_text!r}")

    def _session(self, tenant: str, session_id: str) -> Session:
        self._settle()
        session = self._sessions.get(session_id)
        if session is None or session.tenant != tenant:
            raise not_found(f"multipart upload session {session_id!r}")
        return session

    def start_part(self, tenant: str, session_id: str, part_num: int) -> PartUpload:
        """Start uploading part ``part_num``: check it may be uploaded now, void any earlier
        upload of it (its region is about to be overwritten) and return the writer."""
        with self._lock:
            session = self._session(tenant, session_id)
            if part_num < 1:
                raise BadRequest(f"part number must be >= 1, got {part_num}")
            if part_num > session.expected_parts:
                raise BadRequest(
                    f"part {part_num} is beyond the end of the file: {session.file_size} bytes "
                    f"in parts of {session.part_size} take {session.expected_parts} part(s)"
                )
            if self.strict_part_order and part_num > session.highest_started + 1:
                raise BadRequest(
                    f"part {part_num} is out of order: part numbers are consecutive from 1 and "
                    f"the next new part is {session.highest_started + 1}"
                )
            session.highest_started = max(session.highest_started, part_num)
            upload = PartUpload(
                session=session,
                num=part_num,
                ticket=self._next_ticket,
                fd=os.open(session.path, os.O_WRONLY),
            )
            self._next_ticket += 1
            with session.lock:
                session.writers[part_num] = upload.ticket
            session.parts.pop(part_num, None)
            return upload

    def put_part(self, upload: PartUpload) -> Part:
        """Finish a part upload whose whole body was written: record it as the part's last
        upload (400 if it was larger than part_size, 404 if the session has gone since, 409
        if a newer upload of the same part started meanwhile; nothing is recorded then)."""
        session, num = upload.session, upload.num
        with self._lock:
            current = self._end_upload(upload)
            self._settle()
            if upload.overflowed:
                raise BadRequest(
                    f"part {num} is larger than the session's part_size of "
                    f"{session.part_size} bytes"
                )
            if self._sessions.get(session.id) is not session:
                raise not_found(f"multipart upload session {session.id!r}")
            if not current:
                raise Conflict(
                    f"part {num} was sent again while this upload of it was in progress: "
                    "the newer upload replaces this one"
                )
            part = Part(num=num, part_id=str(self._next_part_id), size=upload.received)
            self._next_part_id += 1
            session.parts[num] = part
            return part

    def drop_part(self, upload: PartUpload) -> None:
        """Abandon a part upload (its body could not be read); nothing is recorded."""
        with self._lock:
            self._end_upload(upload)

    def _end_upload(self, upload: PartUpload) -> bool:
        """Close the upload's file and retire its ticket; return whether it was current."""
        os.close(upload.fd)
        session = upload.session
        with session.lock:
            current = session.writers.get(upload.num) == upload.ticket
            if current:
                del session.writers[upload.num]
        return current

    def commit_multipart(
        self, tenant: str, session_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        """Validate a commit's part list, then make the session file the batch's file.

        The parts are already in place in the session file, so this is one step under the
        lock: truncate to ``file_size`` and hand the file over (no copy). If the batch is being
        deleted, or a folder sits at the file's path, the session stays open for a retry or
        an abort.
        """
        with self._lock:
            session = self._session(tenant, session_id)
            nums = [num for num, _ in parts]
            if nums != sorted(nums):
                raise BadRequest(f"parts are out of order: {nums}; list them by part_num")
            for expected, num in enumerate(nums, start=1):
                if num != expected:
                    raise BadRequest(
                        f"part {expected} is missing from the commit: parts must be 1..n"
                    )
            for index, (num, part_id) in enumerate(parts):
                part = session.parts.get(num)
                if part is None:
                    raise BadRequest(
                        f"part {num} was never uploaded to this session, or its last upload "
                        "failed or is still in progress"
                    )
                if part.part_id != part_id:
                    raise BadRequest(
                        f"part_id {part_id!r} is not the id of part {num} "
                        f"(the last upload of part {num} returned {part.part_id!r})"
                    )
                if index < len(parts) - 1 and part.size != session.part_size:
                    raise BadRequest(
                        f"part {num} is {part.size} bytes: every part but the last must be "
                        f"exactly part_size ({session.part_size}) bytes"
                    )
            total = sum(session.parts[num].size for num in nums)
            if total != session.file_size:
                raise BadRequest(
                    f"the committed parts hold {total} bytes but the session's file_size is "
                    f"{session.file_size}: upload the missing parts before committing"
                )
            self._writable_batch(tenant, session.batch_id)
            # Every listed part has a complete last upload and no upload of it is running
            # (starting one voids the part), so nothing writes to the file any more. Past
            # file_size there are at most leftovers of an oversized last part.
            os.truncate(session.path, session.file_size)
            self._place_batch_file(
                tenant, session.batch_id, session.filename, session.path, session.file_size
            )
            del self._sessions[session.id]

    def open_sessions(self, tenant: str | None = None) -> list[str]:
        """Ids of the multipart sessions still open (of ``tenant``, or of everyone)."""
        with self._lock:
            self._settle()
            return [s.id for s in self._sessions.values() if tenant is None or s.tenant == tenant]

    def abort_multipart(self, tenant: str, session_id: str) -> None:
        """Abort a session: its parts are deleted and the session id is no longer valid."""
        with self._lock:
            self._drop_session(self._session(tenant, session_id))

    def _drop_session(self, session: Session) -> None:
        self._sessions.pop(session.id, None)
        self.blobs.discard(session.path)
        session.parts.clear()

    # ---- Filesystem API ------------------------------------------------------------------

    def _fs_path(self, tenant: str, path: Sequence[str]) -> tuple[str, ...]:
        self._settle()
        if not path or path[0] != self.username(tenant):
            shown = "/" + "/".join(path)
            raise not_found(f"path {shown!r}")
        for segment in path:
            check_segment(segment, "path segment")
        return tuple(path)

    def fs_stat(self, tenant: str, path: Sequence[str]) -> Node:
        """The file or folder at ``path`` in the tenant's namespace; 404 when there is none."""
        with self._lock:
            checked = self._fs_path(tenant, path)
            if len(checked) == 1:
                return self.tree.ensure_folder(checked, now=self.clock())
            node = self.tree.lookup(checked)
            if node is None:
                raise not_found("path '/" + "/".join(checked) + "'")
            return node

    def fs_open(self, tenant: str, path: Sequence[str]) -> tuple[FileNode, BinaryIO]:
        """Open the file at ``path`` for reading (the handle survives a concurrent delete)."""
        with self._lock:
            node = self.fs_stat(tenant, path)
            if not isinstance(node, FileNode):
                raise BadRequest(
                    "path '/" + "/".join(path) + "' is a folder, not a file: "
                    "expect-node-type=file only reads files"
                )
            return node, node.blob.open("rb")

    def fs_check_put(self, tenant: str, path: Sequence[str], *, if_none_match: bool) -> None:
        """Everything a Filesystem API write is checked for before its body is read."""
        with self._lock:
            checked = self._fs_path(tenant, path)
            if len(checked) < 2:
                raise BadRequest("a file path needs at least a name below the namespace")
            node = self.tree.lookup(checked)
            if isinstance(node, FolderNode):
                raise Conflict(
                    "path '/" + "/".join(checked) + "' is a folder: cannot write a file there"
                )
            if if_none_match and node is not None:
                raise PreconditionFailed(
                    "a file already exists at '/" + "/".join(checked) + "' (If-None-Match: *)"
                )

    def fs_put(
        self, tenant: str, path: Sequence[str], blob: Path, size: int, *, if_none_match: bool
    ) -> bool:
        """Write ``blob`` at ``path`` creating parent folders; return whether it is new."""
        with self._lock:
            try:
                self.fs_check_put(tenant, path, if_none_match=if_none_match)
                created = self.tree.lookup(path) is None
                self.tree.put_file(path, blob, size, now=self.clock())
            except Exception:
                self.blobs.discard(blob)
                raise
            self._touch_batch(path[:-1])
            return created

    def fs_delete(self, tenant: str, path: Sequence[str]) -> Job:
        """Start deleting the file or folder (with its contents) at ``path``."""
        with self._lock:
            checked = self._fs_path(tenant, path)
            if len(checked) < 2:
                raise BadRequest("the namespace root itself cannot be deleted")
            node = self.fs_stat(tenant, checked)
            shown = "/" + "/".join(checked)

            def action() -> str:
                if self.tree.remove(checked, node, now=self.clock()):
                    self._touch_batch(checked[:-1])
                    return f"{shown!r} was deleted"
                return f"{shown!r} was already deleted or replaced"

            return self._new_job(tenant, f"delete {shown!r}", action)

    # ---- apps and runs -------------------------------------------------------------------

    def find_app(
        self,
        tenant: str,
        *,
        app_name: str | None = None,
        app_id: str | None = None,
        owner: str | None = None,
        version: str | None = None,
    ) -> App:
        """The app a run names by ``app_name`` or ``app_id`` (exactly one); 404 when unknown.

        The built-in apps are found under any of the owners a caller may name for them: none
        (the default, "your AI Hub username"), the caller's user name, or ``instabase`` (the
        Marketplace's owner). ``version`` must be absent or the app's version.
        """
        if (app_name is None) == (app_id is None):
            raise BadRequest(
                "send exactly one of 'app_name' and 'app_id' to name the app to run"
                + ("" if app_name is None else ", not both")
            )
        if app_name is not None:
            app = self.apps.get(app_name)
            shown = f"app {app_name!r}"
        else:
            app = next((a for a in self.apps.values() if a.id == app_id), None)
            shown = f"app id {app_id!r}"
        if app is None:
            raise not_found(shown)
        if owner is not None and owner not in (self.username(tenant), apps.MARKETPLACE_OWNER):
            raise not_found(f"{shown} of owner {owner!r}")
        self._check_version(app, version)
        return app

    @staticmethod
    def _check_version(app: App, version: str | None) -> None:
        if version is not None and version != app.version:
            raise not_found(f"version {version!r} of app {app.name!r} (it has {app.version!r})")

    def run_app(
        self,
        tenant: str,
        *,
        app_name: str | None = None,
        app_id: str | None = None,
        owner: str | None = None,
        version: str | None = None,
        batch_id: int | None = None,
        input_dir: str | None = None,
        options: RunOptions | None = None,
    ) -> Run:
        """Start a run of an app on a batch or an input folder (``POST /v2/apps/runs``)."""
        with self._lock:
            self._settle()
            app = self.find_app(
                tenant, app_name=app_name, app_id=app_id, owner=owner, version=version
            )
            return self._start_run(
                tenant, app, None, batch_id=batch_id, input_dir=input_dir, options=options
            )

    def run_deployment(
        self,
        tenant: str,
        deployment_id: str,
        *,
        version: str | None = None,
        batch_id: int | None = None,
        input_dir: str | None = None,
        manual_upstream_integration: bool = False,
        options: RunOptions | None = None,
    ) -> Run:
        """Start a run of a deployment's app (``POST /v2/apps/deployments/<id>/runs``).

        No emulated deployment has an upstream integration, so
        ``manual_upstream_integration`` is refused (400) once the deployment is found.
        """
        with self._lock:
            self._settle()
            app = self.apps.get(self.deployments.get(deployment_id, ""))
            if app is None:
                raise not_found(f"deployment {deployment_id!r}")
            self._check_version(app, version)
            if manual_upstream_integration:
                raise BadRequest(
                    f"deployment {deployment_id!r} has no upstream integration configured: "
                    "send batch_id or input_dir instead of manual_upstream_integration"
                )
            return self._start_run(
                tenant,
                app,
                deployment_id,
                batch_id=batch_id,
                input_dir=input_dir,
                options=options,
            )

    def _start_run(
        self,
        tenant: str,
        app: App,
        deployment_id: str | None,
        *,
        batch_id: int | None,
        input_dir: str | None,
        options: RunOptions | None,
    ) -> Run:
        options = options or RunOptions()
        workspace = options.output_workspace or DEFAULT_WORKSPACE
        check_segment(workspace, "output_workspace")
        if options.output_dir is not None and not options.output_dir.strip("/"):
            raise BadRequest("'output_dir' must name a folder, got an empty path")
        tags_length = sum(len(tag) for tag in options.tags)
        if tags_length > apps.MAX_TAGS_LENGTH:
            raise BadRequest(
                f"the tags are {tags_length} characters long together; the maximum is "
                f"{apps.MAX_TAGS_LENGTH}"
            )
        files = self._run_inputs(tenant, batch_id=batch_id, input_dir=input_dir)
        run_id = str(uuid.uuid4())
        username = self.username(tenant)
        if options.output_dir is not None:
            output_dir = options.output_dir.strip("/")
        else:
            output_dir = f"{username}/{workspace}/fs/{MOUNT_POINT}/app-runs/{run_id}"
        now = self.clock()
        run = Run(
            id=run_id,
            tenant=tenant,
            username=username,
            app=app,
            deployment_id=deployment_id,
            batch_id=batch_id,
            input_dir=input_dir,
            output_workspace=workspace,
            output_dir=output_dir,
            options=options,
            files=files,
            start_ns=_ns(now),
            due=None if self.run_seconds is None else now + self.run_seconds,
            poll_limit=self.run_polls,
            fails=app.always_fails or self.fail_runs,
            msg=f"Running {app.name} on {len(files)} file(s)",
            seq=self._next_run_seq,
        )
        self._next_run_seq += 1
        self._runs[run.id] = run
        self._run_index.setdefault(tenant, SortedIndex(_run_key)).add(run)
        if self.run_polls == 0 or self.run_seconds == 0:
            self._finish_run(run, at=now)
        elif run.due is not None:
            heapq.heappush(self._due, (run.due, self._next_job_seq, run))
            self._next_job_seq += 1
        return run

    def _run_inputs(
        self, tenant: str, *, batch_id: int | None, input_dir: str | None
    ) -> list[Extracted]:
        """Read the run's input files (those directly in the batch or the folder), by name.

        An input with no file is refused (400): the spec does not say what AI Hub does with
        one, and a run with nothing to process is a client's mistake worth surfacing.
        """
        if (batch_id is None) == (input_dir is None):
            raise BadRequest(
                "send exactly one of 'batch_id' and 'input_dir' to name the run's input"
                + ("" if batch_id is None else ", not both")
            )
        if batch_id is not None:
            batch = self.get_batch(tenant, batch_id)
            if batch.deletion is not None:
                raise Conflict(f"batch {batch_id} is being deleted: it cannot be run")
            folder: tuple[str, ...] = batch.folder
            shown = f"batch {batch_id}"
        else:
            assert input_dir is not None
            folder = self._input_folder(tenant, input_dir)
            shown = f"input_dir {input_dir!r}"
        node = self.tree.lookup(folder)
        if isinstance(node, FileNode):
            raise BadRequest(f"{shown} is a file: input_dir must name a folder")
        files = {} if node is None else node.children
        names = sorted(name for name, child in files.items() if isinstance(child, FileNode))
        if not names:
            raise BadRequest(
                f"{shown} has no files: upload at least one before running an app on it"
            )
        extracted = []
        for name in names:
            child = files[name]
            assert isinstance(child, FileNode)
            path = "/".join((*folder, name))
            extracted.append(apps.extract(name, path, child.blob.open("rb")))
        return extracted

    def _input_folder(self, tenant: str, input_dir: str) -> tuple[str, ...]:
        """The tenant's folder an ``input_dir`` names (leading and trailing ``/`` optional);
        404 when there is none."""
        segments = input_dir.strip("/").split("/")
        if "" in segments:
            raise BadRequest(f"input_dir {excerpt(input_dir)} has an empty path segment")
        folder = self._fs_path(tenant, segments)
        if len(folder) == 1:
            self.tree.ensure_folder(folder, now=self.clock())
        if self.tree.lookup(folder) is None:
            raise not_found(f"input_dir {input_dir!r}")
        return folder

    def _finish_run(self, run: Run, *, at: float) -> None:
        """End a running run at ``at`` (Unix seconds): FAILED if it was made to, else
        COMPLETE."""
        run.finish_ns = _ns(at)
        count = len(run.files)
        if run.fails:
            run.status = apps.FAILED
            if run.app.always_fails:
                run.msg = f"{run.app.name} failed: this emulator app fails every run"
            else:
                run.msg = f"{run.app.name} failed: the emulator was set to fail runs (fail_runs)"
            return
        run.status = apps.COMPLETE
        errors = sum(1 for extracted in run.files if not extracted.readable)
        run.msg = f"Completed {run.app.name}: {count} file(s) processed, {errors} with errors"

    def _run(self, tenant: str, run_id: str) -> Run:
        self._settle()
        run = self._runs.get(run_id)
        if run is None or run.tenant != tenant:
            raise not_found(f"run {run_id!r}")
        return run

    def get_run(self, tenant: str, run_id: str) -> Run:
        """The tenant's run ``run_id`` (not counted as a poll); 404 when unknown."""
        with self._lock:
            return self._run(tenant, run_id)

    def poll_run(self, tenant: str, run_id: str) -> Run:
        """Get-run-status: the run, after counting the poll (a running run completes on poll
        ``run_polls + 1``, if it has not by time before)."""
        with self._lock:
            run = self._run(tenant, run_id)
            if run.status == apps.RUNNING:
                run.polls += 1
                if run.poll_limit is not None and run.polls > run.poll_limit:
                    self._finish_run(run, at=self.clock())
            return run

    def list_runs(
        self,
        tenant: str,
        *,
        app_id: str | None = None,
        app_name: str | None = None,
        deployment_id: str | None = None,
        username: str | None = None,
        run_id: str | None = None,
        statuses: Sequence[str] = (),
        output_workspaces: Sequence[str] = (),
        from_timestamp: int | None = None,
        to_timestamp: int | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort_by: str = "start_timestamp",
        order: str = "DESCENDING",
    ) -> list[Run]:
        """The tenant's runs matching every filter given, sorted, then ``offset``/``limit``.

        Started from ``from_timestamp`` (Unix seconds; default 24 hours ago) to
        ``to_timestamp`` (default now), both inclusive. ``sort_by`` ``start_timestamp`` or
        ``status`` (then start), ``order`` ``ASCENDING`` or ``DESCENDING``; runs that tie
        keep their start order (reversed when descending).
        """
        if sort_by not in ("start_timestamp", "status"):
            raise BadRequest(f"sort_by must be start_timestamp or status, got {excerpt(sort_by)}")
        if order not in ("ASCENDING", "DESCENDING"):
            raise BadRequest(f"order must be ASCENDING or DESCENDING, got {excerpt(order)}")
        with self._lock:
            self._settle()
            now = self.clock()
            start = (
                _ns(now - LIST_RUNS_WINDOW)
                if from_timestamp is None
                else from_timestamp * 1_000_000_000
            )
            end = _ns(now) if to_timestamp is None else to_timestamp * 1_000_000_000
            index = self._run_index.get(tenant)
            if index is None:
                return []
            lo, hi = window(index, start, end)
            filtered = (
                app_id is not None
                or app_name is not None
                or deployment_id is not None
                or username is not None
                or run_id is not None
                or bool(statuses)
                or bool(output_workspaces)
            )
            if (
                sort_by == "start_timestamp"
                and not filtered
                and offset >= 0
                and (limit is None or limit >= 0)
            ):
                # the index's own order: a page is a slice of the time window
                size = hi - lo if limit is None else limit
                if order == "DESCENDING":
                    return newest_first(index, lo, hi, offset, size)
                return index.slice(lo + offset, min(hi, lo + offset + size))
            found = [
                run
                for run in index.slice(lo, hi)
                if (app_id is None or run.app.id == app_id)
                and (app_name is None or run.app.name == app_name)
                and (deployment_id is None or run.deployment_id == deployment_id)
                and (username is None or run.username == username)
                and (run_id is None or run.id == run_id)
                and (not statuses or run.status in statuses)
                and (not output_workspaces or run.output_workspace in output_workspaces)
            ]
        # in start order already; a stable sort by status keeps it within a status
        if sort_by == "status":
            found.sort(key=lambda run: (run.status, run.start_ns))
        if order == "DESCENDING":
            found.reverse()
        end_index = None if limit is None else offset + limit
        return found[offset:end_index]

    def run_results(
        self,
        tenant: str,
        run_id: str,
        *,
        file_offset: int = 0,
        flags: ResultFlags | None = None,
    ) -> ResultsPage:
        """One page of a run's results from file ``file_offset`` (``results_page_size``
        files at most). A run that is not ``COMPLETE`` has no results yet (or none, if it
        failed or was cancelled): an empty page with its status and message."""
        if file_offset < 0:
            raise BadRequest(f"file_offset must be >= 0, got {file_offset}")
        with self._lock:
            run = self._run(tenant, run_id)
            size = self.results_page_size
            files = run.files if run.status == apps.COMPLETE else []
            page = files[file_offset : file_offset + size]
            has_more = file_offset + size < len(files)
        return ResultsPage(run=run, files=page, has_more=has_more, flags=flags or ResultFlags())

    def delete_run(
        self,
        tenant: str,
        run_id: str,
        *,
        delete_db_data: bool = True,
        delete_input: bool = True,
        delete_output: bool = True,
        delete_logs: bool = True,
    ) -> RunDeletion:
        """Delete a run: the run itself at once (get and results answer 404 from now on,
        whatever ``delete_db_data`` says), and, as jobs, its input (a batch run's batch — the
        spec: "deleting the run's input files also deletes the batch" — or an
        ``input_dir`` run's folder), its output and its logs. A kind not asked for, or whose
        input is gone already, has no job (None)."""
        del delete_db_data  # the run's own records go with it either way
        with self._lock:
            run = self._run(tenant, run_id)
            del self._runs[run.id]
            self._run_index[tenant].remove(run)
            input_job = None
            if delete_input:
                input_job = self._delete_run_input(run)
            output_job = log_job = None
            if delete_output:
                output_job = self._new_job(
                    tenant, f"delete the output of run {run.id}", lambda: "output deleted"
                ).id
            if delete_logs:
                log_job = self._new_job(
                    tenant, f"delete the logs of run {run.id}", lambda: "logs deleted"
                ).id
            return RunDeletion(input_job=input_job, output_job=output_job, log_job=log_job)

    def _delete_run_input(self, run: Run) -> str | None:
        if run.batch_id is not None:
            batch = self._batches.get(run.batch_id)
            if batch is None or batch.tenant != run.tenant:
                return None
            return self.delete_batch(run.tenant, run.batch_id).id
        assert run.input_dir is not None
        segments = tuple(run.input_dir.strip("/").split("/"))
        if len(segments) < 2 or self.tree.lookup(segments) is None:
            return None
        return self.fs_delete(run.tenant, segments).id

    def finish_runs(self, tenant: str | None = None) -> int:
        """End every running run (of ``tenant``, or of everyone) now, in start order, as if
        its time had come; return how many."""
        with self._lock:
            self._settle()
            running = [
                run
                for run in self._runs.values()
                if run.status == apps.RUNNING and (tenant is None or run.tenant == tenant)
            ]
            now = self.clock()
            for run in running:
                self._finish_run(run, at=now)
            return len(running)

    def cancel_run(self, tenant: str, run_id: str) -> Run:
        """Cancel a running run (emulator control: the spec has no cancel operation, though
        it documents ``CANCELLED``, "a user cancelled the run"); 409 if it has ended."""
        with self._lock:
            run = self._run(tenant, run_id)
            if run.status != apps.RUNNING:
                raise Conflict(
                    f"run {run_id!r} is {run.status}: only a running run can be cancelled"
                )
            run.status = apps.CANCELLED
            run.finish_ns = _ns(self.clock())
            run.msg = "Cancelled by the user"
            return run


def _batch_id(batch: Batch) -> int:
    return batch.id


def _run_key(run: Run) -> tuple[int, int]:
    return (run.start_ns, run.seq)


def _b64decode(text: str) -> bytes:
    """Decode unpadded URL-safe base64, strictly (raises ``binascii.Error``/``ValueError``)."""
    if not text:
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
