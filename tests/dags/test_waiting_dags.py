"""Waiting without hammering (issue 9) inside real Airflow (``dag.test()``) against the emulators.

Status requests for one short run stay few whatever ``poll_interval``/``poke_interval`` say, in
every way a task can wait. Measured before the fix through the same emulator counter, for one
10 s Apify run: in-worker operator ``poll_interval=0.5`` 3,394 requests, deferrable operator
``poll_interval=0.5`` 5,293, deferrable sensor ``poke_interval=0.3`` 10,221, poking sensor
``poke_interval=0.3`` 34. After: 2, 2, 2 and 11.
"""

from __future__ import annotations

import math
import os
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.dag_harness import DAG_HEADER

APIFY_STATUS = "GET /v2/actor-runs/{runId}"
START_THEN_WAIT = """
start = ApifyRunTaskOperator(task_id="start", actor_task_id="demo~six", wait_for_termination=False)
wait = ApifyRunSensor(task_id="wait", run_id="{{{{ ti.xcom_pull(task_ids='start', key='run_id') }}}}",
                      poke_interval=0.3, timeout=60, deferrable={deferrable})
start >> wait
"""
WAYS_TO_WAIT = {
    "operator-in-worker": (
        'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~six", deferrable=False, poll_interval=0.5)\n'
    ),
    "operator-deferrable": (
        'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~six", deferrable=True, poll_interval=0.5)\n'
    ),
    "sensor-poke": START_THEN_WAIT.format(deferrable=False),
    "sensor-deferrable": START_THEN_WAIT.format(deferrable=True),
}


@pytest.mark.parametrize("way", list(WAYS_TO_WAIT))
def test_a_short_run_is_asked_about_a_few_times_however_the_task_waits(run_dag, apify_emulator, way):
    apify_emulator.add_task("six", duration_secs=6)
    result = run_dag(WAYS_TO_WAIT[way])
    assert result.state == "success", result.output[-3000:]
    assert apify_emulator.stats()["by_route"].get(APIFY_STATUS, 0) <= 6 + 2


# -- statuses the code does not know: keep waiting, then the deadline ----------------------------


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_apify_run_passing_through_an_unknown_status_succeeds(run_dag, apify_emulator, deferrable):
    # RESURRECTING for 7 s: in a worker the first check (5 s) sees it (it used to fail "malformed");
    # deferred, the trigger's long-poll is answered only at the end
    apify_emulator.add_task("resurrects", duration_secs=1, unknown_status="RESURRECTING", unknown_secs=7)
    result = run_dag(f'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~resurrects", deferrable={deferrable})\n')
    assert result.state == "success", result.output[-3000:]
    assert result.xcom("run")["status"] == "SUCCEEDED" and len(apify_emulator.runs()) == 1


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_apify_run_stuck_in_an_unknown_status_ends_as_our_timeout(run_dag, apify_emulator, deferrable):
    apify_emulator.add_task("limbo", unknown_status="RESURRECTING", unknown_secs=math.inf)
    result = run_dag(
        f'ApifyRunTaskOperator(task_id="run", actor_task_id="demo~limbo", deferrable={deferrable}, timeout=8)\n'
    )
    assert result.task_states["run"] == "failed"
    run_id = apify_emulator.runs()[0]["id"]
    assert "which this provider does not know" in result.output
    result.assert_error_shown(f"Timed out waiting for Apify run {run_id} (last status RESURRECTING)")  # last: may xfail


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_lobstr_run_passing_through_an_unknown_status_succeeds(run_dag, lobstr_emulator, deferrable):
    # hibernating from 1 s to 21 s after the start: a trigger's first look (5 s after the deferral, which
    # a loaded machine may delay by seconds) still falls inside it; 6 s was missed under a load of 16
    squid = lobstr_emulator.add_squid(
        "hibernates", duration_secs=2, pause_secs=20, pause_status="hibernating", task_count=1
    )["id"]
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, deferrable={deferrable}, poll_interval=5)\n'
    )
    assert result.state == "success", result.output[-3000:]
    assert result.xcom("run")["status"] == "done"
    assert "reports status 'hibernating', which this provider does not know" in result.output


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_lobstr_run_stuck_in_an_unknown_status_ends_as_our_timeout(run_dag, lobstr_emulator, deferrable):
    squid = lobstr_emulator.add_squid(
        "limbo", duration_secs=1, pause_secs=math.inf, pause_status="hibernating", task_count=1
    )["id"]
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, deferrable={deferrable}, poll_interval=5, '
        'timeout=11)\n'
    )
    assert result.task_states["run"] == "failed"
    run_id = lobstr_emulator.runs(squid)[0]["id"]
    result.assert_error_shown(
        f"Timed out waiting for Lobstr.io run {run_id} (last status hibernating)"
    )  # last: may xfail


# -- bad waiting settings and inputs fail before any run exists ----------------------------------


@pytest.fixture
def parse_errors(apify_conn_env, lobstr_conn_env):
    """``parse_errors(body)``: the import errors real Airflow reports for a DAG file of ``body``."""
    from airflow_provider_tasks.testing.run_example import dag_bag

    def parse(body: str) -> str:
        path = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]) / f"t_{uuid.uuid4().hex[:12]}.py"
        path.write_text(
            DAG_HEADER
            + "with DAG('bad', schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:\n"
            + textwrap.indent(textwrap.dedent(body), "    ")
        )
        try:
            return "\n".join(dag_bag(dag_folder=str(path)).import_errors.values())
        finally:
            path.unlink(missing_ok=True)

    return parse


LOBSTR_SQUID = "1a88c8c8d90d3cbbd068752ec21a9c09"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~succeeds-with-items", timeout=0)',
         "timeout must be a positive number of seconds"),
        ('ApifyRunActorOperator(task_id="run", actor_id="demo~example-actor", timeout=-5)',
         "timeout must be a positive number of seconds"),
        (f'LobstrRunSquidOperator(task_id="run", squid_id="{LOBSTR_SQUID}", timeout=0)',
         "timeout must be a positive number of seconds"),
        ('ApifyRunSensor(task_id="wait", run_id="r1", timeout=0)', "timeout must be a positive number of seconds"),
        ('LobstrRunSensor(task_id="wait", run_id="r1", timeout=0)', "timeout must be a positive number of seconds"),
        (f'LobstrRunSquidOperator(task_id="run", squid_id="{LOBSTR_SQUID}", poll_interval=1)',
         "poll_interval must be a number of seconds >= 5 (Lobstr.io asks"),
        ('LobstrRunSensor(task_id="wait", run_id="r1", poke_interval=2)',
         "poke_interval must be a number of seconds >= 5 (Lobstr.io asks"),
        (f'LobstrTaskSensor(task_id="wait", task_hash="{"f" * 32}", poke_interval=4.9)',
         "poke_interval must be a number of seconds >= 5"),
    ],
    ids=["apify-task-0", "apify-actor-negative", "lobstr-0", "apify-sensor-0", "lobstr-sensor-0",
         "lobstr-poll-1", "lobstr-run-sensor-poke-2", "lobstr-task-sensor-poke-4.9"],
)
def test_bad_waiting_settings_are_rejected_when_the_dag_is_parsed(
    parse_errors, apify_emulator, lobstr_emulator, body, message
):
    assert message in parse_errors(body)
    assert apify_emulator.runs() == [] and lobstr_emulator.runs() == []


@pytest.mark.parametrize(
    ("run_input", "path"),
    [
        ('{"maxDepth": float("nan")}', "run_input.maxDepth"),
        ('{"pages": [{"depth": 1}, {"depth": float("inf")}]}', "run_input.pages[1].depth"),
        ('{"filters": {"price": {"max": -float("inf")}}}', "run_input.filters.price.max"),
    ],
)
def test_non_finite_numbers_in_run_input_are_rejected_naming_the_field(parse_errors, apify_emulator, run_input, path):
    errors = parse_errors(f'ApifyRunActorOperator(task_id="run", actor_id="demo~example-actor", run_input={run_input})')
    assert f"{path} must be a finite number (JSON has no NaN or Infinity)" in errors
    assert apify_emulator.runs() == []
