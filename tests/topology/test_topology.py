"""The provider on a production-shaped Airflow: PostgreSQL, CeleryExecutor on Redis with two
workers, two schedulers, two triggerers (see ``cluster.py``), driven through the REST API against
the Apify and Lobstr.io emulator processes.

Which triggerer ran a trigger is read from the trigger log files
(``.../attempt=N.log.trigger.<triggerer job id>.log``, one file per triggerer job that ran it)
and the job's hostname (``GET /api/v2/jobs``), which the harness makes the service's name. Every
case creates its own emulator tasks or squids and counts only their runs; waits are
deadline-bounded polls, never sleeps.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_tasks.common.compat import TRIGGER_ON_KILL
from airflow_provider_tasks.common.starting import task_instance_marker
from tests.integration.harness import AirflowApi, EmulatorControl, wait_for
from tests.topology.cluster import (
    TASK_HEARTBEAT_TIMEOUT,
    TRIGGERER_HEARTBEAT_TIMEOUT,
    LobstrControl,
    TopologyCluster,
    kill_tree,
)

pytestmark = [pytest.mark.topology, pytest.mark.integration, pytest.mark.timeout(900)]

#: The issue's load: deferrable Apify runs and Lobstr.io runs at once, across both triggerers
#: (``TOPOLOGY_APIFY_RUNS`` / ``TOPOLOGY_LOBSTR_RUNS`` override them for a measurement).
APIFY_RUNS = int(os.environ.get("TOPOLOGY_APIFY_RUNS", "200"))
LOBSTR_RUNS = int(os.environ.get("TOPOLOGY_LOBSTR_RUNS", "20"))
#: Remote runs last this long unless the test ends them by moving the emulator's clock, which it
#: does once it has seen what it waits for (every task deferred, a trigger adopted...).
LONG_RUN_SECS = 3600
#: Deferred tasks while a triggerer is killed.
KILL_RUNS = 10
#: DAG runs of one DAG triggered together.
DAG_RUNS_AT_ONCE = 20
#: Deadlines (generous: a busy 2-core machine), never sleeps.
FANOUT_DEADLINE = 840.0
RUN_DEADLINE = 300.0

ABORT_STATUSES = {"ABORTING", "ABORTED"}


def _uid() -> str:
    return uuid.uuid4().hex[:8]


# -- reading Airflow -------------------------------------------------------------------------------


def mapped_tis(api: AirflowApi, dag_id: str, run_id: str, task_id: str = "run") -> dict[int, dict[str, Any]]:
    """``{map index: task instance}`` of one (mapped) task of a DAG run."""
    data = api.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
    return {ti["map_index"]: ti for ti in data["task_instances"] if ti["task_id"] == task_id}


def mapped_xcom(api: AirflowApi, dag_id: str, run_id: str, map_index: int, key: str, task_id: str = "run") -> Any:
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
    return api.request("GET", path, params={"map_index": map_index})["value"]


def state_counts(api: AirflowApi, dag_id: str, run_id: str) -> Counter[str]:
    return Counter(str(ti["state"]) for ti in mapped_tis(api, dag_id, run_id).values())


def ti_folder(cluster: TopologyCluster, dag_id: str, run_id: str, map_index: int, task_id: str = "run") -> Path:
    folder = cluster.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    return folder / f"map_index={map_index}" if map_index >= 0 else folder


def trigger_logs(cluster: TopologyCluster, folder: Path, attempt: int = 1) -> dict[int, str]:
    """``{triggerer job id: trigger log}`` of one try of a task instance: one per triggerer
    job that ran its trigger."""
    return {
        int(path.name.rsplit(".", 2)[-2]): path.read_text(errors="replace")
        for path in folder.glob(f"attempt={attempt}.log.trigger.*.log")
    }


def started_on(cluster: TopologyCluster, folder: Path) -> set[int]:
    """The triggerer jobs that started this task instance's trigger."""
    return {job for job, log in trigger_logs(cluster, folder).items() if " starting" in log}


def task_log(folder: Path, attempt: int) -> str:
    path = folder / f"attempt={attempt}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def identity(dag_id: str, run_id: str, map_index: int, task_id: str = "run") -> str:
    """The marker the operator puts on every run a task instance starts (its User-Agent)."""
    marker = task_instance_marker(SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index))
    assert marker is not None
    return marker


def abort_requests(control: EmulatorControl) -> int:
    return sum(count for route, count in control.stats()["by_route"].items() if "abort" in route)


def assert_each_started_once(runs: list[dict[str, Any]], dag_id: str, run_id: str, map_indexes: range) -> None:
    """One remote run per task instance, recognised by the marker its start request carried."""
    per_ti = Counter()
    for run in runs:
        user_agent = (run.get("meta") or {}).get("userAgent") or ""
        owners = [i for i in map_indexes if identity(dag_id, run_id, i) in user_agent]
        assert len(owners) == 1, f"run {run['id']} does not belong to exactly one task instance: {user_agent!r}"
        per_ti[owners[0]] += 1
    twice = {i: n for i, n in per_ti.items() if n != 1}
    never = [i for i in map_indexes if i not in per_ti]
    assert not twice and not never, f"runs per task instance other than one: {twice}; no run: {never}"


def wait_all_deferred_in_triggerers(
    cluster: TopologyCluster, api: AirflowApi, dag_id: str, run_id: str, count: int, timeout: float = RUN_DEADLINE
) -> dict[int, set[int]]:
    """Wait until ``count`` mapped tasks are DEFERRED with their triggers started; returns
    ``{map index: triggerer jobs that started it}``."""

    def probe() -> dict[int, set[int]] | None:
        tis = mapped_tis(api, dag_id, run_id)
        if len(tis) != count or any(ti["state"] != "deferred" for ti in tis.values()):
            return None
        started = {i: started_on(cluster, ti_folder(cluster, dag_id, run_id, i)) for i in tis}
        return started if all(started.values()) else None

    return wait_for(
        probe,
        timeout=timeout,
        interval=3.0,
        what=f"{count} deferred tasks of {dag_id} with their triggers running",
        describe=lambda: f"states: {dict(state_counts(api, dag_id, run_id))}",
    )


# -- the cases ---------------------------------------------------------------------------------


def test_many_deferrable_runs_across_both_triggerers(
    airflow_cluster: TopologyCluster, api: AirflowApi, emulator: EmulatorControl, lobstr: LobstrControl, note
) -> None:
    """APIFY_RUNS deferrable Apify runs and LOBSTR_RUNS Lobstr.io runs at once: every task is
    deferred at the same time with its trigger running, the triggers spread over both triggerers;
    then the runs end and all succeed, each remote run was started exactly once, nothing was
    aborted, and no trigger ran on two triggerers (one trigger log, of one triggerer job, per task)."""
    uid = _uid()
    apify_task = emulator.add_task(f"topo-fan-{uid}", duration_secs=LONG_RUN_SECS, item_count=2)
    squids = [lobstr.add_squid(f"topo-fan-{uid}-{i:02d}", duration_secs=LONG_RUN_SECS) for i in range(LOBSTR_RUNS)]
    aborts_before = (abort_requests(emulator), abort_requests(lobstr))
    runs = {
        "topo_apify_fanout": api.trigger(
            "topo_apify_fanout", {"actor_tasks": [f"demo~{apify_task['name']}"] * APIFY_RUNS}
        ),
        "topo_lobstr_fanout": api.trigger("topo_lobstr_fanout", {"squids": [squid["id"] for squid in squids]}),
    }
    counts = {"topo_apify_fanout": APIFY_RUNS, "topo_lobstr_fanout": LOBSTR_RUNS}

    # Every task deferred at once, its trigger running in a triggerer, every remote run still going
    # (the runs only end when the test moves the emulators' clocks).
    started = time.monotonic()
    deadline = started + FANOUT_DEADLINE
    for dag_id, run_id in runs.items():
        wait_all_deferred_in_triggerers(
            airflow_cluster, api, dag_id, run_id, counts[dag_id], timeout=max(deadline - time.monotonic(), 60)
        )
    all_deferred = time.monotonic() - started
    assert Counter(r["status"] for r in emulator.runs_of(apify_task)) == {"RUNNING": APIFY_RUNS}
    assert [len(lobstr.runs(squid["id"])) for squid in squids] == [1] * LOBSTR_RUNS
    holders = airflow_cluster.live_jobs("TriggererJob")
    deferred_on: Counter[str] = Counter()
    for dag_id, run_id in runs.items():
        for map_index in range(counts[dag_id]):
            jobs = started_on(airflow_cluster, ti_folder(airflow_cluster, dag_id, run_id, map_index))
            deferred_on[" + ".join(sorted(holders.get(job, f"job {job}") for job in jobs))] += 1

    for control in (emulator, lobstr):  # every run ends now
        control._post("/_emulator/clock/advance", {"seconds": LONG_RUN_SECS})
    for dag_id, run_id in runs.items():
        api.wait_dag_run_state(dag_id, run_id, timeout=max(deadline - time.monotonic(), 120))
    elapsed = time.monotonic() - started

    triggerer_hosts = airflow_cluster.all_jobs("TriggererJob")
    jobs_used: Counter[str] = Counter()
    for dag_id, run_id in runs.items():
        assert api.dag_run(dag_id, run_id)["state"] == "success", (dag_id, dict(state_counts(api, dag_id, run_id)))
        tis = mapped_tis(api, dag_id, run_id)
        assert sorted(tis) == list(range(counts[dag_id])), f"{dag_id}: map indexes {sorted(tis)}"
        assert {ti["state"] for ti in tis.values()} == {"success"}
        assert {ti["try_number"] for ti in tis.values()} == {1}, "no task was retried"
        for map_index in tis:
            logs = trigger_logs(airflow_cluster, ti_folder(airflow_cluster, dag_id, run_id, map_index))
            # deferred (its trigger ran) on exactly one triggerer job. (Not asserted: the log's last
            # lines, "Trigger fired event" / "trigger completed": when ~200 triggers fire at once
            # the triggerer drops some of them; the task's success shows the event arrived.)
            assert len(logs) == 1, f"{dag_id}[{map_index}]: trigger logs of jobs {sorted(logs)}"
            (job, log), = logs.items()
            assert " starting" in log, f"{dag_id}[{map_index}]: {log[-2000:]}"
            jobs_used[triggerer_hosts.get(job, f"job {job}")] += 1
    assert set(jobs_used) == set(airflow_cluster.services_of("triggerer")), f"triggers per triggerer: {jobs_used}"

    apify_runs = emulator.runs_of(apify_task)
    assert len(apify_runs) == APIFY_RUNS, f"{len(apify_runs)} Apify runs for {APIFY_RUNS} task instances"
    assert Counter(r["status"] for r in apify_runs) == {"SUCCEEDED": APIFY_RUNS}
    assert_each_started_once(apify_runs, "topo_apify_fanout", runs["topo_apify_fanout"], range(APIFY_RUNS))
    for i, squid in enumerate(squids):
        squid_runs = lobstr.runs(squid["id"])
        assert len(squid_runs) == 1, f"squid {i}: {len(squid_runs)} runs"
        assert squid_runs[0]["status"] == "done", squid_runs[0]
        assert mapped_xcom(api, "topo_lobstr_fanout", runs["topo_lobstr_fanout"], i, "run_id") == squid_runs[0]["id"]
    assert (abort_requests(emulator), abort_requests(lobstr)) == aborts_before, "nothing was aborted"
    note(
        f"{APIFY_RUNS} Apify + {LOBSTR_RUNS} Lobstr.io task instances all deferred {all_deferred:.0f}s after the "
        f"trigger, all finished {elapsed:.0f}s after it; triggers per triggerer: {dict(jobs_used)}; "
        f"deferred at once on: {dict(deferred_on)}"
    )


def test_twenty_dag_runs_at_once(
    airflow_cluster: TopologyCluster, api: AirflowApi, emulator: EmulatorControl, note
) -> None:
    """DAG_RUNS_AT_ONCE DAG runs of the one-task ``it_fanout`` DAG triggered together: all their
    tasks are deferred at the same time while every remote run is still going, then all succeed,
    with exactly one remote run each whose id is the task's XCom ``run_id``. (Many DAG runs at once
    is concurrency in the metadata database: it runs here on PostgreSQL, never on SQLite.)"""
    count = DAG_RUNS_AT_ONCE
    task = emulator.add_task(f"topo-dagruns-{_uid()}", duration_secs=LONG_RUN_SECS)
    batch = _uid()
    run_ids = [
        api.trigger("it_fanout", {"actor_task": f"demo~{task['name']}"}, dag_run_id=f"topo-dagruns-{batch}-{i:02d}")
        for i in range(count)
    ]

    def all_deferred() -> bool:
        tis = api.request(
            "GET", "/dags/it_fanout/dagRuns/~/taskInstances", params={"limit": 100, "state": "deferred"}
        )["task_instances"]
        return sum(1 for ti in tis if ti["dag_run_id"] in run_ids) == count

    started = time.monotonic()
    wait_for(
        all_deferred,
        timeout=RUN_DEADLINE,
        interval=2.0,
        what=f"{count} deferred tasks of it_fanout",
        describe=lambda: repr({rid: api.task_states("it_fanout", rid) for rid in run_ids}),
    )
    all_deferred_after = time.monotonic() - started
    assert Counter(r["status"] for r in emulator.runs_of(task)) == {"RUNNING": count}

    emulator._post("/_emulator/clock/advance", {"seconds": LONG_RUN_SECS})  # every run ends now
    states = {rid: api.wait_dag_run_state("it_fanout", rid, timeout=RUN_DEADLINE)["state"] for rid in run_ids}
    failed = {rid: api.task_states("it_fanout", rid) for rid, state in states.items() if state != "success"}
    assert not failed, f"failed DAG runs: {failed}"
    runs = emulator.runs_of(task)
    assert len(runs) == count, f"expected {count} remote runs, got {len(runs)}"
    assert Counter(r["status"] for r in runs) == {"SUCCEEDED": count}
    assert {api.xcom("it_fanout", rid, "run", "run_id") for rid in run_ids} == {r["id"] for r in runs}
    note(f"{count} DAG runs: all tasks deferred {all_deferred_after:.0f}s after the triggers, all succeeded")


def test_sigkill_a_triggerer_holding_deferred_tasks(
    airflow_cluster: TopologyCluster, api: AirflowApi, emulator: EmulatorControl, note
) -> None:
    """SIGKILL the triggerer holding most of KILL_RUNS deferred tasks: the other triggerer adopts
    them once the dead one's heartbeat is older than the threshold; every task succeeds on its
    first try, each remote run was started once and none was aborted."""
    task = emulator.add_task(f"topo-kill-trg-{_uid()}", duration_secs=LONG_RUN_SECS)
    dag_id = "topo_apify_fanout"
    run_id = api.trigger(dag_id, {"actor_tasks": [f"demo~{task['name']}"] * KILL_RUNS})
    aborts_before = abort_requests(emulator)

    before = wait_all_deferred_in_triggerers(airflow_cluster, api, dag_id, run_id, KILL_RUNS)
    assert all(len(jobs) == 1 for jobs in before.values()), f"a trigger on two triggerers: {before}"
    hosts = airflow_cluster.live_jobs("TriggererJob")
    held = Counter(hosts[next(iter(jobs))] for jobs in before.values())
    victim = held.most_common(1)[0][0]
    victim_job = next(job for job, host in hosts.items() if host == victim)
    survivor_job = next(job for job, host in hosts.items() if host != victim)
    on_victim = sorted(i for i, jobs in before.items() if jobs == {victim_job})
    assert on_victim, before
    assert Counter(r["status"] for r in emulator.runs_of(task)) == {"RUNNING": KILL_RUNS}

    killed_at = time.monotonic()
    kill_tree(airflow_cluster.services[victim])

    def adopted() -> bool:
        return all(
            survivor_job in started_on(airflow_cluster, ti_folder(airflow_cluster, dag_id, run_id, i))
            for i in on_victim
        )

    wait_for(
        adopted,
        timeout=TRIGGERER_HEARTBEAT_TIMEOUT + RUN_DEADLINE,
        interval=0.5,
        what=f"{victim}'s triggers to be adopted by the other triggerer",
        describe=lambda: repr(
            {i: started_on(airflow_cluster, ti_folder(airflow_cluster, dag_id, run_id, i)) for i in on_victim}
        ),
    )
    adoption = time.monotonic() - killed_at
    # nothing ran twice meanwhile: still one remote run per task, all still going
    assert Counter(r["status"] for r in emulator.runs_of(task)) == {"RUNNING": KILL_RUNS}

    emulator._post("/_emulator/clock/advance", {"seconds": LONG_RUN_SECS})  # every run ends now
    dag_run = api.wait_dag_run_state(dag_id, run_id, timeout=RUN_DEADLINE)
    tis = mapped_tis(api, dag_id, run_id)
    assert dag_run["state"] == "success", (dag_run, dict(state_counts(api, dag_id, run_id)))
    assert {ti["try_number"] for ti in tis.values()} == {1}
    runs = emulator.runs_of(task)
    assert Counter(r["status"] for r in runs) == {"SUCCEEDED": KILL_RUNS}
    assert_each_started_once(runs, dag_id, run_id, range(KILL_RUNS))
    assert abort_requests(emulator) == aborts_before, "a trigger's on_kill or cleanup aborted a run"
    for i in range(KILL_RUNS):
        logs = trigger_logs(airflow_cluster, ti_folder(airflow_cluster, dag_id, run_id, i))
        expected = {victim_job, survivor_job} if i in on_victim else before[i]
        assert set(logs) == expected, (i, sorted(logs))
        assert not any("invoking on_kill" in log for log in logs.values()), i
        if i in on_victim:  # the crashed triggerer fired nothing
            assert "Trigger fired event" not in logs[victim_job], i

    airflow_cluster.start_service(victim)  # two triggerers again for the next cases
    wait_for(lambda: victim in airflow_cluster.live_jobs("TriggererJob").values(), timeout=RUN_DEADLINE,
             what=f"{victim} back")  # fmt: skip
    note(
        f"killed {victim} holding {len(on_victim)} of {KILL_RUNS} triggers; adopted {adoption:.0f}s later "
        f"(heartbeat threshold {TRIGGERER_HEARTBEAT_TIMEOUT}s)"
    )


def test_sigkill_a_celery_worker_while_a_task_waits_in_it(
    airflow_cluster: TopologyCluster, api: AirflowApi, emulator: EmulatorControl, note
) -> None:
    """SIGKILL the Celery worker (and its task processes) running a non-deferrable task: the
    scheduler fails the try for lack of heartbeats, the retry runs on the other worker and
    reconnects to the same remote run (task_state_store), which is neither aborted nor doubled."""
    task = emulator.add_task(f"topo-kill-worker-{_uid()}", duration_secs=LONG_RUN_SECS)
    dag_id = "topo_blocking"
    run_id = api.trigger(dag_id, {"actor_task": f"demo~{task['name']}"})
    folder = ti_folder(airflow_cluster, dag_id, run_id, -1)
    aborts_before = abort_requests(emulator)

    def waiting_in_worker() -> dict[str, Any] | None:
        ti = api.task_instances(dag_id, run_id).get("run")
        runs = emulator.runs_of(task)
        if ti and ti["state"] == "running" and runs and runs[0]["status"] == "RUNNING" and ti["hostname"]:
            return ti
        return None

    ti = wait_for(waiting_in_worker, timeout=RUN_DEADLINE, what="the task running in a worker, its run RUNNING")
    remote = emulator.runs_of(task)[0]
    worker = ti["hostname"]
    assert worker in airflow_cluster.services_of("celery-worker"), ti
    assert ti["try_number"] == 1, ti

    killed_at = time.monotonic()
    killed = kill_tree(airflow_cluster.services[worker])
    wait_for(
        lambda: api.task_instances(dag_id, run_id)["run"]["try_number"] == 2
        and "Reconnected to run" in task_log(folder, 2),
        timeout=RUN_DEADLINE,
        what="the retry to reconnect to the remote run",
        describe=lambda: f"ti: {api.task_instances(dag_id, run_id)['run']}; log: {task_log(folder, 2)[-2000:]}",
    )
    reconnected_after = time.monotonic() - killed_at
    retry = api.task_instances(dag_id, run_id)["run"]
    assert retry["hostname"] != worker, retry
    assert remote["id"] in task_log(folder, 2)

    emulator._post("/_emulator/clock/advance", {"seconds": LONG_RUN_SECS})
    dag_run = api.wait_dag_run_state(dag_id, run_id, timeout=RUN_DEADLINE)
    assert dag_run["state"] == "success", (dag_run, api.task_states(dag_id, run_id))
    runs = emulator.runs_of(task)
    assert [(r["id"], r["status"]) for r in runs] == [(remote["id"], "SUCCEEDED")]
    assert api.task_instances(dag_id, run_id)["run"]["try_number"] == 2
    assert api.xcom(dag_id, run_id, "run", "run_id") == remote["id"]
    assert abort_requests(emulator) == aborts_before, "the lost try's run was aborted"

    airflow_cluster.start_service(worker)
    airflow_cluster.wait_worker_ready(worker)
    note(
        f"killed {worker} ({len(killed)} processes); try 2 on {retry['hostname']} reconnected to {remote['id']} "
        f"{reconnected_after:.0f}s later (task heartbeat timeout {TASK_HEARTBEAT_TIMEOUT}s)"
    )


@pytest.mark.skipif(not TRIGGER_ON_KILL, reason="the triggerer calls trigger on_kill from Airflow 3.3")
def test_marking_a_deferred_task_failed_aborts_its_run_once(
    airflow_cluster: TopologyCluster, api: AirflowApi, emulator: EmulatorControl, note
) -> None:
    """"Mark failed" on a deferred task: the triggerer holding its trigger calls on_kill, which
    aborts the remote run with exactly one abort request; nothing else is started."""
    task = emulator.add_task(f"topo-mark-{_uid()}", duration_secs=LONG_RUN_SECS)
    dag_id = "it_single"
    run_id = api.trigger(dag_id, {"actor_task": f"demo~{task['name']}"})
    folder = ti_folder(airflow_cluster, dag_id, run_id, -1)
    wait_for(
        lambda: api.task_states(dag_id, run_id).get("run") == "deferred" and started_on(airflow_cluster, folder),
        timeout=RUN_DEADLINE,
        what="the trigger running in a triggerer",
        describe=lambda: f"tasks: {api.task_states(dag_id, run_id)}",
    )
    remote = emulator.runs_of(task)[0]
    assert remote["status"] == "RUNNING", remote
    aborts_before = abort_requests(emulator)

    marked_at = time.monotonic()
    api.mark_task(dag_id, run_id, "run", "failed")
    wait_for(
        lambda: emulator.runs_of(task)[0]["status"] in ABORT_STATUSES,
        timeout=RUN_DEADLINE,
        interval=0.5,
        what="the run to be aborted",
        describe=lambda: repr([(r["id"], r["status"]) for r in emulator.runs_of(task)]),
    )
    abort_latency = time.monotonic() - marked_at
    dag_run = api.wait_dag_run_state(dag_id, run_id, timeout=RUN_DEADLINE)
    assert dag_run["state"] == "failed", dag_run
    assert api.task_states(dag_id, run_id) == {"run": "failed"}
    wait_for(
        lambda: emulator.runs_of(task)[0]["status"] == "ABORTED", timeout=RUN_DEADLINE, what="the run ABORTED"
    )
    runs = emulator.runs_of(task)
    assert [(r["id"], r["status"]) for r in runs] == [(remote["id"], "ABORTED")]
    assert abort_requests(emulator) - aborts_before == 1, "exactly one abort request"
    logs = trigger_logs(airflow_cluster, folder)
    assert sum(log.count("invoking on_kill") for log in logs.values()) == 1, logs
    note(f"run aborted {abort_latency:.1f}s after 'mark failed', by {len(logs)} triggerer")


def test_no_service_died(airflow_cluster: TopologyCluster) -> None:
    """Every service is up at the end (the killed triggerer and worker were restarted)."""
    airflow_cluster.check_alive()
    assert set(airflow_cluster.live_jobs("TriggererJob").values()) >= set(airflow_cluster.services_of("triggerer"))
