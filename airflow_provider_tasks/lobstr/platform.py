"""What every Lobstr.io operator and sensor shares: the ``lobstr`` connection, its hook, its trigger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_tasks.lobstr.hooks import LobstrHook
    from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger

DEFAULT_CONN_ID = "lobstr_default"


class LobstrConnected(BaseOperator):
    """Mixed into Lobstr.io operators and sensors, before the common base (so ``default_args`` can set
    the connection): the ``lobstr`` connection, its hook and trigger, imported when a task runs.

    :param lobstr_conn_id: the ``lobstr`` connection (default ``lobstr_default``).
    """

    platform_key: ClassVar[str] = "lobstr"  # in asset-event extras: a contract, never rename

    def __init__(self, *, lobstr_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lobstr_conn_id = lobstr_conn_id

    def make_hook(self) -> LobstrHook:
        from airflow_provider_tasks.lobstr.hooks import LobstrHook

        return LobstrHook(self.lobstr_conn_id)

    def trigger_class(self) -> type[LobstrRunTrigger]:
        from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger

        return LobstrRunTrigger
