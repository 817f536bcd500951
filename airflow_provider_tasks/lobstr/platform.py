"""What every Lobstr.io operator and sensor shares: the ``lobstr`` connection, its hook, its trigger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_tasks.lobstr.hooks import LobstrHook
    from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger

DEFAULT_CONN_ID = "lobstr_default"


class LobstrConnected(BaseOperator):
    """Mixed into Lobstr.io operators and sensors (listed before the common base, so the
    connection parameter is a real ``__init__`` parameter that ``default_args`` can set).

    :param lobstr_conn_id: the ``lobstr`` connection (default ``lobstr_default``).

    Builds :class:`LobstrHook` and names :class:`LobstrRunTrigger`, both imported only when a task
    runs: DAG parsing does not load HTTP clients.
    """

    platform_key: ClassVar[str] = "lobstr"
    """This platform's name in asset-event extras (a contract: never rename)."""

    def __init__(self, *, lobstr_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lobstr_conn_id = lobstr_conn_id

    def make_hook(self) -> LobstrHook:
        from airflow_provider_tasks.lobstr.hooks import LobstrHook

        return LobstrHook(self.lobstr_conn_id)

    def trigger_class(self) -> type[LobstrRunTrigger]:
        from airflow_provider_tasks.lobstr.triggers import LobstrRunTrigger

        return LobstrRunTrigger
