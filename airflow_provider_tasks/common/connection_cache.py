"""The triggerer's short-lived cache of connection reads, shared by the triggers of one event loop."""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from airflow_provider_tasks.common.compat import get_async_connection
from airflow_provider_tasks.common.scale import scale_machinery

CONNECTION_REUSE_SECONDS = 5.0
"""How long a read serves the loop's other triggers: a burst shares one read, an edit reaches new triggers soon."""


_Read = tuple[float, "asyncio.Future[Any]"]
"""When a connection read started (monotonic seconds), and the read."""


class RecentConnections:
    """Connections read by triggers, shared per event loop and id for :data:`CONNECTION_REUSE_SECONDS`: in Airflow 3
    each read is a round trip to the supervisor and the API server. Concurrent reads share one; failures are not kept.
    """

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Read]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, conn_id: str, hook: Any) -> Any:
        if not scale_machinery():  # see common/scale.py: every trigger reads its own
            return await get_async_connection(conn_id, hook=hook)
        entries = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        now = time.monotonic()
        entry = entries.get(conn_id)
        if entry is None or now - entry[0] > CONNECTION_REUSE_SECONDS or _failed(entry[1]):
            entry = entries[conn_id] = (now, asyncio.ensure_future(get_async_connection(conn_id, hook=hook)))
        # shielded: a trigger cancelled while waiting for the read does not cancel it for the others
        return await asyncio.shield(entry[1])


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


RECENT_CONNECTIONS = RecentConnections()
"""The triggerer's one cache (every hook of a process shares it)."""
