"""LobstrRunFinishedTrigger: an asset watcher firing once per newly finished run of a Lobstr.io squid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_tasks.common.assets import run_extra
from airflow_provider_tasks.common.finished_runs import Listed, listed
from airflow_provider_tasks.common.watchers import RunFinishedTrigger
from airflow_provider_tasks.lobstr import api
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.lobstr.platform import DEFAULT_CONN_ID


class LobstrRunFinishedTrigger(RunFinishedTrigger):
    """For an ``AssetWatcher``: one asset event per run of the squid ``squid_id`` that newly ends with one of
    ``statuses`` (default ``done``; also ``aborted``, ``error``), wherever it was started; its payload is that
    of :class:`~airflow_provider_tasks.lobstr.operators.LobstrRunSquidOperator`'s asset events."""

    hook_class: ClassVar[type[LobstrHook]] = LobstrHook
    status_class: ClassVar[type[api.RunStatus]] = api.RunStatus

    def __init__(
        self,
        squid_id: str,
        conn_id: str = DEFAULT_CONN_ID,
        statuses: Sequence[str] | None = None,
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__(conn_id, statuses, poll_interval)
        self.squid_id = squid_id

    def target_kwargs(self) -> dict[str, Any]:
        return {"squid_id": self.squid_id}

    async def list_page(self, hook: LobstrHook, index: int, size: int) -> list[Listed]:
        request = api.list_runs(self.squid_id, page=index + 1, limit=min(size, api.MAX_PAGE_SIZE))
        page = await hook.asend(request, lambda response: api.parse_page(request, response))
        return [_listed(item) for item in page.items]

    def payload(self, run: Listed) -> dict[str, Any]:
        found = api.LobstrRun(dict(run.raw))
        facts = {"total_results": found.total_results, "finished_at": run.raw.get("ended_at")}
        return run_extra("lobstr", found.snapshot(), facts)


def _listed(item: dict[str, Any]) -> Listed:
    terminal = api.RunStatus(item.get("status") or "unknown").is_terminal
    started = item.get("started_at") or item.get("created_at")
    return listed(item, started=started, finished=item.get("ended_at"), terminal=terminal)


__all__ = ["LobstrRunFinishedTrigger"]
