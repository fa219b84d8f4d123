"""The request log: one record per request the emulator received, in completion order."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import overload

import attrs


@attrs.frozen
class RequestRecord:
    """One request as the emulator saw it.

    ``path`` is the raw path as received (percent-encoding kept, no query); ``query`` the raw
    query string. ``status`` is the status the emulator produced: the vendor's, or an injected
    fault's; for ``"drop"`` and ``"lost_response"`` the vendor's status that was cut short or
    never reached the client; 0 for ``"reset"``. ``tenant`` is the credential the vendor
    accepted (None when authentication failed or the vendor never saw the request). ``fault``
    names the injected fault (``"503"``, ``"429"``, ``"reset"``, ``"drop"``,
    ``"lost_response"``) or is None. ``latency`` is the delay added, in seconds. ``vendor`` is
    ``"aihub"``, ``"scale"`` or None.
    """

    method: str
    path: str
    query: str
    status: int
    tenant: str | None = None
    fault: str | None = None
    latency: float = 0.0
    vendor: str | None = None


class RequestLog(Sequence[RequestRecord]):
    """A thread-safe, list-like log of `RequestRecord` (the server runs in a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        """Add a record (the emulator does this; tests normally only read)."""
        with self._lock:
            self._records.append(record)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def snapshot(self) -> list[RequestRecord]:
        """A copy of the records at this moment."""
        with self._lock:
            return list(self._records)

    @overload
    def __getitem__(self, index: int) -> RequestRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RequestRecord]: ...

    def __getitem__(self, index: int | slice) -> RequestRecord | list[RequestRecord]:
        with self._lock:
            return self._records[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RequestLog({self.snapshot()!r})"
