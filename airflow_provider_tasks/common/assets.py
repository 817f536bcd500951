"""Asset events that describe what a task produced: the ``extra`` of each outlet's event.

The keys are a contract for consumer DAGs (docs/assets.md): renaming one breaks them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_tasks.common.compat import Context
    from airflow_provider_tasks.common.snapshot import Snapshot


def asset_outlets(outlets: Any) -> list[Any]:
    """The outlets that are assets (datasets on 2.11); aliases and other kinds are left alone."""
    from airflow_provider_tasks.common.compat import asset_class

    kind = asset_class()
    return [outlet for outlet in (outlets or []) if isinstance(outlet, kind)]


def annotate_outlets(task: Any, context: Context, describe: Callable[[], Mapping[str, Any]]) -> int:
    """Set ``describe()`` (called only if there is an asset outlet) as each asset outlet's event ``extra``; returns
    how many. Checked to be plain JSON here, so a bad value fails loudly instead of being dropped by Airflow."""
    outlets = asset_outlets(getattr(task, "outlets", None))
    if not outlets:
        return 0
    plain = json.loads(json.dumps(dict(describe()), allow_nan=False))
    for outlet in outlets:
        context["outlet_events"][outlet].extra = dict(plain)
    return len(outlets)


def run_extra(platform: str, snapshot: Snapshot, facts: Mapping[str, Any]) -> dict[str, Any]:
    """What the run operators' outlets and the run-finished watchers say of a run (a contract, docs/assets.md)."""
    extra: dict[str, Any] = {
        "platform": platform,
        "run_id": snapshot.id,
        "status": snapshot.status,
        "console_url": snapshot.console_url,
        **facts,
    }
    if snapshot.cost is not None:
        extra.update(cost=snapshot.cost, cost_unit=snapshot.cost_unit)
    return extra


def finished_run(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The run described by an asset event's ``extra``, whether a run operator's outlet or a run-finished watcher
    (whose payload Airflow wraps under ``payload``) sent it: one consumer DAG serves both."""
    payload = extra.get("payload")
    return dict(payload) if extra.get("from_trigger") and isinstance(payload, Mapping) else dict(extra)


__all__ = ["annotate_outlets", "asset_outlets", "finished_run", "run_extra"]
