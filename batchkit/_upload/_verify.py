"""After sending: is each uploaded file really in the batch, with its size (and its sha256)?

`Verification` decides from what the engine fetched — the batch listing, once, and for
``verify="sha256"`` each file read back into a `HashSink` — and marks the files it rejects
failed; it sends no request itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal, TypeAlias

import attrs

from .._errors import BatchkitError, InvalidInput
from ._items import Item
from ._journal import Journal
from ._progress import Progress
from ._send import Sent, reason

#: accepted values of ``verify``
VerifyMode: TypeAlias = Literal["size", "sha256", "none"] | None


def check_verify(verify: object) -> str:
    if verify is None or verify == "none":
        return "none"
    if verify in ("size", "sha256"):
        return verify
    raise InvalidInput(f"verify must be 'size', 'sha256' or None, got {verify!r}")


class HashSink:
    """A write-only binary sink that hashes what `download_file` streams into it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush."""

    def writable(self) -> bool:
        return True

    def mismatch(self, expected: str) -> str | None:
        """Why the bytes read back are not the local file's (sha256 `expected`), or None."""
        actual = self.hash.hexdigest()
        if actual == expected:
            return None
        return (
            f"sha256 mismatch: the batch copy ({self.size} bytes) hashes to {actual[:12]}…, "
            f"the local file to {expected[:12]}…"
        )


def unreadable(error: Exception) -> str:
    """Why a file failed its sha256 check when reading it back raised `error`."""
    return f"sha256 check could not read the file back: {reason(error)}"


class Verification:
    """The final check of one upload's files (those `upload_file` accepted)."""

    def __init__(self, items: list[Item], results: list[Sent | None]) -> None:
        self._items = items
        #: the files to check: each uploaded item with its outcome
        self.uploaded = [
            (items[r.index], r) for r in results if r is not None and r.outcome.status == "uploaded"
        ]
        #: index -> (reason, whether the batch copy is known to be wrong)
        self._rejected: dict[int, tuple[str, bool]] = {}

    def reported_sizes(self) -> dict[str, int]:
        """The sizes `upload_file` reported, for a provider that cannot list the batch."""
        return {item.name: r.remote_size for item, r in self.uploaded if r.remote_size is not None}

    def listed(self, sizes: Mapping[str, int]) -> None:
        """Compare the batch's sizes (name -> bytes) with the local files'."""
        for item, r in self.uploaded:
            remote = sizes.get(item.name)
            if remote is None:
                self._rejected[item.index] = ("missing from the batch listing after upload", True)
            elif remote != r.outcome.size:
                self._rejected[item.index] = (
                    f"size mismatch: the batch lists {remote} bytes, "
                    f"the local file has {r.outcome.size}",
                    True,
                )

    def listing_failed(self, error: BatchkitError) -> None:
        """The batch could not be listed: no uploaded file is verified."""
        for item, _ in self.uploaded:
            self._rejected[item.index] = (f"not verified: listing the batch failed: {error}", False)

    def to_read_back(self) -> list[tuple[Item, str | None]]:
        """(item, local sha256) of each file still to read back, for ``verify="sha256"``."""
        return [(item, r.sha256) for item, r in self.uploaded if item.index not in self._rejected]

    def read_back(self, item: Item, why: str | None) -> None:
        """The read-back of `item` found `why` wrong (`mismatch`, `unreadable`), or nothing."""
        if why is not None:
            self._rejected[item.index] = (why, why.startswith("sha256 mismatch"))

    def apply(
        self, results: list[Sent | None], *, journal: Journal | None, progress: Progress
    ) -> None:
        """Mark the rejected files failed: in `results`, the journal and the progress events."""
        for index, (why, wrong) in sorted(self._rejected.items()):
            item = self._items[index]
            old = results[index]
            assert old is not None
            results[index] = attrs.evolve(
                old, outcome=attrs.evolve(old.outcome, status="failed", reason=why)
            )
            if wrong and journal is not None:
                journal.rejected(item.name, why)
            progress.emit("failed", item, reason=why)
