"""The triggerer's short-lived cache of connection reads, shared by the triggers of one event loop."""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any

from airflow_provider_tasks.common.compat import get_async_connection
from airflow_provider_tasks.common.scale import scale_machinery

CONNECTION_REUSE_SECONDS = 5.0
"""How long a connection read in the triggerer serves the other triggers of the same event loop:
long enough for a burst of trigger creations to share one read, short enough that an edited
connection reaches new triggers at once for any practical purpose."""


_Read = tuple[float, "asyncio.Future[Any]"]
"""When a connection read started (monotonic seconds), and the read."""


class RecentConnections:
    """Connections read by triggers, shared per event loop and connection id for
    :data:`CONNECTION_REUSE_SECONDS`.

    A triggerer that creates thousands of triggers of one connection (a restart, a burst of
    deferrals) reads it once instead of once per trigger: in Airflow 3 every read is a round trip
    to the triggerer's supervisor and the API server. Concurrent reads of the same id share one;
    a failed read is not kept (the next trigger reads again). A changed connection (a rotated
    token) reaches new triggers within that time; a trigger keeps what it read, as before.
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
            entry = (now, asyncio.ensure_future(get_async_connection(conn_id, hook=hook)))
            entries[conn_id] = entry
        # shielded: a trigger cancelled while waiting for the read does not cancel it for the others
        return await asyncio.shield(entry[1])

    def clear(self) -> None:
        """Forget every connection read (for tests that change a connection between triggers)."""
        self._by_loop.clear()


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)


RECENT_CONNECTIONS = RecentConnections()
"""The triggerer's one cache (every hook of a process shares it)."""
