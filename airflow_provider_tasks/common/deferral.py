"""What travels between a task and its trigger: the trigger's kwargs, the event back, Airflow's limit.

Kept apart from the triggers (which load aiohttp) so operators and sensors can build a deferral
without DAG parsing paying for HTTP clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_tasks.common.errors import CostLimitExceeded, ProviderError, RunTimeoutError
from airflow_provider_tasks.common.waiting import FIRE_GUARD_SECONDS, Deadline

if TYPE_CHECKING:
    from airflow_provider_tasks.common.hook import PlatformHook

DEFER_TIMEOUT_MARGIN = timedelta(minutes=5)

T = TypeVar("T")


def follow_kwargs(hook: PlatformHook[Any], deadline: Deadline, *, poll_interval: float) -> dict[str, Any]:
    """The plain-data kwargs every follow trigger takes (the followed id comes on top)."""
    return {
        "conn_id": hook.conn_id,
        "deadline": deadline.at,
        "poll_interval": poll_interval,
        "retry_policy": hook.retry_policy.to_dict(),
        "fire_not_before": time.time() + FIRE_GUARD_SECONDS,
    }


def run_trigger_kwargs(
    hook: PlatformHook[Any],
    run_id: str,
    deadline: Deadline,
    *,
    poll_interval: float,
    cancel_on_kill: bool,
    cost_limit: float | None = None,
) -> dict[str, Any]:
    """The kwargs of a ``RemoteRunTrigger`` that follows ``run_id`` until ``deadline`` (and aborts
    it past ``cost_limit``, a plain float)."""
    kwargs = {
        "run_id": run_id,
        **follow_kwargs(hook, deadline, poll_interval=poll_interval),
        "cancel_on_kill": cancel_on_kill,
    }
    if cost_limit is not None:  # absent otherwise: the kwargs of a trigger without a limit are unchanged
        kwargs["cost_limit"] = cost_limit
    return kwargs


def defer_timeout(deadline: Deadline) -> timedelta | None:
    """Airflow's own limit on the deferral: a little past our deadline, which the trigger enforces
    with a clear message first."""
    remaining = deadline.remaining()
    return None if remaining is None else timedelta(seconds=remaining) + DEFER_TIMEOUT_MARGIN


def followed_from_event(event: dict[str, Any], platform: str, wrap: Callable[[dict[str, Any]], T]) -> T:
    """The finished object a follow trigger's event carries, or the error it reports.

    The event's keys are a wire format (events outlive deploys): ``status``, ``run_id`` (the
    followed object's id, a task hash for a task), ``run`` (its dict) and ``message``.
    """
    run_id = event.get("run_id")
    status = event.get("status")
    if status == "timeout":
        raise RunTimeoutError(event.get("message") or f"Timed out waiting for {platform} run {run_id}")
    if status == "cost_limit":
        raise CostLimitExceeded(event.get("message") or f"{platform} run {run_id} passed its cost limit")
    if status not in ("success", "failed") or not event.get("run"):
        raise ProviderError(f"Waiting for {platform} run {run_id} failed: {event.get('message')}")
    return wrap(event["run"])
