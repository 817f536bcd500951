"""Asset events that carry the run (issue 11, section 1): outlets of the run and download
operators get an event whose ``extra`` is the README's contract.

Two views of the same extra: what the task set on its outlet events (read by an
``on_success_callback``, on every Airflow line) and, where ``dag.test()`` stores events, the asset
events in the metadata database (Airflow 3; 2.11's ``dag.test()`` runs tasks in test mode, which
registers no dataset events).
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS

#: Airflow 3.0's ``dag.test()`` leaves a DAG's assets inactive, so a task with asset outlets fails
#: before it runs (AirflowInactiveAssetInInletOrOutletException); a deployed DAG's assets are
#: activated by the dag-processor. Strict: these must start passing the day 3.0 allows it.
NEEDS_ACTIVE_ASSETS = pytest.mark.xfail(
    AIRFLOW_V_3_0_PLUS and not AIRFLOW_V_3_1_PLUS,
    reason="Airflow 3.0's dag.test() does not activate the DAG's assets",
    strict=True,
)


def recorder(path) -> str:
    """DAG-file source of ``record``: an on_success_callback appending each outlet's event extra."""
    return f"""
        import json

        def record(context):
            with open({str(path)!r}, "a") as handle:
                for outlet in context["task"].outlets:
                    extra = context["outlet_events"][outlet].extra
                    handle.write(json.dumps({{"task": context["task"].task_id, "extra": extra}}) + "\\n")
        """


def extras(result, record_path, task_id: str) -> list[dict]:
    """The extras task ``task_id`` set on its outlets, and (Airflow 3) checks the stored events match."""
    lines = record_path.read_text().splitlines() if record_path.exists() else []
    seen = [row["extra"] for row in map(json.loads, lines) if row["task"] == task_id]
    if AIRFLOW_V_3_0_PLUS:
        assert result.asset_event_extras(task_id) == seen
    return seen


@NEEDS_ACTIVE_ASSETS
@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_apify_run_and_download_outlets_carry_the_run_and_the_file(run_dag, apify_emulator, tmp_path, deferrable):
    apify_emulator.add_task("crawl", duration_secs=7, item_count=12, cost_per_second=0.001)
    out, seen = tmp_path / "items.jsonl", tmp_path / "extras.jsonl"
    result = run_dag(
        recorder(seen)
        + f"""
        from airflow.providers.common.compat.sdk import Asset
        run = ApifyRunTaskOperator(task_id="run", actor_task_id="demo~crawl", deferrable={deferrable},
                                   outlets=[Asset("scrape://apify/crawl/runs")], on_success_callback=record)
        items = ApifyDatasetItemsOperator(task_id="items", output_path={str(out)!r},
                                          outlets=[Asset("scrape://apify/crawl/items")], on_success_callback=record)
        run >> items
        """
    )
    assert result.state == "success", result.output[-3000:]
    run = apify_emulator.runs()[0]
    assert extras(result, seen, "run") == [
        {
            "platform": "apify",
            "run_id": run["id"],
            "status": "SUCCEEDED",
            "console_url": f"https://console.apify.com/actors/runs/{run['id']}",
            "default_dataset_id": run["defaultDatasetId"],
            "default_key_value_store_id": run["defaultKeyValueStoreId"],
            "cost": run["usageTotalUsd"],
            "cost_unit": "USD",
        }
    ]
    assert extras(result, seen, "items") == [
        {
            "platform": "apify",
            "path": str(out),
            "format": "jsonl",
            "item_count": 12,
            "dataset_id": run["defaultDatasetId"],
        }
    ]


@NEEDS_ACTIVE_ASSETS
def test_lobstr_run_and_results_outlets_carry_the_run_and_the_file(run_dag, lobstr_emulator, tmp_path):
    squid = lobstr_emulator.add_squid("assets", duration_secs=2, results_per_task=5, task_count=2)["id"]
    out, seen = tmp_path / "rows.csv", tmp_path / "extras.jsonl"
    result = run_dag(
        recorder(seen)
        + f"""
        from airflow.providers.common.compat.sdk import Asset
        run = LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, poll_interval=5,
                                     outlets=[Asset("scrape://lobstr/assets/runs")], on_success_callback=record)
        rows = LobstrResultsOperator(task_id="rows", output_path={str(out)!r}, format="csv",
                                     outlets=[Asset("scrape://lobstr/assets/rows")], on_success_callback=record)
        run >> rows
        """
    )
    assert result.state == "success", result.output[-3000:]
    run = lobstr_emulator.runs(squid)[0]
    assert extras(result, seen, "run") == [
        {
            "platform": "lobstr",
            "run_id": run["id"],
            "status": "done",
            "console_url": f"https://app.lobstr.io/squids/{squid}/runs/{run['id']}",
            "total_results": 10,
            "cost": 10.0,
            "cost_unit": "credits",
        }
    ]
    assert extras(result, seen, "rows") == [
        {"platform": "lobstr", "path": str(out), "format": "csv", "item_count": 10, "run_id": run["id"]}
    ]


def test_a_failed_run_emits_no_asset_event(run_dag):
    """Airflow emits outlet events only for a successful task (2.11's dag.test() stores none anyway)."""
    result = run_dag(
        """
        from airflow.providers.common.compat.sdk import Asset
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~fails", outlets=[Asset("scrape://apify/fails")])
        """
    )
    assert result.task_states["run"] == "failed"
    assert result.asset_event_extras("run") == []


@NEEDS_ACTIVE_ASSETS
def test_without_waiting_the_event_carries_the_run_as_started(run_dag, apify_emulator, tmp_path):
    """``wait_for_termination=False``: the task succeeds at the start, and its event says so by
    the run's status (a consumer checks ``status`` before reading the dataset)."""
    apify_emulator.add_task("fire-and-forget", duration_secs=60)
    seen = tmp_path / "extras.jsonl"
    result = run_dag(
        recorder(seen)
        + """
        from airflow.providers.common.compat.sdk import Asset
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~fire-and-forget", wait_for_termination=False,
                             outlets=[Asset("scrape://apify/started")], on_success_callback=record)
        """
    )
    assert result.state == "success", result.output[-3000:]
    (extra,) = extras(result, seen, "run")
    run = apify_emulator.runs()[0]
    assert extra["run_id"] == run["id"] and extra["status"] in ("READY", "RUNNING")
    assert extra["default_dataset_id"] == run["defaultDatasetId"]
