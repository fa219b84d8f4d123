"""Sorted indexes behind the emulator's paged listings: a page costs O(log n + page size).

A listing used to rebuild and sort every record on each page request, so with 100,000 files
every page of 1000 re-sorted 100,000 names and a client benchmark measured the emulator. The
vendors keep these indexes up to date as records come and go instead, and a page is a
bisection plus a slice.

`SortedIndex` is a sorted list kept in blocks (as ``sortedcontainers.SortedList``
does, which is not a dependency): inserting or removing anywhere shifts at most one block,
not the whole list, so records arriving in any order, or a task leaving the *pending* group
from its oldest end, stay cheap at any size.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: a block is split in two above twice this many items, and merged with the next one when
#: both fit in this many
LOAD = 512


class SortedIndex(Generic[T]):
    """Items in ascending order of ``key(item)``; items with equal keys stay in the order
    they were added. A position is an item's 0-based place in that order.

    A key must not change while its item is in the index (remove the item, change it, add
    it again). `remove` finds an item by its key and then by ``==`` (identity, for the
    emulator's records, which compare so).
    """

    def __init__(self, key: Callable[[T], Any], items: Iterable[T] = ()) -> None:
        self._key = key
        self._blocks: list[list[T]] = []
        self._keys: list[list[Any]] = []
        #: the last (largest) key of each block
        self._maxes: list[Any] = []
        #: the position of each block's first item, then the length; None when stale
        self._starts: list[int] | None = None
        self._len = 0
        for item in items:
            self.add(item)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[T]:
        return itertools.chain.from_iterable(self._blocks)

    def __reversed__(self) -> Iterator[T]:
        return itertools.chain.from_iterable(reversed(block) for block in reversed(self._blocks))

    def add(self, item: T) -> None:
        """Insert ``item`` after every item whose key is not greater than its own."""
        key = self._key(item)
        if not self._blocks:
            self._blocks.append([item])
            self._keys.append([key])
            self._maxes.append(key)
        else:
            b = bisect.bisect_right(self._maxes, key)
            if b == len(self._blocks):
                b -= 1
            keys = self._keys[b]
            i = bisect.bisect_right(keys, key)
            keys.insert(i, key)
            self._blocks[b].insert(i, item)
            self._maxes[b] = keys[-1]
            if len(keys) > 2 * LOAD:
                self._split(b)
        self._len += 1
        self._starts = None

    def remove(self, item: T) -> None:
        """Remove ``item`` (``ValueError`` if it is not in the index)."""
        key = self._key(item)
        b = bisect.bisect_left(self._maxes, key)
        while b < len(self._blocks):
            keys, block = self._keys[b], self._blocks[b]
            i = bisect.bisect_left(keys, key)
            while i < len(keys) and keys[i] == key:
                if block[i] == item:
                    del keys[i], block[i]
                    self._len -= 1
                    self._starts = None
                    self._shrunk(b)
                    return
                i += 1
            if i < len(keys):
                break
            b += 1
        raise ValueError(f"{item!r} is not in the index")

    def bisect_left(self, key: Any) -> int:
        """The position of the first item whose key is ``>= key`` (the length if none)."""
        b = bisect.bisect_left(self._maxes, key)
        if b == len(self._maxes):
            return self._len
        return self._positions()[b] + bisect.bisect_left(self._keys[b], key)

    def bisect_right(self, key: Any) -> int:
        """The position of the first item whose key is ``> key`` (the length if none)."""
        b = bisect.bisect_right(self._maxes, key)
        if b == len(self._maxes):
            return self._len
        return self._positions()[b] + bisect.bisect_right(self._keys[b], key)

    def slice(self, start: int, stop: int) -> list[T]:
        """The items at positions ``start`` to ``stop - 1``, ascending (both clamped to
        ``0..len``): the cost is the slice's length, plus finding ``start``."""
        start, stop = max(start, 0), min(stop, self._len)
        if start >= stop:
            return []
        starts = self._positions()
        b = bisect.bisect_right(starts, start) - 1
        i = start - starts[b]
        need = stop - start
        out: list[T] = []
        while need > 0:
            part = self._blocks[b][i : i + need]
            out.extend(part)
            need -= len(part)
            b, i = b + 1, 0
        return out

    def _positions(self) -> list[int]:
        # one C-level pass over the block lengths (n / LOAD of them), only after a change
        if self._starts is None:
            self._starts = list(itertools.accumulate(map(len, self._keys), initial=0))
        return self._starts

    def _split(self, b: int) -> None:
        keys, block = self._keys[b], self._blocks[b]
        half = len(keys) // 2
        self._keys[b + 1 : b + 1] = [keys[half:]]
        self._blocks[b + 1 : b + 1] = [block[half:]]
        del keys[half:], block[half:]
        self._maxes[b : b + 1] = [keys[-1], self._keys[b + 1][-1]]

    def _shrunk(self, b: int) -> None:
        keys = self._keys[b]
        if not keys:
            del self._keys[b], self._blocks[b], self._maxes[b]
            return
        self._maxes[b] = keys[-1]
        if b + 1 < len(self._keys) and len(keys) + len(self._keys[b + 1]) <= LOAD:
            keys.extend(self._keys.pop(b + 1))
            self._blocks[b].extend(self._blocks.pop(b + 1))
            del self._maxes[b + 1]
            self._maxes[b] = keys[-1]


class GroupedIndex(Generic[T]):
    """A `SortedIndex` of every item, and one per group (a record's status), so a
    listing filtered by group pages as cheaply as an unfiltered one.

    Whoever changes an item's group calls `move`.
    """

    def __init__(self, key: Callable[[T], Any], groups: Iterable[str]) -> None:
        self.all: SortedIndex[T] = SortedIndex(key)
        self._groups = {group: SortedIndex(key) for group in groups}
        self._key = key

    def add(self, item: T, group: str) -> None:
        """Index a new item, in ``group``."""
        self.all.add(item)
        self._groups[group].add(item)

    def move(self, item: T, old: str, new: str) -> None:
        """``item`` has left group ``old`` for ``new``."""
        if old != new:
            self._groups[old].remove(item)
            self._groups[new].add(item)

    def group(self, name: str) -> SortedIndex[T]:
        """The items in group ``name`` (an empty index for a group that has none)."""
        found = self._groups.get(name)
        return SortedIndex(self._key) if found is None else found

    def count(self, name: str) -> int:
        """How many items are in group ``name``."""
        found = self._groups.get(name)
        return 0 if found is None else len(found)


def window(index: SortedIndex[Any], low: Any, high: Any) -> tuple[int, int]:
    """Positions ``[lo, hi)`` of the items whose key lies in ``[low, high]``, for keys that are
    ``(moment, sequence)`` pairs: ``low``/``high`` bound the moment inclusively (None: no
    bound). Sequences are integers >= 0."""
    lo = 0 if low is None else index.bisect_left((low, -1))
    hi = len(index) if high is None else index.bisect_right((high, float("inf")))
    return lo, max(lo, hi)


def newest_first(index: SortedIndex[T], lo: int, hi: int, skip: int, limit: int) -> list[T]:
    """Items ``skip`` to ``skip + limit - 1`` of positions ``[lo, hi)`` read from the highest
    key down (the listings' newest-first order)."""
    top = hi - skip
    if top <= lo:
        return []
    page = index.slice(max(lo, top - limit), top)
    page.reverse()
    return page
