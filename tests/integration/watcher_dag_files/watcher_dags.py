"""The run-finished watcher DAGs of the integration suite (not in the topology deployment, whose
emulator request counts they would change). Case 5: the asset gets one event per run of the emulator
task "demo~it-watched" that succeeds, however the run was started; a consumer DAG is scheduled on it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_provider_tasks.apify.watchers import ApifyRunFinishedTrigger
from airflow_provider_tasks.common.assets import finished_run

START = pendulum.datetime(2026, 1, 1, tz="UTC")

WATCHED_RUNS = Asset(
    "apify-it-watched-runs",
    watchers=[
        AssetWatcher(
            name="it_watched", trigger=ApifyRunFinishedTrigger(actor_task_id="demo~it-watched", poll_interval=2)
        )
    ],
)

with DAG("it_on_finished_run", schedule=[WATCHED_RUNS], start_date=START, catchup=False, tags=["integration"]):

    @task
    def read_runs(triggering_asset_events=None) -> list[str]:
        """Every run these events announce (Airflow may put several events in one DAG run)."""
        return [finished_run(event.extra)["run_id"] for event in triggering_asset_events[WATCHED_RUNS]]

    read_runs()
