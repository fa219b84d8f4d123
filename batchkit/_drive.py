"""The blocking driver: runs a flow (`batchkit._flow`) with an `HttpSession` and threads.

Everything a flow asks for is done here, in the calling thread, except `Gather`, whose flows
run on a pool of worker threads (each with a copy of the caller's context variables, as an
asyncio task gets). A failure is raised into the flow at its `yield`; KeyboardInterrupt too,
so the flow's cleanup (aborting a multipart session, closing a journal) runs.
"""

from __future__ import annotations

import contextvars
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ._call import Call
from ._flow import Blocking, Close, Emit, Flow, Gather, Open, Read, Sleep, Stream

if TYPE_CHECKING:
    from ._http import HttpSession

T = TypeVar("T")

#: numbers each gather's worker threads, so it waits for its own and no others
_gathers = itertools.count(1)


class Driver:
    """Runs flows against one session. `sleep` is how `Sleep` waits (tests replace it)."""

    def __init__(self, session: HttpSession, *, sleep: Callable[[float], None] = time.sleep):
        self.session = session
        self.sleep = sleep

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its end and return its result."""
        steps = self._loop(flow)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                result: T = stop.value
                return result

    def iterate(self, flow: Flow[None]) -> Iterator[Any]:
        """Drive a listing flow lazily: its `Emit`-ted items, one by one."""
        steps = self._loop(flow)
        try:
            for items in steps:
                yield from items
        finally:
            steps.close()

    def _loop(self, flow: Flow[T]) -> Flow[T]:
        """Drive `flow`, yielding each `Emit`'s items; returns the flow's result."""
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                try:
                    if isinstance(step, Emit):
                        yield step.items
                    else:
                        value = self._do(step)
                except GeneratorExit:
                    raise
                except BaseException as e:  # KeyboardInterrupt included: the flow cleans up
                    error = e
        finally:
            flow.close()

    def _do(self, step: object) -> Any:
        if isinstance(step, Call):
            return self.session.send(step)
        if isinstance(step, Blocking):
            return step.fn()
        if isinstance(step, Gather):
            return self._gather(step)
        if isinstance(step, Read):
            return next(step.stream.chunks, b"")
        if isinstance(step, Open):
            response = self.session.open(step.call)
            return Stream(response, (c for c in response.iter_bytes() if c))
        if isinstance(step, Close):
            step.stream.response.close()
            return None
        if isinstance(step, Sleep):
            self.sleep(step.seconds)
            return None
        raise TypeError(f"a flow yielded {step!r}, which is no step")

    def _gather(self, gather: Gather) -> list[Any] | None:
        results: dict[int, Any] = {}
        source = enumerate(gather.flows)
        # a window twice the pool keeps every thread busy while results are handled
        window = max(1, 2 * gather.limit if gather.each is not None else gather.limit)
        prefix = f"batchkit-{next(_gathers)}"
        pool = ThreadPoolExecutor(max_workers=max(1, gather.limit), thread_name_prefix=prefix)
        pending: dict[Future[Any], int] = {}
        # each future puts itself here as it ends: taking the next one costs O(1), where
        # `wait(FIRST_COMPLETED)` sets up and tears down a waiter on every pending future
        finished: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        failure: BaseException | None = None
        exhausted = False
        try:
            while True:
                while failure is None and not exhausted and len(pending) < window:
                    try:
                        index, flow = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    run = contextvars.copy_context().run
                    submitted = pool.submit(run, self.run, flow)
                    pending[submitted] = index
                    submitted.add_done_callback(finished.put)
                if not pending:
                    break
                done = [finished.get()]
                while True:  # and every other one that has ended meanwhile
                    try:
                        done.append(finished.get_nowait())
                    except queue.Empty:
                        break
                for future in done:
                    index = pending.pop(future)
                    if future.cancelled():
                        continue
                    try:
                        value = future.result()
                    except BaseException as e:
                        if failure is None:
                            failure = e
                            for queued in pending:  # what has not started never starts
                                queued.cancel()
                        continue
                    if gather.each is not None:
                        gather.each(value)
                    else:
                        results[index] = value
            if failure is not None:
                raise failure
        finally:
            try:
                # cancel what has not started; let flows in flight finish (and journal)
                pool.shutdown(wait=True, cancel_futures=True)
            finally:
                _join_lost_workers(prefix)
        if gather.each is not None:
            return None
        return [results[i] for i in range(len(results))]


def _join_lost_workers(prefix: str) -> None:
    """Wait for workers the pool itself lost track of: a Ctrl-C that lands inside
    `pool.submit`, after a thread started but before the pool recorded it, leaves that
    thread running while `pool.shutdown` returns at once (a second Ctrl-C still
    interrupts this wait)."""
    for thread in threading.enumerate():
        if thread.name.startswith(f"{prefix}_") and thread is not threading.current_thread():
            thread.join()
