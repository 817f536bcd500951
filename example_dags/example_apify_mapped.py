"""One Apify Actor run per input, side by side, each run's dataset downloaded to its own file.

    run_actor[0..n] (deferrable, one per input) ──▶ download_items[0..n] (each reads its own run's dataset)

Dynamic task mapping: ``run_actor`` is expanded over the inputs, so each map index starts one run
(exactly once, also when that index is retried or cleared) and waits for it in the triggerer; its
asset event and its "Apify run" link name that index's run. ``download_items`` is expanded over
the runs' return values (the run objects): map index ``i`` downloads the dataset of run ``i``.

Offline it runs against the bundled emulator (``tests/dags/test_mapped_example.py`` runs it).
Against Apify, create the ``apify_default`` connection and set ``APIFY_ACTOR`` to an Actor whose
input takes a ``search`` field.
"""

# --8<-- [start:mapped_dag]
from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset  # airflow.sdk on Airflow 3; works on 2.11 too

from airflow_provider_tasks.apify.operators import ApifyDatasetItemsOperator, ApifyRunActorOperator

AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
OUTPUT_DIR = os.environ.get("APIFY_EXAMPLE_OUTPUT_DIR") or os.path.join(AIRFLOW_HOME, "example-output")
SEARCHES = ["espresso machine", "green tea", "matcha whisk"]
SEARCH_RUNS = Asset("apify_search_runs")


# --8<-- [start:dataset_of]
def dataset_of(run: dict[str, Any]) -> str:
    """A run operator returns the run object: its default dataset is what to download."""
    return str(run["defaultDatasetId"])


# --8<-- [end:dataset_of]


with DAG(
    dag_id="example_apify_mapped",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "apify"],
    doc_md=__doc__,
) as dag:
    # --8<-- [start:mapped_runs]
    runs = ApifyRunActorOperator.partial(
        task_id="run_actor",
        actor_id=os.environ.get("APIFY_ACTOR", "demo~example-actor"),
        deferrable=True,
        timeout=3600,
        outlets=[SEARCH_RUNS],  # one asset event per map index, its extra naming that index's run
    ).expand(run_input=[{"search": term} for term in SEARCHES])
    # --8<-- [end:mapped_runs]

    # --8<-- [start:mapped_download]
    ApifyDatasetItemsOperator.partial(
        task_id="download_items",
        output_path=OUTPUT_DIR + "/{{ run_id | replace(':', '_') }}/items-{{ ti.map_index }}.jsonl",
    ).expand(dataset_id=runs.output.map(dataset_of))
    # --8<-- [end:mapped_download]
# --8<-- [end:mapped_dag]
