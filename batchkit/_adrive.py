"""The async driver: runs a flow (`batchkit._flow`) with an `AsyncHttpSession` on anyio.

The same flows as `batchkit._drive`, awaited: on asyncio or trio. `Gather` runs its flows
as tasks of one task group; `Blocking` runs in a worker thread. A failure is raised into
the flow at its `yield`. So is a cancellation (a task cancelled, a timeout, Ctrl-C): the
flow's cleanup steps (aborting a multipart session, closing a journal) then run shielded
from it, for at most `CLEANUP_SECONDS`, and the cancellation goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._call import Call
from ._flow import Blocking, Close, Emit, Flow, Gather, Open, Read, Sleep, Stream

if TYPE_CHECKING:
    from ._http import AsyncHttpSession

T = TypeVar("T")

#: how long a cancelled flow may take to clean up (abort a session) before it is cut short
CLEANUP_SECONDS = 30.0


class AsyncDriver:
    """Runs flows against one async session. `sleep` is how `Sleep` waits."""

    def __init__(
        self,
        session: AsyncHttpSession,
        *,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.session = session
        self.sleep = sleep

    async def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its end and return its result."""
        value: Any = None
        error: BaseException | None = None
        #: the cancellation the flow is cleaning up after, and when its cleanup must end
        cancelled: BaseException | None = None
        cleanup_until = 0.0
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                if isinstance(step, Emit):
                    raise TypeError("a listing flow must be iterated (AsyncDriver.iterate)")
                if cancelled is None:
                    try:
                        value = await self._do(step)
                    except anyio.get_cancelled_exc_class() as e:
                        # the flow sees the cancellation; what it does about it runs shielded
                        cancelled, error = e, e
                        cleanup_until = anyio.current_time() + CLEANUP_SECONDS
                    except BaseException as e:
                        error = e
                    continue
                # a cleanup step: shielded from the cancellation, each in a scope of its own
                # (trio allows one `with` per scope), all of them ending by one deadline
                done = False
                try:
                    with anyio.CancelScope(shield=True, deadline=cleanup_until):
                        value = await self._do(step)
                        done = True
                except BaseException as e:
                    error = e
                    continue
                if not done:  # cut short: the step did not happen, and the flow must know
                    error = cancelled
        finally:
            flow.close()

    def iterate(self, flow: Flow[None]) -> AsyncIterator[Any]:
        """Drive a listing flow lazily: its `Emit`-ted items, one by one."""
        return _Listing(self, flow)

    async def _do(self, step: object) -> Any:
        if isinstance(step, Call):
            return await self.session.send(step)
        if isinstance(step, Blocking):
            return step.fn() if step.cheap else await anyio.to_thread.run_sync(step.fn)
        if isinstance(step, Gather):
            return await self._gather(step)
        if isinstance(step, Read):
            return await anext(step.stream.chunks, b"")
        if isinstance(step, Open):
            response = await self.session.open(step.call)
            return Stream(response, _nonempty(response.aiter_bytes()))
        if isinstance(step, Close):
            await step.stream.response.aclose()
            return None
        if isinstance(step, Sleep):
            await self.sleep(step.seconds)
            return None
        raise TypeError(f"a flow yielded {step!r}, which is no step")

    async def _gather(self, gather: Gather) -> list[Any] | None:
        results: dict[int, Any] = {}
        room = anyio.Semaphore(max(1, gather.limit))

        async def one(index: int, flow: Flow[Any]) -> None:
            try:
                value = await self.run(flow)
            finally:
                room.release()
            if gather.each is not None:
                gather.each(value)
            else:
                results[index] = value

        try:
            async with anyio.create_task_group() as tasks:
                for index, flow in enumerate(gather.flows):
                    await room.acquire()
                    tasks.start_soon(one, index, flow)
        except BaseExceptionGroup as group:
            raise _first(group) from None
        if gather.each is not None:
            return None
        return [results[i] for i in range(len(results))]


async def _nonempty(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if chunk:
            yield chunk


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error a gather raises: its first failure that is not a cancellation (the
    others were cancelled because of it), else the cancellation."""
    cancelled = anyio.get_cancelled_exc_class()
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack[:0] = list(exc.exceptions)
        else:
            leaves.append(exc)
    for exc in leaves:
        if not isinstance(exc, cancelled):
            return exc
    return leaves[0]


class _Listing:
    """The async iterator over a listing flow's items. A class, not an async generator: a
    listing abandoned half way is closed with its (plain) flow, with no event loop needed
    and no "async generator garbage collected" warning (trio)."""

    def __init__(self, driver: AsyncDriver, flow: Flow[None]) -> None:
        self._driver = driver
        self._flow = flow
        self._items: deque[Any] = deque()
        self._done = False

    def __aiter__(self) -> _Listing:
        return self

    async def __anext__(self) -> Any:
        while not self._items:
            if self._done:
                raise StopAsyncIteration
            await self._next_page()
        return self._items.popleft()

    async def _next_page(self) -> None:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = self._flow.send(value) if error is None else self._flow.throw(error)
            except StopIteration:
                self._done = True
                return
            except BaseException:
                self._done = True
                raise
            value, error = None, None
            if isinstance(step, Emit):
                self._items.extend(step.items)
                return
            try:
                value = await self._driver._do(step)
            except Exception as e:
                error = e

    async def aclose(self) -> None:
        """Stop the listing: no further page is asked for."""
        self._done = True
        self._items.clear()
        self._flow.close()
