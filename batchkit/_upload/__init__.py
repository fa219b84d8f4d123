"""The bulk upload behind `provider.upload`: concurrent, bounded, verified, resumable.

It plans everything before sending anything (names validated, collisions refused), then
feeds at most ``2 * concurrency`` files at a time through the provider's own `upload_file`,
which streams each file (and goes multipart where the vendor does). Afterwards it checks the
batch listing (and, on request, a sha256 read-back). An optional append-only journal lets a
rerun skip what an interrupted run already sent.

One module per job; only `_engine` orders requests and runs them at once (as a flow, which the
blocking and the async driver both run):

- `_call`: the call's checks and plan before its first request, and the report at the end
- `_globs`: `include` / `exclude` patterns (wcmatch)
- `_names`: ``name_by`` and the reversible relative-path encoding (`relative_name`)
- `_plan`: sources -> items: the walk (local and remote), symlinks, special files, names,
  collisions
- `_items`: one file to send, its identity, how its bytes are read
- `_journal`: the resume journal, its session lines and the skip decision
- `_progress`: `UploadProgress` events and their counter
- `_send`: one file's steps before and after `upload_file`
- `_verify`: the final listing / sha256 check
- `_engine`: the upload as one flow (`upload_flow`), for the sync and the async driver
"""

from ._engine import upload_flow
from ._journal import default_journal_path
from ._names import NameBy, relative_name, relative_path
from ._plan import InvalidMode, Source
from ._progress import ProgressCallback, ProgressKind, UploadProgress
from ._verify import VerifyMode

__all__ = [
    "InvalidMode",
    "NameBy",
    "ProgressCallback",
    "ProgressKind",
    "Source",
    "UploadProgress",
    "VerifyMode",
    "default_journal_path",
    "relative_name",
    "relative_path",
    "upload_flow",
]
