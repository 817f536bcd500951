"""DAGs the integration suite runs on a real Airflow (scheduler, LocalExecutor, triggerer).

Copied into the temporary DAGs folder by ``tests/integration/harness.py``. The Apify task each
run starts comes from the DAG run's ``conf``, so every test case creates its own emulator task
(with its own duration) and counts the remote runs of that task only.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")


def apify_run(task_id: str, actor_task_id: str) -> ApifyRunTaskOperator:
    return ApifyRunTaskOperator(
        task_id=task_id,
        actor_task_id=actor_task_id,
        deferrable=True,
        timeout=600,
        retries=0,  # a failure must show, not be retried away
    )


# Cases 1 and 3: one deferrable Apify run; conf {"actor_task": "demo~<name>"}.
with DAG("it_single", schedule=None, start_date=START, catchup=False, max_active_runs=5, tags=["integration"]):
    apify_run("run", "{{ dag_run.conf['actor_task'] }}")

# Case 2: three runs deferred at once while the triggerer is killed; conf {"actor_task_prefix":
# "demo~<prefix>"} and each task runs the emulator task "<prefix>-<letter>".
with DAG("it_parallel", schedule=None, start_date=START, catchup=False, max_active_runs=1, tags=["integration"]):
    for letter in ("a", "b", "c"):
        apify_run(f"run_{letter}", "{{ dag_run.conf['actor_task_prefix'] }}-" + letter)

# tests/topology (on PostgreSQL): many DAG runs at once, one Apify run each; conf {"actor_task": "demo~<name>"}.
with DAG(
    "it_fanout",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=25,
    max_active_tasks=25,
    tags=["integration"],
):
    apify_run("run", "{{ dag_run.conf['actor_task'] }}")
