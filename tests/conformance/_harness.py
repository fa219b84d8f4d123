"""What the conformance suites share: the two specs, the emulator they run against, and the
schemathesis configuration built from one list of documented deviations.

Not a test module: ``test_emulator_conformance.py`` owns the deviation list and the tests;
``test_client_requests.py`` checks batchkit's own requests against the same specs.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
import yaml
from starlette.types import Receive, Scope, Send

from batchkit.emulator import Emulator
from batchkit.emulator.aihub import EXTRACTOR_APP, EXTRACTOR_DEPLOYMENT_ID

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Instabase's official OpenAPI description of AI Hub (MIT, licence beside it), copied
#: verbatim so the suite needs nothing outside the repository.
AIHUB_SPEC = HERE / "aihub-openapi.yaml"
#: batchkit's own description of Scale's v1 batch and project endpoints (no official one).
SCALE_SPEC = ROOT / "docs" / "scale-v1-openapi.yaml"

#: the only AI Hub token / Scale API key the emulator accepts here, so a request without
#: it (schemathesis' ``ignored_auth`` check sends some) must be refused
AIHUB_TOKEN = "conformance-aihub-token"
SCALE_KEY = "conformance-scale-key"

#: The AI Hub operations the emulator serves, selected by operationId. Everything else in
#: the spec (``/v2/aihub/secrets``, ``/v1/auditlogs``) is not emulated.
AIHUB_OPERATIONS: tuple[str, ...] = (
    "createBatch",
    "listBatches",
    "getBatch",
    "deleteBatch",
    "listFiles",
    "addFileToBatch",
    "deleteFileFromBatch",
    "createMultipartUploadSession",
    "uploadMultipartPart",
    "commitMultipartUploadSession",
    "pollBatchesJob",
    "jobStatus",
    "readFile",
    "writeFile",
    "getFileMetadata",
    "deleteFileOrFolder",
    "runApp",
    "listRuns",
    "runDeployment",
    "getRunStatus",
    "deleteRun",
    "getRunResults",
)
#: path prefixes of the AI Hub operations the emulator does not serve (yet)
AIHUB_NOT_EMULATED = ("/v2/aihub/", "/v1/")


@dataclass(frozen=True)
class Deviation:
    """A status the service (and so the emulator) answers that the spec does not document.

    ``operations`` are operationIds; ``example`` is one request that provokes it
    (``(method, path below the API root, options for httpx)``), replayed by a test so an
    entry that is no longer true fails instead of lingering.
    """

    status: int
    operations: tuple[str, ...]
    why: str
    example: tuple[str, str, Mapping[str, Any]]


@dataclass(frozen=True)
class Budget:
    """How much schemathesis generates: examples per operation and stateful scenarios."""

    examples: int
    scenarios: int
    steps: int


#: CI: 10 examples for each of the 45 operations (22 AI Hub, 23 Scale; plus the coverage
#: phase) and 15 scenarios per vendor, seeded
CI_BUDGET = Budget(examples=10, scenarios=15, steps=12)
#: the ``conformance_big`` marker (``pytest -m conformance_big``)
BIG_BUDGET = Budget(examples=300, scenarios=300, steps=25)
SEED = int(os.environ.get("BATCHKIT_CONFORMANCE_SEED", "20261101"))


class EmulatorSwitch:
    """An ASGI app forwarding to a fresh :class:`Emulator` after each :meth:`reset`.

    Each generated example (and each stateful scenario) starts from an empty emulator, so a
    replayed or shrunk example meets the state it first met: hypothesis needs that to call
    a failure reproducible.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._lock = threading.Lock()
        self._emulator: Emulator | None = None

    @property
    def emulator(self) -> Emulator:
        """The current emulator (started on first use)."""
        with self._lock:
            if self._emulator is None:
                self._emulator = Emulator(**self._options)
            return self._emulator

    def reset(self) -> Emulator:
        """Drop the current emulator's state; the next request meets a new one."""
        with self._lock:
            old, self._emulator = self._emulator, None
        if old is not None:
            old.close()
        return self.emulator

    def close(self) -> None:
        """Close the current emulator (its temporary storage goes with it)."""
        with self._lock:
            old, self._emulator = self._emulator, None
        if old is not None:
            old.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.emulator.app(scope, receive, send)


def emulator_switch(*, tokens: Iterable[str]) -> EmulatorSwitch:
    """Jobs complete when created (``job_seconds=0``), so a deletion applies at once and a
    read after it must be a 404 (schemathesis' ``use_after_free`` check); app runs, timed
    like jobs, complete when started, so their results are there to validate."""
    return EmulatorSwitch(job_seconds=0, tokens=frozenset(tokens))


def load_yaml(path: Path) -> dict[str, Any]:
    """A spec file as a dict (YAML 1.1 safe loading, as schemathesis does)."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert isinstance(data, dict), path
    return data


def operations_by_id(spec: Mapping[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (METHOD, path template, operation object)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def selected(spec: Mapping[str, Any], operation_ids: Iterable[str]) -> dict[str, Any]:
    """A copy of ``spec`` holding only the named operations (and the paths that have any).

    Done on the document rather than with ``schema.include()``: schemathesis 4.32 merges the
    per-operation check settings of :func:`config` into the same include filter, which then
    lets every operation through.
    """
    wanted = set(operation_ids)
    pruned = copy.deepcopy(dict(spec))
    paths: dict[str, Any] = {}
    for path, item in pruned["paths"].items():
        kept = {
            key: value
            for key, value in item.items()
            if not (isinstance(value, dict) and "operationId" in value)
            or value["operationId"] in wanted
        }
        if any(isinstance(v, dict) and "operationId" in v for v in kept.values()):
            paths[path] = kept
    pruned["paths"] = paths
    missing = wanted - set(operations_by_id(pruned))
    assert not missing, f"not in the spec: {sorted(missing)}"
    return pruned


#: where a run (of the app or of a deployment) leads: its status, results and deletion
_RUN_LINKS: dict[str, Any] = {
    "GetRunStatus": {"operationId": "getRunStatus", "parameters": {"run_id": "$response.body#/id"}},
    "GetRunResults": {
        "operationId": "getRunResults",
        "parameters": {"run_id": "$response.body#/id"},
    },
    "DeleteRun": {"operationId": "deleteRun", "parameters": {"run_id": "$response.body#/id"}},
}

#: OpenAPI links added to the AI Hub spec for the stateful phase, where schemathesis cannot
#: infer them (the spec has none): operationId → response status → links. They only steer
#: which calls follow which; nothing is checked differently.
AIHUB_LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "createBatch": {
        "200": {
            "AddFile": {
                "operationId": "addFileToBatch",
                "parameters": {"batch_id": "$response.body#/id", "filename": "input.txt"},
            },
            "StartMultipartUpload": {
                "operationId": "createMultipartUploadSession",
                # a name and size the service takes, so the chain goes on to the parts
                "requestBody": {
                    "batch_id": "$response.body#/id",
                    "filename": "upload.bin",
                    "file_size": 1,
                },
            },
        },
    },
    "createMultipartUploadSession": {
        "201": {
            "UploadFirstPart": {
                "operationId": "uploadMultipartPart",
                "parameters": {"session_id": "$response.body#/session_id", "part_num": 1},
            },
            "CommitOrAbort": {
                "operationId": "commitMultipartUploadSession",
                "parameters": {"session_id": "$response.body#/session_id"},
            },
        },
    },
    "addFileToBatch": {
        "204": {
            # a batch with a file in it: run the built-in app on it, directly and deployed
            "RunApp": {
                "operationId": "runApp",
                "requestBody": {
                    "app_name": EXTRACTOR_APP,
                    "batch_id": "$request.path.batch_id",
                },
            },
            "RunDeployment": {
                "operationId": "runDeployment",
                "parameters": {"deployment-id": EXTRACTOR_DEPLOYMENT_ID},
                "requestBody": {"batch_id": "$request.path.batch_id"},
            },
        },
    },
    "runApp": {"200": _RUN_LINKS},
    "runDeployment": {"202": _RUN_LINKS},
    "deleteRun": {
        "202": {
            "PollInputJob": {
                "operationId": "jobStatus",
                "parameters": {"job_id": "$response.body#/delete_input_dir_job_id"},
            },
            "PollOutputJob": {
                "operationId": "jobStatus",
                "parameters": {"job_id": "$response.body#/delete_output_dir_job_id"},
            },
        },
    },
    "deleteBatch": {
        "202": {
            "PollJob": {
                "operationId": "jobStatus",
                "parameters": {"job_id": "$response.body#/job_id"},
            },
            "PollBatchesJob": {
                "operationId": "pollBatchesJob",
                "parameters": {"job_id": "$response.body#/job_id"},
            },
        },
    },
}


def linked(spec: Mapping[str, Any], links: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of ``spec`` with ``links`` added to the operations' responses."""
    patched = copy.deepcopy(dict(spec))
    by_id = operations_by_id(patched)
    for operation_id, by_status in links.items():
        responses = by_id[operation_id][2]["responses"]
        for status, named in by_status.items():
            responses[status].setdefault("links", {}).update(copy.deepcopy(dict(named)))
    return patched


def documented(spec: Mapping[str, Any], deviations: Iterable[Deviation]) -> dict[str, Any]:
    """A copy of ``spec`` in which every deviation's status is a documented response of its
    operations: a JSON error body for a 4xx, no body for a 204 or any HEAD answer."""
    patched = copy.deepcopy(dict(spec))
    by_id = operations_by_id(patched)
    for deviation in deviations:
        for operation_id in deviation.operations:
            method, _, operation = by_id[operation_id]
            response: dict[str, Any] = {"description": f"Deviation: {deviation.why}"}
            if method != "HEAD" and deviation.status >= 400:
                response["content"] = {
                    "application/json": {"schema": {"$ref": "#/components/schemas/error"}}
                }
            operation["responses"].setdefault(str(deviation.status), response)
    return patched


#: what schemathesis' positive_data_acceptance check expects of schema-valid requests
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def config(
    *,
    budget: Budget,
    auth: Mapping[str, Any],
    deviations: Iterable[Deviation] = (),
) -> schemathesis.Config:
    """The schemathesis configuration: seeded and derandomized, every check on, a valid
    credential on every generated request, and each operation with a documented 400
    deviation allowed to refuse schema-valid data with it (the service checks more than
    the spec's schemas say; the deviation says what)."""
    refuse_valid: dict[str, list[str]] = {}
    for deviation in deviations:
        if deviation.status == 400:
            for operation_id in deviation.operations:
                refuse_valid.setdefault(operation_id, [*POSITIVE_STATUSES]).append("400")
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "deterministic": True,
                "max-examples": budget.examples,
                "database": "none",
                # every generated request carries the valid credential: missing or wrong
                # credentials are tested by the ignored_auth check, not generated at random
                "with-security-parameters": False,
            },
            # stateful scenarios chain successful calls: schema-valid requests only (each
            # operation is also tested with invalid ones in its own test)
            "phases": {"stateful": {"max-steps": budget.steps, "generation": {"mode": "positive"}}},
            "auth": {"openapi": dict(auth)},
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
                }
                for operation_id, statuses in refuse_valid.items()
            ],
        }
    )


def aihub_schema(*, budget: Budget, deviations: Iterable[Deviation], app: EmulatorSwitch) -> Any:
    """The AI Hub spec, its deviations documented, narrowed to the emulated operations."""
    deviations = tuple(deviations)
    spec = selected(load_yaml(AIHUB_SPEC), AIHUB_OPERATIONS)
    spec = linked(documented(spec, deviations), AIHUB_LINKS)
    schema = schemathesis.openapi.from_dict(
        spec,
        config=config(
            budget=budget,
            auth={"bearerAuth": {"bearer": AIHUB_TOKEN}},
            deviations=deviations,
        ),
    )
    schema.app = app
    return schema


def scale_schema(*, budget: Budget, app: EmulatorSwitch) -> Any:
    """batchkit's Scale v1 spec (no deviations: it documents every status Scale sends)."""
    schema = schemathesis.openapi.from_path(
        SCALE_SPEC,
        config=config(budget=budget, auth={"scaleApiKey": {"username": SCALE_KEY, "password": ""}}),
    )
    schema.app = app
    return schema
