"""Triggers that follow a Lobstr.io run or task from the triggerer, without a worker slot."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.triggers import FollowTrigger, RemoteRunTrigger
from airflow_provider_tasks.lobstr.api import LobstrRun, LobstrTask
from airflow_provider_tasks.lobstr.hooks import LobstrHook


class LobstrRunTrigger(RemoteRunTrigger[LobstrRun]):
    """Waits for a squid run to end, polling ``GET /v1/runs/{hash}`` every ``poll_interval`` s (no long-poll; Lobstr.io
    asks for 5 s or more). Parameters and event: :class:`RemoteRunTrigger`."""

    hook_class = LobstrHook


class LobstrTaskTrigger(FollowTrigger[LobstrHook, LobstrTask]):
    """Waits for a task's status to reach completed, aborted or failed (``GET /v1/tasks/{hash}``); killing the
    deferred sensor aborts nothing. The event is :class:`FollowTrigger`'s, ``run`` the task and ``run_id`` its hash.

    :param task_hash: the task to follow; the other parameters are those of :class:`FollowTrigger`.
    :param cancel_on_kill: ignored (kept so triggers serialized by older versions still load).
    """

    hook_class = LobstrHook

    def __init__(self, task_hash: str, conn_id: str, cancel_on_kill: bool = False, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        self.task_hash = task_hash

    @property
    def followed_id(self) -> str:
        return self.task_hash

    def own_kwargs(self) -> dict[str, Any]:
        return {"task_hash": self.task_hash}

    async def poll(self, wait: float) -> LobstrTask:
        return await self.hook.aget_task(self.task_hash)
