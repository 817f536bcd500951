"""LobstrRunSquidOperator(tasks=[...]) inside real Airflow (``dag.test()``) against the emulator:
inputs added then covered by the run, duplicates counted, replace, bulk upload, bad input, and
retries that do not add the inputs twice nor start a second run."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.compat import TASK_STATE_STORE

URLS = [f"https://example.com/input/{n}" for n in range(4)]
ADD = "POST /v1/tasks"


def added_requests(emulator) -> int:
    return emulator.stats()["by_route"].get(ADD, 0)


def only_run(emulator, squid) -> dict:
    runs = emulator.runs(squid)
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "in-worker"])
def test_inputs_from_an_upstream_task_are_added_and_the_run_covers_them(run_dag, lobstr_emulator, deferrable):
    squid = lobstr_emulator.add_squid("fed", task_count=0, duration_secs=2, results_per_task=3)["id"]
    inputs = [URLS[0], URLS[1], {"keyword": "pizza", "location": "Paris"}]
    result = run_dag(
        f"""
        @task
        def make_inputs():
            return {inputs!r}

        LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, tasks=make_inputs(), deferrable={deferrable},
                               poll_interval=5)
        """
    )
    assert result.state == "success", result.output[-3000:]
    run = only_run(lobstr_emulator, squid)
    assert lobstr_emulator.run_tasks(run["id"]) == [{"url": URLS[0]}, {"url": URLS[1]}, inputs[2]]
    assert result.xcom("run", "total_results") == 9
    assert f"Lobstr.io squid {squid}: added 3 tasks, 0 duplicates skipped" in result.output
    expected = {"sent": 3, "added": 3, "duplicates": 0, "removed": 0, "upload_id": None}
    assert result.xcom("run", "task_inputs") == expected


def test_duplicates_are_skipped_and_counted_in_the_log(run_dag, lobstr_emulator):
    squid = lobstr_emulator.add_squid("dups", tasks=[{"url": URLS[0]}], duration_secs=1, results_per_task=1)["id"]
    result = run_dag(
        f"""
        @task
        def make_inputs():
            return {URLS[:2]!r}

        make = make_inputs()
        run = LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, poll_interval=5,
                                     tasks="{{{{ ti.xcom_pull(task_ids='make_inputs') }}}}")
        make >> run
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert "added 1 task, 1 duplicate skipped" in result.output
    assert lobstr_emulator.run_tasks(only_run(lobstr_emulator, squid)["id"]) == [{"url": URLS[0]}, {"url": URLS[1]}]


def test_replace_tasks_removes_the_squids_other_tasks_so_the_run_covers_only_the_inputs(run_dag, lobstr_emulator):
    squid = lobstr_emulator.add_squid("replaced", task_count=3, duration_secs=1, results_per_task=2)
    kept = squid["name"]  # the seed tasks are https://example.com/replaced/1..3
    result = run_dag(
        f"""
        LobstrRunSquidOperator(task_id="run", squid_id={squid["id"]!r}, poll_interval=5, replace_tasks=True,
                               tasks=["https://example.com/{kept}/2", {URLS[3]!r}])
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert "added 1 task, 1 duplicate skipped; removed 2 earlier tasks not among the inputs" in result.output
    covered = lobstr_emulator.run_tasks(only_run(lobstr_emulator, squid["id"])["id"])
    assert covered == [{"url": f"https://example.com/{kept}/2"}, {"url": URLS[3]}]
    assert result.xcom("run", "total_results") == 4


def test_many_inputs_go_through_a_bulk_upload_followed_to_its_end(run_dag, lobstr_emulator):
    lobstr_emulator.set_uploads(pending_secs=0.5, progress_secs=1)
    squid = lobstr_emulator.add_squid("bulk", task_count=0, duration_secs=1, results_per_task=1)["id"]
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, poll_interval=5, tasks={URLS!r}, '
        "upload_threshold=2)\n"
    )
    assert result.state == "success", result.output[-3000:]
    upload_id = result.xcom("run", "task_inputs")["upload_id"]
    assert f"added 4 tasks, 0 duplicates skipped (bulk upload {upload_id})" in result.output
    assert lobstr_emulator.run_tasks(only_run(lobstr_emulator, squid)["id"]) == [{"url": url} for url in URLS]
    assert added_requests(lobstr_emulator) == 0 and lobstr_emulator.stats()["by_route"]["POST /v1/tasks/upload"] == 1


def test_a_failed_upload_fails_the_task_before_any_run(run_dag, lobstr_emulator):
    lobstr_emulator.set_uploads(pending_secs=0, progress_secs=0.5, failure="The file could not be read")
    squid = lobstr_emulator.add_squid("bulk-fails", task_count=1, duration_secs=1)["id"]
    result = run_dag(
        f'LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, tasks={URLS!r}, upload_threshold=2)\n'
    )
    assert result.task_states["run"] == "failed"
    assert lobstr_emulator.runs(squid) == []
    result.assert_error_shown(
        "ended FAILURE (valid 0, inserted 0, duplicates 0, invalid 0): The file could not be read"
    )


def test_a_bad_rendered_input_fails_naming_it_before_any_call(run_dag, lobstr_emulator):
    squid = lobstr_emulator.add_squid("bad-input", task_count=1)["id"]
    result = run_dag(
        f"""
        LobstrRunSquidOperator(task_id="run", squid_id={squid!r},
                               tasks="{{{{ ['https://example.com/fine', 'example.com/no-scheme'] }}}}")
        """
    )
    assert result.task_states["run"] == "failed"
    assert added_requests(lobstr_emulator) == 0 and lobstr_emulator.runs(squid) == []
    result.assert_error_shown("tasks[1] is not an http(s) URL: 'example.com/no-scheme'")


@pytest.mark.parametrize(
    "store",
    [
        pytest.param(True, marks=pytest.mark.skipif(not TASK_STATE_STORE, reason="task_state_store is Airflow 3.3+")),
        False,
    ],
    ids=["state store", "no store"],
)
def test_a_retry_after_a_crash_once_the_inputs_were_put_does_not_add_them_again(run_dag, lobstr_emulator, store):
    squid = lobstr_emulator.add_squid("crash-inputs", task_count=0, duration_secs=1, results_per_task=2)["id"]
    result = run_dag(
        f"""
        from datetime import timedelta

        class CrashAfterInputs(LobstrRunSquidOperator):
            \"\"\"Dies like a killed worker once the inputs are on the squid, on the first try only.\"\"\"

            def put_inputs(self, hook, context):
                inputs = super().put_inputs(hook, context)
                if context["ti"].try_number == 1:
                    raise SystemExit("worker lost")
                return inputs

            def task_state_store(self, context):
                return super().task_state_store(context) if {store} else None

        CrashAfterInputs(task_id="run", squid_id={squid!r}, tasks={URLS[:2]!r}, retries=1,
                         retry_delay=timedelta(0), poll_interval=5)
        """
    )
    assert result.state == "success", result.output[-3000:]
    only_run(lobstr_emulator, squid)  # the first try died before starting one
    assert [task["params"]["url"] for task in lobstr_emulator.tasks(squid)] == URLS[:2]
    if store:
        assert added_requests(lobstr_emulator) == 1
        assert f"The 2 tasks were put on Lobstr.io squid {squid} by an earlier try" in result.output
    else:  # sent again: Lobstr.io skips every one as a duplicate
        assert added_requests(lobstr_emulator) == 2
        assert "added 0 tasks, 2 duplicates skipped" in result.output


@pytest.mark.skipif(not TASK_STATE_STORE, reason="task_state_store is Airflow 3.3+")
def test_a_retry_after_a_crash_once_the_run_started_reconnects_without_adding(run_dag, lobstr_emulator):
    # the run outlasts the test: the retry reconnects to it and returns (wait_for_termination=False)
    squid = lobstr_emulator.add_squid("crash-run", task_count=0, duration_secs=3600, results_per_task=1)["id"]
    result = run_dag(
        f"""
        from datetime import timedelta

        class CrashAfterStart(LobstrRunSquidOperator):
            def _publish(self, context, run):
                super()._publish(context, run)
                if context["ti"].try_number == 1:
                    raise SystemExit("worker lost")

        CrashAfterStart(task_id="run", squid_id={squid!r}, tasks={URLS[:3]!r}, retries=1,
                        retry_delay=timedelta(0), wait_for_termination=False)
        """
    )
    assert result.state == "success", result.output[-3000:]
    assert "Reconnected to run" in result.output
    run = only_run(lobstr_emulator, squid)
    assert added_requests(lobstr_emulator) == 1
    assert lobstr_emulator.run_tasks(run["id"]) == [{"url": url} for url in URLS[:3]]


def test_a_try_that_failed_drops_its_record_so_the_retry_puts_the_inputs_again(run_dag, lobstr_emulator):
    """Only a crash's retry skips the inputs: after a try that ended (here the start is refused,
    the squid not being ready) the retry sends them again, and Lobstr.io skips them as duplicates."""
    squid = lobstr_emulator.add_squid("not-ready", task_count=0, is_ready=False)["id"]
    result = run_dag(
        f"""
        from datetime import timedelta

        LobstrRunSquidOperator(task_id="run", squid_id={squid!r}, tasks={URLS[:2]!r}, retries=1,
                               retry_delay=timedelta(0))
        """
    )
    assert result.task_states["run"] == "failed"
    assert added_requests(lobstr_emulator) == 2 and lobstr_emulator.runs(squid) == []
    assert "added 2 tasks, 0 duplicates skipped" in result.output
    assert "added 0 tasks, 2 duplicates skipped" in result.output
    assert "by an earlier try" not in result.output
