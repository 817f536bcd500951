"""Apify operators, sensor and dataset step inside real Airflow (``dag.test()``) against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.apify.links import ApifyRunLink
from airflow_provider_tasks.common.compat import TASK_STATE_STORE
from tests.dag_harness import runs_end_once_followed

LONG_RUN = 3600
"""Seconds a run lasts when a later task or try must find it still going: the test ends it."""


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_run_task_then_stream_its_dataset_downstream(run_dag, apify_emulator, tmp_path, deferrable):
    apify_emulator.add_task("crawl", duration_secs=8, item_count=40)
    out = tmp_path / "items.jsonl"
    result = run_dag(
        f"""
        run = ApifyRunTaskOperator(task_id="run", actor_task_id="demo~crawl", deferrable={deferrable},
                                   run_input={{"startUrls": [{{"url": "https://example.com"}}]}}, memory_mbytes=512)
        items = ApifyDatasetItemsOperator(task_id="items", output_path={str(out)!r})

        @task
        def count_lines(written):
            with open(written["path"]) as handle:
                return sum(1 for _ in handle)

        run >> items
        count_lines(items.output)
        """
    )
    assert result.state == "success", result.output[-3000:]
    run_id = result.xcom("run", "run_id")
    run = result.xcom("run")
    assert run["id"] == run_id and run["status"] == "SUCCEEDED"
    assert result.xcom("run", "default_dataset_id") == run["defaultDatasetId"]
    assert result.xcom("run", "default_key_value_store_id") == run["defaultKeyValueStoreId"]
    assert result.xcom("items")["item_count"] == 40 and result.xcom("items")["dataset_id"] == run["defaultDatasetId"]
    assert result.xcom("count_lines") == 40
    assert len(apify_emulator.runs()) == 1 and apify_emulator.runs()[0]["options"]["memoryMbytes"] == 512
    assert result.deferred is deferrable


@pytest.mark.parametrize(
    "found_by",
    [
        pytest.param(
            "state store",
            marks=pytest.mark.skipif(not TASK_STATE_STORE, reason="task_state_store is Airflow 3.3+"),
        ),
        "start marker",
    ],
)
def test_a_retry_after_a_crash_reconnects_to_the_run_instead_of_starting_another(run_dag, apify_emulator, found_by):
    """Every line: the run carries the task instance's marker, so the retry finds it even without
    Airflow 3.3's task_state_store (the "start marker" case hides the store on 3.3 too)."""
    # the run outlasts the test, and the retry reconnects to it without waiting for its end
    apify_emulator.add_task("crash", duration_secs=LONG_RUN, item_count=2)
    result = run_dag(
        f"""
        from datetime import timedelta

        class CrashAfterStart(ApifyRunTaskOperator):
            \"\"\"Dies like a killed worker right after the run was started, on the first try only.\"\"\"

            def _publish(self, context, run):
                super()._publish(context, run)
                if context["ti"].try_number == 1:
                    raise SystemExit("worker lost")

            def task_state_store(self, context):
                return super().task_state_store(context) if {found_by == "state store"} else None

        CrashAfterStart(task_id="run", actor_task_id="demo~crash", retries=1, retry_delay=timedelta(0),
                        wait_for_termination=False)
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert "Reconnected to run" in result.output
    assert len(apify_emulator.runs()) == 1
    if found_by == "start marker":
        assert "started by an earlier try of this task instance" in result.output


def test_a_short_run_defers_at_once_and_its_trigger_finishes_it(run_dag, apify_emulator):
    # No status request holds the worker before the deferral (issue 12): a run that ends within a
    # second is heard by the trigger, whose event waits out the fast-trigger guard (fire_not_before).
    apify_emulator.add_task("instant", duration_secs=1)
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~instant", deferrable=True)\n')
    assert result.state == "success", result.output[-3000:]
    assert result.deferred
    assert result.xcom("run")["status"] == "SUCCEEDED"
    assert apify_emulator.stats()["by_route"].get("GET /v2/actor-runs/{runId}", 0) == 1  # one long-poll, by the trigger


def test_a_short_run_in_a_worker_finishes_without_deferring(run_dag, apify_emulator):
    apify_emulator.add_task("instant", duration_secs=1)
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~instant", deferrable=False)\n')
    assert result.state == "success"
    assert not result.deferred


def test_failed_run_fails_the_task_with_status_message_and_console_link(run_dag):
    result = run_dag(
        """
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~fails", deferrable=True)
        """
    )
    assert result.state == "failed"
    assert result.task_states["run"] == "failed"
    link = result.link("run", ApifyRunLink)
    assert link == f"https://console.apify.com/actors/runs/{result.xcom('run', 'run_id')}" and link in result.output
    result.assert_error_shown("ended with status FAILED: Actor failed: example failure")  # last: may xfail


def test_a_task_that_failed_before_any_run_has_a_quiet_empty_link(run_dag, apify_emulator):
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~no-such-task", deferrable=True)\n')
    assert result.task_states["run"] == "failed" and "404" in result.output
    assert result.link("run", ApifyRunLink) == ""
    assert "XCom not found" not in result.output
    assert apify_emulator.runs() == []


def test_our_timeout_fails_the_task_and_says_so(run_dag):
    result = run_dag(
        """
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~stuck-ready", deferrable=True, timeout=8)
        """
    )
    assert result.task_states["run"] == "failed"
    assert "Timed out waiting for Apify run" in result.output and "READY" in result.output


def test_timed_out_run_fails_the_task(run_dag):
    result = run_dag(
        """
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~times-out", deferrable=False)
        """
    )
    assert result.task_states["run"] == "failed" and "TIMED-OUT" in result.output


def test_actor_operator_without_waiting_returns_right_after_the_start(run_dag, apify_emulator):
    result = run_dag(
        """
        ApifyRunActorOperator(task_id="start", actor_id="demo~example-actor", run_input={"q": 1},
                              wait_for_termination=False)
        """
    )
    assert result.state == "success"
    assert result.xcom("start")["status"] in ("READY", "RUNNING")
    assert [run["id"] for run in apify_emulator.runs()] == [result.xcom("start", "run_id")]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_sensor_follows_a_run_started_elsewhere(run_dag, apify_emulator, deferrable):
    apify_emulator.add_task("elsewhere", duration_secs=7, item_count=3)
    result = run_dag(
        f"""
        start = ApifyRunTaskOperator(task_id="start", actor_task_id="demo~elsewhere", wait_for_termination=False)
        wait = ApifyRunSensor(task_id="wait", run_id="{{{{ ti.xcom_pull(task_ids='start', key='run_id') }}}}",
                              deferrable={deferrable}, poke_interval=1, timeout=60)
        start >> wait
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert result.xcom("wait")["status"] == "SUCCEEDED"
    assert result.xcom("wait")["id"] == result.xcom("start", "run_id")


def test_sensor_fails_on_a_failed_run(run_dag):
    result = run_dag(
        """
        start = ApifyRunTaskOperator(task_id="start", actor_task_id="demo~fails", wait_for_termination=False)
        wait = ApifyRunSensor(task_id="wait", run_id="{{ ti.xcom_pull(task_ids='start', key='run_id') }}",
                              poke_interval=1, timeout=60)
        start >> wait
        """
    )
    assert result.task_states["wait"] == "failed" and "FAILED" in result.output


def test_templated_options_and_csv_dataset(run_dag, apify_emulator, tmp_path):
    apify_emulator.add_task("templated", duration_secs=1, item_count=5)
    result = run_dag(
        f"""
        run = ApifyRunTaskOperator(task_id="run", actor_task_id="{{{{ params.task }}}}", memory_mbytes="{{{{ params.memory }}}}")
        items = ApifyDatasetItemsOperator(task_id="items", format="csv",
                                          dataset_id="{{{{ ti.xcom_pull(task_ids='run', key='default_dataset_id') }}}}",
                                          output_path="{tmp_path}/{{{{ params.task }}}}.csv")
        run >> items
        """,  # noqa: E501 - the DAG's source, kept verbatim
        params={"task": "demo~templated", "memory": "1024"},
    )
    assert result.state == "success", result.output[-3000:]
    assert apify_emulator.runs()[0]["options"]["memoryMbytes"] == 1024
    lines = (tmp_path / "demo~templated.csv").read_text().splitlines()
    assert len(lines) == 6 and "url" in lines[0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('actor_task_id="demo~succeeds-with-items", memory_mbytes=100',
         "memory_mbytes must be a power of 2 between 128 and 32768"),
        ('actor_task_id="", memory_mbytes=256', "actor_task_id must be a non-empty string"),
        ('actor_task_id="demo~succeeds-with-items", run_input=["not", "an", "object"]',
         "run_input must be a JSON object"),
        ('actor_task_id="demo~succeeds-with-items", timeout_secs=-5', "timeout_secs must be a number >= 0"),
    ],
)
def test_bad_input_fails_before_any_run_is_started(run_dag, apify_emulator, arguments, message):
    result = run_dag(f'ApifyRunTaskOperator(task_id="run", {arguments})\n')
    assert result.task_states["run"] == "failed"
    assert message in result.output
    assert apify_emulator.runs() == []


def test_unknown_task_and_bad_token_are_named(run_dag, apify_emulator, monkeypatch):
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~does-not-exist")\n')
    assert result.task_states["run"] == "failed"
    assert "404 record-not-found" in result.output and "Actor task 'demo~does-not-exist'" in result.output

    apify_emulator.revoke_token(apify_emulator.token)
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~succeeds-with-items")\n')
    assert result.task_states["run"] == "failed"
    assert "401" in result.output and "token is missing or invalid" in result.output
    assert apify_emulator.token not in result.output_for_secrets


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_reuse_existing_run_follows_the_run_already_going(run_dag, apify_emulator, deferrable):
    apify_emulator.add_task("shared", duration_secs=LONG_RUN, item_count=3)
    with runs_end_once_followed(apify_emulator, LONG_RUN):  # after the second task found it
        result = run_dag(
            f"""
            first = ApifyRunTaskOperator(task_id="first", actor_task_id="demo~shared", wait_for_termination=False)
            second = ApifyRunTaskOperator(task_id="second", actor_task_id="demo~shared", reuse_existing_run=True,
                                          deferrable={deferrable}, memory_mbytes=512)
            first >> second
            """
        )
    assert result.state == "success", result.output[-3000:]
    runs = apify_emulator.runs()
    assert len(runs) == 1 and runs[0]["status"] == "SUCCEEDED"
    assert result.xcom("second", "run_id") == result.xcom("first", "run_id") == runs[0]["id"]
    assert result.xcom("second", "reused_run") is True and result.xcom("first", "reused_run") is False
    assert result.xcom("second", "default_dataset_id") == runs[0]["defaultDatasetId"]
    assert f"Reusing Apify run {runs[0]['id']}" in result.output


def test_reuse_existing_run_starts_a_run_when_none_is_going(run_dag, apify_emulator):
    """A finished run of the Actor is not reused (the list is filtered to READY/RUNNING)."""
    apify_emulator.add_actor("solo", duration_secs=1)
    result = run_dag(
        """
        before = ApifyRunActorOperator(task_id="before", actor_id="demo~solo")
        again = ApifyRunActorOperator(task_id="again", actor_id="demo~solo", reuse_existing_run=True)
        before >> again
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert len(apify_emulator.runs()) == 2
    assert result.xcom("again", "reused_run") is False
    assert result.xcom("again", "run_id") != result.xcom("before", "run_id")


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_max_cost_usd_aborts_the_run_and_fails_saying_what_was_spent(run_dag, apify_emulator, deferrable):
    apify_emulator.add_task("pricey", duration_secs=300, cost_per_second=0.01)
    result = run_dag(
        f"""
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~pricey", max_cost_usd=0.1, poll_interval=2,
                             deferrable={deferrable})
        """
    )
    assert result.task_states["run"] == "failed"
    run = apify_emulator.runs()[0]
    assert run["status"] in ("ABORTING", "ABORTED")
    assert 0.1 < run["usageTotalUsd"] < 0.5  # stopped within a few looks, not after 300 s
    assert result.deferred is deferrable  # deferred at once: the trigger's 2 s looks at the bill stop it
    assert "past the limit of 0.1 USD" in result.output and "the run was aborted" in result.output
    result.assert_error_shown("max_cost_usd=0.1")  # last: may xfail


def test_a_run_within_max_cost_usd_succeeds_and_its_final_cost_is_logged(run_dag, apify_emulator):
    apify_emulator.add_task("cheap", duration_secs=2, cost_per_second=0.01)
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~cheap", max_cost_usd=5)\n')
    assert result.state == "success", result.output[-3000:]
    cost = apify_emulator.runs()[0]["usageTotalUsd"]
    assert cost > 0.01 and f"cost {cost:g} USD" in result.output

