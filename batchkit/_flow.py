"""Flows: every operation that takes requests, written once for the sync and the async client.

A flow is a generator. It *yields* what it needs done (a step: send this request, open this
stream, sleep, run these flows concurrently, run this blocking function, hand out these
items) and *receives* the result, or has the failure raised at the `yield` (so `try` /
`except NotFound` around a `yield` works as it reads). It does no I/O of its own. Two small
drivers run every flow: `batchkit._drive` (blocking, threads for `Gather`) and
`batchkit._adrive` (anyio: asyncio or trio, tasks for `Gather`). This is the "sans-I/O"
shape of h11 and httpx's auth flows: the protocol logic exists once, the I/O twice, small.

Flows compose with ``yield from``: ``batch = yield from adapter.get_batch(batch_id)``.
A flow returns its result with ``return``; a listing flow also yields `Emit` steps, whose
items the drivers hand to the caller lazily, page by page.

Validation belongs *before* the generator: an adapter method checks its arguments eagerly and
then returns a generator (see `batchkit.adapters`), so bad input raises at the call, even
for a listing the caller never iterates, and before any request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeAlias, TypeVar

import attrs

from ._call import Call

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

#: A flow returning a `T`. What each step sends back is documented on the step.
Flow: TypeAlias = Generator[Any, Any, T]


@attrs.frozen
class Open:
    """Send `call` (with retries) and keep the response unread: receives a `Stream`."""

    call: Call


@attrs.define(eq=False)
class Stream:
    """An open response body, read with `Read` and released with `Close` (drivers fill in
    `chunks`: an iterator, or an async iterator, over the body's bytes)."""

    response: httpx.Response
    chunks: Any = attrs.field(default=None, repr=False)


@attrs.frozen
class Read:
    """The next chunk of `stream`'s body: receives bytes, ``b""`` at its end; a broken
    connection is raised as httpx raised it."""

    stream: Stream


@attrs.frozen
class Close:
    """Release `stream`'s connection: receives None."""

    stream: Stream


@attrs.frozen
class Sleep:
    """Wait `seconds`: receives None."""

    seconds: float


@attrs.frozen
class Blocking:
    """Run `fn()` (local file I/O, hashing): receives its result. The async driver runs it
    in a worker thread so the event loop keeps running; `cheap=True` says it is quicker
    than the hop to a thread (a stat), and it runs in place."""

    fn: Callable[[], Any]
    cheap: bool = False


@attrs.frozen
class Gather:
    """Run `flows` concurrently, at most `limit` at a time, taken from the iterable only
    as there is room (so a long lazy iterable costs no memory).

    Without `each`, receives the results in the order of `flows`. With `each`, calls it with
    every result as its flow finishes (on the driving thread or task) and receives None.
    The first flow to raise stops the rest from starting; flows in flight finish (sync) or
    are cancelled (async), then the error is raised at the `yield`.
    """

    flows: Iterable[Flow[Any]]
    limit: int
    each: Callable[[Any], None] | None = None


@attrs.frozen
class Emit:
    """Hand `items` to whoever iterates over a listing flow: receives None."""

    items: Sequence[Any]


def primed(method: Callable[P, Flow[T]]) -> Callable[P, Flow[T]]:
    """Run a flow method's generator up to its first step at the call: its argument checks
    (and anything else before the first `yield`) raise there, before any request, even if
    the flow is never run (a listing never iterated). Flows do no I/O, so this is safe.

    Adapters decorate every public flow method with it.
    """

    @functools.wraps(method)
    def call_now(*args: P.args, **kwargs: P.kwargs) -> Flow[T]:
        flow = method(*args, **kwargs)
        try:
            first = next(flow)
        except StopIteration as stop:
            return just(stop.value)
        return _resume(flow, first)

    return call_now


def _resume(flow: Flow[T], first: Any) -> Flow[T]:
    """`flow`, whose first step was already taken, from that step on."""
    step = first
    try:
        while True:
            try:
                value = yield step
            except BaseException as e:  # raised into the flow where it asked
                try:
                    step = flow.throw(e)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                continue
            try:
                step = flow.send(value)
            except StopIteration as stop:
                result = stop.value
                return result
    finally:
        flow.close()


def just(value: T) -> Flow[T]:
    """A flow that makes no request and returns `value` (for operations that need none)."""
    return value
    yield  # pragma: no cover - makes this a generator


def call(c: Call) -> Flow[httpx.Response]:
    """Send one request: ``response = yield from call(c)`` (the same as ``yield c``, typed)."""
    response: httpx.Response = yield c
    return response


def blocking(fn: Callable[[], R], *, cheap: bool = False) -> Flow[R]:
    """``result = yield from blocking(fn)``: run a blocking function, typed."""
    result: R = yield Blocking(fn, cheap)
    return result


def gather(flows: Iterable[Flow[R]], *, limit: int) -> Flow[list[R]]:
    """``results = yield from gather(flows, limit=n)``: results in the order of `flows`."""
    results: list[R] = yield Gather(flows, limit)
    return results


def sleep(seconds: float) -> Flow[None]:
    """``yield from sleep(s)``."""
    yield Sleep(seconds)


def collect(listing: Flow[None]) -> Flow[list[Any]]:
    """``items = yield from collect(adapter.list_files(b))``: a whole listing, as a list."""
    items: list[Any] = []
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = listing.send(value) if error is None else listing.throw(error)
        except StopIteration:
            return items
        value, error = None, None
        if isinstance(step, Emit):
            items.extend(step.items)
            continue
        try:
            value = yield step
        except BaseException as e:  # raised into the listing, where it was asked for
            error = e


def emit(items: Sequence[Any]) -> Flow[None]:
    """``yield from emit(page)``: hand a page of a listing to its reader."""
    if items:
        yield Emit(items)


__all__ = [
    "Blocking",
    "Close",
    "Emit",
    "Flow",
    "Gather",
    "Open",
    "Read",
    "Sleep",
    "Stream",
    "blocking",
    "call",
    "collect",
    "emit",
    "gather",
    "just",
    "primed",
    "sleep",
]
