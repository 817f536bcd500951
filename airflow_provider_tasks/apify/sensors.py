"""ApifyRunSensor: waits for an Apify run that something else started."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_tasks.apify.links import ApifyRunLink
from airflow_provider_tasks.apify.platform import ApifyConnected
from airflow_provider_tasks.common.sensors import RemoteRunSensor

if TYPE_CHECKING:
    from airflow_provider_tasks.apify.api import ApifyRun  # noqa: F401 (named in a string base-class argument, for mypy)
    from airflow_provider_tasks.apify.hooks import ApifyHook  # noqa: F401 (named in a string base-class argument, for mypy)


class ApifyRunSensor(ApifyConnected, RemoteRunSensor["ApifyRun", "ApifyHook"]):
    """Waits until an Apify run ends: succeeds on SUCCEEDED, fails the task on FAILED, TIMED-OUT or ABORTED with the
    run's status message and console link. Poke, reschedule or ``deferrable=True`` (the wait moves to the triggerer,
    with :class:`ApifyRunTrigger`'s long-poll); the run object is the return value.

    :param run_id: the run to wait for (templated, e.g. from an upstream ``run_id`` XCom).
    :param apify_conn_id: the ``apify`` connection.
    :param cancel_on_kill: in deferrable mode, abort the run if the task is killed (default False: the sensor only
        watches a run it did not start).
    """

    operator_extra_links = (ApifyRunLink(),)
