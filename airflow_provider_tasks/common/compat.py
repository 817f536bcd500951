"""Every difference between Airflow lines, in one place: the rest of the package never tests the Airflow version.

Names come from ``apache-airflow-providers-common-compat``; what it does not cover is decided here by its version
flags (what each line gets: docs/installation.md). Heavy objects are resolved by functions, so DAG parsing pays
nothing for them.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowSkipException,
    BaseHook,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    PokeReturnValue,
    TaskDeferred,
    conf,
)
from airflow.providers.common.compat.version_compat import (
    AIRFLOW_V_3_0_PLUS,
    AIRFLOW_V_3_1_PLUS,
    AIRFLOW_V_3_2_PLUS,
    AIRFLOW_V_3_3_PLUS,
)
from airflow.triggers.base import BaseTrigger, TriggerEvent

try:  # Airflow 3.0+: triggers that schedule DAGs through an AssetWatcher
    from airflow.triggers.base import BaseEventTrigger
except ImportError:  # Airflow 2.11 has no event-driven scheduling: the class still imports
    BaseEventTrigger = BaseTrigger  # type: ignore[misc,assignment]

if TYPE_CHECKING:
    # "X as X": re-exported for the rest of the package (mypy strict needs the explicit form)
    from airflow.providers.common.compat.sdk import Context as Context
    from airflow.providers.common.compat.sdk import TaskInstanceKey as TaskInstanceKey

T = TypeVar("T")

TRIGGER_ON_KILL = AIRFLOW_V_3_3_PLUS
"""Whether the triggerer calls a trigger's ``on_kill`` when a user marks or clears a deferred task."""

TASK_STATE_STORE = AIRFLOW_V_3_3_PLUS
"""Whether the task context carries ``task_state_store`` (survives a worker crash)."""

EVENT_TRIGGER_ASSET_STATE = AIRFLOW_V_3_3_PLUS
"""Whether event triggers get their assets' state store (AIP-103) and shared streams run in ack mode."""

DECLARATIVE_CONNECTION_FORM = AIRFLOW_V_3_2_PLUS
"""Whether Airflow reads the connection form from the provider-info dict (else from the hook)."""


async def get_async_connection(conn_id: str, hook: Any = None) -> Any:
    """The connection without blocking the event loop (a thread before 3.1), read to completion even if cancelled."""
    from airflow.providers.common.compat.connection import get_async_connection as _get

    return await to_completion(_get(conn_id, hook=hook))


_UNTIL_DONE: set[asyncio.Future[Any]] = set()
"""Awaitables run by :func:`to_completion`, referenced until done (the loop keeps weak ones)."""


async def to_completion(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable`` so that cancelling the caller does not interrupt it (the caller sees the cancel after).

    Airflow 3.0/3.1: a supervisor request cancelled between send and reply leaves its reply to the next request, and
    the trigger runner dies ("Response read out of order"); the triggerer cancels triggers on every mark/clear/move.
    """
    task = asyncio.ensure_future(awaitable)
    _UNTIL_DONE.add(task)
    task.add_done_callback(_UNTIL_DONE.discard)
    return await asyncio.shield(task)


def object_storage_path_class() -> type:
    """``ObjectStoragePath`` (``airflow.sdk`` on 3.x, ``airflow.io.path`` on 2.11), loaded on use."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return ObjectStoragePath


def xcom_class() -> Any:
    """The XCom accessor a link reads from (task SDK on 3.x, the model on 2.11)."""
    from airflow.providers.common.compat.sdk import XCom

    return XCom


def asset_class() -> type:
    """``Asset`` (``airflow.sdk`` on 3.x; ``Dataset`` on 2.11), loaded on use."""
    from airflow.providers.common.compat.sdk import Asset

    return Asset


def serde() -> Any:
    """Airflow's serde module, which stores trigger kwargs (``airflow.sdk.serde`` from 3.2)."""
    try:
        return importlib.import_module("airflow.sdk.serde")
    except ImportError:
        return importlib.import_module("airflow.serialization.serde")


async def task_instance_state(ti: Any) -> str | None:
    """The state Airflow now holds for a running trigger's task instance ``ti``: before 3.3, how a cancelled trigger
    tells a user's mark/clear (no longer ``deferred``) from a triggerer stopping or handing it over. 3.x asks the
    supervisor on the trigger's own loop (3.0/3.1 lose replies asked from a thread); 2.11 reads the database."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.comms import GetTaskStates

        from airflow_provider_tasks.common.internals import supervisor_comms

        map_index = getattr(ti, "map_index", -1)
        request = GetTaskStates(
            dag_id=ti.dag_id,
            task_ids=[ti.task_id],
            run_ids=[ti.run_id],
            map_index=map_index if map_index >= 0 else None,
        )
        response = await to_completion(supervisor_comms().asend(request))
        states: dict[str, dict[str, Any]] = getattr(response, "task_states", None) or {}
        key = ti.task_id if map_index < 0 else f"{ti.task_id}_{map_index}"
        return _state_name(states.get(ti.run_id, {}).get(key))
    return await asyncio.to_thread(_task_instance_state_from_database, ti)


def _task_instance_state_from_database(ti: Any) -> str | None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        state = (
            session.query(TaskInstance.state)
            .filter_by(dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=ti.map_index)
            .scalar()
        )
    return _state_name(state)


def _state_name(state: Any) -> str | None:
    """``"deferred"`` from a ``TaskInstanceState`` or a plain string; None for no state."""
    return None if state is None else str(getattr(state, "value", state))


__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "DECLARATIVE_CONNECTION_FORM",
    "EVENT_TRIGGER_ASSET_STATE",
    "TASK_STATE_STORE",
    "TRIGGER_ON_KILL",
    "AirflowException",
    "AirflowSkipException",
    "BaseEventTrigger",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "PokeReturnValue",
    "TaskDeferred",
    "TriggerEvent",
    "asset_class",
    "conf",
    "get_async_connection",
    "object_storage_path_class",
    "serde",
    "task_instance_state",
    "to_completion",
    "xcom_class",
]
