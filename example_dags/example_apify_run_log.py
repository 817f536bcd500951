"""The Apify run's own log in the Airflow task log: streamed while a worker waits, tail on failure.

    run_in_worker (waits in the worker, copies the run's log as it is written)

Offline it runs against the bundled emulator:
``python -m airflow_provider_tasks.testing.run_example example_apify_run_log``. Against Apify,
create the ``apify_default`` connection with your API token and set ``APIFY_TASK``.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG  # airflow.sdk on Airflow 3; this works on 2.11 too

from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator

with DAG(
    dag_id="example_apify_run_log",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "apify"],
    doc_md=__doc__,
) as dag:
    # --8<-- [start:apify_run_log]
    run_in_worker = ApifyRunTaskOperator(
        task_id="run_in_worker",
        actor_task_id=os.environ.get("APIFY_TASK", "demo~succeeds-with-items"),
        deferrable=False,  # stream_log needs a worker: a deferred wait has no task log to write to
        stream_log=True,  # the run's log lines, as Apify writes them, in this task's log
        log_tail_lines=100,  # if the run fails or times out: its last 100 lines (default 50, 0: none)
        timeout=3600,
    )
    # --8<-- [end:apify_run_log]
