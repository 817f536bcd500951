"""DAGs of the production-shaped deployment (tests/topology): many remote runs in one DAG run by
dynamic task mapping, and a task that waits in a worker slot.

Copied into the temporary DAGs folder next to the integration suite's DAG files. What each run
starts comes from the DAG run's ``conf``, so every test case counts only its own remote runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, get_current_context, task

from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator
from airflow_provider_tasks.lobstr.operators import LobstrRunSquidOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")


@task
def targets(key: str) -> list[Any]:
    """The DAG run's ``conf[key]``: one mapped task instance per element."""
    return list(get_current_context()["dag_run"].conf[key])


# conf {"actor_tasks": ["demo~<name>", ...]}: one deferrable Apify run per element.
with DAG(
    "topo_apify_fanout",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=4,
    max_active_tasks=500,
    tags=["topology"],
):
    ApifyRunTaskOperator.partial(task_id="run", deferrable=True, timeout=1200, retries=0).expand(
        actor_task_id=targets("actor_tasks")
    )

# conf {"squids": ["<hash>", ...]}: one deferrable Lobstr.io run per squid (one active run a squid).
with DAG(
    "topo_lobstr_fanout",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=4,
    max_active_tasks=500,
    tags=["topology"],
):
    LobstrRunSquidOperator.partial(task_id="run", deferrable=True, poll_interval=5, timeout=1200, retries=0).expand(
        squid_id=targets("squids")
    )

# conf {"actor_task": "demo~<name>"}: waits in its worker slot; a lost worker's try is retried.
with DAG("topo_blocking", schedule=None, start_date=START, catchup=False, max_active_runs=2, tags=["topology"]):
    ApifyRunTaskOperator(
        task_id="run",
        actor_task_id="{{ dag_run.conf['actor_task'] }}",
        deferrable=False,
        timeout=1200,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
