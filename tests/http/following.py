"""Following a run from a coroutine, as a trigger does, for the HTTP tests of both hooks."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.waiting import Deadline


async def await_run(hook: Any, run_id: str, deadline: Deadline, *, poll_interval: float = 60) -> Any:
    """The run's last state once it ended: the hook's own async wait loop, with its poll."""
    return await hook.await_until_terminal(lambda wait: hook.apoll_run(run_id, wait), deadline, poll_interval)
