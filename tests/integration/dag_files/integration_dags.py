"""DAGs the integration suite runs on a real Airflow (scheduler, LocalExecutor, triggerer).

Copied into the temporary DAGs folder by ``tests/integration/harness.py``. The Apify task each
run starts comes from the DAG run's ``conf``, so every test case creates its own emulator task
(with its own duration) and counts the remote runs of that task only.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_tasks.apify.operators import (
    ApifyDatasetItemsOperator,
    ApifyRunActorOperator,
    ApifyRunTaskOperator,
)

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

# tests/integration/test_mapped_runs.py: one deferrable Actor run per input (MAPPED_INPUTS map
# indexes, asset outlet on each), then map index i downloads the dataset of run i; conf
# {"actor": "demo~<name>", "out_dir": "<folder for the downloads>"}. The shape of
# example_dags/example_apify_mapped.py, at scale.
MAPPED_INPUTS = 50
MAPPED_RUNS = Asset("it_mapped_runs")


def dataset_of(run: dict[str, Any]) -> str:
    return str(run["defaultDatasetId"])


with DAG("it_mapped", schedule=None, start_date=START, catchup=False, max_active_runs=1, tags=["integration"]):
    mapped_runs = ApifyRunActorOperator.partial(
        task_id="run",
        actor_id="{{ dag_run.conf['actor'] }}",
        deferrable=True,
        timeout=600,
        retries=0,
        outlets=[MAPPED_RUNS],
    ).expand(run_input=[{"index": i, "search": f"query {i}"} for i in range(MAPPED_INPUTS)])
    ApifyDatasetItemsOperator.partial(
        task_id="download",
        output_path="{{ dag_run.conf['out_dir'] }}/{{ ti.map_index }}.jsonl",
        retries=0,
    ).expand(dataset_id=mapped_runs.output.map(dataset_of))
