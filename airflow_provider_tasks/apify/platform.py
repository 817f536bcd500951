"""What every Apify operator and sensor shares: the ``apify`` connection, its hook, its trigger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_tasks.common.compat import BaseOperator

if TYPE_CHECKING:
    from airflow_provider_tasks.apify.hooks import ApifyHook
    from airflow_provider_tasks.apify.triggers import ApifyRunTrigger

DEFAULT_CONN_ID = "apify_default"
XCOM_DATASET_ID = "default_dataset_id"
XCOM_KEY_VALUE_STORE_ID = "default_key_value_store_id"
"""XCom keys under which the run operators push a run's default dataset and key-value store, and
from which the download operators take them (a contract: never rename)."""


class ApifyConnected(BaseOperator):
    """Mixed into Apify operators and sensors, before the common base (so ``default_args`` can set
    the connection): the ``apify`` connection, its hook and trigger, imported when a task runs.

    :param apify_conn_id: the ``apify`` connection (default ``apify_default``).
    """

    platform_key: ClassVar[str] = "apify"  # in asset-event extras: a contract, never rename

    def __init__(self, *, apify_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apify_conn_id = apify_conn_id

    def make_hook(self) -> ApifyHook:
        from airflow_provider_tasks.apify.hooks import ApifyHook

        return ApifyHook(self.apify_conn_id)

    def trigger_class(self) -> type[ApifyRunTrigger]:
        from airflow_provider_tasks.apify.triggers import ApifyRunTrigger

        return ApifyRunTrigger
