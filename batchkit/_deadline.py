"""A real deadline for one call: every socket read and write inside it is bounded by the time
the call has left, so a server that trickles bytes cannot stretch a call past its budget.

httpx bounds each socket operation by `timeout`, but a server that sends one byte every
`timeout - ε` seconds never trips it. The current call's deadline is a context variable
(each thread and task has its own); the transports clamp each socket operation's timeout
to what is left of it (`clamp`): `_pools` in its sockets, `_httpcore` in httpcore's
network backend. This module imports neither, so importing it costs nothing.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

#: the first events of a request once it has a connection: time before them was spent
#: queueing for one of the pool's connections
_CONNECTED = frozenset(
    {
        "connection.connect_tcp.started",
        "connection.connect_unix_socket.started",
        "http11.send_request_headers.started",
        "http2.send_request_headers.started",
    }
)


class Budget:
    """One call's deadline, in monotonic seconds.

    Time a request spends queueing for a pooled connection does not use it up: that is our
    own concurrency (a bulk upload may queue more requests than the pool has connections),
    not the server being slow. httpcore's `trace` extension tells when the wait ends.
    """

    def __init__(self, at: float) -> None:
        self.at = at
        self._queued_since: float | None = None

    def remaining(self) -> float:
        """Seconds left (may be <= 0)."""
        return self.at - time.monotonic()

    def attempt(self, request: httpx.Request, *, is_async: bool = False) -> None:
        """`request` is about to be sent: count the time until it has a connection back
        (httpcore wants a coroutine function for the trace of an async request)."""
        self._queued_since = time.monotonic()
        request.extensions["trace"] = self._atrace if is_async else self._trace

    def waited(self, seconds: float) -> None:
        """`seconds` were spent queueing for a connection: they do not count (a transport
        without httpcore's trace says so itself)."""
        self.at += seconds

    async def _atrace(self, event: str, info: dict[str, Any]) -> None:
        self._trace(event, info)

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if self._queued_since is not None and event in _CONNECTED:
            self.at += time.monotonic() - self._queued_since
            self._queued_since = None


#: the budget of the call running in this thread (None: no deadline)
_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "batchkit_budget", default=None
)


def current() -> Budget | None:
    """The budget of the call running in this thread, if it has one."""
    return _budget.get()


def remaining() -> float | None:
    """Seconds left before the current call's deadline (None without one; may be <= 0)."""
    budget = _budget.get()
    return None if budget is None else budget.remaining()


@contextmanager
def deadline(budget: Budget | None) -> Iterator[None]:
    """Run the block under `budget` (None: no deadline)."""
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)


def clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` for one socket operation, shortened to what is left of the current call's
    deadline; `error` raised if nothing is left."""
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("the call's time budget (retry_timeout) ran out")
    return left if timeout is None else min(timeout, left)
