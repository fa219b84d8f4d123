"""`ScaleAdapter`: Scale AI task batches (v1 API) as flows (the wire is in `_protocol`)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, Self

import attrs
import httpx

from ..._adapter import Adapter, BatchRef, FileData
from ..._capabilities import Capability
from ..._errors import ConfigError, Conflict, EmptyBatch, InvalidInput, ProviderError
from ..._flow import Flow, gather, primed
from ..._models import (
    Batch,
    BatchFile,
    BatchState,
    BatchStatus,
    FileUrl,
    ItemState,
    Project,
    Run,
    Task,
    TaskSpec,
)
from ..._pagination import by_offset, by_token
from ..._settings import CommonSettings, HttpOptions, required_credential, structure_settings
from ..._sources import open_source
from ..._validate import (
    batch_name,
    file_name,
    flag,
    json_object,
    list_filters,
    positive_int,
    strings,
    text,
    time_bounds,
    url,
)
from ..._validate import options as check_options
from ..._validate import priority as check_priority
from . import _protocol as wire

log = logging.getLogger("batchkit.scale")

DEFAULT_API_ROOT = "https://api.scale.com/v1"
_CREATE_OPTIONS = frozenset({"calibration_batch", "self_label_batch"})


@attrs.frozen(kw_only=True)
class ScaleSettings(CommonSettings):
    """Scale settings: the API key is the HTTP Basic user name."""

    api_root: str = DEFAULT_API_ROOT
    api_key: str = attrs.field(repr=False, validator=required_credential)
    #: the task each uploaded file becomes (`upload`, `upload_file`): its type, e.g.
    #: "imageannotation", and its other fields (instruction, geometries...), the file going
    #: in as its `attachment`
    task_type: str | None = None
    task_fields: dict[str, Any] | None = None


class ScaleAdapter(Adapter):
    """Scale AI task batches: create, finalize, status with task counts, list, prioritize.

    Scale batches hold tasks, not files: file operations raise `UnsupportedOperation`.
    Vendor extras: `create_project`, `get_project`, `list_projects`, `set_metadata`.
    """

    name: ClassVar[str] = "scale"
    capabilities: ClassVar[Capability] = (
        Capability.CREATE_BATCH
        | Capability.LIST_BATCHES
        | Capability.LIST_FILTERS
        | Capability.FINALIZE
        | Capability.STATUS_COUNTS
        | Capability.PRIORITIZE
        | Capability.CALLBACKS
        | Capability.METADATA
        | Capability.TASKS
        | Capability.RUNS
        | Capability.RESULTS
        | Capability.UPLOAD_FILES
        | Capability.IMPORT_URLS
    )
    env_settings: ClassVar[Mapping[str, str]] = {
        "SCALE_API_KEY": "api_key",
        "SCALE_API_ROOT": "api_root",
        "SCALE_TASK_TYPE": "task_type",
    }
    secret_settings: ClassVar[frozenset[str]] = frozenset({"api_key"})

    settings: ScaleSettings

    def __init__(self, settings: ScaleSettings) -> None:
        self.settings = settings
        #: each batch's project, as tasks added to it name both (a batch never moves)
        self._projects: dict[str, str | None] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Build from merged settings; `api_key` is required."""
        if not settings.get("api_key"):
            raise ConfigError(
                "no Scale API key: pass api_key=, set SCALE_API_KEY, or put "
                'api_key_env = "<VAR>" in your batchkit.toml profile'
            )
        return cls(structure_settings(cls.name, ScaleSettings, settings))

    def http_options(self) -> HttpOptions:
        """The API key is the HTTP Basic user name, with an empty password."""
        return HttpOptions(
            auth=httpx.BasicAuth(self.settings.api_key, ""),
            secrets=[self.settings.api_key],
            errors=wire.ERRORS,
        )

    def check_batch_id(self, batch_id: str) -> str:
        """Scale batch ids are the batch names."""
        return batch_name(batch_id)

    # -- neutral operations -------------------------------------------------------------

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
        """Create a batch in `project` (required). Names are unique per customer.

        A retried create that meets 409 fetches the batch and returns it when it matches,
        but only when an earlier attempt may have created it (its response was lost or it
        failed with a 500/502/504); after a 429, 503 or connect error, which prove the
        earlier attempt did nothing, a 409 is a `Conflict`: someone else's batch.
        `options`: `calibration_batch`, `self_label_batch` (Rapid projects).
        """
        batch_name(name)
        if not project:
            raise InvalidInput("Scale batches belong to a project: pass project='<name>'")
        extra = check_options(options)
        unknown = set(extra) - _CREATE_OPTIONS
        if unknown:
            raise InvalidInput(
                f"unknown Scale create_batch option(s) {sorted(unknown)}: "
                f"known: {sorted(_CREATE_OPTIONS)}"
            )
        for key, value in extra.items():
            if not isinstance(value, bool):
                raise InvalidInput(f"Scale option {key} must be True or False, got {value!r}")
        text("project", project)
        if callback is not None:
            url("callback", callback)
        if metadata is not None:
            metadata = json_object("metadata", metadata)
        try:
            response = yield wire.create_batch(name, project, callback, metadata, extra)
        except Conflict as e:
            # adopt the existing batch only if our own earlier attempt could have made it
            # (its response was lost): after a 429 / 503 / connect error it cannot have
            if not e.earlier_attempt_may_have_applied:
                # the same error (its attempts and status kept), with a message that says why
                e.args = (
                    f"scale create_batch: a batch named {name!r} already exists: batch names "
                    "are unique per Scale account; pick another name or get_batch() it",
                )
                raise
            existing: Batch = yield from self.get_batch(name)
            if existing.project != project:
                raise
            log.warning(
                "scale create_batch %r: a retry met 409 and the batch exists in project %r: "
                "the earlier attempt created it; returning that batch",
                name,
                project,
            )
            return existing
        return wire.parse_batch(response, "create_batch")

    @primed
    def get_batch(self, batch: BatchRef) -> Flow[Batch]:
        """Fetch a batch by name (and remember its project: the tasks added to it name it;
        the bulk upload's first request fills this before any file goes up)."""
        found = wire.parse_batch((yield wire.get_batch(self.batch_id(batch))), "get_batch")
        self._projects[found.id] = found.project
        return found

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
        detailed: bool = False,
        **options: Any,
    ) -> Flow[None]:
        """Batches, newest first, filtered on the server; `detailed=True` asks Scale for
        each batch's task counts too."""
        if options:
            raise InvalidInput(
                f"unknown Scale list_batches option(s) {sorted(options)}: known: ['detailed']"
            )
        state = list_filters(state, limit, created_after, created_before)
        if owner is not None:
            raise InvalidInput("Scale batches have no owner: drop owner= for Scale")
        if project is not None:
            text("project", project)
        if not isinstance(detailed, bool):
            raise InvalidInput(f"detailed must be True or False, got {detailed!r}")
        status: str | None = None
        if state is not None:
            status = wire.state_param(state)
            if status is None:
                return
        page_size = min(limit, wire.PAGE_SIZE) if limit else wire.PAGE_SIZE

        def fetch(offset: int) -> Flow[tuple[list[Batch], bool]]:
            call = wire.list_batches(
                offset=offset,
                limit=page_size,
                project=project,
                status=status,
                start_time=created_after,
                end_time=created_before,
                detailed=detailed,
            )
            return wire.parse_page((yield call))

        yield from by_offset(
            fetch, provider=self.name, operation="list_batches", key=attrgetter("id"), limit=limit
        )

    @primed
    def status(self, batch: BatchRef) -> Flow[BatchStatus]:
        """State and task counts (pending, completed, error, canceled)."""
        name = self.batch_id(batch)
        return wire.parse_status((yield wire.batch_status(name)), name)

    @primed
    def finalize(self, batch: BatchRef) -> Flow[Batch]:
        """Move a staging batch to in progress, and return it.

        Only batches of Scale Rapid and Studio projects start out `STAGING` and need this;
        a batch of a standard project is `IN_PROGRESS` from creation, and finalizing it
        changes nothing (Scale: "calling this endpoint will not do anything"): the batch
        comes back as it is, not as an error.
        """
        return wire.parse_batch((yield wire.finalize(self.batch_id(batch))), "finalize")

    @primed
    def prioritize(self, batch: BatchRef, priority: int) -> Flow[None]:
        """Set priority 10 (lowest) to 30 (highest) for the batch's unstarted tasks."""
        check_priority(priority)
        yield wire.prioritize(self.batch_id(batch), priority)

    # -- Scale extras -------------------------------------------------------------------

    @primed
    def set_metadata(self, batch: BatchRef, metadata: Mapping[str, Any]) -> Flow[Batch]:
        """Replace the batch's metadata."""
        metadata = json_object("metadata", metadata)
        call = wire.set_metadata(self.batch_id(batch), metadata)
        return wire.parse_batch((yield call), "set_metadata")

    @primed
    def get_project(self, name: str) -> Flow[Project]:
        """Fetch a project by name (`NotFound` if there is none)."""
        text("project name", name)
        return wire.parse_project((yield wire.get_project(name)), "get_project")

    @primed
    def list_projects(self) -> Flow[list[Project]]:
        """Every project of the account (Scale answers them all at once, unpaged)."""
        return wire.parse_projects((yield wire.list_projects()))

    @primed
    def create_project(
        self,
        name: str,
        *,
        type: str,
        params: Mapping[str, Any] | None = None,
        rapid: bool | None = None,
        studio: bool | None = None,
        dataset_id: str | None = None,
        pipeline: str | None = None,
    ) -> Flow[Project]:
        """Create a project (the container of batches). A name already taken is a
        `Conflict`, whose message says when an earlier attempt of this call (its answer
        lost) may have made it: then `get_project(name)` shows it."""
        batch_name(name)
        if not type:
            raise InvalidInput("Scale projects need a task type, e.g. type='imageannotation'")
        text("type", type)
        if params is not None:
            params = json_object("params", params)
        for label, given_flag in (("rapid", rapid), ("studio", studio)):
            if given_flag is not None and not isinstance(given_flag, bool):
                raise InvalidInput(f"{label} must be True, False or None, got {given_flag!r}")
        for label, given in (("dataset_id", dataset_id), ("pipeline", pipeline)):
            if given is not None:
                text(label, given)
        body: dict[str, Any] = {"type": type, "name": name}
        for key, value in (
            ("params", params),
            ("rapid", rapid),
            ("studio", studio),
            ("datasetId", dataset_id),
            ("pipeline", pipeline),
        ):
            if value is not None:
                body[key] = value
        try:
            return wire.parse_project((yield wire.create_project(body)))
        except Conflict as e:
            e.args = (
                f"scale create_project: a project named {name!r} already exists"
                + (
                    " (possibly created by an earlier attempt whose response was lost)"
                    if e.earlier_attempt_may_have_applied
                    else ""
                ),
            )
            raise

    # -- the labeling loop --------------------------------------------------------------

    @primed
    def upload_file(
        self, batch: BatchRef, name: str, data: FileData, *, size: int | None = None
    ) -> Flow[BatchFile]:
        """The file becomes one task of the batch: it goes up through Scale's Files API,
        and a task of the profile's `task_type` (with its `task_fields`) is made with it as
        its `attachment` and the file name in its metadata (`batchkit_item`, what its
        `Result` is named by). Idempotent per batch and name: its unique_id is derived from
        both, so uploading the file again (a rerun) makes no second task."""
        batch_id = self.batch_id(batch)
        file_name(name)
        task_type, fields = self._file_task()
        if size is not None:
            positive_int("size", size, minimum=0)
        if isinstance(data, FileUrl):  # Scale fetches it: no byte passes through here
            url(f"the URL of {name!r}", data.url)
            project = yield from self._project_of(batch_id)
            imported = yield wire.import_file(data.url, name)
            attachment, sent = wire.parse_attachment(imported), wire.imported_size(imported)
        else:
            source = open_source(data)
            try:
                if size is not None and size != source.size:
                    raise InvalidInput(
                        f"size={size} given for {name!r} but the data holds {source.size} bytes"
                    )
                project = yield from self._project_of(batch_id)
                attachment = wire.parse_attachment(
                    (yield wire.upload_file(name, source.as_file(), name))
                )
            finally:
                source.close()
            sent = source.size
        canonical = json.dumps([batch_id, name], separators=(",", ":"))
        body = {
            **fields,
            "attachment": attachment,
            "metadata": {"batchkit_item": name},
            "unique_id": "batchkit-" + hashlib.sha256(canonical.encode()).hexdigest()[:40],
        }
        yield from self._add_one(batch_id, project, task_type, body, True)
        return BatchFile(name=name, size=sent)

    def _project_of(self, batch: str) -> Flow[str | None]:
        """The batch's project (fetched once per batch; `NotFound` for an unknown batch)."""
        if batch not in self._projects:
            yield from self.get_batch(batch)
        return self._projects[batch]

    def upload(self, batch: BatchRef, sources: Any, **options: Any) -> Flow[Any]:
        """The bulk upload (see `Adapter.upload`), refused before any request when no task
        type is set for the files to become."""
        self._file_task()
        return super().upload(batch, sources, **options)

    def _file_task(self) -> tuple[str, dict[str, Any]]:
        """The task type and fields files become, from the settings; `ConfigError` if none."""
        s = self.settings
        if not s.task_type:
            raise ConfigError(
                "scale makes a task of each uploaded file, and no task type is set: put "
                'task_type = "imageannotation" (and task_fields = {...}: instruction, '
                "geometries...) in the profile, pass task_type= to connect, or set "
                "SCALE_TASK_TYPE; or add tasks yourself with add_tasks"
            )
        fields = json_object("task_fields", s.task_fields) if s.task_fields else {}
        reserved = sorted((_RESERVED | {"attachment"}) & set(fields))
        if reserved:
            raise ConfigError(
                f"task_fields sets {reserved}: batchkit sets those for each uploaded file"
            )
        return text("task_type", s.task_type), fields

    @primed
    def add_tasks(
        self, batch: BatchRef, specs: Iterable[TaskSpec], *, concurrency: int = 16
    ) -> Flow[list[Task]]:
        """Create one task per spec in the batch, `concurrency` at a time; returns them in
        the order of `specs`. Idempotent: each task carries a `unique_id` (the spec's, or
        one derived from the batch and the spec), and a task that already exists under it
        in this batch (an earlier run, or a retry whose answer was lost) is returned, not
        created twice. A spec's own `unique_id` used by a task elsewhere is a `Conflict`."""
        name = self.batch_id(batch)
        concurrency = positive_int("concurrency", concurrency)
        if isinstance(specs, TaskSpec | str | bytes | dict):
            raise InvalidInput("specs must be an iterable of TaskSpec: wrap one spec in a list")
        try:
            given = list(specs)
        except TypeError:
            raise InvalidInput(
                f"specs must be an iterable of TaskSpec, got {type(specs).__name__}"
            ) from None
        checked = [_checked_spec(name, spec, i) for i, spec in enumerate(given)]
        seen: dict[str, int] = {}
        for i, (_, body, _) in enumerate(checked):
            first = seen.setdefault(body["unique_id"], i)
            if first != i:
                raise InvalidInput(
                    f"specs {first} and {i} are the same task (unique_id "
                    f"{body['unique_id']!r}): give them distinct unique_id values"
                )
        project = yield from self._project_of(name)  # NotFound once, not per task
        return (
            yield from gather(
                (self._add_one(name, project, *spec) for spec in checked), limit=concurrency
            )
        )

    def _add_one(
        self, batch: str, project: str | None, type_: str, body: dict[str, Any], derived: bool
    ) -> Flow[Task]:
        full = {**body, "batch": batch, **({"project": project} if project else {})}
        try:
            return wire.parse_task((yield wire.create_task(type_, full)), "add_tasks")
        except Conflict as e:
            uid = body["unique_id"]
            # the task under this unique_id is this very task when batchkit derived the id
            # (it names this batch and this spec), when our own attempt may have made it (its
            # answer was lost), or when it is in this batch, of this type, with the spec's
            # attachment and metadata (a rerun of the pipeline): it is returned; any other
            # task is someone else's
            existing = yield from self._find_unique(uid)
            ours = derived or e.earlier_attempt_may_have_applied or _same_task(existing, body)
            if (
                existing is None
                or not ours
                or existing.batch_id != batch
                or (existing.type != type_)
            ):
                e.args = (
                    f"scale add_tasks: unique_id {uid!r} is already used by another task "
                    f"({wire.conflicting_task(e.vendor_message) or 'id not given'}); unique_ids "
                    "are global across projects: pick another, or cancel that task with "
                    "clear_unique_id=True",
                )
                raise
            log.info("scale add_tasks: task %s (%s) already exists: returning it", existing.id, uid)
            return existing

    def _find_unique(self, unique_id: str) -> Flow[Task | None]:
        page, _, _ = wire.parse_task_page((yield wire.list_tasks(unique_id=unique_id, limit=1)))
        return page[0] if page else None

    @primed
    def get_task(self, task: Task | str) -> Flow[Task]:
        """Fetch a task by id."""
        return wire.parse_task((yield wire.get_task(_task_id(task))), "get_task")

    @primed
    def list_tasks(
        self,
        batch: BatchRef,
        *,
        state: Any = None,
        limit: int | None = None,
        tags: Any = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        completed_after: datetime | None = None,
        completed_before: datetime | None = None,
    ) -> Flow[None]:
        """The batch's tasks (newest first), following `next_token`, filtered on the
        server: `state` an `ItemState` (or its value), `tags` (any of them), and the time
        bounds (inclusive; naive datetimes are UTC)."""
        name = self.batch_id(batch)
        times = time_bounds(
            created_after=created_after,
            created_before=created_before,
            updated_after=updated_after,
            updated_before=updated_before,
            completed_after=completed_after,
            completed_before=completed_before,
        )
        wanted_tags = strings("tags", tags) if tags is not None else []
        status: str | None = None
        if state is not None:
            chosen = ItemState.__members__.get(str(getattr(state, "name", state)).upper())
            if chosen is None:
                known = ", ".join(repr(s.value) for s in ItemState)
                raise InvalidInput(f"state must be an ItemState or one of {known}; got {state!r}")
            status = wire.TASK_STATUS[chosen]
        if limit is not None:
            positive_int("limit", limit)
        page = min(limit, wire.TASK_PAGE) if limit else wire.TASK_PAGE

        def fetch(token: str | None) -> Flow[tuple[list[Task], str | None, bool]]:
            call = wire.list_tasks(
                batch=name, status=status, tags=wanted_tags, times=times, limit=page, token=token
            )
            return wire.parse_task_page((yield call))

        yield from by_token(
            fetch, provider=self.name, operation="list_tasks", key=attrgetter("id"), limit=limit
        )

    @primed
    def cancel_task(self, task: Task | str, *, clear_unique_id: bool = False) -> Flow[Task]:
        """Cancel a task no one has started (Scale refuses others); `clear_unique_id=True`
        frees its unique_id for a new task."""
        flag("clear_unique_id", clear_unique_id)
        task_id = _task_id(task)
        call = wire.cancel_task(task_id, clear_unique_id=clear_unique_id)
        try:
            return wire.parse_task((yield call), "cancel_task")
        except ProviderError as e:
            # a retried cancel whose first answer was lost meets "only a pending task can be
            # canceled": the first attempt canceled it, so the task as it is now is the answer
            if not (e.earlier_attempt_may_have_applied and e.status in (400, 409)):
                raise
            found = wire.parse_task((yield wire.get_task(task_id)), "cancel_task")
            if found.state is not ItemState.CANCELED:
                raise
            return found

    @primed
    def start(
        self,
        batch: BatchRef,
        *,
        app: str | None = None,
        deployment: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Flow[Run]:
        """Start work on the batch's tasks: finalize a staging batch (Scale Rapid and
        Studio); a batch of a standard project is worked from creation, so starting it
        changes nothing. A batch without tasks is refused: nothing would ever complete."""
        name = self.batch_id(batch)
        for label, given in (("app", app), ("deployment", deployment)):
            if given is not None:
                raise InvalidInput(
                    f"Scale batches run no {label}: their tasks are worked by Scale's "
                    f"workforce; drop {label}= for Scale"
                )
        if check_options(options):
            raise InvalidInput(f"Scale start takes no options, got {sorted(options or {})}")
        status: BatchStatus = yield from self.status(name)
        if status.counts is not None and not status.counts.total:
            raise EmptyBatch(
                f"scale batch {name!r} has no tasks: add them (add_tasks, or upload files) "
                "before starting it; an empty batch would never complete",
                provider=self.name,
                batch_id=name,
            )
        if status.state is BatchState.STAGING:
            # finalizing moves no task: the counts stand, the state is finalize's answer
            finalized: Batch = yield from self.finalize(name)
            status = attrs.evolve(status, state=finalized.state)
        return wire.run_of(status)

    @primed
    def get_run(self, run: Run | str) -> Flow[Run]:
        """The batch's processing now: its state and task counts."""
        name = _run_batch(self, run)
        return wire.run_of((yield from self.status(name)))

    @primed
    def results(self, run: Run | str) -> Flow[None]:
        """One `Result` per task of the batch: its state and `response`."""
        name = _run_batch(self, run)

        def fetch(token: str | None) -> Flow[tuple[list[Any], str | None, bool]]:
            page = yield wire.list_tasks(batch=name, token=token)
            tasks, following, more = wire.parse_task_page(page)
            return [wire.task_result(t) for t in tasks], following, more

        yield from by_token(fetch, provider=self.name, operation="results", key=_result_key)


#: keys of a task body that a TaskSpec sets through its own fields, or the batch sets
_RESERVED = frozenset({"project", "batch", "unique_id", "metadata"})


def _checked_spec(batch: str, spec: object, index: int) -> tuple[str, dict[str, Any], bool]:
    """(type, body without project and batch, whether the unique_id is derived)."""
    if not isinstance(spec, TaskSpec):
        raise InvalidInput(f"specs[{index}] must be a TaskSpec, got {type(spec).__name__}")
    text(f"specs[{index}].type", spec.type)
    fields = json_object(f"specs[{index}].fields", spec.fields)
    reserved = sorted(_RESERVED & set(fields))
    if reserved:
        raise InvalidInput(
            f"specs[{index}].fields sets {reserved}: the batch sets project and batch, and "
            "unique_id / metadata are TaskSpec's own fields"
        )
    body: dict[str, Any] = dict(fields)
    if spec.metadata is not None:
        body["metadata"] = json_object(f"specs[{index}].metadata", spec.metadata)
    derived = spec.unique_id is None
    if spec.unique_id is not None:
        body["unique_id"] = text(f"specs[{index}].unique_id", spec.unique_id)
    else:
        canonical = json.dumps([batch, spec.type, body], sort_keys=True, separators=(",", ":"))
        body["unique_id"] = "batchkit-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
    return spec.type, body, derived


def _same_task(existing: Task | None, body: Mapping[str, Any]) -> bool:
    """Whether `existing` was made from the spec `body` (its attachment and metadata): a
    rerun meeting the task its first run added under the caller's own unique_id."""
    if existing is None:
        return False
    params = existing.raw.get("params")
    attachment = params.get("attachment") if isinstance(params, Mapping) else None
    return attachment == body.get("attachment") and dict(existing.metadata) == body.get(
        "metadata", {}
    )


def _task_id(task: object) -> str:
    if isinstance(task, Task):
        if task.provider != "scale":
            raise InvalidInput(f"task {task.id!r} came from provider {task.provider!r}, not scale")
        return task.id
    return text("task id", task)


def _run_batch(adapter: ScaleAdapter, run: object) -> str:
    """The batch a run (or a batch name) is about."""
    if isinstance(run, Run):
        if run.provider != "scale":
            raise InvalidInput(f"run {run.id!r} came from provider {run.provider!r}, not scale")
        return adapter.batch_id(run.batch_id)
    if isinstance(run, Batch | str):
        return adapter.batch_id(run)
    raise InvalidInput(f"expected a Run (as start returns) or a batch, got {type(run).__name__}")


def _result_key(result: Any) -> str:
    return str(result.raw.get("task_id", result.item))
