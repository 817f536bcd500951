"""The deferrable half of a run's journey: a trigger that follows one remote run to its end.

Kwargs are plain data only (Airflow stores them through serde and rebuilds the trigger on any
triggerer at any time): run id, connection id, an absolute deadline, poll settings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp  # noqa: F401  -- loaded with the trigger class, not on the event loop's first poll

from airflow_provider_tasks.common.compat import BaseTrigger, TriggerEvent
from airflow_provider_tasks.common.errors import ProviderError, RunTimeoutError, is_retryable
from airflow_provider_tasks.common.hook import PlatformHook, RemoteRun
from airflow_provider_tasks.common.waiting import Deadline

TRANSIENT_BACKOFF_MAX = 60.0


class RemoteRunTrigger(BaseTrigger):
    """Waits for a remote run to end and fires one event describing how it ended.

    Event payload: ``status`` ("success", "failed", "timeout" or "error"), ``run_id``, ``run``
    (the platform's run object, when known) and ``message``. Transient API failures are retried
    here, until the deadline, instead of failing the task and throwing the wait away.

    :param run_id: the remote run to follow.
    :param conn_id: Airflow connection id for the platform.
    :param deadline: epoch seconds after which the wait ends with a "timeout" event; None waits
        until the run ends (the operator always sets one).
    :param poll_interval: seconds per long-poll (or between polls where the API has none).
    :param cancel_on_kill: abort the remote run when a user kills the deferred task.
    :param retry_policy: dict form of :class:`RetryPolicy` for each request.
    :param fire_not_before: epoch seconds before which no event is fired (see
        ``waiting.FIRE_GUARD_SECONDS``).
    """

    hook_class: ClassVar[type[PlatformHook]]

    def __init__(
        self,
        run_id: str,
        conn_id: str,
        deadline: float | None = None,
        poll_interval: float = 60.0,
        cancel_on_kill: bool = True,
        retry_policy: dict[str, Any] | None = None,
        fire_not_before: float | None = None,
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self.conn_id = conn_id
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.cancel_on_kill = cancel_on_kill
        self.retry_policy = retry_policy
        self.fire_not_before = fire_not_before
        self._hook: PlatformHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "conn_id": self.conn_id,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "cancel_on_kill": self.cancel_on_kill,
                "retry_policy": self.retry_policy,
                "fire_not_before": self.fire_not_before,
            },
        )

    @property
    def hook(self) -> PlatformHook:
        if self._hook is None:
            self._hook = self.hook_class(self.conn_id, retry_policy=self.retry_policy)
        return self._hook

    async def poll(self, wait: float) -> RemoteRun:
        """One look at the followed object; subclasses that follow something else override it."""
        return await self.hook.apoll_run(self.run_id, wait)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._follow()
        finally:
            # Done with HTTP: give the shared session back now rather than in cleanup(), which
            # not every runner calls (``dag.test()`` takes the first event and stops).
            await self.cleanup()
        if self.fire_not_before is not None:
            early = self.fire_not_before - time.time()
            if early > 0:
                await asyncio.sleep(early)
        yield TriggerEvent(event)

    async def _follow(self) -> dict[str, Any]:
        deadline = Deadline(self.deadline)
        backoff = 1.0
        while True:
            try:
                run = await self.hook.await_until_terminal(self.poll, deadline, self.poll_interval)
            except RunTimeoutError as error:
                return self._event("timeout", None, str(error))
            except ProviderError as error:
                if not is_retryable(error) or deadline.expired():
                    return self._event("error", None, str(error))
                self.log.warning("Still waiting for run %s after a transient error: %s", self.run_id, error)
                await asyncio.sleep(deadline.bound(backoff))
                backoff = min(backoff * 2, TRANSIENT_BACKOFF_MAX)
                continue
            snapshot = run.snapshot()
            return self._event("success" if snapshot.succeeded else "failed", run.raw, snapshot.message)

    def _event(self, status: str, run: dict[str, Any] | None, message: str | None) -> dict[str, Any]:
        return {"status": status, "run_id": self.run_id, "run": run, "message": message}

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

    async def cleanup(self) -> None:
        """Runs on every exit, restarts included: release the HTTP session, never abort the run."""
        if self._hook is not None:
            await self._hook.aclose()
