"""Event-driven scraping: one consumer DAG for the runs Airflow starts and the runs that finish elsewhere.

    example_asset_producer: run_scraper ──(outlet)──────────────▶ apify_runs_from_airflow ─┐
    Apify's scheduler / console runs APIFY_WATCHED_TASK                                      ├─▶ example_asset_consumer
        └─ ApifyRunFinishedTrigger (AssetWatcher) ──────────────▶ apify_runs_finished ─────┘     (reads each run's items)

Both assets' events describe a run with the same keys (``finished_run`` reads either), so the
consumer does not care who started the run. Airflow 3 only (asset watchers are 3.0+); the pair
needs a scheduler and a triggerer (``dag.test()`` runs one DAG): the integration suite runs it
against the emulator (``tests/integration/test_run_finished_watcher.py``). Against Apify, set
``APIFY_TASK`` (run by Airflow) and ``APIFY_WATCHED_TASK`` (run by Apify's own scheduler).
"""  # noqa: E501 - the diagram, shown as the DAGs' doc_md

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    # --8<-- [start:asset_imports]
    from airflow.sdk import Asset, AssetWatcher

    from airflow_provider_tasks.apify.operators import ApifyRunTaskOperator
    from airflow_provider_tasks.apify.watchers import ApifyRunFinishedTrigger
    # --8<-- [end:asset_imports]

    START = pendulum.datetime(2026, 1, 1, tz="UTC")

    # --8<-- [start:producer_asset]
    RUNS_FROM_AIRFLOW = Asset("apify_runs_from_airflow")
    # --8<-- [end:producer_asset]
    # --8<-- [start:watcher_asset]
    RUNS_FINISHED_ELSEWHERE = Asset(
        "apify_runs_finished",
        watchers=[
            AssetWatcher(
                name="apify_watched_task_finished",
                trigger=ApifyRunFinishedTrigger(
                    actor_task_id=os.environ.get("APIFY_WATCHED_TASK", "demo~scheduled-scrape"),
                    poll_interval=float(os.environ.get("APIFY_WATCH_POLL_SECONDS", "60")),
                ),
            )
        ],
    )
    # --8<-- [end:watcher_asset]

    # --8<-- [start:producer]
    with DAG(
        dag_id="example_asset_producer",
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["example", "apify", "assets"],
        doc_md=__doc__,
    ):
        ApifyRunTaskOperator(
            task_id="run_scraper",
            actor_task_id=os.environ.get("APIFY_TASK", "demo~succeeds-with-items"),
            deferrable=True,
            timeout=3600,
            outlets=[RUNS_FROM_AIRFLOW],
        )
    # --8<-- [end:producer]

    # --8<-- [start:consumer]
    with DAG(
        dag_id="example_asset_consumer",
        schedule=RUNS_FROM_AIRFLOW | RUNS_FINISHED_ELSEWHERE,
        start_date=START,
        catchup=False,
        tags=["example", "apify", "assets"],
        doc_md=__doc__,
    ):

        @task
        def read_items(triggering_asset_events=None) -> dict[str, int]:
            """Items of every run the triggering events announce (one DAG run may carry several)."""
            from airflow_provider_tasks.apify.hooks import ApifyHook
            from airflow_provider_tasks.common.assets import finished_run

            counts: dict[str, int] = {}
            hook = ApifyHook()
            for events in triggering_asset_events.values():
                for event in events:
                    run = finished_run(event.extra)
                    if run.get("platform") != "apify" or run.get("status") != "SUCCEEDED":
                        continue
                    counts[run["run_id"]] = sum(1 for _ in hook.iter_dataset_items(run["default_dataset_id"]))
                    print(f"run {run['run_id']} ({run['console_url']}): {counts[run['run_id']]} items")
            return counts

        read_items()
    # --8<-- [end:consumer]
