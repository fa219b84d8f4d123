"""Upload sessions an interrupted upload could leave open at the vendor.

A multipart upload opens a session at the vendor before its parts go up. If the process
dies (kill -9, power loss) before the commit or abort, the session stays open there. An
adapter reports each session it opens and closes through `opened` / `closed`; the bulk
upload listens (`listening`) and writes them to its resume journal, so a resumed upload
aborts the sessions the journal knows were left open. The listener is a context variable:
each worker thread reports to the upload it works for, and nothing is recorded outside one.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class SessionListener(Protocol):
    """Told when an adapter opens and closes an upload session."""

    def opened(self, session: str) -> None:
        """A session (the adapter's id or URL for it) was opened; parts follow."""

    def closed(self, session: str) -> None:
        """The session was committed or aborted: nothing is left open."""


_listener: contextvars.ContextVar[SessionListener | None] = contextvars.ContextVar(
    "batchkit_session_listener", default=None
)


@contextmanager
def listening(listener: SessionListener) -> Iterator[None]:
    """Report sessions opened and closed inside the block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def opened(session: str) -> None:
    """Adapters call this right after a session is opened, before sending any part."""
    listener = _listener.get()
    if listener is not None:
        listener.opened(session)


def closed(session: str) -> None:
    """Adapters call this once a session is committed or aborted."""
    listener = _listener.get()
    if listener is not None:
        listener.closed(session)
