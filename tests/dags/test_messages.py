"""What a user reads when something is wrong, through real Airflow (``dag.test()``) against the
emulator: each message names the parameter, the limit or the missing value, and what to do."""

from __future__ import annotations

import pytest


def test_a_sensor_whose_xcom_pull_found_nothing_names_the_parameter(run_dag, apify_emulator):
    apify_emulator.add_task("quick", duration_secs=1)
    result = run_dag(
        """
        start = ApifyRunTaskOperator(task_id="start", actor_task_id="demo~quick", wait_for_termination=False)
        watch = ApifyRunSensor(task_id="watch", run_id="{{ ti.xcom_pull(task_ids='strat', key='run_id') }}")
        start >> watch
        """
    )
    assert result.task_states["watch"] == "failed"
    result.assert_error_shown("run_id rendered as 'None': most likely the XCom pull in its template found nothing")
    assert "/actor-runs/None" not in result.output  # the API was never asked about run 'None'


def test_a_download_after_a_task_that_pushed_no_dataset_says_which_run_reported_none(run_dag, apify_emulator, tmp_path):
    result = run_dag(
        f"""
        @task
        def run_without_dataset(ti=None):
            ti.xcom_push(key="run_id", value="runWithNoDataset")

        run_without_dataset() >> ApifyDatasetItemsOperator(task_id="items", output_path={str(tmp_path / "x.jsonl")!r})
        """
    )
    assert result.task_states["items"] == "failed"
    result.assert_error_shown(
        "dataset_id is not set and the upstream run runWithNoDataset reported no default dataset"
    )
    assert "pass dataset_id=" in result.output


def test_a_download_after_a_mapped_run_refuses_to_guess_which_dataset(run_dag, apify_emulator, tmp_path):
    """Each map index pushed its own dataset: taking the first would download one run's items for all."""
    result = run_dag(
        f"""
        @task
        def mapped_run(n, ti=None):
            ti.xcom_push(key="default_dataset_id", value=f"dataset{{n}}")

        items = ApifyDatasetItemsOperator(task_id="items", output_path={str(tmp_path / "x.jsonl")!r})
        mapped_run.expand(n=[1, 2]) >> items
        """
    )
    assert result.task_states["items"] == "failed"
    result.assert_error_shown(
        "dataset_id is not set and the upstream tasks (mapped_run) pushed 2 different values of XCom "
        "'default_dataset_id'"
    )
    assert ".expand(dataset_id=<run task>.output.map(...))" in result.output
    assert not any("/datasets/" in route for route in apify_emulator.stats()["by_route"])  # nothing was read


def test_a_download_with_nothing_upstream_says_to_pass_the_id(run_dag, tmp_path):
    result = run_dag(f'ApifyDatasetItemsOperator(task_id="items", output_path={str(tmp_path / "x.jsonl")!r})\n')
    assert result.task_states["items"] == "failed"
    result.assert_error_shown("dataset_id is not set and task 'items' has no upstream task")


def test_the_download_log_names_its_source_in_words():
    from airflow_provider_tasks.common.download_operator import source_in_words

    assert source_in_words({"dataset_id": "abc"}) == "dataset_id abc"
    assert source_in_words({"squid_id": "s1", "run_id": "r2"}) == "squid_id s1, run_id r2"


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_a_timeout_names_the_parameter_and_says_the_run_goes_on(run_dag, apify_emulator, deferrable):
    result = run_dag(
        f"""
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~stuck-ready", deferrable={deferrable}, timeout=3)
        """
    )
    assert result.task_states["run"] == "failed"
    [run] = apify_emulator.runs()
    assert run["status"] == "READY"  # not aborted, as the message says
    result.assert_error_shown(f"Timed out waiting for Apify run {run['id']} (last status READY)")
    result.assert_error_shown("The run was not aborted: it goes on, and may be billed")
    result.assert_error_shown("The task's timeout=3 s passed first: raise it for longer runs")
