"""ApifyRunFinishedTrigger: an asset watcher firing once per newly finished run of an Apify Actor task or Actor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.apify.platform import DEFAULT_CONN_ID
from airflow_provider_tasks.common.assets import run_extra
from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.finished_runs import Listed, listed
from airflow_provider_tasks.common.watchers import RunFinishedTrigger


class ApifyRunFinishedTrigger(RunFinishedTrigger):
    """For an ``AssetWatcher``: one asset event per run of the Actor task ``actor_task_id`` (or the Actor
    ``actor_id``) that newly ends with one of ``statuses`` (default ``SUCCEEDED``), wherever it was started;
    its payload is that of :class:`~airflow_provider_tasks.apify.operators.ApifyRunTaskOperator`'s asset events."""

    hook_class: ClassVar[type[ApifyHook]] = ApifyHook
    status_class: ClassVar[type[api.RunStatus]] = api.RunStatus

    def __init__(
        self,
        actor_task_id: str | None = None,
        actor_id: str | None = None,
        conn_id: str = DEFAULT_CONN_ID,
        statuses: Sequence[str] | None = None,
        poll_interval: float = 60.0,
    ) -> None:
        if (actor_task_id is None) == (actor_id is None):
            raise ConfigurationError("give exactly one of actor_task_id or actor_id")
        super().__init__(conn_id, statuses, poll_interval)
        self.actor_task_id = actor_task_id
        self.actor_id = actor_id
        self.target = api.Target("task", actor_task_id) if actor_task_id else api.Target("actor", str(actor_id))

    def target_kwargs(self) -> dict[str, Any]:
        return {"actor_task_id": self.actor_task_id, "actor_id": self.actor_id}

    async def list_page(self, hook: ApifyHook, index: int, size: int) -> list[Listed]:
        request = api.list_runs(self.target, desc=True, offset=index * size, limit=size)
        page = await hook.asend(request, lambda response: api.parse_list_page(request, response))
        return [_listed(item) for item in page.items]

    def payload(self, run: Listed) -> dict[str, Any]:
        found = api.ApifyRun(dict(run.raw))
        facts = {
            "default_dataset_id": found.default_dataset_id,
            "default_key_value_store_id": found.default_key_value_store_id,
            "finished_at": run.raw.get("finishedAt"),
        }
        return run_extra("apify", found.snapshot(), facts)


def _listed(item: dict[str, Any]) -> Listed:
    terminal = api.RunStatus(item.get("status") or "UNKNOWN").is_terminal
    return listed(item, started=item.get("startedAt"), finished=item.get("finishedAt"), terminal=terminal)


__all__ = ["ApifyRunFinishedTrigger"]
