"""Apps, deployments and runs of the emulated AI Hub: the built-in apps and the result JSON.

AI Hub runs an *app* (by name or id), or a *deployment* of one, on a batch or an input
folder; a run is ``RUNNING`` until it is ``COMPLETE`` (or ``FAILED``, or ``CANCELLED``), and
its results are files → documents → fields. The emulator has two built-in apps, available to
every tenant, each with a deployment:

- ``batchkit-extractor`` reads each input file's bytes and extracts, deterministically, one
  document per file with the fields ``file_name``, ``size``, ``sha256``, ``first_line`` and
  ``page_count`` (pages are separated by form feeds, ``\\f``), so tests can assert on them. An
  empty file cannot be read: each of its fields has the value ``"ERROR"`` and an
  ``error_msg``, as the spec describes for fields that failed in a ``COMPLETE`` run.
- ``batchkit-fail`` always ends ``FAILED``.

This module is pure Python (no HTTP, no state); `backend` keeps the runs.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from batchkit.emulator.aihub.storage import CHUNK_SIZE

#: The run statuses of the spec's ``run`` schema. There is no PENDING (that is a *job*
#: state): a run starts RUNNING. PAUSED and STOPPED_AT_CHECKPOINT are never produced.
RUNNING = "RUNNING"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
RUN_STATUSES = ("CANCELLED", "COMPLETE", "FAILED", "PAUSED", "RUNNING", "STOPPED_AT_CHECKPOINT")
#: the statuses a run never leaves
TERMINAL = frozenset({COMPLETE, FAILED, CANCELLED})

#: the one version every built-in app has; a run may name it or leave ``version`` out
APP_VERSION = "1.0.0"
#: the owner under which AI Hub publishes Marketplace apps (``owner`` of a run request)
MARKETPLACE_OWNER = "instabase"

EXTRACTOR_APP = "batchkit-extractor"
FAIL_APP = "batchkit-fail"
#: fixed ids (uuid5 of the app's name), so tests and docs can name them
EXTRACTOR_APP_ID = "524d73af-c740-505b-a8b4-d351598a0678"
FAIL_APP_ID = "f1946f24-5b72-58c5-973e-6b365501f3ab"
EXTRACTOR_DEPLOYMENT_ID = "bb3f30ad-fd9e-5457-8ce2-4488dc0b6b49"
FAIL_DEPLOYMENT_ID = "b5754d9a-65f5-501c-bc97-1aa4f4b43b82"

#: Longest ``first_line`` value, in characters.
FIRST_LINE_LIMIT = 200
#: Bytes read at most while looking for the end of the first line.
FIRST_LINE_BYTES = 64 * 1024
#: Page size reported in ``page_layouts`` (US Letter, in points).
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
#: Combined length of all tags a run may carry ("must not exceed 500 characters").
MAX_TAGS_LENGTH = 500


@dataclass(frozen=True)
class App:
    """A runnable app: its name, id and whether every run of it fails."""

    name: str
    id: str
    always_fails: bool = False
    version: str = APP_VERSION


BUILTIN_APPS: tuple[App, ...] = (
    App(name=EXTRACTOR_APP, id=EXTRACTOR_APP_ID),
    App(name=FAIL_APP, id=FAIL_APP_ID, always_fails=True),
)
#: deployment id → app name
BUILTIN_DEPLOYMENTS: dict[str, str] = {
    EXTRACTOR_DEPLOYMENT_ID: EXTRACTOR_APP,
    FAIL_DEPLOYMENT_ID: FAIL_APP,
}


@dataclass(frozen=True)
class RunOptions:
    """What a run request may set besides the app and the input (all optional)."""

    #: output workspace (None: the caller's personal workspace, ``my-repo`` here)
    output_workspace: str | None = None
    #: output folder; overrides ``output_workspace``
    output_dir: str | None = None
    tags: tuple[str, ...] = ()
    #: ``settings.keys.custom``, echoed by the results as ``keys.custom``
    custom_keys: dict[str, Any] = field(default_factory=dict)
    #: ``settings.runtime_config.generate_post_process_pdf``
    generate_post_process_pdf: bool = False


@dataclass(frozen=True)
class ResultFlags:
    """The ``include_*`` query flags of get-run-results (all false by default)."""

    review_results: bool = False
    confidence_scores: bool = False
    validation_results: bool = False
    source_info: bool = False


@dataclass(frozen=True)
class Extracted:
    """What ``batchkit-extractor`` read from one input file when the run started."""

    name: str
    #: the input file's path (no leading slash, as in the spec's example)
    input_file_path: str
    size: int
    sha256: str
    first_line: str
    page_count: int
    #: whether the bytes are valid UTF-8
    is_text: bool

    @property
    def readable(self) -> bool:
        """An empty file has nothing to read: every field of it is an ``ERROR``."""
        return self.size > 0


def extract(name: str, input_file_path: str, handle: BinaryIO) -> Extracted:
    """Read one file (closing ``handle``) and derive the extractor's values from its bytes."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_text = True
    head = bytearray()
    head_done = False
    size = 0
    form_feeds = 0
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            size += len(chunk)
            digest.update(chunk)
            form_feeds += chunk.count(b"\f")
            if is_text:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_text = False
            if not head_done:
                head += chunk
                head_done = b"\n" in head or len(head) >= FIRST_LINE_BYTES
    if is_text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_text = False
    line = bytes(head[:FIRST_LINE_BYTES]).split(b"\n", 1)[0].rstrip(b"\r")
    first_line = line.decode("utf-8", errors="replace")[:FIRST_LINE_LIMIT]
    return Extracted(
        name=name,
        input_file_path=input_file_path,
        size=size,
        sha256=digest.hexdigest(),
        first_line=first_line,
        page_count=form_feeds + 1 if size else 0,
        is_text=is_text,
    )


@dataclass(eq=False)
class Run:
    """One run of an app (directly, or through a deployment) on a batch or an input folder.

    The inputs are read when the run starts (``files``); the results are shown once the run
    is ``COMPLETE``. ``due`` is when it completes by the backend's clock (None: not by time).
    """

    id: str
    tenant: str
    username: str
    app: App
    deployment_id: str | None
    batch_id: int | None
    input_dir: str | None
    output_workspace: str
    output_dir: str
    options: RunOptions
    files: list[Extracted]
    start_ns: int
    due: float | None
    #: the run completes on poll ``poll_limit + 1`` (None: not by polls)
    poll_limit: int | None
    fails: bool
    status: str = RUNNING
    finish_ns: int | None = None
    msg: str = ""
    polls: int = 0
    #: started after ``seq`` other runs of the backend (list-runs breaks ties by it)
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        """The spec's ``run`` object (get-run-status, run-app, run-deployment, list-runs).

        The spec names the run's message ``msg`` here and ``message`` in the results; the SDK's
        ``Run`` model reads ``msg``: served as the spec says, each in its place. ``batch_id``
        is an integer here (``null`` for an ``input_dir`` run) and a string in the results.
        """
        return {
            "id": self.id,
            "status": self.status,
            "start_timestamp": self.start_ns,
            "finish_timestamp": self.finish_ns,
            "msg": self.msg,
            "batch_id": self.batch_id,
            "input_dir": self.input_dir,
            "app_id": self.app.id,
            "deployment_id": self.deployment_id,
            "tags": list(self.options.tags),
        }


@dataclass(frozen=True)
class ResultsPage:
    """One page of a run's results: ``files[offset:offset + page size]``."""

    run: Run
    files: list[Extracted]
    has_more: bool
    flags: ResultFlags

    def to_json(self) -> dict[str, Any]:
        """The spec's ``resultsResponse``.

        Three places where the spec disagrees with itself, served as the SDK accepts:
        ``message`` (not the run's ``msg``); ``batch_id`` a *string* (the schema and both
        examples; the SDK's ``StrictStr`` refuses an integer), left out for an ``input_dir``
        run; ``keys`` an *object* ``{"custom": {...}}`` (the schema; the first example's list
        ``[{"custom": {}}]`` is refused by the SDK's model).
        """
        run = self.run
        body: dict[str, Any] = {
            "id": run.id,
            "status": run.status,
            "message": run.msg,
            "start_timestamp": run.start_ns,
            "finish_timestamp": run.finish_ns,
        }
        if run.batch_id is not None:
            body["batch_id"] = str(run.batch_id)
        body["files"] = [self._file_json(extracted) for extracted in self.files]
        body["keys"] = {"custom": dict(run.options.custom_keys)}
        body["case_info"] = {"fields": []}
        body["review_completed"] = False
        body["has_more"] = self.has_more
        return body

    def _file_json(self, extracted: Extracted) -> dict[str, Any]:
        return {
            "original_file_name": extracted.name,
            "input_file_path": extracted.input_file_path,
            "documents": [self._document_json(extracted)],
        }

    def _document_json(self, extracted: Extracted) -> dict[str, Any]:
        flags = self.flags
        fields = [self._field_json(extracted, name) for name in FIELD_NAMES]
        document: dict[str, Any] = {"fields": fields}
        readable = extracted.readable
        document["class_name"] = None if not readable else "Text" if extracted.is_text else "Binary"
        # the spec's one example of page_numbers is [1, 2]: 1-based (unlike page_layouts'
        # and source_coordinates' page_number, documented as zero-indexed)
        document["page_numbers"] = list(range(1, extracted.page_count + 1))
        if flags.review_results:
            document["review_completed"] = False
            document["class_edit_history"] = []
        if flags.confidence_scores:
            document["classification_confidence"] = {"model": 1.0 if readable else None}
        if flags.validation_results:
            document["validations"] = {"final_result_pass": readable}
        if flags.source_info:
            images = f"{self.run.output_dir}/s1_process_files/images"
            document["page_layouts"] = [
                {"page_number": page, "width": PAGE_WIDTH, "height": PAGE_HEIGHT}
                for page in range(extracted.page_count)
            ]
            document["post_processed_paths"] = [f"{images}/{extracted.name}.PNG"]
            if self.run.options.generate_post_process_pdf:
                document["post_processed_pdf_path"] = (
                    f"{self.run.output_dir}/s1_process_files/pdf/{extracted.name}.pdf"
                )
        return document

    def _field_json(self, extracted: Extracted, name: str) -> dict[str, Any]:
        flags = self.flags
        value, kind = field_value(extracted, name)
        item: dict[str, Any] = {"field_name": name, "value": value, "type": kind}
        error = None if extracted.readable else EMPTY_FILE_ERROR
        if error is not None:
            item["error_msg"] = error
        if flags.review_results:
            item["edit_history"] = []
        if flags.confidence_scores:
            score = field_confidence(extracted, name)
            item["confidence"] = {"model": score, "ocr": score}
        if flags.validation_results:
            alerts = []
            if error is not None:
                alerts.append(
                    {
                        "alert_level": "FAILURE",
                        "msg": error,
                        "blocked": False,
                        "type": "extraction_error",
                        "locations": [],
                    }
                )
            item["validations"] = {"valid": error is None, "alerts": alerts}
        if flags.source_info:
            item["source_coordinates"] = (
                [
                    {
                        "top_x": 0.0,
                        "top_y": 0.0,
                        "bottom_x": PAGE_WIDTH,
                        "bottom_y": 12.0,
                        "page_number": 0,
                    }
                ]
                if name == "first_line" and extracted.readable
                else []
            )
        return item


@dataclass(frozen=True)
class RunDeletion:
    """The jobs a run deletion started (None: nothing of that kind to delete)."""

    input_job: str | None
    output_job: str | None
    log_job: str | None

    def to_json(self) -> dict[str, Any]:
        """The delete-run 202 body; poll each job id at ``/v2/jobs/<id>``."""
        return {
            "delete_input_dir_job_id": self.input_job,
            "delete_output_dir_job_id": self.output_job,
            "delete_log_dir_job_id": self.log_job,
        }


#: the extractor's fields, in the order served
FIELD_NAMES = ("file_name", "size", "sha256", "first_line", "page_count")
#: a field that failed has this value (the spec: "some fields may have failed and have the
#: value ERROR") and an ``error_msg``
ERROR_VALUE = "ERROR"
EMPTY_FILE_ERROR = "the file is empty: there is nothing to extract"


def field_value(extracted: Extracted, name: str) -> tuple[str, str]:
    """``(value, type)`` of one extractor field; values are strings, as the spec's (and the
    SDK's ``StrictStr``) ``documentField.value`` requires."""
    if not extracted.readable:
        return ERROR_VALUE, "TEXT"
    values: dict[str, tuple[str, str]] = {
        "file_name": (extracted.name, "TEXT"),
        "size": (str(extracted.size), "INT"),
        "sha256": (extracted.sha256, "TEXT"),
        "first_line": (extracted.first_line, "TEXT"),
        "page_count": (str(extracted.page_count), "INT"),
    }
    return values[name]


def field_confidence(extracted: Extracted, name: str) -> float | None:
    """The field's ``confidence.model`` and ``confidence.ocr``: null for a failed field, 0.5
    for the ``first_line`` of a file that is not UTF-8 text, 1.0 otherwise."""
    if not extracted.readable:
        return None
    if name == "first_line" and not extracted.is_text:
        return 0.5
    return 1.0
