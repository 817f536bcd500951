"""Triggers that follow a Lobstr.io run or task from the triggerer, without a worker slot."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.triggers import RemoteRunTrigger
from airflow_provider_tasks.lobstr.api import LobstrTask
from airflow_provider_tasks.lobstr.hooks import LobstrHook


class LobstrRunTrigger(RemoteRunTrigger):
    """Waits for a squid run to reach done, aborted or error, polling ``GET /v1/runs/{hash}``
    every ``poll_interval`` seconds (Lobstr.io has no long-poll; its docs ask for 5 s or more).
    See :class:`RemoteRunTrigger` for the parameters and event payload."""

    hook_class = LobstrHook


class LobstrTaskTrigger(RemoteRunTrigger):
    """Waits for a task's status to reach completed, aborted or failed (``GET /v1/tasks/{hash}``).

    :param task_hash: the task to follow; the other parameters are those of
        :class:`RemoteRunTrigger`. The event's ``run`` holds the task object.
    """

    hook_class = LobstrHook

    def __init__(self, task_hash: str, conn_id: str, **kwargs: Any) -> None:
        super().__init__(run_id=task_hash, conn_id=conn_id, **kwargs)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        classpath, kwargs = super().serialize()
        kwargs["task_hash"] = kwargs.pop("run_id")
        return classpath, kwargs

    async def poll(self, wait: float) -> LobstrTask:
        return await self.hook.aget_task(self.run_id)

    async def on_kill(self) -> None:
        """A task is not a run: there is nothing to abort when the sensor is killed."""
        await self.cleanup()
