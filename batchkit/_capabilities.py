"""Capability flags: what a provider can do, declared as data and never inferred."""

from __future__ import annotations

import enum


class Capability(enum.Flag):
    """One flag per operation a pipeline may need to detect before calling it."""

    CREATE_BATCH = enum.auto()
    LIST_BATCHES = enum.auto()
    #: list_batches can filter by state and creation time on the server.
    LIST_FILTERS = enum.auto()
    DELETE_BATCH = enum.auto()
    UPLOAD_FILES = enum.auto()
    #: big files go up in parts (parallel, each retried alone).
    MULTIPART_UPLOAD = enum.auto()
    LIST_FILES = enum.auto()
    DELETE_FILES = enum.auto()
    DOWNLOAD_FILES = enum.auto()
    #: a batch moves from staging to in progress when finalized.
    FINALIZE = enum.auto()
    #: status() reports task counts (pending / completed / error / canceled).
    STATUS_COUNTS = enum.auto()
    PRIORITIZE = enum.auto()
    #: a callback URL or e-mail can be attached at creation.
    CALLBACKS = enum.auto()
    #: free-form metadata can be attached to a batch.
    METADATA = enum.auto()
    #: tasks are added to a batch one by one, and can be listed, fetched and canceled
    #: (`add_tasks`, `list_tasks`, `get_task`, `cancel_task`: Scale).
    TASKS = enum.auto()
    #: processing of a batch is started and waited for (`start`, `wait`).
    RUNS = enum.auto()
    #: the results of processing are read back, item by item (`results`).
    RESULTS = enum.auto()
    #: `upload` takes http(s) URLs as sources and the vendor fetches them itself: no byte
    #: passes through the client (Scale: `POST /v1/files/import`).
    IMPORT_URLS = enum.auto()


#: which capability each neutral operation needs (drives error messages and the matrix).
OPERATION_CAPABILITY: dict[str, Capability] = {
    "create_batch": Capability.CREATE_BATCH,
    "list_batches": Capability.LIST_BATCHES,
    "delete_batch": Capability.DELETE_BATCH,
    "upload_file": Capability.UPLOAD_FILES,
    "upload": Capability.UPLOAD_FILES,
    "list_files": Capability.LIST_FILES,
    "delete_file": Capability.DELETE_FILES,
    "download_file": Capability.DOWNLOAD_FILES,
    "download": Capability.DOWNLOAD_FILES,
    "finalize": Capability.FINALIZE,
    "prioritize": Capability.PRIORITIZE,
    "set_metadata": Capability.METADATA,
    "add_tasks": Capability.TASKS,
    "list_tasks": Capability.TASKS,
    "get_task": Capability.TASKS,
    "cancel_task": Capability.TASKS,
    "start": Capability.RUNS,
    "wait": Capability.RUNS,
    "results": Capability.RESULTS,
}


def flag_names(flags: Capability) -> list[str]:
    """The names of the single flags set in `flags`, in declaration order."""
    return [member.name for member in Capability if member in flags and member.name]


def capability(value: Capability | str) -> Capability:
    """`value` as a `Capability`: a flag as is, or a flag's name (any case, e.g. from a
    config file); anything else raises `InvalidInput` listing the names."""
    if isinstance(value, Capability):
        return value
    if isinstance(value, str):
        member = Capability.__members__.get(value.strip().upper())
        if member is not None:
            return member
    from ._errors import InvalidInput

    names = ", ".join(flag_names(~Capability(0)))
    raise InvalidInput(f"unknown capability {value!r}: use a batchkit.Capability, one of {names}")
