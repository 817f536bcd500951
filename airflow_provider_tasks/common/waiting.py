"""Waiting for a remote run: the terminal-status protocol and the deadline-bounded poll loop.

A platform reduces its run object to a :class:`RunSnapshot`; everything that waits (operators in
a worker, sensors, triggers) works on snapshots, so no status list is repeated per class.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_tasks.common.errors import RunFailedError, RunTimeoutError


FIRE_GUARD_SECONDS = 5.0
"""Minimum age of a deferral before its trigger fires: Airflow's scheduler can mis-handle a trigger
that fires within a few seconds of the deferral (apache/airflow #66374 and related issues)."""


@dataclass(frozen=True)
class RunSnapshot:
    """What waiting code needs to know about a run at one moment."""

    run_id: str
    status: str
    terminal: bool
    succeeded: bool
    message: str | None
    console_url: str | None
    winding_down: bool = False
    """Not terminal yet, but already on its way to an unsuccessful end (being aborted, timing out)."""

    @property
    def resumable(self) -> bool:
        """Whether a new try of the task may pick this run up instead of starting another."""
        return not self.terminal and not self.winding_down

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure(self, platform: str) -> RunFailedError:
        """The error that fails a task for this (terminal, unsuccessful) run."""
        return RunFailedError(
            f"{platform} run {self.run_id} ended with status {self.status}: "
            f"{self.message or 'no status message'}. See {self.console_url}"
        )


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

    def timeout_error(self, platform: str, snapshot: RunSnapshot) -> RunTimeoutError:
        return RunTimeoutError(
            f"Timed out waiting for {platform} run {snapshot.run_id} (last status {snapshot.status}); "
            f"the run was left as it is. See {snapshot.console_url}"
        )


PollOnce = Callable[[float], RunSnapshot]
"""Fetch the run's state, waiting server-side up to the given seconds when the API can."""


@dataclass(frozen=True)
class PollStep:
    """One step of a wait: sleep this long on the client, then poll letting the server hold it."""

    sleep: float
    server_wait: float


def poll_schedule(deadline: Deadline, *, interval: float, long_poll: bool) -> Iterator[PollStep]:
    """The steps of a wait, shared by the blocking and the coroutine loops.

    With ``long_poll`` every request is held by the server until the run ends (no client sleeps),
    and the very first one already is: a plain first look would cost an extra request per run.
    The first wait is jittered (50–100 % of ``interval``) so thousands of triggers created
    together do not all expire in the same instant every minute. Without long-polling the loop
    looks at once, then sleeps ``interval`` between looks.
    """
    if long_poll:
        yield PollStep(0.0, deadline.bound(interval * random.uniform(0.5, 1.0)))
        while True:
            yield PollStep(0.0, deadline.bound(interval))
    yield PollStep(0.0, 0.0)
    while True:
        yield PollStep(deadline.bound(interval), 0.0)


def wait_for_terminal(
    poll: PollOnce, deadline: Deadline, *, platform: str, interval: float, long_poll: bool
) -> RunSnapshot:
    """Block until the run is terminal or the deadline passes (then raise RunTimeoutError)."""
    for step in poll_schedule(deadline, interval=interval, long_poll=long_poll):
        if step.sleep:
            time.sleep(step.sleep)
        snapshot = poll(step.server_wait)
        if snapshot.terminal:
            return snapshot
        if deadline.expired():
            raise deadline.timeout_error(platform, snapshot)
    raise AssertionError("unreachable: the schedule never ends")


async def await_terminal(
    poll: Callable[[float], Awaitable[RunSnapshot]],
    deadline: Deadline,
    *,
    platform: str,
    interval: float,
    long_poll: bool,
) -> RunSnapshot:
    """The coroutine twin of :func:`wait_for_terminal`, for triggers (never blocks the loop)."""
    for step in poll_schedule(deadline, interval=interval, long_poll=long_poll):
        if step.sleep:
            await asyncio.sleep(step.sleep)
        snapshot = await poll(step.server_wait)
        if snapshot.terminal:
            return snapshot
        if deadline.expired():
            raise deadline.timeout_error(platform, snapshot)
    raise AssertionError("unreachable: the schedule never ends")
