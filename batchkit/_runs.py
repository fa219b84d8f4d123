"""Following a run until it is done: one flow for every vendor (the vendor polls once)."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._errors import RunFailed, RunTimeout
from ._flow import Flow
from ._flow import sleep as pause
from ._models import Run, RunState

#: called with the run each time a poll shows something new (state, counts or message)
UpdateCallback = Callable[[Run], object]


def follow(
    poll: Callable[[], Flow[Run]],
    *,
    timeout: float,
    initial: float,
    maximum: float,
    on_update: UpdateCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Flow[Run]:
    """Poll until the run is done: COMPLETED is returned, FAILED / CANCELED raise `RunFailed`,
    and `timeout` seconds without finishing raise `RunTimeout` (nothing is stopped). Waits
    grow x2 from `initial` to `maximum`; `on_update` sees every change."""
    deadline = clock() + timeout
    delay = initial
    seen: tuple[object, ...] | None = None
    while True:
        run = yield from poll()
        shown = (run.state, run.counts, run.message)
        if on_update is not None and shown != seen:
            on_update(run)
        seen = shown
        if run.state is RunState.COMPLETED:
            return run
        if run.state in (RunState.FAILED, RunState.CANCELED):
            detail = f": {run.message}" if run.message else ""
            raise RunFailed(
                f"{run.provider} run {run.id} of batch {run.batch_id} ended "
                f"{run.state.value}{detail}",
                run=run,
            )
        remaining = deadline - clock()
        if remaining <= 0:
            review = run.state is RunState.NEEDS_REVIEW
            why = " (waiting for a person to review it)" if review else ""
            raise RunTimeout(
                f"{run.provider} run {run.id} of batch {run.batch_id} still {run.state.value}"
                f"{why} after {timeout:g}s; wait again with provider.wait(run) or raise timeout=",
                run=run,
            )
        yield from pause(min(delay, remaining))
        delay = min(delay * 2, maximum)
