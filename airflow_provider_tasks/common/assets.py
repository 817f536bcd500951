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


__all__ = ["annotate_outlets", "asset_outlets"]
