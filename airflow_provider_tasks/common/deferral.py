"""What travels between a task and its trigger (kwargs, event, Airflow's limit), apart from the aiohttp triggers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_tasks.common.errors import CostLimitExceeded, ProviderError, RunTimeoutError
from airflow_provider_tasks.common.waiting import Deadline

if TYPE_CHECKING:
    from airflow_provider_tasks.common.hook import PlatformHook

FIRE_GUARD_SECONDS = 10.0
"""Minimum age of a deferral before its trigger fires, on every Airflow line: a scheduler that
drains the worker's defer-exit ``success`` after the trigger resumed the task fails it (apache/airflow
#66374, #67287, #71580, #72716; each line still has an open variant, and nothing in Airflow's state
shows when the event was drained: docs/deferral.md, "The fast-trigger guard"). Only runs that end
within 10 s of the deferral are heard later for it."""

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
    """The kwargs of a ``RemoteRunTrigger`` following ``run_id`` until ``deadline``, aborting past ``cost_limit``."""
    kwargs = {
        "run_id": run_id,
        **follow_kwargs(hook, deadline, poll_interval=poll_interval),
        "cancel_on_kill": cancel_on_kill,
    }
    if cost_limit is not None:  # absent otherwise: the kwargs of a trigger without a limit are unchanged
        kwargs["cost_limit"] = cost_limit
    return kwargs


def defer_timeout(deadline: Deadline) -> timedelta | None:
    """Airflow's own deferral limit: a little past our deadline, so the trigger's clearer timeout comes first."""
    remaining = deadline.remaining()
    return None if remaining is None else timedelta(seconds=remaining) + DEFER_TIMEOUT_MARGIN


def followed_from_event(event: dict[str, Any], platform: str, wrap: Callable[[dict[str, Any]], T]) -> T:
    """The finished object a follow trigger's event (a wire format, see ``FollowTrigger``) carries, or its error."""
    run_id = event.get("run_id")
    status = event.get("status")
    if status == "timeout":
        raise RunTimeoutError(event.get("message") or f"Timed out waiting for {platform} run {run_id}")
    if status == "cost_limit":
        raise CostLimitExceeded(event.get("message") or f"{platform} run {run_id} passed its cost limit")
    if status not in ("success", "failed") or not event.get("run"):
        raise ProviderError(f"Waiting for {platform} run {run_id} failed: {event.get('message')}")
    return wrap(event["run"])
