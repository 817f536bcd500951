"""ApifyRunTaskOperator on a real Airflow 3: api-server, scheduler (LocalExecutor), dag-processor
and triggerer as separate processes, driven through the REST API, against the emulator process.

Every case creates its own emulator task (so it counts only its own remote runs) and passes it
to the DAG run in ``conf``. Waits are deadline-bounded polls of Airflow's or the emulator's state.
"""

from __future__ import annotations

import time
import uuid

import pytest

from airflow_provider_tasks.common.compat import AIRFLOW_V_3_1_PLUS, TRIGGER_ON_KILL
from tests.integration.harness import AirflowApi, AirflowCluster, EmulatorControl, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ABORT_STATUSES = {"ABORTING", "ABORTED"}
#: A DAG run of one Apify task of N seconds needs about N s plus a few task starts; on a busy
#: 2-core machine a task start alone can take 10 s or more. Generous deadlines, never sleeps.
RUN_DEADLINE = 240.0


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _only(items: list, what: str):
    assert len(items) == 1, f"expected exactly one {what}, got {len(items)}: {items}"
    return items[0]


def _trigger_logs(cluster: AirflowCluster, dag_id: str, run_id: str, task_id: str) -> dict[str, str]:
    """The trigger logs of a task: ``attempt=N.log.trigger.<triggerer job id>.log``, one per
    triggerer that ran its trigger, keyed by ``"<try>/<job id>"``.

    (The REST API cannot tell which triggerer holds a trigger: the TI's ``triggerer_job`` field
    is really ``queued_by_job``, and the trigger's ``triggerer_id`` is not exposed.)
    """
    folder = cluster.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    logs = {}
    for path in folder.glob("attempt=*.log.trigger.*.log"):
        attempt = path.name.split(".", 1)[0].removeprefix("attempt=")
        logs[f"{attempt}/{path.name.rsplit('.', 2)[-2]}"] = path.read_text(errors="replace")
    return logs


def _trigger_log_line(cluster: AirflowCluster, dag_id: str, run_id: str, task_id: str, text: str) -> bool:
    """Whether any trigger log of this task contains ``text``."""
    return any(text in log for log in _trigger_logs(cluster, dag_id, run_id, task_id).values())


def _task_log(cluster: AirflowCluster, dag_id: str, run_id: str, task_id: str, attempt: int) -> str:
    """The worker log of one try of a task ('' while there is none)."""
    path = (
        cluster.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        / f"attempt={attempt}.log"
    )
    return path.read_text(errors="replace") if path.exists() else ""


def _lost_to_airflow_30(cluster: AirflowCluster, dag_id: str, run_id: str, task_id: str) -> bool:
    """Whether Airflow 3.0 itself killed the resumed task ("TI is already running elsewhere": 3.0
    under load can start a resumed task twice and kill both; seen on a busy 2-core machine, never
    on 3.1+). Such a task's DAG run is reported, not failed; what the provider owns (the remote
    run) is still asserted."""
    return not AIRFLOW_V_3_1_PLUS and "TI is already running elsewhere" in _task_log(
        cluster, dag_id, run_id, task_id, 1
    )


def _triggers_started(cluster: AirflowCluster, dag_id: str, run_id: str, task_id: str) -> set[str]:
    """The ``"<try>/<triggerer job id>"`` keys of the triggerers that started this task's trigger."""
    return {key for key, log in _trigger_logs(cluster, dag_id, run_id, task_id).items() if " starting" in log}


def test_deferred_while_remote_run_is_running_and_xcom_run_id(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    """Case 1: the task waits DEFERRED (no worker slot) while the remote run is RUNNING, then
    succeeds; XCom ``run_id`` is the emulator run's id and exactly one run was started."""
    task = emulator.add_task(f"it-single-{_uid()}", duration_secs=25, item_count=5)
    run_id = api.trigger("it_single", {"actor_task": f"demo~{task['name']}"})

    observations: list[tuple[str | None, str | None]] = []

    def deferred_while_running():
        ti = api.task_instances("it_single", run_id).get("run")
        runs = emulator.runs_of(task)
        state = ti and ti["state"]
        status = runs[0]["status"] if runs else None
        observations.append((state, status))
        if state == "deferred" and status == "RUNNING":
            return ti, runs[0], api.pool()
        return None

    ti, remote, pool = wait_for(
        deferred_while_running,
        timeout=RUN_DEADLINE,
        what="the task DEFERRED while its Apify run is RUNNING",
        describe=lambda: f"(task state, run status) seen: {sorted(set(observations), key=str)}",
    )
    # Deferred means the worker slot is free: the pool holds the task as deferred, not running.
    assert pool["running_slots"] == 0, pool
    assert pool["deferred_slots"] >= 1, pool
    assert ti["trigger"] is not None and ti["trigger"]["classpath"].endswith("ApifyRunTrigger"), ti["trigger"]

    dag_run = api.wait_dag_run_state("it_single", run_id, timeout=RUN_DEADLINE)
    states = api.task_states("it_single", run_id)
    assert dag_run["state"] == "success", (dag_run, states)
    assert states == {"run": "success"}
    final_ti = api.task_instances("it_single", run_id)["run"]
    assert final_ti["try_number"] == 1, final_ti

    runs = emulator.runs_of(task)
    started = _only(runs, "remote run")
    assert started["id"] == remote["id"]
    assert started["status"] == "SUCCEEDED", started
    assert api.xcom("it_single", run_id, "run", "run_id") == started["id"]
    assert api.xcom("it_single", run_id, "run", "default_dataset_id") == started["defaultDatasetId"]


@pytest.mark.parametrize("stop", ["sigkill", "sigterm"])
def test_triggerer_restart_finishes_each_run_exactly_once(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl, stop: str
) -> None:
    """Case 2: stop the triggerer while three tasks are deferred and start a new one: the tasks
    finish, each remote run was started once and none was aborted.

    ``sigkill``: SIGKILL to its whole process group (a crash: nothing of the trigger runs).
    ``sigterm``: SIGTERM to the triggerer (a deploy): triggers are cancelled and their
    ``cleanup()`` runs, which must release the HTTP session and never abort the run.
    """
    prefix = f"it-restart-{stop}-{_uid()}"
    letters = ("a", "b", "c")
    tasks = {f"run_{x}": emulator.add_task(f"{prefix}-{x}", duration_secs=45) for x in letters}
    run_id = api.trigger("it_parallel", {"actor_task_prefix": f"demo~{prefix}"})

    def all_running_in_triggerer():
        tis = api.task_instances("it_parallel", run_id)
        if set(tis) != set(tasks) or any(ti["state"] != "deferred" for ti in tis.values()):
            return None
        started = {task_id: _triggers_started(airflow_cluster, "it_parallel", run_id, task_id) for task_id in tasks}
        return started if all(started.values()) else None

    started_before = wait_for(
        all_running_in_triggerer,
        timeout=RUN_DEADLINE,
        what="three deferred tasks whose triggers run in the triggerer",
        describe=lambda: f"tasks: {api.task_states('it_parallel', run_id)}",
    )
    statuses = {task_id: _only(emulator.runs_of(task), "run")["status"] for task_id, task in tasks.items()}
    assert set(statuses.values()) == {"RUNNING"}, f"runs should still be running at the kill: {statuses}"

    old = airflow_cluster.services["triggerer"]
    killed_at = time.monotonic()
    if stop == "sigkill":
        old.kill_hard()
    else:
        old.terminate_leader()
    wait_for(lambda: not old.group_members(), timeout=30, interval=0.5, what="the triggerer's processes to die")
    assert not old.alive()

    airflow_cluster.start_service("triggerer")

    def adopted_or_done():
        """Each task either finished or has its trigger started by another triggerer job."""
        states = api.task_states("it_parallel", run_id)
        for task_id in tasks:
            if states.get(task_id) == "success":
                continue
            if states.get(task_id) != "deferred":
                return None
            if not _triggers_started(airflow_cluster, "it_parallel", run_id, task_id) - started_before[task_id]:
                return None
        return states

    wait_for(
        adopted_or_done,
        timeout=RUN_DEADLINE,
        what="the new triggerer to adopt the deferred tasks",
        describe=lambda: f"tasks: {api.task_states('it_parallel', run_id)}, trigger logs: "
        + repr({t: sorted(_trigger_logs(airflow_cluster, 'it_parallel', run_id, t)) for t in tasks}),
    )
    adopted_after = time.monotonic() - killed_at

    dag_run = api.wait_dag_run_state("it_parallel", run_id, timeout=RUN_DEADLINE)
    states = api.task_states("it_parallel", run_id)
    lost = {
        t
        for t, state in states.items()
        if state != "success" and _lost_to_airflow_30(airflow_cluster, "it_parallel", run_id, t)
    }
    if lost:
        print(f"Airflow 3.0 killed the resumed tasks {sorted(lost)} as 'running elsewhere'")
    else:
        assert dag_run["state"] == "success", (dag_run, states)
    assert {t: s for t, s in states.items() if t not in lost} == {t: "success" for t in tasks if t not in lost}

    for task_id, task in tasks.items():
        runs = emulator.runs_of(task)
        started = _only(runs, f"remote run for {task_id}")
        assert started["status"] == "SUCCEEDED", started  # not ABORTED by cleanup()
        assert api.xcom("it_parallel", run_id, task_id, "run_id") == started["id"]
        ti = api.task_instances("it_parallel", run_id)[task_id]
        assert ti["try_number"] == 1, ti
        assert not _trigger_log_line(airflow_cluster, "it_parallel", run_id, task_id, "invoking on_kill"), (
            f"on_kill ran for {task_id}"
        )
        assert len(_triggers_started(airflow_cluster, "it_parallel", run_id, task_id)) == 2, "one per triggerer"
        logs = _trigger_logs(airflow_cluster, "it_parallel", run_id, task_id)
        old_logs = [logs[key] for key in started_before[task_id]]
        # On SIGTERM the old triggerer cancels the trigger and runs its cleanup(): the run's status
        # above is the evidence that cleanup() aborted nothing. Whether the triggerer's own
        # "trigger completed" line reaches the log before it exits is Airflow's business (3.3 writes
        # it, but a busy machine has seen it cut off; 3.0 never writes it), so it is only counted.
        if stop == "sigterm":
            completed = sum("trigger completed" in log for log in old_logs)
            print(f"[sigterm] {task_id}: {completed}/{len(old_logs)} old trigger logs end with 'trigger completed'")
        else:  # a crash: nothing of the trigger ran after the kill
            assert not any("trigger completed" in log for log in old_logs), old_logs
    print(f"[{stop}] triggers adopted by the new triggerer {adopted_after:.0f}s after the stop")


def test_marking_a_deferred_task_failed_aborts_the_remote_run(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    """Case 3: "Mark failed" on a deferred task (REST PATCH) aborts the Apify run: from 3.3 the
    triggerer calls the trigger's on_kill; before, the cancelled trigger sees that its task left
    deferral and aborts the run itself."""
    task = emulator.add_task(f"it-kill-{_uid()}", duration_secs=300)
    run_id = api.trigger("it_single", {"actor_task": f"demo~{task['name']}"})

    def trigger_running():
        ti = api.task_instances("it_single", run_id).get("run")
        if not ti or ti["state"] != "deferred":
            return None
        return _triggers_started(airflow_cluster, "it_single", run_id, "run")

    wait_for(
        trigger_running,
        timeout=RUN_DEADLINE,
        what="the trigger running in the triggerer",
        describe=lambda: f"tasks: {api.task_states('it_single', run_id)}",
    )
    remote = _only(emulator.runs_of(task), "remote run")
    assert remote["status"] == "RUNNING", remote

    marked_at = time.monotonic()
    api.mark_task("it_single", run_id, "run", "failed")

    aborted = wait_for(
        lambda: next((r for r in emulator.runs_of(task) if r["status"] in ABORT_STATUSES), None),
        timeout=90,
        what="the Apify run to be aborted after marking the task failed",
        describe=lambda: f"runs: {[(r['id'], r['status']) for r in emulator.runs_of(task)]}",
    )
    abort_latency = time.monotonic() - marked_at
    assert aborted["id"] == remote["id"]
    said = "invoking on_kill" if TRIGGER_ON_KILL else "left deferral (now failed): aborting run"
    wait_for(
        lambda: _trigger_log_line(airflow_cluster, "it_single", run_id, "run", said),
        timeout=60,
        what=f"the trigger log to say {said!r}",
    )

    dag_run = api.wait_dag_run_state("it_single", run_id, timeout=RUN_DEADLINE)
    assert dag_run["state"] == "failed", dag_run
    assert api.task_states("it_single", run_id) == {"run": "failed"}
    assert len(emulator.runs_of(task)) == 1, "marking failed must not start another run"
    print(f"run aborted {abort_latency:.1f}s after 'mark failed'")


def test_clearing_a_deferred_task_never_leaves_two_runs(
    airflow_cluster: AirflowCluster, api: AirflowApi, emulator: EmulatorControl
) -> None:
    """Case 3b: clearing a deferred task aborts its Apify run (on_kill from 3.3; before, the
    cancelled trigger sees its task left deferral) and the cleared task, since that run was
    aborted, starts a fresh one: one run is going at a time and none is left behind."""
    task = emulator.add_task(f"it-clear-{_uid()}", duration_secs=25)
    run_id = api.trigger("it_single", {"actor_task": f"demo~{task['name']}"})

    def trigger_running():
        ti = api.task_instances("it_single", run_id).get("run")
        if not ti or ti["state"] != "deferred":
            return None
        return _triggers_started(airflow_cluster, "it_single", run_id, "run")

    wait_for(trigger_running, timeout=RUN_DEADLINE, what="the trigger running in the triggerer")
    first = _only(emulator.runs_of(task), "remote run")
    assert first["status"] == "RUNNING", first

    api.request(
        "POST",
        "/dags/it_single/clearTaskInstances",
        json={"dry_run": False, "dag_run_id": run_id, "task_ids": ["run"], "only_failed": False},
    )
    wait_for(
        lambda: next(
            (r for r in emulator.runs_of(task) if r["id"] == first["id"] and r["status"] in ABORT_STATUSES), None
        ),
        timeout=90,
        what="the first Apify run to be aborted after clearing the task",
        describe=lambda: f"runs: {[(r['id'], r['status']) for r in emulator.runs_of(task)]}",
    )

    dag_run = api.wait_dag_run_state("it_single", run_id, timeout=RUN_DEADLINE)
    ti = api.task_instances("it_single", run_id)["run"]
    runs = emulator.runs_of(task)
    assert dag_run["state"] == "success", (dag_run, ti["state"], [(r["id"], r["status"]) for r in runs])
    assert ti["try_number"] == 2, ti
    assert len(runs) == 2, [(r["id"], r["status"]) for r in runs]
    second = next(r for r in runs if r["id"] != first["id"])
    assert second["status"] == "SUCCEEDED", second
    assert api.xcom("it_single", run_id, "run", "run_id") == second["id"]


def test_no_service_died(airflow_cluster: AirflowCluster) -> None:
    """The services stayed up through the suite (the triggerer restarted by case 2 included)."""
    airflow_cluster.check_alive()
