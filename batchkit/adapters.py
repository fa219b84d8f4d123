"""The adapter kit: everything a vendor adapter needs, public and stable, so a third vendor
is a plugin package and not a fork (see docs/adapters.md, and the toy vendor in
tests/toy_vendor, which is built from this module alone).

A vendor package holds:

- an `Adapter` subclass: the vendor's name, `capabilities`, settings (a `CommonSettings`
  subclass, structured by `structure_settings`), `http_options` (auth, headers, secrets,
  `VendorErrors`), and one flow per operation it has, each decorated with `primed` and
  checking its arguments with the validators here (`InvalidInput` in batchkit's words);
- its wire: a function per request returning a `Call`, and parsers of `httpx.Response`
  (`json_body`, `parse` with `strict_converter`);
- optionally, `BatchProvider` / `AsyncBatchProvider` subclasses for vendor extras (methods
  beyond the neutral ones), each a one-line `self._run(self.adapter.extra(...))`;
- an entry point in the ``batchkit.providers`` group naming the provider class (or the
  adapter class alone, when there are no extras).

A flow yields `Call`s (and the other steps here) and receives responses; failures are raised
at its `yield`. It is run by the blocking and the async driver alike: write it once.
"""

from ._adapter import Adapter, BatchRef, FileData
from ._aprovider import AsyncBatchProvider
from ._call import Body, Call, Retry
from ._destinations import deliver
from ._flow import (
    Blocking,
    Close,
    Emit,
    Flow,
    Gather,
    Open,
    Read,
    Sleep,
    Stream,
    blocking,
    call,
    collect,
    emit,
    gather,
    just,
    primed,
    sleep,
)
from ._http import VendorErrors, segment
from ._jobs import wait as wait_for_job
from ._pagination import by_offset, by_token
from ._provider import BatchProvider
from ._ranged import read_resumable
from ._sessions import closed as session_closed
from ._sessions import opened as session_opened
from ._settings import (
    CommonSettings,
    HttpOptions,
    at_least,
    credential,
    required_credential,
    structure_settings,
)
from ._sources import ByteSource, open_source
from ._validate import (
    batch_name,
    byte_range,
    file_name,
    json_object,
    list_filters,
    positive_int,
    strings,
    text,
    time_bounds,
    url,
)
from ._validate import priority as check_priority
from ._wire import json_body, parse, strict_converter

__all__ = [
    "Adapter",
    "AsyncBatchProvider",
    "BatchProvider",
    "BatchRef",
    "Blocking",
    "Body",
    "ByteSource",
    "Call",
    "Close",
    "CommonSettings",
    "Emit",
    "FileData",
    "Flow",
    "Gather",
    "HttpOptions",
    "Open",
    "Read",
    "Retry",
    "Sleep",
    "Stream",
    "VendorErrors",
    "at_least",
    "batch_name",
    "blocking",
    "by_offset",
    "by_token",
    "byte_range",
    "call",
    "check_priority",
    "collect",
    "credential",
    "deliver",
    "emit",
    "file_name",
    "gather",
    "json_body",
    "json_object",
    "just",
    "list_filters",
    "open_source",
    "parse",
    "positive_int",
    "primed",
    "read_resumable",
    "required_credential",
    "segment",
    "session_closed",
    "session_opened",
    "sleep",
    "strict_converter",
    "strings",
    "structure_settings",
    "text",
    "time_bounds",
    "url",
    "wait_for_job",
]
