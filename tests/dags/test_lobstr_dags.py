"""Lobstr.io operators and sensors inside real Airflow (``dag.test()``) against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.lobstr.links import LobstrRunLink
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES
from airflow_provider_tasks.testing.lobstr_state import task_hash as task_hash_of

DEMO = SEED_HASHES["demo-squid"]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_run_squid_then_download_results_downstream(run_dag, lobstr_emulator, tmp_path, deferrable):
    squid = lobstr_emulator.add_squid("crawl", duration_secs=8, results_per_task=15, task_count=2)["id"]
    result = run_dag(
        f"""
        run = LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, deferrable={deferrable}, poll_interval=5)
        results = LobstrResultsOperator(task_id="results", output_path="{tmp_path}/results.csv", format="csv")

        @task
        def count_rows(written):
            with open(written["path"]) as handle:
                return sum(1 for _ in handle) - 1

        run >> results
        count_rows(results.output)
        """
    )
    assert result.state == "success", result.output[-3000:]
    run = result.xcom("run")
    assert run["status"] == "done" and result.xcom("run", "run_id") == run["id"]
    assert result.xcom("run", "total_results") == 30
    assert result.xcom("results")["item_count"] == 30 and result.xcom("count_rows") == 30
    assert result.deferred is deferrable
    assert len(lobstr_emulator.runs(squid)) == 1


def test_failed_run_fails_with_reason_and_dashboard_link(run_dag):
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={SEED_HASHES["failing-squid"]["hash"]!r}, poll_interval=5)\n'
    )
    assert result.task_states["run"] == "failed"
    squid, run_id = SEED_HASHES["failing-squid"]["hash"], result.xcom("run", "run_id")
    link = result.link("run", LobstrRunLink)
    assert link == f"https://app.lobstr.io/squids/{squid}/runs/{run_id}" and link in result.output
    result.assert_error_shown("ended with status error")  # last: may xfail


def test_start_while_active_fails_clearly_unless_reuse_is_asked(run_dag, lobstr_emulator):
    # still going whenever the DAG runs look, however slow the machine: the test never waits for it
    squid = lobstr_emulator.add_squid("busy", duration_secs=3600, results_per_task=1, task_count=1)["id"]
    lobstr_emulator.start_run(squid)
    result = run_dag(f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, poll_interval=5)\n')
    assert result.task_states["run"] == "failed" and "already has an active run" in result.output
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, reuse_active_run=True, '
        "wait_for_termination=False)\n"
    )
    assert result.state == "success", result.output[-3000:]
    runs = lobstr_emulator.runs(squid)
    assert len(runs) == 1 and result.xcom("run", "run_id") == runs[0]["id"]
    assert result.xcom("run", "reused_run") is True and f"Reusing Lobstr.io run {runs[0]['id']}" in result.output


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_task_sensor_follows_a_task_from_pending_to_completed(run_dag, lobstr_emulator, deferrable):
    params = {"url": "https://example.com/watched"}
    squid = lobstr_emulator.add_squid("watched", duration_secs=8, results_per_task=4, tasks=[params], pending_secs=1)
    task_hash = task_hash_of(squid["id"], params)
    result = run_dag(
        f"""
        start = LobstrRunSquidOperator(task_id="start", squid_id={squid["id"]!r}, wait_for_termination=False)
        wait = LobstrTaskSensor(task_id="wait", task_hash={task_hash!r}, poke_interval=5, timeout=60, deferrable={deferrable})
        start >> wait
        """  # noqa: E501 - the DAG's source, kept verbatim
    )
    assert result.state == "success", result.output[-3000:]
    status = result.xcom("wait")
    assert status["status"] == "completed" and status["total_results"] == 4 and status["is_done"] is True


def test_task_sensor_fails_clearly_on_a_failed_task(run_dag):
    task_hash = SEED_HASHES["failing-squid"]["tasks"][0]
    result = run_dag(
        f"""
        start = LobstrRunSquidOperator(task_id="start", squid_id={SEED_HASHES["failing-squid"]["hash"]!r}, wait_for_termination=False)
        wait = LobstrTaskSensor(task_id="wait", task_hash={task_hash!r}, poke_interval=5, timeout=60)
        start >> wait
        """  # noqa: E501 - the DAG's source, kept verbatim
    )
    assert result.task_states["wait"] == "failed"
    result.assert_error_shown(f"run {task_hash} ended with status failed")


@pytest.mark.parametrize(("on_aborted", "state"), [("fail", "failed"), ("succeed", "success"), ("skip", "skipped")])
def test_aborted_task_follows_on_aborted(run_dag, lobstr_emulator, on_aborted, state):
    squid = SEED_HASHES["slow-squid"]
    run = lobstr_emulator.start_run(squid["hash"])
    lobstr_emulator.abort_run(run["id"])
    result = run_dag(
        f'LobstrTaskSensor(task_id="wait", task_hash={squid["tasks"][0]!r}, on_aborted={on_aborted!r}, '
        'poke_interval=5, timeout=60)\n'
    )
    assert result.task_states["wait"] == state, result.output[-3000:]


def test_run_sensor_and_unknown_task_and_bad_key(run_dag, lobstr_emulator):
    result = run_dag(
        f"""
        start = LobstrRunSquidOperator(task_id="start", squid_id={DEMO["hash"]!r}, wait_for_termination=False)
        wait = LobstrRunSensor(task_id="wait", run_id="{{{{ ti.xcom_pull(task_ids='start', key='run_id') }}}}", poke_interval=5, timeout=60)
        start >> wait
        """  # noqa: E501 - the DAG's source, kept verbatim
    )
    assert result.state == "success" and result.xcom("wait")["status"] == "done"

    result = run_dag(f'LobstrTaskSensor(task_id="wait", task_hash={"f" * 32!r}, poke_interval=5, timeout=30)\n')
    assert result.task_states["wait"] == "failed" and f"task '{'f' * 32}'" in result.output and "404" in result.output

    lobstr_emulator.revoke_token(lobstr_emulator.token)
    result = run_dag(f'LobstrRunSquidOperator(task_id="run", squid_id={DEMO["hash"]!r})\n')
    assert (
        result.task_states["run"] == "failed"
        and "401" in result.output
        and lobstr_emulator.token not in result.output_for_secrets
    )


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_max_credits_aborts_the_run_and_fails_saying_what_was_spent(run_dag, lobstr_emulator, deferrable):
    """One credit per result: 300 results over 60 s pass 3 credits within seconds."""
    squid = lobstr_emulator.add_squid("costly", duration_secs=60, results_per_task=300, task_count=1)["id"]
    result = run_dag(
        f"""
        LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, max_credits=3, poll_interval=5, deferrable={deferrable})
        """  # noqa: E501 - the DAG's source, kept verbatim
    )
    assert result.task_states["run"] == "failed"
    run = lobstr_emulator.runs(squid)[0]
    assert run["done_reason"] == "aborted" and 3 < run["credit_used"] < 100
    assert result.deferred is deferrable  # no long-poll: the start check is one look, the trigger guards the rest
    assert "past the limit of 3 credits" in result.output and "the run was aborted" in result.output
    result.assert_error_shown("max_credits=3")  # last: may xfail
