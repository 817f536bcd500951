"""What every Apify operator and sensor shares: the ``apify`` connection, its hook, its trigger."""

from __future__ import annotations

from typing import Any

from airflow_provider_tasks.apify import PLATFORM
from airflow_provider_tasks.common.platform import Connected

DEFAULT_CONN_ID = "apify_default"
XCOM_DATASET_ID = "default_dataset_id"
XCOM_KEY_VALUE_STORE_ID = "default_key_value_store_id"
"""XCom keys under which the run operators push a run's default dataset and key-value store, and
from which the download operators take them (a contract: never rename)."""


class ApifyConnected(Connected):
    """Mixed into Apify operators and sensors: the ``apify`` connection, :class:`ApifyHook`,
    :class:`ApifyRunTrigger`.

    :param apify_conn_id: the ``apify`` connection (default ``apify_default``).
    """

    platform = PLATFORM
    platform_key = "apify"
    hook_path = "airflow_provider_tasks.apify.hooks.ApifyHook"
    trigger_path = "airflow_provider_tasks.apify.triggers.ApifyRunTrigger"

    def __init__(self, *, apify_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.apify_conn_id = apify_conn_id
