"""Asset events that describe what a task produced: the ``extra`` of each outlet's event.

A task's outlets (Airflow 3 ``Asset``, Airflow 2.11 ``Dataset``) receive an event when the task
succeeds; a consumer DAG scheduled on the asset reads the event's ``extra`` from
``triggering_asset_events`` (``triggering_dataset_events`` on 2.11). The keys each operator puts
there are a contract (see the README, "Asset events"): renaming one breaks consumers.

The asset class is resolved when a task runs (``compat.asset_class``), so DAG parsing pays
nothing for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.common.waiting import Snapshot


def asset_outlets(outlets: Any) -> list[Any]:
    """The outlets that are assets (datasets on 2.11); aliases and other kinds are left alone."""
    from airflow_provider_tasks.common.compat import asset_class

    kind = asset_class()
    return [outlet for outlet in (outlets or []) if isinstance(outlet, kind)]


def annotate_outlets(task: Any, context: Context, describe: Callable[[], Mapping[str, Any]]) -> int:
    """Set ``describe()`` as the ``extra`` of the event of each asset outlet of ``task``; returns
    how many were set (``describe`` is called only when there is one).

    The extra must be plain JSON (Airflow stores it in its database): checked here, so a bad value
    fails loudly instead of being dropped by Airflow.
    """
    outlets = asset_outlets(getattr(task, "outlets", None))
    if not outlets:
        return 0
    extra = describe()
    events = context.get("outlet_events")
    if events is None:  # outlet_events exists on every supported line (2.10+); guard anyway
        task.log.warning("This Airflow gives tasks no outlet_events: asset events carry no extra")
        return 0
    plain = json.loads(json.dumps(dict(extra), allow_nan=False))
    for outlet in outlets:
        events[outlet].extra = dict(plain)
    return len(outlets)


def run_extra(platform: str, snapshot: Snapshot, facts: Mapping[str, Any]) -> dict[str, Any]:
    """What an asset event says of a run (a contract for consumer DAGs, see the README):
    ``platform``, ``run_id``, ``status``, ``console_url``, the platform's ``facts`` (Apify:
    ``default_dataset_id``, ``default_key_value_store_id``; Lobstr.io: ``total_results``), and
    ``cost`` with ``cost_unit`` where the API reports a cost. The run operators' outlets and the
    run-finished watchers both send it."""
    extra: dict[str, Any] = {
        "platform": platform,
        "run_id": snapshot.id,
        "status": snapshot.status,
        "console_url": snapshot.console_url,
        **facts,
    }
    if snapshot.cost is not None:
        extra["cost"] = snapshot.cost
        extra["cost_unit"] = snapshot.cost_unit
    return extra


def finished_run(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The run described by an asset event's ``extra``, whoever sent it: a run operator's outlet
    puts :func:`run_extra` there, a run-finished watcher's event carries it under ``payload``
    (Airflow wraps trigger payloads). One consumer DAG thus serves both ways of producing."""
    payload = extra.get("payload")
    return dict(payload) if extra.get("from_trigger") and isinstance(payload, Mapping) else dict(extra)


__all__ = ["annotate_outlets", "asset_outlets", "finished_run", "run_extra"]
