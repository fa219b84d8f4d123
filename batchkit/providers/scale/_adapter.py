"""`ScaleAdapter`: Scale AI task batches (v1 API) as flows (the wire is in `_protocol`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, Self

import attrs
import httpx

from ..._adapter import Adapter, BatchRef
from ..._capabilities import Capability
from ..._errors import ConfigError, Conflict, InvalidInput
from ..._flow import Flow, primed
from ..._models import Batch, BatchState, BatchStatus, Project
from ..._pagination import by_offset
from ..._settings import CommonSettings, HttpOptions, required_credential, structure_settings
from ..._validate import batch_name, json_object, list_filters, text, url
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
    )
    env_settings: ClassVar[Mapping[str, str]] = {
        "SCALE_API_KEY": "api_key",
        "SCALE_API_ROOT": "api_root",
    }
    secret_settings: ClassVar[frozenset[str]] = frozenset({"api_key"})

    settings: ScaleSettings

    def __init__(self, settings: ScaleSettings) -> None:
        self.settings = settings

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
        """Fetch a batch by name."""
        return wire.parse_batch((yield wire.get_batch(self.batch_id(batch))), "get_batch")

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
        """Create a project (the container of batches). A retried create meeting 409
        returns a project only if it cannot have been someone else's: it re-raises."""
        batch_name(name)
        if not type:
            raise InvalidInput("Scale projects need a task type, e.g. type='imageannotation'")
        text("type", type)
        if params is not None:
            params = json_object("params", params)
        for label, flag in (("rapid", rapid), ("studio", studio)):
            if flag is not None and not isinstance(flag, bool):
                raise InvalidInput(f"{label} must be True, False or None, got {flag!r}")
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
