"""`AIHubAdapter`: Instabase AI Hub file batches as flows (the wire is in `_protocol`)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Generator, Mapping
from datetime import datetime
from operator import attrgetter
from typing import IO, Any, ClassVar, Self

import attrs
import httpx

from ... import _sessions as sessions
from ..._adapter import Adapter, BatchRef, FileData
from ..._capabilities import Capability
from ..._destinations import Dest, deliver
from ..._errors import BatchkitError, ConfigError, EmptyBatch, InvalidInput, NotFound
from ..._flow import Flow, gather, primed
from ..._http import request_root
from ..._jobs import wait as wait_for
from ..._models import Batch, BatchFile, BatchState, BatchStatus, FileInfo, Job, Run
from ..._pagination import by_offset, by_token
from ..._ranged import read_resumable
from ..._settings import (
    CommonSettings,
    HttpOptions,
    at_least,
    credential,
    required_credential,
    structure_settings,
)
from ..._sources import ByteSource, open_source
from ..._validate import (
    MAX_NAME,
    as_utc,
    batch_name,
    byte_range,
    file_name,
    flag,
    list_filters,
    path_segment,
    positive_int,
    seconds,
    text,
    url,
)
from ..._validate import options as check_options
from . import _protocol as wire
from . import _runs as runs
from ._wire import PartId

log = logging.getLogger("batchkit.aihub")

DEFAULT_API_ROOT = "https://aihub.instabase.com/api"
#: the docs: "the suggested max size for each file is 10 MB. For larger files, use multipart"
MULTIPART_THRESHOLD = 10 * 1024 * 1024
LIST_PAGE = 100
#: the largest page list_files asks for (the emulator's cap; the spec names none)
MAX_LIST_PAGE = 1000


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <token>`; the token never appears in a repr."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


@attrs.frozen(kw_only=True)
class AIHubSettings(CommonSettings):
    """AI Hub settings: a bearer token and, for organisations, the IB-Context."""

    api_root: str = DEFAULT_API_ROOT
    token: str = attrs.field(repr=False, validator=required_credential)
    ib_context: str | None = attrs.field(default=None, validator=credential)
    #: files above this many bytes go up in parts
    multipart_threshold: int = attrs.field(default=MULTIPART_THRESHOLD, validator=at_least(1))
    #: parts of one file uploaded at once
    part_concurrency: int = attrs.field(default=4, validator=at_least(1))
    #: the app (`start` runs it on the batch), or a deployment id to run instead
    app: str | None = attrs.field(default=None, validator=credential)
    deployment: str | None = attrs.field(default=None, validator=credential)


class AIHubAdapter(Adapter):
    """Instabase AI Hub file batches: upload (multipart above 10 MB), list, download, delete.

    AI Hub batches have no lifecycle (`BatchState.OPEN`) and no task counts. Vendor
    extras: the Filesystem API (`fs_read`, `fs_write`, `fs_head`, `fs_delete`),
    `batch_path`, `get_job`.
    """

    name: ClassVar[str] = "aihub"
    capabilities: ClassVar[Capability] = (
        Capability.CREATE_BATCH
        | Capability.LIST_BATCHES
        | Capability.DELETE_BATCH
        | Capability.UPLOAD_FILES
        | Capability.MULTIPART_UPLOAD
        | Capability.LIST_FILES
        | Capability.DELETE_FILES
        | Capability.DOWNLOAD_FILES
        | Capability.RUNS
        | Capability.RESULTS
    )
    env_settings: ClassVar[Mapping[str, str]] = {
        "AIHUB_API_TOKEN": "token",
        "AIHUB_IB_CONTEXT": "ib_context",
        "AIHUB_API_ROOT": "api_root",
        "AIHUB_APP": "app",
        "AIHUB_DEPLOYMENT": "deployment",
    }
    secret_settings: ClassVar[frozenset[str]] = frozenset({"token"})

    settings: AIHubSettings

    def __init__(self, settings: AIHubSettings) -> None:
        self.settings = settings
        #: where requests go (multipart sessions named by id are made absolute against it)
        self.api_root = request_root(settings.checked_api_root())
        self._paths: dict[str, str] = {}
        self._paths_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from merged settings; `token` is required."""
        if not settings.get("token"):
            raise ConfigError(
                "no AI Hub token: pass token=, set AIHUB_API_TOKEN, or put "
                'token_env = "<VAR>" in your batchkit.toml profile'
            )
        return cls(structure_settings(cls.name, AIHubSettings, settings))

    def http_options(self) -> HttpOptions:
        """A bearer token, and the IB-Context header for organisations."""
        s = self.settings
        return HttpOptions(
            auth=BearerAuth(s.token),
            headers={"IB-Context": s.ib_context} if s.ib_context else {},
            secrets=[s.token],
            errors=wire.ERRORS,
        )

    def check_batch_id(self, batch_id: str) -> str:
        """AI Hub batch ids are integers."""
        if not (batch_id.isascii() and batch_id.isdigit()):
            raise InvalidInput(
                f"AI Hub batch ids are integers, got {batch_id!r}: pass the id create_batch "
                "returned (or the Batch itself)"
            )
        return batch_id

    # -- batches ------------------------------------------------------------------------

    @primed
    def create_batch(
        self,
        name: str,
        *,
        project: str | None = None,
        callback: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Batch]:
        """Create a batch, in workspace `project` (default: your personal workspace).

        Not idempotent at AI Hub: retried only when the request never reached the server.
        """
        batch_name(name)
        if callback is not None:
            raise self.unsupported("create_batch(callback=...)", Capability.CALLBACKS)
        if metadata is not None:
            raise self.unsupported("create_batch(metadata=...)", Capability.METADATA)
        if check_options(options):
            raise InvalidInput(f"AI Hub create_batch takes no options, got {sorted(options or {})}")
        if project is not None:
            path_segment("project (the AI Hub workspace name)", project)
        batch_id = wire.parse_created((yield wire.create_batch(name, project)))
        try:
            # the create response holds only the id: fetch the rest (owner, workspace,
            # created_at) so a new Batch looks like one from get_batch / list_batches
            created: Batch = yield from self.get_batch(batch_id)
            return created
        except BatchkitError as e:
            log.warning("aihub batch %s created, but fetching it failed: %s", batch_id, e)
            return Batch(
                provider=self.name,
                id=batch_id,
                name=name,
                project=project,
                state=BatchState.OPEN,
            )

    @primed
    def get_batch(self, batch: BatchRef) -> Flow[Batch]:
        """Fetch a batch by id."""
        found, raw = wire.parse_batch((yield wire.get_batch(self.batch_id(batch))))
        self._remember_path(found.id, raw)
        return found

    def _remember_path(self, batch_id: str, raw: Any) -> None:
        parts = (raw.repo_owner, raw.workspace, raw.mount_point, raw.path_suffix)
        if all(parts):
            owner, ws, mount, suffix = parts
            with self._paths_lock:
                self._paths[batch_id] = f"/{owner}/{ws}/fs/{mount}/{suffix.strip('/')}"

    @primed
    def list_batches(
        self,
        *,
        project: str | None = None,
        state: BatchState | str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        owner: str | None = None,
        limit: int | None = None,
        **options: Any,
    ) -> Flow[None]:
        """Batches (workspace and owner filtered by AI Hub; state and creation time
        filtered here, as AI Hub has no such filters)."""
        if options:
            raise InvalidInput(f"AI Hub list_batches takes no options, got {sorted(options)}")
        state = list_filters(state, limit, created_after, created_before)
        created_after, created_before = as_utc(created_after), as_utc(created_before)
        if project is not None:
            path_segment("project (the AI Hub workspace name)", project)
        if owner is not None:
            text("owner (an AI Hub user name)", owner)
        if state not in (None, BatchState.OPEN):
            return
        page = min(limit, LIST_PAGE) if limit else LIST_PAGE

        def fetch(offset: int) -> Flow[tuple[list[Batch], bool]]:
            call = wire.list_batches(workspace=project, username=owner, limit=page, offset=offset)
            every = wire.parse_batch_list((yield call))
            # AI Hub has no has_more for batches: a short page is the last one (the docs
            # name no server-side cap below `limit`; asking on until an empty page would loop
            # forever on a server that ignores `offset`). A server that ignores `limit`
            # sends everything at once: stop after it. State and creation time are
            # filtered here, after the page is checked for progress below.
            return every, len(every) == page

        def wanted(b: Batch) -> bool:
            if b.created_at is None:
                return created_after is None and created_before is None
            if created_after is not None and b.created_at < created_after:
                return False
            return not (created_before is not None and b.created_at > created_before)

        yield from by_offset(
            fetch,
            provider=self.name,
            operation="list_batches",
            key=attrgetter("id"),
            limit=limit,
            keep=wanted,
        )

    @primed
    def status(self, batch: BatchRef) -> Flow[BatchStatus]:
        """AI Hub batches have no task counts: OPEN while they exist (`NotFound` after)."""
        found: Batch = yield from self.get_batch(batch)
        return BatchStatus(batch_id=found.id, state=found.state, counts=None, raw=found.raw)

    @primed
    def delete_batch(
        self, batch: BatchRef, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[Job | None]:
        """Delete the batch and its files (an asynchronous job at AI Hub).

        `wait=True` polls the job to completion; `wait=False` returns it.
        """
        batch_id = self.batch_id(batch)
        _check_wait(wait, timeout)
        try:
            response = yield wire.delete_batch(batch_id)
        except NotFound as e:
            if e.earlier_attempt_may_have_applied:  # our lost attempt deleted it
                return None
            raise
        with self._paths_lock:
            self._paths.pop(batch_id, None)
        job = wire.parse_job_accepted(response, "delete_batch")
        return (yield from self._finish(job, wait=wait, timeout=timeout))

    # -- jobs ---------------------------------------------------------------------------

    @primed
    def get_job(self, job: Job | str) -> Flow[Job]:
        """Poll a job once (a `Job` handle, or a batches job id)."""
        job = self._check_job(job)
        url = job.url or wire.job_path(job.id)
        return wire.parse_job((yield wire.get_job(url)), job)

    def _check_job(self, job: object) -> Job:
        if isinstance(job, str):
            job = Job(provider=self.name, id=job)
        if not isinstance(job, Job):
            raise InvalidInput(
                f"expected a Job (as delete_batch(wait=False) returns) or a job id, "
                f"got {type(job).__name__}: {job!r:.80}"
            )
        if job.provider != self.name:
            raise InvalidInput(
                f"job {job.id!r:.80} came from provider {job.provider!r}, not {self.name!r}: "
                f"poll it with the {job.provider!r} provider"
            )
        text("job id", job.id, max_length=1024)
        if job.url is not None:
            url("job url", job.url)
        return job

    @primed
    def wait_job(self, job: Job, *, timeout: float = 300.0) -> Flow[Job]:
        """Poll with backoff until COMPLETE; `JobFailed` / `JobTimeout` otherwise."""
        timeout = seconds("timeout", timeout)
        checked = self._check_job(job)
        s = self.settings
        return (
            yield from wait_for(
                lambda: self.get_job(checked),
                timeout=timeout,
                initial=s.poll_initial,
                maximum=s.poll_max,
            )
        )

    def _finish(self, job: Job | None, *, wait: bool, timeout: float) -> Flow[Job | None]:
        if job is None or not wait:
            return job
        done: Job = yield from self.wait_job(job, timeout=timeout)
        return done

    # -- files --------------------------------------------------------------------------

    @primed
    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> Flow[BatchFile]:
        """Upload one file: a single PUT up to `multipart_threshold` (10 MB), else
        multipart with parts read from the source as sent, several at once, each retried
        on its own; a multipart session that cannot complete is aborted."""
        batch_id = self.batch_id(batch)
        file_name(name)
        if size is not None:
            positive_int("size", size, minimum=0)
        source = open_source(data)
        try:
            if size is not None and size != source.size:
                raise InvalidInput(
                    f"size={size} given for {name!r} but the data holds {source.size} bytes"
                )
            if source.size > self.settings.multipart_threshold:
                yield from self._multipart(batch_id, name, source)
            else:
                yield wire.put_file(batch_id, name, source.reader(), source.size)
        finally:
            source.close()
        return BatchFile(name=name, size=source.size)

    def _multipart(self, batch_id: str, name: str, source: ByteSource) -> Flow[None]:
        response = yield wire.start_multipart(batch_id, name, source.size)
        session, part_size = wire.parse_session(response, self.api_root)
        sessions.opened(session)  # journaled (by a resumable upload) before any part goes up
        spans = [
            (n, offset, min(part_size, source.size - offset))
            for n, offset in enumerate(range(0, source.size, part_size), start=1)
        ]

        def send_part(span: tuple[int, int, int]) -> Flow[tuple[int, PartId]]:
            n, offset, length = span
            call = wire.put_part(session, n, source.reader(offset, length), length)
            return n, wire.parse_part((yield call))

        try:
            # parts are numbered 1..n and started in that order, `part_concurrency` at a
            # time, so they may finish out of order; gather returns them in part order
            # for the commit
            parts = yield from gather(
                (send_part(span) for span in spans), limit=self.settings.part_concurrency
            )
            try:
                yield wire.commit_multipart(session, parts)
            except NotFound as e:
                if not e.earlier_attempt_may_have_applied:
                    raise
                # an earlier commit got through and closed the session
                log.info("aihub multipart %s: commit retried after success", name)
        except BaseException:
            try:
                yield from self.abort_upload_session(session)
            except BatchkitError as e:  # best effort: the original error matters more
                log.warning("aihub multipart %s: abort failed too: %s", name, e)
            raise
        sessions.closed(session)

    @primed
    def abort_upload_session(self, session: str) -> Flow[None]:
        """Abort a multipart upload session (its URL, as the resume journal records it):
        its parts are discarded. A session that is already gone counts as aborted."""
        url("session (a multipart session URL)", session)
        if "/multipart-upload/sessions/" not in session:
            raise InvalidInput(
                f"{session!r:.120} is not an AI Hub multipart session URL "
                "(<API-ROOT>/v2/batches/multipart-upload/sessions/<id>)"
            )
        with contextlib.suppress(NotFound):  # committed, aborted or expired already
            yield wire.abort_multipart(session)
        sessions.closed(session)

    @primed
    def list_files(self, batch: BatchRef, *, page_size: int | None = None) -> Flow[None]:
        """The batch's files, following page tokens lazily."""
        batch_id = self.batch_id(batch)
        if page_size is not None:
            # a hint: the spec names no maximum; larger pages are asked as MAX_LIST_PAGE
            # (the listing is the same, in more pages)
            page_size = min(positive_int("page_size", page_size), MAX_LIST_PAGE)

        def fetch(token: str | None) -> Flow[tuple[list[BatchFile], str | None, bool]]:
            call = wire.list_files(batch_id, page_size=page_size, token=token)
            return wire.parse_file_page((yield call))

        yield from by_token(
            fetch, provider=self.name, operation="list_files", key=attrgetter("name")
        )

    @primed
    def delete_file(
        self, batch: BatchRef, name: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[Job | None]:
        """Delete one file (an asynchronous job at AI Hub)."""
        batch_id = self.batch_id(batch)
        file_name(name)
        _check_wait(wait, timeout)
        try:
            response = yield wire.delete_file(batch_id, name)
        except NotFound as e:
            if e.earlier_attempt_may_have_applied:  # our lost attempt deleted it
                return None
            raise
        job = wire.parse_job_accepted(response, "delete_file")
        return (yield from self._finish(job, wait=wait, timeout=timeout))

    @primed
    def batch_path(self, batch: BatchRef) -> Flow[str]:
        """The batch folder's Filesystem API path, `/<owner>/<workspace>/fs/<drive>/<suffix>`."""
        batch_id = self.batch_id(batch)
        with self._paths_lock:
            known = self._paths.get(batch_id)
        if known is None:
            yield from self.get_batch(batch_id)
            with self._paths_lock:
                known = self._paths.get(batch_id)
        if known is None:
            raise BatchkitError(
                f"aihub batch {batch_id} has no storage path (repo_owner / workspace / "
                "mount_point / path_suffix missing): it cannot be read through the Filesystem API"
            )
        return known

    def download_into(
        self, batch: BatchRef, name: str, sink: IO[bytes], start: int, end: int | None
    ) -> Flow[int]:
        """Batch files are read through the Filesystem API, at the batch's folder."""
        folder: str = yield from self.batch_path(batch)
        return (yield from self._fs_read_into(f"{folder}/{name}", sink, start, end))

    # -- Filesystem API (deprecated at AI Hub, still served) ----------------------------

    def fs_read(
        self, path: str, dest: Dest = None, *, start: int = 0, end: int | None = None
    ) -> Flow[bytes | int]:
        """Read `/<org>/<workspace>/fs/<drive>/<path>`, whole or a byte range (inclusive).

        A connection that breaks mid-body is resumed from the last byte received (a new
        ranged request), up to `retry_attempts` times.
        """
        _check_fs_path(path)
        byte_range(start, end)
        base = path.rstrip("/").rsplit("/", 1)[-1]

        def write(sink: IO[bytes]) -> Flow[int]:
            return self._fs_read_into(path, sink, start, end)

        return deliver(dest, base, write)

    def _fs_read_into(self, path: str, sink: IO[bytes], start: int, end: int | None) -> Flow[int]:
        return read_resumable(
            lambda offset, last, if_range: wire.fs_read(path, offset, last, if_range=if_range),
            sink,
            start,
            end,
            attempts=max(1, self.settings.retry_attempts),
            provider=self.name,
            operation="download_file",
            what=repr(path),
        )

    @primed
    def fs_write(self, path: str, data: FileData, *, overwrite: bool = True) -> Flow[bool]:
        """Write a file; with `overwrite=False` an existing file raises `Conflict`.

        Returns True if the server reported a new file (201), False otherwise.
        """
        _check_fs_path(path)
        flag("overwrite", overwrite)
        file_name(path.rstrip("/").rsplit("/", 1)[-1])
        source = open_source(data)
        try:
            call = wire.fs_write(path, source.reader(), source.size, overwrite=overwrite)
            response = yield call
            return bool(response.status_code == 201)
        finally:
            source.close()

    @primed
    def fs_head(self, path: str) -> Flow[FileInfo]:
        """Is it a file or folder, its size and last modification (`NotFound` if absent)."""
        _check_fs_path(path)
        return wire.parse_head((yield wire.fs_head(path)), path)

    @primed
    def fs_delete(
        self, path: str, *, wait: bool = True, timeout: float = 300.0
    ) -> Flow[Job | None]:
        """Delete a file or folder (an asynchronous job)."""
        _check_fs_path(path)
        _check_wait(wait, timeout)
        response = yield wire.fs_delete(path)
        job = wire.parse_job_accepted(response, "fs_delete")
        return (yield from self._finish(job, wait=wait, timeout=timeout))

    # -- the labeling loop: app runs ----------------------------------------------------

    @primed
    def start(
        self,
        batch: BatchRef,
        *,
        app: str | None = None,
        deployment: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Run]:
        """Run an app (`app`, else the `app` setting) or a deployment (`deployment`, else
        the `deployment` setting) on every file of the batch. A batch without files is
        refused: the run would have nothing to process. `options`: `owner` (the app's
        owner; `instabase` for Marketplace apps). Not retried once it may have reached
        AI Hub (a run is not idempotent)."""
        batch_id = self.batch_id(batch)
        if app is None and deployment is None:
            app, deployment = self.settings.app, self.settings.deployment
        if (app is None) == (deployment is None):
            raise InvalidInput(
                "AI Hub runs an app or a deployment on the batch: pass app='<app name>' or "
                "deployment='<id>' (or set app / deployment in the profile, or AIHUB_APP), "
                "not both"
                if app is not None
                else "AI Hub runs an app or a deployment on the batch: pass app='<app name>' "
                "or deployment='<id>', or set app / deployment in the profile (AIHUB_APP)"
            )
        extra = check_options(options)
        unknown = sorted(set(extra) - {"owner"})
        if unknown:
            raise InvalidInput(f"unknown AI Hub start option(s) {unknown}: known: ['owner']")
        owner = text("owner", extra["owner"]) if "owner" in extra else None
        if app is not None:
            call = runs.run_app(text("app", app), batch_id, owner)
        else:
            if owner is not None:
                raise InvalidInput("owner= goes with app=, not with a deployment")
            call = runs.run_deployment(path_segment("deployment", deployment), batch_id)
        first, _, _ = wire.parse_file_page(
            (yield wire.list_files(batch_id, page_size=1, token=None))
        )
        if not first:
            raise EmptyBatch(
                f"aihub batch {batch_id} has no files: upload them before starting a run; "
                "it would have nothing to process",
                provider=self.name,
                batch_id=batch_id,
            )
        return runs.parse_run((yield call), "start", batch_id)

    @primed
    def get_run(self, run: Run | str) -> Flow[Run]:
        """Poll a run once."""
        known = run if isinstance(run, Run) else None
        found = runs.parse_run((yield runs.get_run(self._run_id(run))), "wait")
        if known is not None and not found.batch_id:
            return attrs.evolve(found, batch_id=known.batch_id)
        return found

    @primed
    def results(self, run: Run | str) -> Flow[None]:
        """One `Result` per file the run processed, paged by `file_offset`."""
        run_id = self._run_id(run)

        def fetch(offset: int) -> Flow[tuple[list[Any], bool]]:
            page, more, _ = runs.parse_results((yield runs.run_results(run_id, offset)))
            return page, more

        yield from by_offset(fetch, provider=self.name, operation="results", key=attrgetter("item"))

    def _run_id(self, run: object) -> str:
        if isinstance(run, Run):
            if run.provider != self.name:
                raise InvalidInput(
                    f"run {run.id!r} came from provider {run.provider!r}, not {self.name!r}"
                )
            return path_segment("run id", run.id)
        if isinstance(run, str):
            return path_segment("run id", run)
        raise InvalidInput(
            f"expected a Run (as start returns) or a run id, got {type(run).__name__}"
        )


def _check_wait(wait: object, timeout: object) -> None:
    """Check a delete's `wait` / `timeout` before the request (not after it was sent)."""
    if not isinstance(wait, bool):
        raise InvalidInput(f"wait must be True or False, got {wait!r}")
    seconds("timeout", timeout)


def _check_fs_path(path: object) -> None:
    if not isinstance(path, str) or not path.startswith("/") or "/fs/" not in path:
        raise InvalidInput(
            f"Filesystem API path {path!r:.120} must look like "
            "/<org or user>/<workspace>/fs/<drive>/<path>"
        )
    text("Filesystem API path", path, max_length=4096)
    for part in path.split("/"):
        if part in ("..", "."):
            raise InvalidInput(f"Filesystem API path {path!r} must not contain '.' or '..'")
        if len(part) > MAX_NAME:
            raise InvalidInput(
                f"Filesystem API path {path[:60]!r}... has a name of {len(part)} characters: "
                f"the limit is {MAX_NAME}"
            )
