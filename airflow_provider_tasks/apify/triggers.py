"""ApifyRunTrigger: follows an Apify run from the triggerer with long-polls on a shared session."""

from __future__ import annotations

from airflow_provider_tasks.apify.api import ApifyRun
from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.triggers import RemoteRunTrigger


class ApifyRunTrigger(RemoteRunTrigger[ApifyRun]):
    """Waits for an Apify run to reach a terminal status without holding a worker slot.

    Each request is ``GET /v2/actor-runs/{id}?waitForFinish=…`` (the server answers as soon as
    the run ends, or after at most 60 s), so a waiting run costs about one request a minute and
    its end is heard at once. All triggers of one connection in a triggerer share one
    ``aiohttp`` session. See :class:`RemoteRunTrigger` for the parameters and event payload.
    """

    hook_class = ApifyHook
