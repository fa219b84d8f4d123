"""Lazy pagination helpers, guarded against endless loops."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from ._errors import ProviderError

T = TypeVar("T")


def by_token(
    fetch: Callable[[str | None], tuple[Sequence[T], str | None, bool]],
    *,
    provider: str,
    operation: str,
) -> Iterator[T]:
    """Yield items page by page; `fetch(token)` returns (items, next_token, has_more).

    Stops when the server says there is no more or gives no token. A token seen twice
    is a server bug that would loop forever: it raises `ProviderError` instead.
    """
    token: str | None = None
    seen: set[str] = set()
    while True:
        items, token, more = fetch(token)
        yield from items
        if not more or not token:
            return
        if token in seen:
            raise ProviderError(
                f"{provider} {operation}: the server repeated page token {token!r}; "
                "stopping instead of looping forever",
                provider=provider,
                operation=operation,
            )
        seen.add(token)


def by_offset(
    fetch: Callable[[int], tuple[Sequence[T], bool]],
    *,
    provider: str,
    operation: str,
    limit: int | None = None,
) -> Iterator[T]:
    """Yield items page by page; `fetch(offset)` returns (items, has_more).

    Advances by the number of items received, stops on an empty page, and yields at
    most `limit` items in all.
    """
    offset = 0
    count = 0
    while True:
        items, more = fetch(offset)
        for item in items:
            if limit is not None and count >= limit:
                return
            count += 1
            yield item
        if not items or not more or (limit is not None and count >= limit):
            return
        offset += len(items)
