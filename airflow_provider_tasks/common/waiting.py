"""Waiting for a remote run: :class:`Snapshot` (what a platform's run or task reduces to, so no
status list is repeated per class), the deadline, and the poll loop shared by workers and triggers."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import KW_ONLY, asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from airflow_provider_tasks.common.errors import CostLimitExceeded, RunFailedError, RunTimeoutError

FIRE_GUARD_SECONDS = 10.0
"""Minimum age of a deferral before its trigger fires, on every Airflow line: a scheduler that
drains the worker's defer-exit ``success`` after the trigger resumed the task fails it (apache/airflow
#66374, #67287, #71580, #72716; each line still has an open variant, and nothing in Airflow's state
shows when the event was drained: docs/deferral.md, "The fast-trigger guard"). Only runs that end
within 10 s of the deferral are heard later for it."""

MIN_POLL_GAP = 1.0
"""No run is asked about more than once a second, however a task is configured."""

FIRST_WINDOW_SPREAD = 0.05
"""A wait's first long-poll is held for 95–100 % of the window, at random (see :func:`poll_schedule`)."""

PROGRESS_LOG_SECONDS = 60.0
"""A wait logs the run's status and progress when they change, at most this often."""

TRIGGER_PROGRESS_LOG_SECONDS = 300.0
"""The same for a trigger, which also keeps its first look to itself: its lines go synchronously
through the triggerer's supervisor, and 10,000 runs logging once a minute deadlocked Airflow 3.3.2's
triggerer. The task logs the start before deferring and the end when it resumes."""


@dataclass(frozen=True)
class Snapshot:
    """What waiting code needs to know, at one moment, about a run or a Lobstr.io task (``id``: its own id)."""

    id: str
    status: str
    terminal: bool
    succeeded: bool
    message: str | None
    console_url: str | None
    winding_down: bool = False
    """Not terminal yet, but on its way to an unsuccessful end (being aborted, timing out)."""
    unknown: bool = False
    """A status this provider does not know: treated as still going (the deadline ends the wait)."""
    progress: str | None = None
    """What the run reports so far (status message, items or results), for progress log lines."""
    aborted: bool = False
    """Terminal because a user, or a cleared task's trigger, aborted it."""
    cost: float | None = None
    """What the run has cost so far, in ``cost_unit`` ("USD", "credits"); None: not reported."""
    cost_unit: str = ""

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


def check_cost(snapshot: Snapshot, limit: float | None, platform: str) -> None:
    """Raise :class:`CostLimitExceeded` when a run still going has cost more than ``limit``.

    A run that already ended is past saving money on: its cost is reported when the task finishes.
    """
    if limit is None or snapshot.terminal or snapshot.cost is None or snapshot.cost <= limit:
        return
    raise CostLimitExceeded(
        f"{platform} run {snapshot.id} has cost {snapshot.cost_text} so far, past the limit of "
        f"{limit:g} {snapshot.cost_unit}".rstrip(),
        snapshot.console_url,
    )


class Followed(Protocol):
    """A run or task followed to a terminal state: ``raw`` is the API's dict (what a trigger event
    carries and a task returns), ``snapshot`` what waiting code needs of it."""

    @property
    def raw(self) -> dict[str, Any]: ...

    def snapshot(self) -> Snapshot: ...


FollowedT = TypeVar("FollowedT", bound=Followed)  # whatever one wait follows (a run, a task)
RunT = TypeVar("RunT", bound=Followed)  # a platform's run type (ApifyRun, LobstrRun)


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


@dataclass
class ProgressLog:
    """What a long wait tells the log, without flooding it: one warning per unknown status, and the
    status and progress when they change, at most once per ``every`` seconds. The first look is
    logged unless the run already ended (the task logs that) or ``log_first_look`` is False (triggers).
    ``clock`` is injectable so a test can check the rate limit without sleeping."""

    log: logging.Logger | Any
    platform: str
    _: KW_ONLY
    every: float = PROGRESS_LOG_SECONDS
    clock: Callable[[], float] = time.monotonic
    log_first_look: bool = True
    _unknown: set[str] = field(default_factory=set, init=False, repr=False)
    _shown: tuple[str, str | None] | None = field(default=None, init=False, repr=False)
    _shown_at: float | None = field(default=None, init=False, repr=False)

    def record(self, snapshot: Snapshot) -> None:
        if snapshot.unknown and snapshot.status not in self._unknown:
            self._unknown.add(snapshot.status)
            self.log.warning(
                "%s run %s reports status %r, which this provider does not know; treating it as "
                "still running (the wait's timeout ends it if the run never finishes)",
                self.platform,
                snapshot.id,
                snapshot.status,
            )
        state = (snapshot.status, snapshot.progress)
        if state == self._shown:
            return
        if self._shown_at is None and (snapshot.terminal or not self.log_first_look):
            # ended before the wait saw it going, or a trigger's first look: remembered, not told
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
