"""The remote run's own log in the Airflow task log, through real Airflow (``dag.test()``) against
the emulator: the last lines of a failed or timed-out run, and the log streamed while a worker waits.

The task log is what ``dag.test()`` prints: each remote line carries the ``[Apify run <id>] ``
prefix, and the header names the run and its console page.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from airflow_provider_tasks.testing.run_example import dag_bag
from tests.dag_harness import _reopen_closed_log_streams

PREFIX = "[Apify run "
EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_apify_run_log.py"


ECHO = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] ")
"""Under ``dag.test()`` Airflow 2.11 and 3.0 print each task-log record twice: as the task log
(``[…T…+0000] {file:line} …``) and through a console handler in this format. Counted once."""


def task_log(output: str) -> str:
    """What ``dag.test()`` printed of the task log, each record once on every Airflow line."""
    return "\n".join(line for line in output.splitlines() if not ECHO.match(line))


def run_lines(output: str) -> list[str]:
    """The task log's lines that came from the remote run's log, without Airflow's own decoration
    (timestamp and level before the prefix, the logger's name after the line)."""
    lines = []
    for line in task_log(output).splitlines():
        if PREFIX in line:
            line = line[line.index(PREFIX) :]
            lines.append(line.split(" [airflow.task")[0].rstrip())
    return lines


def message(line: str) -> str:
    """A remote line without its prefix and its remote timestamp."""
    return line.split("] ", 1)[1].split(" ", 1)[1]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_a_failed_run_puts_its_last_50_lines_into_the_task_log(run_dag, apify_emulator, deferrable):
    apify_emulator.add_task(
        "breaks", duration_secs=2, outcome="FAILED", status_message="Actor failed: the site changed", log_lines=80
    )
    result = run_dag(f'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~breaks", deferrable={deferrable})\n')
    assert result.task_states["run"] == "failed"
    run_id = apify_emulator.runs()[0]["id"]
    header = f"Last 50 lines of Apify run {run_id} log (https://console.apify.com/actors/runs/{run_id}):"
    assert header in result.output
    lines = run_lines(result.output)
    assert len(lines) == 50 and all(line.startswith(f"[Apify run {run_id}] ") for line in lines)
    assert [message(line) for line in lines[:1] + lines[-2:]] == [
        "INFO  Progress: 33/80 requests handled",  # 80 progress lines and 2 final ones: the last 50
        "ERROR Actor failed: the site changed",
        "ACTOR: Actor exited with code 1.",
    ]
    assert result.output.index(header) < result.output.index("RunFailedError")  # before the failure
    assert result.deferred is deferrable
    result.assert_error_shown("ended with status FAILED: Actor failed: the site changed")  # last: may xfail


def test_log_tail_lines_sets_how_many_and_0_puts_none(run_dag, apify_emulator):
    apify_emulator.add_task("breaks", duration_secs=1, outcome="FAILED", log_lines=20)
    result = run_dag(
        """
        ApifyRunTaskOperator(task_id="five", actor_task_id="demo~breaks", log_tail_lines=5)
        ApifyRunTaskOperator(task_id="none", actor_task_id="demo~breaks", log_tail_lines=0)
        """
    )
    assert result.task_states == {"five": "failed", "none": "failed"}
    runs = {run["id"] for run in apify_emulator.runs()}
    shown = {line.split("] ")[0][len(PREFIX) :] for line in run_lines(result.output)}
    assert len(runs) == 2 and len(shown) == 1  # one run's lines, the other's none
    assert len(run_lines(result.output)) == 5 and task_log(result.output).count("Last 5 lines of Apify run") == 1
    assert "Last 50 lines" not in result.output and "Actor failed: example failure" in result.output


def test_the_token_never_shows_in_the_lines(run_dag, apify_emulator):
    apify_emulator.add_task("echoes", duration_secs=1, outcome="FAILED")
    token = apify_emulator.token
    result = run_dag(
        f"""
        ApifyRunTaskOperator(task_id="run", actor_task_id="demo~echoes", run_input={{"apiToken": {token!r}}})
        """
    )
    lines = run_lines(result.output)
    inputs = [line for line in lines if "INFO  Input: " in line]
    assert len(inputs) == 1 and inputs[0].endswith('"apiToken":"***"}')  # the run logged its input
    assert not any(token in line for line in lines)


def test_our_timeout_puts_the_lines_written_so_far_into_the_task_log(run_dag, apify_emulator):
    apify_emulator.add_task("endless", duration_secs=3600, log_lines=3600)
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~endless", deferrable=True, timeout=5)\n')
    assert result.task_states["run"] == "failed"
    run_id = apify_emulator.runs()[0]["id"]
    assert f"lines of Apify run {run_id} log (https://console.apify.com/actors/runs/{run_id}):" in result.output
    lines = [message(line) for line in run_lines(result.output)]
    assert "ACTOR: Starting Docker container." in lines and "INFO  Progress: 1/3600 requests handled" in lines
    result.assert_error_shown("Timed out waiting for Apify run")  # last: may xfail


def test_a_log_that_cannot_be_fetched_is_a_warning_and_the_run_failure_stands(run_dag, apify_emulator):
    apify_emulator.faults.add("status", status=403, count=None, path="/v2/logs/")
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~fails")\n')
    assert result.task_states["run"] == "failed"
    assert "Could not fetch the log of Apify run" in result.output and "403" in result.output
    assert run_lines(result.output) == []
    result.assert_error_shown("ended with status FAILED: Actor failed: example failure")  # last: may xfail


@pytest.mark.parametrize("ready_secs", [0, 3], ids=["running-at-once", "waits-to-start"])
def test_stream_log_copies_the_log_while_the_worker_waits(run_dag, apify_emulator, ready_secs):
    # a run still READY has logged nothing: Apify answers its stream empty, and it is asked again
    apify_emulator.add_task("crawl", duration_secs=4, log_lines=3, item_count=5, ready_secs=ready_secs)
    result = run_dag(
        'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~crawl", deferrable=False, stream_log=True)\n'
    )
    assert result.task_states["run"] == "success", result.output[-3000:]
    run_id = apify_emulator.runs()[0]["id"]
    assert f"Following the log of Apify run {run_id} as it is written (stream_log=True)" in result.output
    whole_log = [line.split(" ", 1)[1] for line in apify_emulator_log(apify_emulator, run_id)]
    assert [message(line) for line in run_lines(result.output)] == whole_log  # every line, once, in order
    assert whole_log[-2] == "INFO  Crawl finished: 5 items stored."
    ended = result.output.index(f"Apify run {run_id} ended SUCCEEDED")
    assert result.output.index("Actor finished successfully") < ended  # all in before the task goes on


def test_stream_log_has_no_effect_when_deferrable(run_dag, apify_emulator):
    result = run_dag(
        'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~succeeds-with-items", deferrable=True, '
        "stream_log=True)\n"
    )
    assert result.task_states["run"] == "success" and result.deferred
    assert run_lines(result.output) == [] and "Following the log" not in result.output


def test_the_example_dag_streams_the_run_log(airflow_db, apify_conn_env, apify_emulator, capfd):
    """``example_dags/example_apify_run_log.py``, whose snippet the docs show, run as it is."""
    copy = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / EXAMPLE.name
    shutil.copyfile(EXAMPLE, copy)
    try:
        dag = dag_bag(dag_folder=str(copy)).get_dag("example_apify_run_log")
        _reopen_closed_log_streams()
        state = str(dag.test().state)
    finally:
        copy.unlink()
    output = "".join(capfd.readouterr())
    assert state == "success", output[-3000:]
    (run,) = apify_emulator.runs()
    assert f"Following the log of Apify run {run['id']}" in output
    assert [message(line) for line in run_lines(output)][-1] == "ACTOR: Actor finished successfully (exit code 0)."


def apify_emulator_log(apify_emulator, run_id: str) -> list[str]:
    """The run's whole log, as the API serves it."""
    import requests

    response = requests.get(
        f"{apify_emulator.base_url}/v2/logs/{run_id}",
        headers={"Authorization": f"Bearer {apify_emulator.token}"},
        timeout=30,
    )
    return response.text.splitlines()
