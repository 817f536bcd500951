"""The deferrable half of a wait: a trigger that follows one remote object (a run, a Lobstr.io task) to its end.

Kwargs are plain data only: Airflow stores them through serde and rebuilds the trigger on any triggerer at any time.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

# loaded with the trigger class, not on the event loop's first poll
import aiohttp  # noqa: F401

from airflow_provider_tasks.common.compat import (
    TRIGGER_ON_KILL,
    BaseTrigger,
    TriggerEvent,
    task_instance_state,
    to_completion,
)
from airflow_provider_tasks.common.cost_guard import over_cost_message
from airflow_provider_tasks.common.errors import CostLimitExceeded, ProviderError, RunTimeoutError, is_retryable
from airflow_provider_tasks.common.hook import PlatformHook
from airflow_provider_tasks.common.progress_log import TRIGGER_PROGRESS_LOG_SECONDS, ProgressLog
from airflow_provider_tasks.common.retry import Backoff
from airflow_provider_tasks.common.snapshot import FollowedT, RunT
from airflow_provider_tasks.common.waiting import Deadline

TRANSIENT_BACKOFF_MAX = 60.0

HookT = TypeVar("HookT", bound=PlatformHook[Any])


class FollowTrigger(BaseTrigger, Generic[HookT, FollowedT]):
    """Waits for one remote object to end and fires one event saying how; transient API failures are retried until
    the deadline. The event (a wire format: events outlive deploys) has ``status`` ("success", "failed", "timeout",
    "cost_limit" or "error"), ``run_id`` (the followed object's id), ``run`` (its dict, when known) and ``message``.

    :param conn_id: Airflow connection id for the platform.
    :param deadline: epoch seconds after which the wait ends with a "timeout" event; None: until the object ends.
    :param poll_interval: seconds between status requests (not below the platform's minimum); with a long-poll it
        only spaces requests that come back early.
    :param retry_policy: dict form of :class:`RetryPolicy` for each request.
    :param fire_not_before: epoch seconds before which no event is fired (``deferral.FIRE_GUARD_SECONDS``).
    """

    hook_class: type[HookT]
    progress_log_seconds: float = TRIGGER_PROGRESS_LOG_SECONDS
    """Status and progress are logged when they change, at most this often, not at the first look."""
    clock: Callable[[], float] = staticmethod(time.monotonic)
    """Monotonic clock of that rate limit (a test may replace it on the instance)."""
    cost_limit: float | None = None
    """Past this cost the wait stops (a run trigger aborts its run); None: no limit."""

    def __init__(
        self,
        conn_id: str,
        deadline: float | None = None,
        poll_interval: float = 60.0,
        retry_policy: dict[str, Any] | None = None,
        fire_not_before: float | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.retry_policy = retry_policy
        self.fire_not_before = fire_not_before
        self._hook: HookT | None = None

    @property
    @abstractmethod
    def followed_id(self) -> str:
        """The id of the followed object (a run id, a task hash)."""

    @abstractmethod
    def own_kwargs(self) -> dict[str, Any]:
        """This trigger's own serialized kwargs, on top of the shared ones."""

    @abstractmethod
    async def poll(self, wait: float) -> FollowedT:
        """One look at the followed object (waiting server-side up to ``wait`` where the API can)."""

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self.own_kwargs(),
                "conn_id": self.conn_id,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "retry_policy": self.retry_policy,
                "fire_not_before": self.fire_not_before,
            },
        )

    @property
    def hook(self) -> HookT:
        if self._hook is None:
            self._hook = self.hook_class(self.conn_id, retry_policy=self.retry_policy)
        return self._hook

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._follow()
        finally:
            # release the shared session now: not every runner calls cleanup() (dag.test() stops at the first event)
            await self.cleanup()
        if self.fire_not_before is not None:
            early = self.fire_not_before - time.time()
            if early > 0:
                await asyncio.sleep(early)
        yield TriggerEvent(event)

    async def _follow(self) -> dict[str, Any]:
        deadline = Deadline(self.deadline)
        every, platform = self.progress_log_seconds, self.hook.dialect.platform
        progress = ProgressLog(self.log, platform, every=every, clock=self.clock, log_first_look=False)
        backoff = Backoff(1.0, TRANSIENT_BACKOFF_MAX)
        while True:
            try:
                # whoever deferred to this trigger looked at the object a moment ago
                followed = await self.hook.await_until_terminal(
                    self.poll, deadline, self.poll_interval, progress, just_looked=True, cost_limit=self.cost_limit
                )
            except RunTimeoutError as error:
                return self._event("timeout", None, str(error))
            except CostLimitExceeded as error:
                return self._event("cost_limit", None, await self._stop_over_cost(error))
            except ProviderError as error:
                if not is_retryable(error) or deadline.expired():
                    return self._event("error", None, str(error))
                self.log.warning("Still waiting for run %s after a transient error: %s", self.followed_id, error)
                await asyncio.sleep(deadline.bound(backoff.next()))
                continue
            snapshot = followed.snapshot()
            return self._event("success" if snapshot.succeeded else "failed", followed.raw, snapshot.message)

    async def _stop_over_cost(self, error: CostLimitExceeded) -> str:
        """The "cost_limit" event's message; nothing is aborted here (a run trigger overrides this)."""
        return over_cost_message(error, aborted=False, console_url=error.console_url)

    def _event(self, status: str, raw: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        return {"status": status, "run_id": self.followed_id, "run": raw, "message": message}

    async def on_kill(self) -> None:
        """A user marked or cleared the deferred task: by default, only release the HTTP session."""
        await self.cleanup()

    async def cleanup(self) -> None:
        """Runs on every exit, restarts included: release the HTTP session, never abort anything."""
        if self._hook is not None:
            await self._hook.aclose()


class RemoteRunTrigger(FollowTrigger[PlatformHook[RunT], RunT], Generic[RunT]):
    """Waits for a remote run to end (event and shared parameters: :class:`FollowTrigger`).

    :param run_id: the remote run to follow.
    :param cancel_on_kill: abort the remote run when a user kills the deferred task.
    :param cost_limit: abort the run and fire a "cost_limit" event once a status answer shows its cost (in the
        platform's unit) past this; None: no limit.
    """

    def __init__(
        self,
        run_id: str,
        conn_id: str,
        cancel_on_kill: bool = True,
        cost_limit: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id, **kwargs)
        self.run_id = run_id
        self.cancel_on_kill = cancel_on_kill
        self.cost_limit = cost_limit

    @property
    def followed_id(self) -> str:
        return self.run_id

    def own_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"run_id": self.run_id, "cancel_on_kill": self.cancel_on_kill}
        if self.cost_limit is not None:
            kwargs["cost_limit"] = self.cost_limit
        return kwargs

    async def _stop_over_cost(self, error: CostLimitExceeded) -> str:
        """Abort the run whatever ``cancel_on_kill`` says: the limit is the user's word on the bill."""
        try:
            await self.hook.aabort_run(self.run_id)
            aborted = True
        except Exception as abort_error:  # the event still fails the task, saying the abort failed
            self.log.warning("Could not abort run %s past its cost limit: %s", self.run_id, abort_error)
            aborted = False
        self.log.info("%s", error)
        return over_cost_message(error, aborted=aborted, console_url=error.console_url)

    async def poll(self, wait: float) -> RunT:
        return await self.hook.apoll_run(self.run_id, wait)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in super().run():
                yield event
        except asyncio.CancelledError:
            if self.cancel_on_kill and not TRIGGER_ON_KILL:
                # 3.0-3.2 repeat the cancel until the trigger is gone: the check and the abort must finish anyway
                await to_completion(self._abort_if_the_task_was_killed())
            raise

    async def _abort_if_the_task_was_killed(self) -> None:
        """Before 3.3 the triggerer cancels without ``on_kill`` for a user's mark/clear and its own stop or hand-over
        alike: only a task no longer deferred was killed, and only then is its run aborted."""
        ti = getattr(self, "task_instance", None)
        if ti is None:
            self.log.warning(
                "Trigger stopped, and Airflow gave it no task instance to tell a killed task from a stopping "
                "triggerer: run %s is not aborted (abort it in the platform's console if it should stop)",
                self.run_id,
            )
            return
        try:
            state = await task_instance_state(ti)
        except Exception as error:  # the triggerer may be going down: never abort on a guess
            self.log.warning("Could not read the task's state; run %s is left as it is: %s", self.run_id, error)
            return
        if state == "deferred":
            return  # the triggerer is stopping or moving the trigger: the run goes on
        self.log.info("The task left deferral (now %s): aborting run %s", state, self.run_id)
        await self.on_kill()

    async def on_kill(self) -> None:
        """A user marked or cleared the deferred task: abort the remote run (best effort)."""
        if not self.cancel_on_kill:
            return
        try:
            await self.hook.aabort_run(self.run_id)
            self.log.info("Aborted run %s because the task was killed", self.run_id)
        except Exception as error:  # best effort: never let a failed abort break the triggerer
            self.log.warning("Could not abort run %s: %s", self.run_id, error)
        finally:
            await self.cleanup()
