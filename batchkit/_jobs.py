"""Polling asynchronous vendor jobs with backoff: a flow, so sync and async share it."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._errors import JobFailed, JobTimeout
from ._flow import Flow
from ._flow import sleep as pause
from ._models import Job, JobState
from ._validate import seconds


def wait(
    poll: Callable[[], Flow[Job]],
    *,
    timeout: float = 300.0,
    initial: float = 0.1,
    maximum: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> Flow[Job]:
    """Poll until the job is COMPLETE (returned), FAILED / CANCELLED (`JobFailed`) or
    `timeout` seconds pass (`JobTimeout`). Waits grow ×2 from `initial` to `maximum`.

    A `timeout` that is not a finite number of seconds (NaN would never time out, a str
    would fail mid-wait) is `InvalidInput` before the first poll."""
    timeout = seconds("timeout", timeout)
    deadline = clock() + timeout
    delay = initial
    while True:
        job = yield from poll()
        if job.state is JobState.COMPLETE:
            return job
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            detail = f": {job.message}" if job.message else ""
            raise JobFailed(f"{job.provider} job {job.id} ended {job.state.value}{detail}", job=job)
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeout(
                f"{job.provider} job {job.id} still {job.state.value} after {timeout:g}s; "
                "poll it later with provider.wait_job(job) or raise timeout=",
                job=job,
            )
        yield from pause(min(delay, remaining))
        delay = min(delay * 2, maximum)
