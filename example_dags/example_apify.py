"""Run an Apify Actor task without holding a worker slot, stream its dataset to a file, use it;
and fetch the run's OUTPUT record (a JSON result many Actors write instead of dataset items).

    run_scraper (deferrable) ──▶ download_items (JSON Lines) ──▶ summarize (reads the file)
                             └─▶ download_output (OUTPUT record: file + its JSON value in XCom)

Offline it runs against the bundled emulator: ``bash .ci/quickstart``. Against Apify, create the
``apify_default`` connection with your API token and set ``APIFY_TASK`` to one of your tasks.
"""

# --8<-- [start:apify_dag]
from __future__ import annotations

import json
import os

import pendulum
from airflow.providers.common.compat.sdk import DAG, task  # airflow.sdk on Airflow 3; this works on 2.11 too

from airflow_provider_tasks.apify.operators import (
    ApifyDatasetItemsOperator,
    ApifyGetRecordOperator,
    ApifyRunTaskOperator,
)

# Under this Airflow installation's home (Airflow's own default rule), not a shared /tmp path.
AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
OUTPUT_DIR = os.environ.get("APIFY_EXAMPLE_OUTPUT_DIR") or os.path.join(AIRFLOW_HOME, "example-output")

with DAG(
    dag_id="example_apify",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "apify"],
    doc_md=__doc__,
) as dag:
    # --8<-- [start:apify_run]
    run_scraper = ApifyRunTaskOperator(
        task_id="run_scraper",
        actor_task_id=os.environ.get("APIFY_TASK", "demo~succeeds-with-items"),
        run_input={"startUrls": [{"url": "https://example.com"}]},
        memory_mbytes=1024,
        deferrable=True,
        timeout=3600,
    )
    # --8<-- [end:apify_run]

    # --8<-- [start:apify_download]
    download_items = ApifyDatasetItemsOperator(
        task_id="download_items",
        # dataset_id defaults to run_scraper's "default_dataset_id" XCom
        output_path=OUTPUT_DIR + "/{{ run_id | replace(':', '_') }}/items.jsonl",
        format="jsonl",
    )
    # --8<-- [end:apify_download]

    # --8<-- [start:apify_consume]
    @task
    def summarize(written: dict) -> dict:
        """A downstream step that consumes the file, as a loader or a transform would."""
        with open(written["path"], encoding="utf-8") as handle:
            items = [json.loads(line) for line in handle]
        urls = list(dict.fromkeys(item["url"] for item in items if item.get("url")))  # dataset order, no repeats
        print(f"{len(items)} items from dataset {written['dataset_id']}; first URLs: {urls[:3]}")
        return {"items": len(items), "distinct_urls": len(urls)}

    run_scraper >> download_items
    summarize(download_items.output)
    # --8<-- [end:apify_consume]

    # --8<-- [start:apify_record]
    download_output = ApifyGetRecordOperator(
        task_id="download_output",
        # store_id defaults to run_scraper's "default_key_value_store_id" XCom, key to "OUTPUT"
        output_path=OUTPUT_DIR + "/{{ run_id | replace(':', '_') }}/OUTPUT.json",
        push_json=True,  # also return the parsed value (XCom), up to max_json_bytes (64 KiB)
    )
    run_scraper >> download_output
    # --8<-- [end:apify_record]
# --8<-- [end:apify_dag]
