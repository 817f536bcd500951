"""What every Lobstr.io operator and sensor shares: the ``lobstr`` connection, its hook, its trigger."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.common.platform import Connected
from airflow_provider_tasks.lobstr import MIN_POLL_INTERVAL, PLATFORM

DEFAULT_CONN_ID = "lobstr_default"


class LobstrConnected(Connected):
    """Mixed into Lobstr.io operators and sensors: the ``lobstr`` connection, :class:`LobstrHook`,
    :class:`LobstrRunTrigger`.

    :param lobstr_conn_id: the ``lobstr`` connection (default ``lobstr_default``).
    """

    platform = PLATFORM
    platform_key = "lobstr"
    hook_path = "airflow_provider_tasks.lobstr.hooks.LobstrHook"
    trigger_path = "airflow_provider_tasks.lobstr.triggers.LobstrRunTrigger"
    min_poll_interval = MIN_POLL_INTERVAL
    poll_interval_rule = "Lobstr.io asks clients not to poll more often than every 5 s"

    def __init__(self, *, lobstr_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lobstr_conn_id = lobstr_conn_id
