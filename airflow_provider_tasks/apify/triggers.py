"""ApifyRunTrigger: follows an Apify run from the triggerer with long-polls on a shared session."""

from __future__ import annotations

from airflow_provider_tasks.apify.api import ApifyRun
from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.triggers import RemoteRunTrigger


class ApifyRunTrigger(RemoteRunTrigger[ApifyRun]):
    """Waits for an Apify run without a worker slot, long-polling ``GET /v2/actor-runs/{id}?waitForFinish=…``
    (answered when the run ends, else after 60 s). Parameters and event: :class:`RemoteRunTrigger`."""

    hook_class = ApifyHook
