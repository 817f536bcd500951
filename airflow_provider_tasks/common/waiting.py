"""Waiting for a remote run: the terminal-status protocol and the deadline-bounded poll loop.

A platform reduces what it follows (a run, or a Lobstr.io task) to a :class:`Snapshot`; everything
that waits (operators in a worker, sensors, triggers) works on snapshots, so no status list is
repeated per class.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from airflow_provider_tasks.common.cost_guard import check_cost
from airflow_provider_tasks.common.errors import RunFailedError, RunTimeoutError

FIRE_GUARD_SECONDS = 10.0
"""Minimum age of a deferral before its trigger fires: Airflow's scheduler can mis-handle a trigger
that fires within a few seconds of the deferral (apache/airflow #66374 and related issues). It must
outlast the scheduler's handling of the deferring worker's exit: 5.25 s was seen on a loaded 2-core
CI machine, so 10 s. Only runs that end within 10 s of the deferral are heard later for it."""

MIN_POLL_GAP = 1.0
"""No run is asked about more than once a second, however a task is configured: the floor of the
gap between the starts of two requests about the same run (a platform may ask for more)."""

FIRST_WINDOW_SPREAD = 0.05
"""A wait's first long-poll is held for 95–100 % of the window, at random (see :func:`poll_schedule`)."""

PROGRESS_LOG_SECONDS = 60.0
"""A wait logs the run's status and progress when they change, at most this often."""

TRIGGER_PROGRESS_LOG_SECONDS = 300.0
"""The same for a trigger, which also keeps its first look to itself. A trigger's lines travel
through the triggerer's supervisor, synchronously from the event loop that every trigger shares:
with 10,000 waiting runs logging once a minute (and all at once on their first look) Airflow
3.3.2's triggerer deadlocked, its trigger runner blocked writing a log line to the supervisor while
the supervisor was blocked sending it a message. The worker has logged the start and the console
link before deferring; the task logs how the run ended when it resumes."""


@dataclass(frozen=True)
class Snapshot:
    """What waiting code needs to know, at one moment, about an object followed to a terminal state:
    a platform's run, or a Lobstr.io task. ``id`` is that object's own id (a run id, a task hash)."""

    id: str
    status: str
    terminal: bool
    succeeded: bool
    message: str | None
    console_url: str | None
    winding_down: bool = False
    """Not terminal yet, but already on its way to an unsuccessful end (being aborted, timing out)."""
    unknown: bool = False
    """A status this provider does not know: treated as still going (the deadline ends the wait)."""
    progress: str | None = None
    """What the run reports so far (status message, items or results), for progress log lines."""
    aborted: bool = False
    """Terminal because somebody aborted it (a user, or the trigger's ``on_kill`` when a task was cleared)."""
    cost: float | None = None
    """What the run has cost so far, in ``cost_unit``, where the API says (None: not reported)."""
    cost_unit: str = ""
    """The unit of ``cost`` ("USD" for Apify's ``usageTotalUsd``, "credits" for Lobstr.io)."""

    @property
    def cost_text(self) -> str:
        """``0.0123 USD``, ``12 credits``, or ``not reported``: for log lines and errors."""
        return "not reported" if self.cost is None else f"{self.cost:g} {self.cost_unit}".rstrip()

    @property
    def resumable(self) -> bool:
        """Whether a new try of the task may pick this run up instead of starting another."""
        return not self.terminal and not self.winding_down

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure(self, platform: str) -> RunFailedError:
        """The error that fails a task for this (terminal, unsuccessful) run."""
        return RunFailedError(
            f"{platform} run {self.id} ended with status {self.status}: "
            f"{self.message or 'no status message'}. See {self.console_url}"
        )


class Followed(Protocol):
    """An object followed until it reaches a terminal state: a platform's run, or a Lobstr.io task.

    ``raw`` is the API's own dict (what a trigger event carries and a task returns); ``snapshot``
    reduces it to what waiting code needs.
    """

    @property
    def raw(self) -> dict[str, Any]: ...

    def snapshot(self) -> Snapshot: ...


FollowedT = TypeVar("FollowedT", bound=Followed)
"""Whatever one wait follows (a run, a task)."""
RunT = TypeVar("RunT", bound=Followed)
"""A platform's run type (``ApifyRun``, ``LobstrRun``)."""


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


PollOnce = Callable[[float], Snapshot]
"""Fetch the run's state, waiting server-side up to the given seconds when the API can."""


@dataclass(frozen=True)
class PollStep:
    """One request of a wait: start it no sooner than ``gap`` seconds after the previous one
    started, and let the server hold it up to ``server_wait`` seconds (capped by the deadline)."""

    gap: float
    server_wait: float


def poll_schedule(*, interval: float, long_poll: bool, window: float = 0.0) -> Iterator[PollStep]:
    """The requests of a wait, shared by the blocking and the coroutine loops.

    With ``long_poll`` every request is held by the server for its whole ``window`` (the API's
    maximum), answered the moment the run ends: ``interval`` never shrinks that window, it only
    spaces requests that come back early. The very first request is already a long-poll (a plain
    first look would cost an extra request per run). It is shortened by up to
    :data:`FIRST_WINDOW_SPREAD` of the window (57–60 s on Apify), so that triggers created in
    the same instant do not all ask again in the same instant every minute. That costs a request
    only to a run that ends within those last seconds of its window (about 2.5 % of runs longer
    than a window). Triggers created over several seconds (the triggerer creates them one by one)
    are spread by that already. The second request keeps the same distance from the end of the
    first window as later ones do from the end of theirs, so nobody stops listening between the
    two.
    Without long-polling the loop looks every ``interval`` (at once when nobody just looked).
    Either way two requests never start less than :data:`MIN_POLL_GAP` apart.
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


class ProgressLog:
    """What a long wait tells the log, without flooding it.

    * A status the provider does not know: one warning per status (the wait goes on, and the
      deadline ends it as a timeout if the run never reaches a known end).
    * The run's status and progress: logged when they change, at most once per ``every`` seconds
      (the first look is logged at once, unless the run has already ended: then the task's own
      line about its end says it, and a triggerer waiting on thousands of runs writes no line
      per run; with ``log_first_look=False``, as triggers have it, the first look is only
      remembered). ``clock`` (monotonic seconds) is injectable, so a test
      can check the rate limit by its logic instead of sleeping.
    """

    def __init__(
        self,
        log: logging.Logger | Any,
        platform: str,
        *,
        every: float = PROGRESS_LOG_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        log_first_look: bool = True,
    ) -> None:
        self.log = log
        self.platform = platform
        self.every = every
        self.clock = clock
        self.log_first_look = log_first_look
        self._unknown: set[str] = set()
        self._shown: tuple[str, str | None] | None = None
        self._shown_at: float | None = None

    def record(self, snapshot: Snapshot) -> None:
        if snapshot.unknown and snapshot.status not in self._unknown:
            self._unknown.add(snapshot.status)
            self.log.warning(
                "%s run %s reports status %r, which this provider does not know; treating it as "
                "still running (the wait's timeout ends it if the run never finishes)",
                self.platform, snapshot.id, snapshot.status,
            )
        state = (snapshot.status, snapshot.progress)
        if state == self._shown:
            return
        if self._shown_at is None and (snapshot.terminal or not self.log_first_look):
            # ended before the wait saw it going (a long-poll answered at the end: the task logs
            # how the run ended), or a trigger's first look: remembered, not told
            self._shown_at = self.clock()
            self._shown = state
            return
        now = self.clock()
        if self._shown_at is not None and now - self._shown_at < self.every:
            return
        self._shown, self._shown_at = state, now
        detail = f" ({snapshot.progress})" if snapshot.progress else ""
        self.log.info("%s run %s is %s%s", self.platform, snapshot.id, snapshot.status, detail)


def _pause(step: PollStep, last_start: float | None) -> float:
    """Seconds to wait before the next request so it starts ``step.gap`` after the previous one."""
    return 0.0 if last_start is None else max(0.0, last_start + step.gap - time.monotonic())


@dataclass(frozen=True)
class Sleep:
    """The waiting plan's step: pause this long."""

    seconds: float


@dataclass(frozen=True)
class Look:
    """The waiting plan's step: ask about the run once, letting the server hold the answer up to
    ``server_wait`` seconds, and send the plan the snapshot."""

    server_wait: float


WaitPlan = Generator["Sleep | Look", "Snapshot | None", Snapshot]


def terminal_plan(
    deadline: Deadline,
    *,
    platform: str,
    interval: float,
    long_poll: bool,
    window: float = 0.0,
    progress: ProgressLog | None = None,
    just_looked: bool = False,
    cost_limit: float | None = None,
) -> WaitPlan:
    """Sans-IO: the steps of waiting for a terminal run, for a blocking or a coroutine driver.

    Yields :class:`Sleep` (sent ``None`` back) and :class:`Look` (sent the snapshot back); returns
    the terminal snapshot, or raises RunTimeoutError when the deadline passes first and
    :class:`CostLimitExceeded` at the first answer whose cost passes ``cost_limit`` (see
    :func:`check_cost`). ``just_looked``: the caller asked about the run a moment ago, so the first
    request keeps its distance from that one too.
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


def wait_for_terminal(plan: WaitPlan, poll: PollOnce) -> Snapshot:
    """Block until the run is terminal: a :func:`terminal_plan` driven with ``time.sleep`` and
    ``poll`` (which asks the server once, holding the answer up to the seconds it is given)."""
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


async def await_terminal(plan: WaitPlan, poll: Callable[[float], Awaitable[Snapshot]]) -> Snapshot:
    """The coroutine driver of a :func:`terminal_plan`, for triggers (never blocks the loop)."""
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
