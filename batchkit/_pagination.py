"""Lazy pagination flows, guarded against servers that would make them loop forever.

Each helper is a listing flow (`batchkit._flow`): it fetches a page with the adapter's page
flow and `Emit`s its items, so the caller's iteration asks for the next page only when it
gets there, sync or async.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from ._errors import ProviderError
from ._flow import Flow, emit

T = TypeVar("T")

#: empty pages in a row that still say "more follows" before we call it a server bug (some
#: servers legitimately send a few, e.g. while filtering)
MAX_EMPTY_PAGES = 20


class _Progress:
    """Remembers what a listing has seen, to stop a server that makes no progress."""

    def __init__(self, provider: str, operation: str, key: Callable[[Any], Hashable]) -> None:
        self.provider = provider
        self.operation = operation
        self.key = key
        self.pages: set[int] = set()
        self.empty = 0

    def fail(self, why: str) -> ProviderError:
        return ProviderError(
            f"{self.provider} {self.operation}: the server {why}; stopping instead of "
            "looping forever (a server bug: retry later, or report it to the vendor)",
            provider=self.provider,
            operation=self.operation,
        )

    def check(self, items: Sequence[object]) -> None:
        """Raise if this page repeats an earlier one, or if too many pages came empty."""
        if not items:
            self.empty += 1
            if self.empty >= MAX_EMPTY_PAGES:
                raise self.fail(f"sent {self.empty} empty pages in a row, each saying more follow")
            return
        self.empty = 0
        # items are unique in a listing (file names, batch ids), so a page with the same
        # keys as an earlier one means the server ignored the token or offset; pages are
        # remembered by a hash of their keys, so memory grows with pages, not items
        fingerprint = hash(tuple(self.key(item) for item in items))
        if fingerprint in self.pages:
            raise self.fail(f"sent the same page twice ({len(items)} items)")
        self.pages.add(fingerprint)


#: the page size asked for when a whole listing is read at once (the upload's verify, the
#: bulk download): a hint each adapter caps to the largest page its vendor serves, so a
#: batch of 10,000 files takes 10 round trips, not 100 at a server's default of 100
WHOLE_LISTING_PAGE = 10_000


def by_token(
    fetch: Callable[[str | None], Flow[tuple[Sequence[T], str | None, bool]]],
    *,
    provider: str,
    operation: str,
    key: Callable[[T], Hashable],
    limit: int | None = None,
) -> Flow[None]:
    """Emit items page by page; the flow `fetch(token)` returns (items, next_token, has_more);
    at most `limit` items in all.

    Stops when the server says there is no more or gives no token. A repeated token, a
    repeated page (by the items' `key`) or `MAX_EMPTY_PAGES` empty pages in a row raise
    `ProviderError` naming the endpoint, instead of looping forever.
    """
    progress = _Progress(provider, operation, key)
    token: str | None = None
    tokens: set[str] = set()
    count = 0
    while True:
        items, token, more = yield from fetch(token)
        progress.check(items)
        chosen = list(items) if limit is None else list(items)[: limit - count]
        count += len(chosen)
        yield from emit(chosen)
        if not more or not token or (limit is not None and count >= limit):
            return
        if token in tokens:
            raise progress.fail(f"repeated page token {token!r}")
        tokens.add(token)


def by_offset(
    fetch: Callable[[int], Flow[tuple[Sequence[T], bool]]],
    *,
    provider: str,
    operation: str,
    key: Callable[[T], Hashable],
    limit: int | None = None,
    keep: Callable[[T], bool] | None = None,
) -> Flow[None]:
    """Emit items page by page; the flow `fetch(offset)` returns (items, has_more).

    Advances by the number of items received, stops on an empty page, and emits at most
    `limit` items in all, of those `keep` keeps (filters the server does not have). A page
    repeating an earlier one (by the items' `key`: the server ignored `offset`) raises
    `ProviderError` naming the endpoint.
    """
    progress = _Progress(provider, operation, key)
    offset = 0
    count = 0
    while True:
        items, more = yield from fetch(offset)
        progress.check(items)
        chosen = [i for i in items if keep(i)] if keep is not None else list(items)
        if limit is not None:
            chosen = chosen[: limit - count]
        count += len(chosen)
        yield from emit(chosen)
        if not items or not more or (limit is not None and count >= limit):
            return
        offset += len(items)
