"""Waiting for a remote run: the deadline, the schedule of requests, and the poll loop (sans-IO, with a
blocking and a coroutine driver) shared by workers and triggers."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass

from airflow_provider_tasks.common.errors import RunTimeoutError
from airflow_provider_tasks.common.progress_log import ProgressLog
from airflow_provider_tasks.common.snapshot import Snapshot, check_cost

MIN_POLL_GAP = 1.0
"""No run is asked about more than once a second, however a task is configured."""

FIRST_WINDOW_SPREAD = 0.05
"""A wait's first long-poll is held for 95–100 % of the window, at random (see :func:`poll_schedule`)."""


class Deadline:
    """An absolute point in (wall-clock) time, so it survives serialisation into a trigger."""

    def __init__(self, at: float | None) -> None:
        self.at = at

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        return cls(None if seconds is None else time.time() + seconds)

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.time())

    def expired(self) -> bool:
        return self.at is not None and time.time() >= self.at

    def bound(self, seconds: float) -> float:
        """``seconds`` capped by the time left."""
        remaining = self.remaining()
        return seconds if remaining is None else min(seconds, remaining)

    def timeout_error(self, platform: str, snapshot: Snapshot) -> RunTimeoutError:
        return RunTimeoutError(
            f"Timed out waiting for {platform} run {snapshot.id} (last status {snapshot.status}). The run was "
            f"not aborted: it goes on, and may be billed, until it ends or you abort it at {snapshot.console_url}"
        )


def naming_the_timeout(error: RunTimeoutError, seconds: float | None) -> RunTimeoutError:
    """``error`` with the limit that passed, named as the task parameter a user can raise."""
    if seconds is None:
        return error
    return RunTimeoutError(f"{error}. The task's timeout={seconds:g} s passed first: raise it for longer runs")


PollOnce = Callable[[float], Snapshot]  # one status request, held server-side up to the given seconds


@dataclass(frozen=True)
class PollStep:
    """One request of a wait: ``gap`` seconds after the previous one started, held by the server up
    to ``server_wait`` seconds."""

    gap: float
    server_wait: float


def poll_schedule(*, interval: float, long_poll: bool, window: float = 0.0) -> Iterator[PollStep]:
    """The requests of a wait.

    With ``long_poll`` every request is held for the API's whole ``window`` and answered the moment
    the run ends; ``interval`` only spaces requests that come back early. The first one is already
    a long-poll, shortened at random by up to :data:`FIRST_WINDOW_SPREAD` so that triggers created
    in the same instant do not all ask again in the same instant every minute. Without
    long-polling: a look every ``interval``. Never two requests less than :data:`MIN_POLL_GAP` apart.
    """
    gap = max(interval, MIN_POLL_GAP)
    if long_poll:
        first = window * (1.0 - random.uniform(0.0, FIRST_WINDOW_SPREAD))
        yield PollStep(MIN_POLL_GAP, first)
        # the shortened first window must not leave a hole: the next request goes out when it ends
        yield PollStep(max(MIN_POLL_GAP, gap - (window - first)), window)
        while True:
            yield PollStep(gap, window)
    while True:
        yield PollStep(gap, 0.0)


def _pause(step: PollStep, last_start: float | None) -> float:
    """Seconds until the next request may start."""
    return 0.0 if last_start is None else max(0.0, last_start + step.gap - time.monotonic())


@dataclass(frozen=True)
class Sleep:
    """A step of a wait: pause this long."""

    seconds: float


@dataclass(frozen=True)
class Look:
    """A step of a wait: ask once, the server holding the answer up to ``server_wait`` seconds."""

    server_wait: float


WaitSteps = Generator["Sleep | Look", "Snapshot | None", Snapshot]


def wait_steps(
    deadline: Deadline,
    *,
    platform: str,
    interval: float,
    long_poll: bool,
    window: float = 0.0,
    progress: ProgressLog | None = None,
    just_looked: bool = False,
    cost_limit: float | None = None,
) -> WaitSteps:
    """Sans-IO: the steps of waiting for a terminal run, for a blocking or a coroutine driver.

    Yields :class:`Sleep` (sent ``None``) and :class:`Look` (sent the snapshot); returns the terminal
    snapshot. Raises RunTimeoutError at the deadline, :class:`CostLimitExceeded` past ``cost_limit``.
    ``just_looked``: the caller asked a moment ago, so the first request keeps its distance.
    """
    snapshot: Snapshot | None = None
    last_start = time.monotonic() if just_looked else None
    for step in poll_schedule(interval=interval, long_poll=long_poll, window=window):
        pause = _pause(step, last_start)
        if pause and snapshot is not None and deadline.bound(pause) < pause:
            yield Sleep(deadline.bound(pause))  # the deadline comes first: the last look stands
            raise deadline.timeout_error(platform, snapshot)
        if pause:
            yield Sleep(pause)
        last_start = time.monotonic()
        answer = yield Look(deadline.bound(step.server_wait))
        assert answer is not None, "a Look is answered with a snapshot"
        snapshot = answer
        if progress is not None:
            progress.record(snapshot)
        check_cost(snapshot, cost_limit, platform)
        if snapshot.terminal:
            return snapshot
        if deadline.expired():
            raise deadline.timeout_error(platform, snapshot)
    raise AssertionError("unreachable: the schedule never ends")


def wait_for_terminal(plan: WaitSteps, poll: PollOnce) -> Snapshot:
    """The blocking driver of :func:`wait_steps`."""
    answer: Snapshot | None = None
    try:
        while True:
            step = plan.send(answer)
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                answer = None
            else:
                answer = poll(step.server_wait)
    except StopIteration as done:
        terminal: Snapshot = done.value
        return terminal


async def await_terminal(plan: WaitSteps, poll: Callable[[float], Awaitable[Snapshot]]) -> Snapshot:
    """The coroutine driver of :func:`wait_steps`, for triggers."""
    answer: Snapshot | None = None
    try:
        while True:
            step = plan.send(answer)
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                answer = None
            else:
                answer = await poll(step.server_wait)
    except StopIteration as done:
        terminal: Snapshot = done.value
        return terminal
